/**
 * Relocations: REL, RELA (gABI) and RELR (the compact relative-relocation format, gABI 2022;
 * glibc elf/do-rel.h). RELR entries are expanded into the addresses they relocate.
 */
import { FormatError } from '@polykernel/core';
import type { ByteReader } from './reader.js';
import { relativeType, relocationTypeName } from './reloc-names.js';
import type { ElfSymbol } from './symbols.js';

export interface Relocation {
  offset: number;
  type: number;
  typeName: string;
  symbolIndex: number;
  /** Name of the referenced symbol ('' for none). */
  symbolName: string;
  symbolValue: number;
  /** RELA only. */
  addend?: number;
}

export interface RelocationTable {
  /** Section name, or the dynamic-table name a loader would use (.rela.dyn, .rela.plt, .relr.dyn). */
  name: string;
  kind: 'rel' | 'rela' | 'relr';
  /** File offset of the table. */
  offset: number;
  /** Number of entries in the table as stored (for RELR: words, not expanded addresses). */
  storedEntries: number;
  relocations: Relocation[];
  /** The symbol table the entries index (null for RELR and for tables without one). */
  symbolTable: ElfSymbol[] | null;
}

export interface RelocationSource {
  name: string;
  kind: 'rel' | 'rela' | 'relr';
  offset: number;
  size: number;
  symbols: ElfSymbol[] | null;
}

export function readRelocations(r: ByteReader, is64: boolean, machine: number, src: RelocationSource): RelocationTable {
  if (src.kind === 'relr') return readRelr(r, is64, machine, src);
  const ent = (is64 ? 8 : 4) * (src.kind === 'rela' ? 3 : 2);
  r.check(src.offset, src.size, `${src.name} relocations`);
  if (src.size % ent !== 0) throw new FormatError(src.name, src.offset, `${src.name}: size 0x${src.size.toString(16)} is not a multiple of the entry size ${ent}`);
  const count = src.size / ent;
  const out = new Array<Relocation>(count);
  for (let i = 0; i < count; i++) {
    const o = src.offset + i * ent;
    let offset: number;
    let sym: number;
    let type: number;
    let addend: number | undefined;
    if (is64) {
      offset = r.u64(o, 'r_offset');
      // r_info = sym << 32 | type, read as two 32-bit halves (no 64-bit shifts on numbers).
      const lo = r.u32(o + (r.littleEndian ? 8 : 12), 'r_info');
      const hi = r.u32(o + (r.littleEndian ? 12 : 8), 'r_info');
      sym = hi;
      type = lo;
      if (src.kind === 'rela') addend = r.i64(o + 16, 'r_addend');
    } else {
      offset = r.u32(o, 'r_offset');
      const info = r.u32(o + 4, 'r_info');
      sym = Math.floor(info / 256);
      type = info % 256;
      if (src.kind === 'rela') addend = r.i32(o + 8, 'r_addend');
    }
    const s = src.symbols?.[sym];
    if (src.symbols !== null && sym !== 0 && s === undefined) {
      throw new FormatError('r_info', o, `${src.name}[${i}]: symbol index ${sym} beyond the symbol table (${src.symbols.length})`);
    }
    const rel: Relocation = { offset, type, typeName: relocationTypeName(machine, type), symbolIndex: sym, symbolName: s?.name ?? '', symbolValue: s?.value ?? 0 };
    if (addend !== undefined) rel.addend = addend;
    out[i] = rel;
  }
  return { name: src.name, kind: src.kind, offset: src.offset, storedEntries: count, relocations: out, symbolTable: src.symbols };
}

function readRelr(r: ByteReader, is64: boolean, machine: number, src: RelocationSource): RelocationTable {
  const w = is64 ? 8 : 4;
  r.check(src.offset, src.size, `${src.name} relocations`);
  if (src.size % w !== 0) throw new FormatError(src.name, src.offset, `${src.name}: size is not a multiple of ${w}`);
  const count = src.size / w;
  const type = relativeType(machine) ?? 0;
  const typeName = relocationTypeName(machine, type);
  const out: Relocation[] = [];
  const push = (addr: number): void => {
    out.push({ offset: addr, type, typeName, symbolIndex: 0, symbolName: '', symbolValue: 0 });
  };
  let where = 0;
  for (let i = 0; i < count; i++) {
    const o = src.offset + i * w;
    const lo = r.u32(o + (is64 && !r.littleEndian ? 4 : 0), 'relr entry');
    if ((lo & 1) === 0) {
      // An address: relocate it, then continue after it.
      where = is64 ? r.u64(o, 'relr address') : lo;
      push(where);
      where += w;
      continue;
    }
    // A bitmap: bit k (k >= 1) relocates where + (k - 1) * w; covers (bits - 1) words.
    for (let k = 1; k < 32; k++) if (((lo >>> k) & 1) === 1) push(where + (k - 1) * w);
    if (is64) {
      const hi = r.u32(o + (r.littleEndian ? 4 : 0), 'relr bitmap');
      for (let k = 0; k < 32; k++) if (((hi >>> k) & 1) === 1) push(where + (31 + k) * w);
      where += 63 * w;
    } else {
      where += 31 * w;
    }
  }
  return { name: src.name, kind: 'relr', offset: src.offset, storedEntries: count, relocations: out, symbolTable: null };
}
