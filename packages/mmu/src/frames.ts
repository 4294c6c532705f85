/**
 * Physical memory: a frame table in typed arrays and a binary buddy allocator.
 *
 * Frame numbers are below 2^31 (8 TiB of 4 KiB frames), so they fit Int32Array slots and the buddy
 * arithmetic (`frame ^ (1 << order)`) is exact; physical *addresses* are still plain numbers and
 * never go through bitwise operators.
 *
 * Host memory per frame: refcount (2) + flags (1) + free-order (1) + owner (4) + two free-list
 * links (8) = 16 bytes, whatever the contents mode.
 *
 * The buddy allocator follows the classic design (Knuth; Linux mm/page_alloc.c __free_one_page):
 * one free list per order, a block of order k is 2^k frames aligned to 2^k frames, freeing merges
 * with the buddy while the buddy is free and of the same order. A 2 MiB superpage therefore needs
 * 512 contiguous, aligned free frames, and fragmentation is real.
 */
import type { Metrics } from '@polykernel/core';

/** Returned instead of a frame number when no block of the requested order is free. */
export const NO_FRAME = -1;

/** Per-frame flag bits (small flag values; bitwise use is fine). */
export const FRAME_ZEROED = 1; // contents known to be all zero (pre-zeroed or freshly zeroed)
export const FRAME_DIRTY = 2;
export const FRAME_WIRED = 4;
export const FRAME_PAGETABLE = 8;
export const FRAME_ALLOCATED = 16;

/** Owner tags let views attribute frames (page tables, anonymous memory, page cache...). */
export const OWNER_NONE = 0;
export const OWNER_PAGETABLE = 1;

/** How pages handed out with `zero: true` get their zeroes. */
export type ZeroingPolicy =
  /** Zero synchronously at allocation (the fault path pays). */
  | 'on-demand'
  /** Prefer frames zeroed earlier by `zeroIdle()` (FreeBSD's old idle-time zeroing); zero the rest. */
  | 'prezeroed-pool';

export interface FrameTableOptions {
  /** Number of 4 KiB frames (at most 2^31 - 1). */
  frames: number;
  /** Largest block order the allocator keeps (18 = 1 GiB with 4 KiB frames). */
  maxOrder?: number;
  zeroing?: ZeroingPolicy;
  /** Keep page contents (sparse, 4 KiB per touched frame) so tests can prove isolation. */
  contents?: boolean;
  /** Cycle costs charged to `metrics` (zeroing and copying a 4 KiB frame). */
  costs?: { zeroPage: number; copyPage: number };
  metrics?: Metrics;
}

export const FRAME_SIZE = 4096;

export class FrameTable {
  readonly frameCount: number;
  readonly maxOrder: number;
  readonly zeroing: ZeroingPolicy;
  readonly contentsEnabled: boolean;
  /** Reference counts (mappings, page-cache holds). */
  readonly refcount: Uint16Array;
  readonly flags: Uint8Array;
  readonly owner: Uint32Array;
  /** order + 1 at the first frame of each free block, else 0. */
  private readonly freeOrder: Uint8Array;
  private readonly nextFree: Int32Array;
  private readonly prevFree: Int32Array;
  private readonly heads: Int32Array;
  private readonly freeBlocks: Float64Array;
  private freeFrameCount = 0;
  private readonly contents = new Map<number, Uint8Array>();
  private readonly zeroCost: number;
  private readonly copyCost: number;
  /** Cycles spent zeroing in the background (not on any fault path). */
  backgroundZeroCycles = 0;
  /**
   * Frames a caller took from the allocator and holds unused (a FreeBSD superpage reservation's
   * unpopulated frames: vm_reserv.c keeps them out of the free lists, but no page lives in them).
   * Not in use, so not resident: the peak-resident gauge leaves them out. The holder keeps it.
   */
  held = 0;

  readonly metrics: Metrics | undefined;

