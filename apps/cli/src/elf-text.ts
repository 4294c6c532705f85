/**
 * readelf -W style text views of an ELF file. Layouts follow binutils 2.40 readelf so that output
 * can be compared line by line with the real tool (the tests do, for the file header).
 */
import { hex, hexPad } from '@polykernel/core';
import {
  elfConstants as C, GRP_COMDAT, machineFlagNames, shTypeName as elfShTypeName, symbolDisplayName, versionFlagsText,
  type AttributeValue, type DynamicName, type ElfFile, type ElfSymbol, type RelocationTable, type VersionSection,
} from '@polykernel/elf';

const TYPE_TEXT: Record<number, string> = {
  0: 'NONE (None)', 1: 'REL (Relocatable file)', 2: 'EXEC (Executable file)', 3: 'DYN (Shared object file)', 4: 'CORE (Core file)',
};

function typeText(elf: ElfFile): string {
  if (elf.header.type === 3 && elf.kind === 'pie') return 'DYN (Position-Independent Executable file)';
  return TYPE_TEXT[elf.header.type] ?? `<unknown>: ${hex(elf.header.type)}`;
}

function row(label: string, value: string): string {
  return `  ${label.padEnd(35)}${value}`;
}

export function fileHeaderText(elf: ElfFile): string {
  const h = elf.header;
  const magic = Array.from(elf.bytes.subarray(0, 16), (b) => hexPad(b, 2)).join(' ');
  return [
    'ELF Header:',
    `  Magic:   ${magic} `,
    row('Class:', h.bits === 64 ? 'ELF64' : 'ELF32'),
    row('Data:', h.endian === 'little' ? "2's complement, little endian" : "2's complement, big endian"),
    row('Version:', h.identVersion === 1 ? '1 (current)' : `${h.identVersion} <unknown>`),
    row('OS/ABI:', C.OSABI_NAMES[h.osabi] ?? `<unknown: ${hex(h.osabi)}>`),
    row('ABI Version:', String(h.abiVersion)),
    row('Type:', typeText(elf)),
    row('Machine:', elf.machineDescription),
    row('Version:', `0x${hex(h.version)}`),
    row('Entry point address:', `0x${hex(h.entry)}`),
    row('Start of program headers:', `${h.phoff} (bytes into file)`),
    row('Start of section headers:', `${h.shoff} (bytes into file)`),
    row('Flags:', [`0x${hex(h.flags)}`, ...machineFlagNames(h.machine, h.flags)].join(', ')),
    row('Size of this header:', `${h.ehsize} (bytes)`),
    row('Size of program headers:', `${h.phentsize} (bytes)`),
    row('Number of program headers:', String(h.phnum)),
    row('Size of section headers:', `${h.shentsize} (bytes)`),
    row('Number of section headers:', String(h.shnum)),
    row('Section header string table index:', String(h.shstrndx)),
  ].join('\n');
}

/** Program header type names in the processor range, as readelf names them. */
function phTypeText(type: number, name: string, machine: number): string {
  if (type === 0x70000001 && machine === C.EM_ARM) return 'EXIDX';
  if (type === 0x70000003 && machine === C.EM_RISCV) return 'RISCV_ATTRIBUT';
  if (type === 0x70000001 && machine === C.EM_X86_64) return 'LOPROC+0x1';
  return name;
}

function flagText(flags: number): string {
  return ((flags & 4) !== 0 ? 'R' : ' ') + ((flags & 2) !== 0 ? 'W' : ' ') + ((flags & 1) !== 0 ? 'E' : ' ');
}

