/**
 * _dl_lookup_symbol_x / do_lookup_x (glibc elf/dl-lookup.c): walk the scope in order; in each
 * object the GNU hash table (bloom filter, bucket, chain compared on the hash with the low bit
 * masked) or the SysV hash table finds the candidates, and check_match accepts one by type,
 * value, section and version (the version asked for, or the base/default one when none is).
 */
import { elfConstants, gnuHash, sysvHash, type ElfFile, type ElfSymbol } from '@polykernel/elf';
import type { LinkMap, Session } from './session.js';

const DT = elfConstants.DT;
const STT_TLS = 6;
const ALLOWED_TYPES = new Set([0, 1, 2, 5, 6, 10]);

/** One object's hash table, read once from its file bytes. */
export class HashIndex {
  private readonly dv: DataView;
  private readonly syms: ElfSymbol[];
  private readonly kind: 'gnu' | 'sysv' | 'none';
  private nbuckets = 0;
  private symoffset = 0;
  private bloomSize = 0;
  private bloomShift = 0;
  private bloomOff = 0;
  private bucketOff = 0;
  private chainOff = 0;

  constructor(elf: ElfFile) {
    this.dv = new DataView(elf.bytes.buffer, elf.bytes.byteOffset, elf.bytes.byteLength);
    this.syms = elf.dynamicSymbols();
    const d = elf.dynamic;
    const gnu = d?.values.get(DT.GNU_HASH);
    const sysv = d?.values.get(DT.HASH);
    if (d !== null && gnu !== undefined) {
      const o = elf.addressMap.require(gnu, 16, 'DT_GNU_HASH', d.offset);
      this.kind = 'gnu';
      this.nbuckets = this.dv.getUint32(o, true);
      this.symoffset = this.dv.getUint32(o + 4, true);
      this.bloomSize = this.dv.getUint32(o + 8, true);
      this.bloomShift = this.dv.getUint32(o + 12, true);
      this.bloomOff = o + 16;
      this.bucketOff = this.bloomOff + this.bloomSize * 8;
      this.chainOff = this.bucketOff + this.nbuckets * 4;
    } else if (d !== null && sysv !== undefined) {
      const o = elf.addressMap.require(sysv, 8, 'DT_HASH', d.offset);
      this.kind = 'sysv';
      this.nbuckets = this.dv.getUint32(o, true);
      this.bucketOff = o + 8;
      this.chainOff = this.bucketOff + this.nbuckets * 4;
    } else {
      this.kind = 'none';
    }
  }

  /** The candidates for `name` in chain order (hash and name equal), before check_match. */
  candidates(name: string, h1: number): ElfSymbol[] {
    const out: ElfSymbol[] = [];
    if (this.kind === 'gnu' && this.nbuckets > 0 && this.bloomSize > 0) {
      const word = Math.floor(h1 / 64) % this.bloomSize;
      if (!this.bloomBit(word, h1 % 64) || !this.bloomBit(word, (h1 >>> this.bloomShift) % 64)) return out;
      let ix = this.u32(this.bucketOff + (h1 % this.nbuckets) * 4);
      if (ix < this.symoffset || ix === 0) return out;
      for (; ix < this.syms.length; ix++) {
        const h2 = this.u32(this.chainOff + (ix - this.symoffset) * 4);
        if ((h1 | 1) === (h2 | 1) && this.syms[ix]?.name === name) out.push(this.syms[ix]!);
        if ((h2 & 1) !== 0) break;
      }
    } else if (this.kind === 'sysv' && this.nbuckets > 0) {
      const h = sysvHash(name);
      let i = this.u32(this.bucketOff + (h % this.nbuckets) * 4);
      for (let steps = 0; i !== 0 && steps <= this.syms.length; steps++) {
        if (this.syms[i]?.name === name) out.push(this.syms[i]!);
        i = this.u32(this.chainOff + i * 4);
      }
    }
    return out;
  }

  private u32(o: number): number {
    return o >= 0 && o + 4 <= this.dv.byteLength ? this.dv.getUint32(o, true) : 0;
  }

  private bloomBit(word: number, bit: number): boolean {
    const base = this.bloomOff + word * 8 + (bit < 32 ? 0 : 4);
    return ((this.u32(base) >>> (bit % 32)) & 1) === 1;
  }
}

export interface Definition {
  map: LinkMap;
  sym: ElfSymbol;
}

const hidden = (s: ElfSymbol): boolean => s.version !== undefined && s.versionNeeded !== true && s.versionDefault !== true;

/** check_match's version rule: 'yes', 'no', or 'candidate' (an unversioned reference meeting a non-default version). */
function versionMatch(def: ElfSymbol, want: string | undefined): 'yes' | 'no' | 'candidate' {
  const ndx = def.versionIndex;
  if (ndx === undefined) return 'yes';
  if (want !== undefined) {
    if (def.version === want) return 'yes';
    return ndx <= 1 && !hidden(def) ? 'yes' : 'no';
  }
  if (ndx >= 3) return hidden(def) ? 'no' : 'candidate';
  return 'yes';
}

/**
 * Find `name` (wanting `version`) in `scope`, skipping `skip` (COPY relocations skip the
 * executable) and, for PLT relocations, undefined entries. Null when nothing defines it.
 */
export function lookupSymbol(s: Session, indexes: Map<LinkMap, HashIndex>, scope: readonly LinkMap[], name: string, version: string | undefined, forPlt: boolean, skip: LinkMap | null): Definition | null {
  s.stats.lookups++;
  const h1 = gnuHash(name);
  for (const map of scope) {
    if (map === skip || map.elf === null) continue;
    let ix = indexes.get(map);
    if (ix === undefined) {
      ix = new HashIndex(map.elf);
      indexes.set(map, ix);
    }
    s.stats.hashProbes++;
    let candidate: ElfSymbol | null = null;
    let versions = 0;
    for (const sym of ix.candidates(name, h1)) {
      if (sym.value === 0 && sym.type !== STT_TLS) continue;
      if (!ALLOWED_TYPES.has(sym.type) || (forPlt && sym.shndx === 0)) continue;
      const v = versionMatch(sym, version);
      if (v === 'yes') return { map, sym };
      if (v === 'candidate' && versions++ === 0) candidate = sym;
    }
    if (candidate !== null && versions === 1) return { map, sym: candidate };
  }
  return null;
}
