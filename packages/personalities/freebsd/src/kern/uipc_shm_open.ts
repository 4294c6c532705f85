/**
 * sys/kern/uipc_shm.c's system calls: shm_open2 (571) → kern_shm_open2 and shm_unlink (483), over
 * the shm objects of uipc_shm.ts (kept apart from it so that vm_mmap.ts can import uipc_shm.ts
 * without an import cycle through vfs_syscalls.ts).
 */
import type { SyscallArg, SyscallContext } from '@polykernel/kernel';
import type { FreebsdMachine, FreebsdSpace } from '../machine.js';
import { arg, intArg } from '../vm/vm_mmap.js';
import { fdalloc, finstall, FREAD, FWRITE, O, type FileDesc } from './kern_descrip.js';
import {
  F_SEAL_SEAL, SHM_ALLOW_SEALING, SHM_ANON, SHM_GROW_ON_WRITE, SHM_LARGEPAGE, hasLargepages, shmAccess, shmAlloc, shmDrop, shmTruncate,
  stateOf, type ShmFd,
} from './uipc_shm.js';
import { pathArg } from './vfs_syscalls.js';

type Ctx = SyscallContext<FreebsdSpace, FreebsdMachine>;

/** shm_copyin_path: copyinstr (EFAULT, ENAMETOOLONG), then a path must start with '/' (EINVAL). */
function shmPath(ctx: Ctx, a: SyscallArg | undefined): string | { error: string } {
  const path = pathArg(ctx, a);
  if (typeof path !== 'string') return path;
  if (!path.startsWith('/')) return { error: 'EINVAL' };
  return path;
}

/** sys_shm_open2 → kern_shm_open2(path, flags, mode, shmflags, name). */
export function sysShmOpen2(ctx: Ctx, args: readonly SyscallArg[]): number {
  const k = ctx.kernel;
  const p = ctx.process;
  const flags = intArg(args, 1);
  const mode = arg(args, 2);
  const shmflags = intArg(args, 3);
  if ((shmflags & ~(SHM_ALLOW_SEALING | SHM_GROW_ON_WRITE | SHM_LARGEPAGE)) !== 0) return ctx.fail('EINVAL', 'unknown shmflags');
  let initialSeals = (shmflags & SHM_ALLOW_SEALING) !== 0 ? 0 : F_SEAL_SEAL;
  const acc = flags & O.ACCMODE;
  if (acc !== O.RDONLY && acc !== O.RDWR) return ctx.fail('EINVAL', 'the access mode must be O_RDONLY or O_RDWR');
  if ((flags & ~(O.ACCMODE | O.CREAT | O.EXCL | O.TRUNC | O.CLOEXEC)) !== 0) return ctx.fail('EINVAL', 'flags other than O_CREAT, O_EXCL, O_TRUNC, O_CLOEXEC');
  const largepage = (shmflags & SHM_LARGEPAGE) !== 0;
  if (largepage && !hasLargepages(k)) return ctx.fail('ENOTTY', 'the pmap has no large pages (PMAP_HAS_LARGEPAGES)');
  // pd_cmask: the file-creation mask (022 here, as for open(2)).
  const cmode = mode & ~0o022 & 0o777;
  const fd = fdalloc(p, 0);
  if (fd < 0) return ctx.fail('EMFILE', 'no free descriptor');
  const fflags = acc + 1; // FFLAGS(flags & O_ACCMODE)
  let shm: ShmFd;
  if (args[0] === SHM_ANON) {
    if (acc === O.RDONLY) return ctx.fail('EINVAL', 'a read-only anonymous object is pointless');
    shm = shmAlloc(k, p, cmode, largepage, shmflags);
    shm.seals = initialSeals;
  } else {
    const path = shmPath(ctx, args[0]);
    if (typeof path !== 'string') return ctx.fail(path.error, 'shm_copyin_path');
    const dict = stateOf(k.state).dict;
    const found = dict.get(path);
    if (found === undefined) {
      if ((flags & O.CREAT) === 0) return ctx.fail('ENOENT', `no shm object ${path}`);
      shm = shmAlloc(k, p, cmode, largepage, shmflags);
      shm.seals = initialSeals;
      // shm_insert: the dictionary holds a reference of its own.
      shm.path = path;
      shm.refs++;
      dict.set(path, shm);
    } else {
      shm = found;
      initialSeals &= ~shm.seals;
      if ((shm.seals & F_SEAL_SEAL) !== 0 && initialSeals !== 0) return ctx.fail('EPERM', 'sealed');
      if ((flags & (O.CREAT | O.EXCL)) === (O.CREAT | O.EXCL)) return ctx.fail('EEXIST', `${path} exists`);
      if (shmflags !== 0 && shmflags !== shm.flags) return ctx.fail('EINVAL', 'shmflags differ from the object\'s');
      if (!shmAccess(p, shm, (fflags & FREAD) !== 0, (fflags & FWRITE) !== 0)) return ctx.fail('EACCES', `${path}: mode ${shm.mode.toString(8)}`);
      if ((flags & (O.ACCMODE | O.TRUNC)) === (O.RDWR | O.TRUNC)) {
        const e = shmTruncate(k, shm, 0);
        if (e !== null) return ctx.fail(e, 'O_TRUNC');
      }
      shm.seals |= initialSeals;
      shm.refs++;
    }
  }
  const fp: FileDesc = { type: 'shm', flag: fflags, offset: 0, vnode: null, pipe: null, end: 0, count: 0, shm };
  finstall(p, fd, fp, (flags & O.CLOEXEC) !== 0);
  return fd;
}

/** sys_shm_unlink: the name goes; the object lives on while files or mappings hold it. */
export function sysShmUnlink(ctx: Ctx, args: readonly SyscallArg[]): number {
  const path = shmPath(ctx, args[0]);
  if (typeof path !== 'string') return ctx.fail(path.error, 'shm_copyin_path');
  const dict = stateOf(ctx.kernel.state).dict;
  const shm = dict.get(path);
  if (shm === undefined) return ctx.fail('ENOENT', `no shm object ${path}`);
  if (!shmAccess(ctx.process, shm, true, true)) return ctx.fail('EACCES', `${path}: mode ${shm.mode.toString(8)}`);
  shm.path = null;
  dict.delete(path);
  shmDrop(ctx.kernel, shm);
  return 0;
}

