/**
 * fs/pipe.c: pipe(2) and pipe2(2) — a buffer of PIPE_DEF_BUFFERS pages (64 KiB) between a read end
 * and a write end. A read of an empty pipe returns 0 once no writer is left, EAGAIN under
 * O_NONBLOCK, and otherwise sleeps until a write; a write with no reader left is EPIPE and SIGPIPE;
 * a write of at most PIPE_BUF (4096) bytes goes in whole or not at all (EAGAIN, or a sleep), a larger
 * one takes what fits. Which descriptors hold an end is read from the file tables, so close, exit
 * and fork need no bookkeeping here.
 */
import type { OpenFile, Process, SyscallArg, SyscallContext, Thread } from '@polykernel/kernel';
import { machineOf, type LinuxSpace } from './machine.js';
import { sendSignal } from './signal.js';
import { int, ulong } from './syscall-args.js';
import { copyIn, copyOut } from './uaccess.js';

const O_NONBLOCK = 0x800;
const O_CLOEXEC = 0x80000;
const O_DIRECT = 0x4000;
/** PIPE_DEF_BUFFERS pages of the default pipe size. */
const PIPE_SIZE = 16 * 4096;
const PIPE_BUF = 4096;

interface Pipe {
  data: Uint8Array[];
  bytes: number;
  readEnd: OpenFile;
  writeEnd: OpenFile;
  /** Threads asleep in a read or a write of this pipe. */
  waiters: Set<Thread>;
}

const pipes = new WeakMap<OpenFile, Pipe>();
const nonblocking = new WeakSet<OpenFile>();

export function isPipe(f: OpenFile): boolean {
  return pipes.has(f);
}

/** Whether any live process holds this end in its file table. */
function held(k: SyscallContext<LinuxSpace>['kernel'], end: OpenFile): boolean {
  for (const p of k.processes.values() as IterableIterator<Process<LinuxSpace>>) if (p.state === 'running' && p.files.includes(end)) return true;
  return false;
}

function wakeAll(ctx: SyscallContext<LinuxSpace>, pipe: Pipe): void {
  for (const t of pipe.waiters) ctx.kernel.wake(t);
  pipe.waiters.clear();
}

/** pipe2(2): two descriptors, read end first, written as two ints (EFAULT: neither stays open). */
export function sysPipe2(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  const [fds, flags] = [ulong(a[0]), int(a[1] ?? 0)];
  if ((flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT)) !== 0) return ctx.fail('EINVAL', 'unknown pipe2 flags');
  const m = machineOf(ctx.kernel);
  const path = `pipe:[${m.nextIno++}]`;
  const readEnd: OpenFile = { path, bytes: new Uint8Array(0), readable: true, writable: false, device: 'pipe' };
  const writeEnd: OpenFile = { path, bytes: new Uint8Array(0), readable: false, writable: true, device: 'pipe' };
  const pipe: Pipe = { data: [], bytes: 0, readEnd, writeEnd, waiters: new Set() };
  pipes.set(readEnd, pipe);
  pipes.set(writeEnd, pipe);
  if ((flags & O_NONBLOCK) !== 0) {
    nonblocking.add(readEnd);
    nonblocking.add(writeEnd);
  }
  const r = ctx.process.installFile(readEnd);
  const w = ctx.process.installFile(writeEnd);
  const b = new Uint8Array(8);
  new DataView(b.buffer).setInt32(0, r, true);
  new DataView(b.buffer).setInt32(4, w, true);
  if (!copyOut(ctx, fds, 8, b)) {
    ctx.process.files[r] = null;
    ctx.process.files[w] = null;
    return ctx.fail('EFAULT', 'fds not writable');
  }
  return 0;
}

/** pipe(2): pipe2 without flags. */
export function sysPipe(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  return sysPipe2(ctx, [a[0] ?? 0, 0]);
}

/** pipe_read: what the buffer holds, up to `count`. */
export function pipeRead(ctx: SyscallContext<LinuxSpace>, f: OpenFile, buf: number, count: number): number {
  const pipe = pipes.get(f)!;
  if (count === 0) return 0;
  if (pipe.bytes === 0) {
    if (!held(ctx.kernel, pipe.writeEnd)) return 0;
    if (nonblocking.has(f)) return ctx.fail('EAGAIN', 'the pipe is empty');
    pipe.waiters.add(ctx.thread);
    return ctx.block('pipe_read', (c) => pipeRead(c, f, buf, count));
  }
  const n = Math.min(count, pipe.bytes);
  const out = new Uint8Array(n);
  let done = 0;
  while (done < n) {
    const head = pipe.data[0]!;
    const take = Math.min(head.length, n - done);
    out.set(head.subarray(0, take), done);
    done += take;
    if (take === head.length) pipe.data.shift();
    else pipe.data[0] = head.subarray(take);
  }
  if (!copyOut(ctx, buf, n, out)) {
    // The bytes stay consumed: pipe_read's copy_page_to_iter failure leaves them read.
    pipe.bytes -= n;
    return ctx.fail('EFAULT', 'buffer not writable');
  }
  pipe.bytes -= n;
  wakeAll(ctx, pipe);
  return n;
}

/** pipe_write: EPIPE (and SIGPIPE) without a reader; small writes whole or not at all. */
export function pipeWrite(ctx: SyscallContext<LinuxSpace>, f: OpenFile, buf: number, count: number): number {
  const pipe = pipes.get(f)!;
  if (!held(ctx.kernel, pipe.readEnd)) {
    sendSignal(machineOf(ctx.kernel), ctx.process, 'SIGPIPE');
    return ctx.fail('EPIPE', 'no reader');
  }
  if (count === 0) return 0;
  const room = PIPE_SIZE - pipe.bytes;
  if (room === 0 || (count <= PIPE_BUF && room < count)) {
    if (nonblocking.has(f)) return ctx.fail('EAGAIN', 'the pipe is full');
    pipe.waiters.add(ctx.thread);
    return ctx.block('pipe_write', (c) => pipeWrite(c, f, buf, count));
  }
  const n = Math.min(count, room);
  const data = copyIn(ctx, buf, n);
  if (data === null) return ctx.fail('EFAULT', 'buffer not readable');
  pipe.data.push(data);
  pipe.bytes += n;
  wakeAll(ctx, pipe);
  return n;
}
