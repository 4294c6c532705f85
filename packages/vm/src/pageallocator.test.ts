/**
 * VmSystem.pageAllocator: a personality's placement policy is asked first for zero-fill and
 * copy-up pages (vm_page_alloc → vm_reserv_alloc_page), gets freed pages back when it claims
 * them (vm_page_free → vm_reserv_free_page), and is asked to give memory back before the page
 * daemon runs (vm_reserv_reclaim_inactive).
 */
import { FrameTable, NO_FRAME } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import type { VmObject } from './object.js';
import { VmSystem, type PageAllocator } from './vmsystem.js';

/** Hands out frames of one block it holds, remembers frees, and can release the block's rest. */
class BlockAllocator implements PageAllocator {
  readonly held = new Set<number>();
  readonly calls: string[] = [];
  constructor(private readonly frames: FrameTable, private readonly base: number) {
    for (let i = 0; i < 8; i++) this.held.add(base + i);
  }
  alloc(_obj: VmObject, pindex: number, zero: boolean): number {
    this.calls.push(`alloc ${pindex} ${zero}`);
    const f = this.base + pindex;
    if (!this.held.has(f)) return NO_FRAME;
    this.held.delete(f);
    if (zero) this.frames.zeroFrames(f, 1);
    return f;
  }
  free(frame: number): boolean {
    if (frame < this.base || frame >= this.base + 8) return false;
    this.held.add(frame);
    return true;
  }
  reclaim(): boolean {
    this.calls.push('reclaim');
    if (this.held.size === 0) return false;
    for (const f of this.held) this.frames.free(f, 0);
    this.held.clear();
    return true;
  }
}

describe('VmSystem.pageAllocator', () => {
  it('places zero-fill and copy-up pages, takes freed ones back, and reclaims before paging out', () => {
    const frames = new FrameTable({ frames: 16, maxOrder: 3 });
    const base = frames.alloc(3);
    const vm = new VmSystem(frames);
    const a = new BlockAllocator(frames, base);
    vm.pageAllocator = a;
    const obj = vm.createObject('anonymous', 8);
    expect(vm.fault(obj, 2, true)).toBe(base + 2);
    expect(a.calls).toEqual(['alloc 2 true']);
    // A copy-up into a shadow asks too; the policy's frame for index 2 is taken, so the page
    // comes from the free lists.
    vm.reference(obj);
    const sh = vm.shadow(obj);
    const copy = vm.fault(sh, 2, true);
    expect(a.calls[1]).toBe('alloc 2 false');
    expect(copy).not.toBe(NO_FRAME);
    expect(copy).not.toBe(base + 2);
    expect(vm.lookupPage(sh, 2)!.frame).toBe(copy);
    // Freeing returns the placed page to the policy, not to the free lists.
    const free = frames.freeFrames;
    vm.removePages(obj, 2, 3);
    expect(a.held.has(base + 2)).toBe(true);
    expect(frames.freeFrames).toBe(free);
    // Exhaust the free lists: the policy is asked to give frames back before any pageout.
    const others: number[] = [];
    for (let f = frames.alloc(0); f !== NO_FRAME; f = frames.alloc(0)) others.push(f);
    const scans = vm.counters.pageoutScans;
    const big = vm.createObject('anonymous', 64);
    expect(vm.fault(big, 40, true)).not.toBe(NO_FRAME);
    expect(a.calls).toContain('reclaim');
    expect(vm.counters.pageoutScans).toBe(scans);
  });
});