export function programHeadersText(elf: ElfFile, preamble: boolean): string {
  const h = elf.header;
  const out: string[] = [];
  if (elf.programHeaders.length === 0) return '\nThere are no program headers in this file.';
  if (preamble) {
    out.push('', `Elf file type is ${typeText(elf)}`, `Entry point 0x${hex(h.entry)}`, `${h.phnum === 1 ? 'There is 1 program header' : `There are ${h.phnum} program headers`}, starting at offset ${h.phoff}`);
  }
  out.push('', 'Program Headers:');
  const w = elf.is64 ? 16 : 8;
  out.push(elf.is64
    ? '  Type           Offset   VirtAddr           PhysAddr           FileSiz  MemSiz   Flg Align'
    : '  Type           Offset   VirtAddr   PhysAddr   FileSiz MemSiz  Flg Align');
  for (const p of elf.programHeaders) {
    const size = elf.is64 ? 6 : 5;
    out.push(`  ${phTypeText(p.type, p.typeName, h.machine).padEnd(14)} 0x${hexPad(p.offset, 6)} 0x${hexPad(p.vaddr, w)} 0x${hexPad(p.paddr, w)} 0x${hexPad(p.filesz, size)} 0x${hexPad(p.memsz, size)} ${flagText(p.flags)} 0x${hex(p.align)}`);
    if (p.type === C.PT_INTERP && elf.interpreter !== null) out.push(`      [Requesting program interpreter: ${elf.interpreter}]`);
  }
  if (elf.sections.length > 0) {
    out.push('', ' Section to Segment mapping:', '  Segment Sections...');
    elf.programHeaders.forEach((p, i) => {
      const names = elf.sections.filter((s) => s.index !== 0 && sectionInSegment(s, p)).map((s) => s.name);
      out.push(`   ${String(i).padStart(2, '0')}     ${names.map((n) => n + ' ').join('')}`);
    });
  }
  return out.join('\n');
}

/** Unsigned 64-bit `x - 1` for a size: 0 wraps to the maximum, as in binutils' bfd_vma arithmetic. */
function lastIndex(size: number): number {
  return size === 0 ? Number.MAX_VALUE : size - 1;
}

/**
 * binutils include/elf/internal.h ELF_SECTION_IN_SEGMENT_STRICT (check_vma and strict), with
 * readelf's ELF_TBSS_SPECIAL exclusion: the rule readelf's section-to-segment map uses.
 */
function sectionInSegment(s: ElfFile['sections'][number], p: ElfFile['programHeaders'][number]): boolean {
  const tls = (s.flags & 0x400) !== 0;
  const alloc = (s.flags & 2) !== 0;
  const nobits = s.type === C.SHT_NOBITS;
  if (tls && nobits && p.type !== C.PT_TLS) return false; // ELF_TBSS_SPECIAL
  const typeOk = tls
    ? p.type === C.PT_TLS || p.type === C.PT_GNU_RELRO || p.type === C.PT_LOAD
    : p.type !== C.PT_TLS && p.type !== C.PT_PHDR;
  if (!typeOk) return false;
  const allocOnly = [C.PT_LOAD, C.PT_DYNAMIC, C.PT_GNU_EH_FRAME, C.PT_GNU_STACK, C.PT_GNU_RELRO, C.PT_GNU_SFRAME];
  if (!alloc && (allocOnly.includes(p.type) || (p.type >= 0x6474e555 && p.type <= 0x6474f554))) return false;
  const size = !tls || !nobits || p.type === C.PT_TLS ? s.size : 0;
  if (!nobits) {
    if (s.offset < p.offset) return false;
    if (s.offset - p.offset > lastIndex(p.filesz)) return false;
    if (s.offset - p.offset + size > p.filesz) return false;
  }
  if (alloc) {
    if (s.addr < p.vaddr) return false;
    if (s.addr - p.vaddr > lastIndex(p.memsz)) return false;
    if (s.addr - p.vaddr + size > p.memsz) return false;
  }
  // No zero-size sections at the start or end of PT_DYNAMIC or PT_NOTE.
  if ((p.type === C.PT_DYNAMIC || p.type === C.PT_NOTE) && s.size === 0 && p.memsz !== 0) {
    const offOk = nobits || (s.offset > p.offset && s.offset - p.offset < p.filesz);
    const vmaOk = !alloc || (s.addr > p.vaddr && s.addr - p.vaddr < p.memsz);
    return offOk && vmaOk;
  }
  return true;
}

