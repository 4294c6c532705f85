import { Kernel, type Process, type Thread } from '@polykernel/kernel';
import { ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CLONE, describeWaitStatus, linuxFlags as F, linuxPersonality, oomBadness, oomScore, procStatus, RESTART_SYSCALL, TASK, type LinuxOptions, type LinuxSpace } from './index.js';

const RW = F.PROT_READ | F.PROT_WRITE;
const ANON = F.MAP_PRIVATE | F.MAP_ANONYMOUS;

function setup(frames = 4096, opts: LinuxOptions = {}): { k: Kernel<LinuxSpace>; lp: ReturnType<typeof linuxPersonality>; shell: Process<LinuxSpace>; free0: number } {
  const lp = linuxPersonality(opts);
  const k = new Kernel(lp, { frames, contents: true });
  const free0 = k.mmu.frames.freeFrames;
  return { k, lp, shell: k.createProcess(k.init, 'sh'), free0 };
}

const t0 = (p: Process<LinuxSpace>): Thread => p.threads[0]!;

function poke(k: Kernel<LinuxSpace>, p: Process<LinuxSpace>, va: number, value: number): void {
  const pa = k.access(t0(p), va, ACCESS_WRITE);
  k.mmu.frames.write(pa, Uint8Array.of(value));
}

function peek(k: Kernel<LinuxSpace>, p: Process<LinuxSpace>, va: number): number {
  return k.mmu.frames.read(k.access(t0(p), va, ACCESS_READ), 1)[0]!;
}

describe('fork: copy-on-write address spaces', () => {
  it("the lecture's fork example: the child sets SomeValue = 200, the parent still reads 100", () => {
    const { k, shell } = setup();
    const data = k.syscall(t0(shell), 'mmap', [0, 4096, RW, ANON, -1, 0]).value;
    poke(k, shell, data, 100);
    const pid = k.syscall(t0(shell), 'fork').value;
    const child = k.processes.get(pid)!;
    expect(child.ppid).toBe(shell.pid);
    expect(peek(k, child, data)).toBe(100);
    const cow0 = k.metrics.faults.cow;
    poke(k, child, data, 200);
    expect(k.metrics.faults.cow).toBe(cow0 + 1); // the child's write copied the page
    expect(peek(k, shell, data)).toBe(100);
    expect(peek(k, child, data)).toBe(200);
    const reuse0 = k.metrics.faults.cowReuse;
    poke(k, shell, data, 101); // the parent's page has one user again: reused, not copied
    expect(k.metrics.faults.cowReuse).toBe(reuse0 + 1);
    expect(peek(k, child, data)).toBe(200);
  });

  it('fork copies areas and anonymous PTEs (write-protected in both), counts them, and exit returns every frame', () => {
    const { k, shell } = setup();
    const free0 = k.mmu.frames.freeFrames;
    const a = k.syscall(t0(shell), 'mmap', [0, 16 * 4096, RW, ANON, -1, 0]).value;
    for (let i = 0; i < 16; i++) poke(k, shell, a + i * 4096, i);
    const forks: { vmas: number; ptes: number; tables: number; cycles: number }[] = [];
    k.bus.subscribe('fork', (e) => forks.push(e));
    const pid = k.syscall(t0(shell), 'fork').value;
    const child = k.processes.get(pid)!;
    expect(forks[0]).toMatchObject({ vmas: 1, ptes: 16, tables: 3 });
    expect(forks[0]!.cycles).toBeGreaterThan(16 * 350);
    expect(shell.space.pt.lookup(a)!.flags & 2).toBe(0);
    expect(child.space.pt.lookup(a)!.flags & 2).toBe(0);
    expect(child.space.rss.anon).toBe(16);
    expect(k.mmu.frames.refcount[shell.space.pt.lookup(a)!.frame]).toBe(2);
    k.syscall(t0(child), 'exit_group', [0]);
    expect(k.syscall(t0(shell), 'wait4', [-1, 0, 0, 0]).value).toBe(pid);
    k.syscall(t0(shell), 'munmap', [a, 16 * 4096]);
    expect(k.mmu.frames.freeFrames).toBe(free0);
  });

  it('shared anonymous memory stays shared across fork and outlives the parent unmapping it', () => {
    const { k, shell } = setup();
    const shm = k.syscall(t0(shell), 'mmap', [0, 4096, RW, F.MAP_SHARED | F.MAP_ANONYMOUS, -1, 0]).value;
    poke(k, shell, shm, 7);
    const child = k.processes.get(k.syscall(t0(shell), 'fork').value)!;
    poke(k, child, shm, 8);
    expect(peek(k, shell, shm)).toBe(8);
    k.syscall(t0(shell), 'munmap', [shm, 4096]);
    expect(peek(k, child, shm)).toBe(8);
  });
});

