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
