/**
 * Symbol tables (.symtab, .dynsym, or the dynamic symbol table found through DT_SYMTAB) and GNU
 * symbol versioning (DT_VERSYM, DT_VERNEED, DT_VERDEF; glibc elf/dl-version.c).
 */
import { FormatError } from '@polykernel/core';
import { symbolBindName, symbolTypeName, STV_NAMES } from './constants.js';
import type { ByteReader } from './reader.js';

export interface ElfSymbol {
  index: number;
  name: string;
  value: number;
  size: number;
  type: number;
  typeName: string;
  bind: number;
  bindName: string;
  visibility: number;
  visibilityName: string;
  shndx: number;
  /** Version name (GLIBC_2.2.5) for dynamic symbols with versions. */
  version?: string;
  /** Defined in this file and the default version (readelf prints `@@`). */
  versionDefault?: boolean;
  /** The version needed from another file (readelf prints `@name (n)`). */
  versionNeeded?: boolean;
  versionIndex?: number;
}

export interface StringTable {
  offset: number;
  size: number;
}

/**
 * Read `count` symbols at file offset `offset`. Sizes were checked by the caller against the file,
 * so the allocation is bounded by the file size.
 */
export function readSymbols(r: ByteReader, is64: boolean, offset: number, count: number, strings: StringTable): ElfSymbol[] {
  const ent = is64 ? 24 : 16;
  r.check(offset, count * ent, 'symbol table');
  r.check(strings.offset, strings.size, 'symbol string table');
  const out = new Array<ElfSymbol>(count);
  for (let i = 0; i < count; i++) {
    const o = offset + i * ent;
    const nameOff = r.u32(o, 'st_name');
    let info: number;
    let other: number;
    let shndx: number;
    let value: number;
    let size: number;
    if (is64) {
      info = r.bytes[o + 4]!;
      other = r.bytes[o + 5]!;
      shndx = r.u16(o + 6, 'st_shndx');
      value = r.u64(o + 8, 'st_value');
      size = r.u64(o + 16, 'st_size');
    } else {
      value = r.u32(o + 4, 'st_value');
      size = r.u32(o + 8, 'st_size');
      info = r.bytes[o + 12]!;
      other = r.bytes[o + 13]!;
      shndx = r.u16(o + 14, 'st_shndx');
    }
    if (nameOff >= strings.size && nameOff !== 0) {
      throw new FormatError('st_name', o, `symbol ${i}: name offset 0x${nameOff.toString(16)} beyond its string table (0x${strings.size.toString(16)} bytes)`);
    }
    const type = info % 16;
    const bind = Math.floor(info / 16);
    const vis = other % 4;
    out[i] = {
      index: i,
      name: nameOff === 0 ? '' : r.cstring(strings.offset + nameOff, strings.offset + strings.size, 'st_name'),
      value, size, type, typeName: symbolTypeName(type), bind, bindName: symbolBindName(bind),
      visibility: vis, visibilityName: STV_NAMES[vis] ?? String(vis), shndx,
    };
  }
  return out;
}

export interface VersionName {
  name: string;
  /** From DT_VERNEED (needed from `file`) rather than DT_VERDEF. */
  needed: boolean;
  file?: string;
}

const MAX_VERSION_RECORDS = 65536;

/** Version index -> name, from DT_VERDEF and DT_VERNEED (offsets already translated). */
export function readVersionNames(
  r: ByteReader, strings: StringTable, verdef: number | null, verneed: number | null,
): Map<number, VersionName> {
  const names = new Map<number, VersionName>();
  const str = (off: number, field: string): string => {
    if (off >= strings.size) throw new FormatError(field, strings.offset, `${field} offset 0x${off.toString(16)} beyond the dynamic string table`);
    return r.cstring(strings.offset + off, strings.offset + strings.size, field);
  };
  if (verdef !== null) {
    let o = verdef;
    for (let n = 0; n < MAX_VERSION_RECORDS; n++) {
      const ndx = r.u16(o + 4, 'vd_ndx');
      const cnt = r.u16(o + 6, 'vd_cnt');
      const aux = r.u32(o + 12, 'vd_aux');
      const next = r.u32(o + 16, 'vd_next');
      if (cnt > 0) names.set(ndx, { name: str(r.u32(o + aux, 'vda_name'), 'vda_name'), needed: false });
      if (next === 0) break;
      o += next;
    }
  }
  if (verneed !== null) {
    let o = verneed;
    for (let n = 0; n < MAX_VERSION_RECORDS; n++) {
      const cnt = r.u16(o + 2, 'vn_cnt');
      const file = str(r.u32(o + 4, 'vn_file'), 'vn_file');
      let a = o + r.u32(o + 8, 'vn_aux');
      for (let k = 0; k < cnt; k++) {
        const other = r.u16(a + 6, 'vna_other');
        names.set(other, { name: str(r.u32(a + 8, 'vna_name'), 'vna_name'), needed: true, file });
        const anext = r.u32(a + 12, 'vna_next');
        if (anext === 0) break;
        a += anext;
      }
      const next = r.u32(o + 12, 'vn_next');
      if (next === 0) break;
      o += next;
    }
  }
  return names;
}

/** Attach version names to dynamic symbols from the DT_VERSYM array at file offset `versym`. */
export function applyVersions(r: ByteReader, symbols: ElfSymbol[], versym: number, names: Map<number, VersionName>): void {
  r.check(versym, symbols.length * 2, 'DT_VERSYM');
  for (const s of symbols) {
    const raw = r.u16(versym + s.index * 2, 'versym');
    const idx = raw % 0x8000;
    s.versionIndex = idx;
    if (idx <= 1) continue; // VER_NDX_LOCAL, VER_NDX_GLOBAL
    const v = names.get(idx);
    if (v === undefined) continue;
    s.version = v.name;
    s.versionNeeded = v.needed;
    s.versionDefault = !v.needed && raw < 0x8000 && s.shndx !== 0;
  }
}

/**
 * readelf's display name: `puts@GLIBC_2.2.5 (2)` (needed), `memcpy@@GLIBC_2.14` (default),
 * `old@GLIBC_2.2.5` (hidden); a version-definition symbol (`GLIBC_2.2.5`, ABS) is shown bare.
 * `withIndex: false` drops the `(n)`, as readelf does in relocation listings.
 */
export function displayName(s: ElfSymbol, withIndex = true): string {
  if (s.version === undefined) return s.name;
  if (s.versionNeeded === true) return withIndex ? `${s.name}@${s.version} (${s.versionIndex ?? 0})` : `${s.name}@${s.version}`;
  if (s.versionDefault === true && s.name === s.version) return s.name;
  return `${s.name}${s.versionDefault === true ? '@@' : '@'}${s.version}`;
}
