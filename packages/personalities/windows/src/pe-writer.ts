/**
 * A PE/COFF image writer for sysroots, whose system binaries cannot be shipped: the layout of the
 * PE/COFF specification — DOS header (e_lfanew 0x40), PE signature, COFF header, optional header
 * (PE32 or PE32+), the section table, then each section's raw data, file-aligned. The caller
 * chooses the sections (Windows' stub DLLs: .text and .edata, stubdll.ts; Cygwin's programs and
 * DLLs add .data, .bss and .idata) and the header fields that differ between them.
 */

export const FILE_ALIGN = 0x200;
export const SECTION_ALIGN = 0x1000;
/** IMAGE_DIRECTORY_ENTRY_EXPORT and IMAGE_DIRECTORY_ENTRY_IMPORT: indexes into the data directories. */
export const DIRECTORY_EXPORT = 0;
export const DIRECTORY_IMPORT = 1;

export function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** One section: its header fields, and its raw data (null: none in the file, as .bss). */
export interface PeSection {
  name: string;
  rva: number;
  vsize: number;
  raw: Uint8Array | null;
  /** IMAGE_SCN_* characteristics. */
  chars: number;
}

export interface PeImage {
  /** 64: PE32+ for AMD64; 32: PE32 for i386. */
  bits: 32 | 64;
  /** COFF IMAGE_FILE_* characteristics. */
  characteristics: number;
  imageBase: number;
  /** In RVA order; the first one's RVA is BaseOfCode. */
  sections: readonly PeSection[];
  sizeOfImage: number;
  /** AddressOfEntryPoint (default 0: none). */
  entryPoint?: number;
  /** SizeOfCode and SizeOfInitializedData (default 0). */
  sizeOfCode?: number;
  sizeOfInitializedData?: number;
  /** BaseOfData (PE32 only; default 0). */
  baseOfData?: number;
  /** SizeOfStackReserve / SizeOfStackCommit (default 1 MiB / 4 KiB, link.exe's). */
  stackReserve?: number;
  stackCommit?: number;
  /** Data directories by index (DIRECTORY_EXPORT, DIRECTORY_IMPORT ...): RVA and size. */
  directories?: Readonly<Record<number, readonly [number, number]>>;
}

/** The image file: headers, section table and the sections' raw data. */
export function writePe(img: PeImage): Uint8Array {
  const secs = img.sections;
  const wide = img.bits === 64;
  const optSize = wide ? 240 : 224;
  const headers = alignUp(0x40 + 4 + 20 + optSize + 40 * secs.length, FILE_ALIGN);
  let filePtr = headers;
  const ptrs = secs.map((s) => {
    const p = filePtr;
    filePtr += s.raw === null ? 0 : alignUp(s.raw.length, FILE_ALIGN);
    return p;
  });
  const out = new Uint8Array(filePtr);
  const v = new DataView(out.buffer);
  out[0] = 0x4d;
  out[1] = 0x5a;
  v.setUint32(0x3c, 0x40, true);
  out.set([0x50, 0x45, 0, 0], 0x40);
  const coff = 0x44;
  v.setUint16(coff, wide ? 0x8664 : 0x14c, true);
  v.setUint16(coff + 2, secs.length, true);
  v.setUint16(coff + 16, optSize, true);
  v.setUint16(coff + 18, img.characteristics, true);
  const o = coff + 20;
  v.setUint16(o, wide ? 0x20b : 0x10b, true);
  v.setUint32(o + 4, img.sizeOfCode ?? 0, true);
  v.setUint32(o + 8, img.sizeOfInitializedData ?? 0, true);
  v.setUint32(o + 16, img.entryPoint ?? 0, true);
  v.setUint32(o + 20, secs[0]?.rva ?? 0, true);
  if (wide) v.setBigUint64(o + 24, BigInt(img.imageBase), true);
  else {
    v.setUint32(o + 24, img.baseOfData ?? 0, true);
    v.setUint32(o + 28, img.imageBase, true);
  }
  let p = o + 32;
  v.setUint32(p, SECTION_ALIGN, true);
  v.setUint32(p + 4, FILE_ALIGN, true);
  v.setUint16(p + 8, 6, true); // OS version 6.0
  v.setUint16(p + 16, 6, true); // subsystem version 6.0
  v.setUint32(p + 24, img.sizeOfImage, true);
  v.setUint32(p + 28, headers, true);
  v.setUint16(p + 36, 3, true); // IMAGE_SUBSYSTEM_WINDOWS_CUI
  v.setUint16(p + 38, 0x100, true); // NX_COMPAT (no DYNAMIC_BASE)
  p += 40;
  for (const s of [img.stackReserve ?? 0x100000, img.stackCommit ?? 0x1000, 0x100000, 0x1000]) {
    if (wide) v.setBigUint64(p, BigInt(s), true);
    else v.setUint32(p, s, true);
    p += wide ? 8 : 4;
  }
  p += 4; // LoaderFlags
  v.setUint32(p, 16, true); // NumberOfRvaAndSizes
  p += 4;
  for (const [index, [rva, size]] of Object.entries(img.directories ?? {})) {
    v.setUint32(p + 8 * Number(index), rva, true);
    v.setUint32(p + 8 * Number(index) + 4, size, true);
  }
  p += 16 * 8;
  const enc = new TextEncoder();
  secs.forEach((s, i) => {
    const at = p + 40 * i;
    out.set(enc.encode(s.name), at);
    v.setUint32(at + 8, s.vsize, true);
    v.setUint32(at + 12, s.rva, true);
    v.setUint32(at + 16, s.raw === null ? 0 : alignUp(s.raw.length, FILE_ALIGN), true);
    v.setUint32(at + 20, s.raw === null ? 0 : ptrs[i]!, true);
    v.setUint32(at + 36, s.chars, true);
    if (s.raw !== null) out.set(s.raw, ptrs[i]);
  });
  return out;
}

/**
 * An export section at `rva` for `dllName`: the export directory, then the address table (export
 * i is the 16-byte slot i of the code at `textRva`), the name pointers, the ordinals and the
 * strings (the DLL's name, then the exports' names, sorted and without duplicates).
 */
export function exportSection(dllName: string, names: readonly string[], rva: number, textRva: number): Uint8Array {
  const sorted = [...new Set(names)].sort();
  const n = sorted.length;
  const eat = 40;
  const npt = eat + 4 * n;
  const ord = npt + 4 * n;
  let str = ord + 2 * n;
  const enc = new TextEncoder();
  const nameOff = str;
  str += dllName.length + 1;
  const offs = sorted.map((s) => {
    const o = str;
    str += s.length + 1;
    return o;
  });
  const out = new Uint8Array(str);
  const v = new DataView(out.buffer);
  v.setUint32(12, rva + nameOff, true);
  v.setUint32(16, 1, true);
  v.setUint32(20, n, true);
  v.setUint32(24, n, true);
  v.setUint32(28, rva + eat, true);
  v.setUint32(32, rva + npt, true);
  v.setUint32(36, rva + ord, true);
  out.set(enc.encode(dllName), nameOff);
  sorted.forEach((s, i) => {
    v.setUint32(eat + 4 * i, textRva + 16 * i, true);
    v.setUint32(npt + 4 * i, rva + offs[i]!, true);
    v.setUint16(ord + 2 * i, i, true);
    out.set(enc.encode(s), offs[i]);
  });
  return out;
}