describe('vfork, exit and wait4', () => {
  it('vfork: the parent sleeps, the child borrows its memory, and exit wakes the parent', () => {
    const { k, lp, shell } = setup();
    const a = k.syscall(t0(shell), 'mmap', [0, 4096, RW, ANON, -1, 0]).value;
    const pid = k.syscall(t0(shell), 'vfork').value;
    const child = k.processes.get(pid)!;
    expect(child.space).toBe(shell.space);
    expect(t0(shell).state).toBe('blocked');
    expect(lp.task(t0(shell)).state).toBe(TASK.UNINTERRUPTIBLE);
    poke(k, child, a, 42);
    k.syscall(t0(child), 'exit', [0]);
    expect(t0(shell).state).toBe('runnable');
    expect(k.resume(t0(shell)).value).toBe(pid); // vfork returns once the child has released the mm
    expect(peek(k, shell, a)).toBe(42); // same memory, and the parent's mm survived the child's exit
  });

  it("the lecture's wait example: the child aborts, the parent sees WIFSIGNALED with SIGABRT", () => {
    const { k, shell } = setup();
    const buf = k.syscall(t0(shell), 'mmap', [0, 4096, RW, ANON, -1, 0]).value;
    const pid = k.syscall(t0(shell), 'fork').value;
    const child = k.processes.get(pid)!;
    // Nothing to reap yet: wait4 puts the parent to sleep in the call (its value meanwhile: -ERESTARTSYS).
    expect(k.syscall(t0(shell), 'wait4', [pid, buf, 0, 0])).toMatchObject({ value: RESTART_SYSCALL, blocked: true });
    expect(t0(shell).state).toBe('blocked');
    expect(() => k.syscall(t0(shell), 'getpid')).toThrow(/sleeping in wait4/);
    expect(k.syscall(t0(child), 'kill', [child.pid, 6]).value).toBe(0); // abort(): raise(SIGABRT)
    expect(t0(shell).state).toBe('runnable');
    expect(k.resume(t0(shell)).value).toBe(pid); // do_wait looks again and reaps
    const status = peek(k, shell, buf);
    expect(status).toBe(6);
    expect(describeWaitStatus(status)).toBe('WIFSIGNALED WTERMSIG=SIGABRT');
    expect(k.syscall(t0(shell), 'wait4', [-1, 0, 0, 0]).error).toBe('ECHILD');
  });

  it('exit codes are encoded code << 8; WNOHANG returns 0; bad options are EINVAL', () => {
    const { k, shell } = setup();
    const pid = k.syscall(t0(shell), 'fork').value;
    expect(k.syscall(t0(shell), 'wait4', [-1, 0, 1, 0]).value).toBe(0);
    expect(k.syscall(t0(shell), 'wait4', [-1, 0, 0x100, 0]).error).toBe('EINVAL');
    k.syscall(t0(k.processes.get(pid)!), 'exit_group', [3]);
    expect(k.syscall(t0(shell), 'wait4', [-1, 0, 0, 0]).value).toBe(pid);
    expect(describeWaitStatus(0x300)).toBe('WIFEXITED WEXITSTATUS=3');
    // The parent was sent SIGCHLD (CLD_EXITED) when the child exited.
    const signals: string[] = [];
    k.bus.subscribe('signal', (e) => signals.push(`${e.pid}:${e.signal}:${e.code}`));
    const pid2 = k.syscall(t0(shell), 'fork').value;
    k.syscall(t0(k.processes.get(pid2)!), 'exit_group', [0]);
    expect(signals).toEqual([`${shell.pid}:SIGCHLD:CLD_EXITED`]);
  });

  it('orphans go to init, which reaps them when they exit', () => {
    const { k, shell } = setup();
    const mid = k.processes.get(k.syscall(t0(shell), 'fork').value)!;
    const leaf = k.processes.get(k.syscall(t0(mid), 'fork').value)!;
    k.syscall(t0(mid), 'exit_group', [0]);
    expect(leaf.ppid).toBe(1);
    k.syscall(t0(leaf), 'exit_group', [0]);
    expect(leaf.state).toBe('dead');
    expect(k.processes.has(leaf.pid)).toBe(false);
  });

  it('SIGSTOP stops a child (WUNTRACED reports it), SIGCONT resumes it; signals to init are dropped', () => {
    const { k, shell } = setup();
    const pid = k.syscall(t0(shell), 'fork').value;
    expect(k.syscall(t0(shell), 'kill', [pid, 19]).value).toBe(0);
    // TASK_STOPPED: the core's suspended state — the stopped task cannot run, so it cannot touch memory.
    const stopped = t0(k.processes.get(pid)!);
    expect(stopped.state).toBe('suspended');
    expect(() => k.access(stopped, 0x400000, 1)).toThrow(/suspended/);
    // A second stop does not deepen the suspension: one SIGCONT resumes it.
    k.syscall(t0(shell), 'kill', [pid, 20]);
    expect(stopped.suspendCount).toBe(1);
    expect(k.syscall(t0(shell), 'wait4', [pid, 0, 2, 0]).value).toBe(pid);
    expect(describeWaitStatus((19 << 8) | 0x7f)).toBe('WIFSTOPPED WSTOPSIG=SIGSTOP');
    k.syscall(t0(shell), 'kill', [pid, 18]);
    expect(t0(k.processes.get(pid)!).state).toBe('runnable');
    expect(k.syscall(t0(shell), 'kill', [1, 9]).value).toBe(0);
    expect(k.init.state).toBe('running');
    expect(k.syscall(t0(shell), 'kill', [99999, 9]).error).toBe('ESRCH');
    expect(k.syscall(t0(shell), 'kill', [pid, 65]).error).toBe('EINVAL');
    const user = k.createProcess(k.init, 'user', { uid: 1000, gid: 1000, euid: 1000, egid: 1000 });
    expect(k.syscall(t0(user), 'kill', [pid, 15]).error).toBe('EPERM');
  });
});

