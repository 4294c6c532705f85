/**
 * sys/kern/uipc_shm.c (FreeBSD 14): POSIX shared memory — shm_open2 (571), shm_unlink (483), the
 * shmfd's fo_truncate, fo_stat, fo_ioctl, fo_read/fo_write and fo_mmap — including largepage
 * objects (SHM_LARGEPAGE, FreeBSD 13+), the way FreeBSD gives user memory 2 MiB and 1 GiB pages.
 *
 * A regular shm object is OBJT_SWAP (procstat `sw`); a largepage one is OBJT_PHYS (phys_pager with
 * shm_largepage_phys_ops; procstat `ph`) whose pages are allocated at ftruncate, physically
 * contiguous and aligned to pagesizes[psind] (vm_page_alloc_contig: an order-9 or order-18 block
 * of the buddy allocator), zeroed, never paged, and mapped whole: the first fault on any of its
 * pages enters one 2 MiB PDE or 1 GiB PDPE (vm_fault_populate → pmap_enter(PMAP_ENTER_LARGEPAGE,
 * psind), pmap_enter_largepage). The largepage's pages sit in the object's page list as FreeBSD's
 * do; they are not managed (no pv entries: the page daemon passes them by), and as their entries
 * are always inherited SHARE, fork never pmap_copies them.
 *
 * Check orders and errnos follow kern_shm_open2, shm_copyin_path, shm_remove, shm_dotruncate_locked,
 * shm_dotruncate_largepage, shm_ioctl, shm_mmap and shm_mmap_large. Simplified: seals are only
 * F_SEAL_SEAL (no F_ADD_SEALS); swap reservation (ENOMEM from swap_reserve_by_cred) is not
 * enforced; vm_page_reclaim_contig cannot move pages here, so SHM_LARGEPAGE_ALLOC_DEFAULT breaks
 * partially populated reservations once (largepage_reclaim_tries = 1) and then fails with ENOMEM,
 * and SHM_LARGEPAGE_ALLOC_HARD, which would sleep until memory frees or a signal comes, fails the
 * same way; st_dev is this model's SHM_DEV; timestamps are zero (no wall clock).
 */
import type { FaultResolution, Process } from '@polykernel/kernel';
import { MAP_NO_MEMORY, MAP_OK, NO_FRAME, PTE_ACCESSED, PTE_DIRTY, PTE_NX, PTE_WRITE } from '@polykernel/mmu';
import type { VmObject } from '@polykernel/vm';
import { FREEBSD_COSTS } from '../costs.js';
import type { FreebsdKernel, FreebsdMachine, FreebsdSpace } from '../machine.js';
import { MAP_ENTRY_SPLIT_BOUNDARY_MASK, PAGE_SIZE, VM_PROT_EXECUTE, VM_PROT_READ, VM_PROT_WRITE } from '../param.js';
import { Pmap } from '../vm/pmap.js';
import { pmapRemoveAll } from '../vm/vm_fault.js';
import type { VmMap, VmMapEntry } from '../vm/vm_map.js';
import { OBJ_SWAP } from '../vm/vm_object.js';
import { fget, FREAD, FWRITE, type FileDesc } from './kern_descrip.js';
import { S_IFREG } from './vfs_vnode.js';

/** sys/sys/mman.h. */
export const SHM_ANON = 1;
export const SHM_ALLOW_SEALING = 0x1;
export const SHM_GROW_ON_WRITE = 0x2;
export const SHM_LARGEPAGE = 0x4;
export const SHM_LARGEPAGE_ALLOC_DEFAULT = 0;
export const SHM_LARGEPAGE_ALLOC_NOWAIT = 1;
export const SHM_LARGEPAGE_ALLOC_HARD = 2;
/** sys/sys/fcntl.h F_SEAL_SEAL. */
export const F_SEAL_SEAL = 0x1;
/** sys/sys/param.h MAXPAGESIZES. */
export const MAXPAGESIZES = 3;
/** vm.largepage_reclaim_tries (uipc_shm.c). */
const LARGEPAGE_RECLAIM_TRIES = 1;
/** The object flag this model marks a largepage shm object with (its own encoding, as vm_object.ts's). */
export const OBJ_LARGEPAGE = 0x40;
/** MAP_ENTRY_SPLIT_BOUNDARY_SHIFT (vm_map.h): the entry's largepage psind sits in eflags bits 20-21. */
export const MAP_ENTRY_SPLIT_BOUNDARY_SHIFT = 20;
/** st_dev of every shm object (shm_dev_ino from devfs_alloc_cdp_inode; this model's number). */
export const SHM_DEV = 0x5348;
/** OFF_MAX. */
const OFF_MAX = 2 ** 63 - 1;

