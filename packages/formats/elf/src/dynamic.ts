/**
 * The dynamic section, read from PT_DYNAMIC the way a loader does (glibc elf/get-dynamic-info.h):
 * the table is found through the program headers and every address in it is a virtual address,
 * translated to a file offset through the PT_LOAD segments. Stripped files need no sections.
 */
import { FormatError } from '@polykernel/core';
import { DT, DT_NAMES, EM_AARCH64, EM_PPC, EM_RISCV, PT_DYNAMIC, PT_LOAD } from './constants.js';
import type { ProgramHeader } from './headers.js';
import type { ByteReader } from './reader.js';

export interface DynamicEntry {
  tag: number;
  tagName: string;
  value: number;
}

export interface DynamicInfo {
  /** File offset of the table. */
  offset: number;
  entries: DynamicEntry[];
  needed: string[];
  soname: string | null;
  rpath: string | null;
  runpath: string | null;
  flags: number;
  flags1: number;
  /** First value of each tag (addresses are virtual addresses). */
  values: Map<number, number>;
}

/** Maps virtual addresses to file offsets through PT_LOAD segments. */
export class AddressMap {
  private readonly loads: ProgramHeader[];

  constructor(phdrs: ProgramHeader[]) {
    this.loads = phdrs.filter((p) => p.type === PT_LOAD);
  }

  /** File offset of `vaddr` if `size` bytes from it are backed by the file, else -1. */
  toOffset(vaddr: number, size = 1): number {
    for (const p of this.loads) {
      if (vaddr >= p.vaddr && vaddr + size <= p.vaddr + p.filesz) return p.offset + (vaddr - p.vaddr);
    }
    return -1;
  }

  /** Like toOffset but a FormatError naming the dynamic tag that held the address. */
  require(vaddr: number, size: number, field: string, fieldOffset: number): number {
    const off = this.toOffset(vaddr, size);
    if (off < 0) throw new FormatError(field, fieldOffset, `${field} = 0x${vaddr.toString(16)} (${size} bytes) is not inside any PT_LOAD segment's file image`);
    return off;
  }
}

/** Processor-specific dynamic tags (DT_LOPROC..DT_HIPROC) by machine, as readelf names them. */
const PROC_TAGS: Record<number, Record<number, string>> = {
  [EM_PPC]: { 0x70000000: 'PPC_GOT', 0x70000001: 'PPC_OPT' },
  [EM_AARCH64]: { 0x70000001: 'AARCH64_BTI_PLT', 0x70000003: 'AARCH64_PAC_PLT', 0x70000005: 'AARCH64_VARIANT_PCS' },
  [EM_RISCV]: { 0x70000001: 'RISCV_VARIANT_CC' },
};

/** readelf's name for a dynamic tag of a file for `machine` (unknown tags: their hex value). */
export function dynTagName(tag: number, machine = 0): string {
  return DT_NAMES[tag] ?? PROC_TAGS[machine]?.[tag] ?? `0x${tag.toString(16)}`;
}

/** Parse PT_DYNAMIC; null when the file has none (static executables, relocatable objects). */
export function parseDynamic(r: ByteReader, is64: boolean, machine: number, phdrs: ProgramHeader[], map: AddressMap): DynamicInfo | null {
  const ph = phdrs.find((p) => p.type === PT_DYNAMIC);
  if (ph === undefined) return null;
  const entsize = is64 ? 16 : 8;
  r.check(ph.offset, ph.filesz, 'PT_DYNAMIC p_offset');
  const entries: DynamicEntry[] = [];
  const values = new Map<number, number>();
  const max = Math.floor(ph.filesz / entsize);
  for (let i = 0; i < max; i++) {
    const o = ph.offset + i * entsize;
    const tag = is64 ? readTag64(r, o) : r.i32(o, 'd_tag');
    const value = is64 ? r.u64(o + 8, `d_val (${dynTagName(tag)})`) : r.u32(o + 4, `d_val (${dynTagName(tag)})`);
    entries.push({ tag, tagName: dynTagName(tag, machine), value });
    if (tag === DT.NULL) break;
    if (!values.has(tag)) values.set(tag, value);
  }
  const info: DynamicInfo = {
    offset: ph.offset, entries, needed: [], soname: null, rpath: null, runpath: null,
    flags: values.get(DT.FLAGS) ?? 0, flags1: values.get(DT.FLAGS_1) ?? 0, values,
  };
  const strtab = values.get(DT.STRTAB);
  const strsz = values.get(DT.STRSZ);
  if (strtab === undefined || strsz === undefined) return info;
  const strOff = map.require(strtab, strsz, 'DT_STRTAB', ph.offset);
  const str = (value: number, field: string): string => {
    if (value >= strsz) throw new FormatError(field, ph.offset, `${field} string offset 0x${value.toString(16)} beyond DT_STRSZ 0x${strsz.toString(16)}`);
    return r.cstring(strOff + value, strOff + strsz, field);
  };
  for (const e of entries) {
    if (e.tag === DT.NEEDED) info.needed.push(str(e.value, 'DT_NEEDED'));
    else if (e.tag === DT.SONAME) info.soname = str(e.value, 'DT_SONAME');
    else if (e.tag === DT.RPATH) info.rpath = str(e.value, 'DT_RPATH');
    else if (e.tag === DT.RUNPATH) info.runpath = str(e.value, 'DT_RUNPATH');
  }
  return info;
}

/** d_tag is a signed 64-bit value; real tags fit 32 bits, others are kept as-is when representable. */
function readTag64(r: ByteReader, o: number): number {
  return r.i64(o, 'd_tag');
}

/** The dynamic string table's bounds as file offsets, or null. */
export function dynamicStrings(dyn: DynamicInfo, map: AddressMap): { offset: number; size: number } | null {
  const addr = dyn.values.get(DT.STRTAB);
  const size = dyn.values.get(DT.STRSZ);
  if (addr === undefined || size === undefined) return null;
  const offset = map.toOffset(addr, size);
  return offset < 0 ? null : { offset, size };
}
