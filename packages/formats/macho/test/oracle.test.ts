/**
 * The Mach-O reader against llvm-objdump --macho --private-headers (saved output) on a real fat
 * file (fsevents: x86_64 + arm64 bundles built by Apple's toolchain) and on clang/lld fixtures.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FatFile, MachOFile, parseMachO } from '../src/index.js';
import { FIXTURES, fixtureFiles, objdumpSlices } from './objdump.js';

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
