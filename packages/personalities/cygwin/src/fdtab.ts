/**
 * The fd table (winsup/cygwin/dtable.cc): Cygwin keeps it in the cygheap, an array of fhandlers
 * indexed by fd. A regular file's fhandler holds a real Windows handle (fhandler_base::open →
 * NtCreateFile, here CreateFileW of the Windows personality), created inheritable unless
 * O_CLOEXEC (sec_none vs sec_none_nih); read/write are ReadFile/WriteFile on it, lseek moves the
 * file object's pointer (NtSetInformationFile FilePositionInformation), close is CloseHandle.
 * dup/dup2 DuplicateHandle it (the same file object, so the position is shared); FD_CLOEXEC is
 * per fd and flips HANDLE_FLAG_INHERIT (set_close_on_exec → set_no_inheritance).
 * fork copies the cygheap and creates the child with bInheritHandles: inheritable handles are there
 * at the same values, and the child DuplicateHandles the close-on-exec ones from the parent
 * (fhandler_base::fixup_after_fork → fork_fixup). spawn and exec pass the cygheap to the new
 * program, created with bInheritHandles too, which drops the close-on-exec fds
 * (dtable::fixup_close). A program started from Windows (not by a Cygwin parent) gets fds 0, 1, 2
 * on the console (dtable::stdio_init: /dev/cons0).
 *
 * Simplified (README): /dev/null, /dev/zero and the console have no Windows object under them here
 * (Cygwin opens \\Device\\Null and a console handle); console reads see end of file. O_CREAT and
 * O_TRUNC are CreateFileW's dispositions (OPEN_ALWAYS, CREATE_ALWAYS, TRUNCATE_EXISTING, CREATE_NEW
 * for O_EXCL): a created file, and every write, go to the machine's copy (the Windows personality's
 * FileNode), never to the sysroot; a created file is not a program execve or spawnve can run.
 */
import { S_IFDIR, type SyscallArg, type Thread } from '@polykernel/kernel';
import {
  CREATE_ALWAYS, CREATE_NEW, CURRENT_PROCESS, dosError, DUPLICATE_SAME_ACCESS, FilePositionInformation, GENERIC_READ, GENERIC_WRITE, HANDLE_FLAG_INHERIT,
  OPEN_ALWAYS, OPEN_EXISTING, TRUNCATE_EXISTING,
} from '@polykernel/windows';
import { errnoFromWin32 } from './errno.js';
import { winFail, type Ctx } from './posix.js';
import { pinfoOf } from './pinfo.js';
import type { CygProc, Fhandler, K, OpenFile, P } from './types.js';

/** newlib sys/_default_fcntl.h as Cygwin builds it. */
export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_APPEND = 0x0008;
export const O_CREAT = 0x0200;
export const O_TRUNC = 0x0400;
export const O_EXCL = 0x0800;
/** _FNOINHERIT: Cygwin's O_CLOEXEC. */
export const O_CLOEXEC = 0x40000;
export const F_DUPFD = 0;
export const F_GETFD = 1;
export const F_SETFD = 2;
export const F_GETFL = 3;
export const F_DUPFD_CLOEXEC = 14;
export const FD_CLOEXEC = 1;
/** OPEN_MAX (limits.h): getdtablesize() and the highest fd + 1 dup2 accepts. */
export const OPEN_MAX = 3200;

const num = (a: SyscallArg | undefined): number => (typeof a === 'number' ? a : Number.NaN);
const bit = (v: number, b: number): boolean => Math.floor(v / b) % 2 === 1;

/** FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE (FILE_SHARE_VALID_FLAGS), as Cygwin opens files. */
const FILE_SHARE_VALID_FLAGS = 7;
/** lseek's whence. */
export const SEEK_SET = 0;
export const SEEK_CUR = 1;
export const SEEK_END = 2;

function device(path: string): OpenFile['kind'] | null {
  if (path === '/dev/null') return 'null';
  if (path === '/dev/zero') return 'zero';
  if (path === '/dev/cons0' || path === '/dev/tty' || path === '/dev/console') return 'console';
  return null;
}

/** dtable::stdio_init for a program started from Windows: 0, 1, 2 on the console. */
export function stdioInit(proc: CygProc): void {
  const cons: OpenFile = { path: '/dev/cons0', kind: 'console', flags: O_RDWR, position: 0 };
  proc.fds.length = 0;
  for (let fd = 0; fd < 3; fd++) proc.fds.push({ file: cons, cloexec: false, handle: null });
}

