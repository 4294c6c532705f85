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
 *
 * Also the name-space calls over the overlay (vfs_vnode.ts): chdir (12), fchdir (13), unlink (10),
 * unlinkat (503), rename (128), renameat (501), mkdir (136), mkdirat (496) and rmdir (137).
 */
import type { SyscallArg, SyscallContext } from '@polykernel/kernel';
import type { FreebsdMachine, FreebsdSpace } from '../machine.js';
import { arg, intArg } from '../vm/vm_mmap.js';
import { falloc, fdalloc, fget, FREAD, FWRITE, finstall, O, pwdChdir, pwdOf } from './kern_descrip.js';
import { signedOffset } from './sys_generic.js';
import { pipeIno } from './sys_pipe.js';
import { namei, type Nameidata, type NameiOp } from './vfs_lookup.js';
import { createDir, createFile, dirEmpty, isDevfs, removeName, renameName, S_IFCHR, S_IFIFO, vaccess, vnodeIsText, vnodeTruncate, type Vnode } from './vfs_vnode.js';
import { shmSeek, shmStatFields } from './uipc_shm.js';

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

/**
 * namei_setup's start directory: the working directory for an absolute path or AT_FDCWD, else the
 * directory the descriptor is open on (EBADF, ENOTDIR).
 */
function startDir(ctx: Ctx, dfd: number, path: string): Vnode | { error: string } {
  if (path.startsWith('/') || dfd === AT_FDCWD) return pwdOf(ctx.kernel.state, ctx.process).cdir;
  const fp = fget(ctx.process, dfd);
  if (fp === null) return { error: 'EBADF' };
  if (fp.vnode?.type !== 'VDIR') return { error: 'ENOTDIR' };
  return fp.vnode;
}

/**
 * namei for a call: copyinstr of the path (EFAULT, ENAMETOOLONG), an empty path (ENOENT), the
 * start directory, then the walk (vfs_lookup.ts).
 */
function nameiAt(ctx: Ctx, dfd: number, pathA: SyscallArg | undefined, op: NameiOp, willBeDir = false): Nameidata | { error: string; detail: string } {
  const path = pathArg(ctx, pathA);
  if (typeof path !== 'string') return { error: path.error, detail: 'path' };
  if (path === '') return { error: 'ENOENT', detail: 'empty path' };
  const dir = startDir(ctx, dfd, path);
  if ('error' in dir) return { error: dir.error, detail: `directory descriptor ${dfd}` };
  const nd = namei(ctx.kernel.state, ctx.process.creds, dir, path, op, willBeDir);
  return 'error' in nd ? { error: nd.error, detail: `${path}: lookup` } : nd;
}

/** kern_openat. */
export function kernOpenat(ctx: Ctx, dfd: number, pathA: SyscallArg | undefined, flags: number, mode: number): number {
  if ((flags & O.EXEC) !== 0 ? (flags & O.ACCMODE) !== 0 : (flags & O.ACCMODE) === O.ACCMODE) return ctx.fail('EINVAL', 'access mode');
  const fflags = (flags & O.EXEC) !== 0 ? flags : flags + 1;
  if ((flags & (O.CREAT | O.DIRECTORY)) === O.CREAT + O.DIRECTORY) return ctx.fail('EINVAL', 'O_CREAT with O_DIRECTORY');
  const creat = (flags & O.CREAT) !== 0;
  const nd = nameiAt(ctx, dfd, pathA, creat ? 'CREATE' : 'LOOKUP');
  if ('error' in nd) return ctx.fail(nd.error, nd.detail);
  const m = ctx.kernel.state;
  const creds = ctx.process.creds;
  let v = nd.vp;
  let created = false;
  // vn_open_cred with O_CREAT: a missing name is made (VOP_CREATE; namei checked the directory is
  // writable), an existing one is EEXIST with O_EXCL and EISDIR when it is a directory.
  if (v === null) {
    if (isDevfs(nd.dvp)) return ctx.fail('EOPNOTSUPP', 'devfs has no VOP_CREATE');
    v = createFile(m, nd.path, mode & ~CMASK & 0o7777 & ~0o1000, creds.euid, creds.egid);
    created = true;
  } else if (creat) {
    if ((flags & O.EXCL) !== 0) return ctx.fail('EEXIST', `${nd.path} exists`);
    if (v.type === 'VDIR') return ctx.fail('EISDIR', `${nd.path} is a directory (O_CREAT)`);
  }
  const full = nd.path;
  const err = vnOpenVnode(ctx.kernel, v, fflags, creds.euid, creds.egid, created);
  if (err !== null) return ctx.fail(err, full);
  if (v.partial !== null) return ctx.fail('EFBIG', `${full}: ${v.partial} bytes is too large to simulate (files up to 1 GiB)`);
  // kern_openat's fo_truncate: O_TRUNC truncates even with O_RDONLY (vn_open_vnode checked VWRITE).
  if ((flags & O.TRUNC) !== 0 && v.type === 'VREG') vnodeTruncate(ctx.kernel, v, 0);
  const fd = fdalloc(ctx.process, 0);
  if (fd < 0) return ctx.fail('EMFILE', 'descriptor table full');
  finstall(ctx.process, fd, falloc('vnode', fflags & FMASK, v, null, 0), (flags & O.CLOEXEC) !== 0);
  return fd;
}

