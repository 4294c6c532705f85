/**
 * sys/kern/kern_sig.c and kern_prot.c: kill (37), sigaction (416), sigprocmask (340), sigsuspend
 * (341), sigpending (343), sigreturn (417), setpgid (82), getpgid (207), getpgrp (81), and
 * delivery with job control.
 *
 * kill checks the signal number (EINVAL above _SIG_MAXSIG), finds the target — one process, the
 * caller's group (pid 0), the group -pid (killpg1: ESRCH when no member exists or none could be
 * signalled, EPERM when members exist but p_cansignal refused them all) or everyone (-1) — and
 * posts the signal unless it is 0. tdsendsignal then follows sigproptbl: a signal the process
 * ignores (SIG_IGN, or a default of SIGPROP_IGNORE) is discarded; a process-directed one goes to
 * the thread sigtd picks (the sender's own thread, else the first thread not blocking it) and
 * waits in p_sigqueue while every thread blocks it, until one unblocks it (sigprocmask) or a new
 * thread that does not block it starts; a thread-directed one (thr_kill) waits in that thread's
 * td_sigqueue. The stop signals (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU) by default stop the
 * process: every thread is suspended, the parent's wait4 is woken and SIGCHLD sent (unless
 * SA_NOCLDSTOP); SIGCONT continues it even when blocked or ignored; SIGKILL kills it, stopped or
 * not; any other signal waits until the process is continued. A caught signal runs its handler —
 * the simulation runs no user code, so the handler's entry is the `signal` probe's `handled`
 * event and the sigreturn(2) trap it makes — and an uncaught one takes its default action.
 *
 * A fault's signal (SIGSEGV, SIGBUS) goes to a handler too (trapsignal), unless the thread blocks
 * it. What a handler does on a fault is told by its address, as for the Linux personality
 * (docs/decisions.md): at FAULT_HANDLER.mprotect it makes the faulting page read-write with
 * mprotect(2) and returns (the access is retried); any other handler resumes past the access
 * (siglongjmp).
 *
 * Every posted signal but SIGKILL and SIGSTOP is queued with its siginfo (sigqueue_add), so a
 * signal sent twice while blocked is delivered twice, up to kern.sigqueue.max_pending_per_proc
 * (128) queued per process; past it, and for SIGKILL and SIGSTOP, one more instance is kept as
 * the sq_kill bit.
 *
 * Simplifications: no core is dumped (the status has no
 * WCOREFLAG, as with kern.coredump=0); process groups are never orphaned (PGRP_ORPHANED's
 * discarding of tty stops is not modelled); every process is in the one session init leads (no
 * setsid), so setpgid's session checks pass for everyone but init.
 */
import { pageDown } from '@polykernel/core';
import type { Delivery, Process, SignalInfo, SyscallArg, SyscallContext, Thread } from '@polykernel/kernel';
import { procOf, type FreebsdKernel, type FreebsdMachine, type FreebsdSpace } from '../machine.js';
import { PAGE_SIZE, SIGNALS, SIG_MAXSIG, VM_PROT_READ, VM_PROT_WRITE } from '../param.js';
import { arg, intArg } from '../vm/vm_mmap.js';

type Ctx = SyscallContext<FreebsdSpace, FreebsdMachine>;
type Proc = Process<FreebsdSpace>;

/** Every signal number 1.._SIG_MAXSIG by name (unnamed numbers as SIG<n>, realtime ones included). */
export const ALL_SIGNALS: Readonly<Record<string, number>> = (() => {
  const out: Record<string, number> = { ...SIGNALS };
  const named = new Set(Object.values(SIGNALS));
  for (let n = 1; n <= SIG_MAXSIG; n++) if (!named.has(n)) out[`SIG${n}`] = n;
  return out;
})();

const BY_NUMBER: readonly string[] = (() => {
  const a: string[] = [];
  for (const [name, n] of Object.entries(ALL_SIGNALS)) a[n] = name;
  return a;
})();

const SIGKILL = SIGNALS.SIGKILL!;
const SIGSTOP = SIGNALS.SIGSTOP!;
const SIGCONT = SIGNALS.SIGCONT!;
const SIGCHLD = SIGNALS.SIGCHLD!;
/** NSIG: the old signals sigproptbl describes (1..31). */
const NSIG = 32;

/** sigproptbl's properties (sys/kern/kern_sig.c). */
export const SIGPROP = { KILL: 0x1, CORE: 0x2, STOP: 0x4, TTYSTOP: 0x8, IGNORE: 0x10, CONT: 0x20 } as const;
const KILL = SIGPROP.KILL;
const CORE = SIGPROP.KILL + SIGPROP.CORE;
const TTYSTOP = SIGPROP.STOP + SIGPROP.TTYSTOP;