/**
 * The child's table after fork, run by the child (`t`, with `hParent` open on the parent): the same
 * open files (the cygheap is copied); inheritable handles arrived at the same values, close-on-exec
 * ones are DuplicateHandle'd from the parent (fork_fixup). Null: a duplication failed (its Win32 error).
 */
export function fdsAfterFork(k: K, t: Thread, hParent: number, parent: CygProc): (Fhandler | null)[] | string {
  const out: (Fhandler | null)[] = [];
  for (const f of parent.fds) {
    if (f?.handle === null || f?.handle === undefined || !f.cloexec) {
      out.push(f === null ? null : { ...f });
      continue;
    }
    const r = k.syscall(t, 'DuplicateHandle', [hParent, f.handle, CURRENT_PROCESS, 0, 0, DUPLICATE_SAME_ACCESS]);
    if (r.error !== null) return r.error;
    out.push({ ...f, handle: r.record!.fields.lpTargetHandle as number });
  }
  return out;
}

/** The new program's table after spawn/exec (created with bInheritHandles): close-on-exec fds are gone, the others' handles inherited. */
export function fdsAfterExec(parent: CygProc): (Fhandler | null)[] {
  const out = parent.fds.map((f) => (f === null || f.cloexec ? null : { ...f }));
  while (out.length > 0 && out[out.length - 1] === null) out.pop();
  return out;
}

function lowestFree(fds: readonly (Fhandler | null)[], from: number): number {
  for (let fd = from; fd < fds.length; fd++) if (fds[fd] === null || fds[fd] === undefined) return fd;
  return Math.max(from, fds.length);
}

/** Put `h` at `fd`; an fhandler already there is closed first (dup2 onto an open fd). */
function install(ctx: Ctx, proc: CygProc, fd: number, h: Fhandler): void {
  while (proc.fds.length < fd) proc.fds.push(null);
  const old = proc.fds[fd];
  if (old !== null && old !== undefined && old.handle !== null) ctx.call('CloseHandle', [old.handle]);
  proc.fds[fd] = h;
}

function handlerOf(ctx: Ctx, fd: number): Fhandler | null {
  const h = Number.isInteger(fd) && fd >= 0 ? pinfoOf(ctx.kernel, ctx.process).fds[fd] : undefined;
  return h ?? null;
}

/** fhandler_base::open's NtCreateFile disposition from the open flags (CreateFileW's equivalents). */
function disposition(flags: number): number {
  const creat = bit(flags, O_CREAT);
  const trunc = bit(flags, O_TRUNC);
  if (creat && bit(flags, O_EXCL)) return CREATE_NEW;
  if (creat) return trunc ? CREATE_ALWAYS : OPEN_ALWAYS;
  return trunc ? TRUNCATE_EXISTING : OPEN_EXISTING;
}

/** The access an fd's open flags ask for (O_ACCMODE → GENERIC_READ / GENERIC_WRITE). */
export function accessOf(flags: number): number {
  const acc = flags % 4;
  return acc === O_RDONLY ? GENERIC_READ : acc === O_WRONLY ? GENERIC_WRITE : GENERIC_READ + GENERIC_WRITE;
}

/** A regular file opened through the Windows personality: the handle, or the call's failure (errno set). */
function openRegular(ctx: Ctx, path: string, flags: number): number | null {
  const r = ctx.call('CreateFileW', [path, accessOf(flags), FILE_SHARE_VALID_FLAGS, bit(flags, O_CLOEXEC) ? 0 : 1, disposition(flags), 0, 0]);
  if (r.error !== null) {
    winFail(ctx, r);
    return null;
  }
  return r.value;
}

export function open(ctx: Ctx, a: readonly SyscallArg[]): number {
  const path = typeof a[0] === 'string' ? a[0] : '';
  const flags = num(a[1] ?? 0);
  const acc = flags % 4;
  if (path === '') return ctx.fail('ENOENT');
  if (acc === 3) return ctx.fail('EINVAL');
  const proc = pinfoOf(ctx.kernel, ctx.process);
  const fd = lowestFree(proc.fds, 0);
  if (fd >= OPEN_MAX) return ctx.fail('EMFILE');
  const cloexec = bit(flags, O_CLOEXEC);
  const dev = device(path);
  if (dev !== null) {
    install(ctx, proc, fd, { file: { path, kind: dev, flags, position: 0 }, cloexec, handle: null });
    return fd;
  }
  const f = ctx.kernel.state.fs(path);
  // A directory: fhandler_disk_file opens it for reading (opendir's path); for writing it is EISDIR.
  if (typeof f !== 'string' && f.mode - (f.mode % 0o10000) === S_IFDIR) {
    if (acc !== O_RDONLY) return ctx.fail('EISDIR');
    install(ctx, proc, fd, { file: { path, kind: 'dir', flags, position: 0 }, cloexec, handle: null });
    return fd;
  }
  // The simulation holds files up to 1 GiB (only a larger one's head was read): refused before Windows sees it.
  if (typeof f !== 'string' && f.partial !== undefined) return ctx.fail('EFBIG', `${path}: ${f.partial.size} bytes is too large to simulate (files up to 1 GiB)`);
  const h = openRegular(ctx, path, flags);
  if (h === null) return -1;
  install(ctx, proc, fd, { file: { path, kind: 'file', flags, position: 0 }, cloexec, handle: h });
  return fd;
}

