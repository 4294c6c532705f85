/**
 * sys/vm/vm_map.c: the address map of a process. A vm_map is an ordered set of non-overlapping
 * entries, each mapping [start, end) of the address space to a VM object at a page offset, with
 * a protection, a maximum protection, an inheritance for fork, and eflags (COW, NEEDS_COPY,
 * GROWS_DOWN, GUARD, STACK_GAP_DN ...). FreeBSD keeps the entries in a binary search tree
 * threaded into a list, searched with splaying, each node knowing the largest free gap below it
 * (max_free) so that vm_map_findspace finds the first fit at or above an address without walking
 * every entry; here that is the splay-tree index of @polykernel/vm.
 *
 * Ownership: an entry holds one reference to its object (or none: anonymous memory gets its
 * object at the first fault, vm_map_lookup). An entry with NEEDS_COPY shares its object with
 * another map's entry (after fork) and must shadow it before its first write. The map's pmap
 * holds the page-table entries; the object owns the pages. Deleting a range removes the
 * mappings first and only then drops the objects' references, so no page-table entry ever names
 * a freed frame.
 *
 * Offsets are kept in pages (FreeBSD keeps bytes). The index requires an entry's bounds not to
 * change while it is inserted, so clipping and merging remove and re-insert entries.
 */
import type { Metrics } from '@polykernel/core';
import { createIndex, type AddressSpaceIndex, type VmObject, type VmSystem } from '@polykernel/vm';
import {
  MAP_COPY_ON_WRITE, MAP_CREATE_GUARD, MAP_CREATE_STACK_GAP_DN, MAP_CREATE_STACK_GAP_UP, MAP_DISABLE_COREDUMP, MAP_DISABLE_SYNCER,
  MAP_ACC_CHARGED, MAP_ACC_NO_CHARGE, MAP_ENTRY_COW, MAP_ENTRY_GROWS_DOWN, MAP_ENTRY_GROWS_UP, MAP_ENTRY_GUARD, MAP_ENTRY_NEEDS_COPY,
  MAP_ENTRY_NOCOREDUMP, MAP_ENTRY_NOMERGE_MASK, MAP_ENTRY_NOSYNC, MAP_ENTRY_STACK_GAP_DN, MAP_ENTRY_STACK_GAP_UP, MAP_ENTRY_USER_WIRED,
  MAP_ENTRY_VN_EXEC, MAP_INHERIT_SHARE, MAP_NOFAULT, MAP_STACK_GROWS_DOWN, MAP_STACK_GROWS_UP, MAP_VN_EXEC, PAGE_SIZE,
  VM_INHERIT_COPY, VM_INHERIT_DEFAULT, VM_INHERIT_NONE, VM_INHERIT_SHARE, VM_INHERIT_ZERO, VM_PROT_ALL, VM_PROT_NONE, VM_PROT_WRITE,
} from '../param.js';
import { OBJ_ONEMAPPING, OBJ_SWAP, allocateAnon, isAnon } from './vm_object.js';
import type { Pmap } from './pmap.js';

/** security.bsd.stack_guard_page: pages of gap a stack never grows into. */
export const STACK_GUARD_PAGE = 1;

/** Mach kern_return_t values vm_map returns (sys/vm/vm_param.h). */
export const KERN_SUCCESS = 0;
export const KERN_INVALID_ADDRESS = 1;
export const KERN_PROTECTION_FAILURE = 2;
export const KERN_NO_SPACE = 3;
export const KERN_INVALID_ARGUMENT = 4;
export const KERN_FAILURE = 5;
export const KERN_RESOURCE_SHORTAGE = 6;
export const KERN_OUT_OF_BOUNDS = 13;

export class VmMapEntry {
  /** The object (null: anonymous memory not yet faulted, or a guard). */
  object: VmObject | null = null;
  /** Page offset of `start` in the object. */
  offset = 0;
  /**
   * entry->cred: the entry carries a swap charge for memory that has no object yet (or needs a
   * copy). The charge moves to the object when one is made for it (OBJ_SWAP).
   */
  cred = false;
  wiredCount = 0;
  /**
   * A stack's guard gap keeps here what vm_map_stack stored in the gap entry's unused fields:
   * stack_guard_page in bytes (next_read) and the stack's protections (offset).
   */
  stackGuard = 0;
  stackProt = 0;
  stackMaxProt = 0;
  constructor(
    public start: number,
    public end: number,
    public eflags: number,
    public protection: number,
    public maxProtection: number,
    public inheritance: number,
  ) {}

