/**
 * How much of a file the header views need (readelf -h, -l, -S, -d, -n): the ELF header, the
 * program and section header tables, the section-name string table, PT_INTERP, PT_DYNAMIC with
 * the dynamic string table it names, and the notes. For a file too large to read whole (a 100 GB
 * sparse file with its headers in front), those structures are found with positioned reads of a
 * few bytes each, so the caller reads the file's first `end` bytes and no more.
 */
import { FormatError } from '@polykernel/core';
import { DT, PT_DYNAMIC, PT_INTERP, PT_LOAD, PT_NOTE, SHT_DYNAMIC, SHT_NOTE } from './constants.js';
import { openReader } from './headers.js';
import { ByteReader } from './reader.js';

export type PositionedRead = (offset: number, length: number) => Promise<Uint8Array>;

/** A table of `count` entries of `size` bytes at `offset`, read whole; null when it ends beyond `limit`. */
async function table(read: PositionedRead, le: boolean, offset: number, count: number, size: number, limit: number, field: string): Promise<ByteReader | null> {
  const length = count * size;
  if (!Number.isSafeInteger(offset + length) || offset + length > limit) return null;
  const bytes = await read(offset, length);
  if (bytes.length < length) throw new FormatError(field, offset, `${field}: ${length} bytes at 0x${offset.toString(16)} run past the end of the file`);
  return new ByteReader(bytes, le);
}

/**
 * The end of the last structure the header views read, or null when one of them ends beyond
 * `limit` (then the file cannot be shown from its first `limit` bytes). Reads only headers.
 */
export async function headerViewsExtent(read: PositionedRead, limit: number): Promise<number | null> {
  const r = openReader(await read(0, 64));
  const is64 = r.bytes[4] === 2;
  const w = is64 ? 8 : 4;
  const phoff = r.word(24 + w, is64, 'e_phoff');
  const shoff = r.word(24 + 2 * w, is64, 'e_shoff');
  const phentsize = r.u16(30 + 3 * w, 'e_phentsize');
  let phnum = r.u16(32 + 3 * w, 'e_phnum');
  const shentsize = r.u16(34 + 3 * w, 'e_shentsize');
  let shnum = r.u16(36 + 3 * w, 'e_shnum');
  let shstrndx = r.u16(38 + 3 * w, 'e_shstrndx');
  const le = r.littleEndian;
  const ends = [is64 ? 64 : 52];
  const shsize = is64 ? 64 : 40;
  if (shoff !== 0 && (shnum === 0 || phnum === 0xffff || shstrndx === 0xffff)) {
    // gABI extended numbering: the real counts are in section header 0.
    const s0 = await table(read, le, shoff, 1, shsize, limit, 'section header 0');
    if (s0 === null) return null;
    if (shnum === 0) shnum = s0.word(is64 ? 32 : 20, is64, 'sh_size[0]');
    if (phnum === 0xffff) phnum = s0.u32(is64 ? 44 : 28, 'sh_info[0]');
    if (shstrndx === 0xffff) shstrndx = s0.u32(is64 ? 40 : 24, 'sh_link[0]');
  }
  const loads: { vaddr: number; offset: number; filesz: number }[] = [];
  let dynamic: { offset: number; size: number } | null = null;
  if (phnum > 0 && phentsize > 0) {
    const ph = await table(read, le, phoff, phnum, phentsize, limit, 'program headers');
    if (ph === null) return null;
    ends.push(phoff + phnum * phentsize);
    for (let i = 0; i < phnum; i++) {
      const o = i * phentsize;
      const type = ph.u32(o, 'p_type');
      const offset = ph.word(o + (is64 ? 8 : 4), is64, 'p_offset');
      const vaddr = ph.word(o + (is64 ? 16 : 8), is64, 'p_vaddr');
      const filesz = ph.word(o + (is64 ? 32 : 16), is64, 'p_filesz');
      if (type === PT_LOAD) loads.push({ vaddr, offset, filesz });
      if (type === PT_INTERP || type === PT_NOTE || type === PT_DYNAMIC) ends.push(offset + filesz);
      if (type === PT_DYNAMIC) dynamic = { offset, size: filesz };
    }
  }
  if (shnum > 0 && shoff !== 0 && shentsize > 0) {
    const sh = await table(read, le, shoff, shnum, shentsize, limit, 'section headers');
    if (sh === null) return null;
    ends.push(shoff + shnum * shentsize);
    for (let i = 0; i < shnum; i++) {
      const o = i * shentsize;
      const type = sh.u32(o + 4, 'sh_type');
      if (i === shstrndx || type === SHT_NOTE || type === SHT_DYNAMIC) {
        ends.push(sh.word(o + (is64 ? 24 : 16), is64, 'sh_offset') + sh.word(o + (is64 ? 32 : 20), is64, 'sh_size'));
      }
    }
  }
  if (dynamic !== null) {
    const end = await dynamicStringsEnd(read, le, is64, dynamic, loads, limit);
    if (end === null) return null;
    ends.push(end);
  }
  const end = Math.max(...ends);
  return end > limit ? null : end;
}

/** The end of DT_STRTAB + DT_STRSZ in the file (DT_NEEDED, DT_SONAME and the rest name strings there). */
async function dynamicStringsEnd(
  read: PositionedRead, le: boolean, is64: boolean, dynamic: { offset: number; size: number },
  loads: { vaddr: number; offset: number; filesz: number }[], limit: number,
): Promise<number | null> {
  const ent = is64 ? 16 : 8;
  const d = await table(read, le, dynamic.offset, Math.floor(dynamic.size / ent), ent, limit, 'PT_DYNAMIC');
  if (d === null) return null;
  let strtab: number | undefined;
  let strsz = 0;
  for (let o = 0; o + ent <= d.length; o += ent) {
    const tag = is64 ? d.u64big(o, 'd_tag') : BigInt(d.u32(o, 'd_tag'));
    if (tag === BigInt(DT.NULL)) break;
    if (tag === BigInt(DT.STRTAB)) strtab = d.word(o + ent / 2, is64, 'DT_STRTAB');
    if (tag === BigInt(DT.STRSZ)) strsz = d.word(o + ent / 2, is64, 'DT_STRSZ');
  }
  if (strtab === undefined) return 0;
  const at = strtab;
  const seg = loads.find((p) => at >= p.vaddr && at - p.vaddr < p.filesz);
  return seg === undefined ? 0 : seg.offset + (at - seg.vaddr) + strsz;
}
