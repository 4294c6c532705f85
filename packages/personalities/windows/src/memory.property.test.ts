/**
 * Property test over random VirtualAlloc / VirtualFree / VirtualProtect / touch sequences: after
 * every step the VirtualQuery walk tiles the user address space exactly, the commit charge equals
 * the committed pages the walk shows (per process and system-wide), the VAD tree keeps its AVL
 * invariants; at the end, releasing everything brings the charge to zero, and the process's exit
 * gives back every frame.
 */
import fc from 'fast-check';
import { ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import {
  MEM_COMMIT, MEM_DECOMMIT, MEM_RELEASE, MEM_RESERVE, MEM_TOP_DOWN, PAGE_EXECUTE_READ, PAGE_GUARD, PAGE_NOACCESS, PAGE_READONLY,
  PAGE_READWRITE, USER_SPACE_END, allowsWrite,
} from './constants.js';
import { walk } from './mm.js';
import { bootWindows, type Win } from './testkit.js';

const PROTS = [PAGE_NOACCESS, PAGE_READONLY, PAGE_READWRITE, PAGE_EXECUTE_READ, PAGE_READWRITE | PAGE_GUARD];
const TYPES = [MEM_RESERVE, MEM_RESERVE | MEM_COMMIT, MEM_COMMIT, MEM_RESERVE | MEM_TOP_DOWN, MEM_COMMIT | MEM_TOP_DOWN];

type Op =
  | { op: 'alloc'; at: number; pages: number; type: number; prot: number }
  | { op: 'commit'; vad: number; page: number; pages: number; prot: number }
  | { op: 'free'; vad: number; page: number; pages: number; release: boolean }
  | { op: 'protect'; vad: number; page: number; pages: number; prot: number }
  | { op: 'touch'; vad: number; page: number; write: boolean };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('alloc' as const), at: fc.integer({ min: 0, max: 40 }), pages: fc.integer({ min: 1, max: 40 }), type: fc.constantFrom(...TYPES), prot: fc.constantFrom(...PROTS) }),
  fc.record({ op: fc.constant('commit' as const), vad: fc.nat(), page: fc.nat({ max: 40 }), pages: fc.integer({ min: 1, max: 12 }), prot: fc.constantFrom(...PROTS) }),
  fc.record({ op: fc.constant('free' as const), vad: fc.nat(), page: fc.nat({ max: 40 }), pages: fc.nat({ max: 12 }), release: fc.boolean() }),
  fc.record({ op: fc.constant('protect' as const), vad: fc.nat(), page: fc.nat({ max: 40 }), pages: fc.integer({ min: 1, max: 12 }), prot: fc.constantFrom(...PROTS) }),
  fc.record({ op: fc.constant('touch' as const), vad: fc.nat(), page: fc.nat({ max: 40 }), write: fc.boolean() }),
);

function vadBase(w: Win, i: number): number | undefined {
  const all = [...w.p.space.vads.iterateFrom(0)];
  return all.length === 0 ? undefined : all[i % all.length]!.start;
}

function apply(w: Win, o: Op): void {
  if (o.op === 'alloc') {
    w.call('VirtualAlloc', o.at === 0 ? 0 : o.at * 0x10000, o.pages * 4096, o.type, o.prot);
    return;
  }
  const base = vadBase(w, o.vad);
  if (base === undefined) return;
  const at = base + o.page * 4096;
  if (o.op === 'commit') w.call('VirtualAlloc', at, o.pages * 4096, MEM_COMMIT, o.prot);
  else if (o.op === 'free') w.call('VirtualFree', o.release ? base : at, o.release ? 0 : o.pages * 4096, o.release ? MEM_RELEASE : MEM_DECOMMIT);
  else if (o.op === 'protect') w.call('VirtualProtect', at, o.pages * 4096, o.prot);
  else {
    // Touch only what the page allows (a violation would end the process): the walk says what that is.
    if (w.call('VirtualQuery', at) === 0) return;
    const r = w.record();
    if (r.State !== MEM_COMMIT || r.Protect === PAGE_NOACCESS || ((r.Protect as number) & PAGE_GUARD) !== 0) return;
    const write = o.write && allowsWrite(r.Protect as number);
    expect(w.k.access(w.t, at, write ? ACCESS_WRITE : ACCESS_READ)).toBeGreaterThanOrEqual(0);
  }
}

function checkInvariants(w: Win): void {
  const regions = walk(w.p.space);
  let at = 0;
  let committed = 0;
  for (const r of regions) {
    expect(r.BaseAddress).toBe(at);
    expect(r.RegionSize).toBeGreaterThan(0);
    expect(r.RegionSize % 4096).toBe(0);
    if (r.State === MEM_COMMIT) committed += r.RegionSize / 4096;
    at += r.RegionSize;
  }
  expect(at).toBe(USER_SPACE_END);
  // Neighbouring regions of one allocation differ in state or protection (they would be one region otherwise).
  for (let i = 1; i < regions.length; i++) {
    const [a, b] = [regions[i - 1]!, regions[i]!];
    if (a.AllocationBase === b.AllocationBase && a.State !== 0x10000) expect(a.State !== b.State || a.Protect !== b.Protect).toBe(true);
  }
  expect(w.p.space.commitCharge).toBe(committed);
  expect(w.k.state.commitCharge).toBe(committed);
  w.p.space.vads.checkInvariants();
}

describe('random VirtualAlloc / VirtualFree / VirtualProtect sequences', () => {
  it('keep the walk tiling the address space and the commit charge exact; release and exit leak nothing', () => {
    fc.assert(fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
      const w = bootWindows({}, { frames: 8192 });
      const freeAtStart = w.k.mmu.frames.freeFrames;
      for (const o of ops) {
        apply(w, o);
        checkInvariants(w);
      }
      for (const v of [...w.p.space.vads.iterateFrom(0)]) expect(w.call('VirtualFree', v.start, 0, MEM_RELEASE)).toBe(1);
      expect(w.k.state.commitCharge).toBe(0);
      expect(w.p.space.vads.size).toBe(0);
      w.call('TerminateProcess', -1, 0);
      expect(w.k.mmu.frames.freeFrames).toBe(freeAtStart + 1); // the page-table root page of the process too
    }), { numRuns: 150, seed: 14 });
  });
});
