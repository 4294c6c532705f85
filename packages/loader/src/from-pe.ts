/** Build the executable image model from a PE image or COFF object. */
import { parsePe, sectionProt, type PeFile } from '@polykernel/pe';
import type { ExecutableImage, ImageRelocation, ImageSegment } from './image.js';

export function imageFromPe(pe: PeFile): ExecutableImage {
  const base = pe.imageBase;
  const o = pe.optional;
  const segments: ImageSegment[] = pe.sections.map((s) => ({
    name: s.name,
    vaddr: base + s.virtualAddress,
    memsz: s.virtualSize,
    offset: s.pointerToRawData,
    filesz: s.sizeOfRawData,
    prot: sectionProt(s.characteristics),
    align: o?.sectionAlignment ?? 1,
  }));
  const imports = [...pe.imports(), ...pe.delayImports()];
  const ex = pe.exports();
  const tls = pe.tls();
  return {
    format: 'pe',
    bits: pe.bits,
    endian: 'little',
    machine: pe.machine,
    kind: pe.kind,
    osabi: 'windows',
    entry: pe.entry,
    imageBase: pe.isObject ? null : base,
    segments,
    interpreter: null,
    needed: pe.imports().map((d) => d.name), // import-table order, as the loader walks it
    soname: ex?.dllName ?? null,
    runpath: [],
    exports: (ex?.entries ?? []).map((e) => ({ name: e.name ?? `#${e.ordinal}`, value: base + e.rva, size: 0, kind: 'func' as const, binding: 'global' as const })),
    imports: imports.flatMap((d) => d.entries.map((e) => ({ name: e.name ?? `#${e.ordinal ?? 0}`, library: d.name, weak: false }))),
    relocations: pe.baseRelocations().flatMap((b) => b.entries.filter((e) => e.type !== 0).map((e): ImageRelocation => ({
      offset: e.rva, kind: e.type === 3 || e.type === 10 ? 'relative' : 'other', typeName: `IMAGE_REL_BASED_${e.typeName}`, symbol: null, addend: 0,
    }))),
    tls: tls === null ? null : { vaddr: tls.startAddressOfRawData, filesz: tls.endAddressOfRawData - tls.startAddressOfRawData, memsz: tls.endAddressOfRawData - tls.startAddressOfRawData + tls.sizeOfZeroFill, align: 1 },
    executableStack: false,
  };
}

export function loadPe(bytes: Uint8Array): ExecutableImage {
  return imageFromPe(parsePe(bytes));
}
