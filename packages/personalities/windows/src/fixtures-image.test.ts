/**
 * Every PE fixture of @polykernel/pe (packages/formats/pe/test/fixtures) through the personality's
 * image loader, checked against what llvm-readobj saw in the file (the saved `.readobj.txt` beside
 * each fixture) — never against the simulator's own output:
 * - an exe → CreateProcessW (suspended, before the loader writes the IAT): the image at its
 *   ImageBase, the headers READONLY, every page of every section with the protection its
 *   IMAGE_SCN_MEM_{READ,WRITE,EXECUTE} give as Windows maps an image (writable → WRITECOPY; Wine
 *   dlls/kernel32/tests/loader.c test_section_access), SizeOfImage in all, no fixup applied;
 * - a dll (and an exe, as LoadLibraryExW maps one) → LoadLibraryExW, first at its preferred base,
 *   then with that base occupied by VirtualAlloc: relocated, the fixups applied equal to the
 *   readobj BaseReloc entries that are not ABSOLUTE padding, and every relocated pointer changed by
 *   exactly the delta;
 * - 32-bit images run under the WOW64 model (SysWOW64 DLLs), and load into a 32-bit process;
 *   across bitness LoadLibraryExW is ERROR_BAD_EXE_FORMAT as on Windows;
 * - COFF objects are no image: CreateProcessW and LoadLibraryExW give ERROR_BAD_EXE_FORMAT.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { memoryFileSystem } from '@polykernel/kernel';
import { parsePe } from '@polykernel/pe';
import { describe, expect, it } from 'vitest';
import {
  CREATE_SUSPENDED, MEM_COMMIT, MEM_FREE, MEM_IMAGE, MEM_RESERVE, PAGE_EXECUTE, PAGE_EXECUTE_READ, PAGE_EXECUTE_WRITECOPY, PAGE_NOACCESS,
  PAGE_READONLY, PAGE_READWRITE, PAGE_WRITECOPY,
} from './constants.js';
import { DONT_RESOLVE_DLL_REFERENCES } from './library.js';
import { fixtureSysroot } from './sysroot.js';
import { bootWindows, harness, type Win } from './testkit.js';

const DIR = '../../../formats/pe/test/fixtures/';
const bytesOf = (name: string): Uint8Array => new Uint8Array(readFileSync(fileURLToPath(new URL(DIR + name, import.meta.url))));
const readobjOf = (name: string): string => readFileSync(fileURLToPath(new URL(`${DIR}${name}.readobj.txt`, import.meta.url)), 'utf8');

// ---- what llvm-readobj saw ---------------------------------------------------------------------

interface RoSection { name: string; virtualSize: number; virtualAddress: number; rawSize: number; rawPointer: number; characteristics: number }
interface Readobj { machine: string; imageBase: number; sectionAlignment: number; sizeOfHeaders: number; sizeOfImage: number; sections: RoSection[]; relocs: { type: string; rva: number }[] }

function field(text: string, name: string): number {
  const m = new RegExp(`^\\s*${name}: (0x[0-9A-F]+|\\d+)\\s*$`, 'm').exec(text);
  if (m === null) throw new Error(`readobj: no ${name}`);
  return Number(m[1]);
}

function parseReadobj(text: string): Readobj {
  const sections = [...text.matchAll(/ {2}Section \{\n([\s\S]*?)\n {2}\}/g)].map(([, body]) => ({
    name: /Name: (\S+)/.exec(body!)![1]!,
    virtualSize: field(body!, 'VirtualSize'),
    virtualAddress: field(body!, 'VirtualAddress'),
    rawSize: field(body!, 'RawDataSize'),
    rawPointer: field(body!, 'PointerToRawData'),
    characteristics: Number(/Characteristics \[ \((0x[0-9A-F]+)\)/.exec(body!)![1]),
  }));
  const relocBlock = /^BaseReloc \[\n([\s\S]*?)^\]/m.exec(text)?.[1] ?? '';
  const relocs = [...relocBlock.matchAll(/Type: (\w+)\n\s*Address: (0x[0-9A-F]+)/g)].map(([, type, a]) => ({ type: type!, rva: Number(a) }));
  const machine = /Machine: (\S+)/.exec(text)![1]!;
  if (!text.includes('ImageOptionalHeader {')) return { machine, imageBase: 0, sectionAlignment: 0, sizeOfHeaders: 0, sizeOfImage: 0, sections, relocs };
  return {
    machine, sections, relocs,
    imageBase: field(text, 'ImageBase'), sectionAlignment: field(text, 'SectionAlignment'),
    sizeOfHeaders: field(text, 'SizeOfHeaders'), sizeOfImage: field(text, 'SizeOfImage'),
  };
}

const bit = (chars: number, flag: number): boolean => Math.floor(chars / flag) % 2 === 1;

/** What Windows maps a section with (test_section_access): written from the PE spec, not the personality. */
function windowsProtect(chars: number): number {
  const x = bit(chars, 0x20000000);
  const r = bit(chars, 0x40000000);
  const w = bit(chars, 0x80000000);
  if (x && w) return PAGE_EXECUTE_WRITECOPY;
  if (x) return r ? PAGE_EXECUTE_READ : PAGE_EXECUTE;
  if (w) return PAGE_WRITECOPY;
  return r ? PAGE_READONLY : PAGE_NOACCESS;
}

