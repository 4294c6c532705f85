/**
 * sys/kern/kern_thr.c: thr_new (455), thr_self (432), thr_exit (431), thr_kill (433) and thr_kill2
 * (481) — the calls libthr builds pthreads on. Threads get TIDs from tid_alloc (above NO_PID,
 * 100000: the kernel's freebsdIds policy).
 *
 * thr_new copies in struct thr_param (104 bytes on amd64; a shorter param_size is zero-extended),
 * then rtp (struct rtprio), checks the scheduling class (thread_create: EPERM for a real-time class
 * without privilege, EINVAL for a bad class or priority), allocates the thread (kern_thr_alloc:
 * EPROCLIM past kern.threads.max_threads_per_proc), stores the new TID at child_tid and
 * parent_tid (suword_lwpid: a long on LP64; EFAULT frees the thread again) and checks the TLS base
 * (cpu_set_user_tls: EINVAL at or above VM_MAXUSER_ADDRESS). The new thread has its creator's
 * signal mask (td_sigmask is in td_startcopy) and takes, at its first return to user mode, the
 * process-pending signals it does not block. No user code runs: the thread's entry (start_func,
 * arg, stack) is kept for inspection, and the caller drives the thread with `kernel.syscall`.
 *
 * thr_exit writes 1 at `state` (ignoring a fault) and ends the thread, unless it is the last one:
 * then the kernel does nothing and returns 0 (kern_thr_exit: "Ignore attempts to shut down last
 * thread") — libthr's pthread_exit calls exit(0) itself before it gets there.
 */
import type { Process, SyscallArg, SyscallContext, Thread } from '@polykernel/kernel';
import type { FreebsdKernel, FreebsdMachine, FreebsdSpace } from '../machine.js';
import { SIG_MAXSIG, VM_MAXUSER_ADDRESS } from '../param.js';
import { arg, intArg } from '../vm/vm_mmap.js';
import { canSignal, sigThreadCreate, sigThreadExit, tdsendsignal, threadStopped } from './kern_sig.js';

type Ctx = SyscallContext<FreebsdSpace, FreebsdMachine>;
type Proc = Process<FreebsdSpace>;

/** sizeof(struct thr_param) on amd64: eight pointers/size_t, int flags (padded), rtp, spare[3]. */
export const THR_PARAM_SIZE = 104;
/** kern.threads.max_threads_per_proc's default. */
export const MAX_THREADS_PER_PROC = 1500;
/** sys/sys/rtprio.h. */
export const RTP_PRIO = { REALTIME: 2, NORMAL: 3, FIFO: 10 } as const;
const RTP_PRIO_MAX = 31;
/** struct rtprio: u_short type, u_short prio. */
const RTPRIO_SIZE = 4;

/** struct thr_param (sys/sys/thr.h), as thr_new read it. */
export interface ThrParam {
  startFunc: number;
  arg: number;
  stackBase: number;
  stackSize: number;
  tlsBase: number;
  tlsSize: number;
  childTid: number;
  parentTid: number;
  flags: number;
  rtp: number;
}

const ENTRY = new WeakMap<Thread, ThrParam>();

/** Where a thread made by thr_new starts (its struct thr_param), or undefined for a process's first thread. */
export function threadEntry(t: Thread): ThrParam | undefined {
  return ENTRY.get(t);
}

/** struct thr_param for user memory (tests and workloads build it with this). */
export function encodeThrParam(p: Partial<ThrParam>): Uint8Array {
  const b = new Uint8Array(THR_PARAM_SIZE);
  const dv = new DataView(b.buffer);
  const fields = [p.startFunc, p.arg, p.stackBase, p.stackSize, p.tlsBase, p.tlsSize, p.childTid, p.parentTid];
  fields.forEach((v, i) => {
    dv.setBigUint64(i * 8, BigInt(v ?? 0), true);
  });
  dv.setInt32(64, p.flags ?? 0, true);
  dv.setBigUint64(72, BigInt(p.rtp ?? 0), true);
  return b;
}

