/**
 * Mach-O files (Apple's <mach-o/loader.h>): thin 32- and 64-bit images in either byte order, and
 * fat/universal files (<mach-o/fat.h>, FAT_MAGIC and FAT_MAGIC_64) holding one thin image per
 * architecture. The header and load commands are parsed eagerly; unknown commands are kept by
 * number. Every read is bounds-checked; malformed input throws FormatError naming field and offset.
 */
import { ByteReader, FormatError } from '@polykernel/core';
import {
  CPU_SHORT, CPU_TYPE_NAMES, FAT_MAGIC, FAT_MAGIC_64, LC, LC_NAMES, MH_CIGAM, MH_CIGAM_64, MH_FILETYPES, MH_KIND, MH_MAGIC,
  MH_MAGIC_64, PLATFORMS,
} from './constants.js';
import { decodeChainedFixups, type ChainedFixups } from './chained.js';
import { decodeBinds, decodeExportTrie, decodeRebases, type Bind, type ExportSymbol, type Rebase } from './dyld.js';

export interface MachHeader {
  magic: number;
  is64: boolean;
  littleEndian: boolean;
  cputype: number;
  cpusubtype: number;
  filetype: number;
  ncmds: number;
  sizeofcmds: number;
  flags: number;
}

export interface MachSection {
  sectname: string;
  segname: string;
  addr: number;
  size: number;
  offset: number;
  align: number;
  reloff: number;
  nreloc: number;
  flags: number;
  reserved1: number;
  reserved2: number;
}

export interface MachSegment {
  segname: string;
  vmaddr: number;
  vmsize: number;
  fileoff: number;
  filesize: number;
  maxprot: number;
  initprot: number;
  flags: number;
  sections: MachSection[];
}

export interface Dylib {
  kind: 'load' | 'weak' | 'reexport' | 'lazy' | 'upward' | 'id';
  name: string;
  timestamp: number;
  currentVersion: string;
  compatibilityVersion: string;
}

export interface LoadCommand {
  index: number;
  cmd: number;
  /** LC_* name, or `0x<hex>` for a command this reader does not know (kept by number). */
  name: string;
  cmdsize: number;
  /** File offset (within the thin image) of the command. */
  offset: number;
}

/** A linkedit blob located by a load command (LC_CODE_SIGNATURE, LC_FUNCTION_STARTS, ...). */
export interface LinkeditData {
  cmd: string;
  dataoff: number;
  datasize: number;
}

export interface MachSymbol {
  name: string;
  type: number;
  sect: number;
  desc: number;
  value: number;
}

const decoder = new TextDecoder();

const DYLIB_KINDS = new Map<number, Dylib['kind']>([
  [LC.LOAD_DYLIB, 'load'], [LC.LOAD_WEAK_DYLIB, 'weak'], [LC.REEXPORT_DYLIB, 'reexport'], [LC.LAZY_LOAD_DYLIB, 'lazy'], [LC.LOAD_UPWARD_DYLIB, 'upward'], [LC.ID_DYLIB, 'id'],
]);
const VERSION_MIN_PLATFORMS = new Map<number, string>([
  [LC.VERSION_MIN_MACOSX, 'macos'], [LC.VERSION_MIN_IPHONEOS, 'ios'], [LC.VERSION_MIN_TVOS, 'tvos'], [LC.VERSION_MIN_WATCHOS, 'watchos'],
]);
const LC_NAME_MAP = new Map<number, string>(Object.entries(LC_NAMES).map(([k, v]) => [Number(k), v]));

/** X.Y.Z from a packed 32-bit version (xxxx.yy.zz). */
export function versionString(v: number): string {
  return `${Math.floor(v / 65536)}.${Math.floor(v / 256) % 256}.${v % 256}`;
}

export class MachOFile {
  readonly header: MachHeader;
  readonly commands: LoadCommand[] = [];
  readonly segments: MachSegment[] = [];
  readonly dylibs: Dylib[] = [];
  readonly rpaths: string[] = [];
  readonly linkedit: LinkeditData[] = [];
  dylinker: string | null = null;
  uuid: string | null = null;
  /** LC_MAIN entryoff (file offset of main) or LC_UNIXTHREAD's program counter. */
  entryoff: number | null = null;
  unixThreadPc: number | null = null;
  stackSize: number | null = null;
  buildVersion: { platform: string; minos: string; sdk: string } | null = null;
  sourceVersion: string | null = null;
  symtab: { symoff: number; nsyms: number; stroff: number; strsize: number } | null = null;
  dyldInfo: { rebaseOff: number; rebaseSize: number; bindOff: number; bindSize: number; weakBindOff: number; weakBindSize: number; lazyBindOff: number; lazyBindSize: number; exportOff: number; exportSize: number } | null = null;
  private readonly r: ByteReader;