describe('clone flags', () => {
  it('copy_process refuses the combinations the kernel refuses', () => {
    const { k, shell } = setup();
    const clone = (flags: number, p = shell): string | null => k.syscall(t0(p), 'clone', [flags, 0, 0, 0, 0]).error;
    expect(clone(CLONE.NEWNS | CLONE.FS)).toBe('EINVAL');
    expect(clone(CLONE.NEWUSER | CLONE.FS)).toBe('EINVAL');
    expect(clone(CLONE.THREAD | CLONE.VM)).toBe('EINVAL');
    expect(clone(CLONE.SIGHAND)).toBe('EINVAL');
    expect(clone(CLONE.PARENT, k.init)).toBe('EINVAL');
    expect(clone(CLONE.PIDFD | CLONE.DETACHED)).toBe('EINVAL');
    const user = k.createProcess(k.init, 'user', { uid: 1000, gid: 1000, euid: 1000, egid: 1000 });
    expect(clone(CLONE.NEWNET, user)).toBe('EPERM');
  });

  it('CLONE_FILES shares the descriptor table; without it the child has a copy', () => {
    const { k, shell } = setup();
    const shared = k.processes.get(k.syscall(t0(shell), 'clone', [CLONE.FILES | 17, 0, 0, 0, 0]).value)!;
    const copied = k.processes.get(k.syscall(t0(shell), 'fork').value)!;
    const fd = k.syscall(t0(shell), 'openat', [-100, '/dev/zero', 0, 0]).value;
    expect(shared.file(fd)?.path).toBe('/dev/zero');
    expect(copied.file(fd)).toBeNull();
    expect(k.syscall(t0(shared), 'close', [fd]).value).toBe(0);
    expect(shell.file(fd)).toBeNull();
  });

  it('a thread (pthread_create flags) joins the process; CLONE_PARENT makes a sibling', () => {
    const { k, shell } = setup();
    const flags = CLONE.VM | CLONE.FS | CLONE.FILES | CLONE.SIGHAND | CLONE.THREAD | CLONE.SYSVSEM;
    const tid = k.syscall(t0(shell), 'clone', [flags, 0, 0, 0, 0]).value;
    expect(shell.threads.map((t) => t.tid)).toEqual([shell.pid, tid]);
    const sib = k.syscall(t0(shell), 'clone', [CLONE.PARENT | 17, 0, 0, 0, 0]).value;
    expect(k.processes.get(sib)!.ppid).toBe(shell.ppid);
    // exit(2) from one thread leaves the process running and gives its TID back; the last one's ends it.
    const inUse = k.ids.inUse;
    k.syscall(shell.threads[1]!, 'exit', [0]);
    expect(shell.state).toBe('running');
    expect(shell.threads.map((t) => t.tid)).toEqual([shell.pid]);
    expect(k.ids.inUse).toBe(inUse - 1);
    // A group ended by exit_group frees every thread's TID when it is reaped.
    k.syscall(t0(shell), 'clone', [flags, 0, 0, 0, 0]);
    const before = k.ids.inUse;
    k.syscall(t0(shell), 'exit_group', [0]);
    expect(k.ids.inUse).toBe(before - 2);
  });
});

