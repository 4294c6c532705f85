/**
 * The sysroot PE writer, read back by @polykernel/pe: PE32+ and PE32 headers, the section table
 * and raw data, data directories, and the export table (Windows' stub DLLs and Cygwin's images
 * are written by it).
 */
import { parsePe } from '@polykernel/pe';
import { describe, expect, it } from 'vitest';
import { DIRECTORY_EXPORT, exportSection, FILE_ALIGN, SECTION_ALIGN, writePe } from './pe-writer.js';
import { stubDll } from './stubdll.js';

describe('writePe', () => {
  it('a PE32+ DLL with a .bss that has no raw data: headers, sections and the export directory read back', () => {
    const edata = exportSection('t.dll', ['b', 'a', 'b'], 0x3000, 0x1000);
    const bytes = writePe({
      bits: 64, characteristics: 0x2022, imageBase: 0x1_8000_0000, sizeOfImage: 0x4000, entryPoint: 0x1000, stackReserve: 0x200000,
      sections: [
        { name: '.text', rva: 0x1000, vsize: 32, raw: new Uint8Array(32).fill(0xc3), chars: 0x60000020 },
        { name: '.bss', rva: 0x2000, vsize: 0x800, raw: null, chars: 0xc0000080 },
        { name: '.edata', rva: 0x3000, vsize: edata.length, raw: edata, chars: 0x40000040 },
      ],
      directories: { [DIRECTORY_EXPORT]: [0x3000, edata.length] },
    });
    const pe = parsePe(bytes);
    expect([pe.bits, pe.kind, pe.imageBase, pe.optional!.addressOfEntryPoint]).toEqual([64, 'dll', 0x1_8000_0000, 0x1000]);
    const o = pe.optional!;
    expect([o.sectionAlignment, o.fileAlignment, o.sizeOfImage, o.sizeOfHeaders, o.sizeOfStackReserve, o.sizeOfStackCommit]).toEqual([SECTION_ALIGN, FILE_ALIGN, 0x4000, 0x200, 0x200000, 0x1000]);
    expect(pe.sections.map((s) => [s.name, s.virtualAddress, s.sizeOfRawData])).toEqual([['.text', 0x1000, 0x200], ['.bss', 0x2000, 0], ['.edata', 0x3000, 0x200]]);
    expect(bytes.length).toBe(0x200 + 0x200 + 0x200); // headers, .text, .edata (no .bss bytes)
    const ex = pe.exports()!;
    expect(ex.dllName).toBe('t.dll');
    expect(ex.entries.map((e) => [e.name, e.rva])).toEqual([['a', 0x1000], ['b', 0x1010]]);
  });

  it('PE32: i386, BaseOfData and 4-byte stack and heap sizes (a 32-bit stub DLL)', () => {
    const pe = parsePe(stubDll('msvcrt.dll', ['printf', 'exit'], { bits: 32, imageBase: 0x7700_0000 }));
    expect([pe.bits, pe.machine, pe.imageBase]).toEqual([32, 'i386', 0x7700_0000]);
    expect(pe.optional!.baseOfData).toBe(0x2000);
    expect([pe.optional!.sizeOfStackReserve, pe.optional!.sizeOfHeapReserve]).toEqual([0x100000, 0x100000]);
    expect(pe.exports()!.entries.map((e) => e.name)).toEqual(['exit', 'printf']);
  });
});
