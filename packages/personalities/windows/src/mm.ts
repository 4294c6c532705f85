/**
 * The memory manager's services on one address space: reserve, commit, decommit, release, protect
 * and query, with NTSTATUS results as ntoskrnl's NtAllocateVirtualMemory, NtFreeVirtualMemory,
 * NtProtectVirtualMemory and NtQueryVirtualMemory return them (the parameter checks as ReactOS'
 * ntoskrnl/mm/ARM3/virtual.c makes them and Wine's dlls/kernel32/tests/virtual.c asserts them).
 *
 * A VAD keeps each page's state in a typed array (0 = reserved, else the committed protection):
 * the page table is only a cache of the pages that are present and accessible.
 */
import { pageDown, pageUp, type NtStatusName } from '@polykernel/core';
import type { Kernel, Process } from '@polykernel/kernel';
import { PTE_NX, PTE_USER, PTE_WRITE } from '@polykernel/mmu';
import {
  ALLOCATION_GRANULARITY, HIGHEST_USER_ADDRESS, LOWEST_USER_ADDRESS, MEM_COMMIT, MEM_FREE, MEM_IMAGE, MEM_PRIVATE, MEM_RESERVE,
  PAGE, PAGE_GUARD, PAGE_NOACCESS, PAGE_NOCACHE, PAGE_WRITECOMBINE, USER_SPACE_END, allowsExecute, allowsRead, allowsWrite, hasFlag, isWriteCopy,
  MEM_MAPPED, afterCopy, toWriteCopy,
} from './constants.js';
import type { Section, Vad, WindowsMachine, WindowsSpace } from './types.js';

export type K = Kernel<WindowsSpace, WindowsMachine>;
export type P = Process<WindowsSpace>;

/** A service's outcome: its status, and on success where it acted. */
export interface MmResult {
  status: NtStatusName;
  base: number;
  size: number;
  /** NtProtectVirtualMemory: the first page's protection before the change. */
  old?: number;
}

const ok = (base: number, size: number): MmResult => ({ status: 'STATUS_SUCCESS', base, size });
const fail = (status: NtStatusName): MmResult => ({ status, base: 0, size: 0 });

export function pagesOf(v: Vad): number {
  return (v.end - v.start) / PAGE;
}

/** The per-page arrays of a VAD, made on its first commit. */
export function pageArrays(v: Vad): { protect: Uint16Array; frames: Int32Array } {
  v.protect ??= new Uint16Array(pagesOf(v)).fill(v.uniform);
  v.frames ??= new Int32Array(pagesOf(v)).fill(-1);
  return { protect: v.protect, frames: v.frames };
}

export function pageProtect(v: Vad, i: number): number {
  return v.protect === null ? v.uniform : v.protect[i]!;
}

export function newVad(start: number, end: number, type: number, allocationProtect: number, opts: Partial<Pick<Vad, 'section' | 'sectionOffset' | 'stack' | 'usage'>> = {}): Vad {
  return {
    start, end, type, allocationProtect, protect: null, uniform: 0, frames: null, committed: 0, charged: 0,
    section: opts.section ?? null, sectionOffset: opts.sectionOffset ?? 0, stack: opts.stack ?? false, usage: opts.usage ?? '',
  };
}

// ---- commit charge (MiChargeCommitment / MiReturnCommitment) ----------------------------------

/** Charge `pages` of commit to `space` against the machine's limit; false (nothing charged) past it. */
export function chargeCommit(k: K, space: WindowsSpace, pages: number): boolean {
  const m = k.state;
  if (pages <= 0) return true;
  if (m.commitCharge + pages > m.commitLimit) return false;
  m.commitCharge += pages;
  space.commitCharge += pages;
  if (space.commitCharge > space.peakCommit) space.peakCommit = space.commitCharge;
  k.metrics.noteCommit(m.commitCharge);
  return true;
}

export function returnCommit(k: K, space: WindowsSpace, pages: number): void {
  if (pages <= 0) return;
  k.state.commitCharge -= pages;
  space.commitCharge -= pages;
}

