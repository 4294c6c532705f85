/**
 * The machine-independent VM: VM objects with shadow chains, the fault path through them
 * (FreeBSD sys/vm/vm_fault.c), collapse and bypass of chains (vm_object_collapse), and page reclaim
 * with active/inactive queues, second chance, a swap device and file write-back (the page daemon,
 * Linux's kswapd). Personalities drive it; it knows nothing of page tables, except through the
 * `onEvict` hook that lets a personality unmap a page before its frame is reused.
 */
import { Metrics } from '@polykernel/core';
import { FRAME_DIRTY, FRAME_SIZE, FRAME_ZEROED, NO_FRAME, type FrameTable } from '@polykernel/mmu';
import { VmObject, type VmObjectType } from './object.js';
import { devicePager, swapPager, vnodePager, type Pager, type PagerContext, type PagerCosts } from './pager.js';
import { PageQueues, Q_ACTIVE, Q_INACTIVE } from './queues.js';
import { SwapDevice } from './swap.js';

/** Cycle costs of the pagers' I/O. */
export type VmCosts = PagerCosts;

export interface VmOptions {
  swapSlots?: number;
  costs?: Partial<VmCosts>;
  metrics?: Metrics;
}

export interface VmCounters {
  objectsCreated: number;
  objectsFreed: number;
  shadows: number;
  collapses: number;
  bypasses: number;
  pagesMoved: number;
  copyUps: number;
  /** Write faults that moved the backing object's page up instead of copying it (vm_fault_cow). */
  cowMoves: number;
  zeroFills: number;
  fileReads: number;
  fileWrites: number;
  swapOuts: number;
  swapIns: number;
  pageoutScans: number;
  reclaimed: number;
  /** Chain length seen by each fault: index = length. */
  chainLengths: number[];
}

/**
 * How `faultPage` resolved a fault (FreeBSD vm_fault's outcomes):
 * - `zeroFill`: no object in the chain had the page; a zeroed page was allocated in the first object;
 * - `found`: the page was resident in the first object already (or a device frame);
 * - `backing`: a read found the page in a backing object: map it read-only, copy up on write;
 * - `cow`: a write found it in a backing object and copied it up into the first object;
 * - `move`: as `cow`, but the backing object was referenced only by the first object, so the
 *   page itself moved up instead of being copied (vm_fault_cow's "v_cow_optim");
 * - `pagein`: it was brought in by a pager (swap or file) into the object that owns it.
 */
export type FaultHow = 'zeroFill' | 'found' | 'backing' | 'cow' | 'move' | 'pagein';

/** The answer of `faultPage`, one reusable record per VmSystem (read it before the next fault). */
export interface FaultOutcome {
  how: FaultHow;
  /** The frame now backing the page for this access, or NO_FRAME (out of memory and swap). */
  frame: number;
  /** The object the frame belongs to (the first object, unless `how` is `backing`). */
  object: VmObject | null;
  /** The frame that was copied from (`cow`), or NO_FRAME. */
  source: number;
  /** Objects looked at, the first included (vm_fault's walk down the chain). */
  depth: number;
  /** The pager brought the page in (swap-in or file read) on the way. */
  pagedIn: boolean;
}

/**
 * A personality's page placement policy (see `VmSystem.pageAllocator`). Frames it hands out are
 * allocated in the frame table (refcount 1) and zeroed when asked, as `FrameTable.alloc` does.
 */
export interface PageAllocator {
  /** A frame for page `pindex` of `obj`, or NO_FRAME to take one from the free lists. */
  alloc(obj: VmObject, pindex: number, zero: boolean): number;
  /** A page's frame is released: true when the policy took it back (do not free it). */
  free(frame: number): boolean;
  /** Memory is short: give frames back to the allocator (true when some were). */
  reclaim(): boolean;
  /**
   * Page `frame` moved from `from` to `to` (a collapse, a split, a copy-on-write move), whose page
   * 0 is page `offset` of `from` — FreeBSD's vm_reserv_rename after vm_page_rename. Optional.
   */
  rename?(frame: number, to: VmObject, from: VmObject, offset: number): void;
  /** `obj` is going away; its pages are released next (vm_object_terminate → vm_reserv_break_all). Optional. */
  terminate?(obj: VmObject): void;
}

