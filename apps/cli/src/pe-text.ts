/**
 * llvm-readobj style views of PE/COFF files (--file-headers, --sections, --coff-imports,
 * --coff-exports, --coff-basereloc). The section, import, export and base-relocation blocks are
 * byte-identical to llvm-readobj 14's (the tests compare them).
 */
import { peConstants as P, type PeFile } from '@polykernel/pe';

const H = (n: number): string => `0x${n.toString(16).toUpperCase()}`;

/** readobj prints flag sets sorted by name, each with its value. */
function flags(value: number, table: [number, string][], indent: string, exact: [number, string][] = []): string[] {
  // Division, not `&`: characteristics use bit 31, where JS bitwise operators turn negative.
  const set = table.filter(([bit]) => bit !== 0 && Math.floor(value / bit) % 2 === 1);
  return [...exact, ...set].map(([bit, name]) => ({ bit, name }))
    .sort((a, b) => a.name.localeCompare(b.name)).map(({ bit, name }) => `${indent}${name} (${H(bit)})`);
}

function date(t: number): string {
  return `${new Date(t * 1000).toISOString().replace('T', ' ').slice(0, 19)} (${H(t)})`;
}

export function peFileHeaderText(pe: PeFile): string {
  const c = pe.coff;
  const out = [
    'ImageFileHeader {',
    `  Machine: ${pe.machineName} (${H(c.machine)})`,
    `  SectionCount: ${c.numberOfSections}`,
    `  TimeDateStamp: ${date(c.timeDateStamp)}`,
    `  PointerToSymbolTable: ${H(c.pointerToSymbolTable)}`,
    `  SymbolCount: ${c.numberOfSymbols}`,
    `  OptionalHeaderSize: ${c.sizeOfOptionalHeader}`,
    `  Characteristics [ (${H(c.characteristics)})`,
    ...flags(c.characteristics, P.FILE_CHARACTERISTICS, '    '),
    '  ]',
    '}',
  ];
  const o = pe.optional;
  if (o === null) return out.join('\n');
  out.push(
    'ImageOptionalHeader {',
    `  Magic: ${H(o.magic)}`,
    `  MajorLinkerVersion: ${o.majorLinkerVersion}`,
    `  MinorLinkerVersion: ${o.minorLinkerVersion}`,
    `  SizeOfCode: ${o.sizeOfCode}`,
    `  SizeOfInitializedData: ${o.sizeOfInitializedData}`,
    `  SizeOfUninitializedData: ${o.sizeOfUninitializedData}`,
    `  AddressOfEntryPoint: ${H(o.addressOfEntryPoint)}`,
    `  BaseOfCode: ${H(o.baseOfCode)}`,
    ...(o.baseOfData === null ? [] : [`  BaseOfData: ${H(o.baseOfData)}`]),
    `  ImageBase: ${H(o.imageBase)}`,
    `  SectionAlignment: ${o.sectionAlignment}`,
    `  FileAlignment: ${o.fileAlignment}`,
    `  MajorOperatingSystemVersion: ${o.majorOperatingSystemVersion}`,
    `  MinorOperatingSystemVersion: ${o.minorOperatingSystemVersion}`,
    `  MajorImageVersion: ${o.majorImageVersion}`,
    `  MinorImageVersion: ${o.minorImageVersion}`,
    `  MajorSubsystemVersion: ${o.majorSubsystemVersion}`,
    `  MinorSubsystemVersion: ${o.minorSubsystemVersion}`,
    `  SizeOfImage: ${o.sizeOfImage}`,
    `  SizeOfHeaders: ${o.sizeOfHeaders}`,
    `  Subsystem: ${P.SUBSYSTEMS[o.subsystem] ?? 'IMAGE_SUBSYSTEM_UNKNOWN'} (${H(o.subsystem)})`,
    `  Characteristics [ (${H(o.dllCharacteristics)})`,
    ...flags(o.dllCharacteristics, P.DLL_CHARACTERISTICS, '    '),
    '  ]',
    `  SizeOfStackReserve: ${o.sizeOfStackReserve}`,
    `  SizeOfStackCommit: ${o.sizeOfStackCommit}`,
    `  SizeOfHeapReserve: ${o.sizeOfHeapReserve}`,
    `  SizeOfHeapCommit: ${o.sizeOfHeapCommit}`,
    `  NumberOfRvaAndSize: ${o.numberOfRvaAndSizes}`,
    '  DataDirectory {',
    ...o.dataDirectories.flatMap((d) => {
      const n = P.DATA_DIRECTORY_NAMES[d.index] ?? `Directory${d.index}`;
      return [`    ${n}RVA: ${H(d.rva)}`, `    ${n}Size: ${H(d.size)}`];
    }),
    '  }',
    '}',
  );
  return out.join('\n');
}

