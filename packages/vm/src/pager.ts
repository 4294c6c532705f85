/**
 * Pagers: where an object's pages come from and go to (FreeBSD sys/vm/vm_pager.h: pgo_haspage,
 * pgo_getpages, pgo_putpages). Anonymous memory has the swap pager (a page never written is
 * zero-filled by the fault path instead), a vnode object the vnode pager (the file's bytes, with an
 * I/O cost), device and physical objects the device pager (fixed frames, never paged out).
 */
import type { Metrics } from '@polykernel/core';
import { FRAME_DIRTY, FRAME_SIZE, NO_FRAME, type FrameTable } from '@polykernel/mmu';
import type { VmObject } from './object.js';
import type { SwapDevice } from './swap.js';

export interface PagerCosts {
  /** Reading one page from a file (page-cache miss). */
  fileReadPage: number;
  /** Writing one dirty file page back. */
  fileWritePage: number;
  swapOutPage: number;
  swapInPage: number;
}

/** What a pager may use: memory, the swap device, counters and the cost clock. */
export interface PagerContext {
  readonly frames: FrameTable;
  readonly swap: SwapDevice;
  readonly metrics: Metrics;
  readonly costs: PagerCosts;
  /** A frame, reclaiming memory first if none is free (NO_FRAME when that fails). */
  allocFrame(zero: boolean): number;
  count(counter: 'fileReads' | 'fileWrites' | 'swapIns' | 'swapOuts'): void;
}

export interface Pager {
  /** Pages this pager hands out are frames it allocates and the object owns (false: fixed device frames). */
  readonly allocates: boolean;
  /** Can the pager supply page `pindex` of `obj`? */
  haspage(obj: VmObject, pindex: number): boolean;
  /** Bring the page in; returns its frame, or NO_FRAME when memory is exhausted. */
  getpage(ctx: PagerContext, obj: VmObject, pindex: number): number;
  /** Save the page before its frame is reused; false when it cannot (swap full: keep the page). */
  putpage(ctx: PagerContext, obj: VmObject, pindex: number, frame: number, dirty: boolean, zero: boolean): boolean;
}

/** Anonymous memory: swap slots (sys/vm/swap_pager.c). */
export const swapPager: Pager = {
  allocates: true,
  haspage: (obj, pindex) => obj.swapped.has(pindex),
  getpage(ctx, obj, pindex) {
    const slot = obj.swapped.get(pindex)!;
    const frame = ctx.allocFrame(false);
    if (frame === NO_FRAME) return NO_FRAME;
    const bytes = ctx.swap.read(slot);
    if (ctx.frames.contentsEnabled && bytes !== null) ctx.frames.write(frame * FRAME_SIZE, bytes);
    ctx.swap.free(slot);
    obj.swapped.delete(pindex);
    ctx.count('swapIns');
    ctx.metrics.faults.swapIn++;
    ctx.metrics.cycles += ctx.costs.swapInPage;
    return frame;
  },
  putpage(ctx, obj, pindex, frame, dirty, zero) {
    if (zero && !dirty) return true; // a clean zero page is dropped: the next fault zero-fills it again
    const slot = ctx.swap.alloc();
    if (slot < 0) return false;
    ctx.swap.write(slot, ctx.frames.contentsEnabled ? ctx.frames.read(frame * FRAME_SIZE, FRAME_SIZE) : null);
    obj.swapped.set(pindex, slot);
    ctx.count('swapOuts');
    ctx.metrics.cycles += ctx.costs.swapOutPage;
    return true;
  },
};

/** Files: the page cache reads the file's bytes and writes dirty pages back (sys/vm/vnode_pager.c). */
export const vnodePager: Pager = {
  allocates: true,
  haspage: (obj, pindex) => pindex < obj.size,
  getpage(ctx, obj, pindex) {
    const frame = ctx.allocFrame(true);
    if (frame === NO_FRAME) return NO_FRAME;
    if (ctx.frames.contentsEnabled && obj.file !== null) {
      const start = pindex * FRAME_SIZE;
      const bytes = obj.file.subarray(start, Math.min(start + FRAME_SIZE, obj.file.length));
      if (bytes.length > 0) ctx.frames.write(frame * FRAME_SIZE, bytes);
    }
    ctx.frames.flags[frame]! &= ~FRAME_DIRTY; // clean: it matches the file
    ctx.count('fileReads');
    ctx.metrics.faults.file++;
    ctx.metrics.cycles += ctx.costs.fileReadPage;
    return frame;
  },
  putpage(ctx, obj, pindex, frame, dirty) {
    if (!dirty) return true;
    // Shared file pages go back to the file (private ones never stay in a vnode object).
    if (ctx.frames.contentsEnabled && obj.file !== null) {
      const start = pindex * FRAME_SIZE;
      const n = Math.min(FRAME_SIZE, obj.file.length - start);
      if (n > 0) obj.file.set(ctx.frames.read(frame * FRAME_SIZE, n), start);
    }
    ctx.count('fileWrites');
    ctx.metrics.cycles += ctx.costs.fileWritePage;
    return true;
  },
};

/** Device and physical memory: the page is a fixed frame (cdev_pager_getpage); nothing is allocated or paged. */
export const devicePager: Pager = {
  allocates: false,
  haspage: (obj, pindex) => pindex < obj.size,
  getpage: (_ctx, obj, pindex) => obj.physBase + pindex,
  putpage: () => false,
};
