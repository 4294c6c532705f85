/**
 * kernel/signal.c: kill(2) (kill_something_info: one pid, or -1 for every process the caller may
 * signal; check_kill_permission), rt_sigaction(2) (do_sigaction on the shared sighand_struct), and
 * delivery: an ignored signal is dropped, a caught one counted (no user code runs), otherwise the
 * default action — terminate through the core, or stop/continue the task.
 */
import { pageDown } from '@polykernel/core';
import type { Delivery, Kernel, Process, SignalInfo, SyscallArg, SyscallContext, Thread } from '@polykernel/kernel';
import { PROCESS_COSTS } from './costs.js';
import { PAGE_SIZE, PROT_READ, PROT_WRITE } from './flags.js';
import { wakeWaiters } from './exit.js';
import { machineOf, type LinuxMachine, type LinuxSpace } from './machine.js';
import { int, ulong } from './syscall-args.js';
import { defaultAction, SIG_DFL, SIG_IGN, SIGNAL_NAMES, SIGNALS, TASK } from './tasks.js';

/** kill(2) (kill_something_info): one process, or -1 for all the caller may signal (not init, not itself). */
export function sysKill(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  const [pid, sigNum] = [int(a[0]), int(a[1])];
  const k = ctx.kernel;
  if (!Number.isInteger(sigNum) || sigNum < 0 || sigNum > 64) return ctx.fail('EINVAL', `signal ${sigNum}`);
  const sig = SIGNAL_NAMES[sigNum];
  if (sigNum !== 0 && sig === undefined) return ctx.fail('EINVAL', `signal ${sigNum} is not modelled (real-time signals)`);
  const me = ctx.process.creds;
  const allowed = (t: Process<LinuxSpace>): boolean => me.euid === 0 || me.uid === t.creds.uid || me.euid === t.creds.uid;
  let targets: Process<LinuxSpace>[];
  if (pid > 0) {
    const t = k.processes.get(pid);
    if (t === undefined) return ctx.fail('ESRCH', `no process ${pid}`);
    targets = [t];
  } else if (pid === -1) {
    targets = [...k.processes.values()].filter((t) => t !== k.init && t !== ctx.process);
    if (targets.length === 0) return ctx.fail('ESRCH', 'no process to signal');
  } else return ctx.fail('ESRCH', 'process groups are not modelled');
  const permitted = targets.filter(allowed);
  if (permitted.length === 0) return ctx.fail('EPERM', 'not permitted to signal that process');
  const m = machineOf(k);
  if (sig !== undefined) for (const t of permitted) sendSignal(m, t, sig);
  return 0;
}

/**
 * rt_sigaction(sig, act, oact, sigsetsize). Simplified: `act` is the sa_handler value itself
 * (0 SIG_DFL, 1 SIG_IGN, else a handler's address), not a pointer to struct sigaction; the
 * previous one is the return value's business only through oact, which is not written.
 */
export function sysRtSigaction(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  const [sig, act, size] = [int(a[0]), ulong(a[1]), ulong(a[3] ?? 8)];
  if (size !== 8) return ctx.fail('EINVAL', 'sigsetsize must be 8');
  if (!Number.isInteger(sig) || sig < 1 || sig > 64) return ctx.fail('EINVAL', `signal ${sig}`);
  if (sig === SIGNALS.SIGKILL || sig === SIGNALS.SIGSTOP) return ctx.fail('EINVAL', 'SIGKILL and SIGSTOP cannot be caught or ignored');
  if (!Number.isSafeInteger(act) || act < 0) return ctx.fail('EFAULT', 'act');
  const sighand = machineOf(ctx.kernel).task(ctx.thread).sighand;
  if (act === SIG_DFL) sighand.action.delete(sig);
  else sighand.action.set(sig, act);
  return 0;
}