/** sigproptbl[NSIG], by name. */
const SIGPROPTBL: Readonly<Record<string, number>> = {
  SIGHUP: KILL, SIGINT: KILL, SIGQUIT: CORE, SIGILL: CORE, SIGTRAP: CORE, SIGABRT: CORE, SIGEMT: CORE, SIGFPE: CORE, SIGKILL: KILL,
  SIGBUS: CORE, SIGSEGV: CORE, SIGSYS: CORE, SIGPIPE: KILL, SIGALRM: KILL, SIGTERM: KILL, SIGURG: SIGPROP.IGNORE, SIGSTOP: SIGPROP.STOP,
  SIGTSTP: TTYSTOP, SIGCONT: SIGPROP.IGNORE + SIGPROP.CONT, SIGCHLD: SIGPROP.IGNORE, SIGTTIN: TTYSTOP, SIGTTOU: TTYSTOP,
  SIGIO: SIGPROP.IGNORE, SIGXCPU: KILL, SIGXFSZ: KILL, SIGVTALRM: KILL, SIGPROF: KILL, SIGWINCH: SIGPROP.IGNORE, SIGINFO: SIGPROP.IGNORE,
  SIGUSR1: KILL, SIGUSR2: KILL,
};

/** The signals with SIGPROP_STOP (sigqueue_delete_stopmask_proc removes them all at SIGCONT). */
const STOP_SIGNALS: readonly number[] = Object.entries(SIGPROPTBL).filter(([, v]) => (v & SIGPROP.STOP) !== 0).map(([n]) => ALL_SIGNALS[n]!);

/** sys/sys/signal.h. */
export const SIG_DFL = 0;
export const SIG_IGN = 1;
export const SA = { ONSTACK: 0x1, RESTART: 0x2, RESETHAND: 0x4, NOCLDSTOP: 0x8, NODEFER: 0x10, NOCLDWAIT: 0x20, SIGINFO: 0x40 } as const;
const SA_ALLOWED = SA.ONSTACK + SA.RESTART + SA.RESETHAND + SA.NOCLDSTOP + SA.NODEFER + SA.NOCLDWAIT + SA.SIGINFO;
export const SIG_BLOCK = 1;
export const SIG_UNBLOCK = 2;
export const SIG_SETMASK = 3;
/** struct sigaction on amd64: the handler (8 bytes), sa_flags (int), sa_mask (sigset_t: 4 × u32), padded to 32. */
export const SIGACTION_SIZE = 32;
/** sigset_t: _SIG_WORDS = 4 words of 32 bits. */
export const SIGSET_SIZE = 16;

/** The handler addresses whose fault behaviour the simulation gives (the Linux personality's convention). */
export const FAULT_HANDLER = { continue: 0x401000, mprotect: 0x402000 } as const;

export interface SigAction {
  handler: number;
  flags: number;
  /** sa_mask: signal numbers blocked while the handler runs. */
  mask: ReadonlySet<number>;
}

/**
 * struct sigacts, p_sigqueue and the job-control flags of struct proc (P_STOPPED_SIG, P_WAITED,
 * P_CONTINUED, p_xsig), and p_pgrp.
 */
interface SigState {
  actions: Map<number, SigAction>;
  /** p_sigqueue: process-directed signals no thread has taken yet. */
  pending: SigQueue;
  pgid: number;
  /** Handlers entered (the probe shows each one). */
  handled: number;
  /** P_STOPPED_SIG: every thread is suspended by a stop signal. */
  stopped: boolean;
  /** p_xsig: the signal that stopped it (SIGCONT once continued). */
  xsig: number;
  /** P_WAITED: wait4(WUNTRACED) has reported this stop. */
  waited: boolean;
  /** P_CONTINUED: continued by SIGCONT and not yet reported to wait4(WCONTINUED). */
  continued: boolean;
}

/** A thread's td_sigmask and td_sigqueue (thread-directed signals: thr_kill, tdsignal). */
interface TdState {
  mask: Set<number>;
  pending: SigQueue;
  /** Handlers this thread entered (sigsuspend returns once one has run). */
  entered: number;
}

/**
 * A queued ksiginfo: its si_code, and for a child's SIGCHLD the child (its preallocated p_ksi:
 * on one queue at most, not counted in p_pendingcnt, taken back by wait4).
 */
interface Ksi {
  code: string;
  child: Proc | null;
}

/**
 * sigqueue_t: per signal, the queued ksiginfo and the sq_kill bit (an instance kept without one:
 * SIGKILL, SIGSTOP, or past max_pending_per_proc).
 */
type SigQueue = Map<number, { ksi: Ksi[]; bit: string | null }>;

/** kern.sigqueue.max_pending_per_proc's default. */
export const MAX_PENDING_PER_PROC = 128;

const STATE = new WeakMap<Proc, SigState>();
const TD = new WeakMap<Thread, TdState>();

/** Sleeps a caught signal interrupts (msleep with PCATCH), by the reason the call blocked with. */
const INTERRUPTIBLE: ReadonlySet<string> = new Set(['piperd', 'pipewr', 'pause', 'wait4']);
/** Threads woken by a handler: their sleeping call ends with EINTR. */
const INTERRUPTED = new WeakSet<Thread>();

/** Whether the thread's sleep was interrupted by a caught signal (and clear it). */
export function takeInterrupt(t: Thread): boolean {
  return INTERRUPTED.delete(t);
}

function stateOf(p: Proc): SigState {
  let s = STATE.get(p);
  if (s === undefined) {
    s = newState(new Map(), p.parent === null ? p.pid : stateOf(p.parent).pgid);
    STATE.set(p, s);
  }
  return s;
}

function newState(actions: Map<number, SigAction>, pgid: number): SigState {
  return { actions, pending: new Map(), pgid, handled: 0, stopped: false, xsig: 0, waited: false, continued: false };
}

