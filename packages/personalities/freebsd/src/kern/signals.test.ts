/**
 * sigaction with amd64's struct sigaction in user memory, sigprocmask's blocked and pending
 * signals, kill delivering to a handler (the `signal` probe shows the handler entered and the
 * sigreturn(2) trap follows), a fault's SIGSEGV going to a handler, process groups (setpgid,
 * getpgid, kill of -pgid and 0) — FreeBSD's numbers and errnos throughout.
 */
import { FREEBSD_ERRNO } from '@polykernel/core';
import { Kernel, type Process, type Thread } from '@polykernel/kernel';
import { ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import type { FreebsdMachine, FreebsdSpace } from '../machine.js';
import { MAP_ANON, MAP_PRIVATE, PAGE_SIZE, SIGNALS } from '../param.js';
import { freebsdPersonality } from '../personality.js';
import {
  encodeSigaction, FAULT_HANDLER, handlersEntered, pgidOf, SA, SIG_BLOCK, SIG_IGN, SIG_SETMASK, SIG_UNBLOCK, SIGACTION_SIZE, type SigAction,
} from './kern_sig.js';

type K = Kernel<FreebsdSpace, FreebsdMachine>;
const E = FREEBSD_ERRNO;
const S = SIGNALS as Record<string, number>;
const HANDLER = 0x401000;

interface Booted { k: K; p: Process<FreebsdSpace>; t: Thread; mem: number; events: { pid: number; signal: string; action: string }[]; calls: string[] }

function boot(): Booted {
  const k: K = new Kernel(freebsdPersonality(), { frames: 2048, seed: 4, contents: true });
  const p = k.createProcess(k.init, 'sh');
  const t = p.threads[0]!;
  const mem = k.syscall(t, 'mmap', [0, 2 * PAGE_SIZE, 3, MAP_PRIVATE | MAP_ANON, -1, 0]).value;
  const events: Booted['events'] = [];
  const calls: string[] = [];
  k.bus.subscribe('signal', (e) => events.push({ pid: e.pid, signal: e.signal, action: e.action }));
  k.bus.subscribe('syscall:entry', (e) => calls.push(e.name));
  return { k, p, t, mem, events, calls };
}

function sigaction(b: Booted, t: Thread, sig: number, a: SigAction | null, oact = 0): number {
  if (a !== null) b.k.copyToUser(t, b.mem, encodeSigaction(a));
  return b.k.syscall(t, 'sigaction', [sig, a === null ? 0 : b.mem, oact]).value;
}

function sigset(...sigs: number[]): Uint8Array {
  const out = new Uint8Array(16);
  const dv = new DataView(out.buffer);
  for (const s of sigs) dv.setUint32(Math.floor((s - 1) / 32) * 4, dv.getUint32(Math.floor((s - 1) / 32) * 4, true) + 2 ** ((s - 1) % 32), true);
  return out;
}

describe('sigaction, sigprocmask, kill to a handler', () => {
  it('reads and writes struct sigaction (handler at 0, sa_flags at 8, sa_mask at 12) and reports the old one', () => {
    const b = boot();
    const { k, t, mem } = b;
    expect(sigaction(b, t, S.SIGUSR1!, { handler: HANDLER, flags: SA.RESTART | SA.SIGINFO, mask: new Set([S.SIGUSR2!, 100]) }, mem + 64)).toBe(0);
    expect([...k.copyFromUser(t, mem + 64, SIGACTION_SIZE)]).toEqual(new Array<number>(SIGACTION_SIZE).fill(0)); // SIG_DFL before
    expect(k.syscall(t, 'sigaction', [S.SIGUSR1!, 0, mem + 128]).value).toBe(0);
    const o = k.copyFromUser(t, mem + 128, SIGACTION_SIZE);
    const dv = new DataView(o.buffer, o.byteOffset);
    expect(Number(dv.getBigUint64(0, true))).toBe(HANDLER);
    expect(dv.getInt32(8, true)).toBe(SA.RESTART | SA.SIGINFO);
    expect(dv.getUint32(12, true)).toBe(2 ** (S.SIGUSR2! - 1));
    expect(dv.getUint32(12 + 12, true)).toBe(2 ** (100 - 97));
  });

  it('kern_sigaction\'s errnos: copyin first (EFAULT), then the signal number, flags, SIGKILL/SIGSTOP', () => {
    const b = boot();
    const { k, t } = b;
    expect(k.syscall(t, 'sigaction', [0, 0x10, 0]).errorNumber).toBe(E.EFAULT);
    expect(k.syscall(t, 'sigaction', [0, 0, 0]).errorNumber).toBe(E.EINVAL);
    expect(k.syscall(t, 'sigaction', [129, 0, 0]).errorNumber).toBe(E.EINVAL);
    k.copyToUser(t, b.mem, encodeSigaction({ handler: HANDLER, flags: 0x1000, mask: new Set() }));
    expect(k.syscall(t, 'sigaction', [S.SIGINT!, b.mem, 0]).errorNumber).toBe(E.EINVAL);
    k.copyToUser(t, b.mem, encodeSigaction({ handler: SIG_IGN, flags: 0, mask: new Set() }));
    expect(k.syscall(t, 'sigaction', [S.SIGKILL!, b.mem, 0]).errorNumber).toBe(E.EINVAL);
    expect(k.syscall(t, 'sigaction', [S.SIGSTOP!, b.mem, 0]).errorNumber).toBe(E.EINVAL);
  });

  it('kill runs the handler: the probe shows it entered, sigreturn follows, the process lives; SA_RESETHAND resets it', () => {
    const b = boot();
    const { k, p, t } = b;
    sigaction(b, t, S.SIGUSR1!, { handler: HANDLER, flags: SA.RESETHAND, mask: new Set() });
    expect(k.syscall(t, 'kill', [p.pid, S.SIGUSR1!]).value).toBe(0);
    expect(b.events).toEqual([{ pid: p.pid, signal: 'SIGUSR1', action: 'handled' }]);
    expect(b.calls.slice(-2)).toEqual(['kill', 'sigreturn']);
    expect(handlersEntered(p)).toBe(1);
    expect(p.state).toBe('running');
    k.syscall(t, 'kill', [p.pid, S.SIGUSR1!]);
    expect(p.killedBy).toBe('SIGUSR1');
  });

  it('SIG_IGN discards; a blocked signal waits until sigprocmask unblocks it; SIGKILL cannot be blocked', () => {
    const b = boot();
    const { k, p, t, mem } = b;
    sigaction(b, t, S.SIGTERM!, { handler: SIG_IGN, flags: 0, mask: new Set() });
    k.syscall(t, 'kill', [p.pid, S.SIGTERM!]);
    expect(p.state).toBe('running');
    sigaction(b, t, S.SIGUSR2!, { handler: HANDLER, flags: 0, mask: new Set() });
    k.copyToUser(t, mem + 256, sigset(S.SIGUSR2!, S.SIGKILL!));
    expect(k.syscall(t, 'sigprocmask', [SIG_BLOCK, mem + 256, 0]).value).toBe(0);
    k.syscall(t, 'kill', [p.pid, S.SIGUSR2!]);
    expect(handlersEntered(p)).toBe(0);
    expect(k.syscall(t, 'sigprocmask', [SIG_SETMASK, 0, mem + 512]).value).toBe(0);
    expect([...k.copyFromUser(t, mem + 512, 16)]).toEqual([...sigset(S.SIGUSR2!)]); // SIGKILL was not added
    expect(k.syscall(t, 'sigprocmask', [9, mem + 256, 0]).errorNumber).toBe(E.EINVAL);
    expect(k.syscall(t, 'sigprocmask', [SIG_UNBLOCK, mem + 256, 0]).value).toBe(0);
    expect(handlersEntered(p)).toBe(1);
    expect(b.events.at(-1)).toEqual({ pid: p.pid, signal: 'SIGUSR2', action: 'handled' });
    expect(k.syscall(t, 'sigprocmask', [SIG_BLOCK, 0x10, 0]).errorNumber).toBe(E.EFAULT);
  });

  it('a bad access\'s SIGSEGV goes to the handler: resumed past the access, or mprotect and retry', () => {
    const b = boot();
    const { k, p, t, mem } = b;
    sigaction(b, t, S.SIGSEGV!, { handler: FAULT_HANDLER.continue, flags: 0, mask: new Set() });
    expect(k.access(t, 0x1000, ACCESS_READ)).toBe(-1);
    expect(p.state).toBe('running');
    expect(b.events.at(-1)).toMatchObject({ signal: 'SIGSEGV', action: 'skip' });
    k.syscall(t, 'mprotect', [mem + PAGE_SIZE, PAGE_SIZE, 0]);
    sigaction(b, t, S.SIGSEGV!, { handler: FAULT_HANDLER.mprotect, flags: 0, mask: new Set() });
    expect(k.access(t, mem + PAGE_SIZE, ACCESS_WRITE)).toBeGreaterThanOrEqual(0);
    expect(b.events.at(-1)).toMatchObject({ signal: 'SIGSEGV', action: 'retry' });
    expect(handlersEntered(p)).toBe(2);
    // Without a handler the default action ends the process.
    sigaction(b, t, S.SIGSEGV!, { handler: 0, flags: 0, mask: new Set() });
    k.access(t, 0x1000, ACCESS_READ);
    expect(p.killedBy).toBe('SIGSEGV');
  });

  it('a caught signal ends a sleeping pipe read with EINTR; with SA_RESTART the read sleeps on', () => {
    const b = boot();
    const { k, p, t, mem } = b;
    k.syscall(t, 'pipe2', [mem + 1024, 0]);
    sigaction(b, t, S.SIGUSR1!, { handler: HANDLER, flags: 0, mask: new Set() });
    const c = k.processes.get(k.syscall(t, 'fork').value)!;
    expect(k.syscall(t, 'read', [0, mem, 8]).blocked).toBe(true);
    k.syscall(c.threads[0]!, 'kill', [p.pid, S.SIGUSR1!]);
    expect(t.state).toBe('runnable');
    expect(k.resume(t).errorNumber).toBe(E.EINTR);
    sigaction(b, t, S.SIGUSR1!, { handler: HANDLER, flags: SA.RESTART, mask: new Set() });
    expect(k.syscall(t, 'read', [0, mem, 8]).blocked).toBe(true);
    k.syscall(c.threads[0]!, 'kill', [p.pid, S.SIGUSR1!]);
    expect(t.state).toBe('blocked');
    expect(handlersEntered(p)).toBe(2);
  });

  it('fork inherits the handlers; exec would reset them (execsigs)', () => {
    const b = boot();
    const { k, t } = b;
    sigaction(b, t, S.SIGUSR1!, { handler: HANDLER, flags: 0, mask: new Set() });
    const c = k.processes.get(k.syscall(t, 'fork').value)!;
    k.syscall(t, 'kill', [c.pid, S.SIGUSR1!]);
    expect(handlersEntered(c)).toBe(1);
    expect(c.state).toBe('running');
  });
});

describe('process groups', () => {
  it('setpgid/getpgid and kill to a group: only its members are signalled', () => {
    const b = boot();
    const { k, p, t } = b;
    expect(pgidOf(p)).toBe(1); // init's group, inherited
    const c1 = k.processes.get(k.syscall(t, 'fork').value)!;
    const c2 = k.processes.get(k.syscall(t, 'fork').value)!;
    const c3 = k.processes.get(k.syscall(t, 'fork').value)!;
    expect(k.syscall(c1.threads[0]!, 'setpgid', [0, 0]).value).toBe(0);
    expect(k.syscall(t, 'getpgid', [c1.pid]).value).toBe(c1.pid);
    expect(k.syscall(t, 'setpgid', [c2.pid, c1.pid]).value).toBe(0);
    expect(k.syscall(c2.threads[0]!, 'getpgrp').value).toBe(c1.pid);
    expect(k.syscall(t, 'kill', [-c1.pid, S.SIGTERM!]).value).toBe(0);
    expect([c1.killedBy, c2.killedBy, c3.state, p.state]).toEqual(['SIGTERM', 'SIGTERM', 'running', 'running']);
    // Zombies still belong to their group until reaped: kill(-pgid, 0) finds them.
    expect(k.syscall(t, 'kill', [-c1.pid, 0]).value).toBe(0);
    expect(k.syscall(t, 'kill', [-4242, S.SIGTERM!]).errorNumber).toBe(E.ESRCH);
    // kill(0, sig): the caller's own group.
    k.syscall(c3.threads[0]!, 'setpgid', [0, 0]);
    expect(k.syscall(c3.threads[0]!, 'kill', [0, S.SIGHUP!]).value).toBe(0);
    expect(c3.killedBy).toBe('SIGHUP');
  });

  it('setpgid\'s errnos in kern_prot.c\'s order', () => {
    const b = boot();
    const { k, t } = b;
    const other = k.createProcess(k.init, 'other');
    const c = k.processes.get(k.syscall(t, 'fork').value)!;
    expect(k.syscall(t, 'setpgid', [c.pid, -1]).errorNumber).toBe(E.EINVAL);
    expect(k.syscall(t, 'setpgid', [other.pid, 0]).errorNumber).toBe(E.ESRCH); // not a descendant
    expect(k.syscall(t, 'setpgid', [9999, 0]).errorNumber).toBe(E.ESRCH);
    expect(k.syscall(t, 'setpgid', [c.pid, 7777]).errorNumber).toBe(E.EPERM); // no such group
    expect(k.syscall(t, 'getpgid', [9999]).errorNumber).toBe(E.ESRCH);
    const user = k.createProcess(k.init, 'user', { uid: 1001, gid: 1001, euid: 1001, egid: 1001 });
    k.syscall(user.threads[0]!, 'setpgid', [0, 0]);
    // Members exist but none may be signalled: EPERM, not ESRCH.
    expect(k.syscall(other.threads[0]!, 'kill', [-user.pid, S.SIGTERM!]).value).toBe(0); // other is root
    const u2 = k.createProcess(k.init, 'user2', { uid: 1002, gid: 1002, euid: 1002, egid: 1002 });
    const g = k.createProcess(k.init, 'g', { uid: 1001, gid: 1001, euid: 1001, egid: 1001 });
    k.syscall(g.threads[0]!, 'setpgid', [0, 0]);
    expect(k.syscall(u2.threads[0]!, 'kill', [-g.pid, S.SIGTERM!]).errorNumber).toBe(E.EPERM);
  });
});
