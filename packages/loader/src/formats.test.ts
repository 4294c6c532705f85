import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KernelError } from '@polykernel/core';
import { describe, expect, it } from 'vitest';
import { loadImage, parseShebang, sniff, summarize } from './index.js';

const pe = (name: string): Uint8Array => readFileSync(fileURLToPath(new URL(`../../formats/pe/test/fixtures/${name}`, import.meta.url)));
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('sniffer: ELF, PE, scripts', () => {
  it('recognises PE images and scripts', () => {
    expect(sniff(pe('hello-x86_64.exe'))).toBe('pe');
    expect(sniff(text('#!/bin/sh\necho hi\n'))).toBe('script');
    expect(sniff(text('MZ but not really'))).toBeNull();
  });
});

describe('PE image model and JSON', () => {
  it('an EXE: imageBase, absolute entry, sections as segments, needed DLLs in table order', () => {
    const img = loadImage(pe('hello-x86_64.exe'));
    const s = summarize(img);
    expect(s.format).toBe('pe');
    expect(s.kind).toBe('exe');
    expect(s.imageBase).toBe(0x140000000);
    expect(s.entry).toBe(0x140000000 + 0x14d0);
    expect(s.needed).toEqual(['greet.dll', 'KERNEL32.dll', 'msvcrt.dll']);
    expect(s.segments[0]).toMatchObject({ name: '.text', vaddr: 0x140001000, offset: 0x400, prot: 'r-x' });
    expect(img.imports.filter((i) => i.library === 'greet.dll').map((i) => i.name)).toEqual(['greet', '#2']);
    expect(img.relocations.length).toBeGreaterThan(0);
  });
  it('a DLL exports by name, by ordinal and forwards', () => {
    const img = loadImage(pe('greet-i686.dll'));
    expect([img.kind, img.bits, img.machine, img.soname]).toEqual(['dll', 32, 'i386', 'greet.dll']);
    expect(img.exports.map((e) => e.name)).toEqual(['greet', '#2', 'greet_calls', 'greet_sleep']);
  });
  it('a COFF object has no image base or entry', () => {
    const s = summarize(loadImage(pe('greet-x86_64.obj')));
    expect([s.kind, s.imageBase, s.entry]).toEqual(['object', null, null]);
  });
});

describe('#! scripts parse as binfmt_script does', () => {
  it.each([
    ['#!/bin/sh\n', '/bin/sh', null],
    ['#! /usr/bin/env  python3 -u  \n', '/usr/bin/env', 'python3 -u'],
    ['#!/bin/bash\t-e\n', '/bin/bash', '-e'],
    ['#!/bin/sh\r\n', '/bin/sh\r', null],
    ['#!/bin/sh', '/bin/sh', null],
  ])('%j', (line, interp, arg) => {
    expect(parseShebang(text(line))).toEqual({ interpreter: interp, argument: arg });
  });
  it('ENOEXEC for an empty interpreter and for a path the 256-byte buffer truncates', () => {
    expect(() => parseShebang(text('#!   \n'))).toThrow(KernelError);
    expect(() => parseShebang(text('#!/' + 'a'.repeat(300)))).toThrow(/truncated/);
    // A long argument may be truncated: that is fine.
    expect(parseShebang(text('#!/bin/sh ' + 'x'.repeat(400))).interpreter).toBe('/bin/sh');
  });
  it('the image of a script names its interpreter', () => {
    const img = loadImage(text('#!/usr/bin/env node\nconsole.log(1)\n'));
    expect([img.format, img.interpreter, img.needed]).toEqual(['script', '/usr/bin/env', ['node']]);
  });
});

describe('Mach-O image model and JSON', () => {
  const mo = (name: string): Uint8Array => readFileSync(fileURLToPath(new URL(`../../formats/macho/test/fixtures/${name}`, import.meta.url)));
  it('sniffs thin and fat Mach-O', () => {
    expect(sniff(mo('hello-arm64'))).toBe('macho');
    expect(sniff(mo('libgreet-fat.dylib'))).toBe('macho');
  });
  it('an executable: __TEXT base, absolute entry, dylinker, needed dylibs in order, rpath', () => {
    const img = loadImage(mo('hello-x86_64'));
    expect([img.format, img.kind, img.machine, img.interpreter]).toEqual(['macho', 'exec', 'x86_64', '/usr/lib/dyld']);
    expect(img.imageBase).toBe(0x100000000);
    expect(img.entry).toBeGreaterThan(0x100000000);
    expect(img.needed).toEqual(['@rpath/libgreet.dylib', '/usr/lib/libSystem.B.dylib']);
    expect(img.runpath).toEqual(['@executable_path/../lib']);
    expect(img.segments.find((s) => s.name === '__TEXT')?.prot).toBe(5);
    expect(img.imports.map((i) => [i.name, i.library])).toEqual([['dyld_stub_binder', '/usr/lib/libSystem.B.dylib'], ['_printf', '/usr/lib/libSystem.B.dylib'], ['_greet', '@rpath/libgreet.dylib']]);
    expect(img.exports.map((e) => e.name).sort()).toEqual(['__mh_execute_header', '_main']);
    expect(img.relocations.filter((r) => r.kind === 'jump-slot').map((r) => r.symbol)).toEqual(['_printf', '_greet']);
  });
  it('chained fixups become imports and relocations', () => {
    const img = loadImage(mo('chained-arm64'));
    expect(img.imports.map((i) => [i.name, i.library])).toEqual([['_printf', '/usr/lib/libSystem.B.dylib'], ['_greet', '@rpath/libgreet.dylib']]);
    expect(img.relocations.filter((r) => r.kind === 'relative')).toHaveLength(4);
  });
  it('a dylib has its install name as soname', () => {
    expect(loadImage(mo('libgreet-arm64.dylib')).soname).toBe('@rpath/libgreet.dylib');
  });
});