/** Where a page was found. */
export interface PageLookup {
  object: VmObject;
  pindex: number;
  frame: number;
  depth: number;
}

/**
 * Kernel bytes of one VM object, counted in `metrics.metadataBytes` from creation until it is
 * freed or absorbed by a collapse. 264 is sizeof(struct vm_object) on amd64 as FreeBSD 14 declares
 * it (sys/vm/vm_object.h): the rwlock (32), object_list, shadow_head and shadow_list links (40),
 * memq (16), the resident-page radix root (8), size (8), domainset_ref (16), generation,
 * cleangeneration, ref_count, shadow_count (16), memattr/type/flags/pg_color (6, padded to 8),
 * paging_in_progress, busy, resident_page_count (12, padded to 16), backing_object and its offset
 * (16), pager_object_list (16), rvq (8), handle (8), the pager union (32, its device arm), cred,
 * charge and umtx_data (24). A shadow is a VM object like any other, so each link of a shadow
 * chain costs the same. The per-page state (vm_page structures, the radix trie's nodes) is not
 * included: FreeBSD allocates vm_page for every physical frame at boot, whatever maps it.
 */
export const VM_OBJECT_BYTES = 264;

const DEFAULT_COSTS: VmCosts = { fileReadPage: 30_000, fileWritePage: 30_000, swapOutPage: 60_000, swapInPage: 60_000 };

export class VmSystem {
  readonly metrics: Metrics;
  readonly swap: SwapDevice;
  readonly queues: PageQueues;
  readonly counters: VmCounters = {
    objectsCreated: 0, objectsFreed: 0, shadows: 0, collapses: 0, bypasses: 0, pagesMoved: 0, copyUps: 0, cowMoves: 0,
    zeroFills: 0, fileReads: 0, fileWrites: 0, swapOuts: 0, swapIns: 0, pageoutScans: 0, reclaimed: 0, chainLengths: [],
  };
  /** The pager of each object type (replace one to model another backing store). */
  readonly pagers: Record<VmObjectType, Pager> = { anonymous: swapPager, vnode: vnodePager, device: devicePager, physical: devicePager };
  /** The last `faultPage` answer (reused: no allocation per fault). */
  readonly outcome: FaultOutcome = { how: 'found', frame: NO_FRAME, object: null, source: NO_FRAME, depth: 0, pagedIn: false };
  /** Called before a resident page's frame is taken away (unmap it from every page table). */
  onEvict: ((object: VmObject, pindex: number, frame: number) => void) | null = null;
  /**
   * Where an object's new pages come from, when a personality manages physical placement itself
   * (FreeBSD's superpage reservations: vm_page_alloc → vm_reserv_alloc_page, vm_page_free →
   * vm_reserv_free_page). Null: every page comes from and returns to the frame allocator.
   */
  pageAllocator: PageAllocator | null = null;
  private readonly costs: VmCosts;
  /** Owner of each frame holding an object page (reverse map for reclaim). */
  private readonly frameObject: (VmObject | null)[];
  private readonly framePindex: Float64Array;
  private readonly pagerContext: PagerContext;
  private nextId = 1;
  private live = 0;
  /** Shadows of each object (FreeBSD keeps them on backing_object->shadow_head), to collapse one when it is the last. */
  private readonly shadowsOf = new WeakMap<VmObject, Set<VmObject>>();

  constructor(readonly frames: FrameTable, opts: VmOptions = {}) {
    this.metrics = opts.metrics ?? frames.metrics ?? new Metrics();
    this.swap = new SwapDevice(opts.swapSlots ?? 0);
    this.costs = { ...DEFAULT_COSTS, ...opts.costs };
    this.queues = new PageQueues(frames.frameCount);
    this.frameObject = new Array<VmObject | null>(frames.frameCount).fill(null);
    this.framePindex = new Float64Array(frames.frameCount);
    this.pagerContext = {
      frames, swap: this.swap, metrics: this.metrics, costs: this.costs,
      allocFrame: (zero) => this.allocFrame(zero),
      count: (c) => {
        this.counters[c]++;
      },
    };
  }

