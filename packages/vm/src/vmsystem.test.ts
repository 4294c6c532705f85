/**
 * Shadow chains and reclaim, in content mode: random sequences of object creation, COW copies
 * (fork), writes, reads, page-outs and releases must read back exactly what the last writer in each
 * lineage wrote, and end with no leaked object, frame or swap slot.
 */
import fc from 'fast-check';
import { Metrics } from '@polykernel/core';
import { FrameTable } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import type { VmObject } from './object.js';
import { VM_OBJECT_BYTES, VmSystem } from './vmsystem.js';

type Op =
  | { op: 'create'; pages: number; vnode: boolean }
  | { op: 'write'; h: number; p: number; v: number }
  | { op: 'read'; h: number; p: number }
  | { op: 'fork'; h: number }
  | { op: 'release'; h: number }
  | { op: 'pageout'; n: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ op: fc.constant('create' as const), pages: fc.integer({ min: 1, max: 12 }), vnode: fc.boolean() }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('write' as const), h: fc.nat(), p: fc.nat(11), v: fc.integer({ min: 1, max: 255 }) }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('read' as const), h: fc.nat(), p: fc.nat(11) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('fork' as const), h: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('release' as const), h: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('pageout' as const), n: fc.integer({ min: 1, max: 16 }) }) },
);

interface Handle { obj: VmObject; model: Map<number, number> }

function fileBytes(pages: number, seed: number): Uint8Array {
  const b = new Uint8Array(pages * 4096);
  for (let p = 0; p < pages; p++) b[p * 4096] = (seed + p * 7) % 250 + 1;
  return b;
}

function scenario(ops: Op[]): VmSystem {
  const frames = new FrameTable({ frames: 40, maxOrder: 5, contents: true, metrics: new Metrics() });
  const vm = new VmSystem(frames, { swapSlots: 4096 });
  const handles: Handle[] = [];
  let fileSeed = 1;
  for (const o of ops) {
    if (o.op === 'create' || handles.length === 0) {
      const pages = o.op === 'create' ? o.pages : 4;
      if (o.op === 'create' && o.vnode) {
        // A private file mapping: a shadow over the file's vnode object.
        const bytes = fileBytes(pages, fileSeed++);
        const vnode = vm.createObject('vnode', pages, bytes, 'file');
        const model = new Map<number, number>();
        for (let p = 0; p < pages; p++) model.set(p, bytes[p * 4096]!);
        handles.push({ obj: vm.shadow(vnode), model });
      } else {
        handles.push({ obj: vm.createObject('anonymous', pages), model: new Map() });
      }
      if (o.op === 'create') continue;
    }
    const h = handles[('h' in o ? o.h : 0) % handles.length]!;
    switch (o.op) {
      case 'write': {
        const p = o.p % h.obj.size;
        expect(vm.write(h.obj, p, 0, new Uint8Array([o.v]))).toBe(true);
        h.model.set(p, o.v);
        break;
      }
      case 'read': {
        const p = o.p % h.obj.size;
        expect(vm.read(h.obj, p, 0, 1)?.[0]).toBe(h.model.get(p) ?? 0);
        break;
      }
      case 'fork': {
        const [a, b] = vm.cowCopy(h.obj);
        h.obj = a;
        handles.push({ obj: b, model: new Map(h.model) });
        break;
      }
      case 'release': {
        vm.deallocate(h.obj);
        handles.splice(handles.indexOf(h), 1);
        break;
      }
      case 'pageout':
        vm.pageout(o.n);
        break;
    }
    // Every live object, shadows included, is kernel metadata until it is freed or absorbed.
    expect(vm.metrics.metadataBytes).toBe(vm.liveObjects * VM_OBJECT_BYTES);
  }
  // Every lineage still reads what it wrote.
  for (const h of handles) {
    for (let p = 0; p < h.obj.size; p++) expect(vm.read(h.obj, p, 0, 1)?.[0]).toBe(h.model.get(p) ?? 0);
  }
  for (const h of handles) vm.deallocate(h.obj);
  expect(vm.liveObjects).toBe(0);
  expect(vm.metrics.metadataBytes).toBe(0);
  expect(frames.freeFrames).toBe(40);
  expect(vm.swap.usedSlots).toBe(0);
  expect(vm.counters.objectsCreated).toBe(vm.counters.objectsFreed);
  return vm;
}

