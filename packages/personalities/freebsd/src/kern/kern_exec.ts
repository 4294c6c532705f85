/**
 * sys/kern/kern_exec.c sys_execve (59): the path in (copyinstr), namei from the working directory,
 * exec_check_permissions, then the image activator (imgact_elf.c), the image replaced and the
 * vfork parent released. A failure before the point of no return leaves the caller as it was and
 * returns -1 with errno; after it the process runs the new image.
 */
import type { Credentials, SyscallArg, SyscallContext } from '@polykernel/kernel';
import type { FreebsdMachine, FreebsdSpace } from '../machine.js';
import { fdcloseexec, pwdOf } from './kern_descrip.js';
import { releaseVforkParent } from './kern_exit.js';
import { execsigs } from './kern_sig.js';
import { threadSingleExit } from './kern_thr.js';
import { ExecError, execve } from './imgact_elf.js';
import { namei } from './vfs_lookup.js';
import { pathArg } from './vfs_syscalls.js';
import { vaccess, vnodeRecycle, type Vnode } from './vfs_vnode.js';

type Ctx = SyscallContext<FreebsdSpace, FreebsdMachine>;

function strings(a: SyscallArg | undefined): readonly string[] {
  return Array.isArray(a) ? (a as readonly string[]) : [];
}

/**
 * exec_check_permissions, in its order: no execute bit at all, or not a regular file (a directory,
 * a device), is EACCES — even for root (mounts with MNT_NOEXEC are not modelled: there are none);
 * an empty file is ENOEXEC; VOP_ACCESS(VEXEC) for the caller's credentials is EACCES; a file open
 * for writing is ETXTBSY (VOP_SET_TEXT with v_writecount above zero).
 */
export function execCheckPermissions(v: Vnode, creds: Credentials): { errno: 'EACCES' | 'ENOEXEC' | 'ETXTBSY'; detail: string } | null {
  if ((v.mode & 0o111) === 0 || v.type !== 'VREG') {
    return { errno: 'EACCES', detail: v.type !== 'VREG' ? 'not a regular file' : `mode ${(v.mode & 0o7777).toString(8)} has no execute bit` };
  }
  if (v.size === 0) return { errno: 'ENOEXEC', detail: 'an empty file' };
  if (!vaccess(v, creds.euid, creds.egid, false, false, true)) return { errno: 'EACCES', detail: 'no execute permission for the caller' };
  if (v.writers > 0) return { errno: 'ETXTBSY', detail: 'the file is open for writing' };
  return null;
}

export function sysExecve(ctx: Ctx, args: readonly SyscallArg[]): number {
  const fname = pathArg(ctx, args[0]);
  if (typeof fname !== 'string') return ctx.fail(fname.error, 'fname');
  if (fname === '') return ctx.fail('ENOENT', 'empty path');
  const nd = namei(ctx.kernel.state, ctx.process.creds, pwdOf(ctx.kernel.state, ctx.process).cdir, fname, 'LOOKUP');
  if ('error' in nd) return ctx.fail(nd.error, `${fname}: lookup`);
  // do_execve: imgp->execpath is the path as given when absolute, else the vnode's full path.
  const path = fname.startsWith('/') ? fname : nd.path;
  try {
    execve(ctx.kernel, ctx.process, path, strings(args[1]), strings(args[2]));
  } catch (e) {
    if (e instanceof ExecError) return ctx.fail(e.errno, e.message);
    throw e;
  }
  // post_execve: the other threads end (thread_single(SINGLE_EXIT)).
  threadSingleExit(ctx.kernel, ctx.thread);
  // do_execve after the image is in: FD_CLOEXEC descriptors close (fdcloseexec), caught signals
  // go back to their default (execsigs); the working directory stays. The old vmspace's file
  // mappings are gone: a vnode nothing uses any more is recycled.
  fdcloseexec(ctx.kernel, ctx.process);
  execsigs(ctx.process);
  releaseVforkParent(ctx.kernel, ctx.process);
  vnodeRecycle(ctx.kernel);
  return 0;
}
