/**
 * sys/kern/vfs_syscalls.c: open (5) and openat (499) through kern_openat → vn_open_cred →
 * vn_open_vnode (vfs_vnops.c), lseek (478) through kern_lseek → vn_seek, and fstat (551) through
 * kern_fstat → vn_statfile / pipe_stat, with FreeBSD's check order:
 *
 * kern_openat: O_EXEC with an access mode, or O_ACCMODE itself → EINVAL; vn_open_cred:
 * O_CREAT|O_DIRECTORY → EINVAL; namei: the path (EFAULT, ENAMETOOLONG past MAXPATHLEN, an empty
 * path ENOENT), a relative path's directory descriptor (EBADF, ENOTDIR), the lookup (ENOENT,
 * ENOTDIR, ...); O_CREAT makes a missing file (its directory must exist and be writable: EACCES),
 * O_EXCL on an existing one is EEXIST; vn_open_vnode: O_DIRECTORY on a non-directory ENOTDIR,
 * writing or truncating a directory EISDIR, VOP_ACCESS EACCES; O_TRUNC; finstall (EMFILE).
 * A file too large to simulate is EFBIG (the other personalities' rule).
 */
import type { SyscallArg, SyscallContext } from '@polykernel/kernel';
import type { FreebsdMachine, FreebsdSpace } from '../machine.js';
import { arg, intArg } from '../vm/vm_mmap.js';
import { falloc, fdalloc, fget, FREAD, FWRITE, finstall, O } from './kern_descrip.js';
import { signedOffset } from './sys_generic.js';
import { shmSeek, shmStatFields } from './uipc_shm.js';
import { createFile, dirname, namei, S_IFCHR, S_IFIFO, vaccess, vnodeTruncate, type Vnode } from './vfs_vnode.js';

type Ctx = SyscallContext<FreebsdSpace, FreebsdMachine>;

export const AT_FDCWD = -100;
/** sys/sys/syslimits.h PATH_MAX / MAXPATHLEN (with its NUL). */
export const MAXPATHLEN = 1024;
/** The file-creation mask every process has here (the login default, 022). */
const CMASK = 0o022;
/** f_flag bits kept from the open flags (FMASK). */
const FMASK = FREAD + FWRITE + O.APPEND + O.ASYNC + O.FSYNC + O.DSYNC + O.NONBLOCK + O.DIRECT + O.EXEC;

/**
 * copyinstr of a path argument: a workload passes the string itself; a number is an address in the
 * caller's memory, read up to its NUL (EFAULT; ENAMETOOLONG without a NUL in MAXPATHLEN bytes).
 */
export function pathArg(ctx: Ctx, a: SyscallArg | undefined): string | { error: string } {
  if (typeof a === 'string') return a.length >= MAXPATHLEN ? { error: 'ENAMETOOLONG' } : a;
  if (typeof a !== 'number') return { error: 'EFAULT' };
  const bytes: number[] = [];
  for (let i = 0; i < MAXPATHLEN; i++) {
    const b = ctx.kernel.copyFromUser(ctx.thread, a + i, 1);
    if (b.length !== 1) return { error: 'EFAULT' };
    if (b[0] === 0) return String.fromCharCode(...bytes);
    bytes.push(b[0]!);
  }
  return { error: 'ENAMETOOLONG' };
}

/** Join a relative path onto a directory's path and drop "." and ".." (the working directory is "/"). */
function resolve(dir: string, path: string): string {
  const parts: string[] = [];
  for (const c of `${path.startsWith('/') ? '' : dir}/${path}`.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') parts.pop();
    else parts.push(c);
  }
  return `/${parts.join('/')}`;
}

/** namei's start: "/" for an absolute path or AT_FDCWD, else the directory the descriptor is open on. */
function startDir(ctx: Ctx, dfd: number, path: string): string | { error: string } {
  if (path.startsWith('/') || dfd === AT_FDCWD) return '/';
  const fp = fget(ctx.process, dfd);
  if (fp === null) return { error: 'EBADF' };
  if (fp.vnode?.type !== 'VDIR') return { error: 'ENOTDIR' };
  return fp.vnode.path;
}

