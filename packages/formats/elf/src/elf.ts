/**
 * ElfFile: one parsed ELF file. Headers, program headers, sections and the dynamic table are read
 * eagerly (they are small); symbols, relocations and notes on first use. Every read is bounds-checked
 * and a malformed file yields a FormatError naming the field and offset.
 */
import { FormatError } from '@polykernel/core';
import {
  DF_1_PIE, DT, ET_CORE, ET_DYN, ET_EXEC, ET_REL, MACHINE_NAMES, machineShortName, OSABI_SHORT, PT_GNU_STACK,
  PT_INTERP, PT_LOAD, PT_NOTE, PT_TLS, PF_X, SHT_DYNSYM, SHT_NOBITS, SHT_NOTE, SHT_REL, SHT_RELA, SHT_RELR, SHT_SYMTAB,
} from './constants.js';
import { AddressMap, parseDynamic, type DynamicInfo } from './dynamic.js';
import { GnuHashTable, SysvHashTable } from './hash.js';
import { openReader, parseHeader, parseProgramHeaders, parseSectionHeaders, type ElfHeader, type ProgramHeader, type SectionHeader } from './headers.js';
import { readAttributeSection, type AttributeSection } from './attributes.js';
import { readSectionGroups, type SectionGroups } from './groups.js';
import { readNotes, type ElfNote } from './notes.js';
import type { ByteReader } from './reader.js';
import { readRelocations, type RelocationSource, type RelocationTable } from './relocs.js';
import { applyVersions, readSymbols, readVersionNames, type ElfSymbol, type StringTable } from './symbols.js';
import { readVersionSections, type VersionSection } from './versions.js';

export interface ParseElfOptions {
  /** 'full' (the default): every table; 'exec': only what execve reads. */
  view?: 'full' | 'exec';
}

export type ElfKind = 'exec' | 'pie' | 'dyn' | 'rel' | 'core' | 'unknown';

export class ElfFile {
  readonly header: ElfHeader;
  readonly programHeaders: ProgramHeader[];
  readonly sections: SectionHeader[];
  readonly dynamic: DynamicInfo | null;
  readonly interpreter: string | null;
  readonly addressMap: AddressMap;
  private readonly r: ByteReader;
  private dynsymCache: ElfSymbol[] | undefined;
  private readonly sectionSymbols = new Map<number, ElfSymbol[]>();
  private gnuHashTable: GnuHashTable | null | undefined;
  private sysvHashTable: SysvHashTable | null | undefined;

  /**
   * `view: 'exec'` reads only what the kernel's binfmt_elf reads — the ELF header and the program
   * headers (and PT_INTERP's path): no section headers, no dynamic table — so a program the kernel
   * runs is never refused for a broken section header table.
   */
  constructor(readonly bytes: Uint8Array, opts: ParseElfOptions = {}) {
    const exec = opts.view === 'exec';
    this.r = openReader(bytes);
    this.header = parseHeader(this.r, exec);
    this.programHeaders = parseProgramHeaders(this.r, this.header);
    this.sections = exec ? [] : parseSectionHeaders(this.r, this.header);
    this.addressMap = new AddressMap(this.programHeaders);
    this.interpreter = this.readInterpreter();
    this.dynamic = exec ? null : parseDynamic(this.r, this.is64, this.header.machine, this.programHeaders, this.addressMap);
  }

  get is64(): boolean {
    return this.header.bits === 64;
  }

  /** uname-style machine name: x86_64, aarch64, i386, arm, riscv64, ppc, ... */
  get machine(): string {
    return machineShortName(this.header.machine, this.is64);
  }

  /** readelf's "Machine:" text. */
  get machineDescription(): string {
    return MACHINE_NAMES[this.header.machine] ?? `<unknown>: 0x${this.header.machine.toString(16)}`;
  }

  get osabi(): string {
    return OSABI_SHORT[this.header.osabi] ?? `osabi${this.header.osabi}`;
  }