// ---- page-table upkeep -----------------------------------------------------------------------

/** The PTE flags a protection allows, or -1 when the page must not be present (no access, guard). */
export function pteFlagsFor(protect: number): number {
  if (!allowsRead(protect) || hasFlag(protect, PAGE_GUARD)) return -1;
  let f = PTE_USER;
  // A copy-on-write page stays read-only in the PTE until the write fault copies it.
  if (allowsWrite(protect) && !isWriteCopy(protect)) f += PTE_WRITE;
  if (!allowsExecute(protect)) f += PTE_NX;
  return f;
}

/** Flush the TLB entries of [va, va + len) on every CPU that may hold them. */
function flush(k: K, p: P, va: number, len: number): void {
  if (p.state === 'running') k.mmu.shootdown(p.threads[0]?.cpu ?? 0, k.asidOf(p), va, len);
}

/** Make the PTEs of pages [from, to) of `v` agree with their protections (present ones only). */
export function refreshPtes(k: K, p: P, v: Vad, from: number, to: number): void {
  const pt = p.space.pt;
  for (let i = from; i < to; i++) {
    const va = v.start + i * PAGE;
    const pte = pt.lookup(va);
    if (pte === null) continue;
    const flags = pteFlagsFor(pageProtect(v, i));
    if (flags < 0) pt.unmap(va, PAGE);
    else pt.updateFlags(va, flags, (PTE_USER + PTE_WRITE + PTE_NX) - flags);
  }
  flush(k, p, v.start + from * PAGE, (to - from) * PAGE);
}

/** Drop pages [from, to) of `v`: unmapped, private frames freed. Returns how many were committed. */
function dropPages(k: K, p: P, v: Vad, from: number, to: number): number {
  if (to <= from) return 0;
  // Only a range that had pages present needs its TLB entries shot down.
  if (p.space.pt.unmap(v.start + from * PAGE, (to - from) * PAGE) > 0) flush(k, p, v.start + from * PAGE, (to - from) * PAGE);
  const frames = k.mmu.frames;
  // Freed pages are no longer locked (MiDeleteVirtualAddresses drops them from the working set).
  const locked = p.space.locked;
  if (locked.size > 0) for (let i = from; i < to; i++) locked.delete(v.start / PAGE + i);
  if (v.frames !== null) {
    for (let i = from; i < to; i++) {
      const f = v.frames[i]!;
      if (f >= 0) {
        frames.free(f);
        v.frames[i] = -1;
      }
    }
  }
  let committed = 0;
  if (v.protect === null && from === 0 && to === pagesOf(v)) {
    committed = v.uniform === 0 ? 0 : to;
    v.uniform = 0;
  } else {
    const arr = pageArrays(v).protect;
    for (let i = from; i < to; i++) {
      if (arr[i] !== 0) {
        committed++;
        arr[i] = 0;
      }
    }
  }
  v.committed -= committed;
  return committed;
}

// ---- finding VADs and free space -------------------------------------------------------------

/** The VAD containing `va` (MiLocateAddress). */
export function vadAt(space: WindowsSpace, va: number): Vad | undefined {
  return space.vads.lookup(va);
}

/** The VAD holding all of [start, end), or undefined if the range is not inside one. */
function vadCovering(space: WindowsSpace, start: number, end: number): Vad | undefined {
  const v = space.vads.lookup(start);
  return v !== undefined && end <= v.end ? v : undefined;
}