/**
 * vn_open_vnode's checks (a created file was checked against its directory instead): VWRITE —
 * FWRITE or O_TRUNC — on a file that is some process's text is ETXTBSY (vn_writechk's VOP_IS_TEXT),
 * before VOP_ACCESS.
 */
function vnOpenVnode(k: Ctx['kernel'], v: Vnode, fflags: number, euid: number, egid: number, created: boolean): string | null {
  if (v.type !== 'VDIR' && (fflags & O.DIRECTORY) !== 0) return 'ENOTDIR';
  const write = (fflags & (FWRITE | O.TRUNC)) !== 0;
  if (write && v.type === 'VDIR') return 'EISDIR';
  if (created) return null;
  if (write && vnodeIsText(k, v)) return 'ETXTBSY';
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
    ? { dev: v.dev[0] * 2 ** 32 + v.dev[1], ino: v.ino, nlink: v.nlink, mode: v.mode, uid: v.uid, gid: v.gid, rdev: v.rdev, size: v.size, blksize: v.type === 'VCHR' ? 4096 : 32768 }
    // pipe_stat: st_mode S_IFIFO alone, st_nlink 0, st_ino this end's pipe_ino, st_size the bytes
    // this end has to read, st_blksize PAGE_SIZE, the file's credentials.
    : { dev: 0, ino: pipeIno(ctx.kernel.state, fp.pipe!, fp.end), nlink: 0, mode: S_IFIFO, uid: ctx.process.creds.euid, gid: ctx.process.creds.egid, rdev: 0, size: fp.pipe!.ends[fp.end].count, blksize: 4096 };
  if (v?.type === 'VCHR') st.mode = S_IFCHR | (v.mode & 0o7777);
  if (ctx.kernel.copyToUser(ctx.thread, va, encodeStat(st)) !== STAT_SIZE) return ctx.fail('EFAULT', 'sb is not writable');
  return 0;
}

/** change_dir: a directory (ENOTDIR) the caller may search (EACCES). */
function changeDir(ctx: Ctx, v: Vnode): number {
  if (v.type !== 'VDIR') return ctx.fail('ENOTDIR', `${v.path} is not a directory`);
  const c = ctx.process.creds;
  if (!vaccess(v, c.euid, c.egid, false, false, true)) return ctx.fail('EACCES', `${v.path} is not searchable`);
  pwdChdir(ctx.kernel.state, ctx.process, v);
  return 0;
}

/** sys_chdir → kern_chdir (12). */
export function sysChdir(ctx: Ctx, args: readonly SyscallArg[]): number {
  const nd = nameiAt(ctx, AT_FDCWD, args[0], 'LOOKUP');
  return 'error' in nd ? ctx.fail(nd.error, nd.detail) : changeDir(ctx, nd.vp!);
}