function decodeThrParam(b: Uint8Array): ThrParam {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u = (at: number): number => Number(dv.getBigUint64(at, true));
  return {
    startFunc: u(0), arg: u(8), stackBase: u(16), stackSize: u(24), tlsBase: u(32), tlsSize: u(40), childTid: u(48), parentTid: u(56),
    flags: dv.getInt32(64, true), rtp: u(72),
  };
}

function liveThreads(p: Proc): Thread[] {
  return p.threads.filter((t) => t.state !== 'dead');
}

/** suword_lwpid on LP64: the TID as a long. */
function suwordLwpid(ctx: Ctx, va: number, value: number): boolean {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigInt64(0, BigInt(value), true);
  return ctx.kernel.copyToUser(ctx.thread, va, b) === 8;
}

/** thread_create's scheduling-class check of a copied-in struct rtprio, or an errno. */
function checkRtprio(ctx: Ctx, va: number): 'EFAULT' | 'EPERM' | 'EINVAL' | null {
  const b = ctx.kernel.copyFromUser(ctx.thread, va, RTPRIO_SIZE);
  if (b.length !== RTPRIO_SIZE) return 'EFAULT';
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const type = dv.getUint16(0, true);
  const prio = dv.getUint16(2, true);
  if (type === RTP_PRIO.REALTIME || type === RTP_PRIO.FIFO) {
    // priv_check(PRIV_SCHED_SETPOLICY): root only.
    if (ctx.process.creds.euid !== 0) return 'EPERM';
    return prio > RTP_PRIO_MAX ? 'EINVAL' : null;
  }
  return type === RTP_PRIO.NORMAL ? null : 'EINVAL';
}

/** sys_thr_new (455) → kern_thr_new → thread_create. Returns 0; the TID goes to child_tid/parent_tid. */
export function sysThrNew(ctx: Ctx, args: readonly SyscallArg[]): number {
  const size = intArg(args, 1);
  if (size < 0 || size > THR_PARAM_SIZE) return ctx.fail('EINVAL', `param_size ${size}`);
  const raw = ctx.kernel.copyFromUser(ctx.thread, arg(args, 0), size);
  if (raw.length !== size) return ctx.fail('EFAULT', 'param');
  const full = new Uint8Array(THR_PARAM_SIZE);
  full.set(raw);
  const param = decodeThrParam(full);
  if (param.rtp !== 0) {
    const e = checkRtprio(ctx, param.rtp);
    if (e !== null) return ctx.fail(e, 'rtp');
  }
  const k = ctx.kernel;
  const p = ctx.process;
  if (liveThreads(p).length >= MAX_THREADS_PER_PROC) return ctx.fail('EPROCLIM', 'max_threads_per_proc');
  let td: Thread;
  try {
    td = k.createThread(p);
  } catch {
    return ctx.fail('ENOMEM', 'no free TID');
  }
  // thr_new_initthr: both TID stores first, then the TLS base; a failure frees the new thread.
  const stored = (param.childTid === 0 || suwordLwpid(ctx, param.childTid, td.tid)) && (param.parentTid === 0 || suwordLwpid(ctx, param.parentTid, td.tid));
  const error = !stored ? 'EFAULT' : param.tlsBase >= VM_MAXUSER_ADDRESS ? 'EINVAL' : null;
  if (error !== null) {
    k.exitThread(td);
    return ctx.fail(error, error === 'EFAULT' ? 'child_tid or parent_tid' : 'tls_base');
  }
  td.cpu = ctx.thread.cpu;
  ENTRY.set(td, param);
  sigThreadCreate(ctx.thread, td);
  // if (P_SHOULDSTOP(p)) ast_sched(newtd, TDA_SUSP): a thread born into a stopping process stops.
  if (threadStopped(p)) k.suspendThread(td);
  return 0;
}

/** sys_thr_self (432): the caller's TID at *id (a long). */
export function sysThrSelf(ctx: Ctx, args: readonly SyscallArg[]): number {
  return suwordLwpid(ctx, arg(args, 0), ctx.thread.tid) ? 0 : ctx.fail('EFAULT', 'id');
}

