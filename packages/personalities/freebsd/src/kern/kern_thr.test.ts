/**
 * Job control and threads: the stop signals stop every thread (nothing of the process runs), the
 * parent sees it through wait4(WUNTRACED) and SIGCHLD, SIGCONT continues it even blocked or
 * ignored (wait4(WCONTINUED)), SIGKILL kills a stopped process; thr_new/thr_self/thr_exit/
 * thr_kill/thr_kill2 with TIDs above 100000 and their errnos in kern_thr.c's order; per-thread
 * masks, process-directed signals taken by a thread that does not block them, thread-directed
 * ones waiting on their thread; sigpending and sigsuspend.
 */
import fc from 'fast-check';
import { FREEBSD_ERRNO } from '@polykernel/core';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Kernel, memoryFileSystem, type Process, type Thread } from '@polykernel/kernel';
import { ACCESS_WRITE } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import type { FreebsdMachine, FreebsdSpace } from '../machine.js';
import { MAP_ANON, MAP_PRIVATE, PAGE_SIZE, SIGNALS, WCONTINUED, WNOHANG, WNOWAIT, WUNTRACED } from '../param.js';
import { freebsdPersonality } from '../personality.js';
import {
  encodeSigaction, handlersEntered, handlersEnteredBy, jobState, MAX_PENDING_PER_PROC, pendingSignals, SA, SIG_BLOCK, SIG_IGN, SIG_SETMASK, SIG_UNBLOCK, threadMask,
  type SigAction,
} from './kern_sig.js';
import { encodeThrParam, RTP_PRIO, THR_PARAM_SIZE, threadEntry, type ThrParam } from './kern_thr.js';

type K = Kernel<FreebsdSpace, FreebsdMachine>;
type P = Process<FreebsdSpace>;
const E = FREEBSD_ERRNO;
const S = SIGNALS as Record<string, number>;
const HANDLER = 0x401000;
/** Scratch offsets in each process's two pages. */
const ACT = 0;
const SET = 64;
const OUT = 128;
const PARAM = 256;
const TIDS = 512;

interface World { k: K; events: { pid: number; signal: string; action: string }[] }

function world(): World {
  const k: K = new Kernel(freebsdPersonality(), { frames: 4096, seed: 7, contents: true });
  const events: World['events'] = [];
  k.bus.subscribe('signal', (e) => events.push({ pid: e.pid, signal: e.signal, action: e.action }));
  return { k, events };
}

/** A kernel with one process 'app' (its first thread `t`). */
function app(): { w: World; k: K; p: P; t: Thread } {
  const w = world();
  const p = w.k.createProcess(w.k.init, 'app');
  return { w, k: w.k, p, t: p.threads[0]! };
}

/** Scratch memory of a process (two pages at a fixed place per process). */
const MEM = new WeakMap<P, number>();
function mem(k: K, p: P): number {
  let va = MEM.get(p);
  if (va === undefined) {
    va = k.syscall(p.threads[0]!, 'mmap', [0, 2 * PAGE_SIZE, 3, MAP_PRIVATE | MAP_ANON, -1, 0]).value;
    MEM.set(p, va);
  }
  return va;
}

/** A parent with one forked child (the child inherits the parent's scratch mapping). */
function family(w: World): { parent: P; child: P; pt: Thread; ct: Thread } {
  const parent = w.k.createProcess(w.k.init, 'sh');
  const va = mem(w.k, parent);
  const child = w.k.processes.get(w.k.syscall(parent.threads[0]!, 'fork').value)!;
  MEM.set(child, va);
  return { parent, child, pt: parent.threads[0]!, ct: child.threads[0]! };
}

function sigaction(k: K, t: Thread, sig: number, a: SigAction): number {
  const va = mem(k, t.process as P) + ACT;
  k.copyToUser(t, va, encodeSigaction(a));
  return k.syscall(t, 'sigaction', [sig, va, 0]).errorNumber;
}

function sigset(...sigs: number[]): Uint8Array {
  const out = new Uint8Array(16);
  const dv = new DataView(out.buffer);
  for (const s of sigs) dv.setUint32(Math.floor((s - 1) / 32) * 4, dv.getUint32(Math.floor((s - 1) / 32) * 4, true) + 2 ** ((s - 1) % 32), true);
  return out;
}

function mask(k: K, t: Thread, how: number, ...sigs: number[]): number {
  const va = mem(k, t.process as P) + SET;
  k.copyToUser(t, va, sigset(...sigs));
  return k.syscall(t, 'sigprocmask', [how, va, 0]).errorNumber;
}

function wait4(k: K, t: Thread, pid: number, options: number): { pid: number; status: number; errno: number } {
  const va = mem(k, t.process as P) + OUT;
  k.copyToUser(t, va, new Uint8Array(4));
  const r = k.syscall(t, 'wait4', [pid, va, options, 0]);
  return { pid: r.value, status: new DataView(k.copyFromUser(t, va, 4).buffer).getInt32(0, true), errno: r.errorNumber };
}

