/**
 * sys/kern/kern_descrip.c: the descriptor table (struct filedesc of filedescent: a struct file
 * and the descriptor's own flags) and the calls on it — close (6), dup (41), dup2 (90), fcntl
 * (92) — with kern_dup's and kern_fcntl's check order and errnos. A struct file is shared by the
 * descriptors dup and fork make (one offset, one set of status flags); FD_CLOEXEC belongs to the
 * descriptor. The core's `Process.files` holds the descriptors; fork copies them (fdcopy).
 *
 * The working directory (struct pwddesc / struct pwd, kern_descrip.c pwd_*): each process's
 * pwddesc holds its current directory's vnode (a use of it, as vrefact takes); fork with RFFDG
 * copies it (pdcopy), with RFCFDG makes a new one from the parent's (pdinit), and without either
 * shares it (pdshare: a chdir in one process moves the other); execve keeps it; exit drops it
 * (pdescfree).
 */
import type { OpenFile, Process, SyscallArg, SyscallContext } from '@polykernel/kernel';
import type { FreebsdKernel, FreebsdMachine, FreebsdSpace } from '../machine.js';
import { intArg } from '../vm/vm_mmap.js';
import { pipeClose, type Pipe } from './sys_pipe.js';
import { rootVnode } from './vfs_lookup.js';
import { vnodeRecycle, type Vnode } from './vfs_vnode.js';
import type { ShmFd } from './uipc_shm.js';

type Ctx = SyscallContext<FreebsdSpace, FreebsdMachine>;

/** sys/sys/fcntl.h. */
export const O = {
  RDONLY: 0, WRONLY: 1, RDWR: 2, ACCMODE: 3, NONBLOCK: 0x4, APPEND: 0x8, SHLOCK: 0x10, EXLOCK: 0x20, ASYNC: 0x40, FSYNC: 0x80,
  NOFOLLOW: 0x100, CREAT: 0x200, TRUNC: 0x400, EXCL: 0x800, NOCTTY: 0x8000, DIRECT: 0x10000, DIRECTORY: 0x20000, EXEC: 0x40000,
  TTY_INIT: 0x80000, CLOEXEC: 0x100000, VERIFY: 0x200000, PATH: 0x400000, RESOLVE_BENEATH: 0x800000, DSYNC: 0x1000000,
  EMPTY_PATH: 0x2000000,
} as const;
/** f_flag: FFLAGS(oflags) = oflags + 1 turns O_RDONLY/O_WRONLY/O_RDWR into FREAD/FWRITE bits. */
export const FREAD = 0x1;
export const FWRITE = 0x2;
/** fcntl commands. */
export const F = { DUPFD: 0, GETFD: 1, SETFD: 2, GETFL: 3, SETFL: 4, GETOWN: 5, SETOWN: 6, DUP2FD: 10, DUPFD_CLOEXEC: 17, DUP2FD_CLOEXEC: 18 } as const;
export const FD_CLOEXEC = 1;
/** FCNTLFLAGS: the status flags F_SETFL may change (FAPPEND|FASYNC|FFSYNC|FNONBLOCK|FPOSIXSHM|O_DIRECT). */
const FCNTLFLAGS = O.APPEND + O.ASYNC + O.FSYNC + O.NONBLOCK + O.NOFOLLOW /* FPOSIXSHM */ + O.DIRECT;
/**
 * getmaxfd: min(RLIMIT_NOFILE, kern.maxfilesperproc). Both scale with memory on a real system;
 * this model's limit is a fixed 64 Ki descriptors.
 */
export const MAXFD = 65536;

/** struct file. */
export interface FileDesc {
  readonly type: 'vnode' | 'pipe' | 'shm';
  /** f_flag: FREAD, FWRITE and the status flags (O_APPEND, O_NONBLOCK, ...). */
  flag: number;
  /** f_offset. */
  offset: number;
  readonly vnode: Vnode | null;
  readonly pipe: Pipe | null;
  /** The pipe end this file is (0 read, 1 write). */
  readonly end: 0 | 1;
  /** Descriptors referring to it (f_count). */
  count: number;
  /** DTYPE_SHM: the POSIX shared memory object (uipc_shm.ts). */
  readonly shm?: ShmFd;
}