describe('shadow chains', () => {
  it('random create/fork/write/read/pageout/release sequences keep every lineage isolated and leak nothing', () => {
    fc.assert(fc.property(fc.array(opArb, { minLength: 10, maxLength: 120, size: 'max' }), (ops) => {
      scenario(ops);
    }), { seed: 77, numRuns: 300 });
  });

  it('a fork chain collapses when the other side goes away', () => {
    const frames = new FrameTable({ frames: 64, maxOrder: 6, contents: true, metrics: new Metrics() });
    const vm = new VmSystem(frames);
    let obj = vm.createObject('anonymous', 4);
    for (let p = 0; p < 4; p++) vm.write(obj, p, 0, new Uint8Array([p + 1]));
    // Ten fork-and-exit rounds: without collapse the chain would be 11 objects deep.
    for (let i = 0; i < 10; i++) {
      const [parent, child] = vm.cowCopy(obj);
      vm.write(child, 0, 0, new Uint8Array([99]));
      vm.deallocate(child);
      obj = parent;
      vm.write(obj, 1, 0, new Uint8Array([i]));
    }
    expect(obj.chainLength).toBe(1);
    expect(vm.metrics.metadataBytes).toBe(VM_OBJECT_BYTES); // the ten collapsed shadows gave their bytes back
    expect(vm.counters.collapses).toBe(10);
    expect(vm.counters.pagesMoved).toBeGreaterThan(0);
    expect([...Array(4).keys()].map((p) => vm.read(obj, p, 0, 1)?.[0])).toEqual([1, 9, 3, 4]);
    vm.deallocate(obj);
    expect(frames.freeFrames).toBe(64);
  });

  it('copy-on-write copies once, on the first write, and counts it', () => {
    const m = new Metrics();
    const frames = new FrameTable({ frames: 64, maxOrder: 6, contents: true, metrics: m, costs: { zeroPage: 900, copyPage: 1350 } });
    const vm = new VmSystem(frames);
    const obj = vm.createObject('anonymous', 2);
    vm.write(obj, 0, 0, new Uint8Array([5]));
    const [a, b] = vm.cowCopy(obj);
    expect(vm.read(b, 0, 0, 1)?.[0]).toBe(5);
    expect(vm.counters.copyUps).toBe(0);
    vm.write(b, 0, 0, new Uint8Array([6]));
    vm.write(b, 0, 1, new Uint8Array([7]));
    expect(vm.counters.copyUps).toBe(1);
    expect(m.pagesCopied).toBe(1);
    expect(vm.read(a, 0, 0, 1)?.[0]).toBe(5);
    expect(vm.lookupPage(a, 0)?.depth).toBe(1); // still shared from the original
    vm.deallocate(a);
    vm.deallocate(b);
    expect(vm.liveObjects).toBe(0);
  });
});

describe('device and physical objects', () => {
  it('map fixed frames without allocating, and COW over them copies', () => {
    const frames = new FrameTable({ frames: 32, maxOrder: 5, contents: true, metrics: new Metrics() });
    const vm = new VmSystem(frames);
    const fb = frames.alloc(2); // four frames standing for device memory
    frames.write(fb * 4096 + 4096, new Uint8Array([42]));
    const dev = vm.createPhysicalObject('device', fb, 4);
    const free = frames.freeFrames;
    expect(vm.fault(dev, 1, true)).toBe(fb + 1);
    expect(frames.freeFrames).toBe(free);
    const priv = vm.shadow(dev);
    expect(vm.read(priv, 1, 0, 1)?.[0]).toBe(42);
    vm.write(priv, 1, 0, new Uint8Array([7]));
    expect(vm.read(dev, 1, 0, 1)?.[0]).toBe(42);
    expect(vm.counters.copyUps).toBe(1);
    vm.deallocate(priv);
    expect(vm.liveObjects).toBe(0);
  });
});