function tdOf(t: Thread): TdState {
  let s = TD.get(t);
  if (s === undefined) {
    s = { mask: new Set(), pending: new Map(), entered: 0 };
    TD.set(t, s);
  }
  return s;
}

/**
 * fork1: the child has its parent's actions and process group, its thread the forking thread's
 * mask (td_sigmask is in td_startcopy); nothing pending, not stopped.
 */
export function sigFork(parent: Proc, child: Proc, from: Thread | undefined = parent.threads[0]): void {
  const s = stateOf(parent);
  STATE.set(child, newState(new Map(s.actions), s.pgid));
  const first = child.threads[0];
  if (first !== undefined) TD.set(first, { mask: new Set(from === undefined ? [] : tdOf(from).mask), pending: new Map(), entered: 0 });
}

/** thread_create: a new thread starts with its creator's mask (td_startcopy) and nothing pending. */
export function sigThreadCreate(from: Thread, td: Thread): void {
  TD.set(td, { mask: new Set(tdOf(from).mask), pending: new Map(), entered: 0 });
}

/** execsigs: caught signals go back to SIG_DFL; ignored ones and the mask stay. */
export function execsigs(p: Proc): void {
  const s = stateOf(p);
  for (const [sig, a] of s.actions) if (a.handler !== SIG_IGN) s.actions.delete(sig);
}

/** The process group of a process (p->p_pgrp->pg_id). */
export function pgidOf(p: Proc): number {
  return stateOf(p).pgid;
}

/** Handlers a process has entered. */
export function handlersEntered(p: Proc): number {
  return stateOf(p).handled;
}

/** Handlers a thread has entered. */
export function handlersEnteredBy(t: Thread): number {
  return tdOf(t).entered;
}

/** A thread's signal mask (td_sigmask). */
export function threadMask(t: Thread): ReadonlySet<number> {
  return tdOf(t).mask;
}

/** Signals pending on a thread (td_sigqueue) and on its process (p_sigqueue). */
export function pendingSignals(t: Thread): { thread: readonly number[]; process: readonly number[] } {
  return { thread: instances(tdOf(t).pending), process: instances(stateOf(t.process as Proc).pending) };
}

/** Each queued instance's signal number, in signal order. */
function instances(q: SigQueue): number[] {
  const out: number[] = [];
  for (const [sig, e] of [...q].sort((a, b) => a[0] - b[0])) for (let i = e.ksi.length + (e.bit === null ? 0 : 1); i > 0; i--) out.push(sig);
  return out;
}

/** p_pendingcnt: the ksiginfo queued on the process and its threads. */
function pendingCount(p: Proc): number {
  let n = 0;
  for (const q of queuesOf(p)) for (const e of q.values()) n += e.ksi.filter((x) => x.child === null).length;
  return n;
}

/** The process's queue and its threads'. */
function queuesOf(p: Proc): SigQueue[] {
  return [stateOf(p).pending, ...p.threads.map((t) => tdOf(t).pending)];
}

/** sigqueue_add: a ksiginfo queued, or the sq_kill bit for SIGKILL, SIGSTOP and past the limit. */
function sigqueueAdd(p: Proc, q: SigQueue, sig: number, code: string, child: Proc | null): void {
  let e = q.get(sig);
  if (e === undefined) {
    e = { ksi: [], bit: null };
    q.set(sig, e);
  }
  if (child !== null) e.ksi.push({ code, child }); // KSI_INS: inserted as it is
  else if (sig === SIGKILL || sig === SIGSTOP || pendingCount(p) >= MAX_PENDING_PER_PROC) e.bit ??= code;
  else e.ksi.push({ code, child: null });
}

/** sigqueue_get: take one instance (the sq_kill bit first), its si_code; undefined when none is queued. */
function sigqueueGet(q: SigQueue, sig: number): string | undefined {
  const e = q.get(sig);
  if (e === undefined) return undefined;
  const code = e.bit ?? e.ksi.shift()?.code;
  if (e.bit !== null) e.bit = null;
  if (e.ksi.length === 0) q.delete(sig);
  return code;
}

/** What wait4 sees of a child's job control: stopped (P_STOPPED_SIG) and by what, reported, continued. */
export interface JobState {
  stopped: boolean;
  xsig: number;
  waited: boolean;
  continued: boolean;
}

/** The child's job-control flags; wait4 sets `waited` and clears `continued` as it reports them. */
export function jobState(p: Proc): JobState {
  return stateOf(p);
}

function actionOf(p: Proc, sig: number): SigAction | undefined {
  return stateOf(p).actions.get(sig);
}

/** sigprop: sigproptbl has NSIG (32) entries; a signal past it (SIGTHR, SIGLIBRT, realtime) has none. */
export function sigprop(sig: number): number {
  return sig < NSIG ? (SIGPROPTBL[BY_NUMBER[sig]!] ?? 0) : 0;
}

/**
 * ps_sigignore: SIG_IGN, or SIG_DFL with SIGPROP_IGNORE — a posted signal is discarded at once.
 * SIGCONT is never in it (it must still continue a stopped process), nor SIGKILL.
 */
function ignored(p: Proc, sig: number): boolean {
  if (sig === SIGKILL || sig === SIGCONT) return false;
  const a = actionOf(p, sig);
  if (a?.handler === SIG_IGN) return true;
  return (a === undefined || a.handler === SIG_DFL) && (sigprop(sig) & SIGPROP.IGNORE) !== 0;
}