export function close(ctx: Ctx, a: readonly SyscallArg[]): number {
  const fd = num(a[0]);
  const h = handlerOf(ctx, fd);
  if (h === null) return ctx.fail('EBADF');
  if (h.handle !== null) ctx.call('CloseHandle', [h.handle]);
  pinfoOf(ctx.kernel, ctx.process).fds[fd] = null;
  return 0;
}

/** A new fhandler over the same open file: the handle DuplicateHandle'd (inheritable unless close-on-exec). */
function dupHandler(ctx: Ctx, h: Fhandler, cloexec: boolean): Fhandler | null {
  if (h.handle === null) return { file: h.file, cloexec, handle: null };
  const r = ctx.call('DuplicateHandle', [CURRENT_PROCESS, h.handle, CURRENT_PROCESS, 0, cloexec ? 0 : 1, DUPLICATE_SAME_ACCESS]);
  if (r.error !== null) {
    winFail(ctx, r);
    return null;
  }
  return { file: h.file, cloexec, handle: r.record!.fields.lpTargetHandle as number };
}

/** dtable::dup3: the new fd is the lowest free one at or above `from` (dup, F_DUPFD) or exactly `to` (dup2). */
function dupTo(ctx: Ctx, oldfd: number, newfd: number | null, from: number, cloexec: boolean): number {
  const h = handlerOf(ctx, oldfd);
  if (h === null) return ctx.fail('EBADF');
  const proc = pinfoOf(ctx.kernel, ctx.process);
  if (newfd !== null) {
    if (!Number.isInteger(newfd) || newfd < 0 || newfd >= OPEN_MAX) return ctx.fail('EBADF');
    // dup2 (oldfd, oldfd) returns oldfd and changes nothing (POSIX).
    if (newfd === oldfd) return newfd;
    const nh = dupHandler(ctx, h, cloexec);
    if (nh === null) return -1;
    install(ctx, proc, newfd, nh);
    return newfd;
  }
  if (!Number.isInteger(from) || from < 0 || from >= OPEN_MAX) return ctx.fail('EINVAL');
  const fd = lowestFree(proc.fds, from);
  if (fd >= OPEN_MAX) return ctx.fail('EMFILE');
  const nh = dupHandler(ctx, h, cloexec);
  if (nh === null) return -1;
  install(ctx, proc, fd, nh);
  return fd;
}

export const dup = (ctx: Ctx, a: readonly SyscallArg[]): number => dupTo(ctx, num(a[0]), null, 0, false);
export const dup2 = (ctx: Ctx, a: readonly SyscallArg[]): number => dupTo(ctx, num(a[0]), num(a[1]), 0, false);

export function fcntl(ctx: Ctx, a: readonly SyscallArg[]): number {
  const [fd, cmd, arg] = [num(a[0]), num(a[1]), num(a[2] ?? 0)];
  const h = handlerOf(ctx, fd);
  if (h === null) return ctx.fail('EBADF');
  switch (cmd) {
    case F_DUPFD: return dupTo(ctx, fd, null, arg, false);
    case F_DUPFD_CLOEXEC: return dupTo(ctx, fd, null, arg, true);
    case F_GETFD: return h.cloexec ? FD_CLOEXEC : 0;
    case F_SETFD:
      h.cloexec = bit(arg, FD_CLOEXEC);
      // set_close_on_exec → set_no_inheritance: the handle's HANDLE_FLAG_INHERIT follows.
      if (h.handle !== null) ctx.call('SetHandleInformation', [h.handle, HANDLE_FLAG_INHERIT, h.cloexec ? 0 : HANDLE_FLAG_INHERIT]);
      return 0;
    case F_GETFL: return h.file.flags - (bit(h.file.flags, O_CLOEXEC) ? O_CLOEXEC : 0);
    default: return ctx.fail('EINVAL');
  }
}