  /**
   * exec (ET_EXEC), pie (ET_DYN with DF_1_PIE, or with PT_INTERP and no DT_SONAME for old linkers),
   * dyn (shared object), rel (ET_REL), core.
   */
  get kind(): ElfKind {
    switch (this.header.type) {
      case ET_EXEC: return 'exec';
      case ET_REL: return 'rel';
      case ET_CORE: return 'core';
      case ET_DYN: {
        const d = this.dynamic;
        if (d !== null && (d.flags1 & DF_1_PIE) !== 0) return 'pie';
        if (d !== null && !d.values.has(DT.FLAGS_1) && this.interpreter !== null && d.soname === null) return 'pie';
        return 'dyn';
      }
      default: return 'unknown';
    }
  }

  /** Loadable segments (PT_LOAD) in file order. */
  get loadSegments(): ProgramHeader[] {
    return this.programHeaders.filter((p) => p.type === PT_LOAD);
  }

  /** Lowest PT_LOAD virtual address (0 for PIE and shared objects), or null without PT_LOAD. */
  get imageBase(): number | null {
    const loads = this.loadSegments;
    return loads.length === 0 ? null : Math.min(...loads.map((p) => p.vaddr));
  }

  get tls(): ProgramHeader | null {
    return this.programHeaders.find((p) => p.type === PT_TLS) ?? null;
  }

  /** PT_GNU_STACK's PF_X; without the header Linux assumes an executable stack (VM_STACK_DEFAULT_FLAGS). */
  get executableStack(): boolean {
    const s = this.programHeaders.find((p) => p.type === PT_GNU_STACK);
    return s === undefined ? true : (s.flags & PF_X) !== 0;
  }

  section(name: string): SectionHeader | undefined {
    return this.sections.find((s) => s.name === name);
  }

  private readInterpreter(): string | null {
    const ph = this.programHeaders.find((p) => p.type === PT_INTERP);
    if (ph === undefined) return null;
    this.r.check(ph.offset, ph.filesz, 'PT_INTERP');
    return this.r.cstring(ph.offset, ph.offset + ph.filesz, 'PT_INTERP');
  }

  // ---- symbols ---------------------------------------------------------------------------------

  /**
   * The dynamic symbol table as a loader finds it: DT_SYMTAB, counted through DT_HASH (nchain) or
   * DT_GNU_HASH, with versions from DT_VERSYM. Falls back to the .dynsym section.
   */
  dynamicSymbols(): ElfSymbol[] {
    if (this.dynsymCache !== undefined) return this.dynsymCache;
    this.dynsymCache = this.readDynamicSymbols();
    return this.dynsymCache;
  }

  private readDynamicSymbols(): ElfSymbol[] {
    const d = this.dynamic;
    const strings = this.dynamicStringTable();
    const symtab = d?.values.get(DT.SYMTAB);
    if (d === null || symtab === undefined || strings === null) {
      const sec = this.sections.find((s) => s.type === SHT_DYNSYM);
      return sec === undefined ? [] : this.symbolsOfSection(sec.index);
    }
    const ent = this.is64 ? 24 : 16;
    const symOff = this.addressMap.toOffset(symtab, ent);
    if (symOff < 0) throw new FormatError('DT_SYMTAB', d.offset, `DT_SYMTAB 0x${symtab.toString(16)} is not in the file image`);
    const limit = Math.floor((this.r.length - symOff) / ent);
    const count = this.countDynamicSymbols(limit);
    if (count > limit) throw new FormatError('DT_HASH nchain', d.offset, `dynamic symbol count ${count} exceeds what the file can hold (${limit})`);
    const syms = readSymbols(this.r, this.is64, symOff, count, strings);
    const versym = d.values.get(DT.VERSYM);
    if (versym !== undefined) {
      const vdef = d.values.get(DT.VERDEF);
      const vneed = d.values.get(DT.VERNEED);
      const names = readVersionNames(
        this.r, strings,
        vdef === undefined ? null : this.addressMap.require(vdef, 20, 'DT_VERDEF', d.offset),
        vneed === undefined ? null : this.addressMap.require(vneed, 16, 'DT_VERNEED', d.offset),
      );
      applyVersions(this.r, syms, this.addressMap.require(versym, count * 2, 'DT_VERSYM', d.offset), names);
    }
    return syms;
  }

