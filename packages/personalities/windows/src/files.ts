/**
 * File objects on the sysroot's files: NtCreateFile / NtReadFile / NtQueryInformationFile under
 * kernel32's CreateFileW, ReadFile, GetFileSizeEx. The sysroot is read-only here: a file is opened
 * as it is; creating, superseding or truncating one fails with STATUS_MEDIA_WRITE_PROTECTED
 * (ERROR_WRITE_PROTECT), as on a write-protected volume. GENERIC_WRITE is granted (a writable
 * section's view writes the section's pages — the file cache — which are never flushed back).
 *
 * Errors as kernelbase's CreateFileW gives them (Wine dlls/kernel32/tests/file.c test_CreateFileW):
 * a missing file ERROR_FILE_NOT_FOUND, a missing folder on the way ERROR_PATH_NOT_FOUND, a folder
 * opened as a file ERROR_ACCESS_DENIED, CREATE_NEW over an existing file ERROR_FILE_EXISTS (kernelbase
 * turns STATUS_OBJECT_NAME_COLLISION into it), OPEN_ALWAYS/CREATE_ALWAYS on an existing file
 * success with ERROR_ALREADY_EXISTS; failure returns INVALID_HANDLE_VALUE.
 */
import type { NtStatusName } from '@polykernel/core';
import { S_IFDIR, type SyscallArg } from '@polykernel/kernel';
import { bool, failNt, num, nt, str, win32, type Ctx, type Spec } from './callspec.js';
import { openHandle } from './handles.js';
import type { K, P } from './mm.js';
import type { FileObject } from './types.js';

export const GENERIC_READ = 0x8000_0000;
export const GENERIC_WRITE = 0x4000_0000;
export const GENERIC_EXECUTE = 0x2000_0000;
export const GENERIC_ALL = 0x1000_0000;
export const FILE_READ_DATA = 0x1;
export const FILE_WRITE_DATA = 0x2;
export const FILE_EXECUTE = 0x20;
/** CreateFileW's dwCreationDisposition. */
export const CREATE_NEW = 1;
export const CREATE_ALWAYS = 2;
export const OPEN_EXISTING = 3;
export const OPEN_ALWAYS = 4;
export const TRUNCATE_EXISTING = 5;
/** NtCreateFile's CreateDisposition. */
export const FILE_SUPERSEDE = 0;
export const FILE_OPEN = 1;
export const FILE_CREATE = 2;
export const FILE_OPEN_IF = 3;
export const FILE_OVERWRITE = 4;
export const FILE_OVERWRITE_IF = 5;
/** IO_STATUS_BLOCK.Information after NtCreateFile. */
const FILE_OPENED = 1;

/** st_mode's file type (mode & S_IFMT, by division: the type bits sit above the 12 permission bits). */
const isDir = (mode: number): boolean => mode - (mode % 0o10000) === S_IFDIR;

const bit = (v: number, b: number): boolean => Number.isFinite(v) && Math.floor(v / b) % 2 === 1;

/** The access a DesiredAccess mask grants on file data (generic rights mapped as FILE_GENERIC_*). */
export function fileAccess(mask: number): { read: boolean; write: boolean; execute: boolean } {
  const all = bit(mask, GENERIC_ALL);
  return {
    read: all || bit(mask, GENERIC_READ) || bit(mask, FILE_READ_DATA),
    write: all || bit(mask, GENERIC_WRITE) || bit(mask, FILE_WRITE_DATA),
    execute: all || bit(mask, GENERIC_EXECUTE) || bit(mask, FILE_EXECUTE),
  };
}

