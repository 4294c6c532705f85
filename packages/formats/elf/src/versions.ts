/**
 * The GNU symbol-version sections as readelf -V walks them (binutils readelf.c,
 * process_version_sections): SHT_GNU_verdef (.gnu.version_d), SHT_GNU_verneed (.gnu.version_r)
 * and SHT_GNU_versym (.gnu.version), each record at its offset inside its section. A walk that
 * leaves its section stops there, as readelf's does, and says so (`pastEnd`), instead of
 * reading on: a malformed file shows what it has.
 */
import { DT } from './constants.js';
import type { AddressMap, DynamicInfo } from './dynamic.js';
import type { SectionHeader } from './headers.js';
import type { ByteReader } from './reader.js';
import type { StringTable } from './symbols.js';

/** A name from the dynamic string table, or its offset when that lies outside the table. */
export type DynamicName = { text: string } | { offset: number };

export interface VersionDefinition {
  /** Offset of the Elf_Verdef record from the start of its section. */
  at: number;
  revision: number;
  flags: number;
  index: number;
  count: number;
  /** The first Elf_Verdaux's name; absent when the aux record lies past the section. */
  name?: DynamicName;
  /** The other Elf_Verdaux records: the versions this one inherits from. */
  parents: { at: number; name: DynamicName }[];
  /** readelf's "Version def aux past end of section". */
  auxPastEnd: boolean;
}

export interface VersionNeedAux {
  at: number;
  name: DynamicName;
  flags: number;
  other: number;
}

export interface VersionNeed {
  at: number;
  version: number;
  file: DynamicName;
  count: number;
  aux: VersionNeedAux[];
}

export interface VersionSymbolEntry {
  /** The raw Elf_Versym: version index with VERSYM_HIDDEN (0x8000). */
  value: number;
  /** The version's name as readelf finds it, '*both*' or '*invalid*'; null for 0, 1 and unknown indexes. */
  name: string | null;
}

export type VersionSection =
  | { kind: 'verdef'; section: SectionHeader; entries: VersionDefinition[]; pastEnd: boolean }
  | { kind: 'verneed'; section: SectionHeader; entries: VersionNeed[] }
  | { kind: 'versym'; section: SectionHeader; link: SectionHeader; entries: VersionSymbolEntry[] };

export const SHT_GNU_VERDEF = 0x6ffffffd;
export const SHT_GNU_VERNEED = 0x6ffffffe;
export const SHT_GNU_VERSYM = 0x6fffffff;
const VERDEF_SIZE = 20;
const VERDAUX_SIZE = 8;
const VERNEED_SIZE = 16;
const VERNAUX_SIZE = 16;
const MAX_RECORDS_PER_SEARCH = 4096;

export interface VersionContext {
  r: ByteReader;
  sections: SectionHeader[];
  dynamic: DynamicInfo | null;
  addressMap: AddressMap;
  dynamicStrings: StringTable | null;
  /** Number of symbols of a SHT_SYMTAB/SHT_DYNSYM section (readelf's num_syms). */
  symbolCount: (section: SectionHeader) => number;
}

/** Every version section in section-header order, as readelf -V lists them. */
export function readVersionSections(c: VersionContext): VersionSection[] {
  const out: VersionSection[] = [];
  for (const s of c.sections) {
    if (s.type === SHT_GNU_VERDEF) out.push(readVerdef(c, s));
    else if (s.type === SHT_GNU_VERNEED) out.push({ kind: 'verneed', section: s, entries: readVerneed(c, s) });
    else if (s.type === SHT_GNU_VERSYM) {
      const v = readVersym(c, s);
      if (v !== null) out.push(v);
    }
  }
  return out;
}

/** The section's bytes as readelf's get_data takes them: the whole of it, inside the file. */
function sectionBytes(c: VersionContext, s: SectionHeader): { base: number; end: number } {
  c.r.check(s.offset, s.size, `${s.name} contents`);
  return { base: s.offset, end: s.offset + s.size };
}

/** readelf's VALID_DYNAMIC_NAME / GET_DYNAMIC_NAME: names come from DT_STRTAB, not sh_link. */
function dynamicName(c: VersionContext, offset: number): DynamicName {
  const t = c.dynamicStrings;
  if (t === null || offset >= t.size) return { offset };
  return { text: cstringOrEmpty(c.r, t.offset + offset, t.offset + t.size) };
}

