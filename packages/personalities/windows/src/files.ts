/**
 * File objects on the sysroot's files: NtCreateFile / NtReadFile / NtQueryInformationFile under
 * kernel32's CreateFileW, ReadFile, GetFileSizeEx, and NtWriteFile / NtSetInformationFile under
 * WriteFile and SetEndOfFile. Every file object on a path shares one FileNode (the FCB): the
 * sysroot's bytes until the first write, then the machine's own copy — writes go to the simulated
 * file system, never to the host. A file created at open (FILE_CREATE, FILE_OPEN_IF,
 * FILE_OVERWRITE_IF, FILE_SUPERSEDE on a missing name in an existing folder) is a FileNode of the
 * machine alone, empty; superseding or overwriting an existing file empties the machine's copy.
 * Simplified: a created file is not in the sysroot's listing, so CreateProcessW and LoadLibraryW do
 * not find it (they look in the sysroot).
 * Simplified: a file section's pages already read in do not see a later WriteFile (no shared cache
 * map), and a writable view's pages are never flushed back to the file.
 *
 * The NUL device (\\Device\\Null, null.sys): CreateFileW of "NUL" or "\\\\.\\NUL" opens it with any
 * disposition; writes succeed and are discarded (null.sys completes the IRP with Information =
 * Length, the buffer unread), reads end at once (0 bytes: NtReadFile's STATUS_END_OF_FILE, which
 * ReadFile turns into TRUE with nothing read on a synchronous handle, is a 0-byte success here),
 * GetFileType is FILE_TYPE_CHAR (FileFsDeviceInformation: FILE_DEVICE_NULL), and a section cannot
 * be made on it (syscalls.ts). A Windows volume has no POSIX device folder: a path in the host's
 * /dev (the sysroot may be the host's root) is not found, as C:\dev\zero is not on Windows —
 * the folder is missing, so ERROR_PATH_NOT_FOUND (the UCRT's _open makes that ENOENT).
 *
 * Errors as kernelbase's CreateFileW gives them (Wine dlls/kernel32/tests/file.c test_CreateFileW):
 * a missing file ERROR_FILE_NOT_FOUND, a missing folder on the way ERROR_PATH_NOT_FOUND, a folder
 * opened as a file ERROR_ACCESS_DENIED, CREATE_NEW over an existing file ERROR_FILE_EXISTS (kernelbase
 * turns STATUS_OBJECT_NAME_COLLISION into it), OPEN_ALWAYS/CREATE_ALWAYS on an existing file
 * success with ERROR_ALREADY_EXISTS; failure returns INVALID_HANDLE_VALUE.
 */
import type { NtStatusName } from '@polykernel/core';
import { MAX_FILE_BYTES, S_IFDIR, type FsFile, type SyscallArg } from '@polykernel/kernel';
import { bool, failNt, num, nt, str, win32, type Ctx, type Spec } from './callspec.js';
import { openHandle } from './handles.js';
import type { K, P } from './mm.js';
import type { FileNode, FileObject } from './types.js';

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
const FILE_SUPERSEDED = 0;
const FILE_OPENED = 1;
const FILE_CREATED = 2;
const FILE_OVERWRITTEN = 3;

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

/**
 * NtCreateFile's work: the file object and its IO_STATUS_BLOCK.Information (FILE_OPENED,
 * FILE_CREATED, FILE_OVERWRITTEN, FILE_SUPERSEDED), or the status (OBJECT_NAME_NOT_FOUND vs
 * OBJECT_PATH_NOT_FOUND by whether the folder exists).
 */