/** ps_sigcatch: a handler is installed (SIGKILL and SIGSTOP never have one). */
function caught(p: Proc, sig: number): SigAction | undefined {
  if (sig === SIGKILL || sig === SIGSTOP) return undefined;
  const a = actionOf(p, sig);
  return a === undefined || a.handler === SIG_DFL || a.handler === SIG_IGN ? undefined : a;
}

function blocks(t: Thread, sig: number): boolean {
  return tdOf(t).mask.has(sig);
}

function liveThreads(p: Proc): Thread[] {
  return p.threads.filter((t) => t.state !== 'dead');
}

/**
 * sigtd: the thread that takes a process-directed signal — the sender's own thread when it is in
 * the process and does not block it, else the first thread that does not block it, else the first
 * thread (which then holds it).
 */
function sigtd(p: Proc, sig: number, cur: Thread | null): Thread | undefined {
  if (cur !== null && cur.process === p && cur.state !== 'dead' && !blocks(cur, sig)) return cur;
  const live = liveThreads(p);
  return live.find((t) => !blocks(t, sig)) ?? live[0];
}

/** Remove a signal from the process's queue and every thread's. */
function sigqueueDeleteProc(p: Proc, sig: number): void {
  stateOf(p).pending.delete(sig);
  for (const t of p.threads) tdOf(t).pending.delete(sig);
}

/** tdsignal: a signal the kernel sends to one thread (SIGPIPE at a write's EPIPE), SI_KERNEL. */
export function tdsignal(k: FreebsdKernel, t: Thread, name: string): void {
  tdsendsignal(k, t.process as Proc, t, ALL_SIGNALS[name]!, 'SI_KERNEL', t);
}

/** A process-directed signal (kill, killpg, SIGCHLD): tdsendsignal with td == NULL. */
export function postSignal(k: FreebsdKernel, p: Proc, name: string, cur: Thread | null = null): void {
  tdsendsignal(k, p, null, ALL_SIGNALS[name]!, 'SI_USER', cur);
}

/**
 * tdsendsignal: discard an ignored signal; a stop signal drops a pending SIGCONT and the other
 * way round; queue it (on the thread for a thread-directed one, else on the process); then the
 * process-wide part — a stopped process is continued by SIGCONT (even blocked or ignored: the
 * parent is told, P_CONTINUED) and set running by SIGKILL, other signals wait until it is
 * continued; a running process is stopped by a stop signal's default action; anything else is
 * taken by the chosen thread at its next crossing to user mode (`ast`), unless it blocks it.
 */
export function tdsendsignal(k: FreebsdKernel, p: Proc, td: Thread | null, sig: number, code: string, cur: Thread | null, child: Proc | null = null): void {
  if (p.state !== 'running') return;
  const target = td ?? sigtd(p, sig, cur);
  if (target === undefined || ignored(p, sig)) return;
  const s = stateOf(p);
  const prop = sigprop(sig);
  const action = blocks(target, sig) ? 'hold' : caught(p, sig) !== undefined ? 'catch' : 'dfl';
  if ((prop & SIGPROP.CONT) !== 0) for (const stop of STOP_SIGNALS) sigqueueDeleteProc(p, stop);
  else if ((prop & SIGPROP.STOP) !== 0) {
    sigqueueDeleteProc(p, SIGCONT);
    if (s.continued) {
      s.continued = false;
      sigqueueTake(p);
    }
  }
  const queue = td === null ? s.pending : tdOf(td).pending;
  sigqueueAdd(p, queue, sig, code, child);
  if (action === 'hold' && !((prop & SIGPROP.CONT) !== 0 && s.stopped)) return;
  if (s.stopped) {
    if (sig === SIGKILL) {
      s.stopped = false;
      unsuspend(k, p);
      ast(k, target);
    } else if ((prop & SIGPROP.CONT) !== 0) {
      s.stopped = false;
      s.continued = true;
      s.xsig = SIGCONT;
      childJobState(k, p, 'CLD_CONTINUED');
      unsuspend(k, p);
      if (action === 'dfl') queue.delete(sig);
      // The threads run again and take what waited while they were stopped.
      ast(k, target);
      for (const t of liveThreads(p)) ast(k, t);
    } else if ((prop & SIGPROP.STOP) !== 0) queue.delete(sig);
    return;
  }
  if (action === 'dfl' && (prop & SIGPROP.STOP) !== 0) {
    queue.delete(sig);
    stopProcess(k, p, sig);
    return;
  }
  ast(k, target);
}

/**
 * The stop (tdsendsignal's SIGPROP_STOP branch, or issignal's): P_STOPPED_SIG, p_xsig, every
 * thread suspended (sig_suspend_threads; a sleeping one stays asleep and suspended), then
 * thread_stopped clears P_WAITED and tells the parent (childproc_stopped).
 */
function stopProcess(k: FreebsdKernel, p: Proc, sig: number): void {
  const s = stateOf(p);
  if (s.stopped || p.state !== 'running') return;
  s.stopped = true;
  s.xsig = sig;
  s.waited = false;
  for (const t of liveThreads(p)) k.suspendThread(t);
  childJobState(k, p, 'CLD_STOPPED');
}