  /** Objects allocated and not yet freed. */
  get liveObjects(): number {
    return this.live;
  }

  // ---- objects -------------------------------------------------------------------------------

  createObject(type: VmObjectType, sizePages: number, file: Uint8Array | null = null, name = ''): VmObject {
    if (type === 'vnode' && file === null) throw new RangeError('a vnode object needs the file bytes');
    this.counters.objectsCreated++;
    this.live++;
    this.metrics.metadataBytes += VM_OBJECT_BYTES;
    return new VmObject(this.nextId++, type, sizePages, file, name);
  }

  /**
   * A device or physical object over `pages` frames starting at `baseFrame` (FreeBSD OBJT_DEVICE /
   * OBJT_PHYS: a framebuffer, MMIO, or wired contiguous memory). Its pages are never allocated,
   * zeroed, paged out or copied into it; faults simply name the frame.
   */
  createPhysicalObject(type: 'device' | 'physical', baseFrame: number, pages: number): VmObject {
    const o = this.createObject(type, pages);
    o.physBase = baseFrame;
    return o;
  }

  /** vm_object_reference. */
  reference(obj: VmObject): void {
    this.assertLive(obj);
    obj.refCount++;
  }

  /**
   * vm_object_shadow: a new anonymous object of `size` pages over `source` at `offset`. The shadow
   * takes over the caller's reference to `source`.
   */
  shadow(source: VmObject, offset = 0, size = source.size - offset): VmObject {
    this.assertLive(source);
    const s = this.createObject('anonymous', size);
    s.backing = source;
    s.backingOffset = offset;
    source.shadowCount++;
    this.trackShadow(s, source);
    this.counters.shadows++;
    return s;
  }

  /**
   * Copy-on-write duplication of a private mapping (FreeBSD vm_map_copy_entry with
   * MAP_ENTRY_NEEDS_COPY, resolved eagerly): the caller's reference to `obj` becomes two shadows,
   * one for the original owner and one for the copy. Returns [forOwner, forCopy].
   */
  cowCopy(obj: VmObject): [VmObject, VmObject] {
    this.reference(obj); // the second shadow needs its own reference
    return [this.shadow(obj), this.shadow(obj)];
  }

  /** vm_object_deallocate: drop a reference; free the object at zero and collapse what remains. */
  deallocate(obj: VmObject): void {
    this.assertLive(obj);
    obj.refCount--;
    if (obj.refCount > 0) {
      // vm_object_deallocate → vm_object_deallocate_anon: an anonymous object left with one
      // reference, held by its only shadow, is collapsed into that shadow.
      if (obj.refCount === 1 && obj.shadowCount === 1 && obj.type === 'anonymous') this.collapseShadowOf(obj);
      return;
    }
    const backing = obj.backing;
    this.freeObject(obj);
    if (backing !== null) {
      backing.shadowCount--;
      this.deallocate(backing);
      if (!backing.dead && backing.refCount === 1 && backing.shadowCount === 1) this.collapseShadowOf(backing);
    }
  }

  private freeObject(obj: VmObject): void {
    this.pageAllocator?.terminate?.(obj);
    const pages = obj.pages;
    for (let i = 0; i < pages.slotCount; i++) if (pages.keyAt(i) >= 0) this.releaseFrame(obj, pages.keyAt(i), pages.valueAt(i));
    pages.clear();
    const swapped = obj.swapped;
    for (let i = 0; i < swapped.slotCount; i++) if (swapped.keyAt(i) >= 0) this.swap.free(swapped.valueAt(i));
    swapped.clear();
    obj.dead = true;
    obj.backing = null;
    this.live--;
    this.metrics.metadataBytes -= VM_OBJECT_BYTES;
    this.counters.objectsFreed++;
  }

  /** When `backing`'s only reference is its one remaining shadow, collapse that shadow into it. */
  private collapseShadowOf(backing: VmObject): void {
    const set = this.shadowsOf.get(backing);
    if (set === undefined) return;
    for (const s of [...set]) {
      if (s.dead || s.backing !== backing) set.delete(s);
      else this.collapse(s);
    }
  }

  // ---- collapse ------------------------------------------------------------------------------