  get pages(): number {
    return (this.end - this.start) / PAGE_SIZE;
  }
}

/** The first-fit search kinds of vm_map_find (VMFS_*): any space, superpage-aligned when large, or aligned to 2^n. */
export type FindSpace = { kind: 'none' } | { kind: 'any' } | { kind: 'optimal' } | { kind: 'super' } | { kind: 'aligned'; log2: number };

export class VmMap {
  readonly index: AddressSpaceIndex<VmMapEntry>;
  /** map->size: bytes mapped by entries that are not guards. */
  size = 0;
  /** map->timestamp: bumped by every change. */
  timestamp = 0;
  /** map->anon_loc: where the last anonymous mapping without a hint ended (cluster_anon). */
  anonLoc = 0;

  constructor(
    readonly vm: VmSystem,
    readonly pmap: Pmap,
    readonly minOffset: number,
    readonly maxOffset: number,
    metrics?: Metrics,
  ) {
    this.index = createIndex<VmMapEntry>('splay', metrics === undefined ? {} : { metrics });
  }

  get entryCount(): number {
    return this.index.size;
  }

  /** vm_map_lookup_entry: the entry containing `addr` (splayed to the root), or undefined. */
  lookupEntry(addr: number): VmMapEntry | undefined {
    return this.index.lookup(addr);
  }

  /** Entries in address order (the threaded list). */
  *entries(from = 0): IterableIterator<VmMapEntry> {
    yield* this.index.iterateFrom(from);
  }

  /** vm_map_entry_succ: the next entry, or undefined. */
  succ(e: VmMapEntry): VmMapEntry | undefined {
    return this.index.find(e.end);
  }

  /** The entry ending exactly at `e.start` (an adjacent predecessor), or undefined. */
  adjacentPred(e: VmMapEntry): VmMapEntry | undefined {
    if (e.start === 0) return undefined;
    const p = this.index.lookup(e.start - 1);
    return p?.end === e.start ? p : undefined;
  }

  /** vm_map_range_valid. */
  rangeValid(start: number, end: number): boolean {
    return end >= start && start >= this.minOffset && end <= this.maxOffset;
  }

  /**
   * vm_map_findspace: the lowest address at or above `start` where `length` bytes fit, aligned
   * to `alignment`, below the map's end; or -1. The max_free gaps let the search skip subtrees.
   */
  findspace(start: number, length: number, alignment = PAGE_SIZE): number {
    const low = Math.max(start, this.minOffset);
    if (length > this.maxOffset - low) return -1;
    return this.index.findGap({ length, alignment, low, high: this.maxOffset, topDown: false });
  }

  // ---- links -----------------------------------------------------------------------------------

  /** vm_map_entry_link (vmspace_fork links the entries it clones). */
  link(e: VmMapEntry): void {
    if (!this.index.insert(e)) throw new Error(`vm_map: entry [0x${e.start.toString(16)}, 0x${e.end.toString(16)}) overlaps`);
    if ((e.eflags & MAP_ENTRY_GUARD) === 0) this.size += e.end - e.start;
    this.timestamp++;
  }

  private unlink(e: VmMapEntry): void {
    if (!this.index.remove(e)) throw new Error('vm_map: unlinking an entry that is not in the map');
    if ((e.eflags & MAP_ENTRY_GUARD) === 0) this.size -= e.end - e.start;
    this.timestamp++;
  }

  /** Change an entry's bounds (the index cannot see bounds move: unlink, change, link). */
  private resize(e: VmMapEntry, start: number, end: number): void {
    this.unlink(e);
    e.start = start;
    e.end = end;
    this.link(e);
  }

  // ---- insert ----------------------------------------------------------------------------------

