export { MachOFile, FatFile, parseMachO, isMachO, isFat, versionString } from './macho.js';
export type { MachHeader, MachSegment, MachSection, Dylib, LoadCommand, LinkeditData, MachSymbol, FatArch } from './macho.js';
export * as machoConstants from './constants.js';
export type { Rebase, Bind, ExportSymbol } from './dyld.js';
export { decodeRebases, decodeBinds, decodeExportTrie } from './dyld.js';
export { decodeChainedFixups } from './chained.js';
export type { ChainedFixups, ChainedFixup, ChainedImport, ChainedSegmentStarts } from './chained.js';
