/**
 * Opening and mapping one shared object as glibc 2.36 does it: open_verify (elf/dl-load.c: the
 * 832-byte header read, the identification checks, a pread of the program headers when they lie
 * beyond it) and _dl_map_object_from_fd with _dl_map_segments (elf/dl-map-segments.h): fstat for
 * the same-file check, one mmap of the whole span with the first segment's protection, the hole
 * made PROT_NONE, the other segments MAP_FIXED over it, the bss zeroed and extended anonymously.
 */
import { FormatError } from '@polykernel/core';
import { parseElf, type ElfFile } from '@polykernel/elf';
import type { Session } from './session.js';
import {
  AT_EMPTY_PATH, AT_FDCWD, MAP_ANONYMOUS, MAP_DENYWRITE, MAP_FIXED, MAP_PRIVATE, O_CLOEXEC, O_RDONLY, PAGE, pageDown, pageUp, PROT_EXEC,
  PROT_NONE, PROT_READ, PROT_WRITE, RtldError,
} from './system.js';

const EM_X86_64 = 62;
const PT_LOAD = 1;
const ET_DYN = 3;
const PHENT = 56;
const STAT_SIZE = 144;

/** The outcome of open_verify: an open descriptor with the header, or why the file was skipped. */
export type Verified = { fd: number; path: string } | { skip: 'missing' | 'other-class' | 'other-machine'; errno: string };

function sysOk(s: Session, name: string, args: readonly (number | string)[], what: string): number {
  const r = s.sys.syscall(name, args);
  if (r.error !== null) throw new RtldError(`${what}: ${r.error}`);
  return r.value;
}

function loadBytes(s: Session, va: number, len: number): Uint8Array {
  const b = s.sys.load(va, len);
  if (b === null) throw new RtldError(`segmentation fault reading 0x${va.toString(16)}`, 139);
  return b;
}

/**
 * open_verify: open, read the first 832 bytes into ld.so's stack buffer, check the identification;
 * another class or machine is skipped (the search goes on), anything else not ELF is fatal.
 */
export function openVerify(s: Session, path: string, name: string): Verified {
  const o = s.sys.syscall('openat', [AT_FDCWD, path, O_RDONLY | O_CLOEXEC]);
  if (o.error !== null) return { skip: 'missing', errno: o.error };
  const fd = o.value;
  const n = s.sys.syscall('read', [fd, s.scratch, s.conv.headerRead]).value;
  const head = loadBytes(s, s.scratch, Math.max(0, n));
  const fail = (why: string): never => {
    s.sys.syscall('close', [fd]);
    throw new RtldError(`${s.argv0}: error while loading shared libraries: ${name}: ${why}`);
  };
  if (n < 64) fail('file too short');
  if (head[0] !== 0x7f || head[1] !== 0x45 || head[2] !== 0x4c || head[3] !== 0x46) fail('invalid ELF header');
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  if (head[4] !== 2) {
    s.sys.syscall('close', [fd]);
    return { skip: 'other-class', errno: 'ENOENT' };
  }
  if (head[5] !== 1 || head[6] !== 1) fail('ELF file data encoding not little-endian');
  const machine = dv.getUint16(18, true);
  if (machine !== EM_X86_64) {
    s.sys.syscall('close', [fd]);
    return { skip: 'other-machine', errno: 'ENOENT' };
  }
  const type = dv.getUint16(16, true);
  if (type !== ET_DYN && type !== 2) fail('only ET_DYN and ET_EXEC can be loaded');
  if (dv.getUint16(54, true) !== PHENT) fail('ELF file\'s phentsize not the expected size');
  const phoff = Number(dv.getBigUint64(32, true));
  const phnum = dv.getUint16(56, true);
  // The program headers beyond the first read are read again with pread64.
  if (phoff + phnum * PHENT > n) s.sys.syscall('pread64', [fd, s.scratch + s.conv.headerRead, phnum * PHENT, phoff]);
  return { fd, path };
}

interface LoadCmd {
  mapstart: number;
  mapend: number;
  dataend: number;
  allocend: number;
  mapoff: number;
  prot: number;
}

