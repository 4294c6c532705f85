/**
 * The Windows portable driver's file intents, as a C program built with the UCRT makes them:
 * `open` is _open → CreateFileW, `read`/`write` are _read/_write → ReadFile/WriteFile (NtReadFile,
 * NtWriteFile), `close` is _close → CloseHandle (NtClose), and `mapFile` is what a Windows program
 * writes instead of mmap: CreateFileW + CreateFileMappingW + MapViewOfFile, then CloseHandle of the
 * mapping and of the file (the view keeps the section alive). Every call goes through the kernel's
 * gate, so the traps and cycles are Windows' own, and a failure is the Win32 error the call sets.
 *
 * A file created, superseded or truncated at open is the machine's own copy (files.ts): the
 * sysroot is never written. The portable /dev/null is the NUL device; /dev/zero has no Windows
 * counterpart and is not found (windowsName).
 */
import { PROT_EXEC, PROT_WRITE, pageUp } from '@polykernel/core';
import {
  failure, gate, ok, openAccess, type MapFileRequest, type OpenRequest, type PortableRegion, type PortableResult, type Thread,
} from '@polykernel/kernel';
import { PAGE, PAGE_NOACCESS, PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE, PAGE_EXECUTE_WRITECOPY, PAGE_READONLY, PAGE_READWRITE, PAGE_WRITECOPY } from './constants.js';
import {
  CREATE_ALWAYS, GENERIC_EXECUTE, GENERIC_READ, GENERIC_WRITE, OPEN_ALWAYS, OPEN_EXISTING, TRUNCATE_EXISTING, fileOf,
} from './files.js';
import type { K, P } from './mm.js';
import { FILE_MAP_COPY, FILE_MAP_EXECUTE, FILE_MAP_READ, FILE_MAP_WRITE } from './sections.js';

const has = (prot: number, bit: number): boolean => Math.floor(prot / bit) % 2 === 1;

/** FILE_SHARE_READ | FILE_SHARE_WRITE: _open's _SH_DENYNO (UCRT lowio/open.cpp, decode_sharing_flags). */
const SHARE_DENY_NONE = 0x1 + 0x2;
const FILE_ATTRIBUTE_NORMAL = 0x80;

/**
 * CreateFileW's dwDesiredAccess and dwCreationDisposition for a portable open, as the UCRT's _open
 * maps the flags the POSIX drivers pass (O_RDONLY, O_WRONLY or O_RDWR, O_CREAT, O_TRUNC) —
 * minkernel/crts/ucrt/src/lowio/open.cpp: decode_access_flags gives _O_RDONLY GENERIC_READ,
 * _O_WRONLY GENERIC_WRITE (GENERIC_READ as well only with _O_APPEND and a Unicode text mode, to
 * read the BOM: never for these binary opens) and _O_RDWR GENERIC_READ|GENERIC_WRITE;
 * decode_open_create_flags gives no flag OPEN_EXISTING, _O_CREAT OPEN_ALWAYS, _O_TRUNC
 * TRUNCATE_EXISTING, _O_CREAT|_O_TRUNC CREATE_ALWAYS.
 */
export function openDisposition(req: OpenRequest): { access: number; disposition: number } {
  const access = { read: GENERIC_READ, write: GENERIC_WRITE, readwrite: GENERIC_READ + GENERIC_WRITE }[openAccess(req)];
  const create = req.create === true;
  const trunc = req.truncate === true;
  const disposition = create ? (trunc ? CREATE_ALWAYS : OPEN_ALWAYS) : trunc ? TRUNCATE_EXISTING : OPEN_EXISTING;
  return { access, disposition };
}

/**
 * The section protection, the view access and the file access a portable mapping needs
 * (CreateFileMapping's flProtect table: PAGE_READONLY needs GENERIC_READ, PAGE_READWRITE also
 * GENERIC_WRITE, PAGE_WRITECOPY only GENERIC_READ, PAGE_EXECUTE_* also GENERIC_EXECUTE). A private
 * writable mapping is a PAGE_WRITECOPY section viewed with FILE_MAP_COPY (copy-on-write: the file
 * never sees the writes); a shared writable one PAGE_READWRITE with FILE_MAP_WRITE.
 */
export function mappingProtection(prot: number, shared: boolean): { section: number; view: number; access: number } {
  const exec = has(prot, PROT_EXEC);
  const write = has(prot, PROT_WRITE);
  // No access at all: a section cannot be PAGE_NOACCESS, so CreateFileMappingW refuses it
  // (ERROR_INVALID_PARAMETER), as it does for a Windows mmap port passing PROT_NONE through.
  if (prot === 0) return { section: PAGE_NOACCESS, view: FILE_MAP_READ, access: GENERIC_READ };
  let section: number;
  let view: number;
  if (!write) [section, view] = [exec ? PAGE_EXECUTE_READ : PAGE_READONLY, FILE_MAP_READ];
  else if (shared) [section, view] = [exec ? PAGE_EXECUTE_READWRITE : PAGE_READWRITE, FILE_MAP_WRITE];
  else [section, view] = [exec ? PAGE_EXECUTE_WRITECOPY : PAGE_WRITECOPY, FILE_MAP_COPY];
  const access = GENERIC_READ + (write && shared ? GENERIC_WRITE : 0) + (exec ? GENERIC_EXECUTE : 0);
  return { section, view: view + (exec ? FILE_MAP_EXECUTE : 0), access };
}