  constructor(opts: FrameTableOptions) {
    const { frames } = opts;
    if (!Number.isInteger(frames) || frames < 1 || frames > 0x7fffffff) {
      throw new RangeError(`frames must be an integer in [1, 2^31 - 1], got ${frames}`);
    }
    this.frameCount = frames;
    this.maxOrder = opts.maxOrder ?? 18;
    if (this.maxOrder < 0 || this.maxOrder > 30) throw new RangeError('maxOrder must be in [0, 30]');
    this.zeroing = opts.zeroing ?? 'on-demand';
    this.contentsEnabled = opts.contents ?? false;
    this.zeroCost = opts.costs?.zeroPage ?? 0;
    this.copyCost = opts.costs?.copyPage ?? 0;
    this.metrics = opts.metrics;
    this.refcount = new Uint16Array(frames);
    this.flags = new Uint8Array(frames);
    this.owner = new Uint32Array(frames);
    this.freeOrder = new Uint8Array(frames);
    this.nextFree = new Int32Array(frames);
    this.prevFree = new Int32Array(frames);
    this.heads = new Int32Array(this.maxOrder + 1).fill(NO_FRAME);
    this.freeBlocks = new Float64Array(this.maxOrder + 1);
    this.seedFreeLists();
  }

  /** Carve [0, frameCount) into the largest aligned blocks, lowest addresses first. */
  private seedFreeLists(): void {
    let f = 0;
    while (f < this.frameCount) {
      let order = this.maxOrder;
      while (order > 0 && (f % (1 << order) !== 0 || f + (1 << order) > this.frameCount)) order--;
      this.pushFree(f, order);
      f += 1 << order;
    }
    // pushFree prepends: reverse each list so allocation starts at low frames.
    for (let o = 0; o <= this.maxOrder; o++) this.reverseList(o);
  }

  private reverseList(order: number): void {
    let f = this.heads[order]!;
    let prev = NO_FRAME;
    while (f !== NO_FRAME) {
      const next = this.nextFree[f]!;
      this.nextFree[f] = prev;
      this.prevFree[f] = next;
      prev = f;
      f = next;
    }
    this.heads[order] = prev;
  }

  private pushFree(f: number, order: number): void {
    const head = this.heads[order]!;
    this.nextFree[f] = head;
    this.prevFree[f] = NO_FRAME;
    if (head !== NO_FRAME) this.prevFree[head] = f;
    this.heads[order] = f;
    this.freeOrder[f] = order + 1;
    this.freeBlocks[order]!++;
    this.freeFrameCount += 1 << order;
  }

  private unlinkFree(f: number, order: number): void {
    const next = this.nextFree[f]!;
    const prev = this.prevFree[f]!;
    if (prev !== NO_FRAME) this.nextFree[prev] = next;
    else this.heads[order] = next;
    if (next !== NO_FRAME) this.prevFree[next] = prev;
    this.freeOrder[f] = 0;
    this.freeBlocks[order]!--;
    this.freeFrameCount -= 1 << order;
  }

  /** Frames currently free. */
  get freeFrames(): number {
    return this.freeFrameCount;
  }

  /** Number of free blocks of each order (index = order), like /proc/buddyinfo. */
  buddyInfo(): number[] {
    return Array.from(this.freeBlocks);
  }

  /** The largest order for which a free block exists, or -1 when memory is exhausted. */
  largestFreeOrder(): number {
    for (let o = this.maxOrder; o >= 0; o--) if (this.heads[o] !== NO_FRAME) return o;
    return -1;
  }