/** sys_fchdir (13): getvnode_path (EBADF; EINVAL for a descriptor without a vnode), then change_dir. */
export function sysFchdir(ctx: Ctx, args: readonly SyscallArg[]): number {
  const fd = intArg(args, 0);
  const fp = fget(ctx.process, fd);
  if (fp === null) return ctx.fail('EBADF', `fd ${fd} is not open`);
  if (fp.vnode === null) return ctx.fail('EINVAL', `fd ${fd} is not a vnode`);
  return changeDir(ctx, fp.vnode);
}

/** AT_REMOVEDIR and AT_RESOLVE_BENEATH (sys/sys/fcntl.h): the flags unlinkat accepts. */
export const AT_REMOVEDIR = 0x0800;
const AT_RESOLVE_BENEATH = 0x2000;

/**
 * kern_funlinkat: namei DELETE (its EINVAL — "." or ".." — is EPERM here), a directory is EPERM
 * (POSIX), the root of a mount EBUSY (devfs's /dev), then VOP_REMOVE.
 */
function kernUnlinkat(ctx: Ctx, dfd: number, pathA: SyscallArg | undefined): number {
  const nd = nameiAt(ctx, dfd, pathA, 'DELETE');
  if ('error' in nd) return ctx.fail(nd.error === 'EINVAL' ? 'EPERM' : nd.error, nd.detail);
  const v = nd.vp!;
  if (v.type === 'VDIR') return ctx.fail('EPERM', `${nd.path} is a directory`);
  removeName(ctx.kernel, nd.path, v);
  return 0;
}

/**
 * kern_frmdirat: namei DELETE ("." and ".." EINVAL), not a directory ENOTDIR, the root of a mount
 * EBUSY, then ufs_rmdir: ENOTEMPTY unless empty.
 */
function kernRmdirat(ctx: Ctx, dfd: number, pathA: SyscallArg | undefined): number {
  const nd = nameiAt(ctx, dfd, pathA, 'DELETE');
  if ('error' in nd) return ctx.fail(nd.error, nd.detail);
  const v = nd.vp!;
  if (v.type !== 'VDIR') return ctx.fail('ENOTDIR', `${nd.path} is not a directory`);
  if (isDevfs(v) && !isDevfs(nd.dvp)) return ctx.fail('EBUSY', `${nd.path} is the root of a mounted file system`);
  if (!dirEmpty(ctx.kernel.state, v, nd.path)) return ctx.fail('ENOTEMPTY', `${nd.path} is not empty (or is a directory of the file system, which cannot be listed)`);
  removeName(ctx.kernel, nd.path, v);
  return 0;
}

/** sys_unlink (10). */
export function sysUnlink(ctx: Ctx, args: readonly SyscallArg[]): number {
  return kernUnlinkat(ctx, AT_FDCWD, args[0]);
}

/** sys_unlinkat (503): unknown flags EINVAL, then rmdir with AT_REMOVEDIR, else unlink. */
export function sysUnlinkat(ctx: Ctx, args: readonly SyscallArg[]): number {
  const flag = intArg(args, 2);
  if ((flag & ~(AT_REMOVEDIR | AT_RESOLVE_BENEATH)) !== 0) return ctx.fail('EINVAL', `unlinkat flags 0x${flag.toString(16)}`);
  return (flag & AT_REMOVEDIR) !== 0 ? kernRmdirat(ctx, intArg(args, 0), args[1]) : kernUnlinkat(ctx, intArg(args, 0), args[1]);
}

/** sys_rmdir (137). */
export function sysRmdir(ctx: Ctx, args: readonly SyscallArg[]): number {
  return kernRmdirat(ctx, AT_FDCWD, args[0]);
}

/** ACCESSPERMS. */
const ACCESSPERMS = 0o777;

