/**
 * The loader's view (PT_DYNAMIC, DT_SYMTAB, hash tables, DT_RELA/JMPREL/RELR) must agree with the
 * section-based view, and hash lookups must agree with a linear scan, on real files.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { gnuHash, parseElf, symbolMatches, sysvHash } from '../src/index.js';
import { FIXTURES, fixtureFiles, hostElfSample } from './readelf.js';

const load = (f: string) => parseElf(readFileSync(f));

describe('symbol lookup through DT_GNU_HASH / DT_HASH agrees with a linear scan', () => {
  const files = [...hostElfSample(25), ...fixtureFiles()].filter((f) => {
    const e = load(f);
    return e.dynamic !== null && (e.hashTables.gnu || e.hashTables.sysv);
  });
  it('has files with each kind of table', () => {
    const kinds = files.map((f) => load(f).hashTables);
    expect(kinds.some((k) => k.gnu)).toBe(true);
    expect(kinds.some((k) => k.sysv)).toBe(true);
  });
  it.each(files)('%s', (file) => {
    const elf = load(file);
    const syms = elf.dynamicSymbols();
    const names = [...new Set(syms.map((s) => s.name).filter((n) => n !== ''))];
    let matched = 0;
    for (const forPlt of [false, true]) {
      // Linear reference, one pass: the names for which some symbol passes check_match, among those
      // a linker hashes (defined ones, and undefined ones with a canonical PLT address, i.e. a value).
      const accepted = new Set(syms.filter((s) => symbolMatches(s, forPlt) && (s.shndx !== 0 || s.value !== 0)).map((s) => s.name));
      for (const name of names) {
        const any = accepted.has(name);
        const hit = elf.lookup(name, forPlt);
        if (any) {
          expect(hit?.name).toBe(name);
          expect(symbolMatches(hit ?? undefined, forPlt)).toBe(true);
          matched++;
        } else {
          expect(hit).toBeNull();
        }
      }
    }
    expect(elf.lookup('__polykernel_no_such_symbol__')).toBeNull();
    // The linear reference must not be empty by accident: a file that defines a named function or
    // object with an address (judged here without symbolMatches) has names the lookup finds.
    const defines = syms.some((s) => s.name !== '' && s.shndx !== 0 && s.value !== 0 && (s.type === 1 || s.type === 2));
    expect(matched > 0).toBe(defines);
    if (file.includes('/libgreet-')) expect(elf.lookup('greet')?.name).toBe('greet');
  });
  it('hash functions match the reference values', () => {
    // dl_new_hash and elf_hash values from the gABI / glibc test vectors.
    expect(gnuHash('')).toBe(0x00001505);
    expect(gnuHash('printf')).toBe(0x156b2bb8);
    expect(gnuHash('exit')).toBe(0x7c967e3f);
    expect(sysvHash('')).toBe(0);
    expect(sysvHash('printf')).toBe(0x077905a6);
    expect(sysvHash('exit')).toBe(0x0006cf04);
  });
});

describe('a file without section headers reads the same through PT_DYNAMIC', () => {
  const full = load(join(FIXTURES, 'hello-pie-x86_64.elf'));
  const bare = load(join(FIXTURES, 'hello-pie-nosections-x86_64.elf'));
  it('has no sections but the same dynamic table', () => {
    expect(bare.sections).toHaveLength(0);
    expect(bare.dynamic?.needed).toEqual(['libgreet.so.1', 'libc.so.6']);
    expect(bare.dynamic?.entries).toEqual(full.dynamic?.entries);
    expect(bare.interpreter).toBe('/lib64/ld-linux-x86-64.so.2');
    expect(bare.kind).toBe('pie');
  });
  it('finds the dynamic symbols (with versions) through DT_SYMTAB, DT_GNU_HASH and the relocations', () => {
    const a = full.dynamicSymbols().map((s) => [s.name, s.version ?? null]);
    expect(bare.dynamicSymbols().map((s) => [s.name, s.version ?? null])).toEqual(a);
    expect(a.some(([n, v]) => n === 'printf' && v === 'GLIBC_2.2.5')).toBe(true);
  });
  it('finds the relocations through DT_RELA and DT_JMPREL', () => {
    const flat = (e: typeof full) => e.dynamicRelocations().flatMap((t) => t.relocations.map((r) => `${r.offset}:${r.typeName}:${r.symbolName}:${r.addend ?? 0}`)).sort();
    expect(flat(bare)).toEqual(flat(full));
    expect(flat(full)).toEqual(full.relocations().flatMap((t) => t.relocations.map((r) => `${r.offset}:${r.typeName}:${r.symbolName}:${r.addend ?? 0}`)).sort());
  });
  it('reads the notes from PT_NOTE', () => {
    expect(bare.notes().map((n) => n.text)).toEqual(full.notes().map((n) => n.text));
    expect(bare.notes().some((n) => n.text.startsWith('Build ID: '))).toBe(true);
  });
});

describe('fixture facts', () => {
  it.each([
    ['hello-pie-x86_64.elf', 'x86_64', 64, 'little', 'pie'],
    ['hello-nopie-x86_64.elf', 'x86_64', 64, 'little', 'exec'],
    ['static-x86_64.elf', 'x86_64', 64, 'little', 'exec'],
    ['libgreet-x86_64.so', 'x86_64', 64, 'little', 'dyn'],
    ['greet-x86_64.o', 'x86_64', 64, 'little', 'rel'],
    ['hello-pie-aarch64.elf', 'aarch64', 64, 'little', 'pie'],
    ['hello-pie-i386.elf', 'i386', 32, 'little', 'pie'],
    ['hello-pie-ppc.elf', 'ppc', 32, 'big', 'pie'],
    ['libgreet-ppc.so', 'ppc', 32, 'big', 'dyn'],
    ['hello-pie-riscv64.elf', 'riscv64', 64, 'little', 'pie'],
    ['hello-pie-armhf.elf', 'arm', 32, 'little', 'pie'],
    ['rollup.freebsd-x64.node', 'x86_64', 64, 'little', 'dyn'],
  ])('%s: %s, ELF%i, %s-endian, %s', (file, machine, bits, endian, kind) => {
    const e = load(join(FIXTURES, file));
    expect([e.machine, e.header.bits, e.header.endian, e.kind]).toEqual([machine, bits, endian, kind]);
  });
  it('the FreeBSD file says so', () => {
    const e = load(join(FIXTURES, 'rollup.freebsd-x64.node'));
    expect(e.osabi).toBe('freebsd');
    expect(e.dynamic?.needed).toContain('libc.so.7');
  });
  it('the static file has no interpreter and no dynamic table', () => {
    const e = load(join(FIXTURES, 'static-x86_64.elf'));
    expect(e.interpreter).toBeNull();
    expect(e.dynamic).toBeNull();
    expect(e.executableStack).toBe(false);
  });
  it('TLS and symbol versions of the PIE', () => {
    const e = load(join(FIXTURES, 'hello-pie-x86_64.elf'));
    expect(e.tls?.memsz).toBeGreaterThanOrEqual(4);
    expect(e.symbols().find((s) => s.name === 'per_thread')?.typeName).toBe('TLS');
    expect(e.symbols().find((s) => s.name === 'counter')?.bindName).toBe('GLOBAL');
  });
});