describe('the OOM killer', () => {
  it('kills the process with the most oom_badness points, skips oom_score_adj -1000, and logs the report', () => {
    // The shell maps more than RAM (2048 pages on 1024 frames): overcommit mode 0 refuses only a
    // request above totalram + swap, so the machine's overcommit sees 8 GiB of RAM here.
    const { k, lp, shell } = setup(1024, { overcommit: { totalRamPages: 2 * 1024 * 1024 } });
    // Three processes with 100, 400 and 300 resident pages; the 400-page one is protected.
    const sizes = [100, 400, 300];
    const procs = sizes.map((n, i) => {
      const p = k.processes.get(k.syscall(t0(shell), 'fork').value)!;
      p.comm = `hog${i}`;
      const a = k.syscall(t0(p), 'mmap', [0, n * 4096, RW, ANON, -1, 0]).value;
      for (let j = 0; j < n; j++) k.access(t0(p), a + j * 4096, ACCESS_WRITE);
      return p;
    });
    lp.task(t0(procs[1]!)).oomScoreAdj = -1000;
    const total = 1024;
    // Badness by hand: rss + page-table pages (3 each: PUD, PMD, PTE) + adj * (total / 1000).
    expect(lp.oomScore(k, procs[0]!)).toEqual({ badness: 103, score: oomScore(103, total) });
    expect(oomScore(103, total)).toBe(Math.trunc(((1000 + Math.trunc(103_000 / 1024)) * 2) / 3));
    expect(lp.oomScore(k, procs[1]!).score).toBe(0);
    // Exhaust memory from the shell (it can reach about 200 pages): the 300-page process is the victim.
    const big = k.syscall(t0(shell), 'mmap', [0, 2048 * 4096, RW, ANON, -1, 0]).value;
    let i = 0;
    while (procs[2]!.state === 'running' && i < 2048) k.access(t0(shell), big + 4096 * i++, ACCESS_WRITE);
    expect(procs[2]!.killedBy).toBe('SIGKILL');
    expect(procs[0]!.state).toBe('running');
    expect(procs[1]!.state).toBe('running');
    const log = lp.dmesg(k).join('\n');
    expect(log).toContain('sh invoked oom-killer');
    expect(log).toContain(`Out of memory: Killed process ${procs[2]!.pid} (hog2) total-vm:1200kB, anon-rss:1200kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:12kB oom_score_adj:0`);
  });

  it('oom_score_adj can make a small process the victim; equal points choose the one found later', () => {
    const { k, lp, shell } = setup(4000);
    const mk = (pages: number, adj: number): Process<LinuxSpace> => {
      const p = k.processes.get(k.syscall(t0(shell), 'fork').value)!;
      const a = k.syscall(t0(p), 'mmap', [0, pages * 4096, RW, ANON, -1, 0]).value;
      for (let j = 0; j < pages; j++) k.access(t0(p), a + j * 4096, ACCESS_WRITE);
      lp.task(t0(p)).oomScoreAdj = adj;
      return p;
    };
    // totalpages 4000: adj 500 adds 500 * 4 = 2000 points; 50 pages + 3 table pages (PUD, PMD, PTE)
    // + 2000 beats 1500 pages + 5 table pages (PUD, PMD and the 3 PTE tables 1500 pages span here).
    const small = mk(50, 500);
    const big = mk(1500, 0);
    expect(lp.oomScore(k, small).badness).toBe(2053);
    expect(lp.oomScore(k, big).badness).toBe(1505);
    expect(lp.outOfMemory(k, null)).toBe(small.pid);
    expect(small.killedBy).toBe('SIGKILL');
    // Two processes with the same points: the later one in the task list is chosen.
    const twin = mk(1500, 0);
    lp.task(t0(shell)).oomScoreAdj = -1000;
    expect(lp.outOfMemory(k, null)).toBe(twin.pid);
    expect(big.state).toBe('running');
  });

  it('oom_badness follows the formula (adj scaled by totalpages / 1000, integer division first)', () => {
    const base = { rssPages: 500, swapEntries: 10, pgtablesBytes: 5 * 4096, oomScoreAdj: 0, unkillable: false, inVfork: false };
    expect(oomBadness(base, 1_000_000)).toBe(515);
    expect(oomBadness({ ...base, oomScoreAdj: 500 }, 1_999)).toBe(515 + 500);
    expect(oomBadness({ ...base, oomScoreAdj: -1000 }, 1_000_000)).toBe(Number.NEGATIVE_INFINITY);
    expect(oomBadness({ ...base, unkillable: true }, 1_000_000)).toBe(Number.NEGATIVE_INFINITY);
    expect(oomBadness({ ...base, inVfork: true }, 1_000_000)).toBe(Number.NEGATIVE_INFINITY);
  });
});