/** struct shmfd. */
export interface ShmFd {
  readonly object: VmObject;
  /** shm_size in bytes. */
  size: number;
  mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly ino: number;
  readonly largepage: boolean;
  /** shm_lp_psind: 0 until FIOSSHMLPGCNF sets it. */
  lpPsind: number;
  lpAllocPolicy: number;
  /** shm_refs: the dictionary's hold and each open file's. */
  refs: number;
  /** shm_path while linked in the dictionary. */
  path: string | null;
  /** shm_flags (the shmflags it was created with). */
  readonly flags: number;
  seals: number;
}

export interface ShmState {
  readonly dict: Map<string, ShmFd>;
  /** shm_ino_unr: alloc_unr64 from 1. */
  nextIno: number;
  /** Largepage objects, for vm.largepages.<size> (counted while their object lives). */
  readonly large: Set<ShmFd>;
  /** Largepage objects' shmfds (the fault path's lookup). */
  readonly byObject: WeakMap<VmObject, ShmFd>;
}

const states = new WeakMap<FreebsdMachine, ShmState>();

export function stateOf(m: FreebsdMachine): ShmState {
  let st = states.get(m);
  if (st === undefined) {
    st = { dict: new Map(), nextIno: 1, large: new Set(), byObject: new WeakMap() };
    states.set(m, st);
  }
  return st;
}

/** pagesizes[]: the MMU's leaf sizes, smallest first (amd64 and arm64 4K-granule: 4 KiB, 2 MiB, 1 GiB). */
export function pagesizes(k: FreebsdKernel): readonly number[] {
  return [...k.mmu.profile.pageTable.pageSizes].sort((a, b) => a - b);
}

/** PMAP_HAS_LARGEPAGES: the pmap can map a page larger than the base page. */
export function hasLargepages(k: FreebsdKernel): boolean {
  return pagesizes(k).length > 1;
}

/** vm.largepages.* counters (sysctl names by size, as shm_init makes them). */
export function largepageCounts(k: FreebsdKernel): Record<string, number> {
  const ps = pagesizes(k);
  const out: Record<string, number> = {};
  // count_largepages: added at shm_dotruncate_largepage, taken back when the object is destroyed.
  const counts = new Array<number>(MAXPAGESIZES).fill(0);
  const large = stateOf(k.state).large;
  for (const shm of large) {
    if (shm.object.dead) large.delete(shm);
    else if (shm.lpPsind !== 0) counts[shm.lpPsind]! += (shm.object.size * PAGE_SIZE) / ps[shm.lpPsind]!;
  }
  for (let i = 1; i < ps.length; i++) {
    const size = ps[i]!;
    const name = size >= 2 ** 30 ? `${size / 2 ** 30}G` : size >= 2 ** 20 ? `${size / 2 ** 20}M` : String(size);
    out[`vm.largepages.${name}`] = counts[i] ?? 0;
  }
  return out;
}

/** The live shm objects' count (the dictionary's; anonymous ones live only in files and mappings). */
export function shmNames(k: FreebsdKernel): readonly string[] {
  return [...stateOf(k.state).dict.keys()];
}

/** shm_alloc: a regular shm object is OBJT_SWAP; a largepage one OBJT_PHYS, empty until sized. */
export function shmAlloc(k: FreebsdKernel, p: Process<FreebsdSpace>, mode: number, largepage: boolean, flags: number): ShmFd {
  const st = stateOf(k.state);
  const object = k.vm.createObject(largepage ? 'physical' : 'anonymous', 0);
  object.flags = largepage ? OBJ_LARGEPAGE : OBJ_SWAP;
  const shm: ShmFd = {
    object, size: 0, mode, uid: p.creds.euid, gid: p.creds.egid, ino: st.nextIno++, largepage, lpPsind: 0,
    lpAllocPolicy: SHM_LARGEPAGE_ALLOC_DEFAULT, refs: 1, path: null, flags, seals: F_SEAL_SEAL,
  };
  if (largepage) {
    st.byObject.set(object, shm);
    st.large.add(shm);
  }
  return shm;
}

/** shm_drop: the last hold gone, the object loses the shmfd's reference (its pages go with it). */
export function shmDrop(k: FreebsdKernel, shm: ShmFd): void {
  shm.refs--;
  if (shm.refs === 0) k.vm.deallocate(shm.object);
}