function cstringOrEmpty(r: ByteReader, at: number, limit: number): string {
  let end = at;
  while (end < limit && r.bytes[end] !== 0) end++;
  return new TextDecoder().decode(r.bytes.subarray(at, end));
}

function readVerdef(c: VersionContext, s: SectionHeader): VersionSection {
  const { r } = c;
  const { base, end } = sectionBytes(c, s);
  const entries: VersionDefinition[] = [];
  let idx = 0;
  let cnt = 0;
  for (; cnt < s.info; cnt++) {
    const v = base + idx;
    if (v + VERDEF_SIZE > end) break;
    const d: VersionDefinition = {
      at: idx, revision: r.u16(v, 'vd_version'), flags: r.u16(v + 2, 'vd_flags'), index: r.u16(v + 4, 'vd_ndx'),
      count: r.u16(v + 6, 'vd_cnt'), parents: [], auxPastEnd: false,
    };
    entries.push(d);
    const aux = r.u32(v + 12, 'vd_aux');
    const next = r.u32(v + 16, 'vd_next');
    if (aux > end - v) break;
    let a = v + aux;
    if (a + VERDAUX_SIZE > end) break;
    d.name = dynamicName(c, r.u32(a, 'vda_name'));
    let anext = r.u32(a + 4, 'vda_next');
    let isum = idx + aux;
    let j = 1;
    for (; j < d.count; j++) {
      if (anext < VERDAUX_SIZE && !(j === d.count - 1 && anext === 0)) {
        j = d.count; // readelf: "Invalid vda_next field"
        break;
      }
      if (anext > end - a) break;
      isum += anext;
      a += anext;
      if (a + VERDAUX_SIZE > end) break;
      d.parents.push({ at: isum, name: dynamicName(c, r.u32(a, 'vda_name')) });
      anext = r.u32(a + 4, 'vda_next');
    }
    d.auxPastEnd = j < d.count;
    if (next < VERDEF_SIZE && !(cnt === s.info - 1 && next === 0)) {
      cnt = s.info; // readelf: "Invalid vd_next field"
      break;
    }
    if (next > end - v) break;
    idx += next;
  }
  return { kind: 'verdef', section: s, entries, pastEnd: cnt < s.info };
}

function readVerneed(c: VersionContext, s: SectionHeader): VersionNeed[] {
  const { r } = c;
  const { base, end } = sectionBytes(c, s);
  const entries: VersionNeed[] = [];
  let idx = 0;
  for (let cnt = 0; cnt < s.info; cnt++) {
    const v = base + idx;
    if (v + VERNEED_SIZE > end) break;
    const n: VersionNeed = { at: idx, version: r.u16(v, 'vn_version'), count: r.u16(v + 2, 'vn_cnt'), file: dynamicName(c, r.u32(v + 4, 'vn_file')), aux: [] };
    entries.push(n);
    const aux = r.u32(v + 8, 'vn_aux');
    const next = r.u32(v + 12, 'vn_next');
    if (aux > end - v) break;
    let a = v + aux;
    let isum = idx + aux;
    for (let j = 0; j < n.count; j++) {
      if (a + VERNAUX_SIZE > end) break;
      n.aux.push({ at: isum, flags: r.u16(a + 4, 'vna_flags'), other: r.u16(a + 6, 'vna_other'), name: dynamicName(c, r.u32(a + 8, 'vna_name')) });
      const anext = r.u32(a + 12, 'vna_next');
      if (anext < VERNAUX_SIZE && !(j === n.count - 1 && anext === 0)) break;
      if (anext > end - a) break;
      isum += anext;
      a += anext;
    }
    if (next < VERNEED_SIZE && !(cnt === s.info - 1 && next === 0)) break;
    if (next > end - v) break;
    idx += next;
  }
  return entries;
}

