/**
 * sys/kern/kern_fork.c: fork(2), vfork(2) and rfork(2), all through fork1(). fork1 validates the
 * flags first (EINVAL for unknown or kernel-only flags, for RFFDG with RFCFDG, for a signal
 * number without RFTSIGZMB); without RFPROC it only divorces parts of the calling process
 * (fork_norfproc). With RFPROC it makes a child: the address space shared (RFMEM) or copied by
 * vmspace_fork, the descriptor table copied (RFFDG), cleared (RFCFDG) or shared; RFNOWAIT
 * gives the child to init at once; RFPPWAIT (vfork) puts the parent to sleep until the child
 * execs or exits. PIDs come from fork_findpid (the kernel's freebsdIds policy).
 */
import type { SyscallArg, SyscallContext } from '@polykernel/kernel';
import { procOf, type FreebsdMachine, type FreebsdSpace } from '../machine.js';
import {
  RFCFDG, RFFDG, RFFLAGS, RFKERNELONLY, RFMEM, RFNOWAIT, RFPPWAIT, RFPROC, RFPROCDESC, RFSPAWN, RFTSIGMASK, RFTSIGSHIFT, RFTSIGZMB, SIG_MAXSIG,
  hasBit, hasBitsOutside,
} from '../param.js';
import { FREEBSD_COSTS } from '../costs.js';
import { arg } from '../vm/vm_mmap.js';
import { vmspaceFork } from '../vm/vmspace.js';
import { fdcopy, pwdFork, pwdUnshare } from './kern_descrip.js';
import { execsigs, sigFork } from './kern_sig.js';

type Ctx = SyscallContext<FreebsdSpace, FreebsdMachine>;

/** The signal number field of rfork's flags (RFTSIGNUM). */
function tsignum(flags: number): number {
  return Math.floor(flags / 2 ** RFTSIGSHIFT) % (RFTSIGMASK + 1);
}

/**
 * fork1. Returns the child's PID to the parent (0 without RFPROC). `dropCaught`: FR2_DROPSIG_CAUGHT
 * (rfork(RFSPAWN)): the child's caught signals go back to SIG_DFL, ignored ones stay ignored.
 */
export function fork1(ctx: Ctx, flags: number, dropCaught = false): number {
  const tsigBits = RFTSIGMASK * 2 ** RFTSIGSHIFT;
  if (flags < 0 || hasBitsOutside(flags, RFFLAGS + tsigBits)) return ctx.fail('EINVAL', 'unknown rfork flags');
  if (tsignum(flags) !== 0 && !hasBit(flags, RFTSIGZMB)) return ctx.fail('EINVAL', 'a signal number without RFTSIGZMB');
  if (hasBit(flags, RFFDG) && hasBit(flags, RFCFDG)) return ctx.fail('EINVAL', 'RFFDG with RFCFDG');
  if (hasBit(flags, RFTSIGZMB) && tsignum(flags) > SIG_MAXSIG) return ctx.fail('EINVAL', 'bad RFTSIGNUM');
  if (hasBit(flags, RFPROCDESC)) return ctx.fail('EINVAL', 'RFPROCDESC needs pdfork (process descriptors are not modelled)');
  const p = ctx.process;
  if (!hasBit(flags, RFPROC)) return forkNoRfproc(ctx, flags);
  const k = ctx.kernel;
  k.metrics.cycles += FREEBSD_COSTS.forkBase;
  const space = hasBit(flags, RFMEM) ? p.space : vmspaceFork(k, p, ctx.thread.cpu);
  let child;
  try {
    child = k.createProcess(p, p.comm, p.creds, space);
  } catch {
    return ctx.fail('EAGAIN', 'no free PID');
  }
  if (!hasBit(flags, RFMEM)) space.pmap.owner = child;
  child.files = hasBit(flags, RFCFDG) ? [] : hasBit(flags, RFFDG) ? fdcopy(p.files) : p.files;
  pwdFork(k.state, p, child, !hasBit(flags, RFFDG) && !hasBit(flags, RFCFDG));
  sigFork(p, child, ctx.thread);
  if (dropCaught) execsigs(child);
  const m = k.state;
  const pp = procOf(m, p);
  const cp = procOf(m, child);
  cp.args = pp.args;
  cp.osrel = pp.osrel;
  cp.auxv = pp.auxv;
  if (hasBit(flags, RFNOWAIT)) reparentToInit(ctx, child);
  if (hasBit(flags, RFPPWAIT)) {
    cp.vforkParent = ctx.thread;
    return ctx.block('vfork', () => child.pid, child.pid);
  }
  return child.pid;
}

/** RFNOWAIT: the child is dissociated from its parent (init reaps it). */
function reparentToInit(ctx: Ctx, child: Ctx['process']): void {
  const k = ctx.kernel;
  const parent = child.parent;
  if (parent === null || parent === k.init) return;
  const i = parent.children.indexOf(child);
  if (i >= 0) parent.children.splice(i, 1);
  child.parent = k.init;
  k.init.children.push(child);
}

/** fork_norfproc: divorce parts of the calling process without making one. */
function forkNoRfproc(ctx: Ctx, flags: number): number {
  const p = ctx.process;
  if (hasBit(flags, RFFDG)) p.files = fdcopy(p.files);
  if (hasBit(flags, RFCFDG)) p.files = [];
  if (hasBit(flags, RFFDG) || hasBit(flags, RFCFDG)) pwdUnshare(ctx.kernel.state, p);
  return 0;
}

/** sys_fork: RFFDG | RFPROC. */
export function sysFork(ctx: Ctx): number {
  return fork1(ctx, RFFDG + RFPROC);
}

/** sys_vfork: RFFDG | RFPROC | RFPPWAIT | RFMEM. */
export function sysVfork(ctx: Ctx): number {
  return fork1(ctx, RFFDG + RFPROC + RFPPWAIT + RFMEM);
}

/** sys_rfork: kernel-only flags are refused before fork1 sees them. */
export function sysRfork(ctx: Ctx, args: readonly SyscallArg[]): number {
  const flags = arg(args, 0);
  // FreeBSD 13+: bit 31 from user space is RFSPAWN (posix_spawn), alone only; it means vfork's
  // flags with the caught signals dropped (sys/kern/kern_fork.c: sys_rfork).
  if (flags === RFSPAWN) return fork1(ctx, RFFDG + RFPROC + RFPPWAIT + RFMEM, true);
  if (flags < 0 || kernelOnly(flags)) return ctx.fail('EINVAL', 'kernel-only rfork flags');
  return fork1(ctx, flags);
}

function kernelOnly(flags: number): boolean {
  for (let b = 1; b <= RFKERNELONLY; b *= 2) if (hasBit(RFKERNELONLY, b) && hasBit(flags, b)) return true;
  return false;
}
