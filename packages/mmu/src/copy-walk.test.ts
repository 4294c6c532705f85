import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Mmu } from './mmu.js';
import type { PageTable } from './pagetable.js';
import { getProfile } from './profiles.js';
import { PTE_ACCESSED, PTE_HUGE, PTE_PRESENT, PTE_USER, PTE_WRITE } from './pte.js';

/**
 * protect() and copyFrom() walk the tables themselves (no callback per leaf): checked against a
 * per-page model over 4 KiB and 2 MiB leaves, with ranges that cut 2 MiB leaves (which are split
 * first, then only the 4 KiB pieces inside change).
 */
const BASE = 0x7f0000000000;
const SUPER = 512;
const REGION = 8 * SUPER; // 4 KiB pages in the test region

interface Leaf { frame: number; flags: number; size: number }

/** Map the drawn leaves (a 2 MiB leaf wherever its first page is drawn as huge) and return the model. */
function build(pt: PageTable, smalls: number[], huges: number[]): Map<number, Leaf> {
  const model = new Map<number, Leaf>();
  const hugeSet = new Set(huges);
  for (const h of hugeSet) {
    const first = h * SUPER;
    if (pt.map(BASE + first * 4096, 4096 + h * SUPER, 2 * 1024 * 1024, PTE_USER | PTE_WRITE | PTE_ACCESSED) !== 0) throw new Error('map');
    for (let i = 0; i < SUPER; i++) model.set(first + i, { frame: 4096 + h * SUPER + i, flags: PTE_USER | PTE_WRITE | PTE_ACCESSED | PTE_PRESENT | PTE_HUGE, size: 2 * 1024 * 1024 });
  }
  for (const pg of smalls) {
    if (hugeSet.has(Math.floor(pg / SUPER))) continue;
    if (pt.map(BASE + pg * 4096, 100 + pg, 4096, PTE_USER | PTE_WRITE | PTE_ACCESSED) !== 0) throw new Error('map');
    model.set(pg, { frame: 100 + pg, flags: PTE_USER | PTE_WRITE | PTE_ACCESSED | PTE_PRESENT, size: 4096 });
  }
  return model;
}

/** Split, in the model, every 2 MiB leaf the page range [from, to) cuts; return the leaves inside (a 2 MiB leaf once). */
function leavesInside(model: Map<number, Leaf>, from: number, to: number): number[] {
  const inside: number[] = [];
  for (const [pg, l] of model) {
    const first = pg - (pg % SUPER);
    const overlaps = first < to && first + SUPER > from;
    const whole = first >= from && first + SUPER <= to;
    if (l.size !== 4096 && overlaps && !whole) {
      l.size = 4096;
      l.flags &= ~PTE_HUGE;
    }
  }
  for (const [pg, l] of model) {
    if (pg < from || pg >= to) continue;
    if (l.size === 4096 || pg % SUPER === 0) inside.push(pg);
  }
  return inside.sort((a, b) => a - b);
}

function checkAgainst(pt: PageTable, model: Map<number, Leaf>, base: (pg: number) => boolean = () => true): void {
  for (let pg = 0; pg < REGION; pg++) {
    const l = base(pg) ? model.get(pg) : undefined;
    const r = pt.lookup(BASE + pg * 4096);
    if (l === undefined) {
      expect(r).toBeNull();
      continue;
    }
    expect(r).not.toBeNull();
    expect(r!.pageSize).toBe(l.size);
    expect(r!.frame + (l.size === 4096 ? 0 : pg % SUPER)).toBe(l.frame);
    expect(r!.flags).toBe(l.flags);
  }
}

const drawn = [
  fc.uniqueArray(fc.integer({ min: 0, max: REGION - 1 }), { maxLength: 300 }),
  fc.uniqueArray(fc.integer({ min: 0, max: 7 }), { maxLength: 4 }),
  fc.integer({ min: 0, max: REGION - 1 }), fc.integer({ min: 1, max: REGION }),
] as const;

describe('PageTable.protect and copyFrom walking the tables directly', () => {
  it('protect changes exactly the leaves inside, splitting the 2 MiB leaves the range cuts', () => {
    fc.assert(fc.property(...drawn, (smalls, huges, from, count) => {
      const mmu = new Mmu(getProfile('x86-64'), { frames: 8192 });
      const pt = mmu.createPageTable();
      const model = build(pt, smalls, huges);
      const to = Math.min(REGION, from + count);
      const inside = leavesInside(model, from, to);
      for (const [pg, l] of model) if (pg >= from && pg < to) l.flags &= ~PTE_WRITE;
      expect(pt.protect(BASE + from * 4096, (to - from) * 4096, 0, PTE_WRITE)).toBe(inside.length);
      checkAgainst(pt, model);
    }), { seed: 0x13_0501, numRuns: 50 });
  });

  it('copyFrom copies exactly the leaves inside, 2 MiB ones whole, and write-protects them under cow', () => {
    fc.assert(fc.property(...drawn, fc.boolean(), (smalls, huges, from, count, cow) => {
      const mmu = new Mmu(getProfile('x86-64'), { frames: 16_384 });
      const src = mmu.createPageTable();
      const model = build(src, smalls, huges);
      const to = Math.min(REGION, from + count);
      const inside = leavesInside(model, from, to);
      const dst = mmu.createPageTable();
      const seen: number[] = [];
      const n = dst.copyFrom(src, BASE + from * 4096, (to - from) * 4096, cow, PTE_WRITE, PTE_ACCESSED, (frame, childFlags, parentFlags, wp) => {
        seen.push(frame);
        expect(wp).toBe(cow);
        expect(childFlags).toBe(parentFlags & ~PTE_ACCESSED);
      });
      expect(n).toBe(inside.length);
      expect(seen).toEqual(inside.map((pg) => model.get(pg)!.frame));
      if (cow) for (const [pg, l] of model) if (pg >= from && pg < to) l.flags &= ~PTE_WRITE;
      checkAgainst(src, model);
      const child = new Map([...model].filter(([pg]) => pg >= from && pg < to).map(([pg, l]) => [pg, { ...l, flags: l.flags & ~PTE_ACCESSED }]));
      checkAgainst(dst, child);
    }), { seed: 0x13_0502, numRuns: 50 });
  });

  it('copyFrom fails with MAP_NO_MEMORY, copying nothing more, when a child table cannot be had', () => {
    const mmu = new Mmu(getProfile('x86-64'), { frames: 64 });
    const src = mmu.createPageTable();
    for (let i = 0; i < 8; i++) expect(src.map(BASE + i * 2 * 1024 * 1024, 10 + i, 4096, PTE_USER)).toBe(0);
    while (mmu.frames.freeFrames > 4) mmu.frames.alloc(0, false, 0);
    const dst = mmu.createPageTable();
    const seen: number[] = [];
    expect(dst.copyFrom(src, BASE, 16 * 1024 * 1024, false, 0, 0, (f) => seen.push(f))).toBe(-1);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.length).toBeLessThan(8);
    expect(seen).toEqual([10, 11, 12, 13, 14, 15, 16, 17].slice(0, seen.length));
  });
});
