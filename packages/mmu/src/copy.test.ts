import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Mmu } from './mmu.js';
import { getProfile } from './profiles.js';
import { PTE_ACCESSED, PTE_USER, PTE_WRITE } from './pte.js';

describe('PageTable.copyFrom (fork\'s copy_pte_range)', () => {
  it('copies every leaf of the range, write-protects both sides under cow, and agrees with a per-page model', () => {
    fc.assert(fc.property(
      fc.uniqueArray(fc.integer({ min: 0, max: 3000 }), { maxLength: 120 }),
      fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 1, max: 3000 }), fc.boolean(),
      (pages, from, count, cow) => {
        const mmu = new Mmu(getProfile('x86-64'), { frames: 8192 });
        const src = mmu.createPageTable();
        const base = 0x7f0000000000;
        for (const [i, pg] of pages.entries()) src.map(base + pg * 4096, 100 + i, 4096, PTE_USER | PTE_WRITE | PTE_ACCESSED);
        const free0 = mmu.frames.freeFrames;
        const dst = mmu.createPageTable();
        const seen: number[] = [];
        const n = dst.copyFrom(src, base + from * 4096, count * 4096, cow, PTE_WRITE, PTE_ACCESSED, (frame) => seen.push(frame));
        const inRange = pages.filter((pg) => pg >= from && pg < from + count);
        expect(n).toBe(inRange.length);
        expect(seen.sort((a, b) => a - b)).toEqual(inRange.map((pg) => 100 + pages.indexOf(pg)).sort((a, b) => a - b));
        for (const pg of pages) {
          const va = base + pg * 4096;
          const s = src.lookup(va)!;
          const d = dst.lookup(va);
          const inside = pg >= from && pg < from + count;
          expect(d === null).toBe(!inside);
          expect((s.flags & PTE_WRITE) !== 0).toBe(!(inside && cow));
          if (d !== null) {
            expect(d.frame).toBe(s.frame);
            expect(d.flags & PTE_ACCESSED).toBe(0);
            expect((d.flags & PTE_WRITE) !== 0).toBe(!cow);
          }
        }
        // The child's tables are counted like map() counts them (a table built by map() with the
        // same leaves has as many pages), every frame taken is one of them, and exactly those come
        // back when it is destroyed.
        const taken = free0 - mmu.frames.freeFrames;
        expect(taken).toBe(dst.tablePages);
        const ref = mmu.createPageTable();
        for (const pg of inRange) ref.map(base + pg * 4096, 100 + pages.indexOf(pg), 4096, PTE_USER);
        expect(dst.tablePages).toBe(ref.tablePages);
        ref.destroy();
        dst.destroy();
        expect(dst.tablePages).toBe(0);
        expect(mmu.frames.freeFrames).toBe(free0);
      },
    ), { seed: 0x22_0305, numRuns: 150 });
  });
});

describe('PageTable.map\'s last-leaf-table shortcut', () => {
  it('never writes through a table that was freed and handed to another address space', () => {
    const mmu = new Mmu(getProfile('x86-64'), { frames: 4096 });
    const a = mmu.createPageTable();
    const b = mmu.createPageTable();
    const va = 0x7f0000000000;
    expect(a.map(va, 10, 4096, PTE_USER)).toBe(0);
    a.unmap(va, 4096); // frees a's now-empty PT, PD and PDPT tables
    expect(b.map(va, 20, 4096, PTE_USER)).toBe(0); // b may get the very same table pages
    expect(a.map(va + 4096, 30, 4096, PTE_USER)).toBe(0); // must walk again, not reuse the old PT
    expect(b.lookup(va)!.frame).toBe(20);
    expect(b.lookup(va + 4096)).toBeNull();
    expect(a.lookup(va + 4096)!.frame).toBe(30);
    expect(a.lookup(va)).toBeNull();
  });
});
