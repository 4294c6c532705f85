/**
 * FreeBSD's /var/run/ld-elf.so.hints (libexec/rtld-elf/rtld.c gethints, sys/sys/elf_hints.h):
 * a 128-byte header (magic "Ehnt", version 1, the string table's offset and size, the directory
 * list's offset in it and its length) and the colon-separated directories ldconfig was given.
 * ld-elf.so.1 searches them after LD_LIBRARY_PATH and DT_RUNPATH, before /lib/casper:/lib:/usr/lib.
 */
import { ByteReader, FormatError } from '@polykernel/core';

export const ELFHINTS_MAGIC = 0x746e6845;
const HEADER = 128;

export interface ElfHints {
  /** Whether the file was written big-endian (ldconfig -B, for another machine). */
  bigEndian: boolean;
  dirs: string[];
}

/** Parse a hints file; malformed → FormatError naming the field and offset. */
export function parseElfHints(bytes: Uint8Array): ElfHints {
  if (bytes.length < HEADER) throw new FormatError('elfhints_hdr', 0, `a hints file is at least ${HEADER} bytes, this one ${bytes.length}`);
  let r = new ByteReader(bytes, true);
  let bigEndian = false;
  if (r.u32(0, 'magic') !== ELFHINTS_MAGIC) {
    r = new ByteReader(bytes, false);
    if (r.u32(0, 'magic') !== ELFHINTS_MAGIC) throw new FormatError('magic', 0, `magic 0x${new ByteReader(bytes, true).u32(0, 'magic').toString(16)} is not "Ehnt" (0x${ELFHINTS_MAGIC.toString(16)})`);
    bigEndian = true;
  }
  const version = r.u32(4, 'version');
  if (version !== 1) throw new FormatError('version', 4, `hints version ${version} is not 1`);
  const strtab = r.u32(8, 'strtab');
  const strsize = r.u32(12, 'strsize');
  const dirlist = r.u32(16, 'dirlist');
  const dirlistlen = r.u32(20, 'dirlistlen');
  r.check(strtab, strsize, 'strtab');
  if (dirlist + dirlistlen > strsize) throw new FormatError('dirlistlen', 20, `the directory list (0x${dirlist.toString(16)}+0x${dirlistlen.toString(16)}) runs past the string table (0x${strsize.toString(16)} bytes)`);
  const text = new TextDecoder().decode(bytes.subarray(strtab + dirlist, strtab + dirlist + dirlistlen));
  return { bigEndian, dirs: text === '' ? [] : text.split(':') };
}

/** A hints file for `dirs` (little-endian), as ldconfig -elf writes it. */
export function buildElfHints(dirs: readonly string[]): Uint8Array {
  const list = new TextEncoder().encode(dirs.join(':'));
  const b = new Uint8Array(HEADER + list.length + 1);
  const v = new DataView(b.buffer);
  v.setUint32(0, ELFHINTS_MAGIC, true);
  v.setUint32(4, 1, true);
  v.setUint32(8, HEADER, true);
  v.setUint32(12, list.length + 1, true);
  v.setUint32(16, 0, true);
  v.setUint32(20, list.length, true);
  b.set(list, HEADER);
  return b;
}

export interface FreeBsdSearchInput {
  name: string;
  /** DT_RPATH of the requesting object and of the program (used only when the requester has no DT_RUNPATH). */
  rpath: string[];
  mainRpath: string[];
  runpath: string[] | null;
  ldLibraryPath: string[];
  hints: string[];
  standard: string[];
  /** -z nodefaultlib: neither the hints nor the standard directories. */
  nodeflib: boolean;
}

/** rtld.c find_library: the paths ld-elf.so.1 tries for a DT_NEEDED name, in order. */
export function freebsdCandidates(i: FreeBsdSearchInput): string[] {
  if (i.name.includes('/')) return [i.name];
  const dirs: string[] = [];
  if (i.runpath === null) dirs.push(...i.rpath, ...i.mainRpath);
  dirs.push(...i.ldLibraryPath, ...(i.runpath ?? []));
  if (!i.nodeflib) dirs.push(...i.hints, ...i.standard);
  return dirs.map((d) => `${d.replace(/\/+$/, '')}/${i.name}`);
}
