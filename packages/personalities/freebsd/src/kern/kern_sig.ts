/**
 * sys/kern/kern_sig.c and kern_prot.c: kill (37), sigaction (416), sigprocmask (340), sigreturn
 * (417), setpgid (82), getpgid (207), getpgrp (81), and delivery.
 *
 * kill checks the signal number (EINVAL above _SIG_MAXSIG), finds the target — one process, the
 * caller's group (pid 0), the group -pid (killpg1: ESRCH when no member exists or none could be
 * signalled, EPERM when members exist but p_cansignal refused them all) or everyone (-1) — and
 * posts the signal unless it is 0. A posted signal the process ignores (SIG_IGN, or a default
 * of SIGPROP_IGNORE) is discarded; one the process blocks (sigprocmask) waits in p_siglist until
 * it is unblocked; otherwise a caught one runs its handler — the simulation runs no user code,
 * so the handler's entry is the `signal` probe's `handled` event and the sigreturn(2) trap it
 * makes — and an uncaught one takes its default action (the core ends the process).
 *
 * A fault's signal (SIGSEGV, SIGBUS) goes to a handler too (trapsignal). What a handler does on a
 * fault is told by its address, as for the Linux personality (docs/decisions.md): at
 * FAULT_HANDLER.mprotect it makes the faulting page read-write with mprotect(2) and returns (the
 * access is retried); any other handler resumes past the access (siglongjmp).
 *
 * Simplifications: signal state is per process (one mask for all its threads); stops (SIGSTOP,
 * SIGTSTP, SIGTTIN, SIGTTOU) are discarded; every process is in the one session init leads
 * (no setsid), so setpgid's session checks pass for everyone but init.
 */
import { pageDown } from '@polykernel/core';
import type { Delivery, Process, SignalInfo, SyscallArg, SyscallContext, Thread } from '@polykernel/kernel';
import { procOf, type FreebsdKernel, type FreebsdMachine, type FreebsdSpace } from '../machine.js';
import { PAGE_SIZE, SIGNALS, SIGNALS_IGNORED_BY_DEFAULT, SIG_MAXSIG, VM_PROT_READ, VM_PROT_WRITE } from '../param.js';
import { arg, intArg } from '../vm/vm_mmap.js';

type Ctx = SyscallContext<FreebsdSpace, FreebsdMachine>;
type Proc = Process<FreebsdSpace>;

const STOPS: ReadonlySet<string> = new Set(['SIGSTOP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU']);

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

/** struct sigacts and the process's mask and pending set (p_sigacts, td_sigmask, p_siglist), and p_pgrp. */
interface SigState {
  actions: Map<number, SigAction>;
  mask: Set<number>;
  pending: Set<number>;
  pgid: number;
  /** Handlers entered (the probe shows each one). */
  handled: number;
}

const STATE = new WeakMap<Proc, SigState>();

/** Sleeps a caught signal interrupts (msleep with PCATCH), by the reason the call blocked with. */
const INTERRUPTIBLE: ReadonlySet<string> = new Set(['piperd', 'pipewr']);
/** Threads woken by a handler: their sleeping call ends with EINTR. */
const INTERRUPTED = new WeakSet<Thread>();

/** Whether the thread's sleep was interrupted by a caught signal (and clear it). */
export function takeInterrupt(t: Thread): boolean {
  return INTERRUPTED.delete(t);
}

function stateOf(p: Proc): SigState {
  let s = STATE.get(p);
  if (s === undefined) {
    s = { actions: new Map(), mask: new Set(), pending: new Set(), pgid: p.parent === null ? p.pid : stateOf(p.parent).pgid, handled: 0 };
    STATE.set(p, s);
  }
  return s;
}