function thrNew(k: K, t: Thread, p: Partial<ThrParam> = {}, size = THR_PARAM_SIZE): { errno: number; td: Thread | undefined } {
  const base = mem(k, t.process as P);
  k.copyToUser(t, base + TIDS, new Uint8Array(16));
  k.copyToUser(t, base + PARAM, encodeThrParam({ childTid: base + TIDS, parentTid: base + TIDS + 8, startFunc: 0x401000, ...p }));
  const r = k.syscall(t, 'thr_new', [base + PARAM, size]);
  const tid = Number(new DataView(k.copyFromUser(t, base + TIDS + 8, 8).buffer).getBigInt64(0, true));
  return { errno: r.errorNumber, td: (t.process as P).threads.find((x) => x.tid === tid && r.errorNumber === 0) };
}

function sigpending(k: K, t: Thread): Uint8Array {
  const va = mem(k, t.process as P) + OUT;
  expect(k.syscall(t, 'sigpending', [va]).value).toBe(0);
  return k.copyFromUser(t, va, 16);
}

const stopped = (p: P): boolean => p.threads.every((t) => t.state === 'suspended' || t.state === 'dead');

describe('stop signals and SIGCONT', () => {
  it('SIGSTOP suspends every thread (no access can run); wait4(WUNTRACED) reports 0x117f once, SIGCONT and WCONTINUED 0x13', () => {
    const w = world();
    const { k } = w;
    const { child, pt, ct } = family(w);
    const t2 = thrNew(k, ct).td!;
    expect(k.syscall(pt, 'kill', [child.pid, S.SIGSTOP!]).value).toBe(0);
    expect(stopped(child)).toBe(true);
    expect([ct.state, t2.state]).toEqual(['suspended', 'suspended']);
    expect(() => k.access(t2, mem(k, child), ACCESS_WRITE)).toThrow(/suspended/);
    expect(wait4(k, pt, child.pid, WNOHANG)).toMatchObject({ pid: 0 }); // without WUNTRACED a stop is not reported
    expect(wait4(k, pt, child.pid, WUNTRACED | WNOWAIT)).toEqual({ pid: child.pid, status: 0x117f, errno: 0 });
    expect(wait4(k, pt, child.pid, WUNTRACED)).toEqual({ pid: child.pid, status: (S.SIGSTOP! << 8) | 0o177, errno: 0 });
    expect(wait4(k, pt, child.pid, WUNTRACED | WNOHANG).pid).toBe(0); // P_WAITED
    k.syscall(pt, 'kill', [child.pid, S.SIGCONT!]);
    expect([ct.state, t2.state]).toEqual(['runnable', 'runnable']);
    expect(k.access(t2, mem(k, child), ACCESS_WRITE)).toBeGreaterThanOrEqual(0);
    expect(wait4(k, pt, child.pid, WCONTINUED | WNOHANG)).toEqual({ pid: child.pid, status: 0x13, errno: 0 });
    expect(wait4(k, pt, child.pid, WCONTINUED | WNOHANG).pid).toBe(0);
    // SIGCONT on a running process: nothing (SIGPROP_IGNORE), nothing to report.
    k.syscall(pt, 'kill', [child.pid, S.SIGCONT!]);
    expect(wait4(k, pt, child.pid, WCONTINUED | WNOHANG).pid).toBe(0);
    expect(child.state).toBe('running');
  });

  it('SIGTSTP, SIGTTIN and SIGTTOU stop by default; a caught SIGTSTP runs its handler instead', () => {
    const w = world();
    const { k } = w;
    for (const sig of ['SIGTSTP', 'SIGTTIN', 'SIGTTOU']) {
      const { child, pt } = family(w);
      k.syscall(pt, 'kill', [child.pid, S[sig]!]);
      expect(stopped(child), sig).toBe(true);
      expect(wait4(k, pt, child.pid, WUNTRACED).status).toBe(S[sig]! * 256 + 0x7f);
    }
    const { child, pt, ct } = family(w);
    sigaction(k, ct, S.SIGTSTP!, { handler: HANDLER, flags: 0, mask: new Set() });
    k.syscall(pt, 'kill', [child.pid, S.SIGTSTP!]);
    expect(ct.state).toBe('runnable');
    expect(handlersEntered(child)).toBe(1);
  });

  it('the parent gets SIGCHLD at the stop and the continue, none with SA_NOCLDSTOP (but still at exit)', () => {
    const w = world();
    const { k } = w;
    const { parent, child, pt } = family(w);
    sigaction(k, pt, S.SIGCHLD!, { handler: HANDLER, flags: 0, mask: new Set() });
    k.syscall(pt, 'kill', [child.pid, S.SIGSTOP!]);
    k.syscall(pt, 'kill', [child.pid, S.SIGCONT!]);
    expect(handlersEntered(parent)).toBe(2);
    sigaction(k, pt, S.SIGCHLD!, { handler: HANDLER, flags: SA.NOCLDSTOP, mask: new Set() });
    k.syscall(pt, 'kill', [child.pid, S.SIGSTOP!]);
    k.syscall(pt, 'kill', [child.pid, S.SIGCONT!]);
    expect(handlersEntered(parent)).toBe(2);
    k.syscall(pt, 'kill', [child.pid, S.SIGTERM!]);
    expect(handlersEntered(parent)).toBe(3);
    expect(w.events.filter((e) => e.pid === parent.pid).map((e) => e.signal)).toEqual(['SIGCHLD', 'SIGCHLD', 'SIGCHLD']);
  });

  it('a child\'s SIGCHLD is its own ksiginfo: queued once per child, taken back when wait4 reports or reaps the child', () => {
    const w = world();
    const { k } = w;
    const { parent, child, pt } = family(w);
    const second = k.processes.get(k.syscall(pt, 'fork').value)!;
    sigaction(k, pt, S.SIGCHLD!, { handler: HANDLER, flags: 0, mask: new Set() });
    mask(k, pt, SIG_BLOCK, S.SIGCHLD!);
    k.syscall(pt, 'kill', [child.pid, S.SIGSTOP!]);
    k.syscall(pt, 'kill', [child.pid, S.SIGCONT!]);
    k.syscall(pt, 'kill', [child.pid, S.SIGTERM!]);
    expect(pendingSignals(pt).process).toEqual([S.SIGCHLD]); // one p_ksi, its si_code updated
    k.syscall(second.threads[0]!, 'exit', [0]);
    expect(pendingSignals(pt).process).toEqual([S.SIGCHLD, S.SIGCHLD]);
    expect(wait4(k, pt, child.pid, WNOWAIT).pid).toBe(child.pid);
    expect(pendingSignals(pt).process).toHaveLength(2); // WNOWAIT leaves it
    expect(wait4(k, pt, child.pid, 0)).toEqual({ pid: child.pid, status: S.SIGTERM, errno: 0 });
    expect(pendingSignals(pt).process).toEqual([S.SIGCHLD]);
    mask(k, pt, SIG_UNBLOCK, S.SIGCHLD!);
    expect(handlersEntered(parent)).toBe(1); // the second child's only
    expect(w.events.filter((e) => e.pid === parent.pid)).toEqual([{ pid: parent.pid, signal: 'SIGCHLD', action: 'handled' }]);
  });

  it('SIGCONT continues even when blocked (it stays pending) or ignored; SIGKILL kills a stopped process', () => {
    const w = world();
    const { k } = w;
    const { child, pt, ct } = family(w);
    mask(k, ct, SIG_BLOCK, S.SIGCONT!);
    k.syscall(pt, 'kill', [child.pid, S.SIGSTOP!]);
    k.syscall(pt, 'kill', [child.pid, S.SIGCONT!]);
    expect(ct.state).toBe('runnable');
    expect([...sigpending(k, ct)]).toEqual([...sigset(S.SIGCONT!)]);
    const b = family(w);
    sigaction(k, b.ct, S.SIGCONT!, { handler: SIG_IGN, flags: 0, mask: new Set() });
    k.syscall(b.pt, 'kill', [b.child.pid, S.SIGSTOP!]);
    k.syscall(b.pt, 'kill', [b.child.pid, S.SIGCONT!]);
    expect(b.ct.state).toBe('runnable');
    k.syscall(b.pt, 'kill', [b.child.pid, S.SIGSTOP!]);
    k.syscall(b.pt, 'kill', [b.child.pid, S.SIGKILL!]);
    expect(b.child.killedBy).toBe('SIGKILL');
    expect(wait4(k, b.pt, b.child.pid, WUNTRACED)).toEqual({ pid: b.child.pid, status: 9, errno: 0 });
  });

  it('a signal sent to a stopped process waits until it is continued; a stop drops a pending SIGCONT and SIGCONT the pending stops', () => {
    const w = world();
    const { k } = w;
    const { child, pt, ct } = family(w);
    k.syscall(pt, 'kill', [child.pid, S.SIGSTOP!]);
    k.syscall(pt, 'kill', [child.pid, S.SIGTERM!]);
    expect(child.state).toBe('running');
    expect(pendingSignals(ct).process).toEqual([S.SIGTERM]);
    k.syscall(pt, 'kill', [child.pid, S.SIGCONT!]);
    expect(child.killedBy).toBe('SIGTERM');
    const b = family(w);
    mask(k, b.ct, SIG_BLOCK, S.SIGTSTP!, S.SIGCONT!, S.SIGTTOU!);
    k.syscall(b.pt, 'kill', [b.child.pid, S.SIGCONT!]);
    k.syscall(b.pt, 'kill', [b.child.pid, S.SIGTSTP!]);
    expect(pendingSignals(b.ct).process).toEqual([S.SIGTSTP]); // the stop dropped SIGCONT
    k.syscall(b.pt, 'kill', [b.child.pid, S.SIGCONT!]);
    expect(pendingSignals(b.ct).process).toEqual([S.SIGCONT]); // and SIGCONT the stop
    // Unblocking a held stop signal stops the process then (issignal).
    k.syscall(b.pt, 'kill', [b.child.pid, S.SIGTTOU!]);
    mask(k, b.ct, SIG_SETMASK);
    expect(stopped(b.child)).toBe(true);
    expect(jobState(b.child).xsig).toBe(S.SIGTTOU);
  });

  it('a process can stop itself; a thread asleep in wait4 stays stopped after its child exits, and finishes once continued', () => {
    const w = world();
    const { k } = w;
    const { parent, child, pt, ct } = family(w);
    expect(k.syscall(ct, 'kill', [child.pid, S.SIGSTOP!]).value).toBe(0);
    expect(ct.state).toBe('suspended');
    k.syscall(pt, 'kill', [child.pid, S.SIGCONT!]);
    const grandchild = k.processes.get(k.syscall(ct, 'fork').value)!;
    expect(k.syscall(ct, 'wait4', [grandchild.pid, 0, 0, 0]).blocked).toBe(true);
    k.syscall(pt, 'kill', [child.pid, S.SIGSTOP!]);
    k.syscall(grandchild.threads[0]!, 'exit', [3]);
    expect(ct.state).toBe('suspended');
    k.syscall(pt, 'kill', [child.pid, S.SIGCONT!]);
    expect(ct.state).toBe('runnable');
    expect(k.resume(ct).value).toBe(grandchild.pid);
    expect(parent.state).toBe('running');
  });

  it('a SIGCHLD handler without SA_RESTART ends a sleeping wait4 with EINTR; with SA_RESTART the wait reaps', () => {
    const w = world();
    const { k } = w;
    for (const flags of [0, SA.RESTART]) {
      const { child, pt, ct } = family(w);
      sigaction(k, pt, S.SIGCHLD!, { handler: HANDLER, flags, mask: new Set() });
      expect(k.syscall(pt, 'wait4', [child.pid, 0, 0, 0]).blocked).toBe(true);
      k.syscall(ct, 'exit', [5]);
      expect(pt.state).toBe('runnable');
      const r = k.resume(pt);
      if (flags === 0) {
        expect(r.errorNumber).toBe(E.EINTR);
        expect(wait4(k, pt, child.pid, 0)).toEqual({ pid: child.pid, status: 0x500, errno: 0 });
      } else expect(r.value).toBe(child.pid);
    }
  });

  it('wait4(0) and wait4(-pgid) choose children by process group', () => {
    const w = world();
    const { k } = w;
    const { child, pt, ct } = family(w);
    k.syscall(ct, 'setpgid', [0, 0]);
    k.syscall(pt, 'kill', [child.pid, S.SIGSTOP!]);
    expect(wait4(k, pt, 0, WUNTRACED | WNOHANG).errno).toBe(E.ECHILD); // no child left in the caller's group
    expect(wait4(k, pt, -child.pid, WUNTRACED | WNOHANG).pid).toBe(child.pid);
    expect(wait4(k, pt, -4242, WUNTRACED | WNOHANG).errno).toBe(E.ECHILD);
  });
});

