/**
 * Symbol lookup through DT_GNU_HASH and DT_HASH exactly as ld.so does it
 * (glibc elf/dl-lookup.c: do_lookup_x, dl_new_hash; the SysV gABI "Hash Table" section).
 */
import { FormatError } from '@polykernel/core';
import type { ByteReader } from './reader.js';

const encoder = new TextEncoder();

function bytesOf(name: string): Uint8Array | string {
  for (let i = 0; i < name.length; i++) if (name.charCodeAt(i) >= 0x80) return encoder.encode(name);
  return name;
}

function codeAt(b: Uint8Array | string, i: number): number {
  return typeof b === 'string' ? b.charCodeAt(i) : b[i]!;
}

/** dl_new_hash: h = h * 33 + c, from 5381, in 32 bits. */
export function gnuHash(name: string): number {
  const b = bytesOf(name);
  let h = 5381;
  for (let i = 0; i < b.length; i++) h = (Math.imul(h, 33) + codeAt(b, i)) >>> 0;
  return h;
}

/** The SysV ELF hash (gABI). */
export function sysvHash(name: string): number {
  const b = bytesOf(name);
  let h = 0;
  for (let i = 0; i < b.length; i++) {
    h = ((h << 4) + codeAt(b, i)) >>> 0;
    const g = h & 0xf0000000;
    if (g !== 0) h ^= g >>> 24;
    h = (h & ~g) >>> 0;
  }
  return h;
}

/** A parsed DT_GNU_HASH table. */
export class GnuHashTable {
  readonly nbuckets: number;
  readonly symoffset: number;
  readonly bloomSize: number;
  readonly bloomShift: number;
  private readonly bloomOff: number;
  private readonly bucketOff: number;
  private readonly chainOff: number;
  private readonly wordBits: number;

  constructor(private readonly r: ByteReader, readonly offset: number, is64: boolean) {
    this.nbuckets = r.u32(offset, 'gnu_hash.nbuckets');
    this.symoffset = r.u32(offset + 4, 'gnu_hash.symoffset');
    this.bloomSize = r.u32(offset + 8, 'gnu_hash.bloom_size');
    this.bloomShift = r.u32(offset + 12, 'gnu_hash.bloom_shift');
    this.wordBits = is64 ? 64 : 32;
    this.bloomOff = offset + 16;
    this.bucketOff = this.bloomOff + this.bloomSize * (this.wordBits / 8);
    this.chainOff = this.bucketOff + this.nbuckets * 4;
    if (this.nbuckets === 0) throw new FormatError('gnu_hash.nbuckets', offset, 'DT_GNU_HASH has no buckets');
    if (this.bloomSize === 0 || (this.bloomSize & (this.bloomSize - 1)) !== 0) {
      throw new FormatError('gnu_hash.bloom_size', offset + 8, `bloom size ${this.bloomSize} is not a power of two`);
    }
    r.check(this.bloomOff, this.chainOff - this.bloomOff, 'gnu_hash bloom/buckets');
  }

  /**
   * Number of dynamic symbols, as a loader without section headers finds it: the highest bucket
   * start, then along its chain to the entry with the end bit.
   */
  symbolCount(limit: number): number {
    let max = 0;
    for (let i = 0; i < this.nbuckets; i++) max = Math.max(max, this.r.u32(this.bucketOff + i * 4, 'gnu_hash.bucket'));
    if (max < this.symoffset) return this.symoffset;
    for (let ix = max; ix < limit; ix++) {
      const h = this.r.u32(this.chainOff + (ix - this.symoffset) * 4, 'gnu_hash.chain');
      if ((h & 1) !== 0) return ix + 1;
    }
    throw new FormatError('gnu_hash.chain', this.chainOff, 'GNU hash chain does not end inside the file');
  }

  /**
   * Look up `name`; `nameAt(i)` returns symbol i's name. Returns the symbol index or -1. Follows
   * do_lookup_x: bloom filter, bucket, chain compare on the hash with the low bit masked.
   */
  lookup(name: string, nameAt: (index: number) => string, symbolCount: number, accept: (index: number) => boolean = () => true): number {
    const h1 = gnuHash(name);
    const C = this.wordBits;
    const wordIndex = Math.floor(h1 / C) % this.bloomSize;
    const bit1 = h1 % C;
    const bit2 = (h1 >>> this.bloomShift) % C;
    if (!this.bloomBit(wordIndex, bit1) || !this.bloomBit(wordIndex, bit2)) return -1;
    let ix = this.r.u32(this.bucketOff + (h1 % this.nbuckets) * 4, 'gnu_hash.bucket');
    if (ix < this.symoffset) return -1;
    for (; ix < symbolCount; ix++) {
      const h2 = this.r.u32(this.chainOff + (ix - this.symoffset) * 4, 'gnu_hash.chain');
      if ((h1 | 1) === (h2 | 1) && nameAt(ix) === name && accept(ix)) return ix;
      if ((h2 & 1) !== 0) break;
    }
    return -1;
  }