/** thread_unsuspend: every thread the stop suspended runs (or sleeps) again. */
function unsuspend(k: FreebsdKernel, p: Proc): void {
  for (const t of liveThreads(p)) if (t.suspendCount > 0) k.resumeThread(t);
}

/**
 * childproc_jobstate: the parent's wait4 sleepers are woken, and SIGCHLD is sent unless the
 * parent asked for none on stops and continues (SA_NOCLDSTOP: PS_NOCLDSTOP).
 */
function childJobState(k: FreebsdKernel, p: Proc, reason: string): void {
  const parent = p.parent;
  if (parent?.state !== 'running') return;
  wakeWait4(k, parent);
  if (((actionOf(parent, SIGCHLD)?.flags ?? 0) & SA.NOCLDSTOP) === 0) sigparent(k, p, reason);
}

/**
 * sigparent: SIGCHLD to the parent with the child's own ksiginfo (p_ksi) — if that one is still
 * queued from an earlier change, only its si_code is updated and nothing more is sent.
 */
export function sigparent(k: FreebsdKernel, p: Proc, reason: string): void {
  const parent = p.parent;
  if (parent?.state !== 'running') return;
  for (const q of queuesOf(parent)) {
    const mine = q.get(SIGCHLD)?.ksi.find((x) => x.child === p);
    if (mine !== undefined) {
      mine.code = reason;
      return;
    }
  }
  tdsendsignal(k, parent, null, SIGCHLD, reason, null, p);
}

/** sigqueue_take(p->p_ksi): the child's SIGCHLD leaves its parent's queue (wait4 reported it, or a new stop). */
export function sigqueueTake(p: Proc): void {
  const parent = p.parent;
  if (parent === null) return;
  for (const q of queuesOf(parent)) {
    const e = q.get(SIGCHLD);
    const i = e?.ksi.findIndex((x) => x.child === p) ?? -1;
    if (e === undefined || i < 0) continue;
    e.ksi.splice(i, 1);
    if (e.ksi.length === 0 && e.bit === null) q.delete(SIGCHLD);
    return;
  }
}

/** wakeup(p->p_pptr): a parent asleep in wait4 looks at its children again. */
export function wakeWait4(k: FreebsdKernel, parent: Proc): void {
  for (const t of parent.threads) if (t.pending?.reason === 'wait4') k.wake(t);
}

/** The lowest signal pending on the thread or its process that the thread does not block (cursig). */
function cursig(t: Thread): number {
  const td = tdOf(t);
  let best = 0;
  for (const q of [td.pending, stateOf(t.process as Proc).pending]) {
    for (const sig of q.keys()) if (!td.mask.has(sig) && (best === 0 || sig < best)) best = sig;
  }
  return best;
}

/**
 * ast → issignal/postsig: the thread takes every signal it does not block, lowest first, from its
 * own queue before the process's — while its process runs and is not stopped.
 */
function ast(k: FreebsdKernel, t: Thread): void {
  const p = t.process as Proc;
  const s = stateOf(p);
  for (;;) {
    if (p.state !== 'running' || t.state === 'dead' || s.stopped) return;
    const sig = cursig(t);
    if (sig === 0) return;
    const td = tdOf(t);
    // postsig: the thread's own queue first, then the process's.
    const code = sigqueueGet(td.pending, sig) ?? sigqueueGet(s.pending, sig) ?? 'SI_USER';
    postsig(k, t, sig, code);
  }
}

/** issignal's action for a dequeued signal, then postsig: ignore, handler, stop, or exit. */
function postsig(k: FreebsdKernel, t: Thread, sig: number, code: string): void {
  const p = t.process as Proc;
  const name = BY_NUMBER[sig]!;
  const prop = sigprop(sig);
  if (actionOf(p, sig)?.handler === SIG_IGN && sig !== SIGKILL && sig !== SIGSTOP) return;
  const a = caught(p, sig);
  if (a !== undefined) {
    enterHandler(k, t, sig, a, null);
    k.bus.probe('signal').publish({ pid: p.pid, signal: name, code, action: 'handled' });
    return;
  }
  if ((prop & SIGPROP.STOP) !== 0) {
    stopProcess(k, p, sig);
    return;
  }
  if ((prop & SIGPROP.IGNORE) !== 0) return;
  k.bus.probe('signal').publish({ pid: p.pid, signal: name, code, action: 'default' });
  k.terminate(p, name);
}

/**
 * Enter a caught signal's handler (sendsig; no user code runs here) and leave through sigreturn:
 * a sleeping interruptible call wakes to EINTR unless SA_RESTART restarts it (sigsuspend always
 * wakes), SA_RESETHAND resets the action, and a fault's handler at FAULT_HANDLER.mprotect
 * mprotects the page.
 */