/** struct filedescent: the core's OpenFile view of a descriptor, over its struct file. */
export class Descriptor implements OpenFile {
  /** A devfs device's name ('zero', 'null'), the file's device and inode numbers: set when they exist. */
  readonly device?: string;
  readonly dev?: [number, number];
  readonly ino?: number;

  constructor(readonly fp: FileDesc, public cloexec: boolean) {
    fp.count++;
    const v = fp.vnode;
    if (v !== null) {
      if (v.device !== null) this.device = v.device;
      this.dev = v.dev;
      this.ino = v.ino;
    }
  }

  get path(): string {
    return this.fp.vnode?.path ?? (this.fp.shm !== undefined ? (this.fp.shm.path ?? 'shm') : 'pipe');
  }

  get bytes(): Uint8Array {
    const v = this.fp.vnode;
    return v === null ? new Uint8Array(0) : v.bytes.subarray(0, Math.min(v.size, v.bytes.length));
  }

  get readable(): boolean {
    return (this.fp.flag & FREAD) !== 0;
  }

  get writable(): boolean {
    return (this.fp.flag & FWRITE) !== 0;
  }

  get offset(): number {
    return this.fp.offset;
  }

  set offset(v: number) {
    this.fp.offset = v;
  }

}

/** fget: the descriptor's struct file, or null (EBADF). */
export function fget(p: Process<FreebsdSpace>, fd: number): FileDesc | null {
  if (!Number.isInteger(fd) || fd < 0) return null;
  const d = p.files[fd];
  return d instanceof Descriptor ? d.fp : null;
}

function descriptor(p: Process<FreebsdSpace>, fd: number): Descriptor | null {
  if (!Number.isInteger(fd) || fd < 0) return null;
  const d = p.files[fd];
  return d instanceof Descriptor ? d : null;
}

/** fdalloc: the lowest free descriptor at or above `min`, or -1 (EMFILE). */
export function fdalloc(p: Process<FreebsdSpace>, min: number): number {
  for (let fd = min; fd < MAXFD; fd++) if (p.files[fd] === undefined || p.files[fd] === null) return fd;
  return -1;
}

/** finstall at `fd` (free: fdalloc found it). */
export function finstall(p: Process<FreebsdSpace>, fd: number, fp: FileDesc, cloexec: boolean): void {
  while (p.files.length < fd) p.files.push(null);
  p.files[fd] = new Descriptor(fp, cloexec);
}

/** A new struct file (falloc_noinstall). */
export function falloc(type: 'vnode' | 'pipe', flag: number, vnode: Vnode | null, pipe: Pipe | null, end: 0 | 1): FileDesc {
  if (vnode !== null) {
    vnode.opens++;
    // VOP_ADD_WRITECOUNT at open for writing.
    if ((flag & FWRITE) !== 0) vnode.writers++;
  }
  return { type, flag, offset: 0, vnode, pipe, end, count: 0 };
}

/** closef → fdrop: the last descriptor gone, the file closes (vn_close, pipe_close). */
function fdrop(k: FreebsdKernel, fp: FileDesc): void {
  fp.count--;
  if (fp.count > 0) return;
  if (fp.vnode !== null) {
    fp.vnode.opens--;
    if ((fp.flag & FWRITE) !== 0) fp.vnode.writers--;
    vnodeRecycle(k);
  }
  if (fp.pipe !== null) pipeClose(k, fp.pipe, fp.end);
  if (fp.shm !== undefined) {
    // shm_close → shm_drop (uipc_shm.ts shmDrop, written out here: importing it would close an
    // import cycle through vfs_syscalls.ts).
    fp.shm.refs--;
    if (fp.shm.refs === 0) k.vm.deallocate(fp.shm.object);
  }
}

/** fdclose: drop descriptor `fd` (it is open). */
function closeFd(k: FreebsdKernel, p: Process<FreebsdSpace>, fd: number): void {
  const d = descriptor(p, fd)!;
  p.files[fd] = null;
  fdrop(k, d.fp);
}