export function openFile(k: K, name: string, access: number, disposition: number): { file: FileObject; existed: boolean; information: number } | NtStatusName {
  if (isNulDevice(name)) return openNull(access);
  const path = sysrootPath(name);
  // The host's device folder is no folder of a Windows volume (the sysroot may be the host's root).
  if (path === HOST_DEV) return 'STATUS_OBJECT_NAME_NOT_FOUND';
  if (path.startsWith(`${HOST_DEV}/`)) return 'STATUS_OBJECT_PATH_NOT_FOUND';
  const f = k.state.fs(path);
  const made = typeof f === 'string' ? k.state.fileNodes.get(path) : undefined;
  let node: FileNode;
  let information = FILE_OPENED;
  if (typeof f === 'string' && made === undefined) {
    if (f === 'EACCES') return 'STATUS_ACCESS_DENIED';
    if (f === 'ENOTDIR') return 'STATUS_OBJECT_PATH_NOT_FOUND';
    const dir = path.slice(0, path.lastIndexOf('/')) || '/';
    const d = k.state.fs(dir);
    if (typeof d === 'string' || !isDir(d.mode)) return 'STATUS_OBJECT_PATH_NOT_FOUND';
    if (disposition === FILE_OPEN || disposition === FILE_OVERWRITE) return 'STATUS_OBJECT_NAME_NOT_FOUND';
    // Created on the machine only: the sysroot stays as it was.
    node = { path, bytes: new Uint8Array(0), owned: true };
    k.state.fileNodes.set(path, node);
    information = FILE_CREATED;
  } else {
    if (typeof f !== 'string' && isDir(f.mode)) return 'STATUS_FILE_IS_A_DIRECTORY';
    // Windows opens any size; the simulation holds files up to MAX_FILE_BYTES (only a larger file's head was read).
    if (typeof f !== 'string' && f.partial !== undefined) return 'STATUS_FILE_TOO_LARGE';
    if (disposition === FILE_CREATE) return 'STATUS_OBJECT_NAME_COLLISION';
    node = typeof f === 'string' ? made! : fileNode(k, f);
    if (disposition === FILE_SUPERSEDE || disposition === FILE_OVERWRITE || disposition === FILE_OVERWRITE_IF) {
      resizeNode(node, 0);
      information = disposition === FILE_SUPERSEDE ? FILE_SUPERSEDED : FILE_OVERWRITTEN;
    }
  }
  const a = fileAccess(access);
  const file: FileObject = { path: node.path, get bytes() { return node.bytes; }, node, read: a.read, write: a.write, execute: a.execute, position: 0 };
  return { file, existed: information !== FILE_CREATED, information };
}

/** The host's device folder, which a sysroot lookup over the host's root would find. */
const HOST_DEV = '/dev';
/** The names CreateFileW opens \\Device\\Null by: the DOS device NUL (RtlIsDosDeviceName_U), \\\\.\\NUL, \\??\\NUL. */
const NUL_NAMES = new Set(['nul', 'nul:', '\\\\.\\nul', '\\??\\nul', '\\device\\null']);

/** Whether CreateFileW's name is the NUL device (case does not matter). */
export function isNulDevice(name: string): boolean {
  return NUL_NAMES.has(name.toLowerCase());
}

/** A file object on \\Device\\Null: no bytes, ever (writes are discarded); opened whatever the disposition (FILE_OPENED). */
function openNull(access: number): { file: FileObject; existed: boolean; information: number } {
  const node: FileNode = { path: '\\Device\\Null', bytes: new Uint8Array(0), owned: true };
  const a = fileAccess(access);
  const file: FileObject = { path: node.path, bytes: node.bytes, node, read: a.read, write: a.write, execute: a.execute, position: 0, device: 'null' };
  return { file, existed: true, information: FILE_OPENED };
}

/** The path's FileNode: made at the first open, over the sysroot's bytes (not copied until written). */
export function fileNode(k: K, f: FsFile): FileNode {
  let n = k.state.fileNodes.get(f.path);
  if (n === undefined) {
    n = { path: f.path, bytes: f.bytes, owned: false };
    k.state.fileNodes.set(f.path, n);
  }
  return n;
}

/** The node resized to `size` bytes (zeros past the old end), as the machine's own copy. */
function resizeNode(n: FileNode, size: number): void {
  if (n.owned && size === n.bytes.length) return;
  const next = new Uint8Array(size);
  next.set(size < n.bytes.length ? n.bytes.subarray(0, size) : n.bytes);
  n.bytes = next;
  n.owned = true;
}

/** NtWriteFile's ByteOffset meaning "at the end of the file" (FILE_WRITE_TO_END_OF_FILE, the -1 LARGE_INTEGER's low part). */
export const FILE_WRITE_TO_END_OF_FILE = 0xffffffff;
/** FILE_INFORMATION_CLASS values NtSetInformationFile takes here. */
export const FilePositionInformation = 14;
export const FileEndOfFileInformation = 20;
/** SetFilePointer's dwMoveMethod. */
export const FILE_BEGIN = 0;
export const FILE_CURRENT = 1;
export const FILE_END = 2;

/**
 * NtWriteFile(FileHandle, Buffer, Length, ByteOffset): synchronous, at ByteOffset (absent: the file
 * pointer; FILE_WRITE_TO_END_OF_FILE: the end), from the caller's memory; the file grows as needed
 * and the pointer ends after the bytes written. No FILE_WRITE_DATA: STATUS_ACCESS_DENIED; an
 * unreadable buffer: STATUS_ACCESS_VIOLATION with nothing written.
 */
