/**
 * Address and page arithmetic on JS numbers.
 *
 * Addresses are plain numbers (safe integers, up to 2^53 - 1), so user address spaces of 47 to 52
 * bits fit. Bitwise operators truncate to 32 bits, so nothing here uses them: page math is done by
 * division and multiplication, which is exact for safe integers and power-of-two page sizes.
 */
import { FormatError, RangeCheckError } from './errors.js';

/** The base page size of every profile we ship (4 KiB). */
export const PAGE_SIZE_4K = 4096;
/** x86-64 PMD / arm64 level-2 block size. */
export const PAGE_SIZE_2M = 2 * 1024 * 1024;
/** x86-64 PUD / arm64 level-1 block size. */
export const PAGE_SIZE_1G = 1024 * 1024 * 1024;

/** Largest address representable exactly (2^53 - 1). */
export const MAX_ADDRESS = Number.MAX_SAFE_INTEGER;

/** True when `addr` is a non-negative safe integer, i.e. a usable address or size. */
export function isAddress(addr: number): boolean {
  return Number.isSafeInteger(addr) && addr >= 0;
}

/** Throws a RangeCheckError unless `addr` is a non-negative safe integer. */
export function assertAddress(addr: number, what = 'address'): void {
  if (!isAddress(addr)) throw new RangeCheckError(`${what} ${String(addr)} is not a non-negative safe integer`);
}

/** Round `addr` down to a multiple of `size` (a power of two or any positive integer). */
export function pageDown(addr: number, size: number = PAGE_SIZE_4K): number {
  return addr - (addr % size);
}

/** Round `addr` up to a multiple of `size`. Throws if the result would not be a safe integer. */
export function pageUp(addr: number, size: number = PAGE_SIZE_4K): number {
  const rem = addr % size;
  if (rem === 0) return addr;
  const up = addr + (size - rem);
  if (!Number.isSafeInteger(up)) throw new RangeCheckError(`pageUp(${addr}, ${size}) exceeds 2^53`);
  return up;
}

/** Page number (virtual or physical) of an address: floor(addr / size). */
export function pageNumber(addr: number, size: number = PAGE_SIZE_4K): number {
  return Math.floor(addr / size);
}

/** Offset of an address inside its page. */
export function pageOffset(addr: number, size: number = PAGE_SIZE_4K): number {
  return addr % size;
}

/** Number of pages of `size` needed to cover `length` bytes. */
export function pagesIn(length: number, size: number = PAGE_SIZE_4K): number {
  return Math.ceil(length / size);
}

/** True when `addr` is a multiple of `alignment`. */
export function isAligned(addr: number, alignment: number = PAGE_SIZE_4K): boolean {
  return addr % alignment === 0;
}

/** True when `n` is a positive power of two (works above 2^31). */
export function isPowerOfTwo(n: number): boolean {
  if (!Number.isSafeInteger(n) || n <= 0) return false;
  while (n % 2 === 0) n /= 2;
  return n === 1;
}

/** log2 of a power of two, exact above 2^31. */
export function log2Exact(n: number): number {
  if (!isPowerOfTwo(n)) throw new RangeCheckError(`${n} is not a power of two`);
  let bits = 0;
  while (n > 1) {
    n /= 2;
    bits++;
  }
  return bits;
}

/**
 * Extract `width` bits starting at bit `shift` of an address: floor(addr / 2^shift) mod 2^width.
 * This is how a page walk computes its table index at each level.
 */
export function bitField(addr: number, shift: number, width: number): number {
  return Math.floor(addr / 2 ** shift) % 2 ** width;
}

/** Half-open ranges [aStart, aEnd) and [bStart, bEnd) share at least one byte (an empty range overlaps nothing). */
export function rangesOverlap(aStart: number, aEnd: number, bStart: number, bEnd: number): boolean {
  return aStart < bEnd && bStart < aEnd && aStart < aEnd && bStart < bEnd;
}

/** [inner) lies entirely within [outer). */
export function rangeContains(outerStart: number, outerEnd: number, innerStart: number, innerEnd: number): boolean {
  return outerStart <= innerStart && innerEnd <= outerEnd;
}

/**
 * Convert a bigint read from a 64-bit field to a number, failing loudly above 2^53 - 1.
 * Parsers pass the field name and file offset so the error is a FormatError a user can act on.
 */
export function bigintToNumber(value: bigint, field = 'value', offset?: number): number {
  if (value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER)) {
    const msg = `${field} = 0x${value.toString(16)} does not fit in 53 bits`;
    if (offset !== undefined) throw new FormatError(field, offset, msg);
    throw new RangeCheckError(msg);
  }
  return Number(value);
}

/** Same as bigintToNumber but returns undefined instead of throwing (for optional fields). */
export function bigintToNumberOrUndefined(value: bigint): number | undefined {
  return value < 0n || value > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(value);
}
