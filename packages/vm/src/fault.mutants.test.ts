// Tests written to kill surviving mutants of VmSystem.faultPage (docs/mutation.md, issue 22 §4).
import { Metrics } from '@polykernel/core';
import { FRAME_DIRTY, FrameTable } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import { VmSystem } from './vmsystem.js';

function system(frames = 64, swapSlots = 0) {
  const metrics = new Metrics();
  const ft = new FrameTable({ frames, maxOrder: 6, contents: true, metrics, costs: { zeroPage: 900, copyPage: 1350 } });
  return { vm: new VmSystem(ft, { metrics, swapSlots }), frames: ft, metrics };
}

describe('faultPage: page index range', () => {
  it('refuses an index below 0 or at the object size, naming it, and takes the last page', () => {
    const { vm } = system();
    const o = vm.createObject('anonymous', 4);
    expect(() => vm.faultPage(o, -1, false)).toThrow(new RangeError(`page -1 outside object ${o.id} (4 pages)`));
    expect(() => vm.faultPage(o, 4, true)).toThrow(new RangeError(`page 4 outside object ${o.id} (4 pages)`));
    expect(vm.faultPage(o, 3, true).how).toBe('zeroFill');
  });
});

describe('faultPage: the walk down the chain', () => {
  it('counts the objects it visited (depth) and records each fault in the chain-length histogram', () => {
    const { vm } = system();
    const bottom = vm.createObject('anonymous', 4);
    const f = vm.faultPage(bottom, 1, true).frame;
    expect(vm.outcome.depth).toBe(1);
    const middle = vm.shadow(bottom);
    vm.reference(middle);
    const top = vm.shadow(middle);
    const other = vm.shadow(middle); // keeps middle shared, so nothing collapses
    const r = vm.faultPage(top, 1, false);
    expect([r.how, r.frame, r.object, r.depth]).toEqual(['backing', f, bottom, 3]);
    vm.faultPage(other, 1, false);
    expect(vm.counters.chainLengths[1]).toBe(1);
    expect(vm.counters.chainLengths[3]).toBe(2);
    expect(vm.counters.chainLengths[2]).toBeUndefined();
  });

  it('follows the backing offset down the chain', () => {
    const { vm } = system();
    const base = vm.createObject('anonymous', 8);
    const frames = [0, 1, 2, 3, 4, 5].map((p) => vm.faultPage(base, p, true).frame);
    const s = vm.shadow(base, 2, 4);
    const r = vm.faultPage(s, 1, false);
    expect([r.how, r.frame, r.object]).toEqual(['backing', frames[3], base]);
  });

  it('zero-fills a page nobody wrote with a zeroed frame (charged as one page zeroed)', () => {
    const { vm, metrics } = system();
    const o = vm.createObject('anonymous', 2);
    const before = metrics.cycles;
    expect(vm.faultPage(o, 0, false).how).toBe('zeroFill');
    expect(metrics.pagesZeroed).toBe(1);
    expect(metrics.cycles - before).toBe(900);
  });
});

