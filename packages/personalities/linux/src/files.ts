/**
 * The file calls: openat (fs/open.c do_sys_openat2), read, write, pwrite64 (fs/read_write.c),
 * ftruncate (fs/open.c do_ftruncate), close (fs/open.c close_fd), with drivers/char/mem.c's
 * /dev/zero and /dev/null built in and pipes (pipe.ts). Regular files go through the inode's page
 * cache (filemap.ts), so read() sees what a shared mapping stored and a mapping sees what write()
 * wrote. Opening a file for writing, or creating one, puts it in the machine's copy-on-write
 * overlay: the host-backed file system is never written.
 */
import type { OpenFile, SyscallArg, SyscallContext } from '@polykernel/kernel';
import { execFileOf, fileRead, fileTruncate, fileWrite, ownFile } from './filemap.js';
import { machineOf, type LinuxMachine, type LinuxSpace } from './machine.js';
import { zap } from './memory.js';
import { pipeRead, pipeWrite, isPipe } from './pipe.js';
import { int, ulong } from './syscall-args.js';
import { copyIn, copyOut } from './uaccess.js';
import type { VmFile } from './vma.js';

const O_ACCMODE = 3;
const O_WRONLY = 1;
const O_RDWR = 2;
const O_CREAT = 0x40;
const O_EXCL = 0x80;
const O_TRUNC = 0x200;
const O_APPEND = 0x400;
const O_DIRECTORY = 0x10000;
/** The device the overlay's new files get (an anonymous superblock's, as a tmpfs would have). */
const OVERLAY_DEV: [number, number] = [0, 0x2a];
/** A regular file's inode behind an open file (file->f_inode), and whether it was opened O_APPEND. */
const inodes = new WeakMap<OpenFile, { file: VmFile; append: boolean }>();
/** The inode (VmFile) an open regular file reads and writes, if it is one. */
export function inodeOf(f: OpenFile): VmFile | undefined {
  return inodes.get(f)?.file;
}
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
  if (isPipe(f)) return pipeRead(ctx, f, buf, count);
  const off = f.offset ?? 0;
  const inode = inodeOf(f);
  const data = inode !== undefined ? fileRead(machineOf(ctx.kernel), inode, off, count) : f.bytes.subarray(off, off + Math.max(0, Math.min(count, f.bytes.length - off)));
  if (!copyOut(ctx, buf, data.length, data)) return ctx.fail('EFAULT', 'buffer not writable');
  f.offset = off + data.length;
  return data.length;
}

/** write(2) (ksys_write): devices take everything (write_null, write_zero), a pipe buffers, a file takes the bytes at its offset (O_APPEND: its end). */
export function sysWrite(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  const [fd, buf, count] = [int(a[0]), ulong(a[1]), ulong(a[2])];
  const f = ctx.process.file(fd);
  if (!f?.writable) return ctx.fail('EBADF', `fd ${fd} is not open for writing`);
  if (!Number.isSafeInteger(count) || count < 0) return ctx.fail('EINVAL', 'count');
  if (isPipe(f)) return pipeWrite(ctx, f, buf, count);
  // write_null and write_zero consume nothing: the buffer is not even read.
  if (f.device !== undefined) return count;
  const i = inodes.get(f);
  if (i === undefined) return ctx.fail('EROFS', 'the simulated file system is read-only');
  const off = i.append ? (i.file.bytes?.length ?? 0) : (f.offset ?? 0);
  const n = writeAt(ctx, f, i.file, buf, count, off);
  if (n >= 0) f.offset = off + n;
  return n;
}

/** pwrite64(2): at `pos`, the offset unchanged (ESPIPE on a pipe; O_APPEND still appends on Linux). */
export function sysPwrite64(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  const [fd, buf, count, pos] = [int(a[0]), ulong(a[1]), ulong(a[2]), ulong(a[3])];
  const f = ctx.process.file(fd);
  if (!f?.writable) return ctx.fail('EBADF', `fd ${fd} is not open for writing`);
  if (isPipe(f)) return ctx.fail('ESPIPE', 'a pipe has no position');
  if (!Number.isSafeInteger(pos) || pos < 0) return ctx.fail('EINVAL', 'negative position');
  if (f.device !== undefined) return count;
  const i = inodes.get(f);
  if (i === undefined) return ctx.fail('EROFS', 'the simulated file system is read-only');
  return writeAt(ctx, f, i.file, buf, count, i.append ? (i.file.bytes?.length ?? 0) : pos);
}