  /**
   * vm_object_collapse: while `obj`'s backing object is an anonymous object referenced only by
   * `obj`, pull its pages up (those `obj` does not already have) and take its backing object as
   * ours; otherwise, if `obj` holds every page of its window, bypass the backing object.
   */
  collapse(obj: VmObject): void {
    this.assertLive(obj);
    for (;;) {
      const b = obj.backing;
      if (b?.type !== 'anonymous') return;
      if (b.refCount === 1 && b.shadowCount === 1) {
        this.absorb(obj, b);
        this.counters.collapses++;
        continue;
      }
      if (this.coversWindow(obj)) {
        obj.backing = b.backing;
        obj.backingOffset += b.backingOffset;
        if (b.backing !== null) {
          this.reference(b.backing);
          b.backing.shadowCount++;
          this.trackShadow(obj, b.backing);
        }
        b.shadowCount--;
        this.counters.bypasses++;
        this.deallocate(b);
        continue;
      }
      return;
    }
  }

  private coversWindow(obj: VmObject): boolean {
    if (obj.pages.size + obj.swapped.size < obj.size) return false;
    for (let p = 0; p < obj.size; p++) if (!obj.pages.has(p) && !obj.swapped.has(p)) return false;
    return true;
  }

  /** Move b's pages into obj where obj has none; drop the rest; obj inherits b's backing. */
  private absorb(obj: VmObject, b: VmObject): void {
    const off = obj.backingOffset;
    const bpages = b.pages;
    for (let i = 0; i < bpages.slotCount; i++) {
      const bp = bpages.keyAt(i);
      if (bp < 0) continue;
      const frame = bpages.valueAt(i);
      const p = bp - off;
      if (p >= 0 && p < obj.size && !obj.pages.has(p) && !obj.swapped.has(p)) {
        obj.pages.set(p, frame);
        this.frameObject[frame] = obj;
        this.framePindex[frame] = p;
        this.pageAllocator?.rename?.(frame, obj, b, off);
        this.counters.pagesMoved++;
      } else {
        this.releaseFrame(b, bp, frame);
      }
    }
    b.pages.clear();
    const bswapped = b.swapped;
    for (let i = 0; i < bswapped.slotCount; i++) {
      const bp = bswapped.keyAt(i);
      if (bp < 0) continue;
      const slot = bswapped.valueAt(i);
      const p = bp - off;
      if (p >= 0 && p < obj.size && !obj.pages.has(p) && !obj.swapped.has(p)) obj.swapped.set(p, slot);
      else this.swap.free(slot);
    }
    b.swapped.clear();
    // What the absorbed object still owns (a placement its pages never used) goes with it.
    this.pageAllocator?.terminate?.(b);
    obj.backing = b.backing;
    obj.backingOffset = off + b.backingOffset;
    if (b.backing !== null) this.trackShadow(obj, b.backing);
    b.backing = null;
    b.dead = true;
    this.live--;
    this.metrics.metadataBytes -= VM_OBJECT_BYTES;
    this.counters.objectsFreed++;
  }

  private trackShadow(shadow: VmObject, backing: VmObject): void {
    let set = this.shadowsOf.get(backing);
    if (set === undefined) {
      set = new Set();
      this.shadowsOf.set(backing, set);
    }
    set.add(shadow);
  }

  // ---- lookup and fault ----------------------------------------------------------------------

  /** The resident page visible at `pindex` of `obj` through its chain, or null. */
  lookupPage(obj: VmObject, pindex: number): PageLookup | null {
    let p = pindex;
    let depth = 0;
    for (let o: VmObject | null = obj; o !== null; o = o.backing) {
      const f = o.pages.get(p);
      if (f !== undefined) return { object: o, pindex: p, frame: f, depth };
      if (o.swapped.has(p)) return null;
      p += o.backingOffset;
      depth++;
    }
    return null;
  }

