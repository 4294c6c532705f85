/**
 * sys/kern/kern_exit.c: exit(2) (sys_exit → exit1), wait4(2) (kern_wait → kern_wait6) and the
 * parent's wake-up when a child becomes a zombie; sys/kern/kern_prot.c getpid/getppid. The core
 * makes the zombie, re-parents orphans to init and lets init reap at once; here exit1's
 * FreeBSD parts: the vfork parent runs again, a parent sleeping in wait4 is woken and sent
 * SIGCHLD. wait4 reports, child by child as proc_to_reap looks at them, a zombie (reaped), a
 * stop not yet reported (WUNTRACED: W_STOPCODE(sig) = sig << 8 | 0177, then P_WAITED) and a
 * continue not yet reported (WCONTINUED: the status is SIGCONT, 0x13).
 */
import type { Process, SyscallArg, SyscallContext } from '@polykernel/kernel';
import { procOf, type FreebsdKernel, type FreebsdMachine, type FreebsdSpace } from '../machine.js';
import { jobState, pgidOf, sigparent, sigqueueTake, takeInterrupt, wakeWait4 } from './kern_sig.js';
import { SIGNALS, WCONTINUED, WEXITED, WNOHANG, WNOWAIT, WTRAPPED, WUNTRACED, hasBitsOutside } from '../param.js';
import { FREEBSD_COSTS } from '../costs.js';
import { arg, intArg } from '../vm/vm_mmap.js';

type Ctx = SyscallContext<FreebsdSpace, FreebsdMachine>;

/** _WSTOPPED (sys/sys/wait.h): the low byte of a stopped child's status. */
const WSTOPPED = 0o177;
/** A continued child's status: SIGCONT itself (kern_wait6). */
const SIGCONT_STATUS = SIGNALS.SIGCONT!;
/** WLINUXCLONE (sys/sys/wait.h): wait for Linux-emulation clones too. */
const WLINUXCLONE = 2 ** 31;

/** sys_exit → exit1(td, rval, 0): the process ends with W_EXITCODE(rval, 0). */
export function sysExit(ctx: Ctx, args: readonly SyscallArg[]): number {
  ctx.kernel.metrics.cycles += FREEBSD_COSTS.exitBase;
  ctx.kernel.exitProcess(ctx.process, intArg(args, 0) & 0xff);
  return 0;
}

/** After the core made the zombie: release a vfork parent, wake its parent's wait4, SIGCHLD (childproc_exited). */
export function onExit(k: FreebsdKernel, p: Process<FreebsdSpace>): void {
  releaseVforkParent(k, p);
  const parent = p.parent;
  if (parent === null) return;
  wakeWait4(k, parent);
  sigparent(k, p, p.killedBy === null ? 'CLD_EXITED' : 'CLD_KILLED');
}

/** The vfork parent sleeping in fork1 runs again (the child exec'd or exited). */
export function releaseVforkParent(k: FreebsdKernel, p: Process<FreebsdSpace>): void {
  const rec = procOf(k.state, p);
  const t = rec.vforkParent;
  if (t === null) return;
  rec.vforkParent = null;
  if (t.state === 'blocked') k.wake(t);
}

/** sys_wait4 → kern_wait → kern_wait6. */
export function sysWait4(ctx: Ctx, args: readonly SyscallArg[]): number {
  const pid = intArg(args, 0);
  const statusAddr = arg(args, 1);
  const options = arg(args, 2) + WEXITED + WTRAPPED;
  const allowed = WUNTRACED + WNOHANG + WCONTINUED + WNOWAIT + WEXITED + WTRAPPED + WLINUXCLONE;
  if (arg(args, 2) < 0 || hasBitsOutside(arg(args, 2), allowed)) return ctx.fail('EINVAL', 'unknown wait options');
  return waitOnce(ctx, pid, statusAddr, options);
}

/** A child the pid argument names: any (-1), the caller's process group (0), the group -pid, or one PID. */
function matches(c: Process<FreebsdSpace>, pid: number, caller: Process<FreebsdSpace>): boolean {
  if (pid === -1) return true;
  if (pid === 0) return pgidOf(c) === pgidOf(caller);
  if (pid < -1) return pgidOf(c) === -pid;
  return c.pid === pid;
}

/** wait4's status word in the caller's memory (an int). */
function copyoutStatus(ctx: Ctx, statusAddr: number, status: number): boolean {
  if (statusAddr === 0) return true;
  const b = Uint8Array.of(status % 256, Math.floor(status / 256) % 256, 0, 0);
  return ctx.kernel.copyToUser(ctx.thread, statusAddr, b) === 4;
}

function waitOnce(ctx: Ctx, pid: number, statusAddr: number, options: number): number {
  const k = ctx.kernel;
  const kids = ctx.process.children.filter((c) => matches(c, pid, ctx.process));
  if (kids.length === 0) return ctx.fail('ECHILD', 'no such child');
  const keep = (options & WNOWAIT) !== 0;
  for (const c of kids) {
    let status: number;
    if (c.state === 'zombie') {
      status = c.exitStatus ?? 0;
    } else {
      const j = jobState(c);
      if ((options & WUNTRACED) !== 0 && j.stopped && !j.waited) {
        if (!keep) j.waited = true;
        status = j.xsig * 256 + WSTOPPED;
      } else if ((options & WCONTINUED) !== 0 && j.continued) {
        if (!keep) j.continued = false;
        status = SIGCONT_STATUS;
      } else continue;
    }
    // report_alive_proc and proc_reap: the child's SIGCHLD, if still queued, is taken back.
    if (!keep) sigqueueTake(c);
    if (c.state === 'zombie' && !keep) k.reap(c);
    if (!copyoutStatus(ctx, statusAddr, status)) return ctx.fail('EFAULT', 'status is not writable');
    return c.pid;
  }
  if ((options & WNOHANG) !== 0) return 0;
  // msleep(PWAIT | PCATCH): a caught signal without SA_RESTART ends the wait with EINTR, even when
  // its SIGCHLD came with a child to reap (the handler runs first).
  return ctx.block('wait4', (again) => (takeInterrupt(again.thread) ? again.fail('EINTR', 'a handler ran') : waitOnce(again, pid, statusAddr, options)), 0);
}

/** sys_getpid. */
export function sysGetpid(ctx: Ctx): number {
  return ctx.process.pid;
}

/** sys_getppid. */
export function sysGetppid(ctx: Ctx): number {
  return ctx.process.ppid;
}
