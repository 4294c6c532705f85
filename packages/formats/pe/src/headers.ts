/**
 * DOS header, PE signature, COFF file header, optional header (PE32 and PE32+), data directories
 * and the section table (Microsoft PE Format: "MS-DOS Stub", "COFF File Header", "Optional Header",
 * "Section Table"), with long section names from the COFF string table ("/4").
 */
import { ByteReader, FormatError } from '@polykernel/core';
import { SCN_MEM_EXECUTE, SCN_MEM_READ, SCN_MEM_WRITE } from './constants.js';

export interface CoffHeader {
  /** File offset of the COFF header (after "PE\0\0" in an image, 0 in an object). */
  offset: number;
  machine: number;
  numberOfSections: number;
  timeDateStamp: number;
  pointerToSymbolTable: number;
  numberOfSymbols: number;
  sizeOfOptionalHeader: number;
  characteristics: number;
}

export interface DataDirectory {
  index: number;
  rva: number;
  size: number;
}

export interface OptionalHeader {
  magic: number;
  /** True for PE32+ (64-bit). */
  pe32plus: boolean;
  majorLinkerVersion: number;
  minorLinkerVersion: number;
  sizeOfCode: number;
  sizeOfInitializedData: number;
  sizeOfUninitializedData: number;
  addressOfEntryPoint: number;
  baseOfCode: number;
  baseOfData: number | null;
  imageBase: number;
  sectionAlignment: number;
  fileAlignment: number;
  majorOperatingSystemVersion: number;
  minorOperatingSystemVersion: number;
  majorImageVersion: number;
  minorImageVersion: number;
  majorSubsystemVersion: number;
  minorSubsystemVersion: number;
  sizeOfImage: number;
  sizeOfHeaders: number;
  checkSum: number;
  subsystem: number;
  dllCharacteristics: number;
  sizeOfStackReserve: number;
  sizeOfStackCommit: number;
  sizeOfHeapReserve: number;
  sizeOfHeapCommit: number;
  loaderFlags: number;
  numberOfRvaAndSizes: number;
  dataDirectories: DataDirectory[];
}

export interface SectionHeader {
  index: number;
  name: string;
  /** The 8 raw bytes of the Name field ("/4" for a long name). */
  nameBytes: number[];
  virtualSize: number;
  virtualAddress: number;
  sizeOfRawData: number;
  pointerToRawData: number;
  pointerToRelocations: number;
  pointerToLinenumbers: number;
  numberOfRelocations: number;
  numberOfLinenumbers: number;
  characteristics: number;
}

/** The protection a section's characteristics ask the loader for (read 1, write 2, execute 4). */
export function sectionProt(characteristics: number): number {
  return ((characteristics & SCN_MEM_READ) !== 0 ? 1 : 0) | ((characteristics & SCN_MEM_WRITE) !== 0 ? 2 : 0) | ((characteristics & SCN_MEM_EXECUTE) !== 0 ? 4 : 0);
}

export function readCoffHeader(r: ByteReader, offset: number): CoffHeader {
  r.check(offset, 20, 'IMAGE_FILE_HEADER');
  return {
    offset,
    machine: r.u16(offset, 'Machine'),
    numberOfSections: r.u16(offset + 2, 'NumberOfSections'),
    timeDateStamp: r.u32(offset + 4, 'TimeDateStamp'),
    pointerToSymbolTable: r.u32(offset + 8, 'PointerToSymbolTable'),
    numberOfSymbols: r.u32(offset + 12, 'NumberOfSymbols'),
    sizeOfOptionalHeader: r.u16(offset + 16, 'SizeOfOptionalHeader'),
    characteristics: r.u16(offset + 18, 'Characteristics'),
  };
}

