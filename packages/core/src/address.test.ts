import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bigintToNumber, bitField, isAligned, isPowerOfTwo, log2Exact, pageDown, pageNumber, pageOffset,
  pageUp, pagesIn, rangeContains, rangesOverlap, PAGE_SIZE_1G, PAGE_SIZE_2M, PAGE_SIZE_4K,
} from './address.js';
import { FormatError, RangeCheckError } from './errors.js';
import { hex, hex0x, hex016, hex08, hex0x016, formatBytes } from './format.js';

const P47 = 2 ** 47;
const P48 = 2 ** 48;
const P52 = 2 ** 52;

describe('page math at the canonical-address boundaries', () => {
  it.each([
    ['2^47', P47],
    ['2^48', P48],
    ['2^52', P52],
  ])('%s: rounding, page numbers and offsets are exact', (_label, boundary) => {
    expect(pageDown(boundary - 1)).toBe(boundary - PAGE_SIZE_4K);
    expect(pageUp(boundary - 1)).toBe(boundary);
    expect(pageUp(boundary + 1)).toBe(boundary + PAGE_SIZE_4K);
    expect(pageDown(boundary)).toBe(boundary);
    expect(pageNumber(boundary)).toBe(boundary / 4096);
    expect(pageNumber(boundary - 1)).toBe(boundary / 4096 - 1);
    expect(pageOffset(boundary + 0xabc)).toBe(0xabc);
    expect(isAligned(boundary, PAGE_SIZE_1G)).toBe(true);
    expect(isAligned(boundary + PAGE_SIZE_2M, PAGE_SIZE_1G)).toBe(false);
    expect(pageDown(boundary + PAGE_SIZE_2M + 5, PAGE_SIZE_2M)).toBe(boundary + PAGE_SIZE_2M);
    expect(hex0x(boundary - 1)).toBe('0x' + (boundary - 1).toString(16));
  });

  it('x86-64 user space top (0x7fffffffffff) and the last user page', () => {
    const top = P47 - 1;
    expect(hex(top)).toBe('7fffffffffff');
    expect(pageDown(top)).toBe(0x7ffffffff000);
    expect(pageNumber(top)).toBe(0x7ffffffff);
  });

  it('bitField extracts the 4-level walk indices of a 48-bit address', () => {
    const va = 0x7f12_3456_7000 + 0x123;
    expect(bitField(va, 39, 9)).toBe(0xfe);
    expect(bitField(va, 30, 9)).toBe(0x48);
    expect(bitField(va, 21, 9)).toBe(0x1a2);
    expect(bitField(va, 12, 9)).toBe(0x167);
    expect(bitField(va, 0, 12)).toBe(0x123);
    // LA57 top-level index of an address above 2^52
    expect(bitField(P52 + 2 ** 48, 48, 9)).toBe(17);
  });

  it('pageUp refuses to leave the safe-integer range', () => {
    expect(() => pageUp(Number.MAX_SAFE_INTEGER)).toThrow(RangeCheckError);
  });

  it('property: pageDown <= a < pageDown + size, pageUp >= a, both aligned', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 52 }), fc.constantFrom(PAGE_SIZE_4K, PAGE_SIZE_2M, PAGE_SIZE_1G), (a, size) => {
        const d = pageDown(a, size);
        const u = pageUp(a, size);
        return d <= a && a < d + size && u >= a && u - a < size && isAligned(d, size) && isAligned(u, size)
          && pageNumber(a, size) * size === d && pagesIn(a, size) * size === u;
      }),
      { seed: 42 },
    );
  });

  it('property: bitField agrees with BigInt shifting', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 0, max: 48 }), fc.integer({ min: 1, max: 12 }), (a, shift, width) => {
        const expected = Number((BigInt(a) >> BigInt(shift)) & ((1n << BigInt(width)) - 1n));
        return bitField(a, shift, width) === expected;
      }),
      { seed: 42 },
    );
  });
});

describe('powers of two', () => {
  it('recognises powers of two above 2^31', () => {
    expect(isPowerOfTwo(2 ** 40)).toBe(true);
    expect(isPowerOfTwo(2 ** 40 + 4096)).toBe(false);
    expect(isPowerOfTwo(0)).toBe(false);
    expect(log2Exact(PAGE_SIZE_1G)).toBe(30);
    expect(log2Exact(2 ** 52)).toBe(52);
    expect(() => log2Exact(12)).toThrow(RangeCheckError);
  });
});

describe('ranges', () => {
  it('half-open overlap', () => {
    expect(rangesOverlap(0, 10, 10, 20)).toBe(false);
    expect(rangesOverlap(0, 11, 10, 20)).toBe(true);
    expect(rangesOverlap(P48, P48 + 1, P48, P48 + 1)).toBe(true);
    expect(rangeContains(0, 100, 10, 100)).toBe(true);
    expect(rangeContains(0, 100, 10, 101)).toBe(false);
  });
  it('property: overlap is symmetric and matches an interval check', () => {
    fc.assert(
      fc.property(fc.nat(1000), fc.nat(100), fc.nat(1000), fc.nat(100), (a, la, b, lb) => {
        const expected = la > 0 && lb > 0 && Math.max(a, b) < Math.min(a + la, b + lb);
        return rangesOverlap(a, a + la, b, b + lb) === expected && rangesOverlap(b, b + lb, a, a + la) === expected;
      }),
      { seed: 42 },
    );
  });
});

describe('checked bigint -> number', () => {
  it('accepts up to 2^53 - 1', () => {
    expect(bigintToNumber(2n ** 53n - 1n)).toBe(Number.MAX_SAFE_INTEGER);
    expect(bigintToNumber(2n ** 52n)).toBe(P52);
  });
  it('rejects 2^53 and above, and negatives', () => {
    expect(() => bigintToNumber(2n ** 53n)).toThrow(RangeCheckError);
    expect(() => bigintToNumber(2n ** 64n - 1n)).toThrow(/does not fit in 53 bits/);
    expect(() => bigintToNumber(-1n)).toThrow(RangeCheckError);
  });
  it('with an offset it is a FormatError naming the field', () => {
    try {
      bigintToNumber(0xffff_ffff_ffff_ffffn, 'e_entry', 0x18);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(FormatError);
      const fe = e as FormatError;
      expect(fe.field).toBe('e_entry');
      expect(fe.offset).toBe(0x18);
      expect(fe.message).toContain('0x18');
    }
  });
});

describe('hex formats', () => {
  it('prints like printf', () => {
    expect(hex016(0x400000)).toBe('0000000000400000');
    expect(hex08(0x1000)).toBe('00001000');
    expect(hex0x016(P48 - 4096)).toBe('0x0000fffffffff000');
    expect(hex08(P47 - 1)).toBe('7fffffffffff'); // %08lx never truncates
    expect(formatBytes(4096)).toBe('4 KiB');
    expect(formatBytes(3 * 1024 * 1024)).toBe('3 MiB');
    expect(formatBytes(1536)).toBe('1.5 KiB');
  });
});