  /**
   * Allocate 2^order contiguous, aligned frames. Returns the first frame number, or NO_FRAME
   * when no block that large is free (never throws for lack of memory).
   * With `zero`, the block's frames are zeroed (charged) or taken pre-zeroed (counted apart).
   */
  alloc(order = 0, zero = false, owner: number = OWNER_NONE): number {
    if (order < 0 || order > this.maxOrder) return NO_FRAME;
    let o = order;
    while (o <= this.maxOrder && this.heads[o] === NO_FRAME) o++;
    if (o > this.maxOrder) return NO_FRAME;
    const f = this.heads[o]!;
    this.unlinkFree(f, o);
    // Split: keep the low half, free the high halves (Linux expand()).
    while (o > order) {
      o--;
      this.pushFree(f + (1 << o), o);
    }
    const n = 1 << order;
    for (let i = f; i < f + n; i++) {
      this.refcount[i] = 1;
      this.owner[i] = owner;
      this.flags[i] = (this.flags[i]! & FRAME_ZEROED) | FRAME_ALLOCATED;
    }
    if (zero) this.zeroBlock(f, n);
    // Peak resident memory of the machine (every personality's gauge): frames in use now.
    this.noteInUse();
    return f;
  }

  /** Raise the peak-resident gauge to the frames in use now (allocated, less those held unused). */
  noteInUse(): void {
    const m = this.metrics;
    if (m !== undefined) m.noteResident(this.frameCount - this.freeFrameCount - this.held);
  }

  /**
   * Zero `count` allocated frames from `first` now, charged as `alloc(…, true)` charges it (or
   * taken pre-zeroed under 'prezeroed-pool'). For a caller that took a block earlier and hands its
   * frames out one at a time (a superpage reservation populating a page at its fault).
   */
  zeroFrames(first: number, count = 1): void {
    if (first < 0 || count < 0 || first + count > this.frameCount) throw new RangeError(`zeroFrames(${first}, ${count}): outside the frame table`);
    for (let i = first; i < first + count; i++) {
      if ((this.flags[i]! & FRAME_ALLOCATED) === 0) throw new RangeError(`zeroFrames: frame ${i} is not allocated`);
    }
    this.zeroBlock(first, count);
  }

  private zeroBlock(f: number, n: number): void {
    const m = this.metrics;
    for (let i = f; i < f + n; i++) {
      if (this.zeroing === 'prezeroed-pool' && (this.flags[i]! & FRAME_ZEROED) !== 0) {
        if (m) m.pagesPrezeroed++;
        continue;
      }
      this.zeroFrameContents(i);
      this.flags[i]! |= FRAME_ZEROED;
      if (m) {
        m.pagesZeroed++;
        m.cycles += this.zeroCost;
      }
    }
  }

  /**
   * Return a block to the allocator, merging with free buddies (Linux __free_one_page).
   * The frames' contents become dirty unless `clean`.
   */
  free(f: number, order = 0, clean = false): void {
    const n = 1 << order;
    if (f < 0 || f + n > this.frameCount || f % n !== 0) throw new RangeError(`free(${f}, ${order}): not an aligned block`);
    for (let i = f; i < f + n; i++) {
      if ((this.flags[i]! & FRAME_ALLOCATED) === 0) throw new RangeError(`free: frame ${i} is not allocated (double free)`);
      this.flags[i] = clean ? this.flags[i]! & FRAME_ZEROED : 0;
      this.refcount[i] = 0;
      this.owner[i] = OWNER_NONE;
      if (!clean) this.contents.delete(i);
    }
    let block = f;
    let o = order;
    while (o < this.maxOrder) {
      const buddy = block ^ (1 << o);
      if (buddy + (1 << o) > this.frameCount || this.freeOrder[buddy] !== o + 1) break;
      this.unlinkFree(buddy, o);
      block = Math.min(block, buddy);
      o++;
    }
    this.pushFree(block, o);
  }

  /** True when frame `f` is inside a free block. */
  isFree(f: number): boolean {
    return (this.flags[f]! & FRAME_ALLOCATED) === 0;
  }

  /** Increment a frame's reference count; returns the new count. */
  ref(f: number): number {
    return ++this.refcount[f]!;
  }

  /** Decrement a frame's reference count; returns the new count (the caller frees at 0). */
  unref(f: number): number {
    return --this.refcount[f]!;
  }

