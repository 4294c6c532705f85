/**
 * A PE32+ writer for the Cygwin sysroot: Cygwin's own binaries cannot be shipped, so the sysroot
 * holds images laid out the way Cygwin's linker lays out its programs and DLLs — .text, .data and
 * .bss (what fork copies: the `_data_start__`/`_bss_end__` ranges of dll_init.cc's per_module),
 * an export table for a DLL, an import table naming the DLLs a program links against (what the
 * Windows loader maps before cygwin1.dll's start-up runs). Layout per the PE/COFF specification.
 */

const FILE_ALIGN = 0x200;
const SECTION_ALIGN = 0x1000;

export interface ImageSpec {
  /** DLL (exports `exports`) or program. */
  dll: boolean;
  imageBase: number;
  /** Names this DLL exports (each a `ret` in .text). */
  exports?: readonly string[];
  /** The DLLs this image links against and the names it imports from each. */
  imports?: readonly { dll: string; names: readonly string[] }[];
  /** Bytes of initialised data (.data) and uninitialised data (.bss). */
  dataSize: number;
  bssSize: number;
  /** SizeOfStackReserve / SizeOfStackCommit (Cygwin's ld default: 2 MiB / 4 KiB). */
  stackReserve?: number;
  stackCommit?: number;
  /** Set IMAGE_FILE_RELOCS_STRIPPED: the image loads at its base or not at all. */
  fixedBase?: boolean;
}

const align = (n: number, a: number): number => Math.ceil(n / a) * a;

interface Sec {
  name: string;
  rva: number;
  vsize: number;
  raw: Uint8Array | null;
  chars: number;
}

/** The export directory, address table, name pointers, ordinals and strings at `rva`. */
function exportSection(dllName: string, names: readonly string[], rva: number, textRva: number): Uint8Array {
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

/** Import descriptors, then per DLL its ILT and IAT (u64 slots), hint/name entries and the DLL name. */
function importSection(imports: readonly { dll: string; names: readonly string[] }[], rva: number): Uint8Array {
  const enc = new TextEncoder();
  let at = 20 * (imports.length + 1);
  const layout = imports.map((d) => {
    const ilt = at;
    at += 8 * (d.names.length + 1);
    const iat = at;
    at += 8 * (d.names.length + 1);
    const hints = d.names.map((s) => {
      const o = at;
      at += align(2 + s.length + 1, 2);
      return o;
    });
    const name = at;
    at += d.dll.length + 1;
    return { ilt, iat, hints, name };
  });
  const out = new Uint8Array(align(at, 8));
  const v = new DataView(out.buffer);
  imports.forEach((d, i) => {
    const l = layout[i]!;
    v.setUint32(20 * i, rva + l.ilt, true);
    v.setUint32(20 * i + 12, rva + l.name, true);
    v.setUint32(20 * i + 16, rva + l.iat, true);
    out.set(enc.encode(d.dll), l.name);
    d.names.forEach((s, j) => {
      v.setBigUint64(l.ilt + 8 * j, BigInt(rva + l.hints[j]!), true);
      v.setBigUint64(l.iat + 8 * j, BigInt(rva + l.hints[j]!), true);
      out.set(enc.encode(s), l.hints[j]! + 2);
    });
  });
  return out;
}

function sectionsOf(name: string, spec: ImageSpec): { secs: Sec[]; exportDir: [number, number] | null; importDir: [number, number] | null; sizeOfImage: number } {
  const secs: Sec[] = [];
  let rva = SECTION_ALIGN;
  const exportsList = spec.exports ?? [];
  const textSize = Math.max(16 * exportsList.length, 16);
  const text = new Uint8Array(textSize).fill(0xc3);
  secs.push({ name: '.text', rva, vsize: textSize, raw: text, chars: 0x60000020 });
  const textRva = rva;
  rva += align(textSize, SECTION_ALIGN);
  const data = new Uint8Array(spec.dataSize);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 1) % 256;
  secs.push({ name: '.data', rva, vsize: Math.max(spec.dataSize, 1), raw: data, chars: 0xc0000040 });
  rva += align(Math.max(spec.dataSize, 1), SECTION_ALIGN);
  secs.push({ name: '.bss', rva, vsize: Math.max(spec.bssSize, 1), raw: null, chars: 0xc0000080 });
  rva += align(Math.max(spec.bssSize, 1), SECTION_ALIGN);
  let exportDir: [number, number] | null = null;
  let importDir: [number, number] | null = null;
  if (spec.dll) {
    const e = exportSection(name, exportsList, rva, textRva);
    secs.push({ name: '.edata', rva, vsize: e.length, raw: e, chars: 0x40000040 });
    exportDir = [rva, e.length];
    rva += align(e.length, SECTION_ALIGN);
  }
  if ((spec.imports ?? []).length > 0) {
    const im = importSection(spec.imports!, rva);
    secs.push({ name: '.idata', rva, vsize: im.length, raw: im, chars: 0xc0000040 });
    importDir = [rva, im.length];
    rva += align(im.length, SECTION_ALIGN);
  }
  return { secs, exportDir, importDir, sizeOfImage: rva };
}

