/**
 * sys/vm/vm_reserv.c: superpage reservations (Navarro, Iyer, Druschel and Cox, OSDI 2002, as
 * FreeBSD implements them). The first page an object allocates at a fault in a 2 MiB-aligned
 * range of its pages (the range chosen by the object's colour, so that the range's virtual
 * addresses are 2 MiB-aligned as well) takes a whole aligned 512-frame block from the buddy
 * allocator — the reservation — and later pages of that range come from the same block at the
 * matching index (vm_reserv_alloc_page, vm_reserv_populate). When all 512 are populated the
 * reservation is full and pmap may promote its mapping to one 2 MiB page. Freeing a page gives it
 * back to its reservation (vm_reserv_free_page → vm_reserv_depopulate); the last one frees the
 * block. Partially populated reservations wait on an LRU queue (partpop) and, when memory runs
 * short, the least recently changed is broken: its unpopulated frames go back to the allocator
 * (vm_reserv_reclaim_inactive → vm_reserv_break), before the page daemon runs.
 *
 * State lives in typed arrays indexed by reservation (frame / 512) and by frame (the popmap):
 * nothing is allocated per page. A reservation's object is remembered per object by the
 * reservation's first page index (one Map entry per 2 MiB, FreeBSD's object->rvq).
 *
 * Pages that vm_object_collapse, vm_object_split or vm_fault_cow's move give to another object
 * take their reservation along (vm_reserv_rename): the reservation's object becomes the new one and
 * its first page index shifts by the new object's offset in the old, so the new object goes on
 * populating it and can still reach a 2 MiB promotion. As in vm_object_split, a reservation whose
 * pages end up in both objects goes wholly to the new one. An object that is freed breaks the
 * reservations it still owns (vm_object_terminate → vm_reserv_break_all): their free frames go
 * back to the allocator and their pages, whoever holds them, stay as ordinary pages.
 *
 * Simplifications (documented in README.md): objects are coloured at their first fault
 * allocation (vm_fault_allocate's vm_object_color), or when a renamed reservation gives an
 * uncoloured object the colour that keeps it aligned (vm_object_shadow's rule, source colour +
 * offset). PARTPOPSLOP (queue updates at most once a tick) is not modelled: every population
 * change moves the reservation to the queue's tail. FreeBSD finds an object's reservation through
 * the neighbouring resident pages; here through a map by first page index, and when a rename brings
 * a second reservation for a range the object already has one for, the first stays the one its
 * faults use.
 */
import { FRAME_SIZE, NO_FRAME, type FrameTable } from '@polykernel/mmu';
import type { PageAllocator, VmObject } from '@polykernel/vm';
import { FREEBSD_COSTS } from '../costs.js';
import { OBJ_ANON } from './vm_object.js';

/** VM_LEVEL_0_ORDER on amd64: a reservation is 2^9 pages = 2 MiB. */
export const VM_LEVEL_0_ORDER = 9;
export const VM_LEVEL_0_NPAGES = 512;
/** A (object, first pindex) known to have a conflicting resident page: no reservation there. */
const NO_RESERV = -1;
const NONE = -1;

/** The vm.reserv sysctls (sys/vm/vm_reserv.c SYSCTL_COUNTER_U64 and the ones computed). */
export interface ReservCounters {
  /** Reservations created (not a FreeBSD sysctl; the count of vm_reserv_insert). */
  inserted: number;
  /** vm.reserv.broken: reservations broken (reclaimed, or at object termination). */
  broken: number;
  /** vm.reserv.freed: fully depopulated reservations freed whole. */
  freed: number;
  /** vm.reserv.reclaimed: partially populated reservations broken under memory pressure. */
  reclaimed: number;
  /** Reservations handed to another object with its pages (vm_reserv_rename; not a FreeBSD sysctl). */
  renamed: number;
}

export class Reservations implements PageAllocator {
  /** Number of reservation slots (frames / 512, rounded down: a partial block has none). */
  readonly count: number;
  readonly counters: ReservCounters = { inserted: 0, broken: 0, freed: 0, reclaimed: 0, renamed: 0 };
  /** rv->popcnt. */
  readonly popcnt: Int16Array;
  /** rv->popmap, one byte per frame (1: populated). */
  private readonly popmap: Uint8Array;
  /** rv->object (null: the slot is free). One slot per 2 MiB of physical memory. */
  private readonly object: (VmObject | null)[];
  /** rv->pindex: the object's page index at the reservation's first frame. */
  private readonly pindex: Float64Array;
  /** The partpop queue, a doubly linked list over reservation indexes (LRU head first). */
  private readonly qNext: Int32Array;
  private readonly qPrev: Int32Array;
  private readonly inQueue: Uint8Array;
  private qHead = NONE;
  private qTail = NONE;
  private qLength = 0;
  /** object->rvq: first pindex → reservation (or NO_RESERV). */
  private readonly byObject = new WeakMap<VmObject, Map<number, number>>();
  /** object->pg_color with OBJ_COLORED: present once coloured. */
  private readonly colors = new WeakMap<VmObject, number>();
  /**
   * The reservation the last allocation used, with its object and colour (a host-side shortcut:
   * consecutive faults of one range skip the two map lookups; no simulated cost depends on it).
   */
  private lastObject: VmObject | null = null;
  private lastColor = 0;
  private lastFirst = -1;
  private lastRv = NONE;