  /**
   * vm_map_insert: map [start, end) to `object` at page `offset` (object null: anonymous memory
   * made at the first fault), extending the previous entry's object and entry when they coalesce.
   */
  insert(object: VmObject | null, offset: number, start: number, end: number, prot: number, max: number, cow: number): number {
    if (start === end || !this.rangeValid(start, end)) return KERN_INVALID_ADDRESS;
    if (this.lookupEntry(start) !== undefined) return KERN_NO_SPACE;
    const next = this.index.find(start);
    if (next !== undefined && next.start < end) return KERN_NO_SPACE;
    if ((cow & MAP_CREATE_GUARD) !== 0 && (object !== null || max !== VM_PROT_NONE)) return KERN_INVALID_ARGUMENT;
    const protoeflags = protoEflags(cow);
    const inheritance = (cow & MAP_INHERIT_SHARE) !== 0 ? VM_INHERIT_SHARE : VM_INHERIT_DEFAULT;
    // Swap accounting: writable private memory is charged to the mapping's credential.
    let cred = false;
    if ((cow & (MAP_ACC_NO_CHARGE | MAP_NOFAULT | MAP_CREATE_GUARD)) === 0
      && ((cow & MAP_ACC_CHARGED) !== 0 || ((prot & VM_PROT_WRITE) !== 0 && ((protoeflags & MAP_ENTRY_NEEDS_COPY) !== 0 || object === null)))) {
      cred = true;
    }
    const prev = start > 0 ? this.lookupEntry(start - 1) : undefined;
    if (object !== null) {
      // OBJ_ONEMAPPING must go unless this is trivially the only mapping of the object's pages.
      if (isAnon(object) && (object.refCount > 1 || object.shadowCount !== 0)) object.flags &= ~OBJ_ONEMAPPING;
    } else if (prev?.end === start && (prev.eflags & ~MAP_ENTRY_USER_WIRED) === protoeflags
      && (cow & (MAP_STACK_GROWS_DOWN | MAP_STACK_GROWS_UP | MAP_VN_EXEC)) === 0
      && (prev.cred === cred || (prev.object !== null && ((prev.object.flags & OBJ_SWAP) !== 0) === cred))
      && this.objectCoalesce(prev.object, prev.offset, prev.pages, (end - prev.end) / PAGE_SIZE)) {
      // The previous entry's object grew to cover the new range: extend the entry too if it can.
      if (prev.inheritance === inheritance && prev.protection === prot && prev.maxProtection === max && prev.wiredCount === 0) {
        this.resize(prev, prev.start, end);
        this.tryMergeEntries(prev, this.succ(prev));
        return KERN_SUCCESS;
      }
      object = prev.object;
      offset = prev.offset + prev.pages;
      if (object !== null) this.vm.reference(object);
      if (cred && object !== null && (object.flags & OBJ_SWAP) !== 0 && (prev.eflags & MAP_ENTRY_NEEDS_COPY) === 0) cred = false;
    }
    const e = new VmMapEntry(start, end, protoeflags, prot, max, inheritance);
    e.object = object;
    e.offset = object === null ? 0 : offset;
    e.cred = cred;
    this.link(e);
    if (prev?.end === start) this.tryMergeEntries(prev, e);
    const cur = this.lookupEntry(start)!;
    this.tryMergeEntries(cur, this.succ(cur));
    return KERN_SUCCESS;
  }

  /**
   * vm_object_coalesce: can `prevObject` (mapped by the previous entry) grow by `nextPages` to
   * back the new range too? Only an anonymous object that shadows nothing and whose extra pages
   * nobody else can see.
   */
  private objectCoalesce(prevObject: VmObject | null, prevOffset: number, prevPages: number, nextPages: number): boolean {
    if (prevObject === null) return true;
    if (!isAnon(prevObject)) return false;
    this.vm.collapse(prevObject);
    if (prevObject.backing !== null) return false;
    const nextPindex = prevOffset + prevPages;
    if (prevObject.refCount > 1 && prevObject.size !== nextPindex && (prevObject.flags & OBJ_ONEMAPPING) === 0) return false;
    // Pages left from an earlier deallocation of that range must not reappear.
    if (nextPindex < prevObject.size) this.vm.removePages(prevObject, nextPindex, nextPindex + nextPages);
    if (nextPindex + nextPages > prevObject.size) prevObject.size = nextPindex + nextPages;
    return true;
  }

  // ---- merge (vm_map_try_merge_entries, vm_map_simplify_entry) --------------------------------------