function enterHandler(k: FreebsdKernel, t: Thread, sig: number, a: SigAction, info: SignalInfo | null): void {
  const p = t.process as Proc;
  stateOf(p).handled++;
  tdOf(t).entered++;
  const reason = t.pending?.reason ?? '';
  if (info?.fromFault !== true && t.pending !== null && INTERRUPTIBLE.has(reason) && (reason === 'pause' || (a.flags & SA.RESTART) === 0)) {
    INTERRUPTED.add(t);
    k.wake(t);
  }
  if ((a.flags & SA.RESETHAND) !== 0) stateOf(p).actions.delete(sig);
  if (info !== null && info.fromFault && info.address !== null && a.handler === FAULT_HANDLER.mprotect) {
    k.syscall(t, 'mprotect', [pageDown(info.address), PAGE_SIZE, VM_PROT_READ | VM_PROT_WRITE]);
  }
  // The handler returns through sigreturn(2) — a trap this model makes only for a thread not
  // asleep in a call (a sleeping one would run the handler on its way out of the call).
  if (t.pending === null) k.syscall(t, 'sigreturn', [0]);
}

/**
 * The core's delivery hook, for a fault's signal (trapsignal): a caught signal the thread does
 * not block runs its handler; otherwise the default action (kern_forcesigexit: a blocked or
 * ignored SIGSEGV kills). A plain signal through `kernel.signal` takes the path of a kill.
 */
export function deliver(k: FreebsdKernel, t: Thread, info: SignalInfo): Delivery {
  const p = t.process as Proc;
  const sig = ALL_SIGNALS[info.signal];
  if (sig === undefined) return 'default';
  const a = caught(p, sig);
  if (info.fromFault) {
    if (a === undefined || blocks(t, sig)) return 'default';
    enterHandler(k, t, sig, a, info);
    return a.handler === FAULT_HANDLER.mprotect ? 'retry' : 'skip';
  }
  if (a !== undefined) {
    enterHandler(k, t, sig, a, info);
    return 'handled';
  }
  if (actionOf(p, sig)?.handler === SIG_IGN && sig !== SIGKILL) return 'ignore';
  const prop = sigprop(sig);
  // The core has no stop among its deliveries: the stop is made here and the core does nothing more.
  if ((prop & SIGPROP.STOP) !== 0) stopProcess(k, p, sig);
  return (prop & (SIGPROP.STOP + SIGPROP.IGNORE)) !== 0 ? 'ignore' : 'default';
}

/**
 * p_cansignal, for the credentials the simulation has: the process itself; SIGCONT within the
 * session (every process is in init's one session here); root, or a matching real or effective
 * uid (cr_cansignal).
 */
export function canSignal(from: Proc, to: Proc, sig = 0): boolean {
  if (from === to || sig === SIGCONT) return true;
  const a = from.creds;
  const b = to.creds;
  return a.euid === 0 || a.uid === b.uid || a.euid === b.uid || a.uid === b.euid || a.euid === b.euid;
}

/** P_STOPPED_SIG. */
export function threadStopped(p: Proc): boolean {
  return stateOf(p).stopped;
}

/** sys_kill. */
export function sysKill(ctx: Ctx, args: readonly SyscallArg[]): number {
  const pid = intArg(args, 0);
  const sig = intArg(args, 1);
  if (sig < 0 || sig > SIG_MAXSIG) return ctx.fail('EINVAL', `signal ${sig}`);
  const k = ctx.kernel;
  if (pid > 0) {
    const target = k.processes.get(pid);
    if (target === undefined) return ctx.fail('ESRCH', `no process ${pid}`);
    if (!canSignal(ctx.process, target, sig)) return ctx.fail('EPERM', 'p_cansignal');
    if (sig !== 0) postSignal(k, target, BY_NUMBER[sig]!, ctx.thread);
    return 0;
  }
  if (pid === -1) return killpg1(ctx, sig, (p) => p !== ctx.process, 'no process to signal');
  return killpg(ctx, pid === 0 ? pgidOf(ctx.process) : -pid, sig);
}

/** killpg1 for one group (pid 0: the caller's, -pgid: that one). */
function killpg(ctx: Ctx, pgid: number, sig: number): number {
  return killpg1(ctx, sig, (p) => pgidOf(p) === pgid, `process group ${pgid}`);
}

/**
 * killpg1: every member but init and system processes (and, broadcasting, the caller) is tried
 * with p_cansignal; 0 when one was signalled, EPERM when some existed but all refused, ESRCH when
 * there was none (killpg1_sendsig's found/sent).
 */
function killpg1(ctx: Ctx, sig: number, member: (p: Proc) => boolean, what: string): number {
  let found = false;
  let sent = false;
  for (const p of [...ctx.kernel.processes.values()]) {
    if (p.pid <= 1 || p.state === 'dead' || !member(p)) continue;
    found = true;
    if (!canSignal(ctx.process, p, sig)) continue;
    sent = true;
    if (sig !== 0) postSignal(ctx.kernel, p, BY_NUMBER[sig]!, ctx.thread);
  }
  return sent ? 0 : ctx.fail(found ? 'EPERM' : 'ESRCH', what);
}

function decodeSet(b: Uint8Array): Set<number> {
  const out = new Set<number>();
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let w = 0; w < 4; w++) {
    const word = dv.getUint32(w * 4, true);
    for (let bit = 0; bit < 32; bit++) if (Math.floor(word / 2 ** bit) % 2 === 1) out.add(w * 32 + bit + 1);
  }
  return out;
}

function encodeSet(s: ReadonlySet<number>, into: Uint8Array, at: number): void {
  const dv = new DataView(into.buffer, into.byteOffset, into.byteLength);
  const words = [0, 0, 0, 0];
  for (const sig of s) words[Math.floor((sig - 1) / 32)]! += 2 ** ((sig - 1) % 32);
  for (let w = 0; w < 4; w++) dv.setUint32(at + w * 4, words[w]!, true);
}

