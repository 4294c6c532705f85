/**
 * sys/kern/vfs_syscalls.c sys_ftruncate → kern_ftruncate (480): a negative length is EINVAL, the
 * descriptor must be open (EBADF) and for writing (EINVAL, not EBADF), then the file's
 * fo_truncate: shm_truncate (uipc_shm.c shm_dotruncate; a largepage object allocates its pages
 * here), vn_truncate for a vnode (EISDIR for a directory; VOP_SETATTR(va_size) — a regular file's
 * size changes in the copy-on-write overlay, vfs_vnode.ts vnodeTruncate; devfs_setattr leaves a
 * device as it is), and invfo_truncate for a pipe (EINVAL).
 *
 * vn_truncate_locked takes a write count around VOP_SETATTR (VOP_ADD_WRITECOUNT), ETXTBSY for a
 * file that is some process's text. A descriptor open for writing never meets one here: exec of a
 * file open for writing is ETXTBSY (kern_exec.ts) and so is opening a running program for writing
 * (vfs_syscalls.ts vnOpenVnode), so the check has nothing to refuse and is not made.
 */
import type { SyscallArg, SyscallContext } from '@polykernel/kernel';
import type { FreebsdMachine, FreebsdSpace } from '../machine.js';
import { intArg } from '../vm/vm_mmap.js';
import { fget, FWRITE } from './kern_descrip.js';
import { signedOffset } from './sys_generic.js';
import { shmTruncate } from './uipc_shm.js';
import { tooLarge, vnodeTruncate } from './vfs_vnode.js';

type Ctx = SyscallContext<FreebsdSpace, FreebsdMachine>;

/** sys_ftruncate(fd, length). */
export function sysFtruncate(ctx: Ctx, args: readonly SyscallArg[]): number {
  const fd = intArg(args, 0);
  const length = signedOffset(args[1]);
  if (length < 0) return ctx.fail('EINVAL', `length ${length}`);
  const fp = fget(ctx.process, fd);
  if (fp === null) return ctx.fail('EBADF', `fd ${fd} is not open`);
  if ((fp.flag & FWRITE) === 0) return ctx.fail('EINVAL', `fd ${fd} is not open for writing`);
  if (fp.shm !== undefined) {
    const e = shmTruncate(ctx.kernel, fp.shm, length);
    return e === null ? 0 : ctx.fail(e, 'shm_dotruncate');
  }
  const v = fp.vnode;
  if (v === null) return ctx.fail('EINVAL', 'a pipe cannot be truncated');
  if (v.type === 'VDIR') return ctx.fail('EISDIR', `${v.path} is a directory`);
  if (v.type !== 'VREG') return 0;
  // A size past what the model can hold is EFBIG, as for write(2) here.
  if (tooLarge(length)) return ctx.fail('EFBIG', `${length} bytes is too large to simulate`);
  vnodeTruncate(ctx.kernel, v, length);
  return 0;
}