  /**
   * Resolve a fault at page `pindex` of `obj` (vm_fault) and count it in `metrics.faults`
   * (zeroFill, cow): a convenience for callers that count nothing themselves. A personality that
   * counts its own faults calls `faultPage`, which counts none, so each fault is counted once.
   * Returns the frame now backing the page for this access, or NO_FRAME when memory and swap
   * are exhausted.
   */
  fault(obj: VmObject, pindex: number, write: boolean): number {
    const r = this.faultPage(obj, pindex, write);
    if (r.frame === NO_FRAME) return NO_FRAME;
    if (r.how === 'zeroFill') this.metrics.faults.zeroFill++;
    else if (r.how === 'cow' || r.how === 'move') this.metrics.faults.cow++;
    return r.frame;
  }

  /**
   * vm_fault's walk without any accounting in `metrics.faults`: find the page down the chain,
   * bringing it in from swap or the file if needed; on a write, copy it up into `obj` (or move
   * it, when the backing object is `obj`'s own and referenced by nothing else) unless it is
   * already there; with nothing found, zero-fill a page in `obj`. Says in `this.outcome` what it
   * did and where the page is, so the caller maps it writable (first object) or read-only
   * (a backing object). `absentInFirst` says the caller has just looked `pindex` up in `obj`
   * and found no page (vm_fault_soft_fast's lookup): the walk does not look again.
   */
  faultPage(obj: VmObject, pindex: number, write: boolean, absentInFirst = false): FaultOutcome {
    this.assertLive(obj);
    if (pindex < 0 || pindex >= obj.size) throw new RangeError(`page ${pindex} outside object ${obj.id} (${obj.size} pages)`);
    const out = this.outcome;
    out.source = NO_FRAME;
    out.pagedIn = false;
    let p = pindex;
    let depth = 0;
    let found: VmObject | null = null;
    let frame = NO_FRAME;
    for (let o: VmObject | null = obj; o !== null; o = o.backing) {
      depth++;
      const f = absentInFirst && o === obj ? undefined : o.pages.get(p);
      if (f !== undefined) {
        found = o;
        frame = f;
        break;
      }
      // An anonymous object with nothing swapped out has nothing for the swap pager (its haspage
      // is false): on to the backing object without asking.
      if (o.type === 'anonymous' && o.swapped.size === 0 && this.pagers.anonymous === swapPager) {
        p += o.backingOffset;
        continue;
      }
      // A swapped anonymous page anywhere in the chain; for the chain's bottom object, its pager
      // (file bytes, device frames) — vm_fault's walk down the shadow chain.
      const pager = this.pagerOf(o);
      if ((o.type === 'anonymous' || o.backing === null) && pager.haspage(o, p)) {
        frame = pager.getpage(this.pagerContext, o, p);
        if (frame === NO_FRAME) return this.answer('found', NO_FRAME, null, depth);
        if (pager.allocates) {
          this.insertPage(o, p, frame);
          out.pagedIn = true;
        } else if (!write || o === obj) {
          return this.answer('found', frame, o, depth); // a device frame, mapped as is
        }
        found = o;
        break;
      }
      p += o.backingOffset;
    }
    const hist = this.counters.chainLengths;
    hist[depth] = (hist[depth] ?? 0) + 1;
    if (found === null) {
      // Anonymous memory nobody has written: a zero-filled page in the first object.
      frame = this.allocPage(obj, pindex, true);
      if (frame === NO_FRAME) return this.answer('zeroFill', NO_FRAME, null, depth);
      this.insertPage(obj, pindex, frame);
      this.counters.zeroFills++;
      this.queues.referenced[frame] = 1;
      return this.answer('zeroFill', frame, obj, depth);
    }
    this.queues.referenced[frame] = 1;
    if (found === obj) {
      if (write) this.frames.markDirty(frame);
      return this.answer(out.pagedIn ? 'pagein' : 'found', frame, obj, depth);
    }
    if (!write) return this.answer(out.pagedIn ? 'pagein' : 'backing', frame, found, depth);
    if (found === obj.backing && found.refCount === 1 && found.shadowCount === 1 && found.type === 'anonymous' && found.pages.get(p) === frame) {
      // vm_fault_cow: only one shadow object and no other references — rename the page into the
      // first object instead of copying it.
      found.pages.delete(p);
      this.insertPage(obj, pindex, frame);
      this.pageAllocator?.rename?.(frame, obj, found, obj.backingOffset);
      this.frames.markDirty(frame);
      this.counters.cowMoves++;
      return this.answer('move', frame, obj, depth);
    }
    // Copy-on-write: the page lives in a backing object; give `obj` its own copy.
    const copy = this.allocPage(obj, pindex, false);
    if (copy === NO_FRAME) return this.answer('cow', NO_FRAME, null, depth);
    this.frames.copyFrame(frame, copy);
    this.frames.markDirty(copy);
    this.insertPage(obj, pindex, copy);
    this.counters.copyUps++;
    this.queues.referenced[copy] = 1;
    out.source = frame;
    return this.answer('cow', copy, obj, depth);
  }