// ---- the VAD bitmap (WRK base/ntos/mm/vadtree.c, MiFindEmptyAddressRange) --------------------
//
// Besides the VAD tree, each process keeps a bitmap with one bit per 64 KiB of user address space
// (VAD_BITMAP_SPACE: one page of bits, so on 64-bit Windows only the first PAGE_SIZE * 8 * 64 KiB
// = 2 GiB is bitmapped) and a hint (MmWorkingSetList->VadBitMapHint). MiInsertVad sets the bits
// of the 64 KiB chunks a VAD touches and moves the hint past it when it started at the hint;
// deleting a VAD clears the chunks no other VAD touches and lowers the hint to its first chunk.
// So every chunk below the hint is in use, and RtlFindClearBits from the hint finds the lowest
// free run — the place the in-order walk of the tree finds (MiFindEmptyAddressRangeInTree), in
// time proportional to the bits scanned, not to the VADs. The bitmap serves bottom-up searches at
// 64 KiB alignment without ZeroBits (MiFindEmptyAddressRange's QuickCheck 0); top-down, ZeroBits
// and what the bitmap cannot place fall back to the tree walk. (Between the two, Windows also
// tries the gap after VadFreeHint; that shortcut is not modelled: the walk finds the same place.)

/** Bits in the VAD bitmap (MiLastVadBit + 1): one page of bits. */
export const VAD_BITMAP_BITS = PAGE * 8;
const CHUNK = ALLOCATION_GRANULARITY;

/** The chunk bits [first, last] a VAD's pages touch, clipped to the bitmap; null if it lies above it. */
function chunkBits(v: Vad): [number, number] | null {
  const first = Math.floor(v.start / CHUNK);
  if (first >= VAD_BITMAP_BITS) return null;
  return [first, Math.min(Math.floor((v.end - 1) / CHUNK), VAD_BITMAP_BITS - 1)];
}

function setVadBits(space: WindowsSpace, v: Vad): void {
  const bits = chunkBits(v);
  if (bits === null) return;
  space.vadBitmap.fill(1, bits[0], bits[1] + 1);
  if (space.vadBitmapHint === bits[0]) space.vadBitmapHint = bits[1] + 1;
}

/** Clear the chunks of a removed VAD that no other VAD touches (PEB/TEB-style VADs share chunks). */
function clearVadBits(space: WindowsSpace, v: Vad): void {
  const bits = chunkBits(v);
  if (bits === null) return;
  let [first, last] = bits;
  if (space.vads.overlapping(first * CHUNK, (first + 1) * CHUNK).length > 0) first++;
  if (last >= first && space.vads.overlapping(last * CHUNK, (last + 1) * CHUNK).length > 0) last--;
  if (last < first) return;
  space.vadBitmap.fill(0, first, last + 1);
  if (space.vadBitmapHint > first) space.vadBitmapHint = first;
}

/**
 * RtlFindClearBits(&VadBitMap, n, hint): the first run of `n` clear bits at or after the hint,
 * wrapping round to the start; bit 0 counts as set (no allocation at address 0). -1 if none.
 */
export function findClearBits(bitmap: Uint8Array, n: number, hint: number): number {
  const size = bitmap.length;
  const scan = (from: number, to: number): number => {
    let run = 0;
    for (let i = from; i < to; i++) {
      if (bitmap[i] !== 0 || i === 0) run = 0;
      else if (++run === n) return i - n + 1;
    }
    return -1;
  };
  const h = hint < size ? hint : 0;
  const found = scan(h, size);
  return found >= 0 ? found : scan(0, Math.min(size, h + n - 1));
}

/**
 * MiFindEmptyAddressRange: a free range of `size` bytes at the allocation granularity, lowest
 * first or (MEM_TOP_DOWN) highest first, below `limit` (ZeroBits). Bottom-up without ZeroBits
 * looks in the VAD bitmap first; otherwise, and when the bitmap has no room, the VAD tree is walked.
 */
export function findFree(space: WindowsSpace, size: number, topDown: boolean, limit = USER_SPACE_END): number {
  if (!topDown && limit >= USER_SPACE_END) {
    const bit = findClearBits(space.vadBitmap, Math.ceil(size / CHUNK), space.vadBitmapHint);
    if (bit >= 0) return bit * CHUNK;
  }
  return space.vads.findGap({ length: size, alignment: ALLOCATION_GRANULARITY, low: LOWEST_USER_ADDRESS, high: Math.min(limit, USER_SPACE_END), topDown });
}

/** Insert a VAD (MiInsertVad: the tree and the bitmap); false if it overlaps one. */
export function insertVad(space: WindowsSpace, v: Vad): boolean {
  if (!space.vads.insert(v)) return false;
  setVadBits(space, v);
  return true;
}

