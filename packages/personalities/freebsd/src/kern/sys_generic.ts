/**
 * sys/kern/sys_generic.c: read (3), write (4), pread (475), pwrite (476) — sys_read/kern_readv →
 * dofileread, sys_write/kern_writev → dofilewrite — over vn_read/vn_write (vfs_vnops.c), devfs's
 * null and zero (sys/dev/null/null.c) and pipes (sys_pipe.c). Check order: the byte count against
 * IOSIZE_MAX (EINVAL), the descriptor (EBADF: not open, or not open for that direction), for
 * pread/pwrite a seekable file (ESPIPE) and a non-negative offset (EINVAL, except on a character
 * device), then the transfer: a directory is EISDIR (security.bsd.allow_read_dir=0), a bad
 * buffer EFAULT (uiomove), a file past the simulation's limit EFBIG, a pipe without readers
 * EPIPE with SIGPIPE.
 */
import type { SyscallArg, SyscallContext } from '@polykernel/kernel';
import type { FreebsdMachine, FreebsdSpace } from '../machine.js';
import { arg, intArg } from '../vm/vm_mmap.js';
import { fget, FREAD, FWRITE, O, type FileDesc } from './kern_descrip.js';
import { takeInterrupt, tdsignal } from './kern_sig.js';
import { BIG_PIPE_SIZE, PIPE_BUF, pipePut, pipeTake } from './sys_pipe.js';
import { tooLarge, vnodeRead, vnodeWrite } from './vfs_vnode.js';
import { shmReadWrite } from './uipc_shm.js';

type Ctx = SyscallContext<FreebsdSpace, FreebsdMachine>;

/** IOSIZE_MAX: SSIZE_MAX (debug.iosize_max_clamp=0), which a JS number never exceeds safely. */
const IOSIZE_MAX = Number.MAX_SAFE_INTEGER;

/** uiomove out of the kernel: `data` to the caller's buffer, or false (EFAULT). */
function copyout(ctx: Ctx, va: number, data: Uint8Array): boolean {
  return data.length === 0 || ctx.kernel.copyToUser(ctx.thread, va, data) === data.length;
}

/** uiomove into the kernel: `len` bytes of the caller's buffer, or null (EFAULT). */
function copyin(ctx: Ctx, va: number, len: number): Uint8Array | null {
  if (len === 0) return new Uint8Array(0);
  const b = ctx.kernel.copyFromUser(ctx.thread, va, len);
  return b.length === len ? b : null;
}

/** fo_read at `off` (the file's offset, or pread's): the byte count, or an errno name. */
function foRead(ctx: Ctx, fp: FileDesc, va: number, n: number, off: number): number | string {
  if (fp.shm !== undefined) {
    const data = shmReadWrite(ctx.kernel, fp.shm, off, null, n) as Uint8Array;
    return copyout(ctx, va, data) ? data.length : 'EFAULT';
  }
  const v = fp.vnode;
  if (v !== null) {
    if (v.type === 'VDIR') return 'EISDIR';
    if (v.device === 'null') return 0;
    if (v.device === 'zero') return copyout(ctx, va, new Uint8Array(n)) ? n : 'EFAULT';
    const data = vnodeRead(ctx.kernel, v, off, n);
    return copyout(ctx, va, data) ? data.length : 'EFAULT';
  }
  return pipeRead(ctx, fp, va, n);
}

/** pipe_read: this end's own buffer; EOF once the other end is closed. */
function pipeRead(ctx: Ctx, fp: FileDesc, va: number, n: number): number | string {
  const p = fp.pipe!;
  const mine = p.ends[fp.end];
  if (mine.count === 0) {
    if (!p.ends[1 - fp.end]!.open || n === 0) return 0;
    if ((fp.flag & O.NONBLOCK) !== 0) return 'EAGAIN';
    return 'sleep';
  }
  const data = pipeTake(ctx.kernel, mine, n);
  return copyout(ctx, va, data) ? data.length : 'EFAULT';
}

/** fo_write at `off`: the byte count, or an errno name ('sleep': a full pipe, blocking). */
function foWrite(ctx: Ctx, fp: FileDesc, va: number, n: number, off: number): number | string {
  if (fp.shm !== undefined) {
    // shm_write: within shm_size (SHM_GROW_ON_WRITE's growth is not modelled).
    const data = copyin(ctx, va, Math.max(0, Math.min(n, fp.shm.size - off)));
    return data === null ? 'EFAULT' : (shmReadWrite(ctx.kernel, fp.shm, off, data, data.length) as number);
  }
  const v = fp.vnode;
  if (v !== null) {
    // null_write and zero's write consume everything without reading the buffer.
    if (v.device !== null) return n;
    const data = copyin(ctx, va, n);
    if (data === null) return 'EFAULT';
    const at = (fp.flag & O.APPEND) !== 0 ? v.size : off;
    if (tooLarge(at + n)) return 'EFBIG';
    vnodeWrite(ctx.kernel, v, at, data);
    return n;
  }
  return 'EBADF'; // a pipe is written by pipeWriter
}

