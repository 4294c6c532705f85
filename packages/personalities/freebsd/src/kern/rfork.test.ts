/**
 * rfork(2)'s flags as kern_fork.c's fork1 reads them: RFNOWAIT (the child goes to the reaper,
 * init), RFFDG (a copy of the descriptor table), RFCFDG (an empty one), neither (the table
 * shared), RFMEM (one vmspace), without RFPROC (fork_norfproc: the caller itself), the EINVAL
 * combinations (RFFDG|RFCFDG, a signal number without RFTSIGZMB or past SIG_MAXSIG, RFPROCDESC
 * outside pdfork, unknown bits); and reparenting to init (proc_reparent in exit1) when a parent
 * exits before its child.
 */
import { FREEBSD_ERRNO } from '@polykernel/core';
import { Kernel, type Thread } from '@polykernel/kernel';
import { ACCESS_WRITE } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import type { FreebsdMachine, FreebsdSpace } from '../machine.js';
import { RFCFDG, RFFDG, RFMEM, RFNOWAIT, RFPROC, RFPROCDESC, RFTSIGSHIFT, RFTSIGZMB } from '../param.js';
import { freebsdPersonality } from '../personality.js';

type K = Kernel<FreebsdSpace, FreebsdMachine>;

function boot(): { k: K; t: Thread } {
  const k = new Kernel(freebsdPersonality(), { frames: 4096, seed: 5, contents: true });
  return { k, t: k.createProcess(k.init, 'sh').threads[0]! };
}
const childThread = (k: K, pid: number): Thread => k.processes.get(pid)!.threads[0]!;
const openNull = (k: K, t: Thread): number => k.syscall(t, 'open', ['/dev/null', 1 /* O_WRONLY */, 0]).value;

describe('rfork flags (fork1)', () => {
  it('RFNOWAIT: the child\'s parent is init; the caller has no child to wait for; init reaps it', () => {
    const { k, t } = boot();
    const pid = k.syscall(t, 'rfork', [RFPROC | RFFDG | RFNOWAIT]).value;
    expect(pid).toBeGreaterThan(0);
    const ct = childThread(k, pid);
    expect(k.syscall(ct, 'getppid').value).toBe(1);
    expect(k.syscall(t, 'wait4', [-1, 0, 1 /* WNOHANG */, 0]).errorNumber).toBe(FREEBSD_ERRNO.ECHILD);
    k.syscall(ct, 'exit', [0]);
    expect(k.processes.get(pid)?.state ?? 'gone').not.toBe('zombie');
  });

  it('RFFDG copies the table, RFCFDG starts an empty one, neither shares it', () => {
    const { k, t } = boot();
    const fd = openNull(k, t);
    expect(fd).toBeGreaterThanOrEqual(0);
    const copy = childThread(k, k.syscall(t, 'rfork', [RFPROC | RFFDG]).value);
    expect(k.syscall(copy, 'close', [fd]).value).toBe(0);
    expect(k.syscall(t, 'write', [fd, 0, 0]).value).toBe(0); // the caller's descriptor is still open
    const empty = childThread(k, k.syscall(t, 'rfork', [RFPROC | RFCFDG]).value);
    expect(k.syscall(empty, 'write', [fd, 0, 0]).errorNumber).toBe(FREEBSD_ERRNO.EBADF);
    const shared = childThread(k, k.syscall(t, 'rfork', [RFPROC]).value);
    expect(k.syscall(shared, 'close', [fd]).value).toBe(0);
    expect(k.syscall(t, 'write', [fd, 0, 0]).errorNumber).toBe(FREEBSD_ERRNO.EBADF); // closed for both
  });

  it('RFMEM: one vmspace — the child\'s mapping is the caller\'s', () => {
    const { k, t } = boot();
    const pid = k.syscall(t, 'rfork', [RFPROC | RFFDG | RFMEM]).value;
    const ct = childThread(k, pid);
    expect(ct.process.space).toBe(t.process.space);
    const va = k.syscall(ct, 'mmap', [0, 4096, 3, 0x1002, -1, 0]).value;
    k.access(ct, va, ACCESS_WRITE);
    expect([...k.processes.get(t.process.pid)!.space.map.entries()].some((e) => e.start === va)).toBe(true);
  });

  it('without RFPROC: fork_norfproc acts on the caller (RFCFDG empties its own table) and returns 0', () => {
    const { k, t } = boot();
    const fd = openNull(k, t);
    expect(k.syscall(t, 'rfork', [RFCFDG]).value).toBe(0);
    expect(k.syscall(t, 'write', [fd, 0, 0]).errorNumber).toBe(FREEBSD_ERRNO.EBADF);
    expect(k.processes.size).toBe(2); // init and the caller: no child
  });

  it('EINVAL: RFFDG|RFCFDG; a signal number without RFTSIGZMB or past SIG_MAXSIG; RFPROCDESC; unknown bits', () => {
    const { k, t } = boot();
    const sig = (n: number): number => n * 2 ** RFTSIGSHIFT;
    for (const flags of [RFPROC | RFFDG | RFCFDG, RFPROC | sig(15), RFPROC | RFTSIGZMB | sig(200), RFPROC | RFPROCDESC, RFPROC | 0x200]) {
      expect(k.syscall(t, 'rfork', [flags]).errorNumber, `flags 0x${flags.toString(16)}`).toBe(FREEBSD_ERRNO.EINVAL);
    }
    expect(k.syscall(t, 'rfork', [RFPROC | RFFDG | RFTSIGZMB | sig(30)]).value).toBeGreaterThan(0);
    expect(k.processes.size).toBe(3);
  });
});

describe('reparenting (exit1 → proc_reparent to the reaper)', () => {
  it('a child whose parent exits first is init\'s: getppid 1, and its exit leaves no zombie', () => {
    const { k, t } = boot();
    const pid = k.syscall(t, 'fork').value;
    const ct = childThread(k, pid);
    k.syscall(t, 'exit', [0]);
    expect(k.syscall(ct, 'getppid').value).toBe(1);
    expect(k.processes.get(pid)!.parent).toBe(k.init);
    k.syscall(ct, 'exit', [3]);
    expect(k.processes.get(pid)?.state ?? 'gone').not.toBe('zombie');
  });
});