/** Remove a VAD from the tree and the bitmap (MiRemoveVad). */
export function removeVad(space: WindowsSpace, v: Vad): void {
  space.vads.remove(v);
  clearVadBits(space, v);
}

// ---- the services ----------------------------------------------------------------------------

export interface AllocateRequest {
  base: number;
  size: number;
  type: number;
  protect: number;
  /** Highest address + 1 the allocation may use (from ZeroBits). */
  limit: number;
  topDown: boolean;
}

/**
 * Reserve (and commit) a new private allocation (MiInsertVadCharges + MiInsertVad): at `base`
 * rounded down to 64 KiB with every touched page, or anywhere free.
 */
export function reserve(k: K, p: P, r: AllocateRequest, commit: boolean): MmResult {
  const space = p.space;
  let start: number;
  let end: number;
  if (r.base !== 0) {
    start = pageDown(r.base, ALLOCATION_GRANULARITY);
    end = pageUp(r.base + r.size, PAGE);
    if (end > USER_SPACE_END) return fail('STATUS_INVALID_PARAMETER_4');
    if (space.vads.overlapping(start, end).length > 0) return fail('STATUS_CONFLICTING_ADDRESSES');
  } else {
    const size = pageUp(r.size, PAGE);
    start = findFree(space, size, r.topDown, r.limit);
    if (start < 0) return fail('STATUS_NO_MEMORY');
    end = start + size;
  }
  const pages = (end - start) / PAGE;
  if (commit && !chargeCommit(k, space, pages)) return fail('STATUS_COMMITMENT_LIMIT');
  const v = newVad(start, end, MEM_PRIVATE, r.protect);
  if (commit) {
    v.uniform = r.protect;
    v.committed = pages;
    v.charged = pages;
  }
  if (!insertVad(space, v)) throw new Error(`windows: VAD [${start.toString(16)}, ${end.toString(16)}) overlaps after the check`);
  return ok(start, end - start);
}

/**
 * Commit pages inside a reservation (MiCommit...): every page touched by [base, base + size) must
 * lie in one private allocation; pages already committed take the new protection, the others are
 * charged first — all or nothing.
 */
export function commit(k: K, p: P, base: number, size: number, protect: number): MmResult {
  const space = p.space;
  const start = pageDown(base, PAGE);
  const end = pageUp(base + size, PAGE);
  const v = vadCovering(space, start, end);
  if (v?.type !== MEM_PRIVATE) return fail('STATUS_CONFLICTING_ADDRESSES');
  const from = (start - v.start) / PAGE;
  const to = (end - v.start) / PAGE;
  const arr = pageArrays(v).protect;
  let fresh = 0;
  for (let i = from; i < to; i++) if (arr[i] === 0) fresh++;
  if (!chargeCommit(k, space, fresh)) return fail('STATUS_COMMITMENT_LIMIT');
  arr.fill(withCacheBitsOf(v, protect), from, to);
  v.committed += fresh;
  v.charged += fresh;
  refreshPtes(k, p, v, from, to);
  return ok(start, end - start);
}

function cacheBits(x: number): number {
  return (hasFlag(x, PAGE_NOCACHE) ? PAGE_NOCACHE : 0) + (hasFlag(x, PAGE_WRITECOMBINE) ? PAGE_WRITECOMBINE : 0);
}

/** A protection with the allocation's cache bits (PAGE_NOCACHE/WRITECOMBINE are per allocation on Windows 10+). */
export function withCacheBitsOf(v: Vad, protect: number): number {
  return protect - cacheBits(protect) + cacheBits(v.allocationProtect);
}

/** MEM_RESET / MEM_RESET_UNDO: the range must lie in one allocation (its pages' contents may go). */
export function reset(p: P, base: number, size: number): MmResult {
  const start = pageDown(base, PAGE);
  const end = pageUp(base + size, PAGE);
  const v = vadCovering(p.space, start, end);
  if (v === undefined) return fail('STATUS_CONFLICTING_ADDRESSES');
  return ok(start, end - start);
}