/** readelf's Flg column: letters by bit, R only for GNU/FreeBSD OSABIs (else 'o'), 'l'/'p' for processor bits. */
function sectionFlagLetters(flags: number, osabi: number, machine: number): string {
  let out = '';
  for (const [bit, letter] of C.SECTION_FLAG_LETTERS) {
    if (bit === 0x200000) continue;
    if (flags % (bit * 2) >= bit) out += letter;
  }
  const os = Math.floor(flags / 0x100000) % 0x100; // SHF_MASKOS 0x0ff00000
  if (os !== 0) out += (os & 0x2) !== 0 && (osabi === 3 || osabi === 9) ? 'R' : 'o';
  const proc = Math.floor(flags / 0x10000000) % 8; // SHF_MASKPROC bits other than SHF_EXCLUDE
  if (proc !== 0) out += machine === C.EM_X86_64 && proc === 1 ? 'l' : 'p';
  return out;
}

/** Machine-specific section flag letters readelf adds to its key. */
const KEY_EXTRA: Record<number, string> = { [C.EM_X86_64]: 'l (large), ', [C.EM_ARM]: 'y (purecode), ', [C.EM_PPC]: 'v (VLE), ' };

/** readelf -S; `first` when nothing precedes it (readelf then omits the leading blank line). */
export function sectionsText(elf: ElfFile, first: boolean, afterFileHeader: boolean): string {
  const h = elf.header;
  if (elf.sections.length === 0) return '\nThere are no sections in this file.';
  // After the file header readelf omits the count line (the header already gave it).
  const out = afterFileHeader
    ? ['', 'Section Headers:']
    : [...(first ? [] : ['']), `${h.shnum === 1 ? 'There is 1 section header' : `There are ${h.shnum} section headers`}, starting at offset 0x${hex(h.shoff)}:`, '', 'Section Headers:'];
  const aw = elf.is64 ? 16 : 8;
  out.push(`  [Nr] Name              Type            ${(elf.is64 ? 'Address' : 'Addr').padEnd(aw)} Off    Size   ES Flg Lk Inf Al`);
  for (const s of elf.sections) {
    const flags = sectionFlagLetters(s.flags, h.osabi, h.machine);
    out.push(`  [${String(s.index).padStart(2)}] ${s.name.padEnd(17)} ${shTypeText(s.type, h.machine).padEnd(15)} ${hexPad(s.addr, aw)} ${hexPad(s.offset, 6)} ${hexPad(s.size, 6)} ${hexPad(s.entsize, 2)} ${flags.padStart(3)} ${String(s.link).padStart(2)} ${String(s.info).padStart(3)} ${String(s.addralign).padStart(2)}`);
  }
  // binutils shows SHF_GNU_RETAIN's letter in the key only for GNU and FreeBSD OSABIs.
  const retain = h.osabi === 3 || h.osabi === 9 ? 'R (retain), ' : '';
  out.push('Key to Flags:', '  W (write), A (alloc), X (execute), M (merge), S (strings), I (info),', '  L (link order), O (extra OS processing required), G (group), T (TLS),', '  C (compressed), x (unknown), o (OS specific), E (exclude),', `  ${retain}D (mbind), ${KEY_EXTRA[h.machine] ?? ''}p (processor specific)`);
  return out.join('\n');
}