/** kern_openat. */
export function kernOpenat(ctx: Ctx, dfd: number, pathA: SyscallArg | undefined, flags: number, mode: number): number {
  if ((flags & O.EXEC) !== 0 ? (flags & O.ACCMODE) !== 0 : (flags & O.ACCMODE) === O.ACCMODE) return ctx.fail('EINVAL', 'access mode');
  const fflags = (flags & O.EXEC) !== 0 ? flags : flags + 1;
  if ((flags & (O.CREAT | O.DIRECTORY)) === O.CREAT + O.DIRECTORY) return ctx.fail('EINVAL', 'O_CREAT with O_DIRECTORY');
  const path = pathArg(ctx, pathA);
  if (typeof path !== 'string') return ctx.fail(path.error, 'path');
  if (path === '') return ctx.fail('ENOENT', 'empty path');
  const dir = startDir(ctx, dfd, path);
  if (typeof dir !== 'string') return ctx.fail(dir.error, `directory descriptor ${dfd}`);
  const full = resolve(dir, path);
  const m = ctx.kernel.state;
  const creds = ctx.process.creds;
  let v = namei(m, full);
  let created = false;
  if ((flags & O.CREAT) !== 0) {
    if (typeof v !== 'string' && (flags & O.EXCL) !== 0) return ctx.fail('EEXIST', `${full} exists`);
    if (v === 'ENOENT') {
      const parent = namei(m, dirname(full));
      if (typeof parent === 'string') return ctx.fail(parent, `${dirname(full)}: cannot create in it`);
      if (parent.type !== 'VDIR') return ctx.fail('ENOTDIR', `${dirname(full)} is not a directory`);
      if (!vaccess(parent, creds.euid, creds.egid, false, true)) return ctx.fail('EACCES', `${dirname(full)} is not writable`);
      v = createFile(m, full, mode & ~CMASK & 0o7777 & ~0o1000, creds.euid, creds.egid);
      created = true;
    }
  }
  if (typeof v === 'string') return ctx.fail(v, `${full}: lookup`);
  const err = vnOpenVnode(v, fflags, creds.euid, creds.egid, created);
  if (err !== null) return ctx.fail(err, full);
  if (v.partial !== null) return ctx.fail('EFBIG', `${full}: ${v.partial} bytes is too large to simulate (files up to 1 GiB)`);
  // kern_openat's fo_truncate: O_TRUNC truncates even with O_RDONLY (vn_open_vnode checked VWRITE).
  if ((flags & O.TRUNC) !== 0 && v.type === 'VREG') vnodeTruncate(ctx.kernel, v, 0);
  const fd = fdalloc(ctx.process, 0);
  if (fd < 0) return ctx.fail('EMFILE', 'descriptor table full');
  finstall(ctx.process, fd, falloc('vnode', fflags & FMASK, v, null, 0), (flags & O.CLOEXEC) !== 0);
  return fd;
}

/** vn_open_vnode's checks (a created file was checked against its directory instead). */
function vnOpenVnode(v: Vnode, fflags: number, euid: number, egid: number, created: boolean): string | null {
  if (v.type !== 'VDIR' && (fflags & O.DIRECTORY) !== 0) return 'ENOTDIR';
  const write = (fflags & (FWRITE | O.TRUNC)) !== 0;
  if (write && v.type === 'VDIR') return 'EISDIR';
  if (created) return null;
  return vaccess(v, euid, egid, (fflags & FREAD) !== 0, write) ? null : 'EACCES';
}

/** sys_open (5). */
export function sysOpen(ctx: Ctx, args: readonly SyscallArg[]): number {
  return kernOpenat(ctx, AT_FDCWD, args[0], intArg(args, 1), intArg(args, 2));
}

/** sys_openat (499). */
export function sysOpenat(ctx: Ctx, args: readonly SyscallArg[]): number {
  return kernOpenat(ctx, intArg(args, 0), args[1], intArg(args, 2), intArg(args, 3));
}

export const SEEK = { SET: 0, CUR: 1, END: 2, DATA: 3, HOLE: 4 } as const;
/** OFF_MAX. */
const OFF_MAX = 2 ** 63 - 1;

