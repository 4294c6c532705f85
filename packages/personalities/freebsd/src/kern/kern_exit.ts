/**
 * sys/kern/kern_exit.c: exit(2) (sys_exit → exit1), wait4(2) (kern_wait → kern_wait6) and the
 * parent's wake-up when a child becomes a zombie; sys/kern/kern_prot.c getpid/getppid. The core
 * makes the zombie, re-parents orphans to init and lets init reap at once; here exit1's
 * FreeBSD parts: the vfork parent runs again, a parent sleeping in wait4 is woken.
 */
import type { Process, SyscallArg, SyscallContext } from '@polykernel/kernel';
import { procOf, type FreebsdKernel, type FreebsdMachine, type FreebsdSpace } from '../machine.js';
import { WCONTINUED, WEXITED, WNOHANG, WNOWAIT, WTRAPPED, WUNTRACED, hasBitsOutside } from '../param.js';
import { FREEBSD_COSTS } from '../costs.js';
import { arg, intArg } from '../vm/vm_mmap.js';

type Ctx = SyscallContext<FreebsdSpace, FreebsdMachine>;

/** WLINUXCLONE (sys/sys/wait.h): wait for Linux-emulation clones too. */
const WLINUXCLONE = 2 ** 31;

/** sys_exit → exit1(td, rval, 0): the process ends with W_EXITCODE(rval, 0). */
export function sysExit(ctx: Ctx, args: readonly SyscallArg[]): number {
  ctx.kernel.metrics.cycles += FREEBSD_COSTS.exitBase;
  ctx.kernel.exitProcess(ctx.process, intArg(args, 0) & 0xff);
  return 0;
}

/** After the core made the zombie: release a vfork parent, wake its parent's wait4. */
export function onExit(k: FreebsdKernel, p: Process<FreebsdSpace>): void {
  releaseVforkParent(k, p);
  const parent = p.parent;
  if (parent === null) return;
  for (const t of parent.threads) if (t.state === 'blocked' && t.pending?.reason === 'wait4') k.wake(t);
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

function matches(c: Process<FreebsdSpace>, pid: number): boolean {
  if (pid === -1) return true;
  // Process groups are not modelled: each process leads its own group (pgid = pid).
  if (pid < -1) return c.pid === -pid;
  if (pid === 0) return true;
  return c.pid === pid;
}

function waitOnce(ctx: Ctx, pid: number, statusAddr: number, options: number): number {
  const k = ctx.kernel;
  const kids = ctx.process.children.filter((c) => matches(c, pid));
  if (kids.length === 0) return ctx.fail('ECHILD', 'no such child');
  const z = kids.find((c) => c.state === 'zombie');
  if (z !== undefined) {
    const status = z.exitStatus ?? 0;
    const cpid = z.pid;
    if ((options & WNOWAIT) === 0) k.reap(z);
    if (statusAddr !== 0) {
      const b = Uint8Array.of(status & 0xff, (status >> 8) & 0xff, 0, 0);
      if (k.copyToUser(ctx.thread, statusAddr, b) !== 4) return ctx.fail('EFAULT', 'status is not writable');
    }
    return cpid;
  }
  if ((options & WNOHANG) !== 0) return 0;
  return ctx.block('wait4', (again) => waitOnce(again, pid, statusAddr, options), 0);
}

/** sys_getpid. */
export function sysGetpid(ctx: Ctx): number {
  return ctx.process.pid;
}

/** sys_getppid. */
export function sysGetppid(ctx: Ctx): number {
  return ctx.process.ppid;
}
