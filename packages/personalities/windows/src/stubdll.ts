/**
 * A minimal PE DLL writer for sysroots: a DLL that exports the given names, each a `ret` in
 * .text. Windows' own system DLLs cannot be shipped, so the fixture sysroot's kernel32.dll and
 * msvcrt.dll are such stubs, made for the names the fixture programs import
 * (tools/fixtures/windows/make-sysroot.ts). The layout follows the PE/COFF specification: DOS
 * header, PE signature, COFF header, optional header (PE32 or PE32+), two sections (.text, .edata).
 */

const FILE_ALIGN = 0x200;
const SECTION_ALIGN = 0x1000;

export interface StubDllOptions {
  /** 64 (PE32+, AMD64) or 32 (PE32, i386). */
  bits: 32 | 64;
  imageBase: number;
}

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

export function stubDll(dllName: string, exports: readonly string[], opts: StubDllOptions): Uint8Array {
  const names = [...new Set(exports)].sort();
  const n = names.length;
  const textSize = Math.max(16 * n, 16);
  const textRva = SECTION_ALIGN;
  const edataRva = textRva + align(textSize, SECTION_ALIGN);
  // .edata: directory, EAT, name pointers, ordinals, strings.
  const eat = 40;
  const npt = eat + 4 * n;
  const ord = npt + 4 * n;
  let strings = ord + 2 * n;
  const enc = new TextEncoder();
  const dllNameOff = strings;
  strings += dllName.length + 1;
  const nameOffs: number[] = [];
  for (const s of names) {
    nameOffs.push(strings);
    strings += s.length + 1;
  }
  const edataSize = strings;
  const sizeOfImage = edataRva + align(edataSize, SECTION_ALIGN);
  const optSize = opts.bits === 64 ? 240 : 224;
  const headers = align(0x40 + 4 + 20 + optSize + 2 * 40, FILE_ALIGN);
  const textRaw = align(textSize, FILE_ALIGN);
  const edataRaw = align(edataSize, FILE_ALIGN);
  const out = new Uint8Array(headers + textRaw + edataRaw);
  const v = new DataView(out.buffer);
  out[0] = 0x4d;
  out[1] = 0x5a;
  v.setUint32(0x3c, 0x40, true);
  out.set([0x50, 0x45, 0, 0], 0x40);
  const coff = 0x44;
  v.setUint16(coff, opts.bits === 64 ? 0x8664 : 0x14c, true);
  v.setUint16(coff + 2, 2, true);
  v.setUint16(coff + 16, optSize, true);
  // IMAGE_FILE_DLL | EXECUTABLE_IMAGE | (64: LARGE_ADDRESS_AWARE, 32: 32BIT_MACHINE)
  v.setUint16(coff + 18, opts.bits === 64 ? 0x2022 : 0x2102, true);
  const o = coff + 20;
  v.setUint16(o, opts.bits === 64 ? 0x20b : 0x10b, true);
  v.setUint32(o + 4, textRaw, true);
  v.setUint32(o + 8, edataRaw, true);
  v.setUint32(o + 20, textRva, true);
  let p = o + 24;
  if (opts.bits === 64) {
    v.setBigUint64(p, BigInt(opts.imageBase), true);
    p += 8;
  } else {
    v.setUint32(p, edataRva, true); // BaseOfData
    v.setUint32(p + 4, opts.imageBase, true);
    p += 8;
  }
  v.setUint32(p, SECTION_ALIGN, true);
  v.setUint32(p + 4, FILE_ALIGN, true);
  v.setUint16(p + 8, 6, true); // OS version 6.0
  v.setUint16(p + 16, 6, true); // subsystem version 6.0
  v.setUint32(p + 24, sizeOfImage, true);
  v.setUint32(p + 28, headers, true);
  v.setUint16(p + 36, 3, true); // IMAGE_SUBSYSTEM_WINDOWS_CUI
  v.setUint16(p + 38, 0x100, true); // NX_COMPAT
  p += 40;
  const word = opts.bits === 64 ? 8 : 4;
  const sizes = [0x100000, 0x1000, 0x100000, 0x1000];
  for (const s of sizes) {
    if (word === 8) v.setBigUint64(p, BigInt(s), true);
    else v.setUint32(p, s, true);
    p += word;
  }
  p += 4; // LoaderFlags
  v.setUint32(p, 16, true);
  p += 4;
  v.setUint32(p, edataRva, true); // the export directory
  v.setUint32(p + 4, edataSize, true);
  p += 16 * 8;
  const section = (at: number, name: string, vsize: number, rva: number, raw: number, ptr: number, chars: number): void => {
    out.set(enc.encode(name), at);
    v.setUint32(at + 8, vsize, true);
    v.setUint32(at + 12, rva, true);
    v.setUint32(at + 16, raw, true);
    v.setUint32(at + 20, ptr, true);
    v.setUint32(at + 36, chars, true);
  };
  section(p, '.text', textSize, textRva, textRaw, headers, 0x60000020);
  section(p + 40, '.edata', edataSize, edataRva, edataRaw, headers + textRaw, 0x40000040);
  out.fill(0xc3, headers, headers + textSize);
  const e = headers + textRaw;
  v.setUint32(e + 12, edataRva + dllNameOff, true);
  v.setUint32(e + 16, 1, true);
  v.setUint32(e + 20, n, true);
  v.setUint32(e + 24, n, true);
  v.setUint32(e + 28, edataRva + eat, true);
  v.setUint32(e + 32, edataRva + npt, true);
  v.setUint32(e + 36, edataRva + ord, true);
  out.set(enc.encode(dllName), e + dllNameOff);
  names.forEach((s, i) => {
    v.setUint32(e + eat + 4 * i, textRva + 16 * i, true);
    v.setUint32(e + npt + 4 * i, edataRva + nameOffs[i]!, true);
    v.setUint16(e + ord + 2 * i, i, true);
    out.set(enc.encode(s), e + nameOffs[i]!);
  });
  return out;
}
