/**
 * The data directories a loader and a linker care about: imports (and the IAT), delay-load
 * imports, exports (with forwarders), base relocations, TLS, load config, and the debug directory
 * with CodeView PDB paths (Microsoft PE Format, ".idata", ".edata", ".reloc", ".tls", ".debug").
 */
import { FormatError, type ByteReader } from '@polykernel/core';
import { BASE_RELOC_TYPES } from './constants.js';

/** Maps RVAs to file offsets (-1 when not backed by the file). */
export type RvaMapper = (rva: number, size?: number) => number;

export interface ImportEntry {
  /** Imported by name (with the hint) or by ordinal. */
  name: string | null;
  hint: number | null;
  ordinal: number | null;
  /** RVA of this import's IAT slot (what the loader overwrites with the address). */
  iatRva: number;
  /** Delay-load imports: the value the IAT slot holds in the file (the VA of the loading thunk). */
  iatValue?: number;
}

export interface DelayImportInfo {
  attributes: number;
  moduleHandleRva: number;
  boundIatRva: number;
  unloadIatRva: number;
}

export interface ImportedDll {
  name: string;
  delayLoad: boolean;
  /** RVA of the import lookup table (OriginalFirstThunk / ImportNameTableRVA). */
  lookupTableRva: number;
  /** RVA of the import address table (FirstThunk / ImportAddressTableRVA). */
  iatRva: number;
  entries: ImportEntry[];
  /** The rest of the delay-load descriptor. */
  delay?: DelayImportInfo;
}

export interface ExportEntry {
  ordinal: number;
  /** null for exports by ordinal only. */
  name: string | null;
  rva: number;
  /** "OTHERDLL.Function" when the export forwards elsewhere. */
  forwarder: string | null;
}

export interface ExportDirectory {
  dllName: string;
  ordinalBase: number;
  timeDateStamp: number;
  entries: ExportEntry[];
}

export interface BaseRelocation {
  rva: number;
  type: number;
  typeName: string;
}

export interface BaseRelocationBlock {
  pageRva: number;
  size: number;
  entries: BaseRelocation[];
}

export interface TlsDirectory {
  startAddressOfRawData: number;
  endAddressOfRawData: number;
  addressOfIndex: number;
  addressOfCallBacks: number;
  sizeOfZeroFill: number;
  characteristics: number;
  /** Callback VAs read from the null-terminated array. */
  callbacks: number[];
}

export interface LoadConfig {
  size: number;
  timeDateStamp: number;
  securityCookie: number;
  guardFlags: number | null;
}

export interface DebugEntry {
  type: number;
  typeName: string;
  sizeOfData: number;
  addressOfRawData: number;
  pointerToRawData: number;
  /** CodeView RSDS records: PDB path, GUID and age. */
  pdbPath: string | null;
  guid: string | null;
  age: number | null;
}

const MAX_ENTRIES = 1 << 20;

function str(r: ByteReader, map: RvaMapper, rva: number, field: string): string {
  const off = map(rva);
  if (off < 0) throw new FormatError(field, 0, `${field}: RVA 0x${rva.toString(16)} is not in the file`);
  return r.cstring(off, Math.min(r.length, off + 4096), field);
}

/** Import descriptors (IMAGE_IMPORT_DESCRIPTOR, 20 bytes) until the all-zero one. */
export function readImports(r: ByteReader, map: RvaMapper, rva: number, pe32plus: boolean): ImportedDll[] {
  const out: ImportedDll[] = [];
  let o = map(rva, 20);
  if (o < 0) throw new FormatError('ImportTable', 0, `import table RVA 0x${rva.toString(16)} is not in the file`);
  for (let i = 0; i < 65536; i++, o += 20) {
    r.check(o, 20, 'IMAGE_IMPORT_DESCRIPTOR');
    const ilt = r.u32(o, 'OriginalFirstThunk');
    const nameRva = r.u32(o + 12, 'Name');
    const iat = r.u32(o + 16, 'FirstThunk');
    if (ilt === 0 && nameRva === 0 && iat === 0) break;
    out.push({ name: str(r, map, nameRva, 'Import.Name'), delayLoad: false, lookupTableRva: ilt, iatRva: iat, entries: readThunks(r, map, ilt === 0 ? iat : ilt, iat, pe32plus) });
  }
  return out;
}

