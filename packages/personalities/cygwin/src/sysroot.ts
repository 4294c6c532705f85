/**
 * The Cygwin sysroot the personality boots with: /usr/bin/cygwin1.dll at Cygwin's fixed base
 * 0x180040000, two DLLs at rebase-database addresses in the 0x200000000–0x400000000 arena
 * (memory_layout.h: REBASED_DLL_STORAGE_LOW/HIGH), and programs at 0x100400000 linking them.
 * `rebaseall` packs every DLL but cygwin1.dll downwards from REBASED_DLL_STORAGE_HIGH, as
 * rebaseall(1) does with `rebase -s`, rewriting each ImageBase.
 */
import { parsePe } from '@polykernel/pe';
import { writeImage } from './image.js';

export const CYGWIN1_BASE = 0x1_8004_0000;
export const EXE_BASE = 0x1_0040_0000;
/** local_includes/memory_layout.h */
export const REBASED_DLL_STORAGE_HIGH = 0x4_0000_0000;
export const CYGHEAP_STORAGE_LOW = 0x8_0000_0000;
export const USERHEAP_START = 0xa_0000_0000;
export const MMAP_STORAGE_LOW = 0x10_0000_0000;

/** What cygwin1.dll exports here: the calls this personality implements. */
export const CYGWIN1_EXPORTS = ['_exit', 'close', 'dlclose', 'dlopen', 'dup', 'dup2', 'execve', 'fcntl', 'fork', 'getpid', 'getppid', 'kill', 'mmap', 'mprotect', 'munmap', 'open', 'read', 'sbrk', 'spawnve', 'waitpid', 'write'];

export interface ProgramSpec {
  dataSize?: number;
  bssSize?: number;
  dlls?: readonly string[];
}

/** A Cygwin program linking cygwin1.dll (and `dlls`). */
export function cygwinProgram(spec: ProgramSpec = {}): Uint8Array {
  const imports = [{ dll: 'cygwin1.dll', names: ['fork', 'getpid', 'waitpid', '_exit', 'mmap'] }, ...(spec.dlls ?? []).map((d) => ({ dll: d, names: ['init'] }))];
  return writeImage('', { dll: false, imageBase: EXE_BASE, imports, dataSize: spec.dataSize ?? 0x4000, bssSize: spec.bssSize ?? 0x8000, fixedBase: true });
}

/** A Cygwin DLL at `base` exporting `init`. */
export function cygwinDll(name: string, base: number, dataSize = 0x2000, bssSize = 0x1000): Uint8Array {
  return writeImage(name, { dll: true, imageBase: base, exports: ['init'], imports: [{ dll: 'cygwin1.dll', names: ['getpid'] }], dataSize, bssSize });
}

/** The default sysroot: cygwin1.dll, cyggcc_s-seh-1.dll, cygreadline7.dll, bash.exe and true.exe. */
export function cygwinSysroot(): Record<string, Uint8Array> {
  return {
    '/usr/bin/cygwin1.dll': writeImage('cygwin1.dll', { dll: true, imageBase: CYGWIN1_BASE, exports: CYGWIN1_EXPORTS, dataSize: 0x6000, bssSize: 0x12000 }),
    '/usr/bin/cyggcc_s-seh-1.dll': cygwinDll('cyggcc_s-seh-1.dll', 0x3_fff7_0000),
    '/usr/bin/cygreadline7.dll': cygwinDll('cygreadline7.dll', 0x3_ff88_0000, 0x3000, 0x2000),
    // Linked by nothing: what a program dlopen()s.
    '/usr/bin/cygz.dll': cygwinDll('cygz.dll', 0x3_ff4e_0000, 0x2000, 0x1000),
    '/usr/bin/bash.exe': cygwinProgram({ dataSize: 0x10000, bssSize: 0x10000, dlls: ['cyggcc_s-seh-1.dll', 'cygreadline7.dll'] }),
    '/usr/bin/true.exe': cygwinProgram({ dataSize: 0x1000, bssSize: 0x1000 }),
  };
}

/** The ImageBase field's file offset of a PE32+ image. */
function imageBaseOffset(bytes: Uint8Array): number {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return v.getUint32(0x3c, true) + 4 + 20 + 24;
}

/**
 * rebaseall: every DLL but cygwin1.dll gets a new base, packed downwards from
 * REBASED_DLL_STORAGE_HIGH in name order, each 64 KiB aligned; returns the new files and the bases.
 */
export function rebaseall(files: Readonly<Record<string, Uint8Array>>): { files: Record<string, Uint8Array>; bases: Record<string, number> } {
  const out: Record<string, Uint8Array> = { ...files };
  const bases: Record<string, number> = {};
  let next = REBASED_DLL_STORAGE_HIGH;
  for (const path of Object.keys(files).filter((p) => p.toLowerCase().endsWith('.dll') && !p.endsWith('/cygwin1.dll')).sort()) {
    const bytes = Uint8Array.from(files[path]!);
    const size = Math.ceil(parsePe(bytes).optional!.sizeOfImage / 0x10000) * 0x10000;
    next -= size;
    new DataView(bytes.buffer).setBigUint64(imageBaseOffset(bytes), BigInt(next), true);
    out[path] = bytes;
    bases[path] = next;
  }
  return { files: out, bases };
}