/** SIG_CANTMASK: SIGKILL and SIGSTOP are never blocked. */
function cantMask(s: Set<number>): Set<number> {
  s.delete(SIGNALS.SIGKILL!);
  s.delete(SIGNALS.SIGSTOP!);
  return s;
}

/** struct sigaction from user memory (copyin), or null (EFAULT). */
function readSigaction(ctx: Ctx, va: number): SigAction | null {
  const b = ctx.kernel.copyFromUser(ctx.thread, va, SIGACTION_SIZE);
  if (b.length !== SIGACTION_SIZE) return null;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { handler: Number(dv.getBigUint64(0, true)), flags: dv.getInt32(8, true), mask: decodeSet(b.subarray(12, 28)) };
}

/** struct sigaction for user memory. */
export function encodeSigaction(a: SigAction): Uint8Array {
  const b = new Uint8Array(SIGACTION_SIZE);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, BigInt(a.handler), true);
  dv.setInt32(8, a.flags, true);
  encodeSet(a.mask, b, 12);
  return b;
}

/** sys_sigaction (416): copyin of act, kern_sigaction's checks, copyout of oact. */
export function sysSigaction(ctx: Ctx, args: readonly SyscallArg[]): number {
  const sig = intArg(args, 0);
  const actVa = arg(args, 1);
  const oactVa = arg(args, 2);
  let act: SigAction | null = null;
  if (actVa !== 0) {
    act = readSigaction(ctx, actVa);
    if (act === null) return ctx.fail('EFAULT', 'act');
  }
  if (sig <= 0 || sig > SIG_MAXSIG) return ctx.fail('EINVAL', `signal ${sig}`);
  if (act !== null && act.handler !== SIG_DFL && act.handler !== SIG_IGN && (act.flags & ~SA_ALLOWED) !== 0) return ctx.fail('EINVAL', 'sa_flags');
  const s = stateOf(ctx.process);
  const old = s.actions.get(sig) ?? { handler: SIG_DFL, flags: 0, mask: new Set<number>() };
  if (act !== null) {
    if ((sig === SIGNALS.SIGKILL || sig === SIGNALS.SIGSTOP) && act.handler !== SIG_DFL) return ctx.fail('EINVAL', 'SIGKILL and SIGSTOP cannot be caught or ignored');
    if (act.handler === SIG_DFL && act.flags === 0) s.actions.delete(sig);
    else s.actions.set(sig, { handler: act.handler, flags: act.flags, mask: cantMask(new Set(act.mask)) });
    // Ignoring a signal discards it if pending (sigqueue_delete_proc); so does a default of
    // SIGPROP_IGNORE — SIGCONT's included.
    const now = s.actions.get(sig)?.handler ?? SIG_DFL;
    if (now === SIG_IGN || (now === SIG_DFL && (sigprop(sig) & SIGPROP.IGNORE) !== 0)) sigqueueDeleteProc(ctx.process, sig);
  }
  if (oactVa !== 0 && ctx.kernel.copyToUser(ctx.thread, oactVa, encodeSigaction(old)) !== SIGACTION_SIZE) return ctx.fail('EFAULT', 'oact');
  return 0;
}

/** copyin of a sigset_t, or null (EFAULT). */
function readSet(ctx: Ctx, va: number): Set<number> | null {
  const b = ctx.kernel.copyFromUser(ctx.thread, va, SIGSET_SIZE);
  return b.length === SIGSET_SIZE ? decodeSet(b) : null;
}

function writeSet(ctx: Ctx, va: number, s: ReadonlySet<number>): boolean {
  const b = new Uint8Array(SIGSET_SIZE);
  encodeSet(s, b, 0);
  return ctx.kernel.copyToUser(ctx.thread, va, b) === SIGSET_SIZE;
}

/**
 * sys_sigprocmask (340) → kern_sigprocmask, on the calling thread's td_sigmask: copyin, then how
 * (EINVAL), the new mask (SIGKILL and SIGSTOP never in it), copyout of the old one (EFAULT after
 * the change). Signals pending on the process that this thread now blocks go to a thread that
 * does not (reschedule_signals); the ones it unblocked it takes on its way back to user mode.
 */
export function sysSigprocmask(ctx: Ctx, args: readonly SyscallArg[]): number {
  const how = intArg(args, 0);
  const setVa = arg(args, 1);
  const osetVa = arg(args, 2);
  let set: Set<number> | null = null;
  if (setVa !== 0) {
    set = readSet(ctx, setVa);
    if (set === null) return ctx.fail('EFAULT', 'set');
  }
  const td = tdOf(ctx.thread);
  const old = new Set(td.mask);
  if (set !== null) {
    switch (how) {
      case SIG_BLOCK: for (const x of cantMask(set)) td.mask.add(x); break;
      case SIG_UNBLOCK: for (const x of set) td.mask.delete(x); break;
      case SIG_SETMASK: td.mask = cantMask(set); break;
      default: return ctx.fail('EINVAL', `how ${how}`);
    }
  }
  const bad = osetVa !== 0 && !writeSet(ctx, osetVa, old);
  rescheduleSignals(ctx.kernel, ctx.process, [...td.mask].filter((x) => !old.has(x)));
  ast(ctx.kernel, ctx.thread);
  return bad ? ctx.fail('EFAULT', 'oset') : 0;
}