function dynValueText(elf: ElfFile, tag: number, value: number, needed: string[], i: { n: number }): string {
  const d = elf.dynamic!;
  switch (tag) {
    case C.DT.NEEDED: return `Shared library: [${needed[i.n++] ?? '?'}]`;
    case C.DT.SONAME: return `Library soname: [${d.soname ?? ''}]`;
    case C.DT.RPATH: return `Library rpath: [${d.rpath ?? ''}]`;
    case C.DT.RUNPATH: return `Library runpath: [${d.runpath ?? ''}]`;
    case C.DT.PLTREL: return value === C.DT.RELA ? 'RELA' : value === C.DT.REL ? 'REL' : String(value);
    case C.DT.FLAGS: return C.DF_NAMES.filter(([b]) => (value & b) !== 0).map(([, n]) => n).join(' ');
    case C.DT.FLAGS_1: return 'Flags: ' + C.DF_1_NAMES.filter(([b]) => (value & b) !== 0).map(([, n]) => n).join(' ');
    case C.DT.PLTRELSZ: case C.DT.RELASZ: case C.DT.RELAENT: case C.DT.STRSZ: case C.DT.SYMENT: case C.DT.RELSZ:
    case C.DT.RELENT: case C.DT.INIT_ARRAYSZ: case C.DT.FINI_ARRAYSZ: case C.DT.PREINIT_ARRAYSZ: case C.DT.RELRSZ: case C.DT.RELRENT:
      return `${value} (bytes)`;
    case C.DT.VERDEFNUM: case C.DT.VERNEEDNUM: case C.DT.RELACOUNT: case C.DT.RELCOUNT:
      return String(value);
    case C.DT.BIND_NOW:
      return ''; // readelf: "The value of this entry is ignored" (DT_SYMBOLIC's value is printed, 0x0)
    default: return `0x${hex(value)}`;
  }
}

export function dynamicText(elf: ElfFile): string {
  const d = elf.dynamic;
  if (d === null) return '\nThere is no dynamic section in this file.';
  const out = ['', `Dynamic section at offset 0x${hex(d.offset)} contains ${plural(d.entries.length, 'entry', 'entries')}:`, '  Tag        Type                         Name/Value'];
  const i = { n: 0 };
  const w = elf.is64 ? 16 : 8;
  for (const e of d.entries) {
    const tagHex = e.tag < 0 ? (BigInt(e.tag) + 2n ** BigInt(elf.header.bits)).toString(16) : hex(e.tag);
    out.push(` 0x${tagHex.padStart(w, '0')} ${`(${e.tagName})`.padEnd(20 + 16 - w)} ${dynValueText(elf, e.tag, e.value, d.needed, i)}`);
  }
  return out.join('\n');
}

/** Section type names that depend on the machine (SHT_LOPROC range), as readelf names them. */
function shTypeText(type: number, machine: number): string {
  if (type === 0x70000001 && machine === C.EM_X86_64) return 'X86_64_UNWIND';
  if (type === 0x70000001 && machine === C.EM_ARM) return 'ARM_EXIDX';
  if (type === 0x70000003 && machine === C.EM_ARM) return 'ARM_ATTRIBUTES';
  if (type === 0x70000003 && machine === C.EM_RISCV) return 'RISCV_ATTRIBUTES';
  if (type === 0x70000003 && machine === C.EM_AARCH64) return 'AARCH64_ATTRIBUTES';
  return elfShTypeName(type);
}

function ndx(shndx: number): string {
  if (shndx === C.SHN_UNDEF) return 'UND';
  if (shndx === C.SHN_ABS) return 'ABS';
  if (shndx === C.SHN_COMMON) return 'COM';
  return String(shndx);
}

export function symbolsText(elf: ElfFile, table: string, syms: ElfSymbol[]): string {
  const out = ['', `Symbol table '${table}' contains ${plural(syms.length, 'entry', 'entries')}:`];
  const w = elf.is64 ? 16 : 8;
  out.push(elf.is64 ? '   Num:    Value          Size Type    Bind   Vis      Ndx Name' : '   Num:    Value  Size Type    Bind   Vis      Ndx Name');
  for (const s of syms) {
    // readelf prints sizes of 100000 and more in hex.
    const size = s.size < 100000 ? String(s.size).padStart(5) : `0x${hex(s.size)}`;
    out.push(`${String(s.index).padStart(6)}: ${hexPad(s.value, w)} ${size} ${s.typeName.padEnd(7)} ${s.bindName.padEnd(6)} ${s.visibilityName.padEnd(7)} ${ndx(s.shndx).padStart(4)} ${s.type === 3 && s.name === '' ? (elf.sections[s.shndx]?.name ?? '') : symbolDisplayName(s)}`);
  }
  return out.join('\n');
}

