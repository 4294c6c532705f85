/**
 * sys/kern/sys_pipe.c: pipe2 (542) and the pipe's buffer. A pipe is two ends over one buffer of
 * at most BIG_PIPE_SIZE bytes (64 KiB; FreeBSD starts at PIPE_SIZE, 16 KiB, and grows it — the
 * growth is not modelled, nor direct writes that map the writer's pages). A reader of an empty
 * pipe sleeps while a writer is open (EAGAIN with O_NONBLOCK) and reads 0 at end of file; a
 * blocking writer sleeps until all its bytes are in (PIPE_BUF-sized writes are atomic); a writer
 * into a pipe without readers gets EPIPE and SIGPIPE (dofilewrite).
 */
import type { SyscallArg, SyscallContext, Thread } from '@polykernel/kernel';
import type { FreebsdKernel, FreebsdMachine, FreebsdSpace } from '../machine.js';
import { arg, intArg } from '../vm/vm_mmap.js';
import { FREAD, FWRITE, falloc, fdalloc, finstall, O, sysClose } from './kern_descrip.js';
import { vfsOf } from './vfs_vnode.js';

type Ctx = SyscallContext<FreebsdSpace, FreebsdMachine>;

export const BIG_PIPE_SIZE = 64 * 1024;
/** sys/sys/syslimits.h PIPE_BUF: writes up to this size are atomic. */
export const PIPE_BUF = 512;

export interface Pipe {
  /** Buffered bytes, oldest first. */
  buf: Uint8Array;
  count: number;
  /** Which ends are still open (0 read, 1 write). */
  readonly open: [boolean, boolean];
  /** Threads asleep in read (on an empty pipe) and in write (on a full one). */
  readonly readers: Set<Thread>;
  readonly writers: Set<Thread>;
  /** st_ino of the pipe (pipe_ino: a per-pipe number). */
  readonly ino: number;
}

function newPipe(m: FreebsdMachine): Pipe {
  const vfs = vfsOf(m);
  return { buf: new Uint8Array(BIG_PIPE_SIZE), count: 0, open: [true, true], readers: new Set(), writers: new Set(), ino: vfs.nextPipeIno++ };
}

function wakeAll(k: FreebsdKernel, set: Set<Thread>): void {
  for (const t of set) if (t.state === 'blocked') k.wake(t);
  set.clear();
}

/** pipe_read's copy: up to `n` bytes out of the buffer (the writers may go on). */
export function pipeTake(k: FreebsdKernel, p: Pipe, n: number): Uint8Array {
  const m = Math.min(n, p.count);
  const out = p.buf.slice(0, m);
  p.buf.copyWithin(0, m, p.count);
  p.count -= m;
  if (m > 0) wakeAll(k, p.writers);
  return out;
}

/** pipe_write's copy: as much of `data` as fits; returns the count. */
export function pipePut(k: FreebsdKernel, p: Pipe, data: Uint8Array): number {
  const m = Math.min(data.length, BIG_PIPE_SIZE - p.count);
  p.buf.set(data.subarray(0, m), p.count);
  p.count += m;
  if (m > 0) wakeAll(k, p.readers);
  return m;
}

/** pipe_close of one end: sleepers on the other side wake (to EOF, or to EPIPE). */
export function pipeClose(k: FreebsdKernel, p: Pipe, end: 0 | 1): void {
  p.open[end] = false;
  wakeAll(k, p.readers);
  wakeAll(k, p.writers);
}

/** sys_pipe2 → kern_pipe: the two descriptors, then copyout of int fildes[2] (closed again if that faults). */
export function sysPipe2(ctx: Ctx, args: readonly SyscallArg[]): number {
  const va = arg(args, 0);
  const flags = intArg(args, 1);
  if ((flags & ~(O.CLOEXEC | O.NONBLOCK)) !== 0) return ctx.fail('EINVAL', 'pipe2 flags other than O_CLOEXEC|O_NONBLOCK');
  const p = ctx.process;
  const pipe = newPipe(ctx.kernel.state);
  const status = flags & O.NONBLOCK;
  const cloexec = (flags & O.CLOEXEC) !== 0;
  const rfd = fdalloc(p, 0);
  if (rfd < 0) return ctx.fail('EMFILE', 'descriptor table full');
  finstall(p, rfd, falloc('pipe', FREAD + status, null, pipe, 0), cloexec);
  const wfd = fdalloc(p, 0);
  if (wfd < 0) {
    sysClose(ctx, [rfd]);
    return ctx.fail('EMFILE', 'descriptor table full');
  }
  // FreeBSD pipes are bidirectional: both ends are FREAD|FWRITE (pipe_paircreate), each reading
  // what the other writes. This model keeps the POSIX direction: fildes[0] reads, fildes[1] writes.
  finstall(p, wfd, falloc('pipe', FWRITE + status, null, pipe, 1), cloexec);
  const words = new Uint8Array(8);
  const dv = new DataView(words.buffer);
  dv.setInt32(0, rfd, true);
  dv.setInt32(4, wfd, true);
  if (ctx.kernel.copyToUser(ctx.thread, va, words) !== 8) {
    sysClose(ctx, [rfd]);
    sysClose(ctx, [wfd]);
    return ctx.fail('EFAULT', 'fildes is not writable');
  }
  return 0;
}
