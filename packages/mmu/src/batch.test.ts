/**
 * Mmu.translateHits against translate(): a run of accesses where the L1 4 KiB hits are taken by
 * translateHits and everything else by translate() must leave the same counters, the same TLB
 * contents and replacement state, and the same accessed/dirty bits as translate() on each access.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FAULT_TLB_REFILL, Mmu, TRANSLATE_FAULT } from './mmu.js';
import { getProfile } from './profiles.js';
import { ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE, PTE_NX, PTE_USER, PTE_WRITE, type Access } from './pte.js';
import type { Tlb } from './tlb.js';

const BASE = 0x7f00_0000_0000;
const PAGES = 24;

/** A machine with the same pages mapped (some read-only, some no-execute, some kernel-only). */
function machine(profile: string, flags: number[]): Mmu {
  const mmu = new Mmu(getProfile(profile), { frames: 4096, seed: 3 });
  const base = profile === 'mips-swtlb' ? 0x1000_0000 : BASE;
  const pt = mmu.createPageTable();
  mmu.bindAsid(1, pt);
  mmu.activate(0, 1);
  flags.forEach((f, p) => {
    if (f >= 0) pt.map(base + p * 4096, mmu.frames.alloc(0), 4096, f);
  });
  return mmu;
}

/** One access as a kernel would do it with no fault handler: a TLB refill is serviced, any other fault ends it. */
function one(mmu: Mmu, va: number, access: Access): void {
  if (mmu.translate(0, 1, va, access) !== TRANSLATE_FAULT) return;
  if (mmu.fault.kind === FAULT_TLB_REFILL && mmu.refill(0, 1, va, access)) mmu.translate(0, 1, va, access);
}

/** The replacement state is private to the Tlb: read here so a missed touch() shows. */
interface TlbInternals { stamp: Float64Array; setState: Uint32Array; clock: number }

function tlbState(t: Tlb): unknown {
  const r = t as unknown as TlbInternals;
  return { tag: bytes(t.tag), asid: bytes(t.asid), frame: bytes(t.frame), perm: bytes(t.perm), stamp: bytes(r.stamp), setState: bytes(r.setState), clock: r.clock };
}

/** A typed array's bytes as one string: compared whole, far faster than element by element. */
function bytes(a: ArrayBufferView): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

function state(mmu: Mmu): unknown {
  const c = mmu.cpus[0]!;
  return {
    metrics: mmu.metrics.snapshot(), stats: { ...mmu.stats },
    l1d: tlbState(c.l1d), l1i: tlbState(c.l1i), l2: c.l2 === null ? null : tlbState(c.l2),
    ptes: bytes(mmu.pool.flags),
  };
}

const FLAGS = [-1, PTE_USER | PTE_WRITE | PTE_NX, PTE_USER | PTE_NX, PTE_USER, PTE_USER | PTE_WRITE, PTE_WRITE];

describe('Mmu.translateHits', () => {
  for (const profile of ['x86-64', 'arm64-a72', 'mips-swtlb']) {
    it(`${profile}: a run through translateHits + translate equals translate() one by one`, () => {
      fc.assert(fc.property(
        fc.array(fc.constantFrom(...FLAGS), { minLength: PAGES, maxLength: PAGES }),
        fc.array(fc.record({ page: fc.nat(PAGES - 1), off: fc.nat(4095), access: fc.constantFrom<Access>(ACCESS_READ, ACCESS_WRITE, ACCESS_EXEC) }), { maxLength: 400 }),
        (flags, refs) => {
          const base = profile === 'mips-swtlb' ? 0x1000_0000 : BASE;
          const a = machine(profile, flags);
          const b = machine(profile, flags);
          const vas = Float64Array.from(refs, (r) => base + r.page * 4096 + r.off);
          const acc = Uint8Array.from(refs, (r) => r.access);
          for (let i = 0; i < vas.length; i++) one(a, vas[i]!, acc[i]! as Access);
          let slowPath = 0;
          for (let i = 0; i < vas.length;) {
            i = b.translateHits(0, 1, vas, acc, i, vas.length);
            if (i >= vas.length) break;
            slowPath++;
            one(b, vas[i]!, acc[i]! as Access);
            i++;
          }
          expect(state(b)).toEqual(state(a));
          // The fast path was taken (not everything fell back), unless nothing could hit.
          if (a.metrics.tlbHits > a.stats.l2Hits + 20) expect(slowPath).toBeLessThan(vas.length);
        },
      ), { numRuns: 40 });
    });
  }

  it('stops at the first reference it cannot take, changing nothing for it', () => {
    const mmu = machine('x86-64', [PTE_USER | PTE_NX]);
    const vas = Float64Array.of(BASE, BASE + 8, BASE + 16, BASE + 4096);
    const acc = Uint8Array.of(ACCESS_READ, ACCESS_READ, ACCESS_WRITE, ACCESS_READ);
    expect(mmu.translateHits(0, 1, vas, acc, 0, 4)).toBe(0); // cold TLB: a miss
    one(mmu, BASE, ACCESS_READ);
    const hits = mmu.metrics.tlbHits;
    // The read hits; the write to a read-only page is for translate() to fault.
    expect(mmu.translateHits(0, 1, vas, acc, 1, 4)).toBe(2);
    expect(mmu.metrics.tlbHits).toBe(hits + 1);
    expect(mmu.translateHits(0, 1, vas, acc, 1, 2)).toBe(2);
  });
});
