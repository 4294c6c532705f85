import { createHash } from 'node:crypto';
import { parsePe } from '@polykernel/pe';
import { describe, expect, it } from 'vitest';
import { writeImage } from './image.js';
import { CYGWIN1_BASE, CYGWIN1_EXPORTS, EXE_BASE, REBASED_DLL_STORAGE_HIGH, cygwinSysroot, rebaseall } from './sysroot.js';

describe('the Cygwin sysroot images', () => {
  it('are byte for byte what Cygwin\'s own PE writer made before it became the Windows personality\'s writePe (sha256)', () => {
    const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
    expect(Object.fromEntries(Object.entries(cygwinSysroot()).map(([k, v]) => [k, sha(v)]))).toEqual({
      '/usr/bin/cygwin1.dll': '19dcc2c3e74c5a914f7496ac8fe2fb660c168658f7d2873115bc28142f1ae257',
      '/usr/bin/cyggcc_s-seh-1.dll': 'b8ae41be95a0f7d4cb830934378691bb3dc8027b244266bfecf6e8a654c1494f',
      '/usr/bin/cygreadline7.dll': '508e74b062d34c220ec66fa97f6b299404ab4a3779b48425252ccf81af1a2f5b',
      '/usr/bin/cygz.dll': '250ef723c36a31ee84ef503bc1b260417176b2a02af4990633fffa923a245bb6',
      '/usr/bin/bash.exe': '17cdf537c0b97e89737f0f582b5c30563bab8378c75d18dd4413ac9316c72a80',
      '/usr/bin/true.exe': '44d7237b35740d8dd9521a7f214ffed60abd387a139ba0a85e3587701e918788',
    });
    // Stack sizes, RELOCS_STRIPPED, empty import lists and duplicate exports too.
    expect(sha(writeImage('x.exe', { dll: false, imageBase: 0x140000000, dataSize: 123, bssSize: 77777, stackReserve: 0x800000, stackCommit: 0x2000, fixedBase: true, imports: [{ dll: 'a.dll', names: ['x', 'yy', 'zzz'] }, { dll: 'b.dll', names: [] }] })))
      .toBe('028cf658cbd8f9d955cf63d43b0495399f0c510f4d675e0ea7f303fc5126dd98');
    expect(sha(writeImage('e.dll', { dll: true, imageBase: 0x180000000, exports: ['b', 'a', 'a', 'ccc'], dataSize: 0x3000, bssSize: 0x100, fixedBase: true })))
      .toBe('899d382dfdc375ebe7507d7a85422bbb06ce976652caea1397304a4cc05a5829');
  });

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
