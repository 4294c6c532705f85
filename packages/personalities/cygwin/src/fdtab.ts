/**
 * The fd table (winsup/cygwin/dtable.cc): Cygwin keeps it in the cygheap, an array of fhandlers
 * indexed by fd. dup/dup2 make a new fhandler over the same open file (the Windows handle is
 * DuplicateHandle'd, so the file position is shared); FD_CLOEXEC is per fd (set_close_on_exec).
 * fork copies the cygheap, so the child has the same fds on the same open files
 * (dtable::fixup_after_fork); spawn and exec pass the cygheap to the new program, which drops the
 * close-on-exec fds (dtable::fixup_close / fixup_after_exec). A program started from Windows
 * (not by a Cygwin parent) gets fds 0, 1, 2 on the console (dtable::stdio_init: /dev/cons0).
 *
 * Simplified (README): the fhandlers are /dev/null, /dev/zero, the console (writes succeed, reads
 * see end of file: no input is modelled) and the sysroot's regular files, read-only — the Windows
 * personality has no file objects to open (CreateFileW), so there is no Windows handle under an
 * fhandler and writes to regular files fail with EROFS.
 */
import type { SyscallArg } from '@polykernel/kernel';
import type { Ctx } from './posix.js';
import { pinfoOf } from './pinfo.js';
import type { CygProc, Fhandler, OpenFile } from './types.js';

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

function device(path: string): OpenFile['kind'] | null {
  if (path === '/dev/null') return 'null';
  if (path === '/dev/zero') return 'zero';
  if (path === '/dev/cons0' || path === '/dev/tty' || path === '/dev/console') return 'console';
  return null;
}

/** dtable::stdio_init for a program started from Windows: 0, 1, 2 on the console. */
export function stdioInit(proc: CygProc): void {
  const cons: OpenFile = { path: '/dev/cons0', kind: 'console', bytes: null, flags: O_RDWR, position: 0 };
  proc.fds.length = 0;
  for (let fd = 0; fd < 3; fd++) proc.fds.push({ file: cons, cloexec: false });
}

/** The child's table after fork: the same open files (the cygheap is copied). */
export function fdsAfterFork(parent: CygProc): (Fhandler | null)[] {
  return parent.fds.map((f) => (f === null ? null : { ...f }));
}

/** The new program's table after spawn/exec: close-on-exec fds are gone. */
export function fdsAfterExec(parent: CygProc): (Fhandler | null)[] {
  const out = parent.fds.map((f) => (f === null || f.cloexec ? null : { ...f }));
  while (out.length > 0 && out[out.length - 1] === null) out.pop();
  return out;
}

function lowestFree(fds: readonly (Fhandler | null)[], from: number): number {
  for (let fd = from; fd < fds.length; fd++) if (fds[fd] === null || fds[fd] === undefined) return fd;
  return Math.max(from, fds.length);
}

function install(proc: CygProc, fd: number, h: Fhandler): void {
  while (proc.fds.length < fd) proc.fds.push(null);
  proc.fds[fd] = h;
}

function handlerOf(ctx: Ctx, fd: number): Fhandler | null {
  const h = Number.isInteger(fd) && fd >= 0 ? pinfoOf(ctx.kernel, ctx.process).fds[fd] : undefined;
  return h ?? null;
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
  let file: OpenFile;
  const dev = device(path);
  if (dev !== null) file = { path, kind: dev, bytes: null, flags, position: 0 };
  else {
    const f = ctx.kernel.state.fs(path);
    if (typeof f === 'string') return ctx.fail(bit(flags, O_CREAT) ? 'EROFS' : 'ENOENT', bit(flags, O_CREAT) ? 'creating files is not modelled: the sysroot is read-only' : undefined);
    if (acc !== O_RDONLY || bit(flags, O_TRUNC)) return ctx.fail('EROFS', 'the sysroot\'s files are read-only here (no CreateFileW in the Windows personality)');
    if (bit(flags, O_CREAT) && bit(flags, O_EXCL)) return ctx.fail('EEXIST');
    if (f.partial !== undefined) return ctx.fail('EFBIG', `${path}: ${f.partial.size} bytes is too large to simulate (files up to 1 GiB)`);
    file = { path, kind: 'file', bytes: f.bytes, flags, position: 0 };
  }
  install(proc, fd, { file, cloexec: bit(flags, O_CLOEXEC) });
  return fd;
}

export function close(ctx: Ctx, a: readonly SyscallArg[]): number {
  const fd = num(a[0]);
  if (handlerOf(ctx, fd) === null) return ctx.fail('EBADF');
  pinfoOf(ctx.kernel, ctx.process).fds[fd] = null;
  return 0;
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
    install(proc, newfd, { file: h.file, cloexec });
    return newfd;
  }
  if (!Number.isInteger(from) || from < 0 || from >= OPEN_MAX) return ctx.fail('EINVAL');
  const fd = lowestFree(proc.fds, from);
  if (fd >= OPEN_MAX) return ctx.fail('EMFILE');
  install(proc, fd, { file: h.file, cloexec });
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
      return 0;
    case F_GETFL: return h.file.flags - (bit(h.file.flags, O_CLOEXEC) ? O_CLOEXEC : 0);
    default: return ctx.fail('EINVAL');
  }
}

/** read(fd, buf, count): into the caller's memory (EFAULT if it is not writable there). */
export function read(ctx: Ctx, a: readonly SyscallArg[]): number {
  const [fd, buf, count] = [num(a[0]), num(a[1]), num(a[2])];
  const h = handlerOf(ctx, fd);
  if (h === null || h.file.flags % 4 === O_WRONLY) return ctx.fail('EBADF');
  if (!(count >= 0)) return ctx.fail('EINVAL');
  const f = h.file;
  let n = 0;
  let bytes: Uint8Array | null = null;
  if (f.kind === 'zero') n = count;
  else if (f.kind === 'file' && f.bytes !== null) {
    n = Math.max(0, Math.min(count, f.bytes.length - f.position));
    bytes = f.bytes.subarray(f.position, f.position + n);
  }
  if (n === 0) return 0;
  const done = ctx.kernel.copyToUser(ctx.thread, buf, bytes, n);
  if (done < n) return ctx.fail('EFAULT');
  f.position += n;
  return n;
}

/** write(fd, buf, count): the bytes are read from the caller's memory and go nowhere (null, zero, console). */
export function write(ctx: Ctx, a: readonly SyscallArg[]): number {
  const [fd, buf, count] = [num(a[0]), num(a[1]), num(a[2])];
  const h = handlerOf(ctx, fd);
  if (h === null || h.file.flags % 4 === O_RDONLY) return ctx.fail('EBADF');
  if (!(count >= 0)) return ctx.fail('EINVAL');
  if (count > 0 && ctx.kernel.copyFromUser(ctx.thread, buf, count).length < count) return ctx.fail('EFAULT');
  return count;
}