/** Delay-load descriptors (IMAGE_DELAYLOAD_DESCRIPTOR, 32 bytes; RVAs when Attributes bit 0 is set). */
export function readDelayImports(r: ByteReader, map: RvaMapper, rva: number, pe32plus: boolean, imageBase: number): ImportedDll[] {
  const out: ImportedDll[] = [];
  let o = map(rva, 32);
  if (o < 0) throw new FormatError('DelayImportDescriptor', 0, `delay import table RVA 0x${rva.toString(16)} is not in the file`);
  for (let i = 0; i < 65536; i++, o += 32) {
    r.check(o, 32, 'IMAGE_DELAYLOAD_DESCRIPTOR');
    const attrs = r.u32(o, 'Attributes');
    const fix = (v: number): number => ((attrs & 1) !== 0 || v === 0 ? v : v - imageBase); // old VC6 format held VAs
    const nameRva = fix(r.u32(o + 4, 'DllNameRVA'));
    const iat = fix(r.u32(o + 12, 'ImportAddressTableRVA'));
    const int = fix(r.u32(o + 16, 'ImportNameTableRVA'));
    if (nameRva === 0 && iat === 0 && int === 0) break;
    const entries = readThunks(r, map, int, iat, pe32plus);
    const w = pe32plus ? 8 : 4;
    for (const e of entries) {
      const slot = map(e.iatRva, w);
      if (slot >= 0) e.iatValue = r.word(slot, pe32plus, 'delay IAT slot');
    }
    out.push({
      name: str(r, map, nameRva, 'DelayImport.Name'), delayLoad: true, lookupTableRva: int, iatRva: iat, entries,
      delay: { attributes: attrs, moduleHandleRva: fix(r.u32(o + 8, 'ModuleHandleRVA')), boundIatRva: fix(r.u32(o + 20, 'BoundImportAddressTableRVA')), unloadIatRva: fix(r.u32(o + 24, 'UnloadInformationTableRVA')) },
    });
  }
  return out;
}

function readThunks(r: ByteReader, map: RvaMapper, lookupRva: number, iatRva: number, pe32plus: boolean): ImportEntry[] {
  const w = pe32plus ? 8 : 4;
  const out: ImportEntry[] = [];
  let o = map(lookupRva, w);
  if (o < 0) throw new FormatError('ImportLookupTable', 0, `import lookup table RVA 0x${lookupRva.toString(16)} is not in the file`);
  for (let i = 0; i < MAX_ENTRIES; i++, o += w) {
    r.check(o, w, 'IMAGE_THUNK_DATA');
    // The ordinal flag is the top bit of the thunk: bit 63 (PE32+) or bit 31 (PE32).
    const lo = r.u32(o + (pe32plus && !r.littleEndian ? 4 : 0), 'IMAGE_THUNK_DATA');
    const hi = pe32plus ? r.u32(o + (r.littleEndian ? 4 : 0), 'IMAGE_THUNK_DATA') : 0;
    if (lo === 0 && hi === 0) break;
    const byOrdinal = pe32plus ? hi >= 0x80000000 : lo >= 0x80000000;
    const slot = iatRva + i * w;
    if (byOrdinal) {
      out.push({ name: null, hint: null, ordinal: lo % 0x10000, iatRva: slot });
    } else {
      const hn = map(lo % 0x80000000, 2);
      if (hn < 0) throw new FormatError('Hint/Name RVA', o, `hint/name RVA 0x${lo.toString(16)} is not in the file`);
      out.push({ name: r.cstring(hn + 2, Math.min(r.length, hn + 2 + 4096), 'Import.FunctionName'), hint: r.u16(hn, 'Hint'), ordinal: null, iatRva: slot });
    }
  }
  return out;
}