describe('thr_new, thr_self, thr_exit, thr_kill, thr_kill2', () => {
  it('thr_new makes a thread with a TID above 100000, stored at child_tid and parent_tid; thr_self; the mask is the creator\'s', () => {
    const { k, p, t } = app();
    expect(t.tid).toBeGreaterThan(100_000);
    mask(k, t, SIG_BLOCK, S.SIGUSR1!);
    const base = mem(k, p);
    const { errno, td } = thrNew(k, t, { arg: 0x1234, stackBase: 0x7000_0000, stackSize: 0x10000 });
    expect(errno).toBe(0);
    expect(td!.tid).toBeGreaterThan(t.tid);
    const dv = new DataView(k.copyFromUser(t, base + TIDS, 16).buffer);
    expect([Number(dv.getBigInt64(0, true)), Number(dv.getBigInt64(8, true))]).toEqual([td!.tid, td!.tid]);
    expect(threadEntry(td!)).toMatchObject({ startFunc: 0x401000, arg: 0x1234, stackBase: 0x7000_0000, stackSize: 0x10000 });
    expect([...threadMask(td!)]).toEqual([S.SIGUSR1]);
    expect(k.syscall(td!, 'thr_self', [base + OUT]).value).toBe(0);
    expect(Number(new DataView(k.copyFromUser(t, base + OUT, 8).buffer).getBigInt64(0, true))).toBe(td!.tid);
    expect(k.syscall(td!, 'thr_self', [0x10]).errorNumber).toBe(E.EFAULT);
    // A short param_size is zero-extended: no child_tid/parent_tid store, still a thread.
    expect(thrNew(k, t, {}, 16).errno).toBe(0);
    expect(p.threads.length).toBe(3);
  });

  it('thr_new\'s errnos in order: param_size, copyin, rtp (EFAULT, EPERM, EINVAL), the TID stores, tls_base; nothing is left behind', () => {
    const w = world();
    const { k } = w;
    const p = k.createProcess(k.init, 'app', { uid: 1001, gid: 1001, euid: 1001, egid: 1001 });
    const t = p.threads[0]!;
    const base = mem(k, p);
    const ids = k.ids.inUse;
    expect(k.syscall(t, 'thr_new', [base + PARAM, -1]).errorNumber).toBe(E.EINVAL);
    expect(k.syscall(t, 'thr_new', [base + PARAM, THR_PARAM_SIZE + 1]).errorNumber).toBe(E.EINVAL);
    expect(k.syscall(t, 'thr_new', [0x10, THR_PARAM_SIZE]).errorNumber).toBe(E.EFAULT);
    expect(thrNew(k, t, { rtp: 0x10 }).errno).toBe(E.EFAULT);
    const rtp = (type: number, prio: number): number => {
      k.copyToUser(t, base + OUT, Uint8Array.of(type, 0, prio, 0));
      return base + OUT;
    };
    expect(thrNew(k, t, { rtp: rtp(RTP_PRIO.REALTIME, 10) }).errno).toBe(E.EPERM);
    expect(thrNew(k, t, { rtp: rtp(7, 0) }).errno).toBe(E.EINVAL);
    expect(thrNew(k, t, { childTid: 0x10 }).errno).toBe(E.EFAULT);
    expect(thrNew(k, t, { tlsBase: 0x8000_0000_0000 }).errno).toBe(E.EINVAL);
    expect([p.threads.length, k.ids.inUse]).toEqual([1, ids]);
    expect(thrNew(k, t, { rtp: rtp(RTP_PRIO.NORMAL, 0) }).errno).toBe(0);
    const root = k.createProcess(k.init, 'root').threads[0]!;
    const rbase = mem(k, root.process as P);
    k.copyToUser(root, rbase + OUT, Uint8Array.of(RTP_PRIO.FIFO, 0, 32, 0));
    expect(thrNew(k, root, { rtp: rbase + OUT }).errno).toBe(E.EINVAL); // prio > RTP_PRIO_MAX
  });

  it('thr_exit ends a thread (TID freed, 1 stored at state) but not the last one; its own pending signals are dropped', () => {
    const { k, p, t } = app();
    const base = mem(k, p);
    const td = thrNew(k, t).td!;
    mask(k, td, SIG_BLOCK, S.SIGUSR1!);
    k.syscall(t, 'thr_kill', [td.tid, S.SIGUSR1!]);
    expect(pendingSignals(td).thread).toEqual([S.SIGUSR1]);
    const ids = k.ids.inUse;
    k.copyToUser(t, base + OUT, new Uint8Array(8));
    expect(k.syscall(td, 'thr_exit', [base + OUT]).value).toBe(0);
    expect(td.state).toBe('dead');
    expect(k.ids.inUse).toBe(ids - 1);
    expect(k.copyFromUser(t, base + OUT, 1)[0]).toBe(1);
    expect(p.state).toBe('running');
    expect(k.syscall(t, 'thr_kill', [td.tid, 0]).errorNumber).toBe(E.ESRCH);
    expect(k.syscall(t, 'thr_exit', [0]).value).toBe(0); // the last thread: ignored
    expect([t.state, p.state]).toEqual(['runnable', 'running']);
  });

  it('thr_kill: ESRCH before EINVAL, 0 probes, -1 reaches every other thread; a blocked one waits on its thread only', () => {
    const { k, p, t } = app();
    sigaction(k, t, S.SIGUSR2!, { handler: HANDLER, flags: 0, mask: new Set() });
    expect(k.syscall(t, 'thr_kill', [-1, S.SIGUSR2!]).errorNumber).toBe(E.ESRCH); // no other thread
    expect(k.syscall(t, 'thr_kill', [99_999_999, 500]).errorNumber).toBe(E.ESRCH);
    expect(k.syscall(t, 'thr_kill', [t.tid, 500]).errorNumber).toBe(E.EINVAL);
    expect(k.syscall(t, 'thr_kill', [-1, 500]).errorNumber).toBe(E.EINVAL);
    const a = thrNew(k, t).td!;
    const b = thrNew(k, t).td!;
    mask(k, b, SIG_BLOCK, S.SIGUSR2!);
    expect(k.syscall(t, 'thr_kill', [b.tid, S.SIGUSR2!]).value).toBe(0);
    expect([handlersEnteredBy(t), handlersEnteredBy(a), handlersEnteredBy(b)]).toEqual([0, 0, 0]);
    expect([...sigpending(k, b)]).toEqual([...sigset(S.SIGUSR2!)]);
    expect([...sigpending(k, a)]).toEqual([...sigset()]); // td_sigqueue is b's own
    mask(k, b, SIG_UNBLOCK, S.SIGUSR2!);
    expect(handlersEnteredBy(b)).toBe(1);
    expect(k.syscall(t, 'thr_kill', [-1, S.SIGUSR2!]).value).toBe(0);
    expect([handlersEnteredBy(t), handlersEnteredBy(a), handlersEnteredBy(b)]).toEqual([0, 1, 2]);
    // A stop or SIGKILL sent to one thread acts on the whole process.
    k.syscall(t, 'thr_kill', [a.tid, S.SIGSTOP!]);
    expect(stopped(p)).toBe(true);
    const other = k.createProcess(k.init, 'x').threads[0]!;
    k.syscall(other, 'thr_kill2', [p.pid, b.tid, S.SIGKILL!]);
    expect(p.killedBy).toBe('SIGKILL');
  });

  it('thr_kill2 finds a thread of another process; EPERM without p_cansignal (the signal is posted all the same, as FreeBSD 14 does)', () => {
    const w = world();
    const { k } = w;
    const p = k.createProcess(k.init, 'app', { uid: 1001, gid: 1001, euid: 1001, egid: 1001 });
    const t = p.threads[0]!;
    const td = thrNew(k, t).td!;
    sigaction(k, t, S.SIGUSR1!, { handler: HANDLER, flags: 0, mask: new Set() });
    const user = k.createProcess(k.init, 'u', { uid: 1002, gid: 1002, euid: 1002, egid: 1002 }).threads[0]!;
    expect(k.syscall(user, 'thr_kill2', [p.pid + 1000, td.tid, S.SIGUSR1!]).errorNumber).toBe(E.ESRCH);
    expect(k.syscall(user, 'thr_kill2', [p.pid, -1, S.SIGUSR1!]).errorNumber).toBe(E.EPERM);
    expect(handlersEntered(p)).toBe(0);
    expect(k.syscall(user, 'thr_kill2', [p.pid, td.tid, 0]).errorNumber).toBe(E.EPERM);
    expect(k.syscall(user, 'thr_kill2', [p.pid, td.tid, 500]).errorNumber).toBe(E.EINVAL);
    expect(k.syscall(user, 'thr_kill2', [p.pid, td.tid, S.SIGUSR1!]).errorNumber).toBe(E.EPERM);
    expect(handlersEnteredBy(td)).toBe(1);
    expect(k.syscall(user, 'thr_kill2', [-1, td.tid, S.SIGCONT!]).value).toBe(0); // SIGCONT within the session
    const root = k.createProcess(k.init, 'r').threads[0]!;
    expect(k.syscall(root, 'thr_kill2', [p.pid, -1, S.SIGUSR1!]).value).toBe(0);
    expect([handlersEnteredBy(t), handlersEnteredBy(td)]).toEqual([1, 2]);
  });
});