function readVersym(c: VersionContext, s: SectionHeader): VersionSection | null {
  const link = c.sections[s.link];
  if (link === undefined || c.sections[link.link] === undefined) return null;
  const strings = c.sections[link.link]!;
  const total = Math.floor(s.size / 2);
  const numSyms = c.symbolCount(link);
  // readelf reads the array through DT_VERSYM when the dynamic table has it, else not at all.
  const versymAddr = c.dynamic?.values.get(DT.VERSYM);
  const off = versymAddr === undefined ? s.offset : c.addressMap.toOffset(versymAddr, total * 2);
  c.r.check(off, total * 2, '.gnu.version contents');
  const entries: VersionSymbolEntry[] = [];
  // One search per distinct value: a symbol table repeats a handful of versions thousands of times.
  const names = new Map<number, string | null>();
  for (let i = 0; i < total; i++) {
    const value = c.r.u16(off + i * 2, 'versym');
    let name: string | null = null;
    if (value > 1 && i < numSyms) {
      const known = names.get(value);
      name = known !== undefined ? known : versionName(c, value, strings);
      names.set(value, name);
    }
    entries.push({ value, name });
  }
  return { kind: 'versym', section: s, link, entries };
}

/**
 * readelf's search for a versym value's name: DT_VERNEED records whose vna_other equals the raw
 * value (hidden bit included, as readelf compares), then DT_VERDEF records whose vd_ndx equals the
 * index; found in both, the name is '*both*'. Names come from the string table the symbol table
 * links to; one beyond it is '*invalid*'.
 */
function versionName(c: VersionContext, value: number, strings: SectionHeader): string | null {
  const { r } = c;
  // A malformed file can chain records a few bytes apart: bound the records one search visits.
  let budget = MAX_RECORDS_PER_SEARCH;
  const d = c.dynamic;
  const name = (o: number): string => (o >= strings.size ? '*invalid*' : cstringOrEmpty(r, strings.offset + o, strings.offset + strings.size));
  let found: string | null = null;
  const verneed = d?.values.get(DT.VERNEED);
  if (verneed !== undefined) {
    let o = c.addressMap.toOffset(verneed, VERNEED_SIZE);
    for (; o >= 0 && r.inside(o, VERNEED_SIZE) && budget > 0; budget--) {
      const vnAux = r.u32(o + 8, 'vn_aux');
      const vnNext = r.u32(o + 12, 'vn_next');
      let a = o + vnAux;
      let other = 0;
      let nameOff = 0;
      for (; budget > 0; budget--) {
        if (!r.inside(a, VERNAUX_SIZE)) {
          other = 0;
          break;
        }
        other = r.u16(a + 6, 'vna_other');
        nameOff = r.u32(a + 8, 'vna_name');
        const anext = r.u32(a + 12, 'vna_next');
        if (other === value || anext === 0) break;
        a += anext;
      }
      if (other === value) {
        found = name(nameOff);
        break;
      }
      if (vnNext === 0) break;
      o += vnNext;
    }
  }
  const verdef = d?.values.get(DT.VERDEF);
  const index = value % 0x8000;
  if (value !== 0x8001 && verdef !== undefined) {
    let o = c.addressMap.toOffset(verdef, VERDEF_SIZE);
    let ndx = -1;
    let next = 0;
    let at = o;
    for (; budget > 0; budget--) {
      if (o < 0 || !r.inside(o, VERDEF_SIZE)) {
        next = 0;
        ndx = index + 1;
        break;
      }
      at = o;
      next = r.u32(o + 16, 'vd_next');
      ndx = r.u16(o + 4, 'vd_ndx');
      o += next;
      if (ndx === index || next === 0) break;
    }
    if (ndx === index && r.inside(at, VERDEF_SIZE)) {
      const aux = at + r.u32(at + 12, 'vd_aux');
      if (r.inside(aux, VERDAUX_SIZE)) {
        const n = r.u32(aux, 'vda_name');
        found = n >= strings.size ? '*invalid*' : found !== null && found !== '*invalid*' ? '*both*' : name(n);
      }
    }
  }
  return found;
}

/** binutils get_ver_flags: "none", or BASE | WEAK | INFO | <unknown>. */
export function versionFlagsText(flags: number): string {
  if (flags === 0) return 'none';
  const parts: string[] = [];
  if ((flags & 1) !== 0) parts.push('BASE');
  if ((flags & 2) !== 0) parts.push('WEAK');
  if ((flags & 4) !== 0) parts.push('INFO');
  if ((flags & ~7) !== 0) parts.push('<unknown>');
  return parts.join(' | ');
}
