/**
 * Symbol versions as _dl_check_map_versions reads them (glibc elf/dl-version.c): the
 * DT_VERNEED chain (per needed file, the versions it must define) and the DT_VERDEF chain (the
 * versions this object defines). Malformed chains are a FormatError naming the field and offset.
 */
import { FormatError } from '@polykernel/core';
import { elfConstants, type ElfFile } from '@polykernel/elf';

const DT = elfConstants.DT;
const VER_FLG_WEAK = 2;

export interface VersionNeed {
  file: string;
  versions: { name: string; weak: boolean; index: number }[];
}

export interface VersionInfo {
  needs: VersionNeed[];
  defs: { name: string; index: number }[];
  /** The highest version index used (the size of l_versions minus one). */
  highest: number;
}

function reader(elf: ElfFile): { dv: DataView; str: (off: number, field: string, at: number) => string } {
  const dv = new DataView(elf.bytes.buffer, elf.bytes.byteOffset, elf.bytes.byteLength);
  const d = elf.dynamic!;
  const strtab = d.values.get(DT.STRTAB) ?? 0;
  const strsz = d.values.get(DT.STRSZ) ?? 0;
  const base = elf.addressMap.require(strtab, strsz, 'DT_STRTAB', d.offset);
  const str = (off: number, field: string, at: number): string => {
    if (off >= strsz) throw new FormatError(field, at, `${field} string offset 0x${off.toString(16)} beyond DT_STRSZ`);
    const end = elf.bytes.indexOf(0, base + off);
    return new TextDecoder().decode(elf.bytes.subarray(base + off, end < 0 ? base + strsz : end));
  };
  return { dv, str };
}

function u16(dv: DataView, o: number, field: string): number {
  if (o < 0 || o + 2 > dv.byteLength) throw new FormatError(field, o, `${field} runs past the end of the file`);
  return dv.getUint16(o, true);
}

function u32(dv: DataView, o: number, field: string): number {
  if (o < 0 || o + 4 > dv.byteLength) throw new FormatError(field, o, `${field} runs past the end of the file`);
  return dv.getUint32(o, true);
}

/** The object's version needs and definitions; empty when it has neither table. */
export function readVersions(elf: ElfFile): VersionInfo {
  const info: VersionInfo = { needs: [], defs: [], highest: 0 };
  const d = elf.dynamic;
  if (d === null) return info;
  const need = d.values.get(DT.VERNEED);
  const def = d.values.get(DT.VERDEF);
  if (need === undefined && def === undefined) return info;
  const { dv, str } = reader(elf);
  const limit = Math.floor(elf.bytes.length / 16) + 1;
  if (need !== undefined) {
    let o = elf.addressMap.require(need, 16, 'DT_VERNEED', d.offset);
    for (let n = 0; n < limit; n++) {
      const entry: VersionNeed = { file: str(u32(dv, o + 4, 'vn_file'), 'vn_file', o + 4), versions: [] };
      let a = o + u32(dv, o + 8, 'vn_aux');
      for (let k = 0, cnt = u16(dv, o + 2, 'vn_cnt'); k < cnt; k++) {
        const index = u16(dv, a + 6, 'vna_other') % 0x8000;
        entry.versions.push({ name: str(u32(dv, a + 8, 'vna_name'), 'vna_name', a + 8), weak: (u16(dv, a + 4, 'vna_flags') & VER_FLG_WEAK) !== 0, index });
        info.highest = Math.max(info.highest, index);
        const next = u32(dv, a + 12, 'vna_next');
        if (next === 0) break;
        a += next;
      }
      info.needs.push(entry);
      const next = u32(dv, o + 12, 'vn_next');
      if (next === 0) break;
      o += next;
    }
  }
  if (def !== undefined) {
    let o = elf.addressMap.require(def, 20, 'DT_VERDEF', d.offset);
    for (let n = 0; n < limit; n++) {
      const index = u16(dv, o + 4, 'vd_ndx') % 0x8000;
      const aux = o + u32(dv, o + 12, 'vd_aux');
      info.defs.push({ name: str(u32(dv, aux, 'vda_name'), 'vda_name', aux), index });
      info.highest = Math.max(info.highest, index);
      const next = u32(dv, o + 16, 'vd_next');
      if (next === 0) break;
      o += next;
    }
  }
  return info;
}