const up = (n: number, a: number): number => Math.ceil(n / a) * a;

/** The protection each page of the image should have: headers READONLY, then each section's extent (VirtualSize, section-aligned). */
function expectedPages(ro: Readobj): { rva: number; protect: number; what: string }[] {
  const out: { rva: number; protect: number; what: string }[] = [];
  for (let rva = 0; rva < up(ro.sizeOfHeaders, 0x1000); rva += 0x1000) out.push({ rva, protect: PAGE_READONLY, what: 'headers' });
  for (const s of ro.sections) {
    const size = up(s.virtualSize === 0 ? s.rawSize : s.virtualSize, ro.sectionAlignment);
    for (let rva = s.virtualAddress; rva < s.virtualAddress + size; rva += 0x1000) out.push({ rva, protect: windowsProtect(s.characteristics), what: s.name });
  }
  return out;
}

/** The relocation entries a loader applies (ABSOLUTE is padding), counted once more by @polykernel/pe. */
function appliedRelocs(name: string, ro: Readobj): { type: string; rva: number }[] {
  const applied = ro.relocs.filter((r) => r.type !== 'ABSOLUTE');
  const byParser = parsePe(bytesOf(name)).baseRelocations().reduce((n, b) => n + b.entries.filter((e) => e.type !== 0).length, 0);
  expect(byParser, `${name}: @polykernel/pe and llvm-readobj agree on the base relocations`).toBe(applied.length);
  return applied;
}

// ---- machines ---------------------------------------------------------------------------------

const FIXTURES = ['hello-x86_64.exe', 'delayed-x86_64.exe', 'delayed-lld-x86_64.exe', 'greet-x86_64.dll', 'rollup.win32-x64-msvc.dll',
  'hello-i686.exe', 'delayed-i686.exe', 'greet-i686.dll', 'greet-x86_64.obj', 'greet-i686.obj'];
const IMAGES = FIXTURES.filter((f) => !f.endsWith('.obj'));
const EXES = FIXTURES.filter((f) => f.endsWith('.exe'));
const bitsOf = (name: string): 32 | 64 => (name.includes('i686') ? 32 : 64);

/** A sysroot with every fixture under /prog, greet.dll of both bitnesses, stubs for the rest. */
function machine(): Win {
  const programs = Object.fromEntries(FIXTURES.map((f) => [`/prog/${f}`, bytesOf(f)]));
  const images = Object.fromEntries(IMAGES.map((f) => [`/prog/${f}`, bytesOf(f)]));
  // Stubs cover what every image imports; the 32-bit greet.dll replaces its stub in SysWOW64.
  const files = { ...fixtureSysroot(images, { 'greet.dll': bytesOf('greet-x86_64.dll') }), ...programs, '/Windows/SysWOW64/greet.dll': bytesOf('greet-i686.dll') };
  return bootWindows({ fs: memoryFileSystem(files) });
}

/**
 * A process of `bits` to load `name` into: the test process (64-bit), or a suspended WOW64 one made
 * from another 32-bit exe (LoadLibrary of the process's own exe just returns its base). `read`
 * reads its memory (ReadProcessMemory from the parent for the suspended one).
 */