/** MEM_DECOMMIT: pages back to reserved; size 0 means from `base` to the end of its allocation. */
export function decommit(k: K, p: P, base: number, size: number): MmResult {
  const space = p.space;
  const v = vadAt(space, base);
  if (v === undefined) return fail('STATUS_MEMORY_NOT_ALLOCATED');
  if (v.type !== MEM_PRIVATE) return fail('STATUS_UNABLE_TO_DELETE_SECTION');
  const start = pageDown(base, PAGE);
  const end = size === 0 ? v.end : pageUp(base + size, PAGE);
  if (end > v.end) return fail('STATUS_UNABLE_TO_FREE_VM');
  const from = (start - v.start) / PAGE;
  const to = (end - v.start) / PAGE;
  const n = dropPages(k, p, v, from, to);
  v.charged -= n;
  returnCommit(k, space, n);
  return ok(start, end - start);
}

/**
 * MEM_RELEASE: size 0 releases the whole allocation, which `base` must start; a non-zero size
 * (NtFreeVirtualMemory only: VirtualFree refuses it) releases the pages of a private allocation
 * it covers, splitting the VAD.
 */
export function release(k: K, p: P, base: number, size: number): MmResult {
  const space = p.space;
  const v = vadAt(space, base);
  if (v === undefined) return fail('STATUS_MEMORY_NOT_ALLOCATED');
  if (v.type !== MEM_PRIVATE) return fail('STATUS_UNABLE_TO_DELETE_SECTION');
  if (size === 0) {
    if (pageDown(base, PAGE) !== v.start) return fail('STATUS_FREE_VM_NOT_AT_BASE');
    const whole = v.end - v.start;
    deleteVad(k, p, v);
    return ok(v.start, whole);
  }
  const start = pageDown(base, PAGE);
  const end = pageUp(base + size, PAGE);
  if (end > v.end) return fail('STATUS_UNABLE_TO_FREE_VM');
  if (start === v.start && end === v.end) {
    deleteVad(k, p, v);
    return ok(start, end - start);
  }
  splitOut(k, p, v, start, end);
  return ok(start, end - start);
}

/** Remove [start, end) from the middle or an edge of a private VAD: what is left becomes one or two VADs. */
function splitOut(k: K, p: P, v: Vad, start: number, end: number): void {
  const space = p.space;
  pageArrays(v);
  const from = (start - v.start) / PAGE;
  const to = (end - v.start) / PAGE;
  const n = dropPages(k, p, v, from, to);
  v.charged -= n;
  returnCommit(k, space, n);
  removeVad(space, v);
  const total = pagesOf(v);
  const piece = (a: number, b: number): void => {
    if (b <= a) return;
    const w = newVad(v.start + a * PAGE, v.start + b * PAGE, v.type, v.allocationProtect, { usage: v.usage });
    if (v.protect !== null && v.frames !== null) {
      w.protect = v.protect.slice(a, b);
      w.frames = v.frames.slice(a, b);
      for (let i = 0; i < b - a; i++) if (w.protect[i] !== 0) w.committed++;
    }
    w.charged = w.committed;
    insertVad(space, w);
  };
  piece(0, from);
  piece(to, total);
}

/** Delete a VAD: its pages unmapped, frames freed, commit returned, a view's section let go. */
export function deleteVad(k: K, p: P, v: Vad): void {
  const space = p.space;
  dropPages(k, p, v, 0, pagesOf(v));
  returnCommit(k, space, v.charged);
  v.charged = 0;
  removeVad(space, v);
  if (v.section !== null) {
    v.section.views--;
    maybeDeleteSection(k, v.section);
  }
}