describe('exec of a process with threads', () => {
  it('a successful execve ends every other thread (thread_single(SINGLE_EXIT)); a failed one leaves them', () => {
    const image = new Uint8Array(readFileSync(fileURLToPath(new URL('../../../../formats/elf/test/fixtures/rollup.freebsd-x64.node', import.meta.url))));
    const k: K = new Kernel(freebsdPersonality({ fs: memoryFileSystem({ '/bin/app': image }) }), { frames: 16384, seed: 7, contents: true });
    const p = k.createProcess(k.init, 'sh');
    const t = p.threads[0]!;
    const a = thrNew(k, t).td!;
    const b = thrNew(k, t).td!;
    const ids = k.ids.inUse;
    expect(k.syscall(b, 'execve', ['/bin/missing', ['x'], []]).errorNumber).toBe(E.ENOENT);
    expect([t.state, a.state, b.state]).toEqual(['runnable', 'runnable', 'runnable']);
    expect(k.syscall(b, 'execve', ['/bin/app', ['app'], []]).value).toBe(0);
    expect([t.state, a.state, b.state]).toEqual(['dead', 'dead', 'runnable']);
    // a's TID is freed at once; the first thread's stays with the process until it is reaped.
    expect(k.ids.inUse).toBe(ids - 1);
    expect(k.syscall(b, 'thr_kill', [-1, 0]).errorNumber).toBe(E.ESRCH);
  });
});