  constructor(readonly bytes: Uint8Array) {
    if (bytes.length < 4) throw new FormatError('magic', 0, 'file too short for a Mach-O header');
    const le = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
    const littleEndian = le === MH_MAGIC || le === MH_MAGIC_64;
    const is64 = le === MH_MAGIC_64 || le === MH_CIGAM_64;
    if (!littleEndian && le !== MH_CIGAM && le !== MH_CIGAM_64) throw new FormatError('magic', 0, `not a thin Mach-O file (magic 0x${le.toString(16)})`);
    const r = new ByteReader(bytes, littleEndian);
    this.r = r;
    r.check(0, is64 ? 32 : 28, 'mach_header');
    this.header = {
      magic: r.u32(0, 'magic'), is64, littleEndian,
      cputype: r.i32(4, 'cputype'), cpusubtype: r.i32(8, 'cpusubtype'), filetype: r.u32(12, 'filetype'),
      ncmds: r.u32(16, 'ncmds'), sizeofcmds: r.u32(20, 'sizeofcmds'), flags: r.u32(24, 'flags'),
    };
    this.readCommands();
  }

  get machine(): string {
    return CPU_SHORT[this.header.cputype] ?? `cpu${this.header.cputype}`;
  }

  get cpuName(): string {
    return CPU_TYPE_NAMES[this.header.cputype] ?? String(this.header.cputype);
  }

  get fileTypeName(): string {
    return MH_FILETYPES[this.header.filetype] ?? String(this.header.filetype);
  }

  get kind(): string {
    return MH_KIND[this.header.filetype] ?? 'unknown';
  }

  /** The __TEXT segment's vmaddr: the preferred load address. */
  get imageBase(): number | null {
    return this.segments.find((s) => s.segname === '__TEXT')?.vmaddr ?? null;
  }

  /** Absolute entry: __TEXT vmaddr + LC_MAIN entryoff, or LC_UNIXTHREAD's pc; null without either. */
  get entry(): number | null {
    if (this.entryoff !== null) return (this.imageBase ?? 0) + this.entryoff;
    return this.unixThreadPc;
  }

  private readCommands(): void {
    const r = this.r;
    const h = this.header;
    let o = h.is64 ? 32 : 28;
    const end = o + h.sizeofcmds;
    r.check(o, h.sizeofcmds, 'sizeofcmds');
    for (let i = 0; i < h.ncmds; i++) {
      if (o + 8 > end) throw new FormatError('ncmds', 16, `load command ${i} starts past sizeofcmds`);
      const cmd = r.u32(o, 'cmd');
      const cmdsize = r.u32(o + 4, 'cmdsize');
      if (cmdsize < 8 || o + cmdsize > end || cmdsize % 4 !== 0) throw new FormatError('cmdsize', o + 4, `load command ${i} has bad cmdsize ${cmdsize}`);
      this.commands.push({ index: i, cmd, name: LC_NAME_MAP.get(cmd) ?? `0x${cmd.toString(16)}`, cmdsize, offset: o });
      this.readCommand(cmd, o, cmdsize);
      o += cmdsize;
    }
  }

  private str(o: number, cmdOff: number, cmdsize: number, field: string): string {
    const off = this.r.u32(o, field);
    if (off >= cmdsize) throw new FormatError(field, o, `${field} offset ${off} outside its load command (${cmdsize} bytes)`);
    return this.fixed(cmdOff + off, cmdsize - off);
  }

  /** A fixed-size, NUL-padded name field (segname, sectname): ASCII fast path, UTF-8 otherwise. */
  private fixed(o: number, n: number): string {
    const b = this.r.bytes;
    this.r.check(o, n, 'name');
    let s = '';
    for (let i = o; i < o + n; i++) {
      const c = b[i]!;
      if (c === 0) break;
      if (c >= 0x80) {
        let e = o;
        while (e < o + n && b[e] !== 0) e++;
        return decoder.decode(b.subarray(o, e));
      }
      s += String.fromCharCode(c);
    }
    return s;
  }