/** fork1: the child has its parent's actions, mask and process group; nothing pending. */
export function sigFork(parent: Proc, child: Proc): void {
  const s = stateOf(parent);
  STATE.set(child, { actions: new Map(s.actions), mask: new Set(s.mask), pending: new Set(), pgid: s.pgid, handled: 0 });
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

function actionOf(p: Proc, sig: number): SigAction | undefined {
  return stateOf(p).actions.get(sig);
}

/** SIGPROP_IGNORE, or SIG_IGN: a posted signal is discarded at once (sigqueue_add is skipped). */
function discarded(p: Proc, sig: number): boolean {
  const a = actionOf(p, sig);
  const name = BY_NUMBER[sig]!;
  if (sig === SIGNALS.SIGKILL) return false;
  if (a?.handler === SIG_IGN) return true;
  return (a === undefined || a.handler === SIG_DFL) && (SIGNALS_IGNORED_BY_DEFAULT.has(name) || STOPS.has(name));
}

/**
 * tdsendsignal: discard, hold while blocked (SIGKILL and SIGSTOP cannot be), or deliver through
 * the core, which asks `deliver` below and ends the process on the default action.
 */
export function postSignal(k: FreebsdKernel, p: Proc, name: string): void {
  const sig = ALL_SIGNALS[name]!;
  if (p.state !== 'running' || discarded(p, sig)) return;
  const s = stateOf(p);
  if (s.mask.has(sig) && sig !== SIGNALS.SIGKILL && sig !== SIGNALS.SIGSTOP) {
    s.pending.add(sig);
    return;
  }
  k.signal(p, name, 'SI_USER');
}

/** Pending signals now unblocked are delivered, lowest number first (issignal's order). */
function deliverPending(k: FreebsdKernel, p: Proc): void {
  const s = stateOf(p);
  for (const sig of [...s.pending].sort((a, b) => a - b)) {
    if (s.mask.has(sig)) continue;
    s.pending.delete(sig);
    if (p.state !== 'running') return;
    if (!discarded(p, sig)) k.signal(p, BY_NUMBER[sig]!, 'SI_USER');
  }
}

/**
 * The core's delivery hook (postsig → sendsig → the handler → sigreturn): SIG_DFL takes the
 * default action, SIG_IGN discards, a handler is entered (SA_RESETHAND resets it first) and
 * returns through sigreturn(2).
 */
export function deliver(k: FreebsdKernel, t: Thread, info: SignalInfo): Delivery {
  const p = t.process as Proc;
  const sig = ALL_SIGNALS[info.signal];
  const a = sig === undefined ? undefined : actionOf(p, sig);
  if (a === undefined || a.handler === SIG_DFL || sig === SIGNALS.SIGKILL || sig === SIGNALS.SIGSTOP) {
    if (info.fromFault) return 'default';
    if (SIGNALS_IGNORED_BY_DEFAULT.has(info.signal) || STOPS.has(info.signal)) return 'ignore';
    return 'default';
  }
  if (a.handler === SIG_IGN) return 'ignore';
  const s = stateOf(p);
  s.handled++;
  // A thread asleep in an interruptible wait (a pipe) wakes to EINTR, unless SA_RESTART restarts
  // the call (ERESTART: it simply sleeps again).
  if (!info.fromFault && t.state === 'blocked' && INTERRUPTIBLE.has(t.pending?.reason ?? '') && (a.flags & SA.RESTART) === 0) {
    INTERRUPTED.add(t);
    k.wake(t);
  }
  if ((a.flags & SA.RESETHAND) !== 0) s.actions.delete(sig!);
  if (info.fromFault && info.address !== null && a.handler === FAULT_HANDLER.mprotect) {
    k.syscall(t, 'mprotect', [pageDown(info.address), PAGE_SIZE, VM_PROT_READ | VM_PROT_WRITE]);
  }
  // The handler returns through sigreturn(2) — a trap this model makes only for a thread not
  // asleep in a call (a sleeping one would run the handler on its way out of the call).
  if (t.pending === null) k.syscall(t, 'sigreturn', [0]);
  if (!info.fromFault) return 'handled';
  return a.handler === FAULT_HANDLER.mprotect ? 'retry' : 'skip';
}

/** p_cansignal, for the credentials the simulation has: root, or a matching real or effective uid. */
function canSignal(from: Proc, to: Proc): boolean {
  const a = from.creds;
  const b = to.creds;
  return a.euid === 0 || a.uid === b.uid || a.euid === b.uid || a.uid === b.euid || a.euid === b.euid;
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
    if (!canSignal(ctx.process, target)) return ctx.fail('EPERM', 'p_cansignal');
    if (sig !== 0) postSignal(k, target, BY_NUMBER[sig]!);
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
    if (!canSignal(ctx.process, p)) continue;
    sent = true;
    if (sig !== 0) postSignal(ctx.kernel, p, BY_NUMBER[sig]!);
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
    // Ignoring a signal discards it if pending (sigqueue_delete_proc); so does a default of SIGPROP_IGNORE.
    if (discarded(ctx.process, sig)) s.pending.delete(sig);
  }
  if (oactVa !== 0 && ctx.kernel.copyToUser(ctx.thread, oactVa, encodeSigaction(old)) !== SIGACTION_SIZE) return ctx.fail('EFAULT', 'oact');
  return 0;
}

/** sys_sigprocmask (340) → kern_sigprocmask: how, then the sets; unblocked pending signals are delivered. */
export function sysSigprocmask(ctx: Ctx, args: readonly SyscallArg[]): number {
  const how = intArg(args, 0);
  const setVa = arg(args, 1);
  const osetVa = arg(args, 2);
  let set: Set<number> | null = null;
  if (setVa !== 0) {
    const b = ctx.kernel.copyFromUser(ctx.thread, setVa, SIGSET_SIZE);
    if (b.length !== SIGSET_SIZE) return ctx.fail('EFAULT', 'set');
    set = decodeSet(b);
  }
  const s = stateOf(ctx.process);
  const old = new Set(s.mask);
  if (set !== null) {
    switch (how) {
      case SIG_BLOCK: for (const x of cantMask(set)) s.mask.add(x); break;
      case SIG_UNBLOCK: for (const x of set) s.mask.delete(x); break;
      case SIG_SETMASK: s.mask = cantMask(set); break;
      default: return ctx.fail('EINVAL', `how ${how}`);
    }
  }
  if (osetVa !== 0) {
    const b = new Uint8Array(SIGSET_SIZE);
    encodeSet(old, b, 0);
    if (ctx.kernel.copyToUser(ctx.thread, osetVa, b) !== SIGSET_SIZE) return ctx.fail('EFAULT', 'oset');
  }
  deliverPending(ctx.kernel, ctx.process);
  return 0;
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