describe('faultPage: pages brought in by a pager', () => {
  it('a swapped page comes back as a page-in, resident in its object, with its bytes', () => {
    const { vm, frames } = system(8, 64);
    const o = vm.createObject('anonymous', 16);
    for (let p = 0; p < 16; p++) expect(vm.write(o, p, 0, new Uint8Array([p + 10]))).toBe(true);
    expect(o.swapped.has(0)).toBe(true);
    const r = vm.faultPage(o, 0, false);
    expect([r.how, r.pagedIn, r.object]).toEqual(['pagein', true, o]);
    expect(o.pages.get(0)).toBe(r.frame);
    expect(o.swapped.has(0)).toBe(false);
    expect(frames.read(r.frame * 4096, 1)[0]).toBe(10);
  });

  it('a swap-in with no frame to be had is NO_FRAME, not a page', () => {
    const { vm, frames } = system(8, 64);
    const o = vm.createObject('anonymous', 16);
    for (let p = 0; p < 16; p++) vm.write(o, p, 0, new Uint8Array([p + 1]));
    expect(o.swapped.has(0)).toBe(true);
    // Take every free frame and leave nothing the page daemon could evict (the swap is full too).
    while (frames.alloc(0) >= 0) { /* drain */ }
    for (let i = 0; i < 64; i++) vm.swap.alloc();
    const r = vm.faultPage(o, 0, false);
    expect([r.how, r.frame, r.object]).toEqual(['found', -1, null]);
    expect(o.pages.has(0)).toBe(false);
  });

  it('a device page is the device frame itself: found, not inserted, not put on the page queues', () => {
    const { vm, frames } = system(32);
    const fb = frames.alloc(2);
    const dev = vm.createPhysicalObject('device', fb, 4);
    const r = vm.faultPage(dev, 2, true);
    expect([r.how, r.frame, r.object, r.pagedIn]).toEqual(['found', fb + 2, dev, false]);
    expect(dev.pages.size).toBe(0);
    expect(vm.queues.referenced[fb + 2]).toBe(0);
    expect(vm.ownerOf(fb + 2)).toBeNull();
  });

  it('a read through a private shadow of a device maps the device frame as found in the device object', () => {
    const { vm, frames } = system(32);
    const fb = frames.alloc(2);
    const dev = vm.createPhysicalObject('device', fb, 4);
    const priv = vm.shadow(dev);
    const r = vm.faultPage(priv, 1, false);
    expect([r.how, r.frame, r.object, r.depth]).toEqual(['found', fb + 1, dev, 2]);
    expect(priv.pages.size).toBe(0);
    expect(vm.queues.referenced[fb + 1]).toBe(0);
  });
});

describe('faultPage: out of memory', () => {
  it('a zero fill with no frame left is NO_FRAME and inserts nothing', () => {
    const { vm, frames } = system(8);
    while (frames.alloc(0) >= 0) { /* drain */ }
    const o = vm.createObject('anonymous', 2);
    const r = vm.faultPage(o, 0, true);
    expect([r.how, r.frame, r.object]).toEqual(['zeroFill', -1, null]);
    expect(o.pages.size).toBe(0);
    expect(vm.counters.zeroFills).toBe(0);
  });

  it('a copy-on-write with no frame left is NO_FRAME and leaves the page where it was', () => {
    const { vm, frames } = system(8);
    const o = vm.createObject('anonymous', 1);
    vm.write(o, 0, 0, new Uint8Array([5])); // dirty, and no swap: the page daemon cannot take it
    const f = o.pages.get(0);
    vm.reference(o);
    const a = vm.shadow(o);
    const b = vm.shadow(o);
    while (frames.alloc(0) >= 0) { /* drain */ }
    const r = vm.faultPage(a, 0, true);
    expect([r.how, r.frame, r.object]).toEqual(['cow', -1, null]);
    expect(a.pages.size).toBe(0);
    expect(o.pages.get(0)).toBe(f);
    expect(vm.counters.copyUps).toBe(0);
    expect(b.backing).toBe(o);
  });
});