/** shm_access: vaccess over the object's mode, uid and gid. */
export function shmAccess(p: Process<FreebsdSpace>, shm: ShmFd, read: boolean, write: boolean): boolean {
  const c = p.creds;
  if (c.euid === 0) return true;
  const shift = c.euid === shm.uid ? 6 : c.egid === shm.gid ? 3 : 0;
  const bits = (shm.mode / 2 ** shift) % 8;
  return (!read || (bits & 4) !== 0) && (!write || (bits & 2) !== 0);
}

/** The shmfd behind a descriptor, or null (not open, or not shared memory). */
export function shmOf(p: Process<FreebsdSpace>, fd: number): { fp: FileDesc; shm: ShmFd } | null {
  const fp = fget(p, fd);
  return fp?.shm !== undefined ? { fp, shm: fp.shm } : null;
}

/** shm_dotruncate: an errno name, or null. */
export function shmTruncate(k: FreebsdKernel, shm: ShmFd, length: number): string | null {
  return shm.largepage ? truncateLargepage(k, shm, length) : truncateRegular(k, shm, length);
}

/**
 * shm_dotruncate_locked: a shrink zeroes the tail of the new last page and removes the pages past
 * it (vm_object_page_remove: unmapped from every pmap first); the object covers the new size.
 */
function truncateRegular(k: FreebsdKernel, shm: ShmFd, length: number): string | null {
  if (length === shm.size) return null;
  const o = shm.object;
  const nobjsize = Math.ceil(length / PAGE_SIZE);
  if (length < shm.size) {
    const base = length % PAGE_SIZE;
    const idx = Math.floor(length / PAGE_SIZE);
    if (base !== 0 && (o.pages.has(idx) || o.swapped.has(idx))) k.vm.write(o, idx, base, new Uint8Array(PAGE_SIZE - base));
    if (nobjsize < o.size) {
      for (const [pindex, frame] of [...o.pages]) if (pindex >= nobjsize) pmapRemoveAll(k.state, frame);
      k.vm.removePages(o, nobjsize, o.size);
    }
  }
  shm.size = length;
  o.size = nobjsize;
  return null;
}

/**
 * shm_dotruncate_largepage: only growth, by whole pages of pagesizes[psind]; each is a contiguous,
 * aligned block allocated and zeroed now. Pages allocated before a failure stay.
 */
function truncateLargepage(k: FreebsdKernel, shm: ShmFd, length: number): string | null {
  if (length === shm.size) return null;
  const psind = shm.lpPsind;
  if (psind === 0 && length !== 0) return 'EINVAL';
  const ps = pagesizes(k)[psind]!;
  if (length % ps !== 0) return 'EINVAL';
  // "Pages are unmanaged": shrinking is not supported.
  if (length < shm.size) return 'EOPNOTSUPP';
  const o = shm.object;
  const per = ps / PAGE_SIZE;
  const order = Math.log2(per);
  const frames = k.mmu.frames;
  const newSize = length / PAGE_SIZE;
  let tries = 0;
  while (o.size < newSize) {
    const f = order <= frames.maxOrder ? frames.alloc(order, true) : NO_FRAME;
    if (f === NO_FRAME) {
      const policy = shm.lpAllocPolicy;
      if (policy === SHM_LARGEPAGE_ALLOC_NOWAIT || (policy === SHM_LARGEPAGE_ALLOC_DEFAULT && tries >= LARGEPAGE_RECLAIM_TRIES)) return 'ENOMEM';
      // vm_page_reclaim_contig, here: breaking partially populated reservations. When nothing
      // was freed FreeBSD sleeps (vm_wait_intr) for memory; nothing frees it here: ENOMEM.
      let freed = false;
      while (k.state.reserv?.reclaim() === true) freed = true;
      if (!freed) return 'ENOMEM';
      tries++;
      continue;
    }
    tries = 0;
    for (let i = 0; i < per; i++) o.pages.set(o.size + i, f + i);
    o.size += per;
    shm.size += ps;
  }
  return null;
}