describe('per-thread masks', () => {
  it('a process-directed signal goes to the first thread not blocking it; blocked by all, it waits on the process until one unblocks', () => {
    const { k, p, t } = app();
    sigaction(k, t, S.SIGUSR1!, { handler: HANDLER, flags: 0, mask: new Set() });
    mask(k, t, SIG_BLOCK, S.SIGUSR1!);
    const a = thrNew(k, t).td!; // inherits the block
    const b = thrNew(k, t).td!;
    mask(k, b, SIG_UNBLOCK, S.SIGUSR1!);
    const sender = k.createProcess(k.init, 'kill').threads[0]!;
    k.syscall(sender, 'kill', [p.pid, S.SIGUSR1!]);
    expect([handlersEnteredBy(t), handlersEnteredBy(a), handlersEnteredBy(b)]).toEqual([0, 0, 1]);
    mask(k, b, SIG_BLOCK, S.SIGUSR1!);
    k.syscall(sender, 'kill', [p.pid, S.SIGUSR1!]);
    expect(pendingSignals(t).process).toEqual([S.SIGUSR1]);
    expect([...sigpending(k, a)]).toEqual([...sigset(S.SIGUSR1!)]);
    // A new thread that does not block it takes it at its first return to user mode.
    mask(k, t, SIG_UNBLOCK, S.SIGUSR1!);
    expect(handlersEnteredBy(t)).toBe(1);
    expect(pendingSignals(t).process).toEqual([]);
    // The sender's own thread is preferred when it is in the process.
    mask(k, a, SIG_UNBLOCK, S.SIGUSR1!);
    k.syscall(a, 'kill', [p.pid, S.SIGUSR1!]);
    expect([handlersEnteredBy(t), handlersEnteredBy(a)]).toEqual([1, 1]);
    mask(k, t, SIG_BLOCK, S.SIGUSR1!);
    mask(k, a, SIG_BLOCK, S.SIGUSR1!);
    k.syscall(sender, 'kill', [p.pid, S.SIGUSR1!]);
    const c = thrNew(k, a, {}).td!;
    expect(handlersEnteredBy(c)).toBe(0); // it inherited a's block
    mask(k, a, SIG_UNBLOCK, S.SIGUSR2!);
    expect(pendingSignals(t).process).toEqual([S.SIGUSR1]);
  });

  it('a signal sent twice while blocked is queued twice and delivered twice; past max_pending_per_proc one more is kept (sq_kill)', () => {
    const { k, p, t } = app();
    sigaction(k, t, S.SIGUSR1!, { handler: HANDLER, flags: 0, mask: new Set() });
    mask(k, t, SIG_BLOCK, S.SIGUSR1!);
    k.syscall(t, 'kill', [p.pid, S.SIGUSR1!]);
    k.syscall(t, 'kill', [p.pid, S.SIGUSR1!]);
    expect(pendingSignals(t).process).toEqual([S.SIGUSR1, S.SIGUSR1]);
    mask(k, t, SIG_UNBLOCK, S.SIGUSR1!);
    expect(handlersEnteredBy(t)).toBe(2);
    mask(k, t, SIG_BLOCK, S.SIGUSR1!);
    for (let i = 0; i < MAX_PENDING_PER_PROC + 5; i++) k.syscall(t, 'kill', [p.pid, S.SIGUSR1!]);
    expect(pendingSignals(t).process.length).toBe(MAX_PENDING_PER_PROC + 1);
    mask(k, t, SIG_UNBLOCK, S.SIGUSR1!);
    expect(handlersEnteredBy(t)).toBe(2 + MAX_PENDING_PER_PROC + 1);
  });

  it('SIGPIPE goes to the writing thread (tdsignal): blocked there, it waits on that thread only', () => {
    const { k, p, t } = app();
    const base = mem(k, p);
    const writer = thrNew(k, t).td!;
    mask(k, writer, SIG_BLOCK, S.SIGPIPE!);
    k.syscall(t, 'pipe2', [base + OUT, 0]);
    const fds = new DataView(k.copyFromUser(t, base + OUT, 8).buffer);
    k.syscall(t, 'close', [fds.getInt32(0, true)]);
    expect(k.syscall(writer, 'write', [fds.getInt32(4, true), base, 1]).errorNumber).toBe(E.EPIPE);
    expect(p.state).toBe('running'); // t does not block SIGPIPE, but the signal is the writer's
    expect(pendingSignals(writer).thread).toEqual([S.SIGPIPE]);
    expect(pendingSignals(t)).toEqual({ thread: [], process: [] });
    mask(k, writer, SIG_UNBLOCK, S.SIGPIPE!);
    expect(p.killedBy).toBe('SIGPIPE');
  });

  it('SIGKILL and SIGSTOP are never in a mask; fork copies the forking thread\'s mask; a blocked fault signal kills', () => {
    const { k, p, t } = app();
    const td = thrNew(k, t).td!;
    mask(k, td, SIG_SETMASK, S.SIGKILL!, S.SIGSTOP!, S.SIGSEGV!, S.SIGINT!);
    expect([...threadMask(td)].sort((x, y) => x - y)).toEqual([S.SIGINT, S.SIGSEGV]);
    expect([...threadMask(t)]).toEqual([]);
    const child = k.processes.get(k.syscall(td, 'fork').value)!;
    expect([...threadMask(child.threads[0]!)].sort((x, y) => x - y)).toEqual([S.SIGINT, S.SIGSEGV]);
    sigaction(k, t, S.SIGSEGV!, { handler: HANDLER, flags: 0, mask: new Set() });
    expect(k.access(t, 0x1000, ACCESS_WRITE)).toBe(-1); // t does not block it: the handler
    expect(p.state).toBe('running');
    k.access(td, 0x1000, ACCESS_WRITE); // td blocks it: trapsignal's default action
    expect(p.killedBy).toBe('SIGSEGV');
  });

  it('sigsuspend sleeps with the given mask until a handler runs, then fails with EINTR and puts the old mask back', () => {
    const { k, p, t } = app();
    const base = mem(k, p);
    sigaction(k, t, S.SIGUSR1!, { handler: HANDLER, flags: SA.RESTART, mask: new Set() });
    mask(k, t, SIG_BLOCK, S.SIGUSR1!);
    k.copyToUser(t, base + SET, sigset());
    expect(k.syscall(t, 'sigsuspend', [0x10]).errorNumber).toBe(E.EFAULT);
    expect(k.syscall(t, 'sigsuspend', [base + SET]).blocked).toBe(true);
    const sender = k.createProcess(k.init, 'kill').threads[0]!;
    k.syscall(sender, 'kill', [p.pid, S.SIGCHLD!]); // ignored by default: no wake-up
    k.syscall(sender, 'kill', [p.pid, S.SIGSTOP!]);
    k.syscall(sender, 'kill', [p.pid, S.SIGCONT!]);
    expect(t.state).toBe('blocked');
    k.syscall(sender, 'kill', [p.pid, S.SIGUSR1!]);
    expect(t.state).toBe('runnable');
    expect(k.resume(t).errorNumber).toBe(E.EINTR);
    expect([...threadMask(t)]).toEqual([S.SIGUSR1]);
    // Pending and unblocked by the new mask: the call returns at once.
    k.syscall(sender, 'kill', [p.pid, S.SIGUSR1!]);
    const r = k.syscall(t, 'sigsuspend', [base + SET]);
    expect([r.blocked, r.errorNumber, handlersEnteredBy(t)]).toEqual([undefined, E.EINTR, 2]);
  });
});

