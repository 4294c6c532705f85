/**
 * Pick the parser from a file's first bytes, like Linux's search_binary_handler walking the binfmt
 * list (fs/exec.c): each handler recognises its own magic; if none does, exec fails with ENOEXEC.
 * ELF today; PE, Mach-O (thin and fat) and `#!` scripts join the list with their parsers.
 */
import { KernelError, type ErrnoOs } from '@polykernel/core';
import { isElf, parseElf } from '@polykernel/elf';
import { isMachO } from '@polykernel/macho';
import { isCoffObject, isPe } from '@polykernel/pe';
import { imageFromElf } from './from-elf.js';
import { loadMachO } from './from-macho.js';
import { loadPe } from './from-pe.js';
import { isScript, loadScript } from './script.js';
import type { ExecutableImage, ImageFormat } from './image.js';

export interface BinaryHandler {
  format: ImageFormat;
  /** True when the first bytes are this format's (cheap; no parsing). */
  recognise(bytes: Uint8Array): boolean;
  /** Parse into the image model (FormatError on malformed input). */
  load(bytes: Uint8Array): ExecutableImage;
}

export const elfHandler: BinaryHandler = {
  format: 'elf',
  recognise: isElf,
  load: (bytes) => imageFromElf(parseElf(bytes)),
};

export const peHandler: BinaryHandler = { format: 'pe', recognise: (b) => isPe(b) || isCoffObject(b), load: loadPe };

export const scriptHandler: BinaryHandler = { format: 'script', recognise: isScript, load: loadScript };

export const machoHandler: BinaryHandler = { format: 'macho', recognise: isMachO, load: (b) => loadMachO(b) };

/** The handler list in the order it is tried. */
export const BINARY_HANDLERS: readonly BinaryHandler[] = [elfHandler, peHandler, machoHandler, scriptHandler];

/** The format of `bytes`, or null when no handler recognises them. */
export function sniff(bytes: Uint8Array, handlers: readonly BinaryHandler[] = BINARY_HANDLERS): ImageFormat | null {
  return handlers.find((h) => h.recognise(bytes))?.format ?? null;
}

/**
 * Parse a program file into the image model. Unknown formats are KernelError(ENOEXEC) in `os`'s
 * numbering; a recognised but malformed file is the parser's FormatError.
 */
export function loadImage(bytes: Uint8Array, os: ErrnoOs = 'linux', handlers: readonly BinaryHandler[] = BINARY_HANDLERS): ExecutableImage {
  const h = handlers.find((x) => x.recognise(bytes));
  if (h === undefined) throw new KernelError(os, 'ENOEXEC', 'exec format error: no handler recognises this file');
  return h.load(bytes);
}