  /**
   * Each bucket's chain length, as readelf -I counts it: from the bucket's first symbol to the
   * entry with the end bit, stopping at `symbolCount` (readelf's ngnuchains bound, PR 17531);
   * null when readelf shows no histogram.
   */
  bucketLengths(symbolCount: number): number[] | null {
    // readelf (get_num_dynamic_syms) has no histogram for a table with no hashed symbol, or with a
    // bucket that points below symoffset.
    let hashed = false;
    for (let hn = 0; hn < this.nbuckets; hn++) {
      const start = this.r.u32(this.bucketOff + hn * 4, 'gnu_hash.bucket');
      if (start !== 0 && start < this.symoffset) return null;
      if (start !== 0) hashed = true;
    }
    if (!hashed) return null;
    const chains = symbolCount - this.symoffset;
    const lengths = new Array<number>(this.nbuckets).fill(0);
    for (let hn = 0; hn < this.nbuckets; hn++) {
      const start = this.r.u32(this.bucketOff + hn * 4, 'gnu_hash.bucket');
      if (start === 0) continue;
      let length = 1;
      for (let off = start - this.symoffset; off >= 0 && off < chains && (this.r.u32(this.chainOff + off * 4, 'gnu_hash.chain') & 1) === 0; off++) length++;
      lengths[hn] = length;
    }
    return lengths;
  }

  private bloomBit(word: number, bit: number): boolean {
    if (this.wordBits === 32) return ((this.r.u32(this.bloomOff + word * 4, 'gnu_hash.bloom') >>> bit) & 1) === 1;
    // A 64-bit bloom word read as two 32-bit halves in the file's byte order.
    const base = this.bloomOff + word * 8;
    const lowFirst = this.r.littleEndian;
    const half = bit < 32 ? (lowFirst ? base : base + 4) : lowFirst ? base + 4 : base;
    return ((this.r.u32(half, 'gnu_hash.bloom') >>> (bit % 32)) & 1) === 1;
  }
}

/** A parsed DT_HASH (SysV) table. */
export class SysvHashTable {
  readonly nbucket: number;
  readonly nchain: number;

  constructor(private readonly r: ByteReader, readonly offset: number) {
    this.nbucket = r.u32(offset, 'hash.nbucket');
    this.nchain = r.u32(offset + 4, 'hash.nchain');
    r.check(offset + 8, (this.nbucket + this.nchain) * 4, 'hash buckets/chains');
    if (this.nbucket === 0) throw new FormatError('hash.nbucket', offset, 'DT_HASH has no buckets');
  }

  /** nchain equals the number of dynamic symbols (gABI). */
  symbolCount(): number {
    return this.nchain;
  }

  /**
   * Each bucket's chain length, as readelf -I counts it; a chain that leaves the table or comes
   * back to a symbol is cut there (readelf: "histogram chain is corrupt").
   */
  bucketLengths(): { lengths: number[]; corrupt: boolean } {
    const lengths = new Array<number>(this.nbucket).fill(0);
    const visited = new Uint8Array(this.nchain);
    let corrupt = false;
    for (let hn = 0; hn < this.nbucket; hn++) {
      for (let si = this.r.u32(this.offset + 8 + hn * 4, 'hash.bucket'); si > 0; si = this.r.u32(this.offset + 8 + (this.nbucket + si) * 4, 'hash.chain')) {
        lengths[hn]!++;
        if (si >= this.nchain || visited[si] === 1) {
          corrupt = true;
          break;
        }
        visited[si] = 1;
      }
    }
    return { lengths, corrupt };
  }

  lookup(name: string, nameAt: (index: number) => string, accept: (index: number) => boolean = () => true): number {
    const h = sysvHash(name);
    let i = this.r.u32(this.offset + 8 + (h % this.nbucket) * 4, 'hash.bucket');
    // A chain visits each symbol at most once; a longer walk means a cycle in a malformed file.
    for (let steps = 0; i !== 0 && steps <= this.nchain; steps++) {
      if (i >= this.nchain) throw new FormatError('hash.chain', this.offset, `hash chain index ${i} >= nchain ${this.nchain}`);
      if (nameAt(i) === name && accept(i)) return i;
      i = this.r.u32(this.offset + 8 + (this.nbucket + i) * 4, 'hash.chain');
    }
    return -1;
  }
}