describe('invariant: fork, write, exit in any order returns every frame', () => {
  it('holds for random sequences', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 7 }), fc.integer({ min: 0, max: 15 })), { minLength: 20, maxLength: 60 }), (ops) => {
      const { k, shell, free0 } = setup(2048);
      const a = k.syscall(t0(shell), 'mmap', [0, 16 * 4096, RW, ANON, -1, 0]).value;
      const live: Process<LinuxSpace>[] = [shell];
      // What each live process must read back: its own last write, or what it inherited at fork.
      const mem = new Map<Process<LinuxSpace>, Map<number, number>>([[shell, new Map()]]);
      let n = 0;
      for (const [op, who, page] of ops) {
        const p = live[who % live.length]!;
        if (op === 0) {
          const child = k.processes.get(k.syscall(t0(p), 'fork').value)!;
          live.push(child);
          mem.set(child, new Map(mem.get(p)));
        } else if (op === 1) {
          // One of four bytes of the page, so a copy-on-write copy must carry the other three.
          const value = 1 + (n % 250);
          const at = page * 4096 + (n++ % 4);
          poke(k, p, a + at, value);
          mem.get(p)!.set(at, value);
        } else if (op === 2 && p !== shell) {
          k.syscall(t0(p), 'exit_group', [0]);
          live.splice(live.indexOf(p), 1);
        } else {
          for (let b = 0; b < 4; b++) if (peek(k, p, a + page * 4096 + b) !== (mem.get(p)!.get(page * 4096 + b) ?? 0)) return false;
        }
      }
      for (const p of live) if (p !== shell) k.syscall(t0(p), 'exit_group', [0]);
      while (k.syscall(t0(shell), 'wait4', [-1, 0, 1, 0]).value > 0) { /* reap */ }
      k.syscall(t0(shell), 'exit_group', [0]);
      return k.mmu.frames.freeFrames === free0 && k.processes.size === 1;
    }), { seed: 0x22_0302, numRuns: 60 });
  });
});