/** sys_close → kern_close. */
export function sysClose(ctx: Ctx, args: readonly SyscallArg[]): number {
  const fd = intArg(args, 0);
  if (descriptor(ctx.process, fd) === null) return ctx.fail('EBADF', `fd ${fd} is not open`);
  closeFd(ctx.kernel, ctx.process, fd);
  return 0;
}

type DupMode = 'normal' | 'fixed' | 'fcntl';

/** kern_dup: FDDUP_NORMAL (dup), FDDUP_FIXED (dup2, F_DUP2FD), FDDUP_FCNTL (F_DUPFD: lowest at or above `nw`). */
function kernDup(ctx: Ctx, mode: DupMode, cloexec: boolean, old: number, nw: number): number {
  const p = ctx.process;
  const badNew = mode === 'fcntl' ? 'EINVAL' : 'EBADF';
  if (old < 0) return ctx.fail('EBADF', `fd ${old}`);
  if (nw < 0) return ctx.fail(badNew, `new fd ${nw}`);
  if (nw >= MAXFD) return ctx.fail(badNew, `new fd ${nw} is not below the descriptor limit ${MAXFD}`);
  const d = descriptor(p, old);
  if (d === null) return ctx.fail('EBADF', `fd ${old} is not open`);
  if (mode === 'fixed' && old === nw) {
    // dup2(fd, fd) leaves the descriptor as it is (FD_CLOEXEC included), F_DUP2FD_CLOEXEC sets it.
    if (cloexec) d.cloexec = true;
    return nw;
  }
  let fd = nw;
  if (mode === 'fixed') {
    if (descriptor(p, nw) !== null) closeFd(ctx.kernel, p, nw);
  } else {
    fd = fdalloc(p, mode === 'normal' ? 0 : nw);
    if (fd < 0) return ctx.fail('EMFILE', 'descriptor table full');
  }
  finstall(p, fd, d.fp, cloexec);
  return fd;
}

/** sys_dup (41). */
export function sysDup(ctx: Ctx, args: readonly SyscallArg[]): number {
  return kernDup(ctx, 'normal', false, intArg(args, 0), 0);
}

/** sys_dup2 (90). */
export function sysDup2(ctx: Ctx, args: readonly SyscallArg[]): number {
  return kernDup(ctx, 'fixed', false, intArg(args, 0), intArg(args, 1));
}

/** sys_fcntl → kern_fcntl_freebsd → kern_fcntl (92). */
export function sysFcntl(ctx: Ctx, args: readonly SyscallArg[]): number {
  const fd = intArg(args, 0);
  const cmd = intArg(args, 1);
  const arg = intArg(args, 2);
  switch (cmd) {
    case F.DUPFD: return kernDup(ctx, 'fcntl', false, fd, arg);
    case F.DUPFD_CLOEXEC: return kernDup(ctx, 'fcntl', true, fd, arg);
    case F.DUP2FD: return kernDup(ctx, 'fixed', false, fd, arg);
    case F.DUP2FD_CLOEXEC: return kernDup(ctx, 'fixed', true, fd, arg);
    case F.GETFD: {
      const d = descriptor(ctx.process, fd);
      return d === null ? ctx.fail('EBADF', `fd ${fd} is not open`) : d.cloexec ? FD_CLOEXEC : 0;
    }
    case F.SETFD: {
      const d = descriptor(ctx.process, fd);
      if (d === null) return ctx.fail('EBADF', `fd ${fd} is not open`);
      d.cloexec = (arg & FD_CLOEXEC) !== 0;
      return 0;
    }
    case F.GETFL: {
      const fp = fget(ctx.process, fd);
      // OFLAGS(f_flag): FREAD/FWRITE back to O_RDONLY/O_WRONLY/O_RDWR.
      return fp === null ? ctx.fail('EBADF', `fd ${fd} is not open`) : fp.flag - 1;
    }
    case F.SETFL: {
      const fp = fget(ctx.process, fd);
      if (fp === null) return ctx.fail('EBADF', `fd ${fd} is not open`);
      // tmp = FFLAGS(arg & ~O_ACCMODE) & FCNTLFLAGS: FFLAGS adds 1, which the mask then drops.
      const keep = fp.flag - (fp.flag & FCNTLFLAGS);
      fp.flag = keep + (((arg & ~O.ACCMODE) + 1) & FCNTLFLAGS);
      return 0;
    }
    default:
      return ctx.fail('EINVAL', `fcntl command ${cmd} is not one this model has`);
  }
}

