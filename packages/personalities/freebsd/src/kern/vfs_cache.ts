/**
 * sys/kern/vfs_cache.c sys___getcwd (326): the working directory's full path (vn_getcwd →
 * vn_fullpath_any), copied out with its NUL.
 *
 * Check order: buflen < 2 is EINVAL; buflen is clamped to MAXPATHLEN; a path (with its NUL) longer
 * than buflen is ENOMEM — vn_fullpath_dir's and vn_vptocnp's error, which FreeBSD's own
 * __getcwd returns as it is (only the Linux ABI's linux_getcwd turns it into ERANGE, and libc's
 * getcwd(3) reports ERANGE for a buffer that is too small); a working directory that was removed
 * has no name left (ENOENT); then copyout (EFAULT). The call returns 0.
 */
import type { SyscallArg, SyscallContext } from '@polykernel/kernel';
import type { FreebsdMachine, FreebsdSpace } from '../machine.js';
import { arg } from '../vm/vm_mmap.js';
import { pwdOf } from './kern_descrip.js';
import { MAXPATHLEN } from './vfs_syscalls.js';

type Ctx = SyscallContext<FreebsdSpace, FreebsdMachine>;

export function sysGetcwd(ctx: Ctx, args: readonly SyscallArg[]): number {
  const va = arg(args, 0);
  let buflen = arg(args, 1);
  if (buflen < 2) return ctx.fail('EINVAL', `buflen ${buflen} is below 2`);
  if (buflen > MAXPATHLEN) buflen = MAXPATHLEN;
  const cdir = pwdOf(ctx.kernel.state, ctx.process).cdir;
  if (cdir.nlink === 0) return ctx.fail('ENOENT', 'the working directory was removed');
  const path = new TextEncoder().encode(cdir.path);
  if (path.length + 1 > buflen) return ctx.fail('ENOMEM', `${cdir.path} and its NUL do not fit in ${buflen} bytes`);
  const out = new Uint8Array(path.length + 1);
  out.set(path);
  if (ctx.kernel.copyToUser(ctx.thread, va, out) !== out.length) return ctx.fail('EFAULT', 'buf is not writable');
  return 0;
}