export function relocsText(elf: ElfFile, tables: RelocationTable[], useDynamic: boolean): string {
  if (elf.sections.length === 0 && !useDynamic) {
    return '\nThere are no static relocations in this file.\nTo see the dynamic relocations add --use-dynamic to the command line.';
  }
  if (tables.length === 0) return '\nThere are no relocations in this file.';
  const out: string[] = [];
  const w = elf.is64 ? 16 : 8;
  for (const t of tables) {
    out.push('', `Relocation section '${t.name}' at offset 0x${hex(t.offset)} contains ${t.storedEntries} ${t.storedEntries === 1 ? 'entry' : 'entries'}:`);
    if (t.kind === 'relr') {
      out.push(`  ${t.relocations.length} offsets`);
      for (const r of t.relocations) out.push(hexPad(r.offset, w));
      continue;
    }
    out.push(elf.is64
      ? '    Offset             Info             Type               Symbol\'s Value  Symbol\'s Name' + (t.kind === 'rela' ? ' + Addend' : '')
      : ' Offset     Info    Type                Sym. Value  Symbol\'s Name' + (t.kind === 'rela' ? ' + Addend' : ''));
    for (const r of t.relocations) {
      const info = elf.is64 ? hexPad(r.symbolIndex, 8) + hexPad(r.type, 8) : hexPad(r.symbolIndex * 256 + r.type, 8);
      const addend = r.addend ?? 0;
      const symbol = t.symbolTable?.[r.symbolIndex];
      // A section symbol has no name of its own: readelf shows the section's.
      const name = symbol === undefined ? r.symbolName
        : symbol.type === 3 && symbol.name === '' ? (elf.sections[symbol.shndx]?.name ?? '') : symbolDisplayName(symbol, false);
      const typeCol = r.typeName.padEnd(22);
      // binutils dump_relocations: without a symbol, RELA prints the addend after a blank value column.
      const line = r.symbolIndex === 0
        ? (t.kind === 'rela' ? `${typeCol}${' '.repeat(elf.is64 ? 20 : 12)}${addend < 0 ? '-' : ''}${hex(Math.abs(addend))}` : typeCol)
        : `${typeCol} ${hexPad(r.symbolValue, w)}${elf.is64 ? ' ' : '   '}${name}${t.kind === 'rela' ? ` ${addend < 0 ? '-' : '+'} ${hex(Math.abs(addend))}` : ''}`;
      out.push(`${hexPad(r.offset, w)}  ${info} ${line}`);
    }
  }
  return out.join('\n');
}

/** readelf -n: notes grouped by SHT_NOTE section, or by PT_NOTE segment when there are no sections. */
export function notesText(elf: ElfFile): string {
  const notes = elf.notes();
  const out: string[] = [];
  const groups: { title: string; start: number; end: number }[] = elf.sections.length > 0
    ? elf.sections.filter((s) => s.type === C.SHT_NOTE).map((s) => ({ title: `Displaying notes found in: ${s.name}`, start: s.offset, end: s.offset + s.size }))
    : elf.programHeaders.filter((p) => p.type === C.PT_NOTE).map((p) => ({
        title: `Displaying notes found at file offset 0x${hexPad(p.offset, 8)} with length 0x${hexPad(p.filesz, 8)}:`, start: p.offset, end: p.offset + p.filesz,
      }));
  for (const g of groups) {
    out.push('', g.title, '  Owner                Data size \tDescription');
    for (const n of notes.filter((x) => x.offset >= g.start && x.offset < g.end)) {
      // binutils print_gnu_note indents property lists by six spaces, other descriptions by four.
      const indent = n.text.startsWith('Properties:') ? '      ' : '    ';
      out.push(`  ${n.owner.padEnd(20)} 0x${hexPad(n.descSize, 8)}\t${n.typeName}\t${indent}${n.text}`);
    }
  }
  return out.join('\n');
}