/** A section with no view and no handle is deleted: its prototype pages freed, its commit returned. */
export function maybeDeleteSection(k: K, s: Section): void {
  if (s.views > 0 || s.handles > 0) return;
  for (let i = 0; i < s.pages; i++) {
    const f = s.frames[i]!;
    if (f >= 0) {
      k.mmu.frames.free(f);
      s.frames[i] = -1;
    }
  }
  if (s.charged > 0) {
    k.state.commitCharge -= s.charged;
    s.charged = 0;
  }
  if (k.state.namedSections.get(s.name) === s) k.state.namedSections.delete(s.name);
  if (s.kind === 'image' && s.image !== null && k.state.imageSections.get(s.image.path) === s) k.state.imageSections.delete(s.image.path);
}

/**
 * NtProtectVirtualMemory's work (MiProtectVirtualMemory): all touched pages in one allocation and
 * committed, else nothing changes. Returns the old protection of the first page in `size`'s place.
 */
export function protect(k: K, p: P, base: number, size: number, newProtect: number): MmResult {
  const space = p.space;
  const start = pageDown(base, PAGE);
  const end = Math.max(pageUp(base + size, PAGE), start + PAGE);
  const v = vadCovering(space, start, end);
  if (v === undefined) return fail('STATUS_CONFLICTING_ADDRESSES');
  if (v.type === MEM_PRIVATE && isWriteCopy(newProtect)) return fail('STATUS_INVALID_PAGE_PROTECTION');
  const from = (start - v.start) / PAGE;
  const to = (end - v.start) / PAGE;
  for (let i = from; i < to; i++) if (pageProtect(v, i) === 0) return fail('STATUS_NOT_COMMITTED');
  const eff = withCacheBitsOf(v, newProtect);
  // A view may not be made writable beyond its section's protection (MiIsPteProtectionCompatible).
  if (v.type === MEM_MAPPED && allowsWrite(eff) && !isWriteCopy(eff) && (v.section === null || !allowsWrite(v.section.protect) || isWriteCopy(v.section.protect))) return fail('STATUS_SECTION_PROTECTION');
  const arr = pageArrays(v).protect;
  const old = arr[from]!;
  for (let i = from; i < to; i++) {
    // An image page not yet copied stays copy-on-write when made writable; a view's page already
    // copied is private memory, where copy-on-write means plain write (WRK MiSetProtectionOnSection:
    // ProtectionMaskNotCopy for a page that is no longer a prototype PTE).
    if (v.type === MEM_PRIVATE) arr[i] = eff;
    else if (v.frames![i]! >= 0) arr[i] = afterCopy(eff);
    else arr[i] = v.type === MEM_IMAGE ? toWriteCopy(eff) : eff;
  }
  refreshPtes(k, p, v, from, to);
  return { status: 'STATUS_SUCCESS', base: start, size: end - start, old };
}

/**
 * NtLockVirtualMemory (MAP_PROCESS): every page committed and accessible, made resident and locked
 * in the working set. The pages are probed in order, as MmProbeAndLockPages does: a guard page
 * raises STATUS_GUARD_PAGE_VIOLATION (and loses its guard, so a second call succeeds), a no-access
 * or uncommitted one STATUS_ACCESS_VIOLATION; pages before it stay as they were made.
 */
export function lock(k: K, caller: Process, p: P, base: number, size: number): MmResult {
  const start = pageDown(base, PAGE);
  const end = Math.max(pageUp(base + size, PAGE), start + PAGE);
  const t = caller.threads[0]!;
  for (let va = start; va < end; va += PAGE) {
    const v = vadAt(p.space, va);
    const prot = v === undefined ? 0 : pageProtect(v, (va - v.start) / PAGE);
    if (v === undefined || prot === 0 || !allowsRead(prot)) return fail('STATUS_ACCESS_VIOLATION');
    if (hasFlag(prot, PAGE_GUARD)) {
      pageArrays(v).protect[(va - v.start) / PAGE] = prot - PAGE_GUARD;
      k.metrics.faults.guard++;
      return fail('STATUS_GUARD_PAGE_VIOLATION');
    }
    if (k.accessIn(t, p, va, 0) < 0) return fail('STATUS_NO_MEMORY');
  }
  for (let va = start; va < end; va += PAGE) p.space.locked.add(va / PAGE);
  return ok(start, end - start);
}

