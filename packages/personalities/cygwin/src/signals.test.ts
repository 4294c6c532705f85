/**
 * Signal actions (signal.cc sigaction/signal, kill's per-target action), stop and continue with
 * waitpid's WUNTRACED/WCONTINUED words, process groups (syscalls.cc setpgid/getpgid). Handlers are
 * entered when the process next returns from a Cygwin call (no sig thread in the model).
 */
import { ACCESS_READ } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import { MAP_ANONYMOUS, MAP_PRIVATE, WNOHANG } from './posix.js';

const PROT_NONE_FOR_TEST = 0;
import { SA_NOCLDSTOP, SA_RESETHAND, SIG_DFL, SIG_IGN, WCONTINUED, WUNTRACED } from './signals.js';
import { bootCygwin, on, type Cyg } from './testkit.js';

const SIGSEGV = 11;
const SIGTERM = 15;
const SIGSTOP = 17;
const SIGTSTP = 18;
const SIGCONT = 19;
const SIGCHLD = 20;
const SIGUSR1 = 30;
const HANDLER = 0x1_0040_1000;

const childOf = (c: Cyg, pid: number): Cyg => on(c.k, c.k.processes.get(c.k.state.cygwin.byPid.get(pid)!.winpid)!);
const entries = (c: Cyg) => c.k.state.cygwin.handlerEntries.map((e) => `${String(e.pid)}:${String(e.sig)}:${e.after}`);

describe('sigaction, signal and handler entry', () => {
  it('a handled signal is pending until the target returns from its next Cygwin call; SA_RESETHAND puts SIG_DFL back', () => {
    const c = bootCygwin();
    const pid = c.call('fork').value;
    const ch = childOf(c, pid);
    expect(ch.call('sigaction', SIGUSR1, HANDLER, SA_RESETHAND).value).toBe(0);
    expect(c.call('kill', pid, SIGUSR1).value).toBe(0);
    expect(entries(c)).toEqual([]);
    expect(c.k.state.cygwin.byPid.get(pid)!.pending).toEqual([SIGUSR1]);
    expect(ch.call('getpid').value).toBe(pid);
    expect(entries(c)).toEqual([`${String(pid)}:${String(SIGUSR1)}:getpid`]);
    expect(c.k.state.cygwin.handlerEntries[0]!.handler).toBe(HANDLER);
    // Reset to SIG_DFL on entry: the next SIGUSR1 ends the child (WTERMSIG 30).
    expect(ch.call('sigaction', SIGUSR1).record!.fields.sa_handler).toBe(SIG_DFL);
    expect(c.call('kill', pid, SIGUSR1).value).toBe(0);
    expect(c.call('waitpid', pid, 0).record!.fields.status).toBe(SIGUSR1);
  });

  it('a signal to oneself is handled as kill returns; SIG_IGN drops it; SIGKILL and SIGSTOP cannot be caught', () => {
    const c = bootCygwin();
    const me = c.call('getpid').value;
    expect(c.call('signal', SIGTERM, HANDLER).value).toBe(SIG_DFL);
    expect(c.call('kill', me, SIGTERM).value).toBe(0);
    expect(entries(c)).toEqual([`${String(me)}:${String(SIGTERM)}:kill`]);
    expect(c.call('signal', SIGTERM, SIG_IGN).value).toBe(HANDLER);
    expect(c.call('kill', me, SIGTERM).value).toBe(0);
    expect(c.p.state).toBe('running');
    expect(c.call('signal', 9, HANDLER)).toMatchObject({ value: -1, error: 'EINVAL' });
    expect(c.call('sigaction', SIGSTOP, HANDLER, 0).error).toBe('EINVAL');
    expect(c.call('sigaction', 65, HANDLER, 0).error).toBe('EINVAL');
    expect(entries(c)).toHaveLength(1);
  });

  it('fork keeps the actions; exec resets handlers to SIG_DFL and keeps SIG_IGN', () => {
    const c = bootCygwin();
    c.call('signal', SIGUSR1, HANDLER);
    c.call('signal', SIGTERM, SIG_IGN);
    const pid = c.call('fork').value;
    const ch = childOf(c, pid);
    expect(ch.call('sigaction', SIGUSR1).record!.fields.sa_handler).toBe(HANDLER);
    expect(ch.call('execve', '/usr/bin/true.exe', ['true'], []).value).toBe(0);
    const ex = childOf(c, pid);
    expect(ex.p).not.toBe(ch.p);
    expect(ex.call('sigaction', SIGUSR1).record!.fields.sa_handler).toBe(SIG_DFL);
    expect(ex.call('sigaction', SIGTERM).record!.fields.sa_handler).toBe(SIG_IGN);
  });

  it('a SIGSEGV handler is entered for the fault; returning re-executes the access, and the second fault takes the default action', () => {
    const c = bootCygwin();
    const me = c.call('getpid').value;
    c.call('signal', SIGSEGV, HANDLER);
    const a = c.call('mmap', 0, 0x10000, PROT_NONE_FOR_TEST, MAP_PRIVATE + MAP_ANONYMOUS, -1, 0).value;
    expect(c.k.access(c.t, a, ACCESS_READ)).toBeLessThan(0);
    expect(entries(c)).toEqual([`${String(me)}:${String(SIGSEGV)}:fault`]);
    expect(c.p.killedBy).toBe('SIGSEGV');
  });
});