  /** vm_map_mergeable_neighbors. */
  static mergeable(prev: VmMapEntry, e: VmMapEntry): boolean {
    return prev.end === e.start && prev.object === e.object && (prev.object === null || prev.offset + prev.pages === e.offset)
      && prev.eflags === e.eflags && prev.protection === e.protection && prev.maxProtection === e.maxProtection
      && prev.inheritance === e.inheritance && prev.wiredCount === e.wiredCount && prev.cred === e.cred;
  }

  /** vm_map_try_merge_entries: absorb `prev` into `e` when they can be one entry. Returns the survivor. */
  tryMergeEntries(prev: VmMapEntry | undefined, e: VmMapEntry | undefined): VmMapEntry | undefined {
    if (prev === undefined || e === undefined) return e ?? prev;
    if ((e.eflags & MAP_ENTRY_NOMERGE_MASK) !== 0 || (prev.eflags & MAP_ENTRY_NOMERGE_MASK) !== 0 || !VmMap.mergeable(prev, e)) return prev;
    this.unlink(prev);
    const start = prev.start;
    this.unlink(e);
    e.start = start;
    e.offset = prev.offset;
    this.link(e);
    // vm_map_merged_neighbor_dispose: the absorbed entry's object reference goes.
    if (prev.object !== null) this.vm.deallocate(prev.object);
    return e;
  }

  /** vm_map_simplify_entry: merge an entry with both neighbours where possible. Returns the surviving entry. */
  simplifyEntry(e: VmMapEntry): VmMapEntry {
    if ((e.eflags & MAP_ENTRY_NOMERGE_MASK) !== 0) return e;
    this.tryMergeEntries(this.adjacentPred(e), e);
    const next = this.succ(e);
    if (next?.start === e.end && this.tryMergeEntries(e, next) === next && next.start === e.start) return next;
    return e;
  }

  // ---- clip ------------------------------------------------------------------------------------

  /**
   * vm_map_entry_charge_object (vm_map_entry_back): before an entry is split, anonymous memory
   * gets its object now, so the two halves share one object instead of getting one each later.
   */
  chargeObject(e: VmMapEntry): void {
    if (e.object === null && (e.eflags & MAP_ENTRY_GUARD) === 0) {
      e.object = allocateAnon(this.vm, e.pages, null, e.cred);
      e.offset = 0;
      e.cred = false;
    } else if (e.object !== null && (e.eflags & MAP_ENTRY_NEEDS_COPY) === 0 && e.cred) {
      e.object.flags |= OBJ_SWAP;
      e.cred = false;
    }
  }

  /** vm_map_clip_start: split `e` so that an entry starts at `addr`. Returns the entry that does. */
  clipStart(e: VmMapEntry, addr: number): VmMapEntry {
    if (addr <= e.start || addr >= e.end) return e;
    this.chargeObject(e);
    const front = this.cloneEntry(e);
    this.unlink(e);
    front.end = addr;
    e.offset += (addr - e.start) / PAGE_SIZE;
    e.start = addr;
    this.link(front);
    this.link(e);
    return e;
  }

  /** vm_map_clip_end: split `e` so that it ends at `addr`. */
  clipEnd(e: VmMapEntry, addr: number): void {
    if (addr <= e.start || addr >= e.end) return;
    this.chargeObject(e);
    const back = this.cloneEntry(e);
    this.unlink(e);
    back.offset += (addr - e.start) / PAGE_SIZE;
    back.start = addr;
    e.end = addr;
    this.link(e);
    this.link(back);
  }

  /** vm_map_entry_clone: the copy takes its own object reference. */
  private cloneEntry(e: VmMapEntry): VmMapEntry {
    const c = new VmMapEntry(e.start, e.end, e.eflags, e.protection, e.maxProtection, e.inheritance);
    c.object = e.object;
    c.offset = e.offset;
    c.cred = e.cred;
    c.wiredCount = e.wiredCount;
    if (c.object !== null) this.vm.reference(c.object);
    return c;
  }

  /** The entries overlapping [start, end), clipped to it (vm_map_lookup_clip_start + clip_end). */
  clipRange(start: number, end: number): VmMapEntry[] {
    const out: VmMapEntry[] = [];
    for (const e of this.index.overlapping(start, end)) {
      const s = this.clipStart(e, start);
      this.clipEnd(s, end);
      out.push(s);
    }
    return out;
  }