/** reschedule_signals: a process-pending signal in `sigs` goes to a thread that does not block it. */
function rescheduleSignals(k: FreebsdKernel, p: Proc, sigs: readonly number[]): void {
  const pending = stateOf(p).pending;
  for (const sig of sigs) {
    if (!pending.has(sig)) continue;
    const t = liveThreads(p).find((x) => !blocks(x, sig));
    if (t !== undefined) ast(k, t);
  }
}

/**
 * tdsigcleanup at a thread's exit: its own pending signals are dropped, and what is pending on the
 * process goes to the threads left.
 */
export function sigThreadExit(k: FreebsdKernel, t: Thread): void {
  tdOf(t).pending.clear();
  const p = t.process as Proc;
  for (const o of liveThreads(p)) if (o !== t) ast(k, o);
}

/** sys_sigpending (343): what is pending on the process or the calling thread, blocked or not. */
export function sysSigpending(ctx: Ctx, args: readonly SyscallArg[]): number {
  const set = new Set([...stateOf(ctx.process).pending.keys(), ...tdOf(ctx.thread).pending.keys()]);
  return writeSet(ctx, arg(args, 0), set) ? 0 : ctx.fail('EFAULT', 'set');
}

/**
 * sys_sigsuspend (341) → kern_sigsuspend: the mask is replaced (SIG_CANTMASK) and the thread
 * sleeps ("pause") until a signal's handler has run; the call always fails with EINTR and the
 * old mask is back (TDP_OLDMASK). A signal the process ignores does not wake it; a stop and
 * continue let it sleep on; a fatal one ends the process.
 */
export function sysSigsuspend(ctx: Ctx, args: readonly SyscallArg[]): number {
  const set = readSet(ctx, arg(args, 0));
  if (set === null) return ctx.fail('EFAULT', 'sigmask');
  const td = tdOf(ctx.thread);
  const old = td.mask;
  td.mask = cantMask(set);
  return sigsuspendWait(ctx, old, td.entered);
}

function sigsuspendWait(ctx: Ctx, old: Set<number>, entered: number): number {
  takeInterrupt(ctx.thread);
  ast(ctx.kernel, ctx.thread);
  const td = tdOf(ctx.thread);
  if (td.entered === entered && ctx.process.state === 'running') {
    return ctx.block('pause', (again) => sigsuspendWait(again, old, entered), 0);
  }
  td.mask = old;
  return ctx.fail('EINTR', 'a handler ran');
}

/** sys_sigreturn (417): back from a handler (its frame's restore is not modelled beyond the trap). */
export function sysSigreturn(): number {
  return 0;
}

/** inferior: `p` is the caller or one of its descendants. */
function inferior(p: Proc | null, of: Proc): boolean {
  for (let q = p; q !== null; q = q.parent) if (q === of) return true;
  return false;
}

/** sys_setpgid (82), kern_prot.c's order. */
export function sysSetpgid(ctx: Ctx, args: readonly SyscallArg[]): number {
  const pid = intArg(args, 0);
  let pgid = intArg(args, 1);
  if (pgid < 0) return ctx.fail('EINVAL', `pgid ${pgid}`);
  const k = ctx.kernel;
  const cur = ctx.process;
  let target = cur;
  if (pid !== 0 && pid !== cur.pid) {
    const t = k.processes.get(pid);
    if (t?.state !== 'running' || !inferior(t, cur)) return ctx.fail('ESRCH', `process ${pid} is not the caller or a descendant`);
    // P_EXEC: a child that has called execve may no longer be moved.
    if (procOf(k.state, t).auxv.length > 0) return ctx.fail('EACCES', `process ${pid} has exec'd`);
    target = t;
  }
  // SESS_LEADER: init leads the one session.
  if (target === k.init) return ctx.fail('EPERM', 'a session leader cannot change its group');
  if (pgid === 0) pgid = target.pid;
  const exists = [...k.processes.values()].some((p) => p.state !== 'dead' && pgidOf(p) === pgid);
  if (!exists && pgid !== target.pid) return ctx.fail('EPERM', `no process group ${pgid}`);
  stateOf(target).pgid = pgid;
  return 0;
}

/** sys_getpgid (207). */
export function sysGetpgid(ctx: Ctx, args: readonly SyscallArg[]): number {
  const pid = intArg(args, 0);
  if (pid === 0) return pgidOf(ctx.process);
  const p = ctx.kernel.processes.get(pid);
  if (p === undefined) return ctx.fail('ESRCH', `no process ${pid}`);
  return pgidOf(p);
}

/** sys_getpgrp (81). */
export function sysGetpgrp(ctx: Ctx): number {
  return pgidOf(ctx.process);
}

/** For the CLI and tests: the action for a signal, as sigaction(2) would report it. */
export function sigactionOf(p: Proc, name: string): SigAction {
  const sig = ALL_SIGNALS[name];
  return (sig === undefined ? undefined : actionOf(p, sig)) ?? { handler: SIG_DFL, flags: 0, mask: new Set() };
}

/** The signal number of a name (FreeBSD numbering). */
export function signalNumber(name: string): number | undefined {
  return ALL_SIGNALS[name];
}