/** The PE32+ file for `name` (the DLL name goes into its export directory). */
export function writeImage(name: string, spec: ImageSpec): Uint8Array {
  const { secs, exportDir, importDir, sizeOfImage } = sectionsOf(name, spec);
  const optSize = 240;
  const headers = align(0x40 + 4 + 20 + optSize + 40 * secs.length, FILE_ALIGN);
  let filePtr = headers;
  const ptrs = secs.map((s) => {
    const p = filePtr;
    filePtr += s.raw === null ? 0 : align(s.raw.length, FILE_ALIGN);
    return p;
  });
  const out = new Uint8Array(filePtr);
  const v = new DataView(out.buffer);
  out[0] = 0x4d;
  out[1] = 0x5a;
  v.setUint32(0x3c, 0x40, true);
  out.set([0x50, 0x45, 0, 0], 0x40);
  const coff = 0x44;
  v.setUint16(coff, 0x8664, true);
  v.setUint16(coff + 2, secs.length, true);
  v.setUint16(coff + 16, optSize, true);
  // EXECUTABLE_IMAGE | LARGE_ADDRESS_AWARE, DLL, RELOCS_STRIPPED as asked.
  v.setUint16(coff + 18, 0x0022 + (spec.dll ? 0x2000 : 0) + (spec.fixedBase === true ? 0x0001 : 0), true);
  const o = coff + 20;
  v.setUint16(o, 0x20b, true);
  v.setUint32(o + 16, secs[0]!.rva, true); // AddressOfEntryPoint: .text
  v.setUint32(o + 20, secs[0]!.rva, true);
  v.setBigUint64(o + 24, BigInt(spec.imageBase), true);
  v.setUint32(o + 32, SECTION_ALIGN, true);
  v.setUint32(o + 36, FILE_ALIGN, true);
  v.setUint16(o + 40, 6, true);
  v.setUint16(o + 48, 6, true);
  v.setUint32(o + 56, sizeOfImage, true);
  v.setUint32(o + 60, headers, true);
  v.setUint16(o + 68, 3, true); // IMAGE_SUBSYSTEM_WINDOWS_CUI
  v.setUint16(o + 70, 0x100, true); // NX_COMPAT (no DYNAMIC_BASE: Cygwin images are not ASLR'd)
  v.setBigUint64(o + 72, BigInt(spec.stackReserve ?? 0x200000), true);
  v.setBigUint64(o + 80, BigInt(spec.stackCommit ?? 0x1000), true);
  v.setBigUint64(o + 88, 0x100000n, true);
  v.setBigUint64(o + 96, 0x1000n, true);
  v.setUint32(o + 108, 16, true);
  const dirs = o + 112;
  if (exportDir !== null) {
    v.setUint32(dirs, exportDir[0], true);
    v.setUint32(dirs + 4, exportDir[1], true);
  }
  if (importDir !== null) {
    v.setUint32(dirs + 8, importDir[0], true);
    v.setUint32(dirs + 12, importDir[1], true);
  }
  const enc = new TextEncoder();
  secs.forEach((s, i) => {
    const at = o + optSize + 40 * i;
    out.set(enc.encode(s.name), at);
    v.setUint32(at + 8, s.vsize, true);
    v.setUint32(at + 12, s.rva, true);
    v.setUint32(at + 16, s.raw === null ? 0 : align(s.raw.length, FILE_ALIGN), true);
    v.setUint32(at + 20, s.raw === null ? 0 : ptrs[i]!, true);
    v.setUint32(at + 36, s.chars, true);
    if (s.raw !== null) out.set(s.raw, ptrs[i]);
  });
  return out;
}
