/**
 * RELR (DT_RELR / SHT_RELR, the packed relative relocations of `-z pack-relative-relocs`) on a
 * committed fixture, against its saved `readelf -r` output: no host tool or host libc needed.
 * librelr-x86_64.so's .relr.dyn holds five words: an address, two bitmaps, a second address, and a
 * bitmap with bit 59 set (a value above 2^53, so a decoder using doubles or 32-bit shifts shows).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseElf } from '../src/index.js';

const DIR = fileURLToPath(new URL('./fixtures/', import.meta.url));
const FILE = 'librelr-x86_64.so';

/** The offsets readelf listed under the .relr.dyn section of the saved output, and its count line. */
function savedRelr(text: string): { entries: number; count: number; offsets: number[] } {
  const part = text.split(/^Relocation section '\.relr\.dyn' at offset 0x[0-9a-f]+ contains (\d+) entries:\n/m);
  expect(part.length).toBe(3);
  const lines = part[2]!.split('\n');
  const count = /^ {2}(\d+) offsets$/.exec(lines[0]!);
  expect(count).not.toBeNull();
  const offsets: number[] = [];
  for (const l of lines.slice(1)) {
    if (!/^[0-9a-f]{16}$/.test(l)) break;
    offsets.push(parseInt(l, 16));
  }
  return { entries: Number(part[1]), count: Number(count![1]), offsets };
}

describe('RELR on a committed fixture (saved readelf output)', () => {
  const bytes = readFileSync(join(DIR, FILE));
  const saved = savedRelr(readFileSync(join(DIR, `${FILE}.readelf.txt`), 'utf8'));
  const elf = parseElf(bytes);

  it('the saved output is the one described: 5 words, 13 offsets', () => {
    expect([saved.entries, saved.count, saved.offsets.length]).toEqual([5, 13, 13]);
  });

  it('the section table (.relr.dyn) expands to the offsets readelf lists', () => {
    const t = elf.relocations().find((x) => x.kind === 'relr');
    expect(t?.name).toBe('.relr.dyn');
    expect(t!.storedEntries).toBe(saved.entries);
    expect(t!.relocations.map((r) => r.offset)).toEqual(saved.offsets);
    for (const r of t!.relocations) expect(r.typeName).toBe('R_X86_64_RELATIVE');
  });

  it('the loader\'s view (DT_RELR, DT_RELRSZ) expands to the same offsets', () => {
    const t = elf.dynamicRelocations().find((x) => x.kind === 'relr');
    expect(t!.relocations.map((r) => r.offset)).toEqual(saved.offsets);
  });

  it('matches a hand decoding of the five words (address, bitmap 0x25f, bitmap 0x381, address, bitmap 2^59 + 3)', () => {
    // Bit k >= 1 of a bitmap relocates base + (k - 1) * 8; a bitmap covers 63 words.
    const want = [
      0x2000,
      ...[1, 2, 3, 4, 6, 9].map((k) => 0x2008 + (k - 1) * 8),
      ...[7, 8, 9].map((k) => 0x2008 + 63 * 8 + (k - 1) * 8),
      0x2640,
      ...[1, 59].map((k) => 0x2648 + (k - 1) * 8),
    ];
    expect(saved.offsets).toEqual(want);
  });
});