  // ---- delete, protect, inherit --------------------------------------------------------------------

  /**
   * vm_map_delete: remove every entry in [start, end), clipping the ones at the edges: the
   * mappings first (pmap_map_delete), then the entry (vm_map_entry_delete), which frees the
   * object's pages in that range when it is the object's only mapping.
   */
  delete(start: number, end: number, cpu: number): number {
    for (const e of this.clipRange(start, end)) {
      if (e.object !== null) this.pmap.remove(e.start, e.end, cpu);
      this.entryDelete(e);
    }
    return KERN_SUCCESS;
  }

  /** vm_map_entry_delete (+ the deferred vm_map_entry_deallocate). */
  private entryDelete(e: VmMapEntry): void {
    this.unlink(e);
    const obj = e.object;
    e.object = null;
    if (obj === null) return;
    if (isAnon(obj) && obj.refCount !== 1 && (obj.flags & OBJ_ONEMAPPING) !== 0) {
      this.vm.collapse(obj);
      const s = e.offset;
      const t = s + e.pages;
      this.vm.removePages(obj, s, t);
      if (t >= obj.size && s < obj.size) obj.size = s;
    }
    this.vm.deallocate(obj);
  }

  /**
   * vm_map_protect: check every entry's maximum protection first (guards are skipped; holes are
   * not an error), then clip and set, lowering the pmap's protection where access shrank — a COW
   * entry's pages stay read-only so the first write still faults.
   */
  protect(start: number, end: number, prot: number, maxProt: number, setMax: boolean, cpu: number): number {
    if (start === end) return KERN_SUCCESS;
    if (setMax && (maxProt & prot) !== prot) return KERN_OUT_OF_BOUNDS;
    const s = Math.max(start, this.minOffset);
    const t = Math.min(end, this.maxOffset);
    if (t <= s) return KERN_SUCCESS;
    const check = prot | (setMax ? maxProt : 0);
    for (const e of this.index.overlapping(s, t)) {
      if ((e.eflags & MAP_ENTRY_GUARD) !== 0) continue;
      if ((e.maxProtection & check) !== check) return KERN_PROTECTION_FAILURE;
    }
    for (const e of this.clipRange(s, t)) {
      if ((e.eflags & MAP_ENTRY_GUARD) !== 0) continue;
      const old = e.protection;
      if (setMax) {
        e.maxProtection = maxProt;
        e.protection = maxProt & old;
      }
      e.protection = prot;
      // Gaining write: private memory without an object (or needing a copy) is charged now.
      if ((prot & VM_PROT_WRITE) !== 0 && (old & VM_PROT_WRITE) === 0) {
        if (e.object === null || (e.eflags & MAP_ENTRY_NEEDS_COPY) !== 0) e.cred = true;
        else if (isAnon(e.object)) e.object.flags |= OBJ_SWAP;
      }
      if ((old & ~e.protection) !== 0) {
        const mask = (e.eflags & MAP_ENTRY_COW) !== 0 ? VM_PROT_ALL & ~VM_PROT_WRITE : VM_PROT_ALL;
        this.pmap.protect(e.start, e.end, e.protection & mask, cpu);
      }
    }
    this.simplifyRange(s, t);
    return KERN_SUCCESS;
  }

  /** vm_map_inherit. */
  inherit(start: number, end: number, inheritance: number): number {
    if (inheritance !== VM_INHERIT_NONE && inheritance !== VM_INHERIT_COPY && inheritance !== VM_INHERIT_SHARE && inheritance !== VM_INHERIT_ZERO) {
      return KERN_INVALID_ARGUMENT;
    }
    if (start === end) return KERN_SUCCESS;
    const s = Math.max(start, this.minOffset);
    const t = Math.min(end, this.maxOffset);
    if (t <= s) return KERN_SUCCESS;
    for (const e of this.clipRange(s, t)) {
      if (inheritance !== VM_INHERIT_ZERO || (e.eflags & MAP_ENTRY_GUARD) === 0) e.inheritance = inheritance;
    }
    this.simplifyRange(s, t);
    return KERN_SUCCESS;
  }