/**
 * The name a Windows program opens for a portable path: the null device is NUL (a Windows port of
 * dd writes to NUL, not /dev/null). Any other path is given as it is — /dev/zero too: Windows has
 * no zero device, and C:\dev\zero is not there (ERROR_PATH_NOT_FOUND, files.ts).
 */
export function windowsName(path: string): string {
  return path === '/dev/null' ? 'NUL' : path;
}

export function openFile(k: K, t: Thread, req: OpenRequest): PortableResult<number> {
  const { access, disposition } = openDisposition(req);
  const r = gate(k, t, 'CreateFileW', [windowsName(req.path), access, SHARE_DENY_NONE, 0, disposition, FILE_ATTRIBUTE_NORMAL, 0]);
  return failure(k, 'CreateFileW', r) ?? ok(r.value);
}

/**
 * ReadFile / WriteFile: the value is lpNumberOfBytesRead / lpNumberOfBytesWritten (short at the end
 * of the file). A handle without the access (GENERIC_READ for ReadFile, GENERIC_WRITE for
 * WriteFile) fails with ERROR_ACCESS_DENIED (NtReadFile/NtWriteFile: STATUS_ACCESS_DENIED). The
 * failure stays the Win32 error, as the driver's other calls do; the detail says what the UCRT's
 * _read/_write make of it: errno EBADF with _doserrno ERROR_ACCESS_DENIED, not EACCES
 * (ucrt/src/lowio/read.cpp _read_nolock and write.cpp _write_nolock: "ERROR_ACCESS_DENIED occurs if
 * the file is open with the wrong read/write mode"), the same EBADF a POSIX kernel gives.
 */
export function transfer(k: K, t: Thread, call: 'ReadFile' | 'WriteFile', handle: number, addr: number, length: number): PortableResult<number> {
  const r = gate(k, t, call, [handle, addr, length]);
  const f = failure(k, call, r);
  if (f !== null) return f.kind === 'failed' && f.error === 'ERROR_ACCESS_DENIED' ? { ...f, detail: `${call === 'ReadFile' ? '_read' : '_write'} sets errno EBADF` } : f;
  const field = call === 'ReadFile' ? 'lpNumberOfBytesRead' : 'lpNumberOfBytesWritten';
  return ok(r.record!.fields[field] as number);
}

export function closeHandle(k: K, t: Thread, handle: number): PortableResult<number> {
  const r = gate(k, t, 'CloseHandle', [handle]);
  return failure(k, 'CloseHandle', r) ?? ok(r.value);
}

/**
 * CreateFileW (OPEN_EXISTING) + CreateFileMappingW(hFile, flProtect, 0: the file's size) +
 * MapViewOfFile(access, offset, length or 0: to the section's end), then CloseHandle of the mapping
 * and the file, whether or not the view was made (a program cleans up on failure too).
 */
export function mapFile(k: K, t: Thread, req: MapFileRequest): PortableResult<PortableRegion> {
  const m = mappingProtection(req.prot, req.shared);
  const h = gate(k, t, 'CreateFileW', [windowsName(req.path), m.access, SHARE_DENY_NONE, 0, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, 0]);
  const hf = failure(k, 'CreateFileW', h);
  if (hf !== null) return hf;
  // The program would call GetFileSizeEx for the size; the view's length is read from the open file (the same EndOfFile).
  const file = fileOf(t.process as P, h.value);
  const size = typeof file === 'string' ? 0 : file.bytes.length;
  const s = gate(k, t, 'CreateFileMappingW', [h.value, m.section, 0, 0, 0]);
  const sf = failure(k, 'CreateFileMappingW', s);
  if (sf !== null) {
    gate(k, t, 'CloseHandle', [h.value]);
    return sf;
  }
  const offset = req.offset ?? 0;
  const v = gate(k, t, 'MapViewOfFile', [s.value, m.view, offset, req.length ?? 0]);
  gate(k, t, 'CloseHandle', [s.value]);
  gate(k, t, 'CloseHandle', [h.value]);
  const vf = failure(k, 'MapViewOfFile', v);
  if (vf !== null) return vf;
  const length = req.length ?? Math.max(0, size - offset);
  return ok({ addr: v.value, length: pageUp(length, PAGE) });
}