  /**
   * How many dynamic symbols there are. DT_HASH's nchain says it exactly (gABI); failing that the
   * .dynsym section; failing that (no sections) DT_GNU_HASH only counts the hashed (defined)
   * symbols, so also take every symbol a dynamic relocation references: all a loader ever reads.
   */
  private countDynamicSymbols(limit: number): number {
    const sysv = this.sysvHash();
    if (sysv !== null) return sysv.symbolCount();
    const sec = this.sections.find((s) => s.type === SHT_DYNSYM);
    if (sec !== undefined) return Math.floor(sec.size / (this.is64 ? 24 : 16));
    const gnu = this.gnuHash();
    let count = gnu === null ? 0 : gnu.symbolCount(limit);
    for (const t of this.readDynamicRelocations(null)) {
      for (const r of t.relocations) if (r.symbolIndex >= count) count = r.symbolIndex + 1;
    }
    return count;
  }

  private dynamicStringTable(): StringTable | null {
    const d = this.dynamic;
    if (d === null) return null;
    const addr = d.values.get(DT.STRTAB);
    const size = d.values.get(DT.STRSZ);
    if (addr === undefined || size === undefined) return null;
    return { offset: this.addressMap.require(addr, size, 'DT_STRTAB', d.offset), size };
  }

  private gnuHash(): GnuHashTable | null {
    if (this.gnuHashTable !== undefined) return this.gnuHashTable;
    const d = this.dynamic;
    const addr = d?.values.get(DT.GNU_HASH);
    this.gnuHashTable = d === null || addr === undefined ? null : new GnuHashTable(this.r, this.addressMap.require(addr, 16, 'DT_GNU_HASH', d.offset), this.is64);
    return this.gnuHashTable;
  }

  private sysvHash(): SysvHashTable | null {
    if (this.sysvHashTable !== undefined) return this.sysvHashTable;
    const d = this.dynamic;
    const addr = d?.values.get(DT.HASH);
    this.sysvHashTable = d === null || addr === undefined ? null : new SysvHashTable(this.r, this.addressMap.require(addr, 8, 'DT_HASH', d.offset));
    return this.sysvHashTable;
  }

  /** The static symbol table (.symtab), or [] when stripped. */
  symbols(): ElfSymbol[] {
    const sec = this.sections.find((s) => s.type === SHT_SYMTAB);
    return sec === undefined ? [] : this.symbolsOfSection(sec.index);
  }

  /** Symbols of a SHT_SYMTAB/SHT_DYNSYM section, using its sh_link string table. */
  symbolsOfSection(index: number): ElfSymbol[] {
    const cached = this.sectionSymbols.get(index);
    if (cached !== undefined) return cached;
    const sec = this.sections[index];
    if (sec === undefined) throw new FormatError('sh_link', this.header.shoff, `section index ${index} does not exist`);
    const strsec = this.sections[sec.link];
    if (strsec === undefined) throw new FormatError('sh_link', this.header.shoff + index * this.header.shentsize, `${sec.name}: string table section ${sec.link} does not exist`);
    const ent = this.is64 ? 24 : 16;
    const count = sec.type === SHT_NOBITS ? 0 : Math.floor(sec.size / ent);
    const syms = readSymbols(this.r, this.is64, sec.offset, count, { offset: strsec.offset, size: strsec.size });
    this.sectionSymbols.set(index, syms);
    return syms;
  }

