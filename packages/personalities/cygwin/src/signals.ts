/**
 * POSIX signals as cygwin1.dll keeps them (signal.cc, exceptions.cc, sigproc.cc): global_sigs per
 * process (sigaction / signal; fork copies it, exec resets handlers to SIG_DFL and keeps SIG_IGN),
 * kill's per-target action — SIGKILL ends the process; SIGSTOP, and SIGTSTP/SIGTTIN/SIGTTOU at
 * SIG_DFL, stop it (its thread suspended, PID_STOPPED, the parent's waitpid(WUNTRACED) sees
 * it); SIGCONT continues it (waitpid(WCONTINUED)) and then runs its handler if it has one; SIG_IGN
 * drops the signal; a handler gets it pending.
 *
 * Simplified (README): Cygwin delivers a signal from its signal thread ("sig"), which interrupts the
 * main thread (setup_handler) wherever it is. The simulation runs no user code and has no sig
 * thread: a pending signal's handler is entered when the process next returns from a Cygwin call
 * (recorded in state.cygwin.handlerEntries with that call's name), a blocked waitpid is not
 * interrupted (no EINTR), and signal masks (sigprocmask, sa_mask) are not modelled.
 */
import type { SyscallArg } from '@polykernel/kernel';
import { pinfoOf } from './pinfo.js';
import type { CygProc, K } from './types.js';
import type { Ctx } from './posix.js';

export const SIG_DFL = 0;
export const SIG_IGN = 1;
/** SIG_ERR: (_sig_func_ptr) -1. */
export const SIG_ERR = -1;
export const SA_NOCLDSTOP = 1;
export const SA_SIGINFO = 2;
export const SA_RESTART = 0x1000_0000;
export const SA_NODEFER = 0x4000_0000;
export const SA_RESETHAND = 0x8000_0000;
/** sys/wait.h */
export const WUNTRACED = 2;
export const WCONTINUED = 8;

export const SIGKILL = 9;
export const SIGSTOP = 17;
export const SIGCONT = 19;
export const SIGCHLD = 20;
/** sys/signal.h NSIG for Cygwin: signals 1..64. */
export const NSIG = 65;
/** Signals whose default action is to ignore (signal(7)); SIGCONT's is to continue. */
export const IGNORED_BY_DEFAULT = new Set([16, 19, 20, 28]); // SIGURG, SIGCONT, SIGCHLD, SIGWINCH
/** Stop signals. */
export const STOP_SIGNALS = new Set([17, 18, 21, 22]); // SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU

const num = (a: SyscallArg | undefined): number => (typeof a === 'number' ? a : Number.NaN);
const bit = (v: number, b: number): boolean => Math.floor(v / b) % 2 === 1;

export function actionOf(proc: CygProc, sig: number): { handler: number; flags: number } {
  return proc.sigs.get(sig) ?? { handler: SIG_DFL, flags: 0 };
}

function setAction(proc: CygProc, sig: number, handler: number, flags: number): void {
  if (handler === SIG_DFL && flags === 0) proc.sigs.delete(sig);
  else proc.sigs.set(sig, { handler, flags });
  // sig_clear: ignoring a signal (or SIGCHLD back to SIG_DFL) drops it if pending.
  if (handler === SIG_IGN || (handler === SIG_DFL && sig === SIGCHLD)) proc.pending = proc.pending.filter((s) => s !== sig);
}

/** sigaction(sig, handler, flags): the old action in the record (sa_handler, sa_flags); EINVAL for a bad signal or SIGKILL/SIGSTOP. */
export function sigaction(ctx: Ctx, a: readonly SyscallArg[]): number {
  const sig = num(a[0]);
  if (!Number.isInteger(sig) || sig <= 0 || sig >= NSIG) return ctx.fail('EINVAL');
  const proc = pinfoOf(ctx.kernel, ctx.process);
  const old = actionOf(proc, sig);
  ctx.record({ type: 'sigaction', fields: { sa_handler: old.handler, sa_flags: old.flags } });
  // A NULL newact (handler argument absent) only reads the old action.
  if (a[1] === undefined) return 0;
  if (sig === SIGKILL || sig === SIGSTOP) return ctx.fail('EINVAL');
  setAction(proc, sig, num(a[1]), num(a[2] ?? 0));
  return 0;
}

/** signal(sig, func): the previous handler, or SIG_ERR (EINVAL); the action gets SA_RESTART and no SA_SIGINFO. */
export function signal(ctx: Ctx, a: readonly SyscallArg[]): number {
  const [sig, func] = [num(a[0]), num(a[1])];
  if (!Number.isInteger(sig) || sig <= 0 || sig >= NSIG || sig === SIGKILL || sig === SIGSTOP) return ctx.fail('EINVAL');
  const proc = pinfoOf(ctx.kernel, ctx.process);
  const prev = actionOf(proc, sig);
  let flags = prev.flags;
  if (!bit(flags, SA_RESTART)) flags += SA_RESTART;
  if (bit(flags, SA_SIGINFO)) flags -= SA_SIGINFO;
  setAction(proc, sig, func, flags);
  return prev.handler;
}

/** The main thread of a Cygwin process's Windows process. */
function mainThread(k: K, proc: CygProc) {
  return k.processes.get(proc.winpid)?.threads[0];
}

