/**
 * kernel/exit.c: exit(2) and exit_group(2) (do_exit, do_group_exit), wait4(2) (do_wait with
 * eligible_child, wait_task_zombie, wait_task_stopped; a caller with nothing to reap sleeps and
 * restarts the call), and exit_notify → do_notify_parent (kernel/signal.c) once a process is a
 * zombie: SIGCHLD, autoreap for a parent ignoring it, waking the parent's waiters.
 */
import type { Kernel, Process, SyscallArg, SyscallContext } from '@polykernel/kernel';
import { ACCESS_WRITE } from '@polykernel/mmu';
import { PROCESS_COSTS } from './costs.js';
import { releaseVforkParent } from './fork.js';
import { machineOf, type LinuxMachine, type LinuxSpace } from './machine.js';
import { int, ulong } from './syscall-args.js';
import { SIG_DFL, SIG_IGN, SIGNAL_NAMES, SIGNALS, TASK, validWaitOptions, WAIT } from './tasks.js';

/** The value wait4 returns to a caller it put to sleep: restart the call once the thread runs again (-ERESTARTSYS). */
export const RESTART_SYSCALL = -512;

/** exit(2) (do_exit): the calling thread ends; the process with its last thread. */
export function sysExit(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  // exit(2) ends the calling thread; the process ends with its last thread (do_exit).
  ctx.kernel.exitThread(ctx.thread);
  ctx.kernel.metrics.cycles += PROCESS_COSTS.exitBase;
  if (ctx.process.threads.every((th) => th.state === 'dead')) ctx.kernel.exitProcess(ctx.process, int(a[0]) & 0xff);
  return 0;
}

/** exit_group(2) (do_group_exit): every thread, and so the process, ends. */
export function sysExitGroup(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  ctx.kernel.metrics.cycles += PROCESS_COSTS.exitBase;
  ctx.kernel.exitProcess(ctx.process, int(a[0]) & 0xff);
  return 0;
}

/** wait4(2) (kernel_wait4 → do_wait): reap a zombie, report a stop (WUNTRACED), or sleep. */
export function sysWait4(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  const [pid, statAddr, options] = [int(a[0]), ulong(a[1] ?? 0), int(a[2] ?? 0)];
  if (!validWaitOptions(options)) return ctx.fail('EINVAL', `options 0x${options.toString(16)}`);
  return doWait(ctx, pid, statAddr, options);
}

/**
 * do_wait's loop: look at the eligible children; with none to report, sleep (TASK_INTERRUPTIBLE
 * on the wait queue) and look again when woken — the continuation the core resumes. While it
 * sleeps the call's value is -ERESTARTSYS, Linux's encoding of a call still in progress.
 */
function doWait(ctx: SyscallContext<LinuxSpace>, pid: number, statAddr: number, options: number): number {
  const m = machineOf(ctx.kernel);
  const p = ctx.process;
  const task = m.task(ctx.thread);
  const kids = eligibleChildren(m, p, pid === 0 ? -1 : pid, options);
  if (kids.length === 0) return ctx.fail('ECHILD', 'no child to wait for');
  const zombie = kids.find((c) => c.state === 'zombie');
  if (zombie !== undefined) {
    const status = zombie.exitStatus ?? 0;
    if (!putStatus(ctx, statAddr, status)) return ctx.fail('EFAULT', 'stat_addr is not writable');
    const zpid = zombie.pid;
    for (const th of zombie.threads) m.task(th).exitState = TASK.EXIT_DEAD;
    ctx.kernel.reap(zombie);
    task.lastWait = { pid: zpid, status };
    return zpid;
  }
  if ((options & WAIT.WUNTRACED) !== 0) {
    for (const c of kids) {
      const ct = c.threads[0] === undefined ? null : m.task(c.threads[0]);
      if (ct !== null && ct.state === TASK.STOPPED && !ct.stopReported) {
        ct.stopReported = true;
        const status = (ct.stopSignal << 8) | 0x7f;
        if (!putStatus(ctx, statAddr, status)) return ctx.fail('EFAULT', 'stat_addr is not writable');
        task.lastWait = { pid: c.pid, status };
        return c.pid;
      }
    }
  }
  if ((options & WAIT.WNOHANG) !== 0) return 0;
  // Sleep (TASK_INTERRUPTIBLE) until a child changes state, then look again.
  task.state = TASK.INTERRUPTIBLE;
  return ctx.block('wait4', (again) => doWait(again, pid, statAddr, options), RESTART_SYSCALL);
}

