export { MmStruct } from './mm.js';
export type { MmOptions } from './mm.js';
export { VmArea } from './vma.js';
export type { VmFile } from './vma.js';
export { procMaps, mapsLine } from './maps.js';
export * as linuxFlags from './flags.js';
export { VmCommit } from './commit.js';
export type { CommitOptions, OvercommitMode } from './commit.js';