function loadCommands(elf: ElfFile): { cmds: LoadCmd[]; holes: boolean; maxAlign: number } {
  const cmds: LoadCmd[] = [];
  let holes = false;
  let maxAlign = PAGE;
  for (const p of elf.programHeaders) {
    if (p.type !== PT_LOAD) continue;
    if (p.align > 1 && (p.vaddr - p.offset) % p.align !== 0) throw new FormatError('p_offset', elf.header.phoff, 'ELF load command address/offset not properly aligned');
    const prot = ((p.flags & 4) !== 0 ? PROT_READ : 0) | ((p.flags & 2) !== 0 ? PROT_WRITE : 0) | ((p.flags & 1) !== 0 ? PROT_EXEC : 0);
    const c = { mapstart: pageDown(p.vaddr), mapend: pageUp(p.vaddr + p.filesz), dataend: p.vaddr + p.filesz, allocend: p.vaddr + p.memsz, mapoff: pageDown(p.offset), prot };
    if (cmds.length > 0 && cmds[cmds.length - 1]!.mapend !== c.mapstart) holes = true;
    if (p.align > maxAlign && (p.align & (p.align - 1)) === 0) maxAlign = p.align;
    cmds.push(c);
  }
  if (cmds.length === 0) throw new FormatError('e_phnum', elf.header.phoff, 'object file has no loadable segments');
  return { cmds, holes, maxAlign };
}

/** _dl_map_segment: the first mapping, over-allocated and trimmed when a segment wants more than page alignment. */
function mapFirst(s: Session, fd: number, c: LoadCmd, maplength: number, maxAlign: number): number {
  if (maxAlign <= PAGE) return sysOk(s, 'mmap', [0, maplength, c.prot, MAP_PRIVATE | MAP_DENYWRITE, fd, c.mapoff], 'failed to map segment from shared object');
  const maplen = maplength >= maxAlign ? maplength + maxAlign : 2 * maxAlign;
  const start = sysOk(s, 'mmap', [0, maplen, PROT_NONE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0], 'failed to map segment from shared object');
  const aligned = Math.ceil(start / maxAlign) * maxAlign;
  sysOk(s, 'mmap', [aligned, maplength, c.prot, MAP_PRIVATE | MAP_FIXED | MAP_DENYWRITE, fd, c.mapoff], 'failed to map segment from shared object');
  if (aligned > start) s.sys.syscall('munmap', [start, aligned - start]);
  const end = pageUp(aligned + maplength);
  if (start + maplen > end) s.sys.syscall('munmap', [end, start + maplen - end]);
  return aligned;
}

/** The bss of one segment: zero the rest of its last file page, map whole zero pages after it. */
function zeroFill(s: Session, addr: number, c: LoadCmd): void {
  if (c.allocend <= c.dataend) return;
  const zero = addr + c.dataend;
  const zeroend = addr + c.allocend;
  const zeropage = Math.min(pageUp(zero), zeroend);
  if (zeropage > zero) {
    // A read-only segment with a bss is made writable for the memset, then restored ("Dag nab it").
    if ((c.prot & PROT_WRITE) === 0) sysOk(s, 'mprotect', [pageDown(zero), PAGE, c.prot | PROT_WRITE], 'cannot change memory protections');
    if (!s.sys.store(zero, new Uint8Array(zeropage - zero))) throw new RtldError(`segmentation fault clearing the bss at 0x${zero.toString(16)}`, 139);
    if ((c.prot & PROT_WRITE) === 0) s.sys.syscall('mprotect', [pageDown(zero), PAGE, c.prot]);
  }
  if (zeroend > pageUp(zero)) {
    const zp = pageUp(zero);
    sysOk(s, 'mmap', [zp, zeroend - zp, c.prot, MAP_ANONYMOUS | MAP_PRIVATE | MAP_FIXED, -1, 0], 'cannot map zero-fill pages');
  }
}

/** _dl_map_segments: returns l_addr and the segments as mapped. */
export function mapSegments(s: Session, fd: number, elf: ElfFile): { addr: number; mapStart: number; mapEnd: number; segments: [number, number, number][] } {
  const { cmds, holes, maxAlign } = loadCommands(elf);
  const first = cmds[0]!;
  const last = cmds[cmds.length - 1]!;
  const maplength = last.allocend - first.mapstart;
  if (s.conv.holes === 'guard') return mapGuarded(s, fd, elf, cmds, maplength);
  let addr: number;
  let mapStart: number;
  if (elf.header.type === ET_DYN) {
    mapStart = mapFirst(s, fd, first, maplength, maxAlign);
    addr = mapStart - first.mapstart;
    if (holes) sysOk(s, 'mprotect', [addr + first.mapend, last.mapstart - first.mapend, PROT_NONE], 'cannot change memory protections');
  } else {
    addr = 0;
    mapStart = first.mapstart;
  }
  cmds.forEach((c, i) => {
    if ((i > 0 || elf.header.type !== ET_DYN) && c.mapend > c.mapstart) {
      sysOk(s, 'mmap', [addr + c.mapstart, c.mapend - c.mapstart, c.prot, MAP_PRIVATE | MAP_FIXED | MAP_DENYWRITE, fd, c.mapoff], 'failed to map segment from shared object');
    }
    zeroFill(s, addr, c);
  });
  return { addr, mapStart, mapEnd: mapStart + maplength, segments: cmds.map((c) => [addr + c.mapstart, addr + pageUp(c.allocend), c.prot]) };
}