describe('reclaim', () => {
  it('a workload four times larger than memory completes through swap and reads back', () => {
    const m = new Metrics();
    const frames = new FrameTable({ frames: 64, maxOrder: 6, contents: true, metrics: m });
    const vm = new VmSystem(frames, { swapSlots: 512 });
    const obj = vm.createObject('anonymous', 256);
    for (let p = 0; p < 256; p++) expect(vm.write(obj, p, 100, new Uint8Array([p % 251, 0xaa]))).toBe(true);
    for (let p = 255; p >= 0; p--) expect([...vm.read(obj, p, 100, 2)!]).toEqual([p % 251, 0xaa]);
    // The counters add up: every page is resident or on swap, and frames are accounted for.
    expect(obj.pages.size + obj.swapped.size).toBe(256);
    expect(obj.pages.size).toBe(64 - frames.freeFrames);
    expect(vm.swap.usedSlots).toBe(obj.swapped.size);
    expect(vm.counters.swapOuts).toBe(vm.swap.swapOuts);
    expect(vm.counters.swapOuts - vm.counters.swapIns).toBe(obj.swapped.size);
    expect(vm.counters.reclaimed).toBeGreaterThanOrEqual(192);
    expect(m.faults.swapIn).toBe(vm.counters.swapIns);
    vm.deallocate(obj);
    expect(vm.swap.usedSlots).toBe(0);
  });

  it('dirty shared file pages are written back, not lost', () => {
    const frames = new FrameTable({ frames: 16, maxOrder: 4, contents: true, metrics: new Metrics() });
    const vm = new VmSystem(frames, { swapSlots: 0 });
    const file = fileBytes(64, 3);
    const vnode = vm.createObject('vnode', 64, file, 'data.bin');
    for (let p = 0; p < 64; p++) expect(vm.write(vnode, p, 1, new Uint8Array([p + 1]))).toBe(true);
    expect(vm.counters.fileWrites).toBeGreaterThan(0);
    for (let p = 0; p < 64; p++) expect(vm.read(vnode, p, 1, 1)?.[0]).toBe(p + 1);
    vm.pageout(64);
    for (let p = 0; p < 64; p++) expect(file[p * 4096 + 1]).toBe(p + 1); // on "disk"
  });

  it('out of memory with no swap is a clean NO_FRAME, not an exception', () => {
    const frames = new FrameTable({ frames: 8, maxOrder: 3, contents: true, metrics: new Metrics() });
    const vm = new VmSystem(frames, { swapSlots: 0 });
    const obj = vm.createObject('anonymous', 16);
    let ok = 0;
    for (let p = 0; p < 16; p++) if (vm.write(obj, p, 0, new Uint8Array([1]))) ok++;
    expect(ok).toBe(8);
  });
});

