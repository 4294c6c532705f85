/**
 * A PE32+ writer for the Cygwin sysroot: Cygwin's own binaries cannot be shipped, so the sysroot
 * holds images laid out the way Cygwin's linker lays out its programs and DLLs — .text, .data and
 * .bss (what fork copies: the `_data_start__`/`_bss_end__` ranges of dll_init.cc's per_module),
 * an export table for a DLL, an import table naming the DLLs a program links against (what the
 * Windows loader maps before cygwin1.dll's start-up runs). The file itself, and the export table,
 * are the Windows personality's PE writer's (writePe, exportSection); the sections are Cygwin's.
 */
import { DIRECTORY_EXPORT, DIRECTORY_IMPORT, exportSection, peAlign as align, PE_SECTION_ALIGN as SECTION_ALIGN, writePe, type PeSection } from '@polykernel/windows';

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

function sectionsOf(name: string, spec: ImageSpec): { secs: PeSection[]; exportDir: [number, number] | null; importDir: [number, number] | null; sizeOfImage: number } {
  const secs: PeSection[] = [];
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
  return writePe({
    bits: 64,
    // EXECUTABLE_IMAGE | LARGE_ADDRESS_AWARE, DLL, RELOCS_STRIPPED as asked.
    characteristics: 0x0022 + (spec.dll ? 0x2000 : 0) + (spec.fixedBase === true ? 0x0001 : 0),
    imageBase: spec.imageBase,
    sections: secs,
    sizeOfImage,
    entryPoint: secs[0]!.rva, // .text
    // Cygwin's ld default stack: 2 MiB reserved, 4 KiB committed. No DYNAMIC_BASE: Cygwin images are not ASLR'd.
    stackReserve: spec.stackReserve ?? 0x200000,
    stackCommit: spec.stackCommit ?? 0x1000,
    directories: {
      ...(exportDir !== null ? { [DIRECTORY_EXPORT]: exportDir } : {}),
      ...(importDir !== null ? { [DIRECTORY_IMPORT]: importDir } : {}),
    },
  });
}