/** sys_thr_exit (431) → kern_thr_exit. */
export function sysThrExit(ctx: Ctx, args: readonly SyscallArg[]): number {
  const state = arg(args, 0);
  // "Signal userland that it can free the stack": 1 at *state (a fault is ignored).
  if (state !== 0) suwordLwpid(ctx, state, 1);
  const p = ctx.process;
  if (liveThreads(p).length <= 1) return 0;
  ctx.kernel.exitThread(ctx.thread);
  sigThreadExit(ctx.kernel, ctx.thread);
  return 0;
}

/**
 * post_execve after a successful exec of a process that had threads: thread_single(SINGLE_EXIT) —
 * every thread but the caller ends, and its own pending signals go with it.
 */
export function threadSingleExit(k: FreebsdKernel, caller: Thread): void {
  for (const t of liveThreads(caller.process as Proc)) {
    if (t === caller) continue;
    k.exitThread(t);
    sigThreadExit(k, t);
  }
}

/** tdfind: a live thread by TID, in process `pid` (-1: any process). */
function tdfind(ctx: Ctx, tid: number, pid: number): Thread | undefined {
  const procs = pid === -1 ? [...ctx.kernel.processes.values()] : [ctx.kernel.processes.get(pid)].filter((p) => p !== undefined);
  for (const p of procs) {
    if (p.state !== 'running') continue;
    const t = p.threads.find((x) => x.tid === tid && x.state !== 'dead');
    if (t !== undefined) return t;
  }
  return undefined;
}

const sigValid = (sig: number): boolean => sig > 0 && sig <= SIG_MAXSIG;

/** Every thread of `p` but the caller's gets the signal (id -1); ESRCH when there is none. */
function signalOthers(ctx: Ctx, p: Proc, sig: number): number {
  if (sig !== 0 && !sigValid(sig)) return ctx.fail('EINVAL', `signal ${sig}`);
  const others = liveThreads(p).filter((t) => t !== ctx.thread);
  if (others.length === 0) return ctx.fail('ESRCH', 'no other thread');
  if (sig !== 0) for (const t of others) tdsendsignal(ctx.kernel, p, t, sig, 'SI_LWP', ctx.thread);
  return 0;
}

/** sys_thr_kill (433): a thread of the caller's own process (or all others, id -1). */
export function sysThrKill(ctx: Ctx, args: readonly SyscallArg[]): number {
  const id = intArg(args, 0);
  const sig = intArg(args, 1);
  if (id === -1) return signalOthers(ctx, ctx.process, sig);
  const t = tdfind(ctx, id, ctx.process.pid);
  if (t === undefined) return ctx.fail('ESRCH', `no thread ${id}`);
  if (sig === 0) return 0;
  if (!sigValid(sig)) return ctx.fail('EINVAL', `signal ${sig}`);
  tdsendsignal(ctx.kernel, ctx.process, t, sig, 'SI_LWP', ctx.thread);
  return 0;
}

/**
 * sys_thr_kill2 (481): a thread of process `pid`, with p_cansignal. For one thread FreeBSD 14
 * posts a valid signal even when p_cansignal refused and returns its EPERM all the same — the
 * code is reproduced as it is.
 */
export function sysThrKill2(ctx: Ctx, args: readonly SyscallArg[]): number {
  const pid = intArg(args, 0);
  const id = intArg(args, 1);
  const sig = intArg(args, 2);
  if (id === -1) {
    const p = ctx.kernel.processes.get(pid);
    if (p?.state !== 'running') return ctx.fail('ESRCH', `no process ${pid}`);
    if (!canSignal(ctx.process, p, sig)) return ctx.fail('EPERM', 'p_cansignal');
    return signalOthers(ctx, p, sig);
  }
  const t = tdfind(ctx, id, pid);
  if (t === undefined) return ctx.fail('ESRCH', `no thread ${id} in process ${pid}`);
  const p = t.process as Proc;
  const allowed = canSignal(ctx.process, p, sig);
  if (sig === 0) return allowed ? 0 : ctx.fail('EPERM', 'p_cansignal');
  if (!sigValid(sig)) return ctx.fail('EINVAL', `signal ${sig}`);
  tdsendsignal(ctx.kernel, p, t, sig, 'SI_LWP', ctx.thread);
  return allowed ? 0 : ctx.fail('EPERM', 'p_cansignal');
}
