/**
 * PeFile: a PE image (EXE/DLL, PE32 or PE32+) or a COFF object file. Headers and the section
 * table are read eagerly; directories on first use. Every read is bounds-checked; malformed input
 * throws FormatError naming the field and file offset.
 */
import { ByteReader, FormatError } from '@polykernel/core';
import {
  DIR_BASERELOC, DIR_DEBUG, DIR_DELAY_IMPORT, DIR_EXPORT, DIR_IMPORT, DIR_LOAD_CONFIG, DIR_TLS, IMAGE_FILE_DLL,
  IMAGE_FILE_MACHINE, MACHINE_SHORT,
} from './constants.js';
import {
  readBaseRelocations, readDebug, readDelayImports, readExports, readImports, readLoadConfig, readTls,
  type BaseRelocationBlock, type DebugEntry, type ExportDirectory, type ImportedDll, type LoadConfig, type TlsDirectory,
} from './directories.js';
import { readCoffHeader, readOptionalHeader, readSections, type CoffHeader, type OptionalHeader, type SectionHeader } from './headers.js';

export interface CoffSymbol {
  index: number;
  name: string;
  value: number;
  sectionNumber: number;
  type: number;
  storageClass: number;
  auxCount: number;
}

export interface CoffRelocation {
  virtualAddress: number;
  symbolIndex: number;
  type: number;
}

const peDecoder = new TextDecoder();
const OBJECT_MACHINES = new Set([0x14c, 0x8664, 0xaa64, 0x1c0, 0x1c4, 0x200, 0x5064, 0xa641]);

export class PeFile {
  /** File offset of the "PE\0\0" signature (null for a COFF object). */
  readonly peOffset: number | null;
  readonly coff: CoffHeader;
  readonly optional: OptionalHeader | null;
  readonly sections: SectionHeader[];
  private readonly r: ByteReader;
  private cache = new Map<string, unknown>();

  constructor(readonly bytes: Uint8Array) {
    this.r = new ByteReader(bytes, true);
    const r = this.r;
    if (bytes.length >= 2 && bytes[0] === 0x4d && bytes[1] === 0x5a) {
      const lfanew = r.u32(0x3c, 'e_lfanew');
      if (r.u32(lfanew, 'PE signature') !== 0x00004550) throw new FormatError('PE signature', lfanew, 'MZ file without a "PE\\0\\0" signature at e_lfanew (a DOS program?)');
      this.peOffset = lfanew;
      this.coff = readCoffHeader(r, lfanew + 4);
      this.optional = this.coff.sizeOfOptionalHeader === 0 ? null : readOptionalHeader(r, lfanew + 24, this.coff.sizeOfOptionalHeader);
      this.sections = readSections(r, this.coff, lfanew + 24 + this.coff.sizeOfOptionalHeader, true);
    } else {
      this.peOffset = null;
      this.coff = readCoffHeader(r, 0);
      if (!OBJECT_MACHINES.has(this.coff.machine) || this.coff.sizeOfOptionalHeader !== 0) {
        throw new FormatError('Machine', 0, 'neither an MZ/PE image nor a COFF object of a known machine');
      }
      this.optional = null;
      this.sections = readSections(r, this.coff, 20, false);
    }
  }

  get isObject(): boolean {
    return this.peOffset === null;
  }

  get kind(): 'exe' | 'dll' | 'object' {
    if (this.isObject) return 'object';
    return (this.coff.characteristics & IMAGE_FILE_DLL) !== 0 ? 'dll' : 'exe';
  }

  get bits(): 32 | 64 {
    if (this.optional !== null) return this.optional.pe32plus ? 64 : 32;
    return this.coff.machine === 0x8664 || this.coff.machine === 0xaa64 || this.coff.machine === 0x5064 ? 64 : 32;
  }

  get machine(): string {
    return MACHINE_SHORT[this.coff.machine] ?? `pe-machine-0x${this.coff.machine.toString(16)}`;
  }

  get machineName(): string {
    return IMAGE_FILE_MACHINE[this.coff.machine] ?? `IMAGE_FILE_MACHINE_UNKNOWN (0x${this.coff.machine.toString(16)})`;
  }

  get imageBase(): number {
    return this.optional?.imageBase ?? 0;
  }

  /** Absolute entry point (ImageBase + AddressOfEntryPoint), or null (a DLL without one, an object). */
  get entry(): number | null {
    const o = this.optional;
    if (o === null || o.addressOfEntryPoint === 0) return null;
    return o.imageBase + o.addressOfEntryPoint;
  }

  /**
   * File offset of `rva` if `size` bytes from it are in the file, else -1. Headers map 1:1 below
   * SizeOfHeaders; section data maps through PointerToRawData up to SizeOfRawData.
   */
  rvaToOffset(rva: number, size = 1): number {
    const o = this.optional;
    if (o !== null && rva + size <= o.sizeOfHeaders) return rva + size <= this.bytes.length ? rva : -1;
    for (const s of this.sections) {
      if (rva >= s.virtualAddress && rva + size <= s.virtualAddress + Math.max(s.virtualSize, s.sizeOfRawData)) {
        const off = s.pointerToRawData + (rva - s.virtualAddress);
        return rva - s.virtualAddress + size <= s.sizeOfRawData && off + size <= this.bytes.length ? off : -1;
      }
    }
    return -1;
  }

  private dir(index: number): { rva: number; size: number } | null {
    const d = this.optional?.dataDirectories[index];
    return d === undefined || d.rva === 0 || d.size === 0 ? null : d;
  }