/** IMAGE_EXPORT_DIRECTORY and its three tables; a function RVA inside the directory is a forwarder string. */
export function readExports(r: ByteReader, map: RvaMapper, rva: number, size: number): ExportDirectory {
  const o = map(rva, 40);
  if (o < 0) throw new FormatError('ExportTable', 0, `export directory RVA 0x${rva.toString(16)} is not in the file`);
  const nameRva = r.u32(o + 12, 'Export.Name');
  const base = r.u32(o + 16, 'Export.Base');
  const nFunctions = r.u32(o + 20, 'NumberOfFunctions');
  const nNames = r.u32(o + 24, 'NumberOfNames');
  const fnRva = r.u32(o + 28, 'AddressOfFunctions');
  const namesRva = r.u32(o + 32, 'AddressOfNames');
  const ordsRva = r.u32(o + 36, 'AddressOfNameOrdinals');
  const fns = nFunctions === 0 ? 0 : map(fnRva, nFunctions * 4);
  const names = nNames === 0 ? 0 : map(namesRva, nNames * 4);
  const ords = nNames === 0 ? 0 : map(ordsRva, nNames * 2);
  if (fns < 0 || names < 0 || ords < 0) throw new FormatError('ExportTable', o, 'export address, name or ordinal table is not in the file');
  const nameOf = new Map<number, string>();
  for (let i = 0; i < nNames; i++) {
    const idx = r.u16(ords + i * 2, 'AddressOfNameOrdinals');
    nameOf.set(idx, str(r, map, r.u32(names + i * 4, 'AddressOfNames'), 'Export.FunctionName'));
  }
  const entries: ExportEntry[] = [];
  for (let i = 0; i < nFunctions; i++) {
    const frva = r.u32(fns + i * 4, 'AddressOfFunctions');
    if (frva === 0) continue; // unused ordinal slot
    const forwarder = frva >= rva && frva < rva + size ? str(r, map, frva, 'Export.Forwarder') : null;
    entries.push({ ordinal: base + i, name: nameOf.get(i) ?? null, rva: frva, forwarder });
  }
  return { dllName: nameRva === 0 ? '' : str(r, map, nameRva, 'Export.DllName'), ordinalBase: base, timeDateStamp: r.u32(o + 4, 'Export.TimeDateStamp'), entries };
}

/** .reloc: blocks of (PageRVA, BlockSize) followed by 16-bit entries: type in the top 4 bits, offset in the low 12. */
export function readBaseRelocations(r: ByteReader, map: RvaMapper, rva: number, size: number): BaseRelocationBlock[] {
  const start = map(rva, size);
  if (start < 0) throw new FormatError('BaseRelocationTable', 0, `base relocation table RVA 0x${rva.toString(16)} is not in the file`);
  const out: BaseRelocationBlock[] = [];
  let o = start;
  while (o + 8 <= start + size) {
    const page = r.u32(o, 'PageRVA');
    const blockSize = r.u32(o + 4, 'BlockSize');
    if (blockSize < 8 || o + blockSize > start + size) throw new FormatError('BlockSize', o + 4, `base relocation block size ${blockSize} is invalid`);
    const entries: BaseRelocation[] = [];
    for (let e = o + 8; e + 2 <= o + blockSize; e += 2) {
      const v = r.u16(e, 'TypeOffset');
      const type = Math.floor(v / 4096);
      entries.push({ rva: page + (v % 4096), type, typeName: BASE_RELOC_TYPES[type] ?? `UNKNOWN(${type})` });
    }
    out.push({ pageRva: page, size: blockSize, entries });
    o += blockSize;
  }
  return out;
}