  constructor(private readonly frames: FrameTable) {
    this.count = Math.floor(frames.frameCount / VM_LEVEL_0_NPAGES);
    this.popcnt = new Int16Array(this.count);
    this.popmap = new Uint8Array(this.count * VM_LEVEL_0_NPAGES);
    this.object = new Array<VmObject | null>(this.count).fill(null);
    this.pindex = new Float64Array(this.count);
    this.qNext = new Int32Array(this.count).fill(NONE);
    this.qPrev = new Int32Array(this.count).fill(NONE);
    this.inQueue = new Uint8Array(this.count);
  }

  /**
   * vm_object_color(object, atop(vaddr) - pindex): once per object, the alignment of its pages
   * to superpage boundaries, so that a reservation's pages are 2 MiB-aligned in the address space.
   */
  colorObject(obj: VmObject, color: number): void {
    if (obj !== this.lastObject && !this.colors.has(obj)) this.colors.set(obj, mod(color, VM_LEVEL_0_NPAGES));
  }

  /** vm_page_alloc → vm_reserv_alloc_page. NO_FRAME: allocate the page outside any reservation. */
  alloc(obj: VmObject, pindex: number, zero: boolean): number {
    const color = obj === this.lastObject ? this.lastColor : this.colors.get(obj);
    if (color === undefined) return NO_FRAME; // !vm_object_reserv(object)
    // VM_RESERV_INDEX(object, pindex): the page's place in its reservation.
    const index = mod(color + pindex, VM_LEVEL_0_NPAGES);
    // Is a reservation fundamentally impossible?
    if (pindex < index || pindex >= obj.size) return NO_FRAME;
    const first = pindex - index;
    const last = this.lastRv;
    if (obj === this.lastObject && first === this.lastFirst && last !== NONE && this.object[last] === obj) {
      if (this.popmap[last * VM_LEVEL_0_NPAGES + index] === 1) return NO_FRAME;
      return this.populate(last, index, zero);
    }
    let rvq = this.byObject.get(obj);
    const known = rvq?.get(first);
    if (known !== undefined) {
      if (known === NO_RESERV) return NO_FRAME;
      // Handle vm_page_iter_rename: the page's slot is taken (its page moved away and back).
      if (this.object[known] !== obj || this.popmap[known * VM_LEVEL_0_NPAGES + index] === 1) return NO_FRAME;
      this.remember(obj, color, first, known);
      return this.populate(known, index, zero);
    }
    rvq ??= this.newRvq(obj);
    // leftcap/rightcap: a resident page of the object inside the range that belongs to no
    // reservation of it means the range cannot be reserved.
    if (obj.pages.size > 0 && hasPageIn(obj, first, first + VM_LEVEL_0_NPAGES)) {
      rvq.set(first, NO_RESERV);
      return NO_FRAME;
    }
    // Would the reservation extend past the end of the object? Only anonymous objects, which
    // may grow, speculate.
    if ((obj.flags & OBJ_ANON) === 0 && first + VM_LEVEL_0_NPAGES > obj.size) return NO_FRAME;
    // The block's frames are held unused until populated: free pages in FreeBSD's accounting,
    // so not resident (held is raised before the allocation notes the peak).
    this.frames.held += VM_LEVEL_0_NPAGES;
    const base = this.frames.alloc(VM_LEVEL_0_ORDER, false);
    if (base === NO_FRAME) {
      this.frames.held -= VM_LEVEL_0_NPAGES;
      return NO_FRAME;
    }
    const rv = base / VM_LEVEL_0_NPAGES;
    if (rv >= this.count) {
      // The block is past the last whole reservation slot (cannot happen with the buddy
      // allocator's aligned blocks, but a smaller frame table could end mid-block).
      this.frames.held -= VM_LEVEL_0_NPAGES;
      this.frames.free(base, VM_LEVEL_0_ORDER);
      return NO_FRAME;
    }
    this.object[rv] = obj;
    this.pindex[rv] = first;
    rvq.set(first, rv);
    this.remember(obj, color, first, rv);
    this.counters.inserted++;
    const m = this.frames.metrics;
    if (m !== undefined) m.cycles += FREEBSD_COSTS.reservInsert;
    return this.populate(rv, index, zero);
  }

