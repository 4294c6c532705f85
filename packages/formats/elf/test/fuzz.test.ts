/**
 * Fuzz: thousands of truncations and byte mutations of real files. Only FormatError may come out,
 * and every parse (headers, dynamic table, symbols, relocations, notes, section groups, hash
 * histograms, version and attribute sections, lookups) stays bounded.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError, Rng } from '@polykernel/core';
import { describe, expect, it } from 'vitest';
import { parseElf } from '../src/index.js';
import { FIXTURES } from './readelf.js';

/** Parse everything the library offers; return `ok:<kind>` or the error class name. */
function exercise(bytes: Uint8Array): string {
  try {
    const e = parseElf(bytes);
    e.dynamicSymbols();
    e.symbols();
    e.relocations();
    e.dynamicRelocations();
    e.notes();
    e.sectionGroups();
    e.hashHistograms();
    e.versionSections();
    e.attributeSections();
    e.lookup('printf');
    e.lookup('greet', true);
    return `ok:${e.kind}`;
  } catch (err) {
    if (err instanceof FormatError) return 'FormatError';
    throw err;
  }
}

/** Each seed file and what the whole file parses as (so a parser that rejects everything fails). */
const KINDS: Record<string, string> = {
  'hello-pie-x86_64.elf': 'pie',
  'libgreet-ppc.so': 'dyn',
  'greet-aarch64.o': 'rel',
  'hello-pie-i386.elf': 'pie',
  'hello-pie-nosections-x86_64.elf': 'pie',
  'libgreet-riscv64.so': 'dyn',
  'greet-i386.o': 'rel',
};
const SEEDS = Object.keys(KINDS);

describe('fuzz', () => {
  it.each(SEEDS)('truncations of %s', (name) => {
    const bytes = new Uint8Array(readFileSync(join(FIXTURES, name)));
    expect(exercise(bytes)).toBe(`ok:${KINDS[name]!}`);
    const outcomes = new Map<string, number>();
    // Every length up to 512 bytes (the headers), then every 7th.
    for (let len = 0; len < bytes.length; len += len < 512 ? 1 : 7) {
      const r = exercise(bytes.subarray(0, len));
      outcomes.set(r, (outcomes.get(r) ?? 0) + 1);
    }
    expect(outcomes.get('FormatError')).toBeGreaterThan(100);
  });

  it.each(SEEDS)('byte mutations of %s', (name) => {
    const original = new Uint8Array(readFileSync(join(FIXTURES, name)));
    const rng = new Rng(`fuzz:${name}`);
    let formatErrors = 0;
    let parsed = 0;
    let worstMs = 0;
    for (let i = 0; i < 600; i++) {
      const bytes = original.slice();
      const n = 1 + rng.below(8);
      for (let k = 0; k < n; k++) {
        // Bias towards the headers and the tables they point at.
        const at = rng.chance(0.5) ? rng.below(Math.min(bytes.length, 1024)) : rng.below(bytes.length);
        bytes[at] = rng.chance(0.3) ? 0xff : rng.below(256);
      }
      const t0 = performance.now();
      const outcome = exercise(bytes);
      if (outcome === 'FormatError') formatErrors++;
      else if (outcome.startsWith('ok:')) parsed++;
      worstMs = Math.max(worstMs, performance.now() - t0);
    }
    expect(formatErrors).toBeGreaterThan(0);
    // Most single-byte damage lands in bytes the parser does not check (code, strings): some
    // mutants must still parse, or the parser is rejecting what it should read.
    expect(parsed).toBeGreaterThan(0);
    expect(formatErrors + parsed).toBe(600);
    // A generous bound: a parse of a 16 KiB file that loops would blow far past it.
    expect(worstMs).toBeLessThan(2000);
  });

  it('hostile counts do not allocate or loop: e_phnum/e_shnum 0xffff, huge nchain, cyclic hash chains', () => {
    const bytes = new Uint8Array(readFileSync(join(FIXTURES, 'libgreet-x86_64.so')));
    // The unmodified file parses, as a 64-bit shared object: the errors below come from the edits.
    expect(exercise(bytes)).toBe('ok:dyn');
    expect(parseElf(bytes).header.bits).toBe(64);
    const a = bytes.slice();
    new DataView(a.buffer).setUint16(0x38, 0xfffe, true); // e_phnum
    expect(exercise(a)).toBe('FormatError');
    const b = bytes.slice();
    new DataView(b.buffer).setUint16(0x3c, 0xfffe, true); // e_shnum
    expect(exercise(b)).toBe('FormatError');
    const c = bytes.slice();
    new DataView(c.buffer).setUint32(0x20, 0xfffffff0, true); // e_phoff far away
    expect(exercise(c)).toBe('FormatError');
  });
});

describe('malformed files name the field and offset', () => {
  const bytes = new Uint8Array(readFileSync(join(FIXTURES, 'hello-pie-x86_64.elf')));
  const cases: [string, (v: DataView, b: Uint8Array) => void, string, number][] = [
    ['bad magic', (_v, b) => { b[1] = 0x46; }, 'e_ident[EI_MAG]', 0],
    ['bad class', (_v, b) => { b[4] = 3; }, 'e_ident[EI_CLASS]', 4],
    ['bad data encoding', (_v, b) => { b[5] = 9; }, 'e_ident[EI_DATA]', 5],
    ['wrong e_phentsize', (v) => { v.setUint16(0x36, 55, true); }, 'e_phentsize', 0x36],
    ['program headers past the end', (v) => { v.setUint32(0x20, bytes.length - 8, true); }, 'e_phoff', bytes.length - 8],
    ['e_entry above 2^53', (v) => { v.setUint32(0x1c, 0xffff0000, true); }, 'e_entry', 0x18],
  ];
  it.each(cases)('%s', (_name, mutate, field, offset) => {
    const b = bytes.slice();
    mutate(new DataView(b.buffer), b);
    try {
      parseElf(b);
      expect.unreachable('parse should fail');
    } catch (e) {
      expect(e).toBeInstanceOf(FormatError);
      expect((e as FormatError).field).toBe(field);
      expect((e as FormatError).offset).toBe(offset);
    }
  });
  it('an empty file and a file of zeros', () => {
    expect(() => parseElf(new Uint8Array(0))).toThrow(FormatError);
    expect(() => parseElf(new Uint8Array(4096))).toThrow(/not an ELF file/);
  });
});