  /**
   * Find the dynamic symbol `name` resolves to in this object, through DT_GNU_HASH (preferred, as
   * glibc does) or DT_HASH, applying ld.so's check_match (glibc elf/dl-lookup.c): a symbol with
   * value 0 that is not TLS never matches, only NOTYPE/OBJECT/FUNC/COMMON/TLS/IFUNC do, and for a
   * PLT relocation (`forPlt`) an undefined symbol does not either. Versions are not checked.
   * Returns null when the file has neither table or nothing matches.
   */
  lookup(name: string, forPlt = false): ElfSymbol | null {
    const syms = this.dynamicSymbols();
    const nameAt = (i: number): string => syms[i]?.name ?? '';
    const accept = (i: number): boolean => symbolMatches(syms[i], forPlt);
    const gnu = this.gnuHash();
    let ix = -1;
    if (gnu !== null) ix = gnu.lookup(name, nameAt, syms.length, accept);
    else {
      const sysv = this.sysvHash();
      if (sysv === null) return null;
      ix = sysv.lookup(name, nameAt, accept);
    }
    return ix < 0 ? null : syms[ix] ?? null;
  }

  /** Which hash tables the file has. */
  get hashTables(): { gnu: boolean; sysv: boolean } {
    return { gnu: this.gnuHash() !== null, sysv: this.sysvHash() !== null };
  }

  /**
   * The bucket-length histograms readelf -I prints: DT_HASH's (chains cut where they leave the
   * table or loop) and DT_GNU_HASH's. Null for a table the file lacks.
   */
  hashHistograms(): { sysv: { lengths: number[]; corrupt: boolean } | null; gnu: number[] | null } {
    const sysv = this.sysvHash();
    const gnu = this.gnuHash();
    let gnuLengths: number[] | null = null;
    if (gnu !== null) {
      const chainOff = gnu.offset + 16 + gnu.bloomSize * (this.is64 ? 8 : 4) + gnu.nbuckets * 4;
      gnuLengths = gnu.bucketLengths(gnu.symbolCount(gnu.symoffset + Math.max(0, Math.floor((this.r.length - chainOff) / 4))));
    }
    return { sysv: sysv === null ? null : sysv.bucketLengths(), gnu: gnuLengths };
  }

  /**
   * RISC-V build attributes as readelf -A reads them (SHT_RISCV_ATTRIBUTES, and SHT_GNU_ATTRIBUTES
   * beside them). Other machines' attribute sections follow other rules (ARM's EABI, the GNU
   * Power/SPARC/s390 tags) and are not read: [] for them.
   */
  attributeSections(): AttributeSection[] {
    if (this.header.machine !== 243) return []; // EM_RISCV
    return this.sections.filter((s) => s.type === 0x70000003 || s.type === 0x6ffffff5).map((s) => readAttributeSection(this.r, s));
  }

  /** SHT_GROUP sections (COMDAT groups of relocatable objects) with their members, as readelf -g. */
  sectionGroups(): SectionGroups {
    return readSectionGroups(this.r, this.sections, (i) => this.symbolsOfSection(i));
  }

  /** .gnu.version_d, .gnu.version_r and .gnu.version in section order, as readelf -V walks them. */
  versionSections(): VersionSection[] {
    const d = this.dynamic;
    const strtab = d?.values.get(DT.STRTAB);
    const strsz = d?.values.get(DT.STRSZ);
    const strOff = strtab === undefined || strsz === undefined ? -1 : this.addressMap.toOffset(strtab, strsz);
    return readVersionSections({
      r: this.r, sections: this.sections, dynamic: d, addressMap: this.addressMap,
      dynamicStrings: strOff < 0 || strsz === undefined ? null : { offset: strOff, size: strsz },
      symbolCount: (s) => (s.type === SHT_NOBITS ? 0 : Math.floor(s.size / (this.is64 ? 24 : 16))),
    });
  }

  // ---- relocations -----------------------------------------------------------------------------

  /** Relocation sections (REL, RELA, RELR) as readelf -r lists them; from the dynamic table when there are no sections. */
  relocations(): RelocationTable[] {
    const secs = this.sections.filter((s) => s.type === SHT_REL || s.type === SHT_RELA || s.type === SHT_RELR);
    if (this.sections.length === 0) return this.dynamicRelocations();
    return secs.map((s) => {
      // The dynamic symbol table carries versions (DT_VERSYM); use it for tables linked to .dynsym.
      const linked = this.sections[s.link];
      const symbols = s.type === SHT_RELR || s.link === 0 ? null
        : linked?.type === SHT_DYNSYM && this.dynamic !== null ? this.dynamicSymbols() : this.symbolsOfSection(s.link);
      const kind = s.type === SHT_RELA ? 'rela' : s.type === SHT_REL ? 'rel' : 'relr';
      return readRelocations(this.r, this.is64, this.header.machine, { name: s.name, kind, offset: s.offset, size: s.size, symbols });
    });
  }

