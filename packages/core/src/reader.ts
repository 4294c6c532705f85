/**
 * Bounds-checked little/big-endian reads over a Uint8Array, without copying it. Every read names
 * the field, so a malformed file fails with a FormatError saying which field at which offset.
 */
import { FormatError } from './errors.js';

export class ByteReader {
  readonly view: DataView;
  readonly length: number;

  constructor(readonly bytes: Uint8Array, readonly littleEndian: boolean) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.length = bytes.byteLength;
  }

  /** Throws unless [offset, offset + size) lies inside the file. */
  check(offset: number, size: number, field: string): void {
    if (!(offset >= 0 && size >= 0 && offset + size <= this.length && Number.isSafeInteger(offset + size))) {
      throw new FormatError(field, offset, `${field}: ${size} bytes at 0x${offset.toString(16)} run past the end of the file (0x${this.length.toString(16)} bytes)`);
    }
  }

  /** True when [offset, offset + size) lies inside the file. */
  inside(offset: number, size: number): boolean {
    return offset >= 0 && size >= 0 && offset + size <= this.length;
  }

  u8(offset: number, field: string): number {
    this.check(offset, 1, field);
    return this.bytes[offset]!;
  }

  u16(offset: number, field: string): number {
    this.check(offset, 2, field);
    return this.view.getUint16(offset, this.littleEndian);
  }

  u32(offset: number, field: string): number {
    this.check(offset, 4, field);
    return this.view.getUint32(offset, this.littleEndian);
  }

  i32(offset: number, field: string): number {
    this.check(offset, 4, field);
    return this.view.getInt32(offset, this.littleEndian);
  }

  /** An unsigned 64-bit field as a number; a FormatError if it exceeds 2^53 - 1. */
  u64(offset: number, field: string): number {
    this.check(offset, 8, field);
    const lo = this.view.getUint32(offset + (this.littleEndian ? 0 : 4), this.littleEndian);
    const hi = this.view.getUint32(offset + (this.littleEndian ? 4 : 0), this.littleEndian);
    if (hi > 0x1fffff) {
      throw new FormatError(field, offset, `${field} = 0x${(BigInt(hi) * 0x100000000n + BigInt(lo)).toString(16)} does not fit in 53 bits`);
    }
    return hi * 0x100000000 + lo;
  }

  /** A signed 64-bit field (addends) as a number; a FormatError outside ±(2^53 - 1). */
  i64(offset: number, field: string): number {
    this.check(offset, 8, field);
    const v = this.view.getBigInt64(offset, this.littleEndian);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new FormatError(field, offset, `${field} = ${v.toString()} does not fit in 53 bits`);
    }
    return Number(v);
  }

  /** The raw 64-bit value, for fields that may legitimately use all 64 bits (e.g. bloom words). */
  u64big(offset: number, field: string): bigint {
    this.check(offset, 8, field);
    return this.view.getBigUint64(offset, this.littleEndian);
  }

  /** A word of the file's class: 4 bytes for ELF32, 8 for ELF64. */
  word(offset: number, is64: boolean, field: string): number {
    return is64 ? this.u64(offset, field) : this.u32(offset, field);
  }

  /** A NUL-terminated string starting at `offset`, not reading past `limit`. */
  cstring(offset: number, limit: number, field: string): string {
    const end = Math.min(limit, this.length);
    if (offset < 0 || offset >= end) throw new FormatError(field, offset, `${field}: string offset 0x${offset.toString(16)} outside its table`);
    let i = offset;
    while (i < end && this.bytes[i] !== 0) i++;
    if (i === end) throw new FormatError(field, offset, `${field}: string at 0x${offset.toString(16)} is not NUL-terminated`);
    return decodeString(this.bytes, offset, i);
  }
}

const decoder = new TextDecoder('utf-8', { fatal: false });

/** Decode bytes [start, end) as UTF-8 (ELF strings are bytes; non-UTF-8 gets U+FFFD). */
function decodeString(bytes: Uint8Array, start: number, end: number): string {
  // Fast path for ASCII, which is nearly every symbol name.
  if (end - start < 64) {
    let s = '';
    for (let i = start; i < end; i++) {
      const c = bytes[i]!;
      if (c >= 0x80) return decoder.decode(bytes.subarray(start, end));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return decoder.decode(bytes.subarray(start, end));
}