/** readelf's ngettext choices: "1 entry", "2 entries" (binutils readelf.c). */
function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

// ---- the rest of readelf -a: -g, -u, -I, -V (binutils 2.40 readelf.c) ------------------------

/** binutils get_group_flags. */
function groupFlagsText(flags: number): string {
  if (flags === 0) return '';
  if (flags === GRP_COMDAT) return 'COMDAT ';
  const os = Math.floor(flags / 0x100000) % 0x100 !== 0 ? '<OS specific>' : ''; // GRP_MASKOS
  const proc = Math.floor(flags / 0x10000000) !== 0 ? '<PROC specific>' : ''; // GRP_MASKPROC
  const unknown = (flags % 0x100000) - (flags % 2) !== 0 ? '<unknown>' : '';
  return `[0x${hex(flags)}: ${os}${proc}${unknown}]`;
}

/** readelf -g (process_section_groups). Errors for groups it skips go to `warn`, as readelf's go to stderr. */
export function sectionGroupsText(elf: ElfFile, warn: (s: string) => void = () => undefined): string {
  if (elf.sections.length === 0) return '\nThere are no section groups in this file.';
  const { groups, rejected } = elf.sectionGroups();
  for (const r of rejected) warn(`readelf: Error: ${r}`);
  if (groups.length === 0) return '\nThere are no section groups in this file.';
  const out: string[] = [];
  for (const g of groups) {
    const stored = Math.floor(g.section.size / g.section.entsize) - 1;
    out.push('', `${groupFlagsText(g.flags)}group section [${String(g.section.index).padStart(5)}] \`${g.section.name}' [${g.signature}] contains ${stored} sections:`, '   [Index]    Name');
    for (const m of g.members) out.push(`   [${String(m).padStart(5)}]   ${elf.sections[m]?.name ?? ''}`);
  }
  return out.join('\n');
}

/**
 * readelf -u (process_unwind): x86 has no processor-specific tables, most machines are not decoded
 * by readelf either; ARM's .ARM.exidx tables readelf decodes and this tool does not (null).
 */
export function unwindText(elf: ElfFile): string | null {
  const m = elf.header.machine;
  if (m === C.EM_386 || m === C.EM_X86_64) return 'No processor specific unwind information to decode';
  if (m === C.EM_ARM || m === 140 /* EM_TI_C6000 */) {
    return elf.sections.some((s) => s.type === 0x70000001) ? null : '\nThere are no unwind sections in this file.';
  }
  if (m === 50 /* EM_IA_64 */ || m === 15 /* EM_PARISC */) return null;
  return `\nThe decoding of unwind sections for machine type ${elf.machineDescription} is not currently supported.`;
}

/** C's printf("%5.1f"): round half to even on the exact binary value (JS toFixed rounds exact ties up). */
export function fixed1(x: number): string {
  const exact = x.toFixed(60);
  const dot = exact.indexOf('.');
  const tail = exact.slice(dot + 2);
  let s = x.toFixed(1);
  if (/^50*$/.test(tail)) {
    const down = exact.slice(0, dot + 2);
    const lastEven = Number(exact[dot + 1]) % 2 === 0;
    if (lastEven) s = down; // a tie goes to the even digit
  }
  return s.padStart(5);
}

