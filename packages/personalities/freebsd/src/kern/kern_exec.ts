/**
 * sys/kern/kern_exec.c sys_execve (59): argument vectors in, the image replaced, the vfork parent
 * released. A failure before the point of no return leaves the caller as it was and returns -1
 * with errno; after it the process runs the new image.
 */
import type { SyscallArg, SyscallContext } from '@polykernel/kernel';
import type { FreebsdMachine, FreebsdSpace } from '../machine.js';
import { fdcloseexec } from './kern_descrip.js';
import { releaseVforkParent } from './kern_exit.js';
import { execsigs } from './kern_sig.js';
import { threadSingleExit } from './kern_thr.js';
import { ExecError, execve } from './imgact_elf.js';

type Ctx = SyscallContext<FreebsdSpace, FreebsdMachine>;

function strings(a: SyscallArg | undefined): readonly string[] {
  return Array.isArray(a) ? (a as readonly string[]) : [];
}

export function sysExecve(ctx: Ctx, args: readonly SyscallArg[]): number {
  const path = args[0];
  if (typeof path !== 'string') return ctx.fail('EFAULT', 'path is not a string');
  try {
    execve(ctx.kernel, ctx.process, path, strings(args[1]), strings(args[2]));
  } catch (e) {
    if (e instanceof ExecError) return ctx.fail(e.errno, e.message);
    throw e;
  }
  // post_execve: the other threads end (thread_single(SINGLE_EXIT)).
  threadSingleExit(ctx.kernel, ctx.thread);
  // do_execve after the image is in: FD_CLOEXEC descriptors close (fdcloseexec), caught signals
  // go back to their default (execsigs).
  fdcloseexec(ctx.kernel, ctx.process);
  execsigs(ctx.process);
  releaseVforkParent(ctx.kernel, ctx.process);
  return 0;
}
