/**
 * The PE/COFF reader against llvm-readobj's saved output for MinGW-built images and objects (PE32
 * and PE32+) and a real MSVC-built DLL: headers, every section, every import (by name with hint,
 * by ordinal), every export (forwarders included), every base relocation, TLS, the PDB path; a
 * check that the saved outputs regenerate byte for byte with the live llvm-readobj; and live
 * llvm-readobj on a real Go-built executable. The live checks need llvm-readobj (and the fetched
 * file): under CI their absence fails, elsewhere it skips and says so.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requires, toolVersion } from '../../../../tools/test-support/oracle.js';
import { parsePe } from '../src/index.js';
import { FIXTURES, fixtureFiles, readobjFacts, readobjMissing, readobjTool, regenerateReadobj, savedReadobj, SAVED_OPTIONS } from './readobj.js';

describe('PE/COFF against llvm-readobj', () => {
  it.each(fixtureFiles())('%s', (file) => {
    const pe = parsePe(readFileSync(join(FIXTURES, file)));
    const f = readobjFacts(file);
    expect(pe.coff.machine).toBe(f.machine);
    expect(pe.sections.length).toBe(f.sectionCount);
    expect(pe.sections.map((s) => ({ name: s.name, virtualSize: s.virtualSize, virtualAddress: s.virtualAddress, rawSize: s.sizeOfRawData, pointerToRawData: s.pointerToRawData, characteristics: s.characteristics }))).toEqual(f.sections);
    if (f.entryRva !== null) {
      expect(pe.optional?.addressOfEntryPoint).toBe(f.entryRva);
      expect(pe.optional?.imageBase).toBe(f.imageBase);
      expect(pe.optional?.sizeOfImage).toBe(f.sizeOfImage);
    }
    // readobj prints "name (hint)" for named imports and " (ordinal)" for ordinal ones.
    expect(pe.imports().map((d) => ({ name: d.name, symbols: d.entries.map((e) => (e.name !== null ? `${e.name} (${e.hint ?? 0})` : ` (${e.ordinal ?? 0})`)) }))).toEqual(f.imports);
    expect((pe.exports()?.entries ?? []).map((e) => ({ ordinal: e.ordinal, name: e.name ?? '', rva: e.rva }))).toEqual(f.exports);
    expect(pe.baseRelocations().flatMap((b) => b.entries.map((e) => `${e.typeName} ${e.rva}`))).toEqual(f.baseRelocs);
    expect(pe.tls()?.addressOfCallBacks ?? null).toBe(f.tlsCallbacks);
    expect(pe.debug().find((d) => d.pdbPath !== null)?.pdbPath ?? null).toBe(f.pdb);
  });
});

describe('what the fixtures contain', () => {
  const load = (f: string) => parsePe(readFileSync(join(FIXTURES, f)));
  it('PE32+ and PE32 images, DLL vs EXE vs object', () => {
    expect([load('hello-x86_64.exe').bits, load('hello-x86_64.exe').kind, load('hello-x86_64.exe').machine]).toEqual([64, 'exe', 'x86_64']);
    expect([load('hello-i686.exe').bits, load('hello-i686.exe').machine]).toEqual([32, 'i386']);
    expect(load('greet-x86_64.dll').kind).toBe('dll');
    expect(load('greet-x86_64.obj').kind).toBe('object');
    expect(load('hello-x86_64.exe').entry).toBe(0x140000000 + load('hello-x86_64.exe').optional!.addressOfEntryPoint);
  });
  it('imports by name and by ordinal, with IAT slots', () => {
    const greet = load('hello-x86_64.exe').imports().find((d) => d.name === 'greet.dll')!;
    expect(greet.entries.map((e) => e.name ?? `#${e.ordinal ?? 0}`)).toEqual(['greet', '#2']);
    expect(greet.entries[1]!.iatRva).toBe(greet.iatRva + 8);
  });
  it('exports: named, by ordinal only, data, and a forwarder', () => {
    const ex = load('greet-x86_64.dll').exports()!;
    expect(ex.dllName).toBe('greet.dll');
    expect(ex.entries.map((e) => [e.ordinal, e.name, e.forwarder])).toEqual([[1, 'greet', null], [2, null, null], [3, 'greet_calls', null], [4, 'greet_sleep', 'KERNEL32.Sleep']]);
  });
  it('the MSVC DLL imports both kernel32.dll and KERNEL32.dll, and names its PDB', () => {
    const pe = load('rollup.win32-x64-msvc.dll');
    const names = pe.imports().map((d) => d.name);
    expect(names).toContain('kernel32.dll');
    expect(names).toContain('KERNEL32.dll');
    expect(pe.debug().find((d) => d.type === 2)).toMatchObject({ pdbPath: 'bindings_napi.pdb', age: 1, guid: '90EC4D45-98C5-4A72-BC7C-4AB1F4F9E7E9' });
    expect(pe.loadConfig()?.securityCookie).toBeGreaterThan(0);
    expect(pe.optional!.dllCharacteristics & 0x0140).toBe(0x0140); // DYNAMIC_BASE | NX_COMPAT
  });
  it('COFF objects: symbols and section relocations', () => {
    const obj = load('greet-x86_64.obj');
    expect(obj.symbols().some((s) => s.name === 'greet')).toBe(true);
    const text = obj.sections.find((s) => s.name === '.text')!;
    expect(obj.sectionRelocations(text).length).toBe(text.numberOfRelocations);
  });
  it('rvaToOffset maps headers and section data, and refuses the rest', () => {
    const pe = load('hello-x86_64.exe');
    const text = pe.sections[0]!;
    expect(pe.rvaToOffset(0)).toBe(0);
    expect(pe.rvaToOffset(text.virtualAddress + 0x10)).toBe(text.pointerToRawData + 0x10);
    expect(pe.rvaToOffset(0x7fffffff)).toBe(-1);
  });
});

describe(`the saved outputs regenerate byte for byte with the live llvm-readobj ${SAVED_OPTIONS.join(' ')}`, () => {
  if (requires('llvm-readobj (regenerating the saved outputs)', readobjMissing())) {
    const tool = readobjTool()!;
    it.each(fixtureFiles())('%s', (file) => {
      expect(regenerateReadobj(tool, file), `${tool} (${toolVersion(tool)}); the saved outputs were made with LLVM 14`).toBe(savedReadobj(file));
    });
  }
});

describe('a real Go-built PE32 (esbuild.exe, fetched by tools/fixtures/fetch-large.sh; llvm-readobj run live)', () => {
  const path = join(FIXTURES, '..', 'fixtures-large', 'esbuild-go.exe');
  const problem = readobjMissing() ?? (existsSync(path) ? null : 'not fetched (run tools/fixtures/fetch-large.sh): esbuild-go.exe');
  if (!requires('llvm-readobj on esbuild-go.exe', problem)) return;
  const tool = readobjTool()!;
  it('matches llvm-readobj (sections, imports, relocations)', () => {
    const text = execFileSync(tool, ['--sections', '--coff-imports', '--coff-basereloc', path], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    const pe = parsePe(readFileSync(path));
    const sections = [...text.matchAll(/ {4}Name: (\S*) \(/g)].map((m) => m[1]);
    expect(pe.sections.map((s) => s.name)).toEqual(sections);
    const imports = [...text.matchAll(/^Import \{\n {2}Name: (.*)$/gm)].map((m) => m[1]);
    expect(pe.imports().map((d) => d.name)).toEqual(imports);
    expect(pe.imports().flatMap((d) => d.entries).length).toBe([...text.matchAll(/^ {2}Symbol: /gm)].length);
    expect(pe.baseRelocations().flatMap((b) => b.entries).length).toBe([...text.matchAll(/^ {2}Entry \{/gm)].length);
    expect([pe.bits, pe.kind, pe.machine]).toEqual([32, 'exe', 'i386']);
  });
});

describe('delay-load imports (lld-link /delayload)', () => {
  it('reads the delay descriptor: name, attributes, tables, imports by name and ordinal', () => {
    const pe = parsePe(readFileSync(join(FIXTURES, 'delayed-lld-x86_64.exe')));
    expect(pe.imports()).toHaveLength(0);
    const [d] = pe.delayImports();
    expect(d?.name).toBe('greet.dll');
    expect(d?.delay?.attributes).toBe(1);
    expect(d?.entries.map((e) => e.name ?? `#${e.ordinal ?? 0}`)).toEqual(['greet', '#2']);
    expect(d?.entries.every((e) => (e.iatValue ?? 0) > pe.imageBase)).toBe(true);
  });
});
