/**
 * Section groups (SHT_GROUP, COMDAT) as readelf -g lists them (binutils readelf.c,
 * process_section_groups): the flag word, then member section indexes. The group's signature is
 * the name of the symbol sh_info names in the SHT_SYMTAB that sh_link names, or, for a section
 * symbol, that section's name. Groups readelf rejects (a bad sh_link or sh_info, sh_entsize beyond
 * sh_size) are left out with the reason, as readelf prints an error and goes on.
 */
import { SHT_SYMTAB } from './constants.js';
import type { SectionHeader } from './headers.js';
import type { ByteReader } from './reader.js';
import type { ElfSymbol } from './symbols.js';

export const SHT_GROUP = 17;
export const GRP_COMDAT = 1;

export interface SectionGroup {
  section: SectionHeader;
  flags: number;
  signature: string;
  /** Member section indexes as stored (an index beyond e_shnum is dropped: `rejected`). */
  members: number[];
}

export interface SectionGroups {
  groups: SectionGroup[];
  /** readelf's error lines for groups or members it skips, in order. */
  rejected: string[];
}

export function readSectionGroups(r: ByteReader, sections: SectionHeader[], symbolsOf: (index: number) => ElfSymbol[]): SectionGroups {
  const groups: SectionGroup[] = [];
  const rejected: string[] = [];
  const inGroup = new Map<number, number>();
  for (const s of sections) {
    if (s.type !== SHT_GROUP) continue;
    const symtab = sections[s.link];
    if (symtab?.type !== SHT_SYMTAB) {
      rejected.push(`Bad sh_link in group section \`${s.name}'`);
      continue;
    }
    const syms = symbolsOf(symtab.index);
    const sym = syms[s.info];
    if (sym === undefined) {
      rejected.push(`Bad sh_info in group section \`${s.name}'`);
      continue;
    }
    let signature = sym.name;
    if (sym.type === 3) { // STT_SECTION
      const named = sym.shndx === 0 ? undefined : sections[sym.shndx];
      if (named === undefined) {
        rejected.push(`Bad sh_info in group section \`${s.name}'`);
        continue;
      }
      signature = named.name;
    }
    if (s.entsize > s.size || s.entsize === 0) {
      rejected.push(`Section ${s.name} has sh_entsize (0x${s.entsize.toString(16)}) which is larger than its size (0x${s.size.toString(16)})`);
      continue;
    }
    r.check(s.offset, s.size, `${s.name} contents`);
    const count = Math.floor(s.size / s.entsize) - 1;
    const flags = r.u32(s.offset, 'group flags');
    const members: number[] = [];
    for (let j = 0; j < count; j++) {
      const entry = r.u32(s.offset + 4 + j * 4, 'group member');
      if (entry >= sections.length) {
        rejected.push(`section [${String(entry).padStart(5)}] in group section [${String(s.index).padStart(5)}] > maximum section [${String(sections.length - 1).padStart(5)}]`);
        continue;
      }
      const prior = inGroup.get(entry);
      if (prior !== undefined && entry !== 0) {
        rejected.push(`section [${String(entry).padStart(5)}] in group section [${String(s.index).padStart(5)}] already in group section [${String(prior).padStart(5)}]`);
        continue;
      }
      if (prior === undefined) inGroup.set(entry, s.index);
      members.push(entry);
    }
    groups.push({ section: s, flags, signature, members });
  }
  return { groups, rejected };
}
