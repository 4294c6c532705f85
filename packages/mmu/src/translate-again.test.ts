/**
 * translateAgain() must be indistinguishable from translate(): two machines run the same random
 * sequence of maps, unmaps, flushes and translations, one always with translate(), the other with
 * translateAgain() wherever the sequence says "retry" — results, fault records, metrics, stats and
 * every TLB slot must agree after each step. The sequences retry the last missed address often
 * (translateAgain's shortcut) and insert other entries in between (where it must not take it).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Mmu } from './mmu.js';
import { PageTable } from './pagetable.js';
import { getProfile } from './profiles.js';
import { ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE, PTE_USER, PTE_WRITE, type Access } from './pte.js';
import type { Tlb } from './tlb.js';

const PAGE = 4096;
const BASE = 0x7f00_0000_0000; // above 2^31: addresses as numbers, page math by division

type Op =
  | { op: 'map'; page: number; huge: boolean; write: boolean }
  | { op: 'unmap'; page: number }
  | { op: 'flush'; page: number }
  | { op: 'translate'; page: number; access: Access; cpu: number }
  | { op: 'retry'; page: number; access: Access; cpu: number; same: boolean };

const access = fc.constantFrom<Access>(ACCESS_READ, ACCESS_WRITE, ACCESS_EXEC);
const page = fc.integer({ min: 0, max: 1100 });
const cpu = fc.integer({ min: 0, max: 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('map' as const), page, huge: fc.boolean(), write: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('unmap' as const), page }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('flush' as const), page }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('translate' as const), page, access, cpu }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('retry' as const), page, access, cpu, same: fc.boolean() }) },
);

interface Machine {
  mmu: Mmu;
  pt: PageTable;
}

function machine(): Machine {
  const mmu = new Mmu(getProfile('x86-64'), { frames: 8192, seed: 3 });
  const pt = mmu.createPageTable();
  mmu.bindAsid(1, pt);
  mmu.activate(0, 1);
  mmu.activate(1, 1);
  return { mmu, pt };
}

function tlbState(t: Tlb): number[] {
  const out: number[] = [];
  for (let i = 0; i < t.totalEntries; i++) out.push(t.tag[i]!, t.asid[i]!, t.frame[i]!, t.perm[i]!, t.global[i]!);
  return out;
}

function state(m: Machine): unknown {
  const { mmu } = m;
  return {
    metrics: JSON.stringify(mmu.metrics),
    stats: { ...mmu.stats },
    fault: { ...mmu.fault },
    tlbs: mmu.cpus.map((c) => [tlbState(c.l1d), tlbState(c.l1i), c.l2 ? tlbState(c.l2) : []]),
  };
}

/** Apply one step to both machines; `b` retries with translateAgain. Returns both results. */
function step(a: Machine, b: Machine, o: Op, last: { va: number; access: Access; cpu: number }): [number, number] {
  const va = BASE + o.page * PAGE;
  switch (o.op) {
    case 'map': {
      const size = o.huge ? 2 * 1024 * 1024 : PAGE;
      const at = Math.floor(va / size) * size;
      const flags = PTE_USER | (o.write ? PTE_WRITE : 0);
      const frame = (o.huge ? 2048 : 4096) + (o.page % 512);
      const fr = o.huge ? 2048 : frame;
      return [a.pt.map(at, fr, size, flags), b.pt.map(at, fr, size, flags)];
    }
    case 'unmap':
      a.pt.unmap(va, PAGE, () => undefined);
      b.pt.unmap(va, PAGE, () => undefined);
      a.mmu.flushLocal(0, 1, va, PAGE);
      b.mmu.flushLocal(0, 1, va, PAGE);
      return [0, 0];
    case 'flush':
      a.mmu.flushAsid(1, 1);
      b.mmu.flushAsid(1, 1);
      return [0, 0];
    case 'translate': {
      last.va = va;
      last.access = o.access;
      last.cpu = o.cpu;
      return [a.mmu.translate(o.cpu, 1, va, o.access), b.mmu.translate(o.cpu, 1, va, o.access)];
    }
    case 'retry': {
      const [rva, racc, rcpu] = o.same ? [last.va, last.access, last.cpu] : [va, o.access, o.cpu];
      return [a.mmu.translate(rcpu, 1, rva, racc), b.mmu.translateAgain(rcpu, 1, rva, racc)];
    }
  }
}

describe('Mmu.translateAgain', () => {
  it('has exactly the effects and result of translate(), whatever happened in between', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 120 }), (ops) => {
        const a = machine();
        const b = machine();
        const last = { va: BASE, access: ACCESS_READ as Access, cpu: 0 };
        for (const o of ops) {
          const [ra, rb] = step(a, b, o, last);
          expect(rb).toBe(ra);
          expect(JSON.stringify(b.mmu.metrics)).toBe(JSON.stringify(a.mmu.metrics));
          if (o.op === 'retry') expect(state(b)).toEqual(state(a));
        }
        expect(state(b)).toEqual(state(a));
      }),
      { numRuns: 80 },
    );
  });

  it('after a resolved not-present fault: walks without probing again, and fills the TLBs', () => {
    const m = machine();
    const va = BASE + 7 * PAGE;
    expect(m.mmu.translate(0, 1, va, ACCESS_WRITE)).toBe(-1);
    const misses = m.mmu.metrics.tlbMisses;
    const walks = m.mmu.stats.walks;
    m.pt.map(va, 4321, PAGE, PTE_USER | PTE_WRITE);
    expect(m.mmu.translateAgain(0, 1, va, ACCESS_WRITE)).toBe(4321 * PAGE);
    expect(m.mmu.metrics.tlbMisses).toBe(misses + 1);
    expect(m.mmu.stats.walks).toBe(walks + 1);
    // The entry is in the L1 now: the same access hits.
    const hits = m.mmu.metrics.tlbHits;
    expect(m.mmu.translateAgain(0, 1, va, ACCESS_WRITE)).toBe(4321 * PAGE);
    expect(m.mmu.metrics.tlbHits).toBe(hits + 1);
  });
});
