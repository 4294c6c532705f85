/**
 * The executable image model: what a loader or a personality needs to know about a program file,
 * whatever its format. Addresses are numbers; protections are core `Prot` values.
 */
import type { Prot } from '@polykernel/core';

export type ImageFormat = 'elf' | 'pe' | 'macho' | 'script';
export type ImageKind = 'exec' | 'pie' | 'dyn' | 'rel' | 'core' | 'exe' | 'dll' | 'object' | 'dylib' | 'bundle' | 'dylinker' | 'dsym' | 'kext' | 'fileset' | 'script' | 'unknown';

export interface ImageSegment {
  /** ELF: the first section the segment holds (or LOADn); PE: section name; Mach-O: segment name. */
  name: string;
  vaddr: number;
  memsz: number;
  offset: number;
  filesz: number;
  prot: Prot;
  align: number;
}

export interface ImageSymbol {
  name: string;
  value: number;
  size: number;
  kind: 'func' | 'object' | 'tls' | 'ifunc' | 'other';
  binding: 'global' | 'weak' | 'local' | 'unique';
  version?: string;
}

export interface ImageImport {
  name: string;
  /** The library expected to provide it, when the format says (PE always, ELF through versions). */
  library: string | null;
  version?: string;
  weak: boolean;
}

/** Relocation kinds every format's relocations map onto. */
export type RelocationKind = 'relative' | 'absolute' | 'glob-dat' | 'jump-slot' | 'copy' | 'irelative' | 'tls' | 'other';

export interface ImageRelocation {
  offset: number;
  kind: RelocationKind;
  /** The format's own name for the type (R_X86_64_RELATIVE, IMAGE_REL_BASED_DIR64, ...). */
  typeName: string;
  symbol: string | null;
  addend: number;
}

export interface ImageTls {
  vaddr: number;
  filesz: number;
  memsz: number;
  align: number;
}

export interface ExecutableImage {
  format: ImageFormat;
  bits: 32 | 64;
  endian: 'little' | 'big';
  machine: string;
  kind: ImageKind;
  osabi: string;
  entry: number | null;
  imageBase: number | null;
  segments: ImageSegment[];
  interpreter: string | null;
  needed: string[];
  soname: string | null;
  runpath: string[];
  exports: ImageSymbol[];
  imports: ImageImport[];
  relocations: ImageRelocation[];
  tls: ImageTls | null;
  /** Whether the program asks for an executable stack (ELF PT_GNU_STACK). */
  executableStack: boolean;
}

/** The stable JSON view `polykernel inspect --json` prints: exactly these keys, in this order. */
export interface ImageSummary {
  format: ImageFormat;
  bits: 32 | 64;
  endian: 'little' | 'big';
  machine: string;
  kind: ImageKind;
  entry: number | null;
  imageBase: number | null;
  interpreter: string | null;
  needed: string[];
  segments: { name: string; vaddr: number; memsz: number; offset: number; filesz: number; prot: string }[];
  osabi: string;
}