/** read(fd, buf, count): into the caller's memory — ReadFile on a regular file's handle (EFAULT if the buffer is not writable). */
export function read(ctx: Ctx, a: readonly SyscallArg[]): number {
  const [fd, buf, count] = [num(a[0]), num(a[1]), num(a[2])];
  const h = handlerOf(ctx, fd);
  if (h === null || h.file.flags % 4 === O_WRONLY) return ctx.fail('EBADF');
  if (!(count >= 0)) return ctx.fail('EINVAL');
  const f = h.file;
  if (f.kind === 'dir') return ctx.fail('EISDIR');
  if (h.handle !== null) {
    if (count === 0) return 0;
    const r = ctx.call('ReadFile', [h.handle, buf, count]);
    return r.error !== null ? winFail(ctx, r) : (r.record!.fields.lpNumberOfBytesRead as number);
  }
  const n = f.kind === 'zero' ? count : 0;
  if (n === 0) return 0;
  const done = ctx.kernel.copyToUser(ctx.thread, buf, null, n);
  if (done < n) return ctx.fail('EFAULT');
  f.position += n;
  return n;
}

/**
 * write(fd, buf, count): WriteFile on a regular file's handle (O_APPEND: at the end of the file,
 * as the FILE_APPEND_DATA-only handle Cygwin opens writes). /dev/null and /dev/zero take the count
 * without reading the buffer (fhandler_dev_null::write and fhandler_dev_zero::write return len);
 * the console reads the bytes from the caller's memory and shows nothing here.
 */
export function write(ctx: Ctx, a: readonly SyscallArg[]): number {
  const [fd, buf, count] = [num(a[0]), num(a[1]), num(a[2])];
  const h = handlerOf(ctx, fd);
  if (h === null || h.file.flags % 4 === O_RDONLY) return ctx.fail('EBADF');
  if (!(count >= 0)) return ctx.fail('EINVAL');
  if (h.handle !== null) {
    if (bit(h.file.flags, O_APPEND)) {
      const sz = ctx.call('GetFileSizeEx', [h.handle]);
      if (sz.error !== null) return winFail(ctx, sz);
      ctx.call('NtSetInformationFile', [h.handle, FilePositionInformation, sz.record!.fields.lpFileSize as number]);
    }
    const r = ctx.call('WriteFile', [h.handle, buf, count]);
    return r.error !== null ? winFail(ctx, r) : (r.record!.fields.lpNumberOfBytesWritten as number);
  }
  if (h.file.kind === 'null' || h.file.kind === 'zero') return count;
  if (count > 0 && ctx.kernel.copyFromUser(ctx.thread, buf, count).length < count) return ctx.fail('EFAULT');
  return count;
}

/**
 * lseek(fd, offset, whence) (fhandler_base::lseek): the new position computed from the file
 * object's pointer or size, EINVAL when negative or whence is bad, then NtSetInformationFile
 * (FilePositionInformation). Devices: /dev/null and /dev/zero stay at 0, the console is ESPIPE.
 */
export function lseek(ctx: Ctx, a: readonly SyscallArg[]): number {
  const [fd, off, whence] = [num(a[0]), num(a[1]), num(a[2])];
  const h = handlerOf(ctx, fd);
  if (h === null) return ctx.fail('EBADF');
  if (h.file.kind === 'console') return ctx.fail('ESPIPE');
  if (whence !== SEEK_SET && whence !== SEEK_CUR && whence !== SEEK_END) return ctx.fail('EINVAL');
  if (h.handle === null) return 0;
  const q = ctx.call('NtQueryInformationFile', [h.handle]);
  // __seterrno_from_nt_status: RtlNtStatusToDosError, then errmap.
  if (q.error !== null) return ctx.fail(errnoFromWin32(dosError(q.error)));
  const fields = q.record!.fields;
  const base = whence === SEEK_SET ? 0 : whence === SEEK_CUR ? (fields.CurrentByteOffset as number) : (fields.EndOfFile as number);
  const pos = base + off;
  if (!Number.isSafeInteger(pos) || pos < 0) return ctx.fail('EINVAL');
  ctx.call('NtSetInformationFile', [h.handle, FilePositionInformation, pos]);
  return pos;
}

/** A regular file fd's file object in process `p` (its position and bytes), or undefined. */
export function fileObjectOf(p: P, h: Fhandler): { position: number; bytes: Uint8Array } | undefined {
  if (h.handle === null) return undefined;
  const obj = p.space.handles.get(h.handle);
  return obj?.kind === 'file' ? obj.file : undefined;
}