/** fstat through newfstatat(fd, "", AT_EMPTY_PATH): "dev:ino" from the struct stat ld.so reads back. */
export function fileIdentity(s: Session, fd: number): string {
  const buf = s.scratch + 2048;
  sysOk(s, 'newfstatat', [fd, '', buf, AT_EMPTY_PATH], 'cannot stat shared object');
  const st = loadBytes(s, buf, STAT_SIZE);
  const dv = new DataView(st.buffer, st.byteOffset, st.byteLength);
  return `${dv.getBigUint64(0, true)}:${dv.getBigUint64(8, true)}`;
}

/** The program headers again, by pread64, when open_verify's buffer did not hold them. */
export function rereadPhdrs(s: Session, fd: number, elf: ElfFile): void {
  const h = elf.header;
  if (h.phoff + h.phnum * PHENT > s.conv.headerRead) s.sys.syscall('pread64', [fd, s.scratch + s.conv.headerRead, h.phnum * PHENT, h.phoff]);
}

/** The file's bytes for parsing: the simulated file system hands them over with the descriptor (the pages mapped are the same bytes). */
export function parseObject(bytes: Uint8Array, path: string, name: string, argv0: string): ElfFile {
  try {
    try {
      return parseElf(bytes);
    } catch (e) {
      // ld.so never reads section headers: a broken table is ignored (parsed as if there were none).
      if (!(e instanceof FormatError) || !/^(e_sh|sh_|section)/.test(e.field) || bytes.length < 64) throw e;
      const copy = bytes.slice();
      copy.fill(0, 0x28, 0x30);
      copy.fill(0, 0x3c, 0x40);
      return parseElf(copy);
    }
  } catch (e) {
    if (e instanceof FormatError) throw new RtldError(`${argv0}: error while loading shared libraries: ${name}: ${e.message} (${path})`);
    throw e;
  }
}

/**
 * FreeBSD rtld-elf/map_object.c: reserve the span with an anonymous PROT_NONE mapping, then lay
 * each segment over it with MAP_FIXED (and its bss as anonymous pages); what no segment covers
 * stays the reservation — the `---` guard entries procstat -v shows.
 */
function mapGuarded(s: Session, fd: number, elf: ElfFile, cmds: LoadCmd[], maplength: number): { addr: number; mapStart: number; mapEnd: number; segments: [number, number, number][] } {
  const f = s.conv.mapFlags;
  const first = cmds[0]!;
  const fixed = elf.header.type !== ET_DYN;
  const span = pageUp(first.mapstart + maplength) - first.mapstart;
  const base = sysOk(s, 'mmap', [fixed ? first.mapstart : 0, span, PROT_NONE, f.private | f.anonymous | f.nocore | (fixed ? f.fixed : 0), -1, 0], 'cannot reserve the object\'s address range');
  const addr = base - first.mapstart;
  for (const c of cmds) {
    if (c.mapend > c.mapstart) sysOk(s, 'mmap', [addr + c.mapstart, c.mapend - c.mapstart, c.prot, f.private | f.fixed, fd, c.mapoff], 'cannot map segment');
    if (c.allocend <= c.dataend) continue;
    const clear = addr + c.dataend;
    const limit = addr + c.mapend;
    if (limit > clear) {
      if ((c.prot & PROT_WRITE) === 0) sysOk(s, 'mprotect', [pageDown(clear), PAGE, c.prot | PROT_WRITE], 'cannot change memory protections');
      if (!s.sys.store(clear, new Uint8Array(limit - clear))) throw new RtldError(`segmentation fault clearing the bss at 0x${clear.toString(16)}`, 139);
      if ((c.prot & PROT_WRITE) === 0) s.sys.syscall('mprotect', [pageDown(clear), PAGE, c.prot]);
    }
    const bssEnd = addr + pageUp(c.allocend);
    if (bssEnd > limit) sysOk(s, 'mmap', [limit, bssEnd - limit, c.prot, f.private | f.fixed | f.anonymous, -1, 0], 'cannot map the bss');
  }
  return { addr, mapStart: base, mapEnd: base + maplength, segments: cmds.map((c) => [addr + c.mapstart, addr + pageUp(c.allocend), c.prot]) };
}
