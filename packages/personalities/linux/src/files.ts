/**
 * The file calls: openat (fs/open.c do_sys_openat2), read and write (fs/read_write.c ksys_read,
 * ksys_write), close (fs/open.c close_fd), with drivers/char/mem.c's /dev/zero and /dev/null built
 * in. Files from the file system are read-only (EROFS); read() copies out through the MMU.
 */
import type { SyscallArg, SyscallContext } from '@polykernel/kernel';
import { machineOf, type LinuxSpace } from './machine.js';
import { int, ulong } from './syscall-args.js';
import { copyOut } from './uaccess.js';

const O_ACCMODE = 3;
const O_WRONLY = 1;
const O_RDWR = 2;
const O_CREAT = 0x40;
const O_DIRECTORY = 0x10000;
const AT_FDCWD = -100;
/** The character devices every system has (drivers/char/mem.c), independent of the sysroot. */
const DEVICES: Record<string, string> = { '/dev/zero': 'zero', '/dev/null': 'null' };

/** read(2) (ksys_read → vfs_read): /dev/zero clears the buffer, /dev/null reads nothing, a file copies out from its offset. */
export function sysRead(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  const [fd, buf, count] = [int(a[0]), ulong(a[1]), ulong(a[2])];
  const f = ctx.process.file(fd);
  if (!f?.readable) return ctx.fail('EBADF', `fd ${fd} is not open for reading`);
  if (!Number.isSafeInteger(count) || count < 0) return ctx.fail('EINVAL', 'count');
  if (f.device === 'zero') return copyOut(ctx, buf, count, null) ? count : ctx.fail('EFAULT', 'buffer not writable');
  if (f.device === 'null') return 0;
  const off = f.offset ?? 0;
  const n = Math.max(0, Math.min(count, f.bytes.length - off));
  if (!copyOut(ctx, buf, n, f.bytes.subarray(off, off + n))) return ctx.fail('EFAULT', 'buffer not writable');
  f.offset = off + n;
  return n;
}

/** write(2) (ksys_write): devices take everything (write_null, write_zero), files are read-only. */
export function sysWrite(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  const [fd, , count] = [int(a[0]), ulong(a[1]), ulong(a[2])];
  const f = ctx.process.file(fd);
  if (!f?.writable) return ctx.fail('EBADF', `fd ${fd} is not open for writing`);
  if (!Number.isSafeInteger(count) || count < 0) return ctx.fail('EINVAL', 'count');
  // write_null and write_zero consume nothing: the buffer is not even read.
  if (f.device !== undefined) return count;
  return ctx.fail('EROFS', 'the simulated file system is read-only');
}

/** close(2) (close_fd). */
export function sysClose(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  const fd = int(a[0]);
  if (ctx.process.file(fd) === null) return ctx.fail('EBADF', `fd ${fd} is not open`);
  ctx.process.files[fd] = null;
  return 0;
}

/** openat(2) (do_sys_openat2): the built-in devices, else the file system's file, read-only. */
export function sysOpenat(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  const [dfd, path, flags] = [int(a[0]), typeof a[1] === 'string' ? a[1] : '', int(a[2] ?? 0)];
  if (dfd !== AT_FDCWD && !path.startsWith('/')) return ctx.fail('EBADF', 'only AT_FDCWD or absolute paths are modelled');
  const acc = flags & O_ACCMODE;
  const readable = acc !== O_WRONLY;
  const writable = acc === O_WRONLY || acc === O_RDWR;
  // getname_flags: an empty pathname is ENOENT.
  if (path === '') return ctx.fail('ENOENT', 'empty pathname');
  const device = DEVICES[path];
  if (device !== undefined) return ctx.process.installFile({ path, bytes: new Uint8Array(0), readable, writable, device, offset: 0 });
  const f = machineOf(ctx.kernel).lookup(path);
  if (typeof f === 'string') return ctx.fail(f === 'ENOENT' && (flags & O_CREAT) !== 0 ? 'EROFS' : f, `${path}: cannot open`);
  const dir = (f.mode & 0o170000) === 0o040000;
  if ((flags & O_DIRECTORY) !== 0 && !dir) return ctx.fail('ENOTDIR', `${path} is not a directory`);
  if (writable && dir) return ctx.fail('EISDIR', `${path} is a directory`);
  if (writable) return ctx.fail('EROFS', 'the simulated file system is read-only');
  // A file too large to simulate (the lookup read only its head): refused, never read as if the head were the file.
  if (f.partial !== undefined) return ctx.fail('EFBIG', `${path}: ${f.partial.size} bytes is too large to simulate (the simulated file system holds files up to 1 GiB)`);
  return ctx.process.installFile({ path: f.path, bytes: f.bytes, readable, writable, offset: 0, dev: f.dev, ino: f.ino });
}
