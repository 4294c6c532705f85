/**
 * File mappings as winsup/cygwin/mm/mmap.cc makes them (mmap's FH_FS branch and
 * fhandler_disk_file::mmap): the file must be open for reading, and for writing when PROT_WRITE
 * comes with MAP_SHARED (EACCES); the file is reopened with GENERIC_EXECUTE for the section
 * (refused: EACCES only when PROT_EXEC was asked); a mapping starting at or past the end of the
 * file is an anonymous reserved mapping instead, and the part of a longer mapping past the 64 KiB
 * block the file ends in is one too — "attached" (__PROT_ATTACH) pages that raise SIGBUS when
 * touched (mmap_is_attached_or_noreserve). The section is CreateMapping's: the whole file
 * (size 0), inheritable (OBJ_INHERIT), protected by gen_create_protect — PAGE_WRITECOPY for
 * MAP_PRIVATE, PAGE_READWRITE for a file opened for writing, PAGE_READONLY otherwise, each the
 * EXECUTE_* form when the file was opened with GENERIC_EXECUTE — and MapView views it with that
 * protection (MAP_PRIVATE is a FILE_MAP_COPY view), then mmap_record::init_page_map sets
 * gen_protect (prot, flags) when it differs. Between the view's last 4 KiB page and the next
 * 64 KiB boundary nothing is mapped (the allocation gap mmap.cc describes): a SIGSEGV there.
 *
 * Simplified (README): the attached pages are a reserved VirtualAlloc region (Cygwin maps a
 * SEC_RESERVE pagefile section, which the Windows personality does not model), and a view with no
 * address is placed where the Windows personality's NtMapViewOfSection puts it (Cygwin asks for
 * the top of its mmap arena). MAP_AUTOGROW is not modelled.
 */
import {
  FILE_MAP_COPY, FILE_MAP_EXECUTE, FILE_MAP_READ, FILE_MAP_WRITE, GENERIC_EXECUTE, GENERIC_READ, GENERIC_WRITE, MEM_RESERVE, MEM_TOP_DOWN, OPEN_EXISTING,
  PAGE_READONLY, PAGE_READWRITE, PAGE_WRITECOPY,
} from '@polykernel/windows';
import { accessOf } from './fdtab.js';
import { pinfoOf } from './pinfo.js';
import { genProtect, GRANULARITY, MAP_ANONYMOUS, MAP_FIXED, MAP_NORESERVE, MAP_PRIVATE, PAGE, PROT_EXEC, PROT_READ, PROT_WRITE, winFail, type Ctx } from './posix.js';
import type { Fhandler, MmapRecord } from './types.js';

/** mm/mmap.cc: the prot bit marking pages past the end of a file (SIGBUS when touched). */
export const PROT_ATTACH = 0x800_0000;

const bit = (v: number, b: number): boolean => Math.floor(v / b) % 2 === 1;
const roundUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/** gen_create_protect (openflags, flags): the section's and the view's protection. */
export function genCreateProtect(openflags: number, flags: number): number {
  let ret = PAGE_READONLY;
  if (bit(flags, MAP_PRIVATE)) ret = PAGE_WRITECOPY;
  else if (bit(openflags, GENERIC_WRITE)) ret = PAGE_READWRITE;
  // ret <<= 4: the EXECUTE_* form.
  return bit(openflags, GENERIC_EXECUTE) ? ret * 16 : ret;
}

/** MapViewOfFileEx's dwDesiredAccess for a view of that protection (WRITECOPY: FILE_MAP_COPY). */
export function viewAccessFor(protect: number): number {
  const exec = protect >= 0x10;
  const base = exec ? protect / 16 : protect;
  const access = base === PAGE_WRITECOPY ? FILE_MAP_COPY : base === PAGE_READWRITE ? FILE_MAP_WRITE : FILE_MAP_READ;
  return exec ? access + FILE_MAP_EXECUTE : access;
}

/**
 * Attached pages (fhandler_dev_zero::mmap of an anonymous private NORESERVE mapping with
 * __PROT_ATTACH): reserved, never committed; touching one is SIGBUS. The base, or null (failed).
 */