const ALIGN = (c: number): [number, string][] => {
  const a = Math.floor(c / 0x100000) % 16;
  return a === 0 ? [] : [[a * 0x100000, `IMAGE_SCN_ALIGN_${2 ** (a - 1)}BYTES`]];
};

export function peSectionsText(pe: PeFile): string {
  const out = ['Sections ['];
  for (const s of pe.sections) {
    const bytes = s.nameBytes.map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');
    out.push(
      '  Section {',
      `    Number: ${s.index}`,
      `    Name: ${s.name} (${bytes})`,
      `    VirtualSize: ${H(s.virtualSize)}`,
      `    VirtualAddress: ${H(s.virtualAddress)}`,
      `    RawDataSize: ${s.sizeOfRawData}`,
      `    PointerToRawData: ${H(s.pointerToRawData)}`,
      `    PointerToRelocations: ${H(s.pointerToRelocations)}`,
      `    PointerToLineNumbers: ${H(s.pointerToLinenumbers)}`,
      `    RelocationCount: ${s.numberOfRelocations}`,
      `    LineNumberCount: ${s.numberOfLinenumbers}`,
      `    Characteristics [ (${H(s.characteristics)})`,
      ...flags(s.characteristics, P.SECTION_CHARACTERISTICS, '      ', ALIGN(s.characteristics)),
      '    ]',
      '  }',
    );
  }
  out.push(']');
  return out.join('\n');
}

export function peImportsText(pe: PeFile): string {
  const out: string[] = [];
  for (const d of pe.imports()) {
    out.push('Import {', `  Name: ${d.name}`, `  ImportLookupTableRVA: ${H(d.lookupTableRva)}`, `  ImportAddressTableRVA: ${H(d.iatRva)}`);
    for (const e of d.entries) out.push(`  Symbol: ${e.name ?? ''} (${e.name !== null ? (e.hint ?? 0) : (e.ordinal ?? 0)})`);
    out.push('}');
  }
  for (const d of pe.delayImports()) {
    const x = d.delay;
    out.push('DelayImport {', `  Name: ${d.name}`, `  Attributes: ${H(x?.attributes ?? 0)}`, `  ModuleHandle: ${H(x?.moduleHandleRva ?? 0)}`,
      `  ImportAddressTable: ${H(d.iatRva)}`, `  ImportNameTable: ${H(d.lookupTableRva)}`, `  BoundDelayImportTable: ${H(x?.boundIatRva ?? 0)}`,
      `  UnloadDelayImportTable: ${H(x?.unloadIatRva ?? 0)}`);
    for (const e of d.entries) out.push('  Import {', `    Symbol: ${e.name ?? ''} (${e.name !== null ? (e.hint ?? 0) : (e.ordinal ?? 0)})`, `    Address: ${H(e.iatValue ?? 0)}`, '  }');
    out.push('}');
  }
  return out.join('\n');
}

export function peExportsText(pe: PeFile): string {
  const ex = pe.exports();
  if (ex === null) return '';
  return ex.entries.map((e) => ['Export {', `  Ordinal: ${e.ordinal}`, `  Name: ${e.name ?? ''}`, `  RVA: ${H(e.rva)}`, '}'].join('\n')).join('\n');
}

export function peBaseRelocText(pe: PeFile): string {
  const out = ['BaseReloc ['];
  for (const b of pe.baseRelocations()) for (const e of b.entries) out.push('  Entry {', `    Type: ${e.typeName}`, `    Address: ${H(e.rva)}`, '  }');
  out.push(']');
  return out.join('\n');
}
