/**
 * The VAD bitmap (WRK vadtree.c MiFindEmptyAddressRange / MiInsertVad, and the bit clearing when
 * a VAD goes): one bit per 64 KiB chunk of the first 2 GiB, a hint below which every chunk is in
 * use, RtlFindClearBits from the hint. Properties: the bitmap is exactly "some VAD touches this
 * chunk", every chunk below the hint is in use, and for allocations at 64 KiB boundaries (as
 * VirtualAlloc(NULL) and views make them) the bitmap finds the place the in-order tree walk finds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALLOCATION_GRANULARITY, LOWEST_USER_ADDRESS, MEM_COMMIT, MEM_RELEASE, MEM_RESERVE, PAGE_READWRITE, USER_SPACE_END } from './constants.js';
import { findClearBits, findFree, VAD_BITMAP_BITS } from './mm.js';
import { bootWindows, type Win } from './testkit.js';
import type { WindowsSpace } from './types.js';

const CHUNK = ALLOCATION_GRANULARITY;

/** The bitmap agrees with the tree, and the hint's invariant holds. */
function checkBitmap(space: WindowsSpace): void {
  for (let i = 0; i < VAD_BITMAP_BITS; i++) {
    const used = space.vads.overlapping(i * CHUNK, (i + 1) * CHUNK).length > 0;
    if ((space.vadBitmap[i] !== 0) !== used) throw new Error(`chunk ${i}: bitmap ${space.vadBitmap[i]}, tree says ${used ? 'used' : 'free'}`);
  }
  for (let i = 1; i < Math.min(space.vadBitmapHint, VAD_BITMAP_BITS); i++) if (space.vadBitmap[i] === 0) throw new Error(`chunk ${i} below the hint ${space.vadBitmapHint} is free`);
}

/** The in-order tree walk's answer (MiFindEmptyAddressRangeInTree). */
const treeWalk = (space: WindowsSpace, size: number): number =>
  space.vads.findGap({ length: size, alignment: CHUNK, low: LOWEST_USER_ADDRESS, high: USER_SPACE_END, topDown: false });

describe('RtlFindClearBits', () => {
  it('finds the first run at or after the hint, wraps round, and never returns bit 0', () => {
    const b = new Uint8Array(16);
    b.fill(1, 3, 6);
    expect(findClearBits(b, 2, 0)).toBe(1);
    expect(findClearBits(b, 3, 0)).toBe(6);
    expect(findClearBits(b, 2, 10)).toBe(10);
    expect(findClearBits(b, 7, 12)).toBe(6); // nothing from 12 on: wraps round
    expect(findClearBits(b, 11, 0)).toBe(-1);
    b.fill(1);
    b[0] = 0;
    expect(findClearBits(b, 1, 0)).toBe(-1);
  });
});

describe('the VAD bitmap', () => {
  it('VirtualAlloc(NULL) takes the chunk at the hint; a release lowers the hint to its chunk', () => {
    const w = bootWindows();
    const s = w.p.space;
    const a = w.call('VirtualAlloc', 0, 0x1000, MEM_RESERVE, PAGE_READWRITE);
    const b = w.call('VirtualAlloc', 0, 0x20000, MEM_RESERVE, PAGE_READWRITE);
    const c = w.call('VirtualAlloc', 0, 0x1000, MEM_RESERVE, PAGE_READWRITE);
    expect([a, b, c]).toEqual([0x10000, 0x20000, 0x40000]);
    expect(s.vadBitmapHint).toBe(5);
    expect(w.call('VirtualFree', b, 0, MEM_RELEASE)).toBe(1);
    expect(s.vadBitmapHint).toBe(2);
    expect(w.call('VirtualAlloc', 0, 0x30000, MEM_RESERVE, PAGE_READWRITE)).toBe(0x50000); // too big for the hole at the hint
    expect(s.vadBitmapHint).toBe(2);
    expect(w.call('VirtualAlloc', 0, 0x10000, MEM_RESERVE, PAGE_READWRITE)).toBe(0x20000);
    expect(s.vadBitmapHint).toBe(3);
    checkBitmap(s);
  });

  it('a chunk two VADs share stays in use until both are gone (NtFreeVirtualMemory splitting a VAD)', () => {
    const w = bootWindows();
    const base = w.call('VirtualAlloc', 0, 0x20000, MEM_RESERVE, PAGE_READWRITE);
    // Release the middle: [base, +0x8000) and [+0x18000, +0x20000) remain, chunk 2 and 3 are partly used.
    expect(w.call('NtFreeVirtualMemory', -1, base + 0x8000, 0x10000, MEM_RELEASE)).toBe(0);
    checkBitmap(w.p.space);
    expect(w.call('NtFreeVirtualMemory', -1, base, 0, MEM_RELEASE)).toBe(0);
    checkBitmap(w.p.space);
    expect(w.p.space.vadBitmap[base / CHUNK]).toBe(0);
    expect(w.p.space.vadBitmap[base / CHUNK + 1]).toBe(1);
  });

  it('property: the bitmap mirrors the tree, the hint holds, and it finds the tree walk\'s place', () => {
    type Op = { alloc: true; pages: number; commit: boolean } | { alloc: false; which: number };
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ alloc: fc.constant(true as const), pages: fc.integer({ min: 1, max: 48 }), commit: fc.boolean() }),
      fc.record({ alloc: fc.constant(false as const), which: fc.nat() }),
    );
    fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 40 }), (ops, probePages) => {
      const w: Win = bootWindows({}, { frames: 4096, contents: false });
      const live: number[] = [];
      for (const o of ops) {
        if (o.alloc) {
          const size = o.pages * 0x1000;
          const expected = treeWalk(w.p.space, size);
          const got = w.call('VirtualAlloc', 0, size, o.commit ? MEM_RESERVE | MEM_COMMIT : MEM_RESERVE, PAGE_READWRITE);
          expect(got).toBe(expected);
          if (got !== 0) live.push(got);
        } else if (live.length > 0) {
          const [addr] = live.splice(o.which % live.length, 1);
          expect(w.call('VirtualFree', addr!, 0, MEM_RELEASE)).toBe(1);
        }
        checkBitmap(w.p.space);
        expect(findFree(w.p.space, probePages * 0x1000, false)).toBe(treeWalk(w.p.space, probePages * 0x1000));
      }
    }), { numRuns: 60 });
  });
});

it('commits through the bitmap path as before: MEM_COMMIT without an address reserves too', () => {
  const w = bootWindows();
  expect(w.call('VirtualAlloc', 0, 0x1000, MEM_COMMIT, PAGE_READWRITE)).toBe(0x10000);
});