function histogramLines(title: string, lengths: number[]): string[] {
  const n = lengths.length;
  let max = 0;
  let nsyms = 0;
  for (const l of lengths) {
    if (l > max) max = l;
    nsyms += l;
  }
  const counts = new Array<number>(max + 1).fill(0);
  for (const l of lengths) counts[l]!++;
  const out = ['', `${title} (total of ${n} ${n === 1 ? 'bucket' : 'buckets'}):`, ' Length  Number     % of total  Coverage'];
  out.push(`      0  ${String(counts[0]).padEnd(10)} (${fixed1((counts[0]! * 100) / n)}%)`);
  let covered = 0;
  for (let i = 1; i <= max; i++) {
    covered += counts[i]! * i;
    out.push(`${String(i).padStart(7)}  ${String(counts[i]).padEnd(10)} (${fixed1((counts[i]! * 100) / n)}%)    ${fixed1((covered * 100) / nsyms)}%`);
  }
  return out;
}

/** readelf -I: DT_HASH's bucket-length histogram, then DT_GNU_HASH's. */
export function histogramText(elf: ElfFile, warn: (s: string) => void = () => undefined): string {
  const { sysv, gnu } = elf.hashHistograms();
  const out: string[] = [];
  if (sysv !== null) {
    if (sysv.corrupt) warn('readelf: Error: histogram chain is corrupt');
    out.push(...histogramLines('Histogram for bucket list length', sysv.lengths));
  }
  if (gnu !== null) out.push(...histogramLines("Histogram for `.gnu.hash' bucket list length", gnu));
  return out.join('\n');
}

/** printf("%#06lx"): 0 is 000000 (no 0x for zero), others 0x-prefixed to six characters. */
function at6(n: number): string {
  return n === 0 ? '000000' : `0x${hex(n).padStart(4, '0')}`;
}

function sectionAddrLine(elf: ElfFile, s: { addr: number; offset: number; link: number }): string {
  return ` Addr: 0x${hexPad(s.addr, 16)}  Offset: 0x${hexPad(s.offset, 8)}  Link: ${s.link} (${elf.sections[s.link]?.name ?? '<corrupt>'})`;
}

function nameOr(n: DynamicName | undefined, named: (t: string) => string, indexed: (o: number) => string): string {
  if (n === undefined) return '';
  return 'text' in n ? named(n.text) : indexed(n.offset);
}

/** One version section as readelf -V prints it. */
function versionSectionText(elf: ElfFile, v: VersionSection): string[] {
  const s = v.section;
  if (v.kind === 'verdef') {
    const out = ['', `Version definition section '${s.name}' contains ${plural(s.info, 'entry', 'entries')}:`, sectionAddrLine(elf, s)];
    for (const d of v.entries) {
      out.push(`  ${at6(d.at)}: Rev: ${d.revision}  Flags: ${versionFlagsText(d.flags)}  Index: ${d.index}  Cnt: ${d.count}  ${nameOr(d.name, (t) => `Name: ${t}`, (o) => `Name index: ${o}`)}`);
      for (const [j, p] of d.parents.entries()) {
        out.push(nameOr(p.name, (t) => `  ${at6(p.at)}: Parent ${j + 1}: ${t}`, (o) => `  ${at6(p.at)}: Parent ${j + 1}, name index: ${o}`));
      }
      if (d.auxPastEnd) out.push('  Version def aux past end of section');
    }
    if (v.pastEnd) out.push('  Version definition past end of section');
    return out;
  }
  if (v.kind === 'verneed') {
    const out = ['', `Version needs section '${s.name}' contains ${plural(s.info, 'entry', 'entries')}:`, sectionAddrLine(elf, s)];
    for (const n of v.entries) {
      out.push(`  ${at6(n.at)}: Version: ${n.version}  ${nameOr(n.file, (t) => `File: ${t}`, (o) => `File: ${hex(o)}`)}  Cnt: ${n.count}`);
      for (const a of n.aux) {
        out.push(`  ${at6(a.at)}:   ${nameOr(a.name, (t) => `Name: ${t}`, (o) => `Name index: ${hex(o)}`)}  Flags: ${versionFlagsText(a.flags)}  Version: ${a.other}`);
      }
    }
    return out;
  }
  const out = ['', `Version symbols section '${s.name}' contains ${plural(v.entries.length, 'entry', 'entries')}:`];
  out.push(` Addr: 0x${hexPad(s.addr, 16)}  Offset: 0x${hexPad(s.offset, 8)}  Link: ${s.link} (${v.link.name})`);
  for (let i = 0; i < v.entries.length; i += 4) {
    let line = `  ${hexPad(i, 3)}:`;
    for (const e of v.entries.slice(i, i + 4)) {
      if (e.value === 0) line += '   0 (*local*)    ';
      else if (e.value === 1) line += '   1 (*global*)   ';
      else {
        // printf("%4x%c"), then "(name)" padded: readelf pads each cell to 18 columns.
        let cell = `${hex(e.value % 0x8000).padStart(4)}${e.value >= 0x8000 ? 'h' : ' '}`;
        if (e.name !== null) cell += `(${e.name}${')'.padEnd(Math.max(1, Math.abs(12 - e.name.length)))}`; // printf("(%s%-*s", name, 12 - strlen(name), ")")
        line += cell.padEnd(18);
      }
    }
    out.push(line);
  }
  return out;
}

