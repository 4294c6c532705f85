/**
 * The Mach-O reader against llvm-objdump --macho --private-headers (saved output) on a real fat
 * file (fsevents: x86_64 + arm64 bundles built by Apple's toolchain) and on clang/lld fixtures; a
 * check that the saved outputs regenerate byte for byte with the live llvm-objdump; and live
 * llvm-objdump on real Go-built executables. The live checks need llvm-objdump (and the fetched
 * executables): under CI their absence fails, elsewhere it skips and says so.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requires, toolVersion } from '../../../../tools/test-support/oracle.js';
import { FatFile, MachOFile, parseMachO } from '../src/index.js';
import { FIXTURES, fixtureFiles, objdumpMissing, objdumpSlices, objdumpTool, regenerate, savedOutputs, savedText } from './objdump.js';

/** llvm-objdump drops a zero patch level in LC_BUILD_VERSION versions ("13.1", not "13.1.0") and prints "n/a" for 0. */
const short = (v: string): string => (v === '0.0.0' ? 'n/a' : v.replace(/\.0$/, ''));

describe('Mach-O against llvm-objdump', () => {
  it.each(fixtureFiles())('%s', (file) => {
    const parsed = parseMachO(readFileSync(join(FIXTURES, file)));
    const images: MachOFile[] = parsed instanceof FatFile ? parsed.arches.map((a) => a.image) : [parsed];
    const slices = objdumpSlices(file);
    expect(images.length).toBe(slices.length);
    images.forEach((m, i) => {
      const s = slices[i]!;
      expect(m.commands.map((c) => ({ cmd: c.name, cmdsize: c.cmdsize }))).toEqual(s.commands);
      expect(m.segments.map((g) => ({ segname: g.segname, vmaddr: g.vmaddr, vmsize: g.vmsize, fileoff: g.fileoff, filesize: g.filesize, nsects: g.sections.length }))).toEqual(s.segments);
      expect(m.dylibs.map((d) => ({ name: d.name, current: d.currentVersion, compat: d.compatibilityVersion }))).toEqual(s.dylibs);
      expect(m.uuid).toBe(s.uuid);
      if (s.build !== null) expect({ platform: m.buildVersion?.platform, sdk: short(m.buildVersion?.sdk ?? ''), minos: short(m.buildVersion?.minos ?? '') }).toEqual(s.build);
      expect(m.entryoff).toBe(s.entryoff);
    });
  });
});

describe('fat files', () => {
  it('fsevents.node holds an x86_64 and an arm64 bundle', () => {
    const fat = parseMachO(readFileSync(join(FIXTURES, 'fsevents.node')));
    expect(fat).toBeInstanceOf(FatFile);
    const f = fat as FatFile;
    expect(f.arches.map((a) => a.machine)).toEqual(['x86_64', 'aarch64']);
    expect(f.arches.map((a) => a.image.kind)).toEqual(['bundle', 'bundle']);
    expect(f.arches[1]!.image.symbols().some((s) => s.name.includes('fse_'))).toBe(true);
  });
  it('a Java class file (also 0xcafebabe) is not taken for a fat file', () => {
    const cls = new Uint8Array([0xca, 0xfe, 0xba, 0xbe, 0x00, 0x00, 0x00, 0x34, 0, 0, 0, 0]);
    expect(() => parseMachO(cls)).toThrow(/not a thin Mach-O/);
  });
});