describe('signal actions (rt_sigaction), fs_struct and sighand sharing', () => {
  it('SIG_IGN drops a signal, a handler catches it (counted), SIGKILL cannot be caught; exec resets handlers, keeps ignores', () => {
    const { k, lp, shell } = setup();
    const kid = k.processes.get(k.syscall(t0(shell), 'fork').value)!;
    const kt = t0(kid);
    expect(k.syscall(kt, 'rt_sigaction', [15, 1, 0, 8]).value).toBe(0); // SIGTERM: SIG_IGN
    expect(k.syscall(kt, 'rt_sigaction', [10, 0x401000, 0, 8]).value).toBe(0); // SIGUSR1: a handler
    expect(k.syscall(kt, 'rt_sigaction', [9, 1, 0, 8]).error).toBe('EINVAL');
    expect(k.syscall(kt, 'rt_sigaction', [19, 1, 0, 8]).error).toBe('EINVAL');
    expect(k.syscall(kt, 'rt_sigaction', [10, 1, 0, 4]).error).toBe('EINVAL');
    k.syscall(t0(shell), 'kill', [kid.pid, 15]);
    k.syscall(t0(shell), 'kill', [kid.pid, 10]);
    expect(kid.state).toBe('running');
    expect(lp.task(kt).signalsHandled).toBe(1);
    const status = procStatus(kid, 'R (running)', lp.task(kt));
    expect(status).toContain('SigIgn:\t0000000000004000');
    expect(status).toContain('SigCgt:\t0000000000000200');
    k.syscall(t0(shell), 'kill', [kid.pid, 9]);
    expect(kid.killedBy).toBe('SIGKILL');
  });

  it('a parent ignoring SIGCHLD leaves no zombies: its wait4 ends in ECHILD once the children are gone', () => {
    const { k, lp, shell } = setup();
    k.syscall(t0(shell), 'rt_sigaction', [17, 1, 0, 8]);
    const kid = k.processes.get(k.syscall(t0(shell), 'fork').value)!;
    expect(k.syscall(t0(shell), 'wait4', [-1, 0, 0, 0]).value).toBe(RESTART_SYSCALL);
    k.syscall(t0(kid), 'exit_group', [0]);
    expect(kid.state).toBe('dead'); // reaped at once
    expect(lp.task(t0(kid)).exitState).toBe(TASK.EXIT_DEAD);
    expect(t0(shell).state).toBe('runnable');
    expect(k.resume(t0(shell)).error).toBe('ECHILD');
  });

  it('CLONE_SIGHAND and CLONE_FS share the tables; fork copies them', () => {
    const { k, lp, shell } = setup();
    const flags = CLONE.VM | CLONE.SIGHAND | CLONE.FS | 17;
    const sharer = k.processes.get(k.syscall(t0(shell), 'clone', [flags, 0, 0, 0, 0]).value)!;
    const copy = k.processes.get(k.syscall(t0(shell), 'fork').value)!;
    k.syscall(t0(shell), 'rt_sigaction', [1, 1, 0, 8]);
    lp.task(t0(shell)).fs.umask = 0o077;
    expect(lp.task(t0(sharer)).sighand.action.get(1)).toBe(1);
    expect(lp.task(t0(sharer)).fs.umask).toBe(0o077);
    expect(lp.task(t0(copy)).sighand.action.get(1)).toBeUndefined();
    expect(lp.task(t0(copy)).fs.umask).toBe(0o022);
  });
});