export function mmapAttached(ctx: Ctx, addr: number, len: number, fixed: boolean): number | null {
  const protect = 0x40; // gen_protect: attached pages get PAGE_EXECUTE_READWRITE
  let r = ctx.call('VirtualAlloc', [addr, len, MEM_TOP_DOWN + MEM_RESERVE, protect]);
  if (r.error !== null && addr !== 0 && !fixed) r = ctx.call('VirtualAlloc', [0, len, MEM_TOP_DOWN + MEM_RESERVE, protect]);
  if (r.error !== null) return null;
  const flags = MAP_PRIVATE + MAP_ANONYMOUS + MAP_NORESERVE + (fixed ? MAP_FIXED : 0);
  pinfoOf(ctx.kernel, ctx.process).mmaps.push({ addr: r.value, len, prot: PROT_READ + PROT_WRITE + PROT_ATTACH, flags, mapped: new Uint8Array(len / PAGE).fill(1) });
  return r.value;
}

export const isAttached = (rec: MmapRecord): boolean => bit(rec.prot, PROT_ATTACH);

/** mmap of a regular file's fd (the FH_FS branch, then mmap_worker → fhandler_disk_file::mmap). */
export function mmapFile(ctx: Ctx, fd: number, fh: Fhandler, addrIn: number, lenIn: number, prot: number, flagsIn: number, off: number): number {
  let [addr, len, flags] = [addrIn, lenIn, flagsIn];
  const priv = bit(flags, MAP_PRIVATE);
  const fixed = bit(flags, MAP_FIXED);
  const acc = accessOf(fh.file.flags);
  if (!bit(acc, GENERIC_READ) || (!bit(acc, GENERIC_WRITE) && bit(prot, PROT_WRITE) && !priv)) return ctx.fail('EACCES');
  // NtOpenFile relative to the fd's handle with GENERIC_EXECUTE added (fh_disk_file), closed when mmap returns.
  const re = ctx.call('CreateFileW', [fh.file.path, acc + GENERIC_EXECUTE, 7, 0, OPEN_EXISTING, 0, 0]);
  if (re.error !== null && bit(prot, PROT_EXEC)) return ctx.fail('EACCES');
  const h = re.error === null ? re.value : fh.handle!;
  const openflags = re.error === null ? acc + GENERIC_EXECUTE : acc;
  const done = (v: number): number => {
    if (re.error === null) ctx.call('CloseHandle', [re.value]);
    return v;
  };
  const st = ctx.call('GetFileSizeEx', [h]);
  if (st.error !== null) return done(winFail(ctx, st));
  const fsiz = st.record!.fields.lpFileSize as number;
  if (off >= fsiz) {
    // "return an anonymous mapping of the given size instead": attached pages, SIGBUS when touched.
    return done(mmapAttached(ctx, addr, roundUp(len, GRANULARITY), fixed) ?? ctx.fail('ENOMEM'));
  }
  let origLen = 0;
  if (len > fsiz - off) {
    origLen = len;
    len = fsiz - off;
  }
  // MAP_NORESERVE is for private anonymous mappings only.
  if (bit(flags, MAP_NORESERVE)) flags -= MAP_NORESERVE;
  const protect = genCreateProtect(openflags, flags);
  // CreateMapping: the whole file (size 0), OBJ_INHERIT.
  const s = ctx.call('CreateFileMappingW', [h, protect, 0, '', 1]);
  if (s.error !== null) return done(winFail(ctx, s));
  const access = viewAccessFor(protect);
  let v = ctx.call('MapViewOfFileEx', [s.value, access, off, len, addr]);
  if (v.error !== null && addr !== 0 && !fixed) v = ctx.call('MapViewOfFileEx', [s.value, access, off, len, 0]);
  if (v.error !== null || (fixed && v.value !== addr)) {
    if (v.error === null) ctx.call('UnmapViewOfFile', [v.value]);
    ctx.call('CloseHandle', [s.value]);
    return done(v.error !== null ? winFail(ctx, v) : ctx.fail('EINVAL', 'MapView: address shift with MAP_FIXED given'));
  }
  const base = v.value;
  // mmap_record::init_page_map: the protection prot asks for, when it differs from the view's.
  const real = genProtect(prot, flags);
  if (real !== protect) ctx.call('VirtualProtect', [base, len, real]);
  pinfoOf(ctx.kernel, ctx.process).mmaps.push({
    addr: base, len, prot, flags, mapped: new Uint8Array(Math.ceil(len / PAGE)).fill(1), section: s.value, fd, offset: off, openflags, path: fh.file.path,
  });
  if (origLen > 0) {
    // The rest, past the 64 KiB block the file ends in, as attached pages (a failure is only a debug line in Cygwin).
    const from = roundUp(len, GRANULARITY);
    const to = roundUp(origLen, GRANULARITY);
    if (to > from) mmapAttached(ctx, base + from, to - from, true);
  }
  addr = base;
  return done(addr);
}