/**
 * pipe_write for one write(2): the bytes go in as room appears; a blocking write sleeps until all
 * are in, a non-blocking one returns what fitted (EAGAIN if nothing); a write of at most PIPE_BUF
 * bytes goes in whole or not at all. The readers' end closing is EPIPE, even after a partial write
 * (dofilewrite keeps the error).
 */
function pipeWriter(fp: FileDesc, va: number, n: number): (c: Ctx) => number | string {
  let done = 0;
  return (c) => {
    // pipe_write: into the peer's buffer (wpipe = rpipe->pipe_peer); a closed peer is EPIPE.
    const peer = fp.pipe!.ends[1 - fp.end]!;
    if (!peer.open) return 'EPIPE';
    const left = n - done;
    const room = BIG_PIPE_SIZE - peer.count;
    const fits = left <= PIPE_BUF ? (room >= left ? left : 0) : Math.min(left, room);
    if (fits > 0) {
      const data = copyin(c, va + done, fits);
      if (data === null) return 'EFAULT';
      done += pipePut(c.kernel, peer, data);
    }
    if (done === n) return n;
    if ((fp.flag & O.NONBLOCK) !== 0) return done > 0 ? done : 'EAGAIN';
    return 'sleep';
  };
}

/** Finish a transfer: the count, sleep on a pipe, or the error (EPIPE also sends SIGPIPE). */
function finish(ctx: Ctx, r: number | string, retry: (c: Ctx) => number | string, fp: FileDesc, advance: boolean): number {
  if (r === 'sleep') {
    // A reader sleeps on its own end's buffer, a writer on the peer's.
    const write = ctx.spec.name === 'write' || ctx.spec.name === 'pwrite';
    const waiters = write ? fp.pipe!.ends[1 - fp.end]!.writers : fp.pipe!.ends[fp.end].readers;
    const reason = write ? 'pipewr' : 'piperd';
    waiters.add(ctx.thread);
    const resume = (c: Ctx): number => {
      // A caught signal without SA_RESTART ended the sleep (msleep with PCATCH: EINTR).
      if (takeInterrupt(c.thread)) {
        waiters.delete(c.thread);
        return c.fail('EINTR', 'a signal handler ran while the call slept');
      }
      const again = retry(c);
      if (again === 'sleep') {
        waiters.add(c.thread);
        return c.block(reason, resume);
      }
      return finish(c, again, retry, fp, advance);
    };
    return ctx.block(reason, resume);
  }
  if (typeof r === 'string') {
    // dofilewrite: tdsignal(td, SIGPIPE) — to the writing thread.
    if (r === 'EPIPE') tdsignal(ctx.kernel, ctx.thread, 'SIGPIPE');
    return ctx.fail(r, `${ctx.spec.name}: ${r}`);
  }
  // foffset_unlock_uio: the file's offset moves by what was transferred (a device's too).
  if (advance && fp.shm !== undefined) fp.offset += r;
  if (advance && fp.vnode !== null) {
    fp.offset = (fp.flag & O.APPEND) !== 0 && ctx.spec.name === 'write' ? fp.vnode.size : fp.offset + r;
  }
  return r;
}

function rw(ctx: Ctx, args: readonly SyscallArg[], write: boolean, positioned: boolean): number {
  const fd = intArg(args, 0);
  const va = arg(args, 1);
  const n = arg(args, 2);
  if (n > IOSIZE_MAX) return ctx.fail('EINVAL', 'nbyte above IOSIZE_MAX');
  const fp = fget(ctx.process, fd);
  if (fp === null || (fp.flag & (write ? FWRITE : FREAD)) === 0) return ctx.fail('EBADF', `fd ${fd} is not open for ${write ? 'writing' : 'reading'}`);
  let off = fp.offset;
  if (positioned) {
    if (fp.type === 'pipe') return ctx.fail('ESPIPE', 'a pipe has no offset');
    off = signedOffset(args[3]);
    if (off < 0 && fp.vnode?.type !== 'VCHR') return ctx.fail('EINVAL', `offset ${off}`);
  }
  const once = write && fp.type === 'pipe' ? pipeWriter(fp, va, n) : (c: Ctx): number | string => (write ? foWrite(c, fp, va, n, off) : foRead(c, fp, va, n, off));
  return finish(ctx, once(ctx), once, fp, !positioned);
}

/** An off_t argument: a register value at or above 2^63 is negative (two's complement). */
export function signedOffset(a: SyscallArg | undefined): number {
  if (typeof a !== 'number') return 0;
  return a >= 2 ** 63 ? a - 2 ** 64 : a;
}

export function sysRead(ctx: Ctx, args: readonly SyscallArg[]): number {
  return rw(ctx, args, false, false);
}

export function sysWrite(ctx: Ctx, args: readonly SyscallArg[]): number {
  return rw(ctx, args, true, false);
}

export function sysPread(ctx: Ctx, args: readonly SyscallArg[]): number {
  return rw(ctx, args, false, true);
}

export function sysPwrite(ctx: Ctx, args: readonly SyscallArg[]): number {
  return rw(ctx, args, true, true);
}