  private cached<T>(key: string, f: () => T): T {
    if (!this.cache.has(key)) this.cache.set(key, f());
    return this.cache.get(key) as T;
  }

  private readonly map = (rva: number, size?: number): number => this.rvaToOffset(rva, size);

  imports(): ImportedDll[] {
    return this.cached('imports', () => {
      const d = this.dir(DIR_IMPORT);
      return d === null ? [] : readImports(this.r, this.map, d.rva, this.bits === 64);
    });
  }

  delayImports(): ImportedDll[] {
    return this.cached('delay', () => {
      const d = this.dir(DIR_DELAY_IMPORT);
      return d === null ? [] : readDelayImports(this.r, this.map, d.rva, this.bits === 64, this.imageBase);
    });
  }

  exports(): ExportDirectory | null {
    return this.cached('exports', () => {
      const d = this.dir(DIR_EXPORT);
      return d === null ? null : readExports(this.r, this.map, d.rva, d.size);
    });
  }

  baseRelocations(): BaseRelocationBlock[] {
    return this.cached('reloc', () => {
      const d = this.dir(DIR_BASERELOC);
      return d === null ? [] : readBaseRelocations(this.r, this.map, d.rva, d.size);
    });
  }

  tls(): TlsDirectory | null {
    return this.cached('tls', () => {
      const d = this.dir(DIR_TLS);
      return d === null ? null : readTls(this.r, this.map, d.rva, this.bits === 64, this.imageBase);
    });
  }

  loadConfig(): LoadConfig | null {
    return this.cached('loadconfig', () => {
      const d = this.dir(DIR_LOAD_CONFIG);
      return d === null ? null : readLoadConfig(this.r, this.map, d.rva, this.bits === 64);
    });
  }

  debug(): DebugEntry[] {
    return this.cached('debug', () => {
      const d = this.dir(DIR_DEBUG);
      return d === null ? [] : readDebug(this.r, this.map, d.rva, d.size);
    });
  }

  /** The COFF symbol table (objects; images usually have none), with long names from the string table. */
  symbols(): CoffSymbol[] {
    return this.cached('symbols', () => {
      const c = this.coff;
      if (c.pointerToSymbolTable === 0 || c.numberOfSymbols === 0) return [];
      const r = this.r;
      r.check(c.pointerToSymbolTable, c.numberOfSymbols * 18, 'symbol table');
      const strtab = c.pointerToSymbolTable + c.numberOfSymbols * 18;
      const strsize = r.inside(strtab, 4) ? r.u32(strtab, 'string table size') : 0;
      const out: CoffSymbol[] = [];
      for (let i = 0; i < c.numberOfSymbols; i++) {
        const o = c.pointerToSymbolTable + i * 18;
        let name: string;
        if (r.u32(o, 'Symbol.Name') === 0) {
          const off = r.u32(o + 4, 'Symbol.Name offset');
          if (off < 4 || off >= strsize) throw new FormatError('Symbol.Name', o, `symbol name offset ${off} outside the string table`);
          name = r.cstring(strtab + off, strtab + strsize, 'Symbol.Name');
        } else {
          let e = o;
          while (e < o + 8 && r.bytes[e] !== 0) e++;
          name = peDecoder.decode(r.bytes.subarray(o, e));
        }
        const aux = r.u8(o + 17, 'NumberOfAuxSymbols');
        out.push({ index: i, name, value: r.u32(o + 8, 'Symbol.Value'), sectionNumber: r.view.getInt16(o + 12, true), type: r.u16(o + 14, 'Symbol.Type'), storageClass: r.u8(o + 16, 'StorageClass'), auxCount: aux });
        i += aux;
      }
      return out;
    });
  }

  /** Relocations of one section of an object file (IMAGE_RELOCATION, 10 bytes each). */
  sectionRelocations(section: SectionHeader): CoffRelocation[] {
    const r = this.r;
    const n = section.numberOfRelocations;
    if (n === 0) return [];
    r.check(section.pointerToRelocations, n * 10, 'PointerToRelocations');
    const out: CoffRelocation[] = [];
    for (let i = 0; i < n; i++) {
      const o = section.pointerToRelocations + i * 10;
      out.push({ virtualAddress: r.u32(o, 'Relocation.VirtualAddress'), symbolIndex: r.u32(o + 4, 'SymbolTableIndex'), type: r.u16(o + 8, 'Relocation.Type') });
    }
    return out;
  }
}

/** Parse a PE image or COFF object (throws FormatError). */
export function parsePe(bytes: Uint8Array): PeFile {
  return new PeFile(bytes);
}

/** True when the bytes start like a PE image ("MZ" with a PE signature at e_lfanew). */
export function isPe(bytes: Uint8Array): boolean {
  if (bytes.length < 0x40 || bytes[0] !== 0x4d || bytes[1] !== 0x5a) return false;
  const lfanew = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0x3c, true);
  return lfanew + 4 <= bytes.length && bytes[lfanew] === 0x50 && bytes[lfanew + 1] === 0x45 && bytes[lfanew + 2] === 0 && bytes[lfanew + 3] === 0;
}

/**
 * True when the bytes look like a COFF object: a known machine, no optional header, and a section
 * table that fits the file (objects have no magic number, so the check is structural).
 */
export function isCoffObject(bytes: Uint8Array): boolean {
  if (bytes.length < 20) return false;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const machine = v.getUint16(0, true);
  const nsec = v.getUint16(2, true);
  return OBJECT_MACHINES.has(machine) && v.getUint16(16, true) === 0 && nsec > 0 && nsec <= 96 && 20 + nsec * 40 <= bytes.length;
}