  private readCommand(cmd: number, o: number, size: number): void {
    const r = this.r;
    switch (cmd) {
      case LC.SEGMENT:
      case LC.SEGMENT_64: {
        const is64 = cmd === LC.SEGMENT_64;
        const w = is64 ? 8 : 4;
        const word = (off: number, f: string): number => r.word(o + off, is64, f);
        const nsects = r.u32(o + 24 + 4 * w + 8, 'nsects');
        const secSize = is64 ? 80 : 68;
        const first = o + (is64 ? 72 : 56);
        if (first + nsects * secSize > o + size) throw new FormatError('nsects', o + 24 + 4 * w + 8, `${nsects} sections do not fit the segment command`);
        const seg: MachSegment = {
          segname: this.fixed(o + 8, 16), vmaddr: word(24, 'vmaddr'), vmsize: word(24 + w, 'vmsize'), fileoff: word(24 + 2 * w, 'fileoff'),
          filesize: word(24 + 3 * w, 'filesize'), maxprot: r.i32(o + 24 + 4 * w, 'maxprot'), initprot: r.i32(o + 28 + 4 * w, 'initprot'),
          flags: r.u32(o + 36 + 4 * w, 'segment flags'), sections: [],
        };
        for (let k = 0; k < nsects; k++) {
          const s = first + k * secSize;
          const b = s + 32 + 2 * w;
          seg.sections.push({
            sectname: this.fixed(s, 16), segname: this.fixed(s + 16, 16), addr: r.word(s + 32, is64, 'addr'), size: r.word(s + 32 + w, is64, 'size'),
            offset: r.u32(b, 'offset'), align: r.u32(b + 4, 'align'), reloff: r.u32(b + 8, 'reloff'), nreloc: r.u32(b + 12, 'nreloc'),
            flags: r.u32(b + 16, 'section flags'), reserved1: r.u32(b + 20, 'reserved1'), reserved2: r.u32(b + 24, 'reserved2'),
          });
        }
        this.segments.push(seg);
        break;
      }
      case LC.LOAD_DYLIB: case LC.LOAD_WEAK_DYLIB: case LC.REEXPORT_DYLIB: case LC.LAZY_LOAD_DYLIB: case LC.LOAD_UPWARD_DYLIB: case LC.ID_DYLIB: {
        this.dylibs.push({
          kind: DYLIB_KINDS.get(cmd) ?? 'load', name: this.str(o + 8, o, size, 'dylib.name'), timestamp: r.u32(o + 12, 'dylib.timestamp'),
          currentVersion: versionString(r.u32(o + 16, 'current_version')), compatibilityVersion: versionString(r.u32(o + 20, 'compatibility_version')),
        });
        break;
      }
      case LC.LOAD_DYLINKER:
        this.dylinker = this.str(o + 8, o, size, 'dylinker.name');
        break;
      case LC.RPATH:
        this.rpaths.push(this.str(o + 8, o, size, 'rpath.path'));
        break;
      case LC.UUID: {
        const b = Array.from(r.bytes.subarray(o + 8, o + 24), (x) => x.toString(16).padStart(2, '0').toUpperCase()).join('');
        r.check(o + 8, 16, 'uuid');
        this.uuid = `${b.slice(0, 8)}-${b.slice(8, 12)}-${b.slice(12, 16)}-${b.slice(16, 20)}-${b.slice(20)}`;
        break;
      }
      case LC.MAIN:
        this.entryoff = r.u64(o + 8, 'entryoff');
        this.stackSize = r.u64(o + 16, 'stacksize');
        break;
      case LC.UNIXTHREAD:
        this.unixThreadPc = this.threadPc(o, size);
        break;
      case LC.BUILD_VERSION:
        this.buildVersion = { platform: PLATFORMS[r.u32(o + 8, 'platform')] ?? String(r.u32(o + 8, 'platform')), minos: versionString(r.u32(o + 12, 'minos')), sdk: versionString(r.u32(o + 16, 'sdk')) };
        break;
      case LC.VERSION_MIN_MACOSX: case LC.VERSION_MIN_IPHONEOS: case LC.VERSION_MIN_TVOS: case LC.VERSION_MIN_WATCHOS: {
        const platform = VERSION_MIN_PLATFORMS.get(cmd) ?? '';
        this.buildVersion = { platform, minos: versionString(r.u32(o + 8, 'version')), sdk: versionString(r.u32(o + 12, 'sdk')) };
        break;
      }
      case LC.SOURCE_VERSION: {
        // A.B.C.D.E packed 24.10.10.10.10 bits in a 64-bit value.
        const v = r.u64big(o + 8, 'source version');
        const parts = [v >> 40n, (v >> 30n) & 0x3ffn, (v >> 20n) & 0x3ffn, (v >> 10n) & 0x3ffn, v & 0x3ffn];
        this.sourceVersion = parts.map(String).join('.');
        break;
      }
      case LC.SYMTAB:
        this.symtab = { symoff: r.u32(o + 8, 'symoff'), nsyms: r.u32(o + 12, 'nsyms'), stroff: r.u32(o + 16, 'stroff'), strsize: r.u32(o + 20, 'strsize') };
        break;
      case LC.DYLD_INFO: case LC.DYLD_INFO_ONLY:
        this.dyldInfo = {
          rebaseOff: r.u32(o + 8, 'rebase_off'), rebaseSize: r.u32(o + 12, 'rebase_size'), bindOff: r.u32(o + 16, 'bind_off'), bindSize: r.u32(o + 20, 'bind_size'),
          weakBindOff: r.u32(o + 24, 'weak_bind_off'), weakBindSize: r.u32(o + 28, 'weak_bind_size'), lazyBindOff: r.u32(o + 32, 'lazy_bind_off'),
          lazyBindSize: r.u32(o + 36, 'lazy_bind_size'), exportOff: r.u32(o + 40, 'export_off'), exportSize: r.u32(o + 44, 'export_size'),
        };
        break;
      case LC.CODE_SIGNATURE: case LC.FUNCTION_STARTS: case LC.DATA_IN_CODE: case LC.DYLD_EXPORTS_TRIE: case LC.DYLD_CHAINED_FIXUPS: case LC.SEGMENT_SPLIT_INFO:
        this.linkedit.push({ cmd: LC_NAME_MAP.get(cmd) ?? String(cmd), dataoff: r.u32(o + 8, 'dataoff'), datasize: r.u32(o + 12, 'datasize') });
        break;
      default:
        break; // kept by number in `commands`
    }
  }