describe('faultPage: the walk without accounting', () => {
  it('counts no fault (the caller does) while fault() counts each once', () => {
    const metrics = new Metrics();
    const frames = new FrameTable({ frames: 64, maxOrder: 6, contents: true, metrics });
    const vm = new VmSystem(frames, { metrics });
    const o = vm.createObject('anonymous', 4);
    expect(vm.faultPage(o, 0, true).how).toBe('zeroFill');
    expect(metrics.faults.zeroFill).toBe(0);
    vm.fault(o, 1, true);
    expect(metrics.faults.zeroFill).toBe(1);
  });

  it('says where the page is: backing on a read, a copy on a write, a move when the backing object has one reference', () => {
    const frames = new FrameTable({ frames: 64, maxOrder: 6, contents: true, metrics: new Metrics() });
    const vm = new VmSystem(frames);
    const o = vm.createObject('anonymous', 2);
    const f0 = vm.faultPage(o, 0, true).frame;
    const f1 = vm.faultPage(o, 1, true).frame;
    vm.reference(o);
    const a = vm.shadow(o);
    const b = vm.shadow(o);
    const r = vm.faultPage(a, 0, false);
    expect([r.how, r.frame, r.object]).toEqual(['backing', f0, o]);
    const c = vm.faultPage(a, 0, true);
    expect([c.how, c.source]).toEqual(['cow', f0]);
    expect(c.frame).not.toBe(f0);
    vm.deallocate(b); // o is left with a's reference only: a collapses o into itself
    expect(a.backing).toBeNull();
    expect(a.pages.get(1)).toBe(f1);
    const d = vm.createObject('anonymous', 1);
    const fd = vm.faultPage(d, 0, true).frame;
    const s = vm.shadow(d);
    const m = vm.faultPage(s, 0, true);
    expect([m.how, m.frame, d.pages.size]).toEqual(['move', fd, 0]);
  });

  it('absentInFirst skips only the first object\'s page lookup: backing pages, swapped pages and zero fill are found as before', () => {
    const frames = new FrameTable({ frames: 64, maxOrder: 6, contents: true, metrics: new Metrics() });
    const vm = new VmSystem(frames, { swapSlots: 64 });
    const o = vm.createObject('anonymous', 3);
    const f0 = vm.faultPage(o, 0, true).frame;
    vm.reference(o);
    const a = vm.shadow(o);
    const r = vm.faultPage(a, 0, false, true);
    expect([r.how, r.frame, r.object, r.depth]).toEqual(['backing', f0, o, 2]);
    expect(vm.faultPage(a, 2, true, true).how).toBe('zeroFill');
    // A page swapped out of the first object is still paged in (the swap pager is asked).
    const s = vm.createObject('anonymous', 1);
    expect(vm.write(s, 0, 0, new Uint8Array([7]))).toBe(true);
    for (let i = 0; i < 8 && s.pages.size > 0; i++) vm.pageout(64);
    expect(s.pages.size).toBe(0);
    expect(s.swapped.size).toBe(1);
    expect(vm.faultPage(s, 0, false, true).how).toBe('pagein');
    expect(vm.read(s, 0, 0, 1)?.[0]).toBe(7);
  });

  it('split moves a range of pages into a new object over the same backing object', () => {
    const frames = new FrameTable({ frames: 64, maxOrder: 6, contents: true, metrics: new Metrics() });
    const vm = new VmSystem(frames);
    const base = vm.createObject('anonymous', 4);
    const o = vm.shadow(base);
    const f2 = vm.faultPage(o, 2, true).frame;
    const n = vm.split(o, 2, 2);
    expect([n.pages.get(0), n.backing, n.backingOffset, vm.ownerOf(f2), vm.pindexOf(f2)]).toEqual([f2, base, 2, n, 0]);
    expect(base.shadowCount).toBe(2);
    expect(o.pages.size).toBe(0);
  });

  it('removePages and split over random ranges of a large object agree with a Map model of its pages', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.nat(599), { minLength: 1, maxLength: 400 }),
        fc.nat(599), fc.nat(600), fc.nat(599), fc.nat(600),
        (touched, rs, rl, ss, sl) => {
          const frames = new FrameTable({ frames: 1024, maxOrder: 10, contents: false, metrics: new Metrics() });
          const vm = new VmSystem(frames);
          const o = vm.createObject('anonymous', 600);
          const model = new Map<number, number>();
          for (const p of touched) model.set(p, vm.faultPage(o, p, true).frame);
          const free0 = frames.freeFrames;
          const end = Math.min(600, rs + rl);
          const gone = [...model.keys()].filter((p) => p >= rs && p < end);
          expect(vm.removePages(o, rs, end)).toBe(gone.length);
          for (const p of gone) model.delete(p);
          expect(frames.freeFrames).toBe(free0 + gone.length);
          const size = Math.min(600 - ss, Math.max(1, sl));
          const n = vm.split(o, ss, size);
          for (const [p, f] of model) {
            const inSplit = p >= ss && p < ss + size;
            expect([inSplit ? n.pages.get(p - ss) : o.pages.get(p), vm.ownerOf(f), vm.pindexOf(f)]).toEqual([f, inSplit ? n : o, inSplit ? p - ss : p]);
          }
          expect(o.pages.size + n.pages.size).toBe(model.size);
          vm.deallocate(n);
          vm.deallocate(o);
          expect(frames.freeFrames).toBe(free0 + gone.length + model.size);
        },
      ),
      { numRuns: 60 },
    );
  });
});