function ntWriteFile(ctx: Ctx, a: readonly SyscallArg[]): number {
  const f = fileOf(ctx.process, num(a[0]));
  if (typeof f === 'string') return ctx.fail(f);
  if (!f.write) return ctx.fail('STATUS_ACCESS_DENIED');
  const [buffer, length] = [num(a[1]), num(a[2])];
  if (!Number.isSafeInteger(length) || length < 0) return ctx.fail('STATUS_INVALID_PARAMETER');
  const off = a[3] === undefined ? f.position : num(a[3]) === FILE_WRITE_TO_END_OF_FILE ? f.node.bytes.length : num(a[3]);
  if (!Number.isSafeInteger(off) || off < 0) return ctx.fail('STATUS_INVALID_PARAMETER');
  if (off + length > MAX_FILE_BYTES) return ctx.fail('STATUS_FILE_TOO_LARGE');
  if (f.device === 'null') {
    // null.sys: the write completes with Information = Length; nothing is read or kept.
    ctx.record({ type: 'IO_STATUS_BLOCK', fields: { Information: length } });
    return 0;
  }
  const data = length === 0 ? new Uint8Array(0) : ctx.kernel.copyFromUser(ctx.thread, buffer, length);
  if (data.length < length) return ctx.fail('STATUS_ACCESS_VIOLATION');
  if (length > 0) {
    resizeNode(f.node, Math.max(f.node.bytes.length, off + length));
    f.node.bytes.set(data, off);
  }
  f.position = off + length;
  ctx.record({ type: 'IO_STATUS_BLOCK', fields: { Information: length } });
  return 0;
}

/**
 * NtSetInformationFile(FileHandle, FileInformationClass, value): FilePositionInformation moves the
 * file pointer (a negative one is STATUS_INVALID_PARAMETER); FileEndOfFileInformation sets the size
 * (cut or zero-extended; needs FILE_WRITE_DATA). Other classes: STATUS_INVALID_INFO_CLASS.
 */
