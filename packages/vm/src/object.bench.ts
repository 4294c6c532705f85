/**
 * Resident-page storage of VM objects, without the kernel and the MMU around it. Run:
 * `npx vitest bench --run` in packages/vm. Each iteration does 16,384 operations, so divide the
 * reported time per iteration by 16,384.
 * - zero-fill: VmSystem.faultPage write faults on the pages of a fresh anonymous object (the
 *   object is freed after each iteration, so the frames come back);
 * - shadow depth d: write faults that copy up a page found d objects down a shadow chain;
 * - PageMap against Map: the insert/lookup/remove pattern of the fault path on the bare structure.
 */
import { Metrics } from '@polykernel/core';
import { FrameTable } from '@polykernel/mmu';
import { bench, describe } from 'vitest';
import type { VmObject } from './object.js';
import { PageMap } from './pagemap.js';
import { VmSystem } from './vmsystem.js';

const N = 16_384;

function system(frames: number): VmSystem {
  return new VmSystem(new FrameTable({ frames, maxOrder: 10, contents: false, metrics: new Metrics() }));
}

describe('VmSystem faults ×16,384', () => {
  const zf = system(N + 1024);
  bench('zero-fill write faults', () => {
    const o = zf.createObject('anonymous', N);
    for (let p = 0; p < N; p++) zf.faultPage(o, p, true);
    zf.deallocate(o);
  });

  for (const depth of [1, 4, 16]) {
    const vm = system(3 * N + 1024);
    // Each timed write finds its page `depth` objects below the faulting one, in the bottom object.
    const bottom = vm.createObject('anonymous', N);
    for (let p = 0; p < N; p++) vm.faultPage(bottom, p, true);
    let top: VmObject = bottom;
    for (let d = 1; d < depth; d++) {
      vm.reference(top); // keep each level alive so nothing collapses
      top = vm.shadow(top);
    }
    const below = top;
    bench(`copy-up write faults at shadow depth ${depth}`, () => {
      vm.reference(below);
      const s = vm.shadow(below);
      for (let p = 0; p < N; p++) vm.faultPage(s, p, true);
      vm.deallocate(s);
    });
  }
});

describe('page storage ×16,384: insert, hit, miss, remove', () => {
  bench('PageMap', () => {
    const m = new PageMap();
    let s = 0;
    for (let p = 0; p < N; p++) m.set(p, p + 7);
    for (let p = 0; p < N; p++) s += m.get(p) ?? 0;
    for (let p = N; p < 2 * N; p++) if (m.has(p)) s++;
    for (let p = 0; p < N; p++) m.delete(p);
    if (s < 0) throw new Error('unreachable');
  });
  bench('Map<number, number>', () => {
    const m = new Map<number, number>();
    let s = 0;
    for (let p = 0; p < N; p++) m.set(p, p + 7);
    for (let p = 0; p < N; p++) s += m.get(p) ?? 0;
    for (let p = N; p < 2 * N; p++) if (m.has(p)) s++;
    for (let p = 0; p < N; p++) m.delete(p);
    if (s < 0) throw new Error('unreachable');
  });
});