describe('SIGSTOP / SIGCONT and waitpid(WUNTRACED | WCONTINUED)', () => {
  it('stops the child\'s thread; waitpid reports WIFSTOPPED once, then WIFCONTINUED after SIGCONT', () => {
    const c = bootCygwin();
    const pid = c.call('fork').value;
    const ch = childOf(c, pid);
    expect(c.call('kill', pid, SIGSTOP).value).toBe(0);
    expect(ch.t.state).toBe('suspended');
    expect(c.call('waitpid', pid, WNOHANG).value).toBe(0);
    const r = c.call('waitpid', pid, WUNTRACED);
    expect(r.value).toBe(pid);
    expect(r.record!.fields.status).toBe(SIGSTOP * 256 + 0x7f);
    expect(c.call('waitpid', pid, WUNTRACED + WNOHANG).value).toBe(0);
    expect(c.call('kill', pid, SIGCONT).value).toBe(0);
    expect(ch.t.state).not.toBe('suspended');
    expect(c.call('waitpid', pid, WCONTINUED).record!.fields.status).toBe(0xffff);
    expect(ch.call('getpid').value).toBe(pid);
    // SIGTSTP stops at SIG_DFL, is pending with a handler; SIGKILL ends a stopped child.
    expect(c.call('kill', pid, SIGTSTP).value).toBe(0);
    expect(c.call('waitpid', pid, WUNTRACED).record!.fields.status).toBe(SIGTSTP * 256 + 0x7f);
    expect(c.call('kill', pid, 9).value).toBe(0);
    expect(c.call('waitpid', pid, 0).record!.fields.status).toBe(9);
  });

  it('SIGCHLD reaches a parent\'s handler on exit and on stop (not with SA_NOCLDSTOP)', () => {
    const c = bootCygwin();
    const me = c.call('getpid').value;
    c.call('sigaction', SIGCHLD, HANDLER, SA_NOCLDSTOP);
    const a = c.call('fork').value;
    c.call('kill', a, SIGSTOP);
    c.call('getpid');
    expect(entries(c)).toEqual([]);
    c.call('sigaction', SIGCHLD, HANDLER, 0);
    c.call('kill', a, SIGCONT);
    expect(entries(c)).toEqual([`${String(me)}:${String(SIGCHLD)}:kill`]);
    childOf(c, a).call('_exit', 0);
    c.call('getppid');
    expect(entries(c)).toEqual([`${String(me)}:${String(SIGCHLD)}:kill`, `${String(me)}:${String(SIGCHLD)}:getppid`]);
  });
});

describe('setpgid / getpgid (syscalls.cc)', () => {
  it('a process moves itself or a child; EPERM for others, ESRCH, EINVAL; kill(-pgid) reaches only the group', () => {
    const c = bootCygwin();
    const me = c.call('getpid').value;
    const a = c.call('fork').value;
    const b = c.call('fork').value;
    expect(c.call('getpgid', a).value).toBe(me);
    expect(c.call('setpgid', a, 0).value).toBe(0);
    expect(c.call('getpgid', a).value).toBe(a);
    expect(childOf(c, a).call('getpgrp').value).toBe(a);
    expect(c.call('setpgid', b, a).value).toBe(0);
    expect(childOf(c, a).call('setpgid', b, b).error).toBe('EPERM');
    expect(c.call('setpgid', 0, -1).error).toBe('EINVAL');
    expect(c.call('setpgid', 60000, 0).error).toBe('ESRCH');
    expect(c.call('getpgid', 60000).error).toBe('ESRCH');
    expect(c.call('getpgid', 0).value).toBe(me);
    expect(c.call('kill', -a, SIGTERM).value).toBe(0);
    expect(c.p.state).toBe('running');
    expect(childOf(c, a).p.state).not.toBe('running');
    expect(childOf(c, b).p.state).not.toBe('running');
  });
});
