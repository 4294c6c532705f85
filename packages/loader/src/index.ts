export type {
  ExecutableImage, ImageFormat, ImageKind, ImageSegment, ImageSymbol, ImageImport, ImageRelocation,
  ImageTls, RelocationKind, ImageSummary,
} from './image.js';
export { imageFromElf, relocationKind, summarize } from './from-elf.js';
export { sniff, loadImage, elfHandler, peHandler, machoHandler, scriptHandler, BINARY_HANDLERS } from './sniff.js';
export { imageFromMachO, loadMachO, summarizeMachO, summarizeFat } from './from-macho.js';
export type { FatSummary } from './from-macho.js';
export { imageFromPe, loadPe } from './from-pe.js';
export { parseShebang, isScript, BINPRM_BUF_SIZE } from './script.js';
export type { ScriptHeader } from './script.js';
export type { BinaryHandler } from './sniff.js';
export { parseLdCache, cacheLookup, CACHE_FLAGS_X86_64 } from './rtld/ldcache.js';
export type { LdCache, CacheEntry } from './rtld/ldcache.js';
export { GLIBC_2_36_X86_64, FREEBSD_14_X86_64 } from './rtld/conventions.js';
export type { RtldConventions } from './rtld/conventions.js';
export { RtldError } from './rtld/system.js';
export type { RtldSystem, SyscallOutcome, RtldArg } from './rtld/system.js';
export { runRtld, sortMaps } from './rtld/rtld.js';
export type { RtldInput, RtldResult } from './rtld/rtld.js';
export type { LinkMap, RtldStats, SearchDir } from './rtld/session.js';
export type { Allocation } from './rtld/minimal-malloc.js';
export { expandDst } from './rtld/search.js';
export { parseElfHints, buildElfHints, freebsdCandidates, ELFHINTS_MAGIC } from './rtld/hints.js';
export type { ElfHints, FreeBsdSearchInput } from './rtld/hints.js';