export function readTls(r: ByteReader, map: RvaMapper, rva: number, pe32plus: boolean, imageBase: number): TlsDirectory {
  const w = pe32plus ? 8 : 4;
  const o = map(rva, 4 * w + 8);
  if (o < 0) throw new FormatError('TLSTable', 0, `TLS directory RVA 0x${rva.toString(16)} is not in the file`);
  const word = (off: number, f: string): number => r.word(o + off, pe32plus, f);
  const tls: TlsDirectory = {
    startAddressOfRawData: word(0, 'StartAddressOfRawData'), endAddressOfRawData: word(w, 'EndAddressOfRawData'),
    addressOfIndex: word(2 * w, 'AddressOfIndex'), addressOfCallBacks: word(3 * w, 'AddressOfCallBacks'),
    sizeOfZeroFill: r.u32(o + 4 * w, 'SizeOfZeroFill'), characteristics: r.u32(o + 4 * w + 4, 'TLS.Characteristics'), callbacks: [],
  };
  if (tls.addressOfCallBacks !== 0) {
    let c = map(tls.addressOfCallBacks - imageBase, w);
    for (let i = 0; c >= 0 && i < 1024; i++, c += w) {
      const va = r.word(c, pe32plus, 'TLS callback');
      if (va === 0) break;
      tls.callbacks.push(va);
    }
  }
  return tls;
}

export function readLoadConfig(r: ByteReader, map: RvaMapper, rva: number, pe32plus: boolean): LoadConfig {
  const o = map(rva, 8);
  if (o < 0) throw new FormatError('LoadConfigTable', 0, `load config RVA 0x${rva.toString(16)} is not in the file`);
  const size = r.u32(o, 'LoadConfig.Size');
  const cookieOff = pe32plus ? 0x58 : 0x3c;
  const guardOff = pe32plus ? 0x90 : 0x58;
  return {
    size,
    timeDateStamp: r.u32(o + 4, 'LoadConfig.TimeDateStamp'),
    securityCookie: size >= cookieOff + (pe32plus ? 8 : 4) && r.inside(o + cookieOff, pe32plus ? 8 : 4) ? r.word(o + cookieOff, pe32plus, 'SecurityCookie') : 0,
    guardFlags: size >= guardOff + 4 && r.inside(o + guardOff, 4) ? r.u32(o + guardOff, 'GuardFlags') : null,
  };
}

const DEBUG_TYPES: Record<number, string> = {
  0: 'Unknown', 1: 'COFF', 2: 'CodeView', 3: 'FPO', 4: 'Misc', 5: 'Exception', 6: 'Fixup', 9: 'Borland', 11: 'CLSID',
  12: 'VC feature', 13: 'POGO', 14: 'ILTCG', 16: 'Repro', 20: 'ExtendedDLLCharacteristics',
};

export function readDebug(r: ByteReader, map: RvaMapper, rva: number, size: number): DebugEntry[] {
  const o = map(rva, size);
  if (o < 0) throw new FormatError('Debug', 0, `debug directory RVA 0x${rva.toString(16)} is not in the file`);
  const out: DebugEntry[] = [];
  for (let i = 0; i < Math.floor(size / 28) && i < 1024; i++) {
    const e = o + i * 28;
    const type = r.u32(e + 12, 'Debug.Type');
    const sizeOfData = r.u32(e + 16, 'SizeOfData');
    const ptr = r.u32(e + 24, 'PointerToRawData');
    const entry: DebugEntry = { type, typeName: DEBUG_TYPES[type] ?? `Unknown (${type})`, sizeOfData, addressOfRawData: r.u32(e + 20, 'AddressOfRawData'), pointerToRawData: ptr, pdbPath: null, guid: null, age: null };
    if (type === 2 && sizeOfData >= 24 && r.inside(ptr, sizeOfData) && r.u32(ptr, 'CV signature') === 0x53445352) {
      const g = r.bytes.subarray(ptr + 4, ptr + 20);
      const hex = (a: number, b: number, rev: boolean): string => {
        const part = Array.from(g.subarray(a, b), (x) => x.toString(16).padStart(2, '0'));
        return (rev ? part.reverse() : part).join('');
      };
      entry.guid = `${hex(0, 4, true)}-${hex(4, 6, true)}-${hex(6, 8, true)}-${hex(8, 10, false)}-${hex(10, 16, false)}`.toUpperCase();
      entry.age = r.u32(ptr + 20, 'CV age');
      entry.pdbPath = r.cstring(ptr + 24, ptr + sizeOfData, 'PDB path');
    }
    out.push(entry);
  }
  return out;
}