/** shm_seek: SEEK_SET, SEEK_CUR, SEEK_END (EOVERFLOW), and a result outside [0, shm_size] is EINVAL. */
export function shmSeek(fp: FileDesc, shm: ShmFd, offset: number, whence: number): number | string {
  let at: number;
  if (whence === 1) {
    if (fp.offset < 0 || (offset > 0 && fp.offset > OFF_MAX - offset)) return 'EOVERFLOW';
    at = fp.offset + offset;
  } else if (whence === 2) {
    if (offset > 0 && shm.size > OFF_MAX - offset) return 'EOVERFLOW';
    at = shm.size + offset;
  } else if (whence === 0) {
    at = offset;
  } else {
    return 'EINVAL';
  }
  if (at < 0 || at > shm.size) return 'EINVAL';
  fp.offset = at;
  return at;
}

/** shm_stat's fields (vfs_syscalls.ts encodes them): st_blocks = howmany(st_size, st_blksize), in pages. */
export function shmStatFields(shm: ShmFd): { dev: number; ino: number; nlink: number; mode: number; uid: number; gid: number; rdev: number; size: number; blksize: number; blocks: number } {
  return { dev: SHM_DEV, ino: shm.ino, nlink: shm.object.refCount, mode: S_IFREG | shm.mode, uid: shm.uid, gid: shm.gid, rdev: 0, size: shm.size, blksize: PAGE_SIZE, blocks: Math.ceil(shm.size / PAGE_SIZE) };
}

/**
 * shm_read / shm_write through the object's pages (uiomove_object), up to shm_size: a page is
 * found or made with vm_page_grab — here VmSystem.faultPage, which counts no fault — and a read of
 * a page that is neither resident nor swapped reads zeros without making one (zero_region).
 * Returns the bytes read, or the count written.
 */
export function shmReadWrite(k: FreebsdKernel, shm: ShmFd, off: number, data: Uint8Array | null, n: number): Uint8Array | number {
  const end = Math.min(shm.size, off + n);
  const out = data === null ? new Uint8Array(Math.max(0, end - off)) : null;
  const o = shm.object;
  let at = off;
  while (at < end) {
    const pindex = Math.floor(at / PAGE_SIZE);
    const inPage = at - pindex * PAGE_SIZE;
    const len = Math.min(PAGE_SIZE - inPage, end - at);
    if (data !== null || o.pages.has(pindex) || o.swapped.has(pindex)) {
      const frame = k.vm.faultPage(o, pindex, data !== null).frame;
      if (frame === NO_FRAME) break;
      if (data !== null) k.mmu.frames.write(frame * PAGE_SIZE + inPage, data.subarray(at - off, at - off + len));
      else out!.set(k.mmu.frames.read(frame * PAGE_SIZE + inPage, len), at - off);
    }
    at += len;
  }
  return out ?? at - off;
}

export type ShmMmap =
  | { readonly kind: 'error'; readonly errno: string; readonly detail: string }
  | { readonly kind: 'object'; readonly object: VmObject; readonly maxProt: number }
  | { readonly kind: 'mapped'; readonly addr: number };

/** What shm_mmap_large needs of the caller's kern_mmap. */
export interface LargeMmapArgs {
  readonly map: VmMap;
  readonly addr: number;
  readonly size: number;
  readonly prot: number;
  readonly flags: number;
  /** The MAP_ALIGNMENT field of mmap's flags (0, MAP_ALIGNED_SUPER's 1, or log2 of the alignment). */
  readonly align: number;
  readonly foff: number;
  readonly fixed: boolean;
  readonly excl: boolean;
  readonly shared: boolean;
  /** Flags other than MAP_SHARED, MAP_FIXED, MAP_EXCL, MAP_NOCORE, MAP_32BIT. */
  readonly otherFlags: boolean;
  readonly maxAddr: number;
  readonly nocore: boolean;
  readonly heapStart: number;
  readonly heapEnd: number;
  readonly cpu: number;
  /** vm_map_insert with MAP_INHERIT_SHARE (and MAP_DISABLE_COREDUMP for MAP_NOCORE): vm_mmap_to_errno's errno, or null. */
  readonly insert: (object: VmObject, pindex: number, start: number, end: number, prot: number, max: number, nocore: boolean) => string | null;
}

/**
 * shm_mmap: the maximum protection from the file's mode (FREAD: read and execute; FWRITE: write,
 * for a shared mapping — a private one may always write), EACCES for a shared writable mapping of a
 * read-only descriptor, EINVAL past OFF_MAX; then a largepage object goes to shm_mmap_large, any
 * other to vm_mmap_object (the caller). The object comes back referenced.
 */