export function readOptionalHeader(r: ByteReader, o: number, size: number): OptionalHeader {
  const magic = r.u16(o, 'OptionalHeader.Magic');
  if (magic !== 0x10b && magic !== 0x20b) throw new FormatError('OptionalHeader.Magic', o, `unknown optional header magic 0x${magic.toString(16)} (expected 0x10b or 0x20b)`);
  const plus = magic === 0x20b;
  const minSize = plus ? 112 : 96;
  if (size < minSize) throw new FormatError('SizeOfOptionalHeader', o - 4, `optional header of ${size} bytes is shorter than the ${minSize} a ${plus ? 'PE32+' : 'PE32'} header needs`);
  r.check(o, size, 'IMAGE_OPTIONAL_HEADER');
  const word = (off: number, field: string): number => (plus ? r.u64(o + off, field) : r.u32(o + off, field));
  const w = plus ? 8 : 4;
  const sr = 72;
  const numberOfRvaAndSizes = r.u32(o + sr + 4 * w + 4, 'NumberOfRvaAndSizes');
  const dirBase = o + sr + 4 * w + 8;
  const maxDirs = Math.min(numberOfRvaAndSizes, Math.floor((size - (sr + 4 * w + 8)) / 8), 16);
  const dataDirectories: DataDirectory[] = [];
  for (let i = 0; i < maxDirs; i++) {
    dataDirectories.push({ index: i, rva: r.u32(dirBase + i * 8, 'DataDirectory.VirtualAddress'), size: r.u32(dirBase + i * 8 + 4, 'DataDirectory.Size') });
  }
  return {
    magic, pe32plus: plus,
    majorLinkerVersion: r.u8(o + 2, 'MajorLinkerVersion'), minorLinkerVersion: r.u8(o + 3, 'MinorLinkerVersion'),
    sizeOfCode: r.u32(o + 4, 'SizeOfCode'), sizeOfInitializedData: r.u32(o + 8, 'SizeOfInitializedData'),
    sizeOfUninitializedData: r.u32(o + 12, 'SizeOfUninitializedData'), addressOfEntryPoint: r.u32(o + 16, 'AddressOfEntryPoint'),
    baseOfCode: r.u32(o + 20, 'BaseOfCode'), baseOfData: plus ? null : r.u32(o + 24, 'BaseOfData'),
    imageBase: plus ? r.u64(o + 24, 'ImageBase') : r.u32(o + 28, 'ImageBase'),
    sectionAlignment: r.u32(o + 32, 'SectionAlignment'), fileAlignment: r.u32(o + 36, 'FileAlignment'),
    majorOperatingSystemVersion: r.u16(o + 40, 'MajorOperatingSystemVersion'), minorOperatingSystemVersion: r.u16(o + 42, 'MinorOperatingSystemVersion'),
    majorImageVersion: r.u16(o + 44, 'MajorImageVersion'), minorImageVersion: r.u16(o + 46, 'MinorImageVersion'),
    majorSubsystemVersion: r.u16(o + 48, 'MajorSubsystemVersion'), minorSubsystemVersion: r.u16(o + 50, 'MinorSubsystemVersion'),
    sizeOfImage: r.u32(o + 56, 'SizeOfImage'), sizeOfHeaders: r.u32(o + 60, 'SizeOfHeaders'), checkSum: r.u32(o + 64, 'CheckSum'),
    subsystem: r.u16(o + 68, 'Subsystem'), dllCharacteristics: r.u16(o + 70, 'DllCharacteristics'),
    sizeOfStackReserve: word(sr, 'SizeOfStackReserve'), sizeOfStackCommit: word(sr + w, 'SizeOfStackCommit'),
    sizeOfHeapReserve: word(sr + 2 * w, 'SizeOfHeapReserve'), sizeOfHeapCommit: word(sr + 3 * w, 'SizeOfHeapCommit'),
    loaderFlags: r.u32(o + sr + 4 * w, 'LoaderFlags'), numberOfRvaAndSizes, dataDirectories,
  };
}

/** Read the section table; long names ("/123") come from the COFF string table. */
/** The PE specification: "the Windows loader limits the number of sections to 96". */
export const MAX_IMAGE_SECTIONS = 96;
/** A COFF object numbers sections up to IMAGE_SYM_SECTION_MAX (0xfeff); higher numbers are reserved. */
export const MAX_OBJECT_SECTIONS = 0xfeff;

export function readSections(r: ByteReader, coff: CoffHeader, tableOffset: number, image = tableOffset !== 20): SectionHeader[] {
  const max = image ? MAX_IMAGE_SECTIONS : MAX_OBJECT_SECTIONS;
  if (coff.numberOfSections > max) {
    throw new FormatError('NumberOfSections', coff.offset + 2, `NumberOfSections is ${coff.numberOfSections}; ${image ? 'an image has at most 96 (the Windows loader\'s limit)' : 'an object has at most 65279 (IMAGE_SYM_SECTION_MAX)'}`);
  }
  r.check(tableOffset, coff.numberOfSections * 40, 'section table');
  const strtab = coff.pointerToSymbolTable === 0 ? -1 : coff.pointerToSymbolTable + coff.numberOfSymbols * 18;
  const out: SectionHeader[] = [];
  for (let i = 0; i < coff.numberOfSections; i++) {
    const o = tableOffset + i * 40;
    let name = shortName(r, o);
    if (name.startsWith('/') && strtab >= 0) {
      const off = Number(name.slice(1));
      if (!Number.isInteger(off)) throw new FormatError('Section.Name', o, `bad long section name reference '${name}'`);
      const size = r.inside(strtab, 4) ? r.u32(strtab, 'string table size') : 0;
      if (off < 4 || off >= size) throw new FormatError('Section.Name', o, `long section name offset ${off} outside the string table`);
      name = r.cstring(strtab + off, strtab + size, 'Section.Name');
    }
    out.push({
      index: i + 1, name, nameBytes: Array.from(r.bytes.subarray(o, o + 8)),
      virtualSize: r.u32(o + 8, 'VirtualSize'), virtualAddress: r.u32(o + 12, 'VirtualAddress'),
      sizeOfRawData: r.u32(o + 16, 'SizeOfRawData'), pointerToRawData: r.u32(o + 20, 'PointerToRawData'),
      pointerToRelocations: r.u32(o + 24, 'PointerToRelocations'), pointerToLinenumbers: r.u32(o + 28, 'PointerToLinenumbers'),
      numberOfRelocations: r.u16(o + 32, 'NumberOfRelocations'), numberOfLinenumbers: r.u16(o + 34, 'NumberOfLinenumbers'),
      characteristics: r.u32(o + 36, 'Characteristics'),
    });
  }
  return out;
}

const peDecoder = new TextDecoder();

function shortName(r: ByteReader, o: number): string {
  let end = o;
  while (end < o + 8 && r.bytes[end] !== 0) end++;
  return peDecoder.decode(r.bytes.subarray(o, end));
}