describe('faultPage: pages in the first object', () => {
  it('counts each zero fill, and says found for a page already there', () => {
    const { vm } = system();
    const o = vm.createObject('anonymous', 4);
    vm.faultPage(o, 0, false);
    vm.faultPage(o, 1, true);
    expect(vm.counters.zeroFills).toBe(2);
    const r = vm.faultPage(o, 1, false);
    expect([r.how, r.object, r.pagedIn]).toEqual(['found', o, false]);
  });

  it('a write to a clean resident page marks it dirty; a read leaves it clean', () => {
    const { vm, frames } = system();
    const file = new Uint8Array(2 * 4096).fill(3);
    const vnode = vm.createObject('vnode', 2, file, 'f');
    const r = vm.faultPage(vnode, 0, false);
    expect(r.how).toBe('pagein');
    const f = r.frame;
    expect(frames.flags[f]! & FRAME_DIRTY).toBe(0);
    expect(vm.faultPage(vnode, 0, false).how).toBe('found');
    expect(frames.flags[f]! & FRAME_DIRTY).toBe(0);
    expect(vm.faultPage(vnode, 0, true).how).toBe('found');
    expect(frames.flags[f]! & FRAME_DIRTY).toBe(FRAME_DIRTY);
  });

  it('a read through a shadow of a swapped-out page says pagein, the page staying in the backing object', () => {
    const { vm } = system(8, 64);
    const o = vm.createObject('anonymous', 16);
    for (let p = 0; p < 16; p++) vm.write(o, p, 0, new Uint8Array([p + 1]));
    expect(o.swapped.has(0)).toBe(true);
    vm.reference(o);
    const a = vm.shadow(o);
    vm.shadow(o);
    const r = vm.faultPage(a, 0, false);
    expect([r.how, r.object, r.pagedIn]).toEqual(['pagein', o, true]);
    expect(o.pages.get(0)).toBe(r.frame);
  });
});

describe('faultPage: copy or move on a write through a shadow', () => {
  it('moves the page when the backing object is the first object\'s own, and counts the move', () => {
    const { vm } = system();
    const d = vm.createObject('anonymous', 1);
    const f = vm.faultPage(d, 0, true).frame;
    const s = vm.shadow(d);
    expect(vm.faultPage(s, 0, true).how).toBe('move');
    expect(vm.counters.cowMoves).toBe(1);
    expect(s.pages.get(0)).toBe(f);
  });

  it('copies when the backing object has another reference (whoever holds it keeps the old page)', () => {
    const { vm } = system();
    const o = vm.createObject('anonymous', 1);
    vm.write(o, 0, 0, new Uint8Array([5]));
    vm.reference(o);
    const s = vm.shadow(o);
    expect(o.shadowCount).toBe(1);
    expect(vm.faultPage(s, 0, true).how).toBe('cow');
    expect(vm.read(o, 0, 0, 1)?.[0]).toBe(5);
  });

  it('copies a page found deeper than the first backing object, even when that object has one shadow', () => {
    const { vm } = system();
    const bottom = vm.createObject('anonymous', 1);
    vm.write(bottom, 0, 0, new Uint8Array([5]));
    const middle = vm.shadow(bottom);
    vm.reference(middle);
    const top = vm.shadow(middle);
    expect([bottom.refCount, bottom.shadowCount]).toEqual([1, 1]);
    expect(vm.faultPage(top, 0, true).how).toBe('cow');
    expect(bottom.pages.size).toBe(1);
    expect(vm.read(middle, 0, 0, 1)?.[0]).toBe(5);
  });

  it('copies a file page out of a private file mapping: the page cache keeps its page', () => {
    const { vm } = system();
    const vnode = vm.createObject('vnode', 1, new Uint8Array(4096).fill(9), 'f');
    vm.faultPage(vnode, 0, false);
    const priv = vm.shadow(vnode);
    expect([vnode.refCount, vnode.shadowCount]).toEqual([1, 1]);
    expect(vm.faultPage(priv, 0, true).how).toBe('cow');
    expect(vnode.pages.size).toBe(1);
  });

  it('a copy-up is charged as a copy, not also as a zeroing', () => {
    const { vm, metrics } = system();
    const o = vm.createObject('anonymous', 1);
    vm.faultPage(o, 0, true);
    vm.reference(o);
    const a = vm.shadow(o);
    vm.shadow(o);
    const zeroed = metrics.pagesZeroed;
    const before = metrics.cycles;
    expect(vm.faultPage(a, 0, true).how).toBe('cow');
    expect(metrics.pagesZeroed).toBe(zeroed);
    expect(metrics.cycles - before).toBe(1350);
  });
});
