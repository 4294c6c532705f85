export type {
  ExecutableImage, ImageFormat, ImageKind, ImageSegment, ImageSymbol, ImageImport, ImageRelocation,
  ImageTls, RelocationKind, ImageSummary,
} from './image.js';
export { imageFromElf, relocationKind, summarize } from './from-elf.js';
export { sniff, loadImage, elfHandler, BINARY_HANDLERS } from './sniff.js';
export type { BinaryHandler } from './sniff.js';