function host(bits: 32 | 64, name = ''): Win & { read(va: number, size: 4 | 8): bigint } {
  const w = machine();
  if (bits === 64) return Object.assign(w, { read: (va: number, size: 4 | 8) => le(w.k.copyFromUser(w.t, va, size)) });
  const exe = name === 'delayed-i686.exe' ? 'hello-i686.exe' : 'delayed-i686.exe';
  expect(w.call('CreateProcessW', `/prog/${exe}`, CREATE_SUSPENDED)).toBe(1);
  const { hProcess, dwProcessId } = w.record() as { hProcess: number; dwProcessId: number };
  const buf = w.call('VirtualAlloc', 0, 0x1000, MEM_COMMIT, PAGE_READWRITE);
  const read = (va: number, size: 4 | 8): bigint => {
    expect(w.call('ReadProcessMemory', hProcess, va, buf, size)).toBe(1);
    return le(w.k.copyFromUser(w.t, buf, size));
  };
  return Object.assign(harness(w.k, w.k.processes.get(dwProcessId)!), { read });
}

const le = (b: Uint8Array): bigint => {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return b.length === 8 ? v.getBigUint64(0, true) : BigInt(v.getUint32(0, true));
};

function query(w: Win, va: number): Readonly<Record<string, unknown>> {
  expect(w.call('VirtualQuery', va)).toBe(48);
  return w.record();
}

function checkMapping(w: Win, base: number, ro: Readobj, name: string): void {
  for (const page of expectedPages(ro)) {
    const r = query(w, base + page.rva);
    expect({ Protect: r.Protect, Type: r.Type, State: r.State, AllocationBase: r.AllocationBase }, `${name} ${page.what} +0x${page.rva.toString(16)}`)
      .toEqual({ Protect: page.protect, Type: MEM_IMAGE, State: MEM_COMMIT, AllocationBase: base });
  }
  // The image's allocation is SizeOfImage, no more.
  const last = query(w, base + up(ro.sizeOfImage, 0x1000) - 1);
  expect(last.AllocationBase).toBe(base);
  const after = query(w, base + up(ro.sizeOfImage, 0x1000));
  expect(after.AllocationBase, `${name}: nothing of the image past SizeOfImage`).not.toBe(base);
}

/** The file's own value at an RVA (from its raw data), or null where the RVA has none (uninitialised data). */
function fileValue(bytes: Uint8Array, ro: Readobj, rva: number, size: 4 | 8): bigint | null {
  const s = ro.sections.find((x) => x.virtualAddress <= rva && rva + size <= x.virtualAddress + x.rawSize);
  if (s === undefined) return null;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const off = s.rawPointer + rva - s.virtualAddress;
  return size === 8 ? v.getBigUint64(off, true) : BigInt(v.getUint32(off, true));
}

// ---- the table --------------------------------------------------------------------------------

describe.each(EXES)('%s through CreateProcessW', (name) => {
  const ro = parseReadobj(readobjOf(name));

  it('is mapped at its ImageBase, headers READONLY and each section with its characteristics\' protection, no fixup', () => {
    const w = machine();
    expect(w.call('CreateProcessW', `/prog/${name}`, CREATE_SUSPENDED), w.lastError() ?? '').toBe(1);
    const child = w.k.processes.get(w.record().dwProcessId as number)!;
    const c = harness(w.k, child);
    const exe = child.space.modules[0]!;
    expect(exe.base).toBe(ro.imageBase);
    expect(exe.section.image!.bits).toBe(bitsOf(name));
    checkMapping(c, exe.base, ro, name);
    expect(exe.section.image!.fixups).toBe(0);
    // It runs: the loader maps its DLLs (SysWOW64 ones for a 32-bit image) and the thread starts.
    expect(w.call('ResumeThread', w.record().hThread as number)).toBe(1);
    expect(child.state).toBe('running');
    const system = bitsOf(name) === 64 ? '/Windows/System32/' : '/Windows/SysWOW64/';
    for (const m of child.space.modules.slice(1)) expect(m.path.startsWith(system) || m.path.startsWith('/prog/'), m.path).toBe(true);
  });
});