/** Sysroot paths: Windows separators accepted, a drive letter dropped (C:\\Windows → /Windows). */
export function sysrootPath(name: string): string {
  let p = name.replaceAll('\\', '/');
  if (/^[A-Za-z]:\//.test(p)) p = p.slice(2);
  return p.startsWith('/') ? p : `/${p}`;
}

/** NtCreateFile's work: the file object, or the status (OBJECT_NAME_NOT_FOUND vs OBJECT_PATH_NOT_FOUND by whether the folder exists). */
export function openFile(k: K, name: string, access: number, disposition: number): { file: FileObject; existed: true } | NtStatusName {
  const path = sysrootPath(name);
  const f = k.state.fs(path);
  if (typeof f === 'string') {
    if (f === 'EACCES') return 'STATUS_ACCESS_DENIED';
    if (f === 'ENOTDIR') return 'STATUS_OBJECT_PATH_NOT_FOUND';
    const dir = path.slice(0, path.lastIndexOf('/')) || '/';
    const d = k.state.fs(dir);
    if (typeof d === 'string' || !isDir(d.mode)) return 'STATUS_OBJECT_PATH_NOT_FOUND';
    // The file is not there: opening fails; creating it would write to the read-only sysroot.
    return disposition === FILE_OPEN || disposition === FILE_OVERWRITE ? 'STATUS_OBJECT_NAME_NOT_FOUND' : 'STATUS_MEDIA_WRITE_PROTECTED';
  }
  if (isDir(f.mode)) return 'STATUS_FILE_IS_A_DIRECTORY';
  // Windows opens any size; the simulation holds files up to MAX_FILE_BYTES (only a larger file's head was read).
  if (f.partial !== undefined) return 'STATUS_FILE_TOO_LARGE';
  if (disposition === FILE_CREATE) return 'STATUS_OBJECT_NAME_COLLISION';
  if (disposition !== FILE_OPEN && disposition !== FILE_OPEN_IF) return 'STATUS_MEDIA_WRITE_PROTECTED';
  const a = fileAccess(access);
  return { file: { path: f.path, bytes: f.bytes, read: a.read, write: a.write, execute: a.execute, position: 0 }, existed: true };
}

export function fileOf(owner: P, h: number): FileObject | NtStatusName {
  const obj = owner.space.handles.get(h);
  if (obj === undefined) return 'STATUS_INVALID_HANDLE';
  if (obj.kind !== 'file') return 'STATUS_OBJECT_TYPE_MISMATCH';
  return obj.file;
}

function ntCreateFile(ctx: Ctx, a: readonly SyscallArg[]): number {
  const [name, access, disposition, attrs] = [str(a[0]), num(a[1]), num(a[3]), num(a[5] ?? 0)];
  if (name === '') return ctx.fail('STATUS_OBJECT_NAME_NOT_FOUND');
  if (!Number.isInteger(disposition) || disposition < FILE_SUPERSEDE || disposition > FILE_OVERWRITE_IF) return ctx.fail('STATUS_INVALID_PARAMETER');
  const r = openFile(ctx.kernel, name, access, disposition);
  if (typeof r === 'string') return ctx.fail(r);
  const h = openHandle(ctx.kernel, ctx.process, { kind: 'file', file: r.file }, Math.floor(attrs / 2) % 2 === 1);
  ctx.record({ type: 'NtCreateFile', fields: { FileHandle: h, Information: FILE_OPENED } });
  return 0;
}

/** NtReadFile(FileHandle, Buffer, Length): synchronous, from the file pointer, into the caller's memory at Buffer. */
function ntReadFile(ctx: Ctx, a: readonly SyscallArg[]): number {
  const f = fileOf(ctx.process, num(a[0]));
  if (typeof f === 'string') return ctx.fail(f);
  if (!f.read) return ctx.fail('STATUS_ACCESS_DENIED');
  const [buffer, length] = [num(a[1]), num(a[2])];
  if (!Number.isSafeInteger(length) || length < 0) return ctx.fail('STATUS_INVALID_PARAMETER');
  const n = Math.max(0, Math.min(length, f.bytes.length - f.position));
  const done = n === 0 ? 0 : ctx.kernel.copyToUser(ctx.thread, buffer, f.bytes.subarray(f.position, f.position + n));
  f.position += done;
  ctx.record({ type: 'IO_STATUS_BLOCK', fields: { Information: done } });
  return done < n ? ctx.fail('STATUS_ACCESS_VIOLATION') : 0;
}

function ntQueryInformationFile(ctx: Ctx, a: readonly SyscallArg[]): number {
  const f = fileOf(ctx.process, num(a[0]));
  if (typeof f === 'string') return ctx.fail(f);
  ctx.record({ type: 'FILE_STANDARD_INFORMATION', fields: { EndOfFile: f.bytes.length, AllocationSize: Math.ceil(f.bytes.length / 4096) * 4096, Directory: false } });
  return 0;
}

/** kernelbase CreateFileW: the disposition translated, STATUS_OBJECT_NAME_COLLISION reported as ERROR_FILE_EXISTS. */
function createFileW(ctx: Ctx, a: readonly SyscallArg[]): number {
  const [name, access, share, disposition] = [str(a[0]), num(a[1]), num(a[2]), num(a[4])];
  const nt = { [CREATE_NEW]: FILE_CREATE, [CREATE_ALWAYS]: FILE_OVERWRITE_IF, [OPEN_EXISTING]: FILE_OPEN, [OPEN_ALWAYS]: FILE_OPEN_IF, [TRUNCATE_EXISTING]: FILE_OVERWRITE }[disposition];
  if (nt === undefined) return ctx.fail('ERROR_INVALID_PARAMETER');
  // TRUNCATE_EXISTING needs GENERIC_WRITE (MSDN CreateFileW).
  if (disposition === TRUNCATE_EXISTING && !fileAccess(access).write) return ctx.fail('ERROR_INVALID_PARAMETER');
  const r = ctx.call('NtCreateFile', [name, access, share, nt, 0, bool(a[3]) ? 2 : 0]);
  if (r.error === 'STATUS_OBJECT_NAME_COLLISION') return ctx.fail('ERROR_FILE_EXISTS');
  if (r.error !== null) return failNt(ctx, r);
  // Opening an existing file with OPEN_ALWAYS / CREATE_ALWAYS succeeds and says so.
  ctx.thread.errors.win32 = disposition === OPEN_ALWAYS || disposition === CREATE_ALWAYS ? { name: 'ERROR_ALREADY_EXISTS', number: 183 } : { name: 'ERROR_SUCCESS', number: 0 };
  return r.record!.fields.FileHandle as number;
}

export function fileSyscalls(): Spec[] {
  return [
    nt('NtCreateFile', 0x55, ['ObjectName', 'DesiredAccess', 'ShareAccess', 'CreateDisposition', 'CreateOptions', 'HandleAttributes'], ntCreateFile),
    nt('NtReadFile', 0x06, ['FileHandle', 'Buffer', 'Length'], ntReadFile),
    nt('NtQueryInformationFile', 0x11, ['FileHandle'], ntQueryInformationFile),
    // lpSecurityAttributes stands for its bInheritHandle (0: NULL attributes); hTemplateFile is ignored (as Windows does for an existing file).
    win32('CreateFileW', ['lpFileName', 'dwDesiredAccess', 'dwShareMode', 'lpSecurityAttributes', 'dwCreationDisposition', 'dwFlagsAndAttributes', 'hTemplateFile'], createFileW, -1),
    win32('ReadFile', ['hFile', 'lpBuffer', 'nNumberOfBytesToRead'], (c, a) => {
      const r = c.call('NtReadFile', [num(a[0]), num(a[1]), num(a[2])]);
      c.record({ type: 'ReadFile', fields: { lpNumberOfBytesRead: (r.record?.fields.Information as number | undefined) ?? 0 } });
      return r.error !== null ? failNt(c, r) : 1;
    }),
    win32('GetFileSizeEx', ['hFile'], (c, a) => {
      const r = c.call('NtQueryInformationFile', [num(a[0])]);
      if (r.error !== null) return failNt(c, r);
      c.record({ type: 'GetFileSizeEx', fields: { lpFileSize: r.record!.fields.EndOfFile ?? 0 } });
      return 1;
    }),
  ];
}
