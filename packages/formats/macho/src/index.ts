export { MachOFile, FatFile, parseMachO, isMachO, isFat, versionString } from './macho.js';
export type { MachHeader, MachSegment, MachSection, Dylib, LoadCommand, LinkeditData, MachSymbol, FatArch } from './macho.js';
export * as machoConstants from './constants.js';