  /** vm_page_free → vm_reserv_free_page: true when the frame went back to its reservation. */
  free(frame: number): boolean {
    const rv = Math.floor(frame / VM_LEVEL_0_NPAGES);
    if (rv >= this.count || this.object[rv] === null) return false;
    this.depopulate(rv, frame - rv * VM_LEVEL_0_NPAGES);
    return true;
  }

  /** vm_reserv_reclaim_inactive: break the least recently changed partially populated reservation. */
  reclaim(): boolean {
    const rv = this.qHead;
    if (rv === NONE) return false;
    this.dequeue(rv);
    this.breakReserv(rv);
    this.counters.reclaimed++;
    return true;
  }

  /**
   * vm_reserv_break_all: every reservation of `obj` is broken (the object is going away). Every
   * slot is looked at (a renamed reservation may be missing from the object's map), but only for
   * an object that ever held one.
   */
  breakAll(obj: VmObject): number {
    if (!this.byObject.has(obj)) return 0;
    let n = 0;
    for (let rv = 0; rv < this.count; rv++) {
      if (this.object[rv] !== obj) continue;
      if (this.inQueue[rv] === 1) this.dequeue(rv);
      this.breakReserv(rv);
      n++;
    }
    this.byObject.delete(obj);
    return n;
  }

  /** vm_object_terminate → vm_reserv_break_all (PageAllocator.terminate). */
  terminate(obj: VmObject): void {
    this.breakAll(obj);
  }

  /**
   * vm_reserv_rename(m, new_object, old_object, old_object_offset): the reservation holding
   * `frame`, if `from` owns it, now belongs to `to`, and its first page index is shifted into
   * `to`'s indexes (`to`'s page 0 is `from`'s page `offset`). Called for each page moved; the
   * reservation's first moved page renames it, the others find it renamed already.
   */
  rename(frame: number, to: VmObject, from: VmObject, offset: number): void {
    const rv = Math.floor(frame / VM_LEVEL_0_NPAGES);
    if (rv >= this.count || this.object[rv] !== from) return;
    const old = this.pindex[rv]!;
    const fromRvq = this.byObject.get(from);
    if (fromRvq?.get(old) === rv) fromRvq.delete(old);
    const first = old - offset;
    this.object[rv] = to;
    this.pindex[rv] = first;
    this.counters.renamed++;
    if (this.lastRv === rv) this.lastRv = NONE;
    const color = this.colors.get(from);
    if (color !== undefined && !this.colors.has(to)) this.colors.set(to, mod(color + offset, VM_LEVEL_0_NPAGES));
    const rvq = this.byObject.get(to) ?? this.newRvq(to);
    const known = rvq.get(first);
    if (known === undefined || known === NO_RESERV || this.object[known] !== to) rvq.set(first, rv);
  }

  /** vm_reserv_level_iffullpop: 0 when `frame` is in a fully populated reservation, else -1. */
  levelIfFullpop(frame: number): number {
    const rv = Math.floor(frame / VM_LEVEL_0_NPAGES);
    return rv < this.count && this.popcnt[rv] === VM_LEVEL_0_NPAGES ? 0 : -1;
  }

  /** m->psind of a page: 1 for the first page of a fully populated reservation, else 0. */
  psind(frame: number): number {
    return frame % VM_LEVEL_0_NPAGES === 0 && this.levelIfFullpop(frame) === 0 ? 1 : 0;
  }

  /** The reservation holding `frame` (frame / 512) if one is active there, else -1. */
  reservationOf(frame: number): number {
    const rv = Math.floor(frame / VM_LEVEL_0_NPAGES);
    return rv < this.count && this.object[rv] !== null ? rv : -1;
  }

  /** The object a reservation belongs to (null: the slot is free). */
  objectOf(rv: number): VmObject | null {
    return this.object[rv] ?? null;
  }

  /** Whether a frame of an active reservation is populated (rv->popmap). */
  isPopulated(frame: number): boolean {
    return this.popmap[frame] === 1;
  }

  /** Active reservations (rv->object != NULL). */
  active(): number {
    let n = 0;
    for (let rv = 0; rv < this.count; rv++) if (this.object[rv] !== null) n++;
    return n;
  }

  /** vm.reserv.partpopq: reservations on the queue and their unpopulated frames. */
  partpop(): { reservations: number; unusedPages: number } {
    let unused = 0;
    for (let rv = this.qHead; rv !== NONE; rv = this.qNext[rv]!) unused += VM_LEVEL_0_NPAGES - this.popcnt[rv]!;
    return { reservations: this.qLength, unusedPages: unused };
  }

  /** Frames held by reservations and not populated (free to the reservation, not to the allocator). */
  unpopulatedFrames(): number {
    let n = 0;
    for (let rv = 0; rv < this.count; rv++) if (this.object[rv] !== null) n += VM_LEVEL_0_NPAGES - this.popcnt[rv]!;
    return n;
  }