function ntSetInformationFile(ctx: Ctx, a: readonly SyscallArg[]): number {
  const f = fileOf(ctx.process, num(a[0]));
  if (typeof f === 'string') return ctx.fail(f);
  const [cls, v] = [num(a[1]), num(a[2])];
  if (cls !== FilePositionInformation && cls !== FileEndOfFileInformation) return ctx.fail('STATUS_INVALID_INFO_CLASS');
  if (!Number.isSafeInteger(v) || v < 0) return ctx.fail('STATUS_INVALID_PARAMETER');
  if (cls === FilePositionInformation) {
    f.position = v;
    return 0;
  }
  if (!f.write) return ctx.fail('STATUS_ACCESS_DENIED');
  if (v > MAX_FILE_BYTES) return ctx.fail('STATUS_FILE_TOO_LARGE');
  // Simplified: the NUL device takes a new end of file and keeps no bytes.
  if (f.device !== 'null') resizeNode(f.node, v);
  return 0;
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
  ctx.record({ type: 'NtCreateFile', fields: { FileHandle: h, Information: r.information } });
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

/** FS_INFORMATION_CLASS FileFsDeviceInformation, and the DEVICE_TYPEs of its FILE_FS_DEVICE_INFORMATION. */
export const FileFsDeviceInformation = 4;
export const FILE_DEVICE_DISK = 0x07;
export const FILE_DEVICE_NULL = 0x15;
/** GetFileType's results (fileapi.h). */
export const FILE_TYPE_UNKNOWN = 0;
export const FILE_TYPE_DISK = 1;
export const FILE_TYPE_CHAR = 2;

/** NtQueryVolumeInformationFile(FileHandle, FsInformationClass): only FileFsDeviceInformation (the device's type). */
function ntQueryVolumeInformationFile(ctx: Ctx, a: readonly SyscallArg[]): number {
  const f = fileOf(ctx.process, num(a[0]));
  if (typeof f === 'string') return ctx.fail(f);
  if (num(a[1]) !== FileFsDeviceInformation) return ctx.fail('STATUS_INVALID_INFO_CLASS');
  ctx.record({ type: 'FILE_FS_DEVICE_INFORMATION', fields: { DeviceType: f.device === 'null' ? FILE_DEVICE_NULL : FILE_DEVICE_DISK } });
  return 0;
}

function ntQueryInformationFile(ctx: Ctx, a: readonly SyscallArg[]): number {
  const f = fileOf(ctx.process, num(a[0]));
  if (typeof f === 'string') return ctx.fail(f);
  ctx.record({ type: 'FILE_STANDARD_INFORMATION', fields: { EndOfFile: f.bytes.length, AllocationSize: Math.ceil(f.bytes.length / 4096) * 4096, Directory: false, CurrentByteOffset: f.position } });
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
  const existed = r.record!.fields.Information !== FILE_CREATED;
  ctx.thread.errors.win32 = existed && (disposition === OPEN_ALWAYS || disposition === CREATE_ALWAYS) ? { name: 'ERROR_ALREADY_EXISTS', number: 183 } : { name: 'ERROR_SUCCESS', number: 0 };
  return r.record!.fields.FileHandle as number;
}

export function fileSyscalls(): Spec[] {
  return [
    nt('NtCreateFile', 0x55, ['ObjectName', 'DesiredAccess', 'ShareAccess', 'CreateDisposition', 'CreateOptions', 'HandleAttributes'], ntCreateFile),
    nt('NtReadFile', 0x06, ['FileHandle', 'Buffer', 'Length'], ntReadFile),
    nt('NtQueryInformationFile', 0x11, ['FileHandle'], ntQueryInformationFile),
    nt('NtWriteFile', 0x08, ['FileHandle', 'Buffer', 'Length', 'ByteOffset'], ntWriteFile),
    nt('NtSetInformationFile', 0x27, ['FileHandle', 'FileInformationClass', 'FileInformation'], ntSetInformationFile),
    nt('NtQueryVolumeInformationFile', 0x49, ['FileHandle', 'FsInformationClass'], ntQueryVolumeInformationFile),
    // lpSecurityAttributes stands for its bInheritHandle (0: NULL attributes); hTemplateFile is ignored (as Windows does for an existing file).
    win32('CreateFileW', ['lpFileName', 'dwDesiredAccess', 'dwShareMode', 'lpSecurityAttributes', 'dwCreationDisposition', 'dwFlagsAndAttributes', 'hTemplateFile'], createFileW, -1),
    win32('ReadFile', ['hFile', 'lpBuffer', 'nNumberOfBytesToRead'], (c, a) => {
      const r = c.call('NtReadFile', [num(a[0]), num(a[1]), num(a[2])]);
      c.record({ type: 'ReadFile', fields: { lpNumberOfBytesRead: (r.record?.fields.Information as number | undefined) ?? 0 } });
      return r.error !== null ? failNt(c, r) : 1;
    }),
    win32('WriteFile', ['hFile', 'lpBuffer', 'nNumberOfBytesToWrite'], (c, a) => {
      const r = c.call('NtWriteFile', [num(a[0]), num(a[1]), num(a[2])]);
      c.record({ type: 'WriteFile', fields: { lpNumberOfBytesWritten: (r.record?.fields.Information as number | undefined) ?? 0 } });
      return r.error !== null ? failNt(c, r) : 1;
    }),
    // kernelbase SetEndOfFile: the file pointer (NtQueryInformationFile) becomes the end of file.
    win32('SetEndOfFile', ['hFile'], (c, a) => {
      const q = c.call('NtQueryInformationFile', [num(a[0])]);
      if (q.error !== null) return failNt(c, q);
      const r = c.call('NtSetInformationFile', [num(a[0]), FileEndOfFileInformation, q.record!.fields.CurrentByteOffset as number]);
      return r.error !== null ? failNt(c, r) : 1;
    }),
    // kernelbase GetFileType: the device type from FileFsDeviceInformation (FILE_DEVICE_NULL is a character device).
    win32('GetFileType', ['hFile'], (c, a) => {
      const r = c.call('NtQueryVolumeInformationFile', [num(a[0]), FileFsDeviceInformation]);
      if (r.error !== null) return failNt(c, r);
      return r.record!.fields.DeviceType === FILE_DEVICE_NULL ? FILE_TYPE_CHAR : FILE_TYPE_DISK;
    }, FILE_TYPE_UNKNOWN),
    win32('GetFileSizeEx', ['hFile'], (c, a) => {
      const r = c.call('NtQueryInformationFile', [num(a[0])]);
      if (r.error !== null) return failNt(c, r);
      c.record({ type: 'GetFileSizeEx', fields: { lpFileSize: r.record!.fields.EndOfFile ?? 0 } });
      return 1;
    }),
  ];
}