  /** Relocations found through DT_RELA/DT_REL, DT_JMPREL and DT_RELR, the way ld.so finds them. */
  dynamicRelocations(): RelocationTable[] {
    return this.dynamic === null ? [] : this.readDynamicRelocations(this.dynamicSymbols());
  }

  private readDynamicRelocations(syms: ElfSymbol[] | null): RelocationTable[] {
    const d = this.dynamic;
    if (d === null) return [];
    const v = d.values;
    const out: RelocationTable[] = [];
    const jmprel = v.get(DT.JMPREL);
    const pltsz = v.get(DT.PLTRELSZ) ?? 0;
    const pltKind = v.get(DT.PLTREL) === DT.REL ? 'rel' : 'rela';
    const add = (name: string, kind: RelocationSource['kind'], addr: number | undefined, size: number | undefined, tag: string): void => {
      if (addr === undefined || size === undefined || size === 0) return;
      let sz = size;
      // Some linkers make DT_RELA(SZ) cover .rela.plt too; ld.so then skips the overlap (elf/dynamic-link.h).
      if (kind === pltKind && jmprel !== undefined && name !== '.rela.plt' && name !== '.rel.plt' && jmprel >= addr && jmprel < addr + sz) {
        sz = jmprel - addr;
      }
      if (sz === 0) return;
      const offset = this.addressMap.require(addr, sz, tag, d.offset);
      out.push(readRelocations(this.r, this.is64, this.header.machine, { name, kind, offset, size: sz, symbols: kind === 'relr' ? null : syms }));
    };
    add('.rela.dyn', 'rela', v.get(DT.RELA), v.get(DT.RELASZ), 'DT_RELA');
    add('.rel.dyn', 'rel', v.get(DT.REL), v.get(DT.RELSZ), 'DT_REL');
    add('.relr.dyn', 'relr', v.get(DT.RELR), v.get(DT.RELRSZ), 'DT_RELR');
    add(pltKind === 'rel' ? '.rel.plt' : '.rela.plt', pltKind, jmprel, pltsz, 'DT_JMPREL');
    return out;
  }

  // ---- notes -----------------------------------------------------------------------------------

  /** Notes from SHT_NOTE sections (as readelf -n), or from PT_NOTE segments when there are no sections (as a loader). */
  notes(): ElfNote[] {
    const secs = this.sections.filter((s) => s.type === SHT_NOTE);
    if (this.sections.length > 0) return secs.flatMap((s) => readNotes(this.r, s.offset, s.size, s.addralign, this.is64));
    return this.programHeaders.filter((p) => p.type === PT_NOTE).flatMap((p) => readNotes(this.r, p.offset, p.filesz, p.align, this.is64));
  }
}

const ALLOWED_TYPES = new Set([0, 1, 2, 5, 6, 10]); // NOTYPE OBJECT FUNC COMMON TLS GNU_IFUNC

/** glibc check_match, minus versions: may this symbol satisfy a lookup? */
export function symbolMatches(s: ElfSymbol | undefined, forPlt = false): boolean {
  if (s === undefined) return false;
  if (s.value === 0 && s.type !== 6) return false;
  if (!ALLOWED_TYPES.has(s.type)) return false;
  return !(forPlt && s.shndx === 0);
}

/** Parse an ELF file from its bytes (not copied). Throws FormatError on malformed input. */
export function parseElf(bytes: Uint8Array, opts: ParseElfOptions = {}): ElfFile {
  return new ElfFile(bytes, opts);
}

/** True when the bytes start with the ELF magic. */
export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}
