/**
 * ELF file header, program headers and section headers (System V gABI, chapter 4), including
 * extended numbering (e_phnum = PN_XNUM, e_shnum = 0, e_shstrndx = SHN_XINDEX).
 */
import { FormatError } from '@polykernel/core';
import { ELFCLASS32, ELFCLASS64, ELFDATA2LSB, ELFDATA2MSB, PT_NAMES, SHN_XINDEX, SHT_NAMES, SHT_NOBITS } from './constants.js';
import { ByteReader } from './reader.js';

export interface ElfHeader {
  bits: 32 | 64;
  endian: 'little' | 'big';
  identVersion: number;
  osabi: number;
  abiVersion: number;
  type: number;
  machine: number;
  version: number;
  entry: number;
  phoff: number;
  shoff: number;
  flags: number;
  ehsize: number;
  phentsize: number;
  phnum: number;
  shentsize: number;
  shnum: number;
  shstrndx: number;
}

export interface ProgramHeader {
  index: number;
  type: number;
  /** readelf's name for the type, or `0x<hex>` for an unknown type (kept by number). */
  typeName: string;
  offset: number;
  vaddr: number;
  paddr: number;
  filesz: number;
  memsz: number;
  /** PF_R 4, PF_W 2, PF_X 1. */
  flags: number;
  align: number;
}

export interface SectionHeader {
  index: number;
  name: string;
  nameOffset: number;
  type: number;
  typeName: string;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
}

const PN_XNUM = 0xffff;

/** Check the identification bytes and make a reader of the right byte order. */
export function openReader(bytes: Uint8Array): ByteReader {
  if (bytes.length < 16 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    throw new FormatError('e_ident[EI_MAG]', 0, 'not an ELF file (bad magic)');
  }
  const cls = bytes[4];
  if (cls !== ELFCLASS32 && cls !== ELFCLASS64) throw new FormatError('e_ident[EI_CLASS]', 4, `invalid ELF class ${cls}`);
  const data = bytes[5];
  if (data !== ELFDATA2LSB && data !== ELFDATA2MSB) throw new FormatError('e_ident[EI_DATA]', 5, `invalid ELF data encoding ${data}`);
  return new ByteReader(bytes, data === ELFDATA2LSB);
}

/**
 * The ELF header. With `execView`, only what binfmt_elf reads counts: e_shoff may be anything (the
 * kernel never reads section headers; an unreadable one is taken as 0, none) and extended
 * numbering does not apply (load_elf_phdrs takes e_phnum as it is).
 */
export function parseHeader(r: ByteReader, execView = false): ElfHeader {
  const is64 = r.bytes[4] === ELFCLASS64;
  const size = is64 ? 64 : 52;
  r.check(0, size, 'e_ehsize');
  const w = is64 ? 8 : 4;
  // Offsets after e_entry shift by the word size (gABI figure 4-3).
  const h: ElfHeader = {
    bits: is64 ? 64 : 32,
    endian: r.littleEndian ? 'little' : 'big',
    identVersion: r.u8(6, 'e_ident[EI_VERSION]'),
    osabi: r.u8(7, 'e_ident[EI_OSABI]'),
    abiVersion: r.u8(8, 'e_ident[EI_ABIVERSION]'),
    type: r.u16(16, 'e_type'),
    machine: r.u16(18, 'e_machine'),
    version: r.u32(20, 'e_version'),
    entry: r.word(24, is64, 'e_entry'),
    phoff: r.word(24 + w, is64, 'e_phoff'),
    shoff: execView ? tolerant(() => r.word(24 + 2 * w, is64, 'e_shoff')) : r.word(24 + 2 * w, is64, 'e_shoff'),
    flags: r.u32(24 + 3 * w, 'e_flags'),
    ehsize: r.u16(28 + 3 * w, 'e_ehsize'),
    phentsize: r.u16(30 + 3 * w, 'e_phentsize'),
    phnum: r.u16(32 + 3 * w, 'e_phnum'),
    shentsize: r.u16(34 + 3 * w, 'e_shentsize'),
    shnum: r.u16(36 + 3 * w, 'e_shnum'),
    shstrndx: r.u16(38 + 3 * w, 'e_shstrndx'),
  };
  if (!execView) applyExtendedNumbering(r, h);
  return h;
}

function tolerant(read: () => number): number {
  try {
    return read();
  } catch {
    return 0;
  }
}

/** gABI extended numbering: real counts live in section header 0 when they do not fit 16 bits. */
function applyExtendedNumbering(r: ByteReader, h: ElfHeader): void {
  if (h.shoff === 0) return;
  const is64 = h.bits === 64;
  const needs = h.shnum === 0 || h.phnum === PN_XNUM || h.shstrndx === SHN_XINDEX;
  if (!needs) return;
  checkEntsize(h.shentsize, is64 ? 64 : 40, 'e_shentsize', is64 ? 58 : 46);
  const base = h.shoff;
  if (h.shnum === 0) h.shnum = r.word(base + (is64 ? 32 : 20), is64, 'sh_size[0] (e_shnum extension)');
  if (h.phnum === PN_XNUM) h.phnum = r.u32(base + (is64 ? 44 : 28), 'sh_info[0] (e_phnum extension)');
  if (h.shstrndx === SHN_XINDEX) h.shstrndx = r.u32(base + (is64 ? 40 : 24), 'sh_link[0] (e_shstrndx extension)');
}