type JobOp =
  | { op: 'kill'; sig: number }
  | { op: 'thrNew'; who: number }
  | { op: 'thrKill'; who: number; to: number; sig: number }
  | { op: 'mask'; who: number; how: number; sigs: number[] }
  | { op: 'wait'; options: number }
  | { op: 'thrExit'; who: number }
  | { op: 'touch'; who: number };

const SIGS = [S.SIGSTOP!, S.SIGTSTP!, S.SIGCONT!, S.SIGUSR1!, S.SIGINFO!, S.SIGTTIN!];
const sigArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(S.SIGSTOP!, S.SIGTSTP!, S.SIGTTIN!) },
  { weight: 5, arbitrary: fc.constant(S.SIGCONT!) },
  { weight: 8, arbitrary: fc.constantFrom(S.SIGUSR1!, S.SIGINFO!) },
  { weight: 1, arbitrary: fc.constantFrom(S.SIGKILL!, S.SIGHUP!) },
);
const jobOpArb: fc.Arbitrary<JobOp> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('kill' as const), sig: sigArb }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('thrNew' as const), who: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('thrKill' as const), who: fc.nat(), to: fc.nat(), sig: sigArb }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('mask' as const), who: fc.nat(), how: fc.constantFrom(SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK), sigs: fc.subarray([...SIGS, S.SIGKILL!]) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('wait' as const), options: fc.constantFrom(WNOHANG, WNOHANG | WUNTRACED, WNOHANG | WCONTINUED, WNOHANG | WUNTRACED | WCONTINUED) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('thrExit' as const), who: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('touch' as const), who: fc.nat() }) },
);