/** sys_lseek → kern_lseek → vn_seek (478). */
export function sysLseek(ctx: Ctx, args: readonly SyscallArg[]): number {
  const fd = intArg(args, 0);
  const offset = signedOffset(args[1]);
  const whence = intArg(args, 2);
  const fp = fget(ctx.process, fd);
  if (fp === null) return ctx.fail('EBADF', `fd ${fd} is not open`);
  if (fp.shm !== undefined) {
    const r = shmSeek(fp, fp.shm, offset, whence);
    return typeof r === 'string' ? ctx.fail(r, 'shm_seek') : r;
  }
  if (fp.type !== 'vnode') return ctx.fail('ESPIPE', 'a pipe cannot seek');
  const v = fp.vnode!;
  let at: number;
  switch (whence) {
    case SEEK.CUR:
      if (offset > 0 && fp.offset > OFF_MAX - offset) return ctx.fail('EOVERFLOW', 'offset overflows');
      at = fp.offset + offset;
      break;
    case SEEK.END:
      if (offset > 0 && v.size > OFF_MAX - offset) return ctx.fail('EOVERFLOW', 'offset overflows');
      at = v.size + offset;
      break;
    case SEEK.SET:
      at = offset;
      break;
    case SEEK.DATA:
      // No holes in this model's files: data is wherever the file is.
      if (offset >= v.size) return ctx.fail('ENXIO', 'SEEK_DATA past the end');
      at = offset;
      break;
    case SEEK.HOLE:
      if (offset >= v.size) return ctx.fail('ENXIO', 'SEEK_HOLE past the end');
      at = v.size;
      break;
    default:
      return ctx.fail('EINVAL', `whence ${whence}`);
  }
  if (at < 0 && v.type !== 'VCHR') return ctx.fail('EINVAL', `offset ${at}`);
  fp.offset = at;
  return at;
}

/** sizeof(struct stat) on amd64 (FreeBSD 12 and later, ino64). */
export const STAT_SIZE = 224;

/**
 * struct stat (sys/sys/stat.h, amd64): st_dev 0, st_ino 8, st_nlink 16, st_mode 24 (u16),
 * st_bsdflags 26, st_uid 28, st_gid 32, st_padding1 36, st_rdev 40, st_atim 48, st_mtim 64,
 * st_ctim 80, st_birthtim 96 (timespecs: zero — the simulation has no wall clock), st_size 112,
 * st_blocks 120, st_blksize 128 (i32), st_flags 132, st_gen 136, st_spare[10] 144..224.
 */
export function encodeStat(s: { dev: number; ino: number; nlink: number; mode: number; uid: number; gid: number; rdev: number; size: number; blksize: number }): Uint8Array {
  const b = new Uint8Array(STAT_SIZE);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, BigInt(s.dev), true);
  dv.setBigUint64(8, BigInt(s.ino), true);
  dv.setBigUint64(16, BigInt(s.nlink), true);
  dv.setUint16(24, s.mode, true);
  dv.setUint32(28, s.uid, true);
  dv.setUint32(32, s.gid, true);
  dv.setBigUint64(40, BigInt(s.rdev), true);
  dv.setBigInt64(112, BigInt(s.size), true);
  dv.setBigInt64(120, BigInt(Math.ceil(s.size / 512)), true);
  dv.setInt32(128, s.blksize, true);
  return b;
}

/** sys_fstat → kern_fstat (551): fo_stat, then copyout. */
export function sysFstat(ctx: Ctx, args: readonly SyscallArg[]): number {
  const fd = intArg(args, 0);
  const va = arg(args, 1);
  const fp = fget(ctx.process, fd);
  if (fp === null) return ctx.fail('EBADF', `fd ${fd} is not open`);
  if (fp.shm !== undefined) {
    // shm_stat (uipc_shm.ts): st_blocks counts pages there, not 512-byte blocks.
    const f = shmStatFields(fp.shm);
    const b = encodeStat(f);
    new DataView(b.buffer).setBigInt64(120, BigInt(f.blocks), true);
    return ctx.kernel.copyToUser(ctx.thread, va, b) === STAT_SIZE ? 0 : ctx.fail('EFAULT', 'sb is not writable');
  }
  const v = fp.vnode;
  const st = v !== null
    ? { dev: v.dev[0] * 2 ** 32 + v.dev[1], ino: v.ino, nlink: 1, mode: v.mode, uid: v.uid, gid: v.gid, rdev: v.rdev, size: v.size, blksize: v.type === 'VCHR' ? 4096 : 32768 }
    // pipe_stat: S_IFIFO, mode 0600 of the creator, st_size the bytes buffered, st_blksize PAGE_SIZE.
    : { dev: 0, ino: fp.pipe!.ino, nlink: 1, mode: S_IFIFO | 0o600, uid: ctx.process.creds.euid, gid: ctx.process.creds.egid, rdev: 0, size: fp.pipe!.count, blksize: 4096 };
  if (v?.type === 'VCHR') st.mode = S_IFCHR | (v.mode & 0o7777);
  if (ctx.kernel.copyToUser(ctx.thread, va, encodeStat(st)) !== STAT_SIZE) return ctx.fail('EFAULT', 'sb is not writable');
  return 0;
}