/** kern_mkdirat: namei CREATE with FAILIFEXISTS and WILLBEDIR (EEXIST), then VOP_MKDIR. */
function kernMkdirat(ctx: Ctx, dfd: number, pathA: SyscallArg | undefined, mode: number): number {
  const nd = nameiAt(ctx, dfd, pathA, 'CREATE', true);
  if ('error' in nd) return ctx.fail(nd.error, nd.detail);
  if (nd.vp !== null) return ctx.fail('EEXIST', `${nd.path} exists`);
  if (isDevfs(nd.dvp)) return ctx.fail('EOPNOTSUPP', 'devfs has no VOP_MKDIR');
  const c = ctx.process.creds;
  createDir(ctx.kernel.state, nd.path, mode & ACCESSPERMS & ~CMASK, c.euid, c.egid);
  return 0;
}

/** sys_mkdir (136). */
export function sysMkdir(ctx: Ctx, args: readonly SyscallArg[]): number {
  return kernMkdirat(ctx, AT_FDCWD, args[0], intArg(args, 1));
}

/** sys_mkdirat (496). */
export function sysMkdirat(ctx: Ctx, args: readonly SyscallArg[]): number {
  return kernMkdirat(ctx, intArg(args, 0), args[1], intArg(args, 2));
}

/**
 * kern_renameat: namei DELETE of the source, namei RENAME of the target (WILLBEDIR for a
 * directory); a directory onto a non-directory ENOTDIR, a non-directory onto a directory EISDIR;
 * the source as the target's directory EINVAL; the same vnode: nothing to do. Then VOP_RENAME:
 * across mounts EXDEV (devfs and the root; within devfs this model renames nothing, EOPNOTSUPP);
 * ufs_rename: a directory moving to a new parent must be writable (its ".." changes: EACCES),
 * into its own subtree EINVAL (ufs_checkpath), onto a non-empty directory ENOTEMPTY.
 */
function kernRenameat(ctx: Ctx, oldfd: number, oldA: SyscallArg | undefined, newfd: number, newA: SyscallArg | undefined): number {
  const from = nameiAt(ctx, oldfd, oldA, 'DELETE');
  if ('error' in from) return ctx.fail(from.error, from.detail);
  const fv = from.vp!;
  const to = nameiAt(ctx, newfd, newA, 'RENAME', fv.type === 'VDIR');
  if ('error' in to) return ctx.fail(to.error, to.detail);
  const tv = to.vp;
  if (tv !== null) {
    if (fv.type === 'VDIR' && tv.type !== 'VDIR') return ctx.fail('ENOTDIR', `${to.path} is not a directory`);
    if (fv.type !== 'VDIR' && tv.type === 'VDIR') return ctx.fail('EISDIR', `${to.path} is a directory`);
  }
  if (fv === to.dvp) return ctx.fail('EINVAL', `${from.path} would be its own parent`);
  if (fv === tv) return 0;
  // VOP_RENAME's first check (ufs_rename): across mounts.
  if (isDevfs(fv) !== isDevfs(to.dvp)) return ctx.fail('EXDEV', 'devfs and the root file system are different mounts');
  if (isDevfs(fv)) return ctx.fail('EOPNOTSUPP', 'devfs has no VOP_RENAME');
  const m = ctx.kernel.state;
  const c = ctx.process.creds;
  if (fv.type === 'VDIR') {
    if (from.dvp !== to.dvp && !vaccess(fv, c.euid, c.egid, false, true)) return ctx.fail('EACCES', `${from.path} is not writable (its ".." would change)`);
    if (to.path.startsWith(`${from.path}/`)) return ctx.fail('EINVAL', `${to.path} is inside ${from.path}`);
    if (tv !== null && !dirEmpty(m, tv, to.path)) return ctx.fail('ENOTEMPTY', `${to.path} is not empty (or is a directory of the file system, which cannot be listed)`);
  }
  renameName(ctx.kernel, from.path, to.path, fv, tv);
  return 0;
}

/** sys_rename (128). */
export function sysRename(ctx: Ctx, args: readonly SyscallArg[]): number {
  return kernRenameat(ctx, AT_FDCWD, args[0], AT_FDCWD, args[1]);
}

/** sys_renameat (501). */
export function sysRenameat(ctx: Ctx, args: readonly SyscallArg[]): number {
  return kernRenameat(ctx, intArg(args, 0), args[1], intArg(args, 2), args[3]);
}