/** One random sequence: the invariants hold after every step, and nothing is left once both processes are gone. */
function runJobOps(ops: readonly JobOp[]): void {
  const w = world();
  const { k } = w;
  const idsAtStart = k.ids.inUse;
  const freeAtStart = k.mmu.frames.freeFrames;
  const { parent, child, pt, ct } = family(w);
  sigaction(k, ct, S.SIGUSR1!, { handler: HANDLER, flags: 0, mask: new Set() });
  let sentUsr1 = 0;
  const runnable = (): Thread[] => child.threads.filter((t) => t.state === 'runnable');
  const live = (): Thread[] => child.threads.filter((t) => t.state !== 'dead');
  for (const o of ops) {
    const ts = runnable();
    const who = o.op === 'kill' || o.op === 'wait' ? undefined : ts[o.who % Math.max(ts.length, 1)];
    if (o.op !== 'kill' && o.op !== 'wait' && who === undefined) continue;
    switch (o.op) {
      case 'kill':
        if (o.sig === S.SIGUSR1) sentUsr1++;
        k.syscall(pt, 'kill', [child.pid, o.sig]);
        break;
      case 'thrNew':
        expect(thrNew(k, who!).errno).toBe(0);
        break;
      case 'thrKill': {
        const targets = live();
        if (o.sig === S.SIGUSR1) sentUsr1++;
        expect(k.syscall(who!, 'thr_kill', [targets[o.to % targets.length]!.tid, o.sig]).value).toBe(0);
        break;
      }
      case 'mask':
        expect(mask(k, who!, o.how, ...o.sigs)).toBe(0);
        break;
      case 'wait': {
        const r = wait4(k, pt, child.pid, o.options);
        if (r.pid === child.pid && (r.status & 0xff) === 0x7f) expect(jobState(child).stopped).toBe(true);
        if (r.pid === child.pid && r.status === 0x13) expect((o.options & WCONTINUED) !== 0).toBe(true);
        break;
      }
      case 'thrExit':
        k.syscall(who!, 'thr_exit', [0]);
        break;
      case 'touch':
        expect(k.access(who!, mem(k, child) + PAGE_SIZE, ACCESS_WRITE)).toBeGreaterThanOrEqual(0);
        break;
    }
    // A stopped process never runs: every thread suspended, no access possible.
    if (child.state === 'running' && jobState(child).stopped) {
      for (const t of live()) {
        expect(t.state).toBe('suspended');
        expect(() => k.access(t, mem(k, child), ACCESS_WRITE)).toThrow();
      }
    }
    if (child.state === 'running' && !jobState(child).stopped) expect(live().every((t) => t.state === 'runnable')).toBe(true);
    if (child.state !== 'running') expect(child.threads.every((t) => t.state === 'dead')).toBe(true);
    // Masks never block SIGKILL or SIGSTOP.
    for (const t of live()) expect(threadMask(t).has(S.SIGKILL!) || threadMask(t).has(S.SIGSTOP!)).toBe(false);
    // Each SIGUSR1 is delivered at most once: handled + still pending never exceeds what was sent.
    const handled = w.events.filter((e) => e.pid === child.pid && e.signal === 'SIGUSR1').length;
    const usr1 = (sigs: readonly number[]): number => sigs.filter((x) => x === S.SIGUSR1).length;
    const pending = child.state === 'running' ? live().reduce((n, t) => n + usr1(pendingSignals(t).thread), 0) + usr1(pendingSignals(ct).process) : 0;
    expect(handled + pending).toBeLessThanOrEqual(sentUsr1);
    expect(w.events.filter((e) => e.pid === child.pid && e.action === 'default').length).toBeLessThanOrEqual(1);
  }
  // The end: SIGKILL (stopped or not), the parent reaps, then exits; nothing is left.
  if (child.state === 'running') k.syscall(pt, 'kill', [child.pid, S.SIGKILL!]);
  if (child.state === 'zombie') expect(wait4(k, pt, child.pid, 0).pid).toBe(child.pid);
  expect(child.state).toBe('dead');
  k.exitProcess(parent, 0);
  expect(parent.state).toBe('dead');
  expect(k.ids.inUse, 'PIDs and TIDs left').toBe(idsAtStart);
  expect(k.vm.liveObjects, 'VM objects left').toBe(0);
  expect(k.mmu.frames.freeFrames, 'frames left').toBe(freeAtStart);
}

describe('job control and threads over random call sequences', () => {
  it('a stopped process never runs, a signal is delivered at most once, masks never hold SIGKILL/SIGSTOP, nothing leaks', () => {
    fc.assert(fc.property(fc.array(jobOpArb, { minLength: 10, maxLength: 60 }), (ops) => {
      runJobOps(ops);
    }), { seed: 0x5157, numRuns: 150 });
  });
});