/** fdcopy (fork with RFFDG): the child's descriptors share the parent's struct files, with their own flags. */
export function fdcopy(files: readonly (OpenFile | null)[]): (OpenFile | null)[] {
  return files.map((d) => (d instanceof Descriptor ? new Descriptor(d.fp, d.cloexec) : d));
}

/** fdcloseexec (execve): every FD_CLOEXEC descriptor closes. */
export function fdcloseexec(k: FreebsdKernel, p: Process<FreebsdSpace>): void {
  for (let fd = 0; fd < p.files.length; fd++) {
    const d = p.files[fd];
    if (d instanceof Descriptor && d.cloexec) closeFd(k, p, fd);
  }
}

/**
 * fdescfree (exit1): the process's descriptors close, unless another live process shares the table
 * (rfork without RFFDG: fd_refcnt above one).
 */
export function fdescfree(k: FreebsdKernel, p: Process<FreebsdSpace>): void {
  pdescfree(k.state, p);
  const table = p.files;
  for (const q of k.processes.values()) if (q !== p && q.state === 'running' && q.files === table) return;
  for (let fd = 0; fd < table.length; fd++) if (table[fd] instanceof Descriptor) closeFd(k, p, fd);
}

/** struct pwddesc: the working directory, shared by the processes of an rfork without RFFDG/RFCFDG. */
export interface PwdDesc {
  /** pwd_cdir: the working directory's vnode (holding a use of it). */
  cdir: Vnode;
  /** pd_refcount: the processes sharing it. */
  refs: number;
}

const PWDS = new WeakMap<Process<FreebsdSpace>, PwdDesc>();

function newPwd(cdir: Vnode): PwdDesc {
  cdir.opens++;
  return { cdir, refs: 1 };
}

/** The process's pwddesc (a process that never had one starts at the root, as proc0's does). */
export function pwdOf(m: FreebsdMachine, p: Process<FreebsdSpace>): PwdDesc {
  let pd = PWDS.get(p);
  if (pd === undefined) {
    pd = newPwd(rootVnode(m));
    PWDS.set(p, pd);
  }
  return pd;
}

/** pwd_chdir: the working directory becomes `v` (a directory the caller may search). */
export function pwdChdir(m: FreebsdMachine, p: Process<FreebsdSpace>, v: Vnode): void {
  const pd = pwdOf(m, p);
  v.opens++;
  pd.cdir.opens--;
  pd.cdir = v;
}

/** fork1's pwddesc for the child: pdshare without RFFDG/RFCFDG, else a copy (pdcopy, pdinit). */
export function pwdFork(m: FreebsdMachine, parent: Process<FreebsdSpace>, child: Process<FreebsdSpace>, share: boolean): void {
  const pd = pwdOf(m, parent);
  if (share) {
    pd.refs++;
    PWDS.set(child, pd);
  } else {
    PWDS.set(child, newPwd(pd.cdir));
  }
}

/** pdunshare (fork_norfproc with RFFDG or RFCFDG): the process gets a pwddesc of its own. */
export function pwdUnshare(m: FreebsdMachine, p: Process<FreebsdSpace>): void {
  const pd = pwdOf(m, p);
  if (pd.refs === 1) return;
  pd.refs--;
  PWDS.set(p, newPwd(pd.cdir));
}

/** pdescfree (exit1): the last process sharing a pwddesc drops its directory. */
function pdescfree(m: FreebsdMachine, p: Process<FreebsdSpace>): void {
  const pd = PWDS.get(p);
  if (pd === undefined) return;
  PWDS.delete(p);
  if (--pd.refs === 0) pd.cdir.opens--;
}