/** The user's `count` bytes at `buf` (copy_from_user: EFAULT) written at `off` through the page cache. */
function writeAt(ctx: SyscallContext<LinuxSpace>, f: OpenFile, file: VmFile, buf: number, count: number, off: number): number {
  const data = copyIn(ctx, buf, count);
  if (data === null) return ctx.fail('EFAULT', 'buffer not readable');
  fileWrite(machineOf(ctx.kernel), file, off, data);
  f.bytes = file.bytes!;
  return count;
}

/** ftruncate(2) (do_ftruncate): EINVAL unless a regular file open for writing; the file takes the new size. */
export function sysFtruncate(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  const [fd, length] = [int(a[0]), ulong(a[1])];
  // The length is a loff_t: a register above 2^63 is negative.
  if (!Number.isSafeInteger(length)) return ctx.fail(length > 2 ** 52 ? 'EINVAL' : 'EFBIG', 'length');
  const f = ctx.process.file(fd);
  if (f === null) return ctx.fail('EBADF', `fd ${fd} is not open`);
  const i = inodes.get(f);
  if (i === undefined || !f.writable) return ctx.fail('EINVAL', 'not a regular file open for writing');
  const m = machineOf(ctx.kernel);
  fileTruncate(m, i.file, length, (p, s, e) => { zap(m, p, ctx.thread.cpu, s, e); });
  f.bytes = i.file.bytes!;
  return 0;
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
  const m = machineOf(ctx.kernel);
  const f = m.lookup(path);
  if (typeof f === 'string') {
    if (f !== 'ENOENT' || (flags & O_CREAT) === 0) return ctx.fail(f, `${path}: cannot open`);
    return create(ctx, m, path, readable, writable, (flags & O_APPEND) !== 0);
  }
  if ((flags & (O_CREAT | O_EXCL)) === (O_CREAT | O_EXCL)) return ctx.fail('EEXIST', `${path} exists`);
  const dir = (f.mode & 0o170000) === 0o040000;
  if ((flags & O_DIRECTORY) !== 0 && !dir) return ctx.fail('ENOTDIR', `${path} is not a directory`);
  if (writable && dir) return ctx.fail('EISDIR', `${path} is a directory`);
  // A file too large to simulate (the lookup read only its head): refused, never read as if the head were the file.
  if (f.partial !== undefined) return ctx.fail('EFBIG', `${path}: ${f.partial.size} bytes is too large to simulate (the simulated file system holds files up to 1 GiB)`);
  if (dir) return ctx.process.installFile({ path: f.path, bytes: f.bytes, readable, writable, offset: 0, dev: f.dev, ino: f.ino });
  const inode = execFileOf(m, f);
  if (writable) ownFile(m, inode, f.mode);
  // O_TRUNC (handle_truncate) empties a regular file opened for writing.
  if (writable && (flags & O_TRUNC) !== 0) fileTruncate(m, inode, 0, (p, s, e) => { zap(m, p, ctx.thread.cpu, s, e); });
  const open: OpenFile = { path: f.path, bytes: inode.bytes!, readable, writable, offset: 0, dev: f.dev, ino: f.ino };
  inodes.set(open, { file: inode, append: (flags & O_APPEND) !== 0 });
  return ctx.process.installFile(open);
}

/** O_CREAT of a missing file: a new empty regular file in the overlay, if its directory exists. */
function create(ctx: SyscallContext<LinuxSpace>, m: LinuxMachine, path: string, readable: boolean, writable: boolean, append: boolean): number {
  const parent = path.slice(0, path.lastIndexOf('/')) || '/';
  // The root always exists; another directory must be one the file system knows.
  const d = parent === '/' ? null : m.lookup(parent);
  if (typeof d === 'string') return ctx.fail(d, `${parent}: cannot create ${path}`);
  if (d !== null && (d.mode & 0o170000) !== 0o040000) return ctx.fail('ENOTDIR', `${parent} is not a directory`);
  const file: VmFile = { path, dev: OVERLAY_DEV, ino: m.nextIno++, bytes: new Uint8Array(0) };
  m.inodes.set(`${file.dev[0]}:${file.dev[1]}:${file.ino}`, file);
  // 0666 less the umask (0022): 0644.
  m.overlay.set(path, { file, mode: 0o100644 });
  const open: OpenFile = { path, bytes: file.bytes!, readable, writable, offset: 0, dev: file.dev, ino: file.ino };
  inodes.set(open, { file, append });
  return ctx.process.installFile(open);
}
