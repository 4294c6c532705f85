import { parsePe } from '@polykernel/pe';
import { describe, expect, it } from 'vitest';
import { CYGWIN1_BASE, CYGWIN1_EXPORTS, EXE_BASE, REBASED_DLL_STORAGE_HIGH, cygwinSysroot, rebaseall } from './sysroot.js';

describe('the Cygwin sysroot images', () => {
  it('bash.exe: PE32+ at 0x100400000 with .data and .bss, importing cygwin1.dll and its DLLs', () => {
    const pe = parsePe(cygwinSysroot()['/usr/bin/bash.exe']!);
    expect(pe.bits).toBe(64);
    expect(pe.optional!.imageBase).toBe(EXE_BASE);
    expect(pe.sections.map((s) => s.name)).toEqual(['.text', '.data', '.bss', '.idata']);
    const bss = pe.sections.find((s) => s.name === '.bss')!;
    expect([bss.virtualSize, bss.sizeOfRawData]).toEqual([0x10000, 0]);
    expect(pe.imports().map((d) => d.name)).toEqual(['cygwin1.dll', 'cyggcc_s-seh-1.dll', 'cygreadline7.dll']);
    expect(pe.imports()[0]!.entries.map((e) => e.name)).toEqual(['fork', 'getpid', 'waitpid', '_exit', 'mmap']);
  });

  it('cygwin1.dll: at 0x180040000, exporting the calls the personality implements', () => {
    const pe = parsePe(cygwinSysroot()['/usr/bin/cygwin1.dll']!);
    expect(pe.optional!.imageBase).toBe(CYGWIN1_BASE);
    expect(pe.exports()!.entries.map((e) => e.name).sort()).toEqual([...CYGWIN1_EXPORTS].sort());
  });

  it('rebaseall packs every DLL but cygwin1.dll downwards from 0x400000000, 64 KiB aligned', () => {
    const { files, bases } = rebaseall(cygwinSysroot());
    expect(Object.keys(bases).sort()).toEqual(['/usr/bin/cyggcc_s-seh-1.dll', '/usr/bin/cygreadline7.dll', '/usr/bin/cygz.dll']);
    let top = REBASED_DLL_STORAGE_HIGH;
    for (const path of Object.keys(bases).sort()) {
      const pe = parsePe(files[path]!);
      expect(pe.optional!.imageBase).toBe(bases[path]);
      expect(bases[path]! % 0x10000).toBe(0);
      expect(bases[path]! + pe.optional!.sizeOfImage).toBeLessThanOrEqual(top);
      top = bases[path]!;
    }
    expect(parsePe(files['/usr/bin/cygwin1.dll']!).optional!.imageBase).toBe(CYGWIN1_BASE);
  });
});