  /** The program counter in an LC_UNIXTHREAD state (x86_THREAD_STATE64 rip, ARM_THREAD_STATE64 pc, i386 eip). */
  private threadPc(o: number, size: number): number | null {
    const r = this.r;
    const flavor = r.u32(o + 8, 'flavor');
    const state = o + 16;
    const at = (off: number, is64: boolean): number | null => (state + off + (is64 ? 8 : 4) <= o + size ? r.word(state + off, is64, 'thread pc') : null);
    if (this.header.cputype === 0x01000007 && flavor === 4) return at(16 * 8, true);
    if (this.header.cputype === 0x0100000c && flavor === 6) return at(32 * 8, true);
    if (this.header.cputype === 7 && flavor === 1) return at(10 * 4, false);
    if (this.header.cputype === 12 && flavor === 1) return at(15 * 4, false);
    return null;
  }

  /** Rebase fixups from LC_DYLD_INFO (empty without it). */
  rebases(): Rebase[] {
    const d = this.dyldInfo;
    return d === null || d.rebaseSize === 0 ? [] : decodeRebases(this.r, d.rebaseOff, d.rebaseSize, this.segments, this.header.is64 ? 8 : 4);
  }

  /** Binds, weak binds and lazy binds from LC_DYLD_INFO, in that order. */
  binds(): Bind[] {
    const d = this.dyldInfo;
    if (d === null) return [];
    const p = this.header.is64 ? 8 : 4;
    return [
      ...(d.bindSize > 0 ? decodeBinds(this.r, d.bindOff, d.bindSize, this.segments, p, 'bind') : []),
      ...(d.weakBindSize > 0 ? decodeBinds(this.r, d.weakBindOff, d.weakBindSize, this.segments, p, 'weak') : []),
      ...(d.lazyBindSize > 0 ? decodeBinds(this.r, d.lazyBindOff, d.lazyBindSize, this.segments, p, 'lazy') : []),
    ];
  }