function checkEntsize(actual: number, expected: number, field: string, offset: number): void {
  if (actual !== expected) throw new FormatError(field, offset, `${field} is ${actual}, expected ${expected}`);
}

export function parseProgramHeaders(r: ByteReader, h: ElfHeader): ProgramHeader[] {
  if (h.phnum === 0) return [];
  const is64 = h.bits === 64;
  checkEntsize(h.phentsize, is64 ? 56 : 32, 'e_phentsize', is64 ? 54 : 42);
  r.check(h.phoff, h.phnum * h.phentsize, 'e_phoff');
  const out: ProgramHeader[] = [];
  for (let i = 0; i < h.phnum; i++) {
    const o = h.phoff + i * h.phentsize;
    const type = r.u32(o, 'p_type');
    const ph: ProgramHeader = is64
      ? {
          index: i, type, typeName: phTypeName(type), flags: r.u32(o + 4, 'p_flags'), offset: r.u64(o + 8, 'p_offset'),
          vaddr: r.u64(o + 16, 'p_vaddr'), paddr: r.u64(o + 24, 'p_paddr'), filesz: r.u64(o + 32, 'p_filesz'),
          memsz: r.u64(o + 40, 'p_memsz'), align: r.u64(o + 48, 'p_align'),
        }
      : {
          index: i, type, typeName: phTypeName(type), offset: r.u32(o + 4, 'p_offset'), vaddr: r.u32(o + 8, 'p_vaddr'),
          paddr: r.u32(o + 12, 'p_paddr'), filesz: r.u32(o + 16, 'p_filesz'), memsz: r.u32(o + 20, 'p_memsz'),
          flags: r.u32(o + 24, 'p_flags'), align: r.u32(o + 28, 'p_align'),
        };
    out.push(ph);
  }
  return out;
}

export function phTypeName(type: number): string {
  return PT_NAMES[type] ?? `0x${type.toString(16)}`;
}

export function shTypeName(type: number): string {
  return SHT_NAMES[type] ?? `0x${type.toString(16)}`;
}

export function parseSectionHeaders(r: ByteReader, h: ElfHeader): SectionHeader[] {
  if (h.shoff === 0 || h.shnum === 0) return [];
  const is64 = h.bits === 64;
  checkEntsize(h.shentsize, is64 ? 64 : 40, 'e_shentsize', is64 ? 58 : 46);
  r.check(h.shoff, h.shnum * h.shentsize, 'e_shoff');
  const out: SectionHeader[] = [];
  for (let i = 0; i < h.shnum; i++) {
    const o = h.shoff + i * h.shentsize;
    const type = r.u32(o + 4, 'sh_type');
    const sh: SectionHeader = is64
      ? {
          index: i, name: '', nameOffset: r.u32(o, 'sh_name'), type, typeName: shTypeName(type), flags: r.u64(o + 8, 'sh_flags'),
          addr: r.u64(o + 16, 'sh_addr'), offset: r.u64(o + 24, 'sh_offset'), size: r.u64(o + 32, 'sh_size'),
          link: r.u32(o + 40, 'sh_link'), info: r.u32(o + 44, 'sh_info'), addralign: r.u64(o + 48, 'sh_addralign'),
          entsize: r.u64(o + 56, 'sh_entsize'),
        }
      : {
          index: i, name: '', nameOffset: r.u32(o, 'sh_name'), type, typeName: shTypeName(type), flags: r.u32(o + 8, 'sh_flags'),
          addr: r.u32(o + 12, 'sh_addr'), offset: r.u32(o + 16, 'sh_offset'), size: r.u32(o + 20, 'sh_size'),
          link: r.u32(o + 24, 'sh_link'), info: r.u32(o + 28, 'sh_info'), addralign: r.u32(o + 32, 'sh_addralign'),
          entsize: r.u32(o + 36, 'sh_entsize'),
        };
    out.push(sh);
  }
  // Names come from the section-name string table (e_shstrndx).
  const strtab = out[h.shstrndx];
  if (h.shstrndx !== 0 && strtab !== undefined && strtab.type !== SHT_NOBITS) {
    r.check(strtab.offset, strtab.size, 'e_shstrndx section');
    for (const s of out) {
      if (s.index === 0 && s.nameOffset === 0) continue;
      s.name = r.cstring(strtab.offset + s.nameOffset, strtab.offset + strtab.size, 'sh_name');
    }
  } else if (h.shstrndx !== 0 && strtab === undefined) {
    throw new FormatError('e_shstrndx', is64 ? 62 : 50, `e_shstrndx ${h.shstrndx} is not a section (${out.length} sections)`);
  }
  return out;
}
