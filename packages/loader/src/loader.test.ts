import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KernelError, FormatError } from '@polykernel/core';
import { describe, expect, it } from 'vitest';
import { loadImage, relocationKind, sniff, summarize } from './index.js';

const fixture = (name: string): Uint8Array =>
  readFileSync(fileURLToPath(new URL(`../../formats/elf/test/fixtures/${name}`, import.meta.url)));

describe('sniffer (search_binary_handler)', () => {
  it('recognises ELF by its magic', () => {
    expect(sniff(fixture('hello-pie-x86_64.elf'))).toBe('elf');
  });
  it('anything else is ENOEXEC (8 on Linux and FreeBSD)', () => {
    for (const bytes of [new Uint8Array(0), new TextEncoder().encode('hello world'), new Uint8Array([0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 0x34])]) {
      expect(sniff(bytes)).toBeNull();
      try {
        loadImage(bytes, 'freebsd');
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(KernelError);
        expect((e as KernelError).errno).toBe('ENOEXEC');
        expect((e as KernelError).errnoNumber).toBe(8);
      }
    }
  });
  it('a truncated ELF is the parser’s FormatError, not ENOEXEC', () => {
    expect(() => loadImage(fixture('hello-pie-x86_64.elf').subarray(0, 40))).toThrow(FormatError);
  });
});

describe('image model from ELF', () => {
  it('a PIE: interpreter, needed, segments with protections, TLS, imports with versions', () => {
    const img = loadImage(fixture('hello-pie-x86_64.elf'));
    expect(img.format).toBe('elf');
    expect(img.kind).toBe('pie');
    expect(img.imageBase).toBe(0);
    expect(img.interpreter).toBe('/lib64/ld-linux-x86-64.so.2');
    expect(img.needed).toEqual(['libgreet.so.1', 'libc.so.6']);
    expect(img.segments.map((s) => s.prot)).toEqual([1, 5, 1, 3]);
    expect(img.segments[1]?.name).toBe('.init');
    expect(img.tls).not.toBeNull();
    expect(img.executableStack).toBe(false);
    expect(img.imports.find((i) => i.name === 'printf')).toMatchObject({ version: 'GLIBC_2.2.5', weak: false });
    expect(img.imports.some((i) => i.name === 'greet')).toBe(true);
    expect(img.relocations.filter((r) => r.kind === 'jump-slot').map((r) => r.symbol).sort()).toEqual(['greet', 'printf']);
    expect(img.relocations.some((r) => r.kind === 'relative')).toBe(true);
  });
  it('a shared object exports its functions and data', () => {
    const img = loadImage(fixture('libgreet-x86_64.so'));
    expect(img.kind).toBe('dyn');
    expect(img.soname).toBe('libgreet.so.1');
    expect(img.exports.find((e) => e.name === 'greet')).toMatchObject({ kind: 'func', binding: 'global' });
    expect(img.exports.find((e) => e.name === 'greet_prefix')).toMatchObject({ kind: 'object' });
  });
  it('big-endian 32-bit PowerPC', () => {
    const img = loadImage(fixture('hello-pie-ppc.elf'));
    expect([img.bits, img.endian, img.machine]).toEqual([32, 'big', 'ppc']);
    expect(img.relocations.some((r) => r.kind === 'jump-slot')).toBe(true);
  });
  it("a relocatable object's entry is e_entry as stored, 0 (readelf: Entry point address: 0x0)", () => {
    expect(loadImage(fixture('greet-x86_64.o')).entry).toBe(0);
  });
  it('relocation kinds across architectures', () => {
    expect(relocationKind('R_X86_64_RELATIVE')).toBe('relative');
    expect(relocationKind('R_AARCH64_JUMP_SLOT')).toBe('jump-slot');
    expect(relocationKind('R_PPC_JMP_SLOT')).toBe('jump-slot');
    expect(relocationKind('R_386_GLOB_DAT')).toBe('glob-dat');
    expect(relocationKind('R_X86_64_TPOFF64')).toBe('tls');
    expect(relocationKind('R_X86_64_64')).toBe('absolute');
    expect(relocationKind('R_X86_64_IRELATIVE')).toBe('irelative');
  });
});

describe('JSON summary', () => {
  it('has exactly the documented keys, in order, with numbers for addresses', () => {
    const s = summarize(loadImage(fixture('hello-nopie-x86_64.elf')));
    expect(Object.keys(s)).toEqual(['format', 'bits', 'endian', 'machine', 'kind', 'entry', 'imageBase', 'interpreter', 'needed', 'segments', 'osabi']);
    expect(s.kind).toBe('exec');
    expect(s.imageBase).toBe(0x400000);
    expect(typeof s.entry).toBe('number');
    expect(s.segments[0]).toEqual({ name: expect.any(String) as string, vaddr: 0x400000, memsz: expect.any(Number) as number, offset: 0, filesz: expect.any(Number) as number, prot: 'r--' });
    expect(s.osabi).toBe('sysv');
  });
});