  private answer(how: FaultHow, frame: number, object: VmObject | null, depth: number): FaultOutcome {
    const out = this.outcome;
    out.how = how;
    out.frame = frame;
    out.object = object;
    out.depth = depth;
    return out;
  }

  /**
   * vm_object_page_remove: free the resident pages and swap slots of `obj` in [start, end) (page
   * indexes). The caller has unmapped them from every page table first.
   */
  removePages(obj: VmObject, start: number, end: number): number {
    this.assertLive(obj);
    let n = 0;
    const pages = obj.pages;
    for (let i = 0; i < pages.slotCount; i++) {
      const p = pages.keyAt(i);
      if (p < start || p >= end) continue; // a free slot's key is negative
      const frame = pages.valueAt(i);
      pages.delete(p);
      this.releaseFrame(obj, p, frame);
      n++;
    }
    pages.trim();
    const swapped = obj.swapped;
    for (let i = 0; i < swapped.slotCount; i++) {
      const p = swapped.keyAt(i);
      if (p < start || p >= end) continue;
      this.swap.free(swapped.valueAt(i));
      swapped.delete(p);
    }
    swapped.trim();
    return n;
  }

  /**
   * vm_object_split: a new anonymous object for pages [start, start + size) of `orig` — their
   * pages and swap slots move into it (the frames stay, so mappings stay valid), and it shadows
   * `orig`'s backing object at the matching offset. The caller's entry takes the new object and
   * drops its reference to `orig`.
   */
  split(orig: VmObject, start: number, size: number): VmObject {
    this.assertLive(orig);
    const n = this.createObject('anonymous', size);
    n.flags = orig.flags;
    const src = orig.backing;
    if (src !== null) {
      this.reference(src);
      src.shadowCount++;
      this.trackShadow(n, src);
      n.backing = src;
      n.backingOffset = orig.backingOffset + start;
    }
    const pages = orig.pages;
    for (let i = 0; i < pages.slotCount; i++) {
      const p = pages.keyAt(i);
      if (p < start || p >= start + size) continue; // a free slot's key is negative
      const frame = pages.valueAt(i);
      pages.delete(p);
      n.pages.set(p - start, frame);
      this.frameObject[frame] = n;
      this.framePindex[frame] = p - start;
      this.pageAllocator?.rename?.(frame, n, orig, start);
    }
    pages.trim();
    const swapped = orig.swapped;
    for (let i = 0; i < swapped.slotCount; i++) {
      const p = swapped.keyAt(i);
      if (p < start || p >= start + size) continue;
      n.swapped.set(p - start, swapped.valueAt(i));
      swapped.delete(p);
    }
    swapped.trim();
    return n;
  }

  /** The object whose page frame `frame` holds, or null (a page-table page, a free frame, a device frame). */
  ownerOf(frame: number): VmObject | null {
    return this.frameObject[frame] ?? null;
  }

  /** The page index of `frame` in the object `ownerOf` names. */
  pindexOf(frame: number): number {
    return this.framePindex[frame] ?? -1;
  }

  private insertPage(obj: VmObject, pindex: number, frame: number): void {
    obj.pages.set(pindex, frame);
    this.frameObject[frame] = obj;
    this.framePindex[frame] = pindex;
    this.queues.enqueue(frame, Q_ACTIVE);
  }

  private releaseFrame(_obj: VmObject, _pindex: number, frame: number): void {
    this.queues.dequeue(frame);
    this.frameObject[frame] = null;
    if (this.pageAllocator?.free(frame) !== true) this.frames.free(frame, 0);
  }