export function shmMmap(k: FreebsdKernel, fp: FileDesc, shm: ShmFd, capMaxProt: number, a: LargeMmapArgs): ShmMmap {
  let maxProt = 0;
  if ((fp.flag & FREAD) !== 0) maxProt |= VM_PROT_EXECUTE | VM_PROT_READ;
  let cap = capMaxProt;
  if (!a.shared) {
    cap |= VM_PROT_WRITE;
    maxProt |= VM_PROT_WRITE;
  } else {
    if ((fp.flag & FWRITE) !== 0) maxProt |= VM_PROT_WRITE;
    if ((maxProt & VM_PROT_WRITE) === 0 && (a.prot & VM_PROT_WRITE) !== 0) return { kind: 'error', errno: 'EACCES', detail: 'a shared writable mapping of a read-only descriptor' };
  }
  maxProt &= cap;
  if (a.size > OFF_MAX || a.foff > OFF_MAX - a.size) return { kind: 'error', errno: 'EINVAL', detail: 'offset + size past OFF_MAX' };
  k.vm.reference(shm.object);
  if (!shm.largepage) return { kind: 'object', object: shm.object, maxProt };
  const r = mmapLarge(k, shm, a, maxProt);
  if (r.kind === 'error') k.vm.deallocate(shm.object);
  return r;
}

/** shm_mmap_large: MAP_SHARED only, everything aligned to the page size, MAP_INHERIT_SHARE. */
function mmapLarge(k: FreebsdKernel, shm: ShmFd, a: LargeMmapArgs, maxProt: number): ShmMmap {
  const fail = (errno: string, detail: string): ShmMmap => ({ kind: 'error', errno, detail });
  const psind = shm.lpPsind;
  if (psind === 0) return fail('EINVAL', 'the largepage object has no page size yet (FIOSSHMLPGCNF)');
  // "MAP_PRIVATE is disabled".
  if (!a.shared || a.otherFlags) return fail('EINVAL', 'a largepage object maps only MAP_SHARED (with MAP_FIXED, MAP_EXCL, MAP_NOCORE, MAP_32BIT, MAP_ALIGNED)');
  const ps = pagesizes(k)[psind]!;
  if (a.foff % ps !== 0) return fail('EINVAL', 'offset not a multiple of the page size');
  let addr = a.addr;
  if (a.size === 0 || a.size % ps !== 0 || (addr !== 0 && (addr % ps !== 0 || addr + a.size > a.maxAddr))) {
    return fail('EINVAL', 'length or address not a multiple of the page size');
  }
  let align: number;
  if (a.align === 0) align = ps;
  else if (a.align === 1) {
    if (psind !== 1) return fail('EINVAL', 'MAP_ALIGNED_SUPER with a page larger than a superpage');
    align = pagesizes(k)[1]!;
  } else {
    align = 2 ** a.align;
    if (align < ps) return fail('EINVAL', 'MAP_ALIGNED below the page size');
  }
  const map = a.map;
  if (!a.fixed) {
    if (addr === 0 || (addr >= a.heapStart && addr < a.heapEnd)) addr = Math.ceil(a.heapEnd / ps) * ps;
    // vm_map_find_aligned from the hint, then once more from the bottom of the map.
    let at = map.findspace(addr, a.size, align);
    if (at < 0 || at + a.size > a.maxAddr) at = map.findspace(Math.ceil(map.minOffset / ps) * ps, a.size, align);
    if (at < 0 || at + a.size > a.maxAddr) return fail('ENOMEM', 'no aligned space');
    addr = at;
  } else if (!a.excl) {
    const cut = splitBoundaryCut(map, addr, addr + a.size);
    if (cut !== null) return fail('EINVAL', cut);
    map.delete(addr, addr + a.size, a.cpu);
  } else {
    const e = map.lookupEntry(addr) ?? map.index.find(addr);
    if (e !== undefined && e.start < addr + a.size) return fail('ENOSPC', 'MAP_EXCL over a mapping');
  }
  const rv = a.insert(shm.object, a.foff / PAGE_SIZE, addr, addr + a.size, a.prot, maxProt, a.nocore);
  if (rv !== null) return fail(rv, 'vm_map_insert');
  const e = map.lookupEntry(addr)!;
  e.eflags |= psind * 2 ** MAP_ENTRY_SPLIT_BOUNDARY_SHIFT;
  return { kind: 'mapped', addr };
}

/** MAP_ENTRY_SPLIT_BOUNDARY_INDEX: the entry's largepage psind (0: none). */
export function splitBoundaryIndex(e: VmMapEntry): number {
  return Math.floor((e.eflags & MAP_ENTRY_SPLIT_BOUNDARY_MASK) / 2 ** MAP_ENTRY_SPLIT_BOUNDARY_SHIFT);
}

