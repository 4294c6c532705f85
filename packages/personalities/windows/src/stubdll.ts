/**
 * A minimal PE DLL writer for sysroots: a DLL that exports the given names, each a `ret` in
 * .text. Windows' own system DLLs cannot be shipped, so the fixture sysroot's kernel32.dll and
 * msvcrt.dll are such stubs, made for the names the fixture programs import
 * (tools/fixtures/windows/make-sysroot.ts). Two sections (.text, .edata), written by pe-writer.ts.
 */
import { alignUp, DIRECTORY_EXPORT, exportSection, FILE_ALIGN, SECTION_ALIGN, writePe } from './pe-writer.js';

export interface StubDllOptions {
  /** 64 (PE32+, AMD64) or 32 (PE32, i386). */
  bits: 32 | 64;
  imageBase: number;
}

export function stubDll(dllName: string, exports: readonly string[], opts: StubDllOptions): Uint8Array {
  const n = new Set(exports).size;
  const textSize = Math.max(16 * n, 16);
  const textRva = SECTION_ALIGN;
  const edataRva = textRva + alignUp(textSize, SECTION_ALIGN);
  const edata = exportSection(dllName, exports, edataRva, textRva);
  const text = new Uint8Array(textSize).fill(0xc3); // each export a `ret`
  return writePe({
    bits: opts.bits,
    // IMAGE_FILE_DLL | EXECUTABLE_IMAGE | (64: LARGE_ADDRESS_AWARE, 32: 32BIT_MACHINE)
    characteristics: opts.bits === 64 ? 0x2022 : 0x2102,
    imageBase: opts.imageBase,
    sections: [
      { name: '.text', rva: textRva, vsize: textSize, raw: text, chars: 0x60000020 },
      { name: '.edata', rva: edataRva, vsize: edata.length, raw: edata, chars: 0x40000040 },
    ],
    sizeOfImage: edataRva + alignUp(edata.length, SECTION_ALIGN),
    sizeOfCode: alignUp(textSize, FILE_ALIGN),
    sizeOfInitializedData: alignUp(edata.length, FILE_ALIGN),
    baseOfData: edataRva,
    directories: { [DIRECTORY_EXPORT]: [edataRva, edata.length] },
  });
}
