/**
 * sys/kern/sys_pipe.c: pipe2 (542) and the pipe's buffers. A FreeBSD pipe is a pair of struct
 * pipe (pipe_paircreate), one per end, each with its own buffer: the bytes an end reads. Both
 * descriptors are FREAD|FWRITE — a write on one end goes into the other end's buffer (pipe_write
 * writes into rpipe->pipe_peer) and is read there, so the pipe works in both directions. Each buffer
 * holds at most BIG_PIPE_SIZE bytes (64 KiB; FreeBSD starts at PIPE_SIZE, 16 KiB, and grows it —
 * the growth is not modelled, nor direct writes that map the writer's pages). A reader of an empty
 * buffer sleeps while the other end is open (EAGAIN with O_NONBLOCK) and reads 0 once it is closed
 * (PIPE_EOF); a blocking writer sleeps until all its bytes are in (PIPE_BUF-sized writes are
 * atomic); a writer whose other end is closed gets EPIPE and SIGPIPE (dofilewrite).
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

/** One end's struct pipe: the buffer it reads, and who sleeps on it. */
export interface PipeEnd {
  /** Buffered bytes, oldest first. */
  buf: Uint8Array;
  count: number;
  /** The end's descriptor is still open (not PIPE_EOF). */
  open: boolean;
  /** Threads asleep reading this end's empty buffer, and writing into its full one. */
  readonly readers: Set<Thread>;
  readonly writers: Set<Thread>;
  /** pipe_ino: given at the end's first fstat (0: not yet). */
  ino: number;
}

/** struct pipepair. */
export interface Pipe {
  readonly ends: [PipeEnd, PipeEnd];
}

function newEnd(): PipeEnd {
  return { buf: new Uint8Array(BIG_PIPE_SIZE), count: 0, open: true, readers: new Set(), writers: new Set(), ino: 0 };
}

/** pipe_stat's st_ino: each end's own number, allocated the first time it is asked for. */
export function pipeIno(m: FreebsdMachine, p: Pipe, end: 0 | 1): number {
  const e = p.ends[end];
  if (e.ino === 0) e.ino = vfsOf(m).nextPipeIno++;
  return e.ino;
}

function wakeAll(k: FreebsdKernel, set: Set<Thread>): void {
  for (const t of set) if (t.state === 'blocked') k.wake(t);
  set.clear();
}

/** pipe_read's copy: up to `n` bytes out of end `e`'s buffer (writers into it may go on). */
export function pipeTake(k: FreebsdKernel, e: PipeEnd, n: number): Uint8Array {
  const m = Math.min(n, e.count);
  const out = e.buf.slice(0, m);
  e.buf.copyWithin(0, m, e.count);
  e.count -= m;
  if (m > 0) wakeAll(k, e.writers);
  return out;
}

/** pipe_write's copy into the peer end `e`'s buffer: as much of `data` as fits; returns the count. */
export function pipePut(k: FreebsdKernel, e: PipeEnd, data: Uint8Array): number {
  const m = Math.min(data.length, BIG_PIPE_SIZE - e.count);
  e.buf.set(data.subarray(0, m), e.count);
  e.count += m;
  if (m > 0) wakeAll(k, e.readers);
  return m;
}

/** pipeclose of one end: sleepers on both buffers wake (to EOF, or to EPIPE). */
export function pipeClose(k: FreebsdKernel, p: Pipe, end: 0 | 1): void {
  p.ends[end].open = false;
  for (const e of p.ends) {
    wakeAll(k, e.readers);
    wakeAll(k, e.writers);
  }
}

/** sys_pipe2 → kern_pipe: the two descriptors, then copyout of int fildes[2] (closed again if that faults). */
export function sysPipe2(ctx: Ctx, args: readonly SyscallArg[]): number {
  const va = arg(args, 0);
  const flags = intArg(args, 1);
  if ((flags & ~(O.CLOEXEC | O.NONBLOCK)) !== 0) return ctx.fail('EINVAL', 'pipe2 flags other than O_CLOEXEC|O_NONBLOCK');
  const p = ctx.process;
  const pipe: Pipe = { ends: [newEnd(), newEnd()] };
  const status = flags & O.NONBLOCK;
  const cloexec = (flags & O.CLOEXEC) !== 0;
  const rfd = fdalloc(p, 0);
  if (rfd < 0) return ctx.fail('EMFILE', 'descriptor table full');
  // pipe_paircreate: both ends are FREAD|FWRITE.
  finstall(p, rfd, falloc('pipe', FREAD + FWRITE + status, null, pipe, 0), cloexec);
  const wfd = fdalloc(p, 0);
  if (wfd < 0) {
    sysClose(ctx, [rfd]);
    return ctx.fail('EMFILE', 'descriptor table full');
  }
  finstall(p, wfd, falloc('pipe', FREAD + FWRITE + status, null, pipe, 1), cloexec);
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