/**
 * vm_map_clip_start / vm_map_clip_end on a largepage entry: a boundary inside one of its pages is
 * KERN_INVALID_ARGUMENT (munmap, mprotect, minherit, MAP_FIXED over it: EINVAL). A reason, or null.
 */
export function splitBoundaryCut(map: VmMap, start: number, end: number): string | null {
  for (const e of map.index.overlapping(start, end)) {
    const psind = splitBoundaryIndex(e);
    if (psind === 0) continue;
    const ps = largeSizeOf(e);
    if ((start > e.start && start < e.end && (start - e.start) % ps !== 0) || (end > e.start && end < e.end && (end - e.start) % ps !== 0)) {
      return `the range cuts a ${ps / 2 ** 20} MiB largepage`;
    }
  }
  return null;
}

/** vm_map_inherit: VM_INHERIT_COPY of a largepage entry is KERN_INVALID_ARGUMENT. */
export function largepageInRange(map: VmMap, start: number, end: number): boolean {
  for (const e of map.index.overlapping(start, end)) if (splitBoundaryIndex(e) !== 0) return true;
  return false;
}

/** The page size of a largepage entry (its boundary psind), from the pmap's page sizes. */
function largeSizeOf(e: VmMapEntry): number {
  const psind = splitBoundaryIndex(e);
  // pagesizes[1] = 2 MiB and [2] = 1 GiB on every profile that has large pages here.
  return psind === 2 ? 2 ** 30 : psind === 1 ? 2 ** 21 : PAGE_SIZE;
}

const RESOLVED_SOFT: FaultResolution = { kind: 'resolved', how: 'soft' };
const OBJERR: FaultResolution = { kind: 'signal', signal: 'SIGBUS', code: 'BUS_OBJERR' };
const OOMERR: FaultResolution = { kind: 'signal', signal: 'SIGBUS', code: 'BUS_OOMERR' };

/**
 * vm_fault → vm_fault_populate for a largepage object: the page is resident (allocated at
 * ftruncate), so the fault maps its whole large page at once — pmap_enter(PMAP_ENTER_LARGEPAGE,
 * psind): one PDE (2 MiB) or PDPE (1 GiB), unmanaged, with the entry's protection. A page past the
 * object's end is SIGBUS. Counted as a soft fault (nothing allocated or read).
 */
export function largepageFault(k: FreebsdKernel, s: FreebsdSpace, e: VmMapEntry, va: number, prot: number, write: boolean): FaultResolution {
  const obj = e.object!;
  const shm = stateOf(k.state).byObject.get(obj);
  const pindex = e.offset + (va - e.start) / PAGE_SIZE;
  if (shm === undefined || pindex >= obj.size) return OBJERR;
  const ps = pagesizes(k)[splitBoundaryIndex(e)]!;
  const per = ps / PAGE_SIZE;
  const first = Math.floor(pindex / per) * per;
  const vaddr = e.start + (first - e.offset) * PAGE_SIZE;
  const frame = obj.pages.get(first);
  if (frame === undefined) return OBJERR;
  const flags = Pmap.pteFlags(prot) | PTE_ACCESSED | (write && (prot & VM_PROT_WRITE) !== 0 ? PTE_DIRTY : 0);
  const pt = s.pmap.pt;
  const old = pt.lookup(vaddr);
  if (old?.pageSize === ps && old.frame === frame) {
    // An upgrade after mprotect: the same page, new rights.
    pt.updateFlags(vaddr, flags, (PTE_WRITE | PTE_NX) & ~flags);
  } else {
    let r = pt.map(vaddr, frame, ps, flags);
    if (r === MAP_NO_MEMORY) {
      k.vm.pageout(32);
      r = pt.map(vaddr, frame, ps, flags);
    }
    if (r !== MAP_OK) return OOMERR;
    const frames = k.mmu.frames;
    for (let i = 0; i < per; i++) frames.ref(frame + i);
    s.pmap.resident += per;
  }
  k.metrics.faults.soft++;
  k.metrics.cycles += FREEBSD_COSTS.faultHandler.soft;
  return RESOLVED_SOFT;
}

/** True when `obj` is a largepage shm object (vm_fault's populate path). */
export function isLargepageObject(obj: VmObject): boolean {
  return (obj.flags & OBJ_LARGEPAGE) !== 0;
}