/** Children wait4 may report: pid match and the __WCLONE/__WALL rule on the exit signal (eligible_child). */
export function eligibleChildren(m: LinuxMachine, p: Process<LinuxSpace>, pid: number, options: number): Process<LinuxSpace>[] {
  return p.children.filter((c) => {
    if (pid > 0 && c.pid !== pid) return false;
    if (pid < -1) return false; // process groups are not modelled: no child is in group -pid
    const leader = c.threads[0];
    const sig = leader === undefined ? SIGNALS.SIGCHLD! : m.task(leader).exitSignal;
    if ((options & WAIT.__WALL) !== 0) return true;
    return (sig !== SIGNALS.SIGCHLD) === ((options & WAIT.__WCLONE) !== 0);
  });
}

/** Store a wait status at a user address (put_user), as wait4's stat_addr. */
export function putStatus(ctx: SyscallContext<LinuxSpace>, addr: number, status: number): boolean {
  if (addr === 0) return true;
  const pa = ctx.kernel.access(ctx.thread, addr, ACCESS_WRITE);
  if (pa < 0) return false;
  const frames = ctx.kernel.mmu.frames;
  if (frames.contentsEnabled) frames.write(pa, Uint8Array.of(status & 0xff, (status >> 8) & 0xff, 0, 0));
  return true;
}

/** A child changed state (__wake_up_parent): threads of `parent` sleeping in wait4 run again. */
export function wakeWaiters(m: LinuxMachine, parent: Process<LinuxSpace>): void {
  for (const th of parent.threads) {
    const task = m.task(th);
    if (task.state === TASK.INTERRUPTIBLE && th.state === 'blocked') {
      task.state = TASK.RUNNING;
      m.kernel.wake(th);
    }
  }
}

/** exit_notify → do_notify_parent, as the core calls it once a process is a zombie. */
/**
 * exit_notify (do_exit's end), as the core calls it once a process is a zombie: its tasks are
 * zombies, a vfork parent runs again (mm_release), and do_notify_parent tells the parent.
 */
export function onExit(k: Kernel<LinuxSpace>, p: Process<LinuxSpace>): void {
  const m = machineOf(k);
  for (const th of p.threads) {
    const task = m.task(th);
    task.exitState = TASK.EXIT_ZOMBIE;
    task.state = TASK.DEAD;
    releaseVforkParent(m, th);
  }
  if (p.parent !== null) {
    // do_notify_parent: the exit signal (SIGCHLD for fork's children) goes to the parent; its
    // default action is to ignore it, so it shows only in traces.
    const leader = p.threads[0];
    const sig = leader === undefined ? SIGNALS.SIGCHLD! : m.task(leader).exitSignal;
    const name = SIGNAL_NAMES[sig];
    const parentLeader = p.parent.threads[0];
    // A parent ignoring SIGCHLD gets no signal and no zombie: the child is reaped at once
    // (do_notify_parent's autoreap), and its wait4 ends in ECHILD when no child is left.
    const autoreap = sig === SIGNALS.SIGCHLD && parentLeader !== undefined && m.task(parentLeader).sighand.action.get(sig) === SIG_IGN;
    const caught = parentLeader !== undefined && (m.task(parentLeader).sighand.action.get(sig) ?? SIG_DFL) !== SIG_DFL;
    if (!autoreap && name !== undefined) {
      k.bus.probe('signal').publish({ pid: p.parent.pid, signal: name, code: p.killedBy === null ? 'CLD_EXITED' : 'CLD_KILLED', action: caught ? 'handled' : 'ignore' });
    }
    const parent = p.parent;
    if (autoreap) {
      for (const th of p.threads) m.task(th).exitState = TASK.EXIT_DEAD;
      k.reap(p);
    }
    wakeWaiters(m, parent);
  }
}
