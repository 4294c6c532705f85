/**
 * `#!` scripts, parsed exactly as Linux's binfmt_script does (fs/binfmt_script.c, 5.1+): the first
 * BINPRM_BUF_SIZE (256) bytes, NUL-padded; the line ends at the first newline, or — without one —
 * at the end of the buffer provided a space, tab or NUL follows the interpreter (else the path may
 * be truncated: ENOEXEC). Trailing spaces/tabs are trimmed (but not "\r": a CRLF script asks for
 * "/bin/sh\r", as on Linux). The interpreter runs to the first space, tab or NUL; everything after
 * the following blanks, up to the line end, is ONE optional argument.
 */
import { KernelError, type ErrnoOs } from '@polykernel/core';
import type { ExecutableImage } from './image.js';

export const BINPRM_BUF_SIZE = 256;

export interface ScriptHeader {
  interpreter: string;
  argument: string | null;
}

const spacetab = (c: number | undefined): boolean => c === 0x20 || c === 0x09;
const terminator = (c: number | undefined): boolean => c === 0x20 || c === 0x09 || c === 0;

export function isScript(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x23 && bytes[1] === 0x21;
}

export function parseShebang(bytes: Uint8Array, os: ErrnoOs = 'linux'): ScriptHeader {
  const buf = new Uint8Array(BINPRM_BUF_SIZE);
  buf.set(bytes.subarray(0, BINPRM_BUF_SIZE));
  const bufEnd = BINPRM_BUF_SIZE - 1;
  const nonSpace = (from: number, to: number): number => {
    for (let i = from; i < to; i++) if (!spacetab(buf[i])) return i;
    return -1;
  };
  const nextTerm = (from: number, to: number): number => {
    for (let i = from; i < to; i++) if (terminator(buf[i])) return i;
    return -1;
  };
  let iEnd = buf.indexOf(0x0a);
  if (iEnd < 0 || iEnd >= BINPRM_BUF_SIZE) {
    const first = nonSpace(2, bufEnd);
    if (first < 0) throw new KernelError(os, 'ENOEXEC', 'the #! line is all blanks');
    if (nextTerm(first, bufEnd) < 0) throw new KernelError(os, 'ENOEXEC', 'interpreter path truncated by the 256-byte buffer');
    iEnd = bufEnd;
  }
  while (iEnd > 2 && spacetab(buf[iEnd - 1])) iEnd--;
  const name = nonSpace(2, iEnd);
  if (name < 0 || name === iEnd) throw new KernelError(os, 'ENOEXEC', 'no interpreter after #!');
  const sep = nextTerm(name, iEnd);
  const nameEnd = sep < 0 ? iEnd : sep;
  let arg: string | null = null;
  if (sep >= 0 && buf[sep] !== 0) {
    const a = nonSpace(sep, iEnd);
    if (a >= 0) {
      // The argument stops at a NUL, as the kernel's C string does.
      let e = a;
      while (e < iEnd && buf[e] !== 0) e++;
      arg = new TextDecoder().decode(buf.subarray(a, e));
    }
  }
  return { interpreter: new TextDecoder().decode(buf.subarray(name, nameEnd)), argument: arg };
}
export function loadScript(bytes: Uint8Array): ExecutableImage {
  const h = parseShebang(bytes);
  return {
    format: 'script', bits: 64, endian: 'little', machine: 'any', kind: 'script', osabi: 'any', entry: null, imageBase: null,
    segments: [], interpreter: h.interpreter, needed: h.argument === null ? [] : [h.argument], soname: null, runpath: [],
    exports: [], imports: [], relocations: [], tls: null, executableStack: false,
  };
}