/** send_signal → the default action or the handler, for one process (group-wide, as kill sends it). */
export function sendSignal(m: LinuxMachine, target: Process<LinuxSpace>, sig: string): void {
  const k = m.kernel;
  if (target.state !== 'running') return;
  // init (SIGNAL_UNKILLABLE) gets no default-action signals from user space.
  if (target === k.init) return;
  const threads = target.threads;
  const num = SIGNALS[sig]!;
  const leader = threads[0];
  // SIGKILL and SIGSTOP cannot be caught or ignored; SIGCONT continues a stopped process even so.
  const handler = leader === undefined || num === SIGNALS.SIGKILL || num === SIGNALS.SIGSTOP ? SIG_DFL : (m.task(leader).sighand.action.get(num) ?? SIG_DFL);
  if (handler !== SIG_DFL) {
    if (num === SIGNALS.SIGCONT) continueProcess(m, target);
    if (handler === SIG_IGN) return;
    // A handler would run in the process; the simulation runs no user code, so it is counted.
    m.task(leader!).signalsHandled++;
    k.bus.probe('signal').publish({ pid: target.pid, signal: sig, code: 'SI_USER', action: 'handled' });
    return;
  }
  const action = defaultAction(sig);
  if (action === 'ign') return;
  if (action === 'stop' || action === 'cont') {
    for (const th of threads) {
      const task = m.task(th);
      if (action === 'stop' && task.state !== TASK.STOPPED) {
        task.state = TASK.STOPPED;
        task.stopSignal = SIGNALS[sig]!;
        task.stopReported = false;
        // do_signal_stop: the task is in TASK_STOPPED and is not scheduled until SIGCONT — the
        // core's suspended state, as FreeBSD's and Cygwin's stops use (no access, no call runs).
        k.suspendThread(th);
      } else if (action === 'cont' && task.state === TASK.STOPPED) {
        wakeStopped(m, th);
      }
    }
    if (target.parent !== null) wakeWaiters(m, target.parent);
    return;
  }
  k.signal(target, sig, 'SI_USER');
}

/** SIGCONT's effect even when caught: every stopped thread runs again. */
export function continueProcess(m: LinuxMachine, target: Process<LinuxSpace>): void {
  for (const th of target.threads) if (m.task(th).state === TASK.STOPPED) wakeStopped(m, th);
}

/**
 * wake_up_state(TASK_STOPPED): the task runs again. A call it slept in when it stopped was
 * interrupted by the stop (-ERESTARTSYS) and is restarted: it runs and looks again, sleeping if
 * there is still nothing to do.
 */
function wakeStopped(m: LinuxMachine, th: Thread): void {
  m.task(th).state = TASK.RUNNING;
  if (th.suspendCount > 0) m.kernel.resumeThread(th);
  m.kernel.wake(th);
}

/**
 * de_thread → unshare_sighand, flush_signal_handlers (exec): the task gets a sighand of its own in
 * which caught signals are back to SIG_DFL and ignored ones stay ignored.
 */
export function flushSignalHandlers(m: LinuxMachine, thread: Thread): void {
  const t = m.task(thread);
  t.sighand = { action: new Map([...t.sighand.action].filter(([, h]) => h === SIG_IGN)) };
}

/**
 * What a caught handler does when its signal came from a fault. The simulation runs no user code,
 * so the handler's address stands for its behaviour (a convention of this simulation, documented
 * in the workload format): at FAULT_HANDLER.mprotect it makes the faulting page readable and
 * writable with mprotect(2) and returns, so the access is retried (a GC write barrier, a
 * user-space pager); any other handler address counts the fault and resumes past the access (a
 * siglongjmp to a recovery point).
 */
export const FAULT_HANDLER = { continue: 0x401000, mprotect: 0x402000 } as const;

/**
 * The core's delivery hook (force_sig_fault → get_signal → handle_signal): SIG_DFL takes the
 * default action; SIG_IGN is dropped (the core turns an ignored fault signal back into the
 * default, as force_sig_info_to_task does); a handler runs — its frame and rt_sigreturn are
 * charged and rt_sigreturn enters the kernel through the gate — and the thread goes on.
 */
export function deliverSignal(k: Kernel<LinuxSpace>, thread: Thread, info: SignalInfo): Delivery {
  const m = machineOf(k);
  const sig = SIGNALS[info.signal];
  if (sig === undefined || sig === SIGNALS.SIGKILL || sig === SIGNALS.SIGSTOP) return 'default';
  const handler = m.task(thread).sighand.action.get(sig) ?? SIG_DFL;
  if (handler === SIG_DFL) return 'default';
  if (handler === SIG_IGN) return 'ignore';
  m.task(thread).signalsHandled++;
  k.metrics.cycles += PROCESS_COSTS.signalDelivery;
  if (info.fromFault && info.address !== null && handler === FAULT_HANDLER.mprotect) {
    k.syscall(thread, 'mprotect', [pageDown(info.address), PAGE_SIZE, PROT_READ | PROT_WRITE]);
  }
  k.syscall(thread, 'rt_sigreturn');
  if (!info.fromFault) return 'handled';
  return handler === FAULT_HANDLER.mprotect ? 'retry' : 'skip';
}

/** rt_sigreturn(2): back from a handler (restore_sigcontext; its cost is in signalDelivery). */
export function sysRtSigreturn(): number {
  return 0;
}