  private remember(obj: VmObject, color: number, first: number, rv: number): void {
    this.lastObject = obj;
    this.lastColor = color;
    this.lastFirst = first;
    this.lastRv = rv;
  }

  private newRvq(obj: VmObject): Map<number, number> {
    const m = new Map<number, number>();
    this.byObject.set(obj, m);
    return m;
  }

  /** vm_reserv_populate, and the page handed out (zeroed when asked: pmap_zero_page at the fault). */
  private populate(rv: number, index: number, zero: boolean): number {
    const frame = rv * VM_LEVEL_0_NPAGES + index;
    this.popmap[frame] = 1;
    this.frames.held--;
    this.frames.noteInUse();
    const n = ++this.popcnt[rv]!;
    // To the queue's tail (already there: nothing to move, the common case of a sequential fill).
    if (n < VM_LEVEL_0_NPAGES) {
      if (rv !== this.qTail) {
        if (this.inQueue[rv] === 1) this.dequeue(rv);
        this.enqueueTail(rv);
      }
    } else if (this.inQueue[rv] === 1) {
      this.dequeue(rv);
    }
    if (zero) this.frames.zeroFrames(frame, 1);
    return frame;
  }

  /** vm_reserv_depopulate: the page is free in its reservation; the last one frees the block. */
  private depopulate(rv: number, index: number): void {
    const base = rv * VM_LEVEL_0_NPAGES;
    this.popmap[base + index] = 0;
    // The frame stays allocated in the frame table, held by the reservation; its contents are
    // no longer known to be zero (a later populate zeroes it).
    this.frames.refcount[base + index] = 1;
    this.frames.markDirty(base + index);
    this.frames.held++;
    const n = --this.popcnt[rv]!;
    if (this.inQueue[rv] === 1) this.dequeue(rv);
    if (n > 0) {
      this.enqueueTail(rv);
      return;
    }
    this.remove(rv);
    this.frames.held -= VM_LEVEL_0_NPAGES;
    this.frames.free(base, VM_LEVEL_0_ORDER);
    this.counters.freed++;
  }

  /** vm_reserv_break: the unpopulated frames go back to the allocator; populated pages stay with their objects. */
  private breakReserv(rv: number): void {
    const base = rv * VM_LEVEL_0_NPAGES;
    const pm = this.popmap;
    for (let f = base; f < base + VM_LEVEL_0_NPAGES; f++) {
      if (pm[f] === 0) {
        this.frames.held--;
        this.frames.free(f, 0);
      } else pm[f] = 0;
    }
    this.popcnt[rv] = 0;
    this.remove(rv);
    this.counters.broken++;
  }

  /** vm_reserv_remove: off the object's list; the slot is free. */
  private remove(rv: number): void {
    const obj = this.object[rv];
    if (obj !== null && obj !== undefined) {
      const rvq = this.byObject.get(obj);
      if (rvq?.get(this.pindex[rv]!) === rv) rvq.delete(this.pindex[rv]!);
    }
    this.object[rv] = null;
    if (this.lastRv === rv) this.lastRv = NONE;
  }

  private enqueueTail(rv: number): void {
    this.qPrev[rv] = this.qTail;
    this.qNext[rv] = NONE;
    if (this.qTail !== NONE) this.qNext[this.qTail] = rv;
    else this.qHead = rv;
    this.qTail = rv;
    this.inQueue[rv] = 1;
    this.qLength++;
  }

  private dequeue(rv: number): void {
    const p = this.qPrev[rv]!;
    const n = this.qNext[rv]!;
    if (p !== NONE) this.qNext[p] = n;
    else this.qHead = n;
    if (n !== NONE) this.qPrev[n] = p;
    else this.qTail = p;
    this.qPrev[rv] = NONE;
    this.qNext[rv] = NONE;
    this.inQueue[rv] = 0;
    this.qLength--;
  }
}

/**
 * Non-negative remainder (colours and indexes are taken modulo the reservation size), by
 * division: exact for safe integers, and no floating-point modulo (a C call in V8) on the fault path.
 */
function mod(a: number, n: number): number {
  return a - Math.floor(a / n) * n;
}

/** Any resident page of `obj` with index in [from, to). */
function hasPageIn(obj: VmObject, from: number, to: number): boolean {
  const pages = obj.pages;
  if (pages.size < to - from) {
    for (let i = 0; i < pages.slotCount; i++) {
      const p = pages.keyAt(i);
      if (p >= from && p < to) return true;
    }
    return false;
  }
  for (let p = from; p < to; p++) if (pages.has(p)) return true;
  return false;
}

/** Bytes of a reservation (vm_reserv_size(0)). */
export const RESERVATION_BYTES = VM_LEVEL_0_NPAGES * FRAME_SIZE;
