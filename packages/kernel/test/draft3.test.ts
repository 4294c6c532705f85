/** The draft-3 core mechanisms, each driven by a POSIX-like and a Windows-like toy personality. */
import { describe, expect, it } from 'vitest';
import { ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';
import { HandleTableIds, linuxIds, NextFreeIds } from '../src/ids.js';
import { Kernel } from '../src/kernel.js';
import { CURRENT_PROCESS, PAGE, toyMap, toyPosix, toyWin } from './toys.js';

const posix = (opts: { initReaps?: boolean } = {}) => new Kernel(toyPosix(), { frames: 4096, contents: true, ...opts });
const win = () => new Kernel(toyWin(), { frames: 4096, contents: true });

describe('ids and the boot process are the personality\'s', () => {
  it('FreeBSD-like: init is PID 1, PIDs count up, TIDs come from a range above 100000', () => {
    const k = posix();
    const a = k.createProcess(k.init, 'a');
    const t2 = k.createThread(a);
    expect([k.init.pid, k.init.comm, a.pid, a.threads[0]!.tid, t2.tid]).toEqual([1, 'init', 2, 100_002, 100_003]);
  });

  it('Windows-like: System is PID 4; processes and threads share one table of multiples of 4', () => {
    const k = win();
    const a = k.createProcess(k.init, 'a.exe');
    expect([k.init.pid, k.init.comm, k.init.threads[0]!.tid, a.pid, a.threads[0]!.tid]).toEqual([4, 'System', 8, 12, 16]);
  });

  it('Linux-like numbering: the first TID is the PID, later TIDs come from the PID space', () => {
    const ids = linuxIds(400);
    const pid = ids.allocProcessId();
    expect([pid, ids.allocThreadId(pid, true), ids.allocThreadId(pid, false)]).toEqual([1, 1, 2]);
  });

  it('fork_findpid wraps to 2 at pid_max and takes the first free number at or above', () => {
    const ids = new NextFreeIds({ first: 1, max: 6, wrapTo: 2 });
    expect([1, 2, 3, 4, 5].map(() => ids.alloc())).toEqual([1, 2, 3, 4, 5]);
    ids.free(3);
    expect(ids.alloc()).toBe(3); // wrapped to 2, 2 is taken, 3 is free
    expect(ids.alloc()).toBe(-1);
  });

  it('a freed handle-table value is reused only after the first-free list runs dry', () => {
    const t = new HandleTableIds(4);
    const [a, b] = [t.alloc(), t.alloc()];
    t.free(a);
    expect(t.alloc()).toBe(a); // first-free list empty: the last-free list becomes it
    t.free(b);
    expect(t.alloc()).toBe(b);
    expect([a, b]).toEqual([4, 8]);
  });

  it('POSIX orphans go to init, which reaps them', () => {
    const k = posix();
    const a = k.createProcess(k.init, 'a');
    const b = k.createProcess(a, 'b');
    k.exitProcess(a, 0);
    expect(b.parent).toBe(k.init);
    k.exitProcess(b, 1);
    expect([a.state, b.state, k.processes.size]).toEqual(['dead', 'dead', 1]);
  });

  it('Windows-like: no re-parenting; an exited process lives while a handle is open, and its ID is not reused', () => {
    const k = win();
    const t = k.createProcess(k.init, 'parent.exe').threads[0]!;
    const parent = t.process;
    expect(k.syscall(t, 'CreateProcessW', ['child.exe', 0]).value).toBe(1);
    const child = k.processes.get(parent.children[0]!.pid)!;
    k.exitProcess(child, 3);
    expect([child.state, k.processes.has(child.pid)]).toEqual(['zombie', true]); // hProcess is still open
    const other = k.createProcess(k.init, 'other.exe');
    expect(other.pid).not.toBe(child.pid);
    expect(k.syscall(t, 'CloseHandle', [child.pid]).value).toBe(1);
    expect([child.state, k.processes.has(child.pid)]).toEqual(['dead', false]);
    // A child that outlives its creator keeps the creator's PID as its parent ID.
    const p2 = k.createProcess(k.init, 'p2.exe');
    const c2 = k.createProcess(p2, 'c2.exe');
    k.exitProcess(p2, 0);
    expect([c2.ppid, c2.parent === k.init]).toEqual([p2.pid, false]);
  });
});

describe('per-kernel state', () => {
  it('attach makes one state per kernel, even from one personality object', () => {
    const personality = toyPosix();
    const [k1, k2] = [new Kernel(personality, { frames: 1024 }), new Kernel(personality, { frames: 1024 })];
    const t = k1.createProcess(k1.init, 'p').threads[0]!;
    toyMap(k1, t, PAGE);
    expect([k1.state.mapped, k2.state.mapped]).toEqual([1, 0]);
    expect(k1.state).not.toBe(k2.state);
  });

  it('replaceSpace with the live space leaves it alone', () => {
    const k = posix();
    const p = k.createProcess(k.init, 'p');
    const t = p.threads[0]!;
    const va = toyMap(k, t, PAGE);
    k.copyToUser(t, va, new Uint8Array([42]));
    k.replaceSpace(p, p.space);
    expect([...k.copyFromUser(t, va, 1)]).toEqual([42]);
    expect(k.spaceUsersOf(p.space)).toBe(1);
  });
});

describe('layered calls', () => {
  it('a library call over a library call over a trap counts one trap and reports each level', () => {
    const k = win();
    const t = k.createProcess(k.init, 'a.exe').threads[0]!;
    const seen: string[] = [];
    k.bus.subscribe('syscall:entry', (e) => seen.push(`${e.depth}:${e.kind}:${e.name}`));
    const before = { syscalls: k.metrics.syscalls, traps: k.metrics.traps.syscall };
    const r = k.syscall(t, 'VirtualAlloc', [0, 3 * PAGE, 0x3000, 0x04]);
    expect(r.error).toBeNull();
    expect(r.value).toBeGreaterThan(0);
    expect(seen).toEqual(['0:library:VirtualAlloc', '1:library:VirtualAllocEx', '2:trap:NtAllocateVirtualMemory']);
    expect([k.metrics.syscalls - before.syscalls, k.metrics.traps.syscall - before.traps]).toEqual([1, 1]);
  });

  it('each level fails in its own error space; LastError survives later successes', () => {
    const k = win();
    const t = k.createProcess(k.init, 'a.exe').threads[0]!;
    const fail = k.syscall(t, 'VirtualAlloc', [0, 4 * 1024 ** 3, 0x3000, 0x04]);
    expect(fail).toEqual({ value: 0, error: 'ERROR_NOT_ENOUGH_MEMORY', errorNumber: 8 });
    expect(t.errors.ntstatus).toEqual({ name: 'STATUS_NO_MEMORY', number: 0xc0000017 });
    const nt = k.syscall(t, 'NtAllocateVirtualMemory', [CURRENT_PROCESS, 0, 0, 0x3000, 0x04]);
    expect(nt).toEqual({ value: 0xc000000d, error: 'STATUS_INVALID_PARAMETER', errorNumber: 0xc000000d });
    const ok = k.syscall(t, 'VirtualAlloc', [0, PAGE, 0x3000, 0x04]);
    expect(ok.error).toBeNull();
    expect(t.errors.win32).toEqual({ name: 'ERROR_NOT_ENOUGH_MEMORY', number: 8 }); // GetLastError is unchanged by a success
  });

  it('calls return structured records beside their value', () => {
    const k = win();
    const t = k.createProcess(k.init, 'a.exe').threads[0]!;
    const r = k.syscall(t, 'CreateProcessW', ['b.exe', 0]);
    expect(r.record?.type).toBe('PROCESS_INFORMATION');
    const child = t.process.children[0]!;
    expect(r.record?.fields).toEqual({ hProcess: child.pid, hThread: child.threads[0]!.tid, dwProcessId: child.pid, dwThreadId: child.threads[0]!.tid });
  });
});

describe('signals and exceptions are delivered', () => {
  it('a SIGSEGV handler that fixes the protection makes the access retry and succeed', () => {
    const k = posix();
    const p = k.createProcess(k.init, 'p');
    const t = p.threads[0]!;
    const va = k.syscall(t, 'mmap', [0, PAGE, 1]).value; // read-only
    k.syscall(t, 'sigaction', [11, 1]);
    const actions: string[] = [];
    k.bus.subscribe('signal', (e) => actions.push(`${e.signal}:${e.action}`));
    expect(k.access(t, va, ACCESS_WRITE)).toBeGreaterThan(0);
    expect([p.state, p.space.delivered, actions]).toEqual(['running', 1, ['SIGSEGV:retry']]);
  });

  it('a handler that jumps past the access leaves the process alive; one that does not fix the fault ends in the default action', () => {
    const k = posix();
    const p = k.createProcess(k.init, 'p');
    const t = p.threads[0]!;
    k.syscall(t, 'sigaction', [11, 2]);
    expect(k.access(t, 0x5000, ACCESS_READ)).toBe(-1);
    expect(p.state).toBe('running');
    k.syscall(t, 'sigaction', [11, 1]); // "fix" cannot fix an unmapped address
    expect(k.access(t, 0x5000, ACCESS_READ)).toBe(-1);
    expect([p.state, p.killedBy, p.space.delivered]).toEqual(['dead', 'SIGSEGV', 2]);
  });

  it('a guard page raises its exception once; a handler that continues gets the page', () => {
    for (const handled of [false, true]) {
      const k = win();
      const p = k.createProcess(k.init, 'a.exe');
      p.handles++; // keep the object to look at after a crash
      const t = p.threads[0]!;
      if (handled) k.syscall(t, 'AddVectoredExceptionHandler', [1, 1]);
      const va = k.syscall(t, 'VirtualAlloc', [0, PAGE, 0x3000, 0x104]).value; // PAGE_READWRITE | PAGE_GUARD
      const pa = k.access(t, va, ACCESS_WRITE);
      expect(k.metrics.faults.guard).toBe(1);
      if (handled) {
        expect(pa).toBeGreaterThan(0);
        expect(p.state).toBe('running');
        expect(k.access(t, va + 8, ACCESS_READ)).toBe(pa + 8); // no second exception
      } else {
        expect([pa, p.state, p.killedBy, p.exitStatus]).toEqual([-1, 'zombie', 'STATUS_GUARD_PAGE_VIOLATION', 0x80000001]);
      }
    }
  });
});

describe('sleeping without restarting', () => {
  it('wait sleeps with a continuation; the child\'s exit wakes it; resume finishes the call', () => {
    const k = posix();
    const parent = k.createProcess(k.init, 'parent');
    const child = k.createProcess(parent, 'child');
    const t = parent.threads[0]!;
    const returns: string[] = [];
    const callCycles: number[] = [];
    k.bus.subscribe('syscall:return', (e) => {
      if (e.name !== 'wait4') return;
      returns.push(`${e.name}:${e.value}:${e.blocked}`);
      callCycles.push(e.cycles);
    });
    const entry = k.mmu.profile.costs.trapEntry;
    const exit = k.mmu.profile.costs.trapExit;
    const c0 = k.metrics.cycles;
    expect(k.syscall(t, 'wait4', [-1])).toEqual({ value: 0, error: null, errorNumber: 0, blocked: true });
    expect(t.state).toBe('blocked');
    expect(() => k.resume(t)).toThrow(/wake it/);
    expect(() => k.syscall(t, 'getpid')).toThrow(/sleeping in wait4/);
    const childWork = k.metrics.cycles;
    const va = toyMap(k, child.threads[0]!, PAGE);
    k.access(child.threads[0]!, va, ACCESS_WRITE); // the child runs while the parent sleeps
    const slept = k.metrics.cycles - childWork;
    k.exitProcess(child, 0);
    expect(t.state).toBe('runnable');
    expect(k.resume(t)).toEqual({ value: child.pid, error: null, errorNumber: 0 });
    expect(returns).toEqual(['wait4:0:true', `wait4:${child.pid}:false`]);
    expect(k.metrics.syscalls).toBe(2); // wait4 and the child's mmap
    expect(k.metrics.contextSwitches).toBe(1);
    expect(k.metrics.cycles - c0 - slept).toBe(entry + exit); // one kernel entry, one exit, for the whole call
    expect(callCycles[1]).toBe(entry + exit); // the call's own cost leaves out the time it slept
    expect(slept).toBeGreaterThan(0);
    expect(k.syscall(t, 'wait4', [-1]).error).toBe('ECHILD');
  });

  it('a process created suspended does not run until ResumeThread', () => {
    const k = win();
    const t = k.createProcess(k.init, 'parent.exe').threads[0]!;
    const r = k.syscall(t, 'CreateProcessW', ['child.exe', 0x4]);
    const child = k.processes.get(r.record!.fields.dwProcessId as number)!;
    const ct = child.threads[0]!;
    expect([ct.state, ct.suspendCount]).toEqual(['suspended', 1]);
    expect(() => k.access(ct, 0x1000, ACCESS_READ)).toThrow(/suspended/);
    expect(k.suspendThread(ct)).toBe(1);
    expect(k.syscall(t, 'ResumeThread', [ct.tid]).value).toBe(2);
    expect(ct.state).toBe('suspended');
    expect(k.syscall(t, 'ResumeThread', [ct.tid]).value).toBe(1);
    expect(ct.state).toBe('runnable');
    expect(k.syscall(t, 'ResumeThread', [ct.tid]).value).toBe(0);
  });
});

describe('cross-process memory', () => {
  it('VirtualAllocEx and WriteProcessMemory into a suspended child, charged to the caller', () => {
    const k = win();
    const t = k.createProcess(k.init, 'parent.exe').threads[0]!;
    const r = k.syscall(t, 'CreateProcessW', ['child.exe', 0x4]);
    const child = k.processes.get(r.record!.fields.dwProcessId as number)!;
    const va = k.syscall(t, 'VirtualAllocEx', [child.pid, 0, 2 * PAGE, 0x3000, 0x04]).value;
    expect(child.space.regions).toHaveLength(1);
    expect((t.process as typeof child).space.regions).toHaveLength(0);
    const w = k.syscall(t, 'WriteProcessMemory', [child.pid, va + PAGE - 2, 'hello']);
    expect([w.value, w.record?.fields.lpNumberOfBytesWritten]).toEqual([1, 5]);
    expect(k.metrics.bytesCopiedCrossProcess).toBe(5);
    expect(k.metrics.faults.zeroFill).toBe(2); // both pages faulted in the child's space
    k.resumeThread(child.threads[0]!);
    expect(new TextDecoder().decode(k.copyFromUser(child.threads[0]!, va + PAGE - 2, 5))).toBe('hello');
    // Past the region's end: a partial copy, no exception for anyone.
    const bad = k.syscall(t, 'WriteProcessMemory', [child.pid, va + 2 * PAGE - 2, 'xyz']);
    expect([bad.value, bad.error, bad.record?.fields.lpNumberOfBytesWritten]).toEqual([0, 'ERROR_PARTIAL_COPY', 2]);
    expect([t.process.state, child.state]).toEqual(['running', 'running']);
  });
});
