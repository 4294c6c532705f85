/**
 * The system calls a dynamically linked program's start-up makes besides mmap/mprotect/open/read/
 * close: pread64 (fs/read_write.c ksys_pread64), access (fs/open.c do_faccessat), newfstatat
 * (fs/stat.c vfs_fstatat + cp_new_stat), arch_prctl (arch/x86/kernel/process_64.c do_arch_prctl_64),
 * set_tid_address (kernel/fork.c), set_robust_list (kernel/futex/syscalls.c), rseq (kernel/rseq.c)
 * and readlink of /proc/self/exe (fs/proc/base.c proc_exe_link, which
 * ld.so reads for $ORIGIN). The per-thread values they set are kept beside the thread.
 */
import type { SyscallArg, SyscallContext, Thread } from '@polykernel/kernel';
import { fileRead } from './filemap.js';
import { inodeOf } from './files.js';
import { machineOf, type LinuxSpace } from './machine.js';
import { int, ulong } from './syscall-args.js';
import { copyOut } from './uaccess.js';

const AT_FDCWD = -100;
const AT_EMPTY_PATH = 0x1000;
const ARCH_SET_FS = 0x1002;
const ARCH_GET_FS = 0x1003;
const STAT_SIZE = 144;
/** sizeof (struct robust_list_head) on x86-64. */
const ROBUST_LIST_HEAD = 24;
/** ORIG_RSEQ_SIZE: the 32-byte struct rseq every kernel since 4.18 accepts. */
const RSEQ_SIZE = 32;

/** What the start-up calls set on a thread: %fs base, clear_child_tid, the robust list, the rseq area. */
export interface ThreadStartup {
  fsBase: number;
  clearChildTid: number;
  robustList: number;
  rseq: number;
}

const startup = new WeakMap<Thread, ThreadStartup>();

/** The thread's start-up state (zeros until the calls set it). */
export function threadStartup(t: Thread): ThreadStartup {
  let s = startup.get(t);
  if (s === undefined) {
    s = { fsBase: 0, clearChildTid: 0, robustList: 0, rseq: 0 };
    startup.set(t, s);
  }
  return s;
}

function pathArg(a: SyscallArg | undefined): string {
  return typeof a === 'string' ? a : '';
}

/** pread64(2): read at a position without moving the file offset. */
export function sysPread64(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  const [fd, buf, count, pos] = [int(a[0]), ulong(a[1]), ulong(a[2]), ulong(a[3])];
  const f = ctx.process.file(fd);
  if (!f?.readable) return ctx.fail('EBADF', `fd ${fd} is not open for reading`);
  if (!Number.isSafeInteger(pos) || pos < 0) return ctx.fail('EINVAL', 'negative position');
  if (f.device === 'zero') return copyOut(ctx, buf, count, null) ? count : ctx.fail('EFAULT', 'buffer not writable');
  if (f.device !== undefined) return f.device === 'null' ? 0 : ctx.fail('ESPIPE', 'not seekable');
  const inode = inodeOf(f);
  const data = inode !== undefined ? fileRead(machineOf(ctx.kernel), inode, pos, count) : f.bytes.subarray(pos, pos + Math.max(0, Math.min(count, f.bytes.length - pos)));
  if (!copyOut(ctx, buf, data.length, data)) return ctx.fail('EFAULT', 'buffer not writable');
  return data.length;
}

/** access(2): the file exists (the simulated file system grants read and execute as its modes say). */
export function sysAccess(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  const path = pathArg(a[0]);
  const f = machineOf(ctx.kernel).lookup(path);
  if (typeof f === 'string') return ctx.fail(f, `${path}: cannot access`);
  const mode = int(a[1] ?? 0);
  // do_faccessat checks against the owner's bits here (the caller's credentials are the owner's).
  const bits = Math.floor(f.mode / 64) % 8;
  if ((mode & ~bits & 7) !== 0) return ctx.fail('EACCES', `${path}: permission denied`);
  return 0;
}

/** cp_new_stat: struct stat as x86-64 user space sees it (144 bytes). */
export function encodeStat(dev: [number, number], ino: number, mode: number, size: number): Uint8Array {
  const b = new Uint8Array(STAT_SIZE);
  const v = new DataView(b.buffer);
  const [major, minor] = dev;
  // new_encode_dev (include/linux/kdev_t.h).
  const encoded = BigInt(minor % 256) + BigInt(major) * 256n + BigInt(Math.floor(minor / 256)) * 1048576n;
  v.setBigUint64(0, encoded, true);
  v.setBigUint64(8, BigInt(ino), true);
  v.setBigUint64(16, 1n, true);
  v.setUint32(24, mode, true);
  v.setBigInt64(48, BigInt(size), true);
  v.setBigInt64(56, 4096n, true);
  v.setBigInt64(64, BigInt(Math.ceil(size / 512)), true);
  return b;
}