describe.each(IMAGES)('%s through LoadLibraryExW', (name) => {
  const ro = parseReadobj(readobjOf(name));
  const bytes = bytesOf(name);
  const bits = bitsOf(name);
  const size: 4 | 8 = bits === 64 ? 8 : 4;

  // A 32-bit exe's preferred base (0x400000) is the 32-bit host exe's own: checked by CreateProcessW above.
  it.skipIf(bits === 32 && name.endsWith('.exe'))('at its preferred base: each section\'s protection, no fixup', () => {
    const w = host(bits, name);
    const h = w.call('LoadLibraryExW', `/prog/${name}`, 0, DONT_RESOLVE_DLL_REFERENCES);
    expect(h, w.lastError() ?? '').toBe(ro.imageBase);
    checkMapping(w, h, ro, name);
    expect(w.p.space.modules.find((m) => m.base === h)!.section.image!.fixups).toBe(0);
  });

  it('with its preferred base taken: relocated, every non-ABSOLUTE BaseReloc entry applied, each pointer moved by the delta', () => {
    const relocs = appliedRelocs(name, ro);
    // Every fixture image keeps a .reloc (DIR64 in PE32+, HIGHLOW in PE32, and ABSOLUTE padding).
    expect(relocs.length).toBeGreaterThan(0);
    expect(relocs.every((r) => r.type === (bits === 64 ? 'DIR64' : 'HIGHLOW')), 'the only types these images use').toBe(true);
    const w = host(bits, name);
    // Take the preferred base (a 32-bit exe's is the host exe's already).
    if (query(w, ro.imageBase).State === MEM_FREE) expect(w.call('VirtualAlloc', ro.imageBase, 0x10000, MEM_RESERVE, PAGE_READWRITE)).toBe(ro.imageBase);
    const h = w.call('LoadLibraryExW', `/prog/${name}`, 0, DONT_RESOLVE_DLL_REFERENCES);
    expect(h, w.lastError() ?? '').not.toBe(0);
    expect(h).not.toBe(ro.imageBase);
    const delta = BigInt(h - ro.imageBase);
    checkMapping(w, h, ro, name);
    expect(w.p.space.modules.find((m) => m.base === h)!.section.image!.fixups).toBe(relocs.length);
    let checked = 0;
    const mask = bits === 64 ? 64 : 32;
    for (const r of relocs) {
      const before = fileValue(bytes, ro, r.rva, size);
      if (before === null) continue;
      expect(w.read(h + r.rva, size), `${name} fixup at +0x${r.rva.toString(16)}`).toBe(BigInt.asUintN(mask, before + delta));
      checked++;
    }
    expect(checked).toBeGreaterThan(0);
  });

  it(`into a ${bits === 64 ? '32' : '64'}-bit process: ERROR_BAD_EXE_FORMAT, nothing mapped`, () => {
    const w = host(bits === 64 ? 32 : 64);
    const before = w.p.space.modules.length;
    expect(w.call('LoadLibraryExW', `/prog/${name}`, 0, DONT_RESOLVE_DLL_REFERENCES)).toBe(0);
    expect(w.lastError()).toBe('ERROR_BAD_EXE_FORMAT');
    expect(w.p.space.modules.length).toBe(before);
  });
});

describe.each(FIXTURES.filter((f) => f.endsWith('.obj')))('%s (a COFF object, no image)', (name) => {
  it('CreateProcessW and LoadLibraryExW refuse it with ERROR_BAD_EXE_FORMAT, charging nothing', () => {
    expect(parseReadobj(readobjOf(name)).machine).toMatch(/^IMAGE_FILE_MACHINE_(AMD64|I386)$/);
    const w = machine();
    expect(w.call('CreateProcessW', `/prog/${name}`, 0)).toBe(0);
    expect(w.lastError()).toBe('ERROR_BAD_EXE_FORMAT');
    expect(w.call('LoadLibraryExW', `/prog/${name}`, 0, 0)).toBe(0);
    expect(w.lastError()).toBe('ERROR_BAD_EXE_FORMAT');
    expect(w.k.state.commitCharge).toBe(0);
    expect(w.p.space.modules).toEqual([]);
  });
});