/** readelf -V (process_version_sections). */
export function versionsText(elf: ElfFile): string {
  const sections = elf.versionSections();
  if (sections.length === 0) return '\nNo version information found in this file.';
  return sections.flatMap((v) => versionSectionText(elf, v)).join('\n');
}

/** binutils riscv_attr_tag names. */
const RISCV_TAGS: Record<number, string> = {
  4: 'Tag_RISCV_stack_align', 5: 'Tag_RISCV_arch', 6: 'Tag_RISCV_unaligned_access', 8: 'Tag_RISCV_priv_spec', 10: 'Tag_RISCV_priv_spec_minor', 12: 'Tag_RISCV_priv_spec_revision',
};

/** binutils display_tag_value: a string quoted, a number as "%ld (0x%lx)". */
function tagValueText(a: AttributeValue): string {
  return 'text' in a ? `"${a.text}"` : `${a.number} (0x${hex(a.number)})`;
}

/** binutils display_riscv_attribute. */
function riscvAttributeText(a: AttributeValue): string {
  const name = RISCV_TAGS[a.tag];
  if (name === undefined) return `  Tag_unknown_${a.tag}: ${tagValueText(a)}`;
  if ('text' in a) return `  ${name}: "${a.text}"`;
  if (a.tag === 4) return `  ${name}: ${a.number}-bytes`;
  if (a.tag === 6) return `  ${name}: ${a.number === 0 ? 'No unaligned access' : a.number === 1 ? 'Unaligned access' : ''}`;
  return `  ${name}: ${a.number}`;
}

/** readelf -A for RISC-V (process_attributes); '' when the file has no attribute section. */
export function attributesText(elf: ElfFile): string {
  const out: string[] = [];
  for (const sec of elf.attributeSections()) {
    if (sec.version !== 0x41) {
      out.push(`Unknown attribute version '${String.fromCharCode(sec.version)}'(${sec.version}) - expecting 'A'`);
      continue;
    }
    for (const v of sec.vendors) {
      out.push(`Attribute Section: ${v.vendor}`);
      for (const sub of v.subsections) {
        if (sub.tag === 1) out.push('File Attributes');
        else if (sub.tag === 2 || sub.tag === 3) out.push(`${sub.tag === 2 ? 'Section Attributes:' : 'Symbol Attributes:'}${sub.numbers.map((n) => ` ${n}`).join('')}`);
        else out.push(`Unknown tag: ${sub.tag}`);
        for (const a of sub.attributes) out.push(v.vendor === 'riscv' ? riscvAttributeText(a) : `  Tag_unknown_${a.tag}: ${tagValueText(a)}`);
      }
    }
  }
  return out.join('\n');
}