/** newfstatat(2): a path (from the file system) or, with AT_EMPTY_PATH and "", an open descriptor. */
export function sysNewfstatat(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  const [dfd, path, buf, flags] = [int(a[0]), pathArg(a[1]), ulong(a[2]), int(a[3] ?? 0)];
  const m = machineOf(ctx.kernel);
  let target = path;
  if (path === '') {
    if ((flags & AT_EMPTY_PATH) === 0) return ctx.fail('ENOENT', 'empty path without AT_EMPTY_PATH');
    const f = dfd === AT_FDCWD ? null : ctx.process.file(dfd);
    if (f === null) return ctx.fail('EBADF', `fd ${dfd} is not open`);
    if (f.device !== undefined) {
      // drivers/char/mem.c: /dev/zero is (1, 5), /dev/null (1, 3), character devices.
      return copyOut(ctx, buf, STAT_SIZE, encodeStat([0, 6], 0, 0o20666, 0)) ? 0 : ctx.fail('EFAULT', 'bad stat buffer');
    }
    target = f.path;
  } else if (dfd !== AT_FDCWD && !path.startsWith('/')) {
    return ctx.fail('EBADF', 'only AT_FDCWD or absolute paths are modelled');
  }
  const f = m.lookup(target);
  if (typeof f === 'string') return ctx.fail(f, `${target}: cannot stat`);
  return copyOut(ctx, buf, STAT_SIZE, encodeStat(f.dev, f.ino, f.mode, f.partial?.size ?? f.bytes.length)) ? 0 : ctx.fail('EFAULT', 'bad stat buffer');
}

/** arch_prctl(2): ARCH_SET_FS / ARCH_GET_FS (the other codes are not modelled: EINVAL). */
export function sysArchPrctl(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  const [code, addr] = [int(a[0]), ulong(a[1])];
  const s = threadStartup(ctx.thread);
  if (code === ARCH_SET_FS) {
    // do_arch_prctl_64: the base must be a canonical user address (TASK_SIZE_MAX).
    if (addr >= ctx.process.space.mm.taskSize) return ctx.fail('EPERM', 'fs base beyond TASK_SIZE_MAX');
    s.fsBase = addr;
    return 0;
  }
  if (code === ARCH_GET_FS) {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(s.fsBase), true);
    return copyOut(ctx, addr, 8, b) ? 0 : ctx.fail('EFAULT', 'bad address');
  }
  return ctx.fail('EINVAL', `arch_prctl code 0x${code.toString(16)} is not modelled`);
}

/** set_tid_address(2): remember clear_child_tid, return the caller's thread id. */
export function sysSetTidAddress(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  threadStartup(ctx.thread).clearChildTid = ulong(a[0]);
  return ctx.thread.tid;
}

/** set_robust_list(2): the head's size must be sizeof (struct robust_list_head). */
export function sysSetRobustList(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  if (ulong(a[1]) !== ROBUST_LIST_HEAD) return ctx.fail('EINVAL', 'len is not sizeof(struct robust_list_head)');
  threadStartup(ctx.thread).robustList = ulong(a[0]);
  return 0;
}

/**
 * rseq(2) registration: 32 bytes, 32-byte aligned; the kernel then writes cpu_id_start and cpu_id
 * (rseq_update_cpu_node_id) before the thread returns to user space.
 */
export function sysRseq(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  const [area, len, flags] = [ulong(a[0]), ulong(a[1]), int(a[2] ?? 0)];
  const s = threadStartup(ctx.thread);
  if (flags !== 0) return ctx.fail('EINVAL', 'unregistration is not modelled');
  if (s.rseq !== 0) return ctx.fail('EBUSY', 'rseq already registered');
  if (len < RSEQ_SIZE || area % 32 !== 0) return ctx.fail('EINVAL', 'rseq area too small or misaligned');
  const ids = new Uint8Array(8);
  new DataView(ids.buffer).setUint32(0, ctx.thread.cpu, true);
  new DataView(ids.buffer).setUint32(4, ctx.thread.cpu, true);
  if (!copyOut(ctx, area, 8, ids)) return ctx.fail('EFAULT', 'rseq area not writable');
  s.rseq = area;
  return 0;
}

/** readlink(2): /proc/self/exe and /proc/<pid>/exe name the program (d_path of its file); other links are not modelled. */
export function sysReadlink(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  const [path, buf, size] = [pathArg(a[0]), ulong(a[1]), int(a[2] ?? 0)];
  if (size <= 0) return ctx.fail('EINVAL', 'bufsiz must be positive');
  const m = /^\/proc\/(self|\d+)\/exe$/.exec(path);
  if (m === null) return ctx.fail('EINVAL', `${path}: only /proc/<pid>/exe links are modelled`);
  const img = ctx.process.space.image;
  if (m[1] !== 'self' && Number(m[1]) !== ctx.process.pid) return ctx.fail('ENOENT', `${path}: only the caller's own exe link is modelled`);
  if (img === null) return ctx.fail('ENOENT', `${path}: no program`);
  const bytes = new TextEncoder().encode(img.path).subarray(0, size);
  return copyOut(ctx, buf, bytes.length, bytes) ? bytes.length : ctx.fail('EFAULT', 'bad buffer');
}
