export { PeFile, parsePe, isPe, isCoffObject } from './pe.js';
export type { CoffSymbol, CoffRelocation } from './pe.js';
export type { CoffHeader, OptionalHeader, SectionHeader, DataDirectory } from './headers.js';
export { sectionProt } from './headers.js';
export type {
  ImportedDll, ImportEntry, DelayImportInfo, ExportDirectory, ExportEntry, BaseRelocationBlock, BaseRelocation, TlsDirectory, LoadConfig, DebugEntry,
} from './directories.js';
export * as peConstants from './constants.js';