describe('byte orders and fat variants', () => {
  it('FAT_MAGIC_64 (fat_arch_64 entries) reads like the 32-bit fat header', () => {
    const f64 = parseMachO(readFileSync(join(FIXTURES, 'libgreet-fat64.dylib'))) as FatFile;
    const f32 = parseMachO(readFileSync(join(FIXTURES, 'libgreet-fat.dylib'))) as FatFile;
    expect(f64.arches.map((a) => [a.machine, a.offset, a.size, a.align])).toEqual(f32.arches.map((a) => [a.machine, a.offset, a.size, a.align]));
  });
  it('a big-endian 32-bit Mach-O (MH_MAGIC stored big-endian, as PowerPC files were)', () => {
    // mach_header (28 bytes) + LC_UUID (24) + LC_SEGMENT "__TEXT" (56), all fields big-endian.
    const b = new Uint8Array(28 + 24 + 56);
    const v = new DataView(b.buffer);
    v.setUint32(0, 0xfeedface, false);
    v.setInt32(4, 18, false); // CPU_TYPE_POWERPC
    v.setUint32(12, 2, false); // MH_EXECUTE
    v.setUint32(16, 2, false);
    v.setUint32(20, 24 + 56, false);
    v.setUint32(28, 0x1b, false);
    v.setUint32(32, 24, false);
    for (let i = 0; i < 16; i++) b[36 + i] = i;
    v.setUint32(52, 0x1, false);
    v.setUint32(56, 56, false);
    b.set(new TextEncoder().encode('__TEXT'), 60);
    v.setUint32(76, 0x1000, false); // vmaddr
    v.setUint32(80, 0x2000, false); // vmsize
    v.setInt32(92, 7, false); // maxprot
    v.setInt32(96, 5, false); // initprot
    const m = parseMachO(b) as MachOFile;
    expect([m.header.littleEndian, m.header.is64, m.machine, m.kind]).toEqual([false, false, 'ppc', 'exec']);
    expect(m.uuid).toBe('00010203-0405-0607-0809-0A0B0C0D0E0F');
    expect(m.segments[0]).toMatchObject({ segname: '__TEXT', vmaddr: 0x1000, vmsize: 0x2000, maxprot: 7, initprot: 5 });
  });
});

describe('the saved llvm-objdump outputs regenerate byte for byte with the live llvm-objdump', () => {
  if (requires('llvm-objdump (regenerating the saved outputs)', objdumpMissing())) {
    const tool = objdumpTool()!;
    it.each(savedOutputs())('%s', (saved, args) => {
      expect(regenerate(tool, args), `${tool} (${toolVersion(tool)}) ${args.join(' ')}; the saved outputs were made with LLVM 14`).toBe(savedText(saved));
    });
  }
});

describe('real Go-built Mach-O executables (esbuild for darwin, fetched by tools/fixtures/fetch-large.sh; llvm-objdump run live)', () => {
  const dir = join(FIXTURES, '..', 'fixtures-large');
  const names = ['esbuild-darwin-x64', 'esbuild-darwin-arm64'];
  const notFetched = names.filter((n) => !existsSync(join(dir, n)));
  const problem = objdumpMissing() ?? (notFetched.length > 0 ? `not fetched (run tools/fixtures/fetch-large.sh): ${notFetched.join(', ')}` : null);
  if (!requires('llvm-objdump on esbuild-darwin-*', problem)) return;
  const tool = objdumpTool()!;
  for (const name of names) {
    const path = join(dir, name);
    it(`${name}: load commands, segments, dylibs, entry`, () => {
      const text = execFileSync(tool, ['--macho', '--private-headers', path], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      const m = parseMachO(readFileSync(path)) as MachOFile;
      expect(m.commands.map((c) => c.name)).toEqual([...text.matchAll(/^\s+cmd (\S+)$/gm)].map((x) => x[1]));
      expect(m.segments.map((s) => s.segname)).toEqual([...text.matchAll(/cmd LC_SEGMENT(?:_64)?\n\s+cmdsize \d+\n\s+segname (\S+)/g)].map((x) => x[1]));
      expect(m.dylibs.map((d) => d.name)).toEqual([...text.matchAll(/^\s+name (.*) \(offset \d+\)$/gm)].map((x) => x[1]).filter((n) => n !== '/usr/lib/dyld'));
      expect(m.kind).toBe('exec');
      expect(m.entry).toBeGreaterThan(m.imageBase ?? 0);
    });
  }
});