/** Waiters in the parent's waitpid wake (PID_STOPPED / PID_CONTINUED changed); SIGCHLD pends there if it has a handler. */
export function tellParent(k: K, child: CygProc, stopped: boolean): void {
  const parent = k.state.cygwin.byPid.get(child.ppid);
  if (!parent?.children.has(child.pid)) return;
  const act = actionOf(parent, SIGCHLD);
  if (act.handler > SIG_IGN && !(stopped && bit(act.flags, SA_NOCLDSTOP)) && !parent.pending.includes(SIGCHLD)) parent.pending.push(SIGCHLD);
  for (const t of k.processes.get(parent.winpid)?.threads ?? []) if (t.pending?.reason === 'waitpid') k.wake(t);
}

/** sig_handle_tty_stop: PID_STOPPED, the main thread held until SIGCONT. */
export function stopProcess(k: K, target: CygProc, sig: number): void {
  if (target.stopped !== 0) return;
  const t = mainThread(k, target);
  if (t !== undefined && t.state !== 'dead') k.suspendThread(t);
  target.stopped = sig;
  target.stopUnreported = true;
  target.continuedUnreported = false;
  tellParent(k, target, true);
}

/** SIGCONT on a stopped process: it runs again (PID_CONTINUED for waitpid). */
export function continueProcess(k: K, target: CygProc): void {
  if (target.stopped === 0) return;
  const t = mainThread(k, target);
  if (t?.state === 'suspended') k.resumeThread(t);
  target.stopped = 0;
  target.stopUnreported = false;
  target.continuedUnreported = true;
  tellParent(k, target, false);
}

/**
 * What kill does to one target for a signal other than 0 and SIGKILL: 'fatal' when the default
 * action ends the process (the caller does that), else handled here (stopped, continued, pending,
 * or nothing).
 */
export function sendSignal(k: K, target: CygProc, sig: number): 'fatal' | 'done' {
  if (sig === SIGSTOP) {
    stopProcess(k, target, sig);
    return 'done';
  }
  if (sig === SIGCONT) continueProcess(k, target);
  const act = actionOf(target, sig);
  if (act.handler === SIG_IGN) return 'done';
  if (act.handler !== SIG_DFL) {
    if (!target.pending.includes(sig)) target.pending.push(sig);
    return 'done';
  }
  if (IGNORED_BY_DEFAULT.has(sig)) return 'done';
  if (STOP_SIGNALS.has(sig)) {
    stopProcess(k, target, sig);
    return 'done';
  }
  return 'fatal';
}

/**
 * The pending signals of the caller's process, delivered as it returns from the Cygwin call `after`:
 * each handler entered (recorded), SA_RESETHAND putting SIG_DFL back; a signal whose action became
 * SIG_DFL in the meantime takes its default action. Returns a fatal signal to end the process with, or 0.
 */
export function deliverPending(k: K, proc: CygProc, after: string): number {
  while (proc.pending.length > 0 && proc.stopped === 0) {
    const sig = proc.pending.shift()!;
    const act = actionOf(proc, sig);
    if (act.handler === SIG_IGN) continue;
    if (act.handler === SIG_DFL) {
      if (IGNORED_BY_DEFAULT.has(sig)) continue;
      if (STOP_SIGNALS.has(sig)) {
        stopProcess(k, proc, sig);
        continue;
      }
      return sig;
    }
    k.state.cygwin.handlerEntries.push({ pid: proc.pid, sig, handler: act.handler, after });
    if (bit(act.flags, SA_RESETHAND)) setAction(proc, sig, SIG_DFL, 0);
  }
  return 0;
}

/** exec (child_info_spawn): handlers go back to SIG_DFL, SIG_IGN stays; nothing is pending in the new program. */
export function sigsAfterExec(from: CygProc): Map<number, { handler: number; flags: number }> {
  return new Map([...from.sigs].filter(([, a]) => a.handler === SIG_IGN).map(([s, a]) => [s, { ...a }]));
}

/** fork: global_sigs is in cygwin1.dll's data, copied to the child; pending signals are not. */
export function sigsAfterFork(from: CygProc): Map<number, { handler: number; flags: number }> {
  return new Map([...from.sigs].map(([s, a]) => [s, { ...a }]));
}

/** setpgid (syscalls.cc): pid 0 is the caller, pgid 0 the pid; EINVAL, ESRCH, EPERM as Cygwin sets them. */
export function setpgid(ctx: Ctx, a: readonly SyscallArg[]): number {
  const me = pinfoOf(ctx.kernel, ctx.process);
  const pid = num(a[0]) === 0 ? me.pid : num(a[0]);
  const pgid = num(a[1]) === 0 ? pid : num(a[1]);
  if (!(pgid >= 0) || !Number.isInteger(pgid)) return ctx.fail('EINVAL');
  const p = ctx.kernel.state.cygwin.byPid.get(pid);
  if (p === undefined || p.exited) return ctx.fail('ESRCH');
  if (p.pgid === pgid) return 0;
  // "A process may only change the process group of itself and its children".
  if (p !== me && p.ppid !== me.pid) return ctx.fail('EPERM');
  p.pgid = pgid;
  return 0;
}

/** getpgid (syscalls.cc): pid 0 is the caller; ESRCH when there is no such process. */
export function getpgid(ctx: Ctx, a: readonly SyscallArg[]): number {
  const me = pinfoOf(ctx.kernel, ctx.process);
  const pid = num(a[0] ?? 0) === 0 ? me.pid : num(a[0]);
  const p = ctx.kernel.state.cygwin.byPid.get(pid);
  return p === undefined || p.exited ? ctx.fail('ESRCH') : p.pgid;
}