/** NtUnlockVirtualMemory: every page must be locked (STATUS_NOT_LOCKED otherwise, nothing changes). */
export function unlock(p: P, base: number, size: number): MmResult {
  const start = pageDown(base, PAGE);
  const end = Math.max(pageUp(base + size, PAGE), start + PAGE);
  for (let va = start; va < end; va += PAGE) if (!p.space.locked.has(va / PAGE)) return fail('STATUS_NOT_LOCKED');
  for (let va = start; va < end; va += PAGE) p.space.locked.delete(va / PAGE);
  return ok(start, end - start);
}

/** Pages of the process's working set: the present (valid) PTEs of its user range. */
export function workingSetPages(space: WindowsSpace): number {
  let n = 0;
  for (const v of space.vads.iterateFrom(0)) space.pt.forEachLeaf(v.start, v.end - v.start, () => n++);
  return n;
}

/**
 * Trim the working set as far as it goes (SetProcessWorkingSetSize(-1, -1), EmptyWorkingSet):
 * every present page that is not locked leaves it — its PTE becomes a transition PTE, the frame
 * stays on the standby (clean) or modified (dirty) list with its contents, and the next touch is
 * a soft fault that puts it back without I/O. Returns the pages trimmed.
 */
export function emptyWorkingSet(k: K, p: P): number {
  const space = p.space;
  let trimmed = 0;
  for (const v of space.vads.iterateFrom(0)) {
    const pages = pagesOf(v);
    for (let i = 0; i < pages; i++) {
      const va = v.start + i * PAGE;
      if (space.locked.has(va / PAGE) || space.pt.lookup(va) === null) continue;
      space.pt.unmap(va, PAGE);
      trimmed++;
    }
  }
  if (trimmed > 0 && p.state === 'running') {
    const asid = k.asidOf(p);
    for (const c of k.mmu.cpus) k.mmu.flushAsid(c.id, asid);
  }
  return trimmed;
}

/** MEMORY_BASIC_INFORMATION, as NtQueryVirtualMemory(MemoryBasicInformation) fills it. */
export interface MemoryBasicInformation {
  BaseAddress: number;
  AllocationBase: number;
  AllocationProtect: number;
  RegionSize: number;
  State: number;
  Protect: number;
  Type: number;
}

/**
 * The region containing `addr`: from its page, the run of pages with the same state, protection
 * and allocation (a free run ends at the next allocation). Null above the user range.
 */
export function query(space: WindowsSpace, addr: number): MemoryBasicInformation | null {
  if (!(addr >= 0) || addr >= USER_SPACE_END) return null;
  const at = pageDown(addr, PAGE);
  const v = vadAt(space, at);
  if (v === undefined) {
    const next = space.vads.find(at);
    const end = next === undefined ? USER_SPACE_END : next.start;
    return { BaseAddress: at, AllocationBase: 0, AllocationProtect: 0, RegionSize: end - at, State: MEM_FREE, Protect: PAGE_NOACCESS, Type: 0 };
  }
  const first = (at - v.start) / PAGE;
  const prot = pageProtect(v, first);
  const n = pagesOf(v);
  let i = first + 1;
  if (v.protect === null) i = n;
  else while (i < n && v.protect[i] === prot) i++;
  return {
    BaseAddress: at, AllocationBase: v.start, AllocationProtect: v.allocationProtect, RegionSize: (i - first) * PAGE,
    State: prot === 0 ? MEM_RESERVE : MEM_COMMIT, Protect: prot, Type: v.type,
  };
}

/** Every region of the address space in order, free ones included (a VirtualQuery loop from 0). */
export function walk(space: WindowsSpace): MemoryBasicInformation[] {
  const out: MemoryBasicInformation[] = [];
  let at = 0;
  while (at < USER_SPACE_END) {
    const mbi = query(space, at)!;
    out.push(mbi);
    at = mbi.BaseAddress + mbi.RegionSize;
  }
  return out;
}

export { HIGHEST_USER_ADDRESS, MEM_COMMIT, MEM_RESERVE, MEM_IMAGE };