  /**
   * Zero up to `budget` free frames in the background (the idle loop), so later `alloc(…, true)`
   * under the 'prezeroed-pool' policy takes them without paying on the fault path.
   * Returns the number zeroed; their cost goes to `backgroundZeroCycles`, not to metrics.cycles.
   */
  zeroIdle(budget: number): number {
    let done = 0;
    for (let o = 0; o <= this.maxOrder && done < budget; o++) {
      for (let f = this.heads[o]!; f !== NO_FRAME && done < budget; f = this.nextFree[f]!) {
        const end = f + (1 << o);
        for (let i = f; i < end && done < budget; i++) {
          if ((this.flags[i]! & FRAME_ZEROED) !== 0) continue;
          this.zeroFrameContents(i);
          this.flags[i]! |= FRAME_ZEROED;
          this.backgroundZeroCycles += this.zeroCost;
          done++;
        }
      }
    }
    return done;
  }

  /** Count of free frames already zeroed (the pre-zeroed pool). */
  prezeroedFree(): number {
    let n = 0;
    for (let o = 0; o <= this.maxOrder; o++) {
      for (let f = this.heads[o]!; f !== NO_FRAME; f = this.nextFree[f]!) {
        for (let i = f; i < f + (1 << o); i++) if ((this.flags[i]! & FRAME_ZEROED) !== 0) n++;
      }
    }
    return n;
  }

  /** Copy frame `src` to `dst` (a COW break), charging the copy. */
  copyFrame(src: number, dst: number): void {
    if (this.contentsEnabled) {
      const s = this.contents.get(src);
      if (s === undefined) this.contents.delete(dst);
      else this.contents.set(dst, s.slice());
    }
    this.flags[dst] = (this.flags[dst]! & ~FRAME_ZEROED) | (this.flags[src]! & FRAME_ZEROED);
    if (this.metrics) {
      this.metrics.pagesCopied++;
      this.metrics.cycles += this.copyCost;
    }
  }

  /** Mark a frame's contents as modified (it is no longer known to be zero). */
  markDirty(f: number): void {
    this.flags[f] = (this.flags[f]! & ~FRAME_ZEROED) | FRAME_DIRTY;
  }

  // ---- optional contents (tests, loaders) --------------------------------------------------

  private zeroFrameContents(f: number): void {
    if (this.contentsEnabled) this.contents.delete(f);
  }

  /** Read `length` bytes of physical memory at `pa` (zeros where nothing was written). */
  read(pa: number, length: number): Uint8Array {
    this.requireContents();
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const f = Math.floor((pa + done) / FRAME_SIZE);
      const off = (pa + done) % FRAME_SIZE;
      const n = Math.min(FRAME_SIZE - off, length - done);
      const page = this.contents.get(f);
      if (page !== undefined) out.set(page.subarray(off, off + n), done);
      done += n;
    }
    return out;
  }

  /** Write bytes into physical memory at `pa`. */
  write(pa: number, bytes: Uint8Array): void {
    this.requireContents();
    let done = 0;
    while (done < bytes.length) {
      const f = Math.floor((pa + done) / FRAME_SIZE);
      const off = (pa + done) % FRAME_SIZE;
      const n = Math.min(FRAME_SIZE - off, bytes.length - done);
      let page = this.contents.get(f);
      if (page === undefined) {
        page = new Uint8Array(FRAME_SIZE);
        this.contents.set(f, page);
      }
      page.set(bytes.subarray(done, done + n), off);
      this.markDirty(f);
      done += n;
    }
  }

  private requireContents(): void {
    if (!this.contentsEnabled) throw new RangeError('this machine runs content-less: create it with contents: true');
  }

  /** Host bytes used by the frame table's typed arrays (not counting optional contents). */
  hostBytes(): number {
    return this.refcount.byteLength + this.flags.byteLength + this.owner.byteLength + this.freeOrder.byteLength
      + this.nextFree.byteLength + this.prevFree.byteLength + this.heads.byteLength + this.freeBlocks.byteLength;
  }
}