  /** Set or clear eflags bits on the entries of [start, end) (vm_map_madvise's behaviours). */
  setEflags(start: number, end: number, set: number, clear: number): void {
    for (const e of this.clipRange(start, end)) e.eflags = (e.eflags & ~clear) | set;
    this.simplifyRange(start, end);
  }

  /** Merge what can be merged in and at the edges of [start, end) after a change. */
  private simplifyRange(start: number, end: number): void {
    let e = this.index.find(start === 0 ? 0 : start - 1);
    while (e !== undefined && e.start <= end) {
      const merged = this.simplifyEntry(e);
      e = this.succ(merged);
    }
  }

  /**
   * vm_map_stack_locked: a grow-down stack over [addrbos, addrbos + maxSsize): an entry of
   * `growsize` at the top and a guard gap (GUARD | STACK_GAP_DN, no access) below it, which
   * vm_map_growstack turns into stack as faults reach it, keeping stack_guard_page pages.
   */
  stack(addrbos: number, maxSsize: number, growsize: number, prot: number, max: number, cow: number, guardPages = STACK_GUARD_PAGE): number {
    const sgp = guardPages * PAGE_SIZE;
    if (addrbos < this.minOffset || addrbos > this.maxOffset || sgp >= maxSsize) return KERN_INVALID_ADDRESS;
    let init = growsize;
    if (maxSsize < init + sgp) init = maxSsize - sgp;
    if (this.lookupEntry(addrbos) !== undefined) return KERN_NO_SPACE;
    const next = this.index.find(addrbos);
    if (next !== undefined && next.start < addrbos + maxSsize) return KERN_NO_SPACE;
    const bot = addrbos + maxSsize - init;
    const top = bot + init;
    let rv = this.insert(null, 0, bot, top, prot, max, cow | MAP_STACK_GROWS_DOWN);
    if (rv !== KERN_SUCCESS) return rv;
    if (addrbos === bot) return KERN_SUCCESS;
    rv = this.insert(null, 0, addrbos, bot, VM_PROT_NONE, VM_PROT_NONE, MAP_CREATE_GUARD | MAP_CREATE_STACK_GAP_DN);
    if (rv !== KERN_SUCCESS) {
      this.delete(bot, top, 0);
      return rv;
    }
    const gap = this.lookupEntry(addrbos)!;
    gap.stackGuard = sgp;
    gap.stackProt = prot;
    gap.stackMaxProt = max;
    return KERN_SUCCESS;
  }

  /** vm_map_growstack's gap update: the top `amount` bytes of the gap become stack. */
  shrinkGapTop(gap: VmMapEntry, amount: number): void {
    if (gap.start + amount >= gap.end) this.entryDelete(gap);
    else this.resize(gap, gap.start, gap.end - amount);
  }

  /** vm_map_remove of everything (vmspace_exit → vmspace_dofree). */
  removeAll(cpu: number): void {
    this.delete(this.minOffset, this.maxOffset, cpu);
  }
}

/** vm_map_insert's cow bits → entry eflags. */
export function protoEflags(cow: number): number {
  let f = 0;
  if ((cow & MAP_COPY_ON_WRITE) !== 0) f |= MAP_ENTRY_COW | MAP_ENTRY_NEEDS_COPY;
  if ((cow & MAP_DISABLE_SYNCER) !== 0) f |= MAP_ENTRY_NOSYNC;
  if ((cow & MAP_DISABLE_COREDUMP) !== 0) f |= MAP_ENTRY_NOCOREDUMP;
  if ((cow & MAP_STACK_GROWS_DOWN) !== 0) f |= MAP_ENTRY_GROWS_DOWN;
  if ((cow & MAP_STACK_GROWS_UP) !== 0) f |= MAP_ENTRY_GROWS_UP;
  if ((cow & MAP_VN_EXEC) !== 0) f |= MAP_ENTRY_VN_EXEC;
  if ((cow & MAP_CREATE_GUARD) !== 0) f |= MAP_ENTRY_GUARD;
  if ((cow & MAP_CREATE_STACK_GAP_DN) !== 0) f |= MAP_ENTRY_STACK_GAP_DN;
  if ((cow & MAP_CREATE_STACK_GAP_UP) !== 0) f |= MAP_ENTRY_STACK_GAP_UP;
  return f;
}