  /** Exported symbols from the export trie (LC_DYLD_INFO's or LC_DYLD_EXPORTS_TRIE). */
  exports(): ExportSymbol[] {
    const d = this.dyldInfo;
    if (d !== null && d.exportSize > 0) return decodeExportTrie(this.r, d.exportOff, d.exportSize);
    const t = this.linkedit.find((l) => l.cmd === 'LC_DYLD_EXPORTS_TRIE');
    return t === undefined || t.datasize === 0 ? [] : decodeExportTrie(this.r, t.dataoff, t.datasize);
  }

  /** LC_DYLD_CHAINED_FIXUPS decoded (imports, chain starts, every fixup), or null without it. */
  chainedFixups(): ChainedFixups | null {
    const l = this.linkedit.find((x) => x.cmd === 'LC_DYLD_CHAINED_FIXUPS');
    return l === undefined || l.datasize === 0 ? null : decodeChainedFixups(this.r, l.dataoff, l.datasize, this.segments, this.imageBase ?? 0);
  }

  /** The nlist symbol table (names from the string table). */
  symbols(): MachSymbol[] {
    const st = this.symtab;
    if (st === null) return [];
    const r = this.r;
    const ent = this.header.is64 ? 16 : 12;
    r.check(st.symoff, st.nsyms * ent, 'symoff');
    r.check(st.stroff, st.strsize, 'stroff');
    const out: MachSymbol[] = [];
    for (let i = 0; i < st.nsyms; i++) {
      const o = st.symoff + i * ent;
      const strx = r.u32(o, 'n_strx');
      const name = strx === 0 || strx >= st.strsize ? '' : r.cstring(st.stroff + strx, st.stroff + st.strsize, 'n_strx');
      out.push({ name, type: r.u8(o + 4, 'n_type'), sect: r.u8(o + 5, 'n_sect'), desc: r.u16(o + 6, 'n_desc'), value: r.word(o + 8, this.header.is64, 'n_value') });
    }
    return out;
  }
}

export interface FatArch {
  cputype: number;
  cpusubtype: number;
  offset: number;
  size: number;
  align: number;
  machine: string;
  image: MachOFile;
}

/** A fat/universal file: one thin Mach-O per architecture. */
export class FatFile {
  readonly arches: FatArch[] = [];

  constructor(readonly bytes: Uint8Array) {
    const r = new ByteReader(bytes, false); // fat headers are always big-endian
    const magic = r.u32(0, 'fat_header.magic');
    const is64 = magic === FAT_MAGIC_64;
    const n = r.u32(4, 'nfat_arch');
    const ent = is64 ? 32 : 20;
    r.check(8, n * ent, 'fat_arch table');
    for (let i = 0; i < n; i++) {
      const o = 8 + i * ent;
      const offset = is64 ? r.u64(o + 8, 'fat_arch.offset') : r.u32(o + 8, 'fat_arch.offset');
      const size = is64 ? r.u64(o + 16, 'fat_arch.size') : r.u32(o + 12, 'fat_arch.size');
      r.check(offset, size, 'fat_arch slice');
      const cputype = r.i32(o, 'fat_arch.cputype');
      this.arches.push({
        cputype, cpusubtype: r.i32(o + 4, 'fat_arch.cpusubtype'), offset, size, align: r.u32(o + (is64 ? 24 : 16), 'fat_arch.align'),
        machine: CPU_SHORT[cputype] ?? `cpu${cputype}`, image: new MachOFile(bytes.subarray(offset, offset + size)),
      });
    }
  }
}

/**
 * FAT_MAGIC is also the magic of Java class files; like file(1) and the kernel, tell them apart by
 * the count: a fat file has a handful of architectures, a class file has its version (>= 45) there.
 */
export function isFat(bytes: Uint8Array): boolean {
  if (bytes.length < 8) return false;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = v.getUint32(0, false);
  return (magic === FAT_MAGIC || magic === FAT_MAGIC_64) && v.getUint32(4, false) > 0 && v.getUint32(4, false) < 45;
}

export function isMachO(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const le = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  return le === MH_MAGIC || le === MH_MAGIC_64 || le === MH_CIGAM || le === MH_CIGAM_64 || isFat(bytes);
}

/** Parse a thin or fat Mach-O file (throws FormatError). */
export function parseMachO(bytes: Uint8Array): MachOFile | FatFile {
  return isFat(bytes) ? new FatFile(bytes) : new MachOFile(bytes);
}