  /** vm_page_alloc(obj, pindex): the personality's placement first, else any frame. */
  private allocPage(obj: VmObject, pindex: number, zero: boolean): number {
    const a = this.pageAllocator;
    if (a !== null) {
      const f = a.alloc(obj, pindex, zero);
      if (f !== NO_FRAME) return f;
    }
    return this.allocFrame(zero);
  }

  /** A frame, reclaiming memory if none is free (the personality's reserve first, then pageout). */
  private allocFrame(zero: boolean): number {
    let f = this.frames.alloc(0, zero);
    while (f === NO_FRAME && this.pageAllocator?.reclaim() === true) f = this.frames.alloc(0, zero);
    if (f === NO_FRAME) {
      this.pageout(32);
      f = this.frames.alloc(0, zero);
    }
    return f;
  }

  /** Read bytes of a page as the process would see them (faulting it in). Content mode only. */
  read(obj: VmObject, pindex: number, offset: number, length: number): Uint8Array | null {
    const f = this.fault(obj, pindex, false);
    return f === NO_FRAME ? null : this.frames.read(f * FRAME_SIZE + offset, length);
  }

  /** Write bytes into a page (faulting and copying as needed). Returns false when out of memory. */
  write(obj: VmObject, pindex: number, offset: number, bytes: Uint8Array): boolean {
    const f = this.fault(obj, pindex, true);
    if (f === NO_FRAME) return false;
    this.frames.write(f * FRAME_SIZE + offset, bytes);
    return true;
  }

  /** Record a reference to a resident page (the personality harvests PTE accessed bits into this). */
  markReferenced(frame: number): void {
    this.queues.referenced[frame] = 1;
  }

  // ---- reclaim -------------------------------------------------------------------------------

  /**
   * Free up to `target` frames (the page daemon): refill the inactive queue from the oldest
   * active pages (second chance: a referenced page goes round again), then evict unreferenced
   * inactive pages — dirty file pages are written back, anonymous pages that are not known-zero go
   * to swap. Returns the number of frames freed.
   */
  pageout(target: number): number {
    const q = this.queues;
    let freed = 0;
    const budget = 2 * (q.length[Q_ACTIVE]! + q.length[Q_INACTIVE]!) + 2;
    for (let scanned = 0; freed < target && scanned < budget; scanned++) {
      this.counters.pageoutScans++;
      const inactive = q.length[Q_INACTIVE]!;
      if (inactive === 0 || inactive < q.length[Q_ACTIVE]! / 2) {
        const a = q.oldest(Q_ACTIVE);
        if (a >= 0) {
          if (q.referenced[a] === 1) {
            q.referenced[a] = 0;
            q.enqueue(a, Q_ACTIVE);
          } else {
            q.enqueue(a, Q_INACTIVE);
          }
          continue;
        }
      }
      const f = q.oldest(Q_INACTIVE);
      if (f < 0) break;
      if (q.referenced[f] === 1) {
        q.referenced[f] = 0;
        q.enqueue(f, Q_ACTIVE);
        continue;
      }
      if (this.evict(f)) freed++;
      else q.enqueue(f, Q_ACTIVE); // could not evict (swap full): keep it
    }
    this.counters.reclaimed += freed;
    return freed;
  }

  private evict(frame: number): boolean {
    const obj = this.frameObject[frame];
    if (obj === null || obj === undefined) return false;
    const pindex = this.framePindex[frame]!;
    const dirty = (this.frames.flags[frame]! & FRAME_DIRTY) !== 0;
    const zero = (this.frames.flags[frame]! & FRAME_ZEROED) !== 0;
    if (!this.pagerOf(obj).putpage(this.pagerContext, obj, pindex, frame, dirty, zero)) return false;
    this.onEvict?.(obj, pindex, frame);
    obj.pages.delete(pindex);
    this.releaseFrame(obj, pindex, frame);
    return true;
  }

  private pagerOf(obj: VmObject): Pager {
    return this.pagers[obj.type];
  }


  private assertLive(obj: VmObject): void {
    if (obj.dead) throw new Error(`VM object ${obj.id} used after it was freed`);
  }
}
