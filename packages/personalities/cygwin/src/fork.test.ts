import { memoryFileSystem } from '@polykernel/kernel';
import { ACCESS_WRITE } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from './posix.js';
import { cygwinSysroot, rebaseall } from './sysroot.js';
import { bootCygwin, on, type Cyg } from './testkit.js';

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

function childOf(c: Cyg, pid: number): Cyg {
  return on(c.k, c.k.processes.get(c.k.state.cygwin.byPid.get(pid)!.winpid)!);
}

/** The steps of one successful fork, in fork.cc / dcrt0.cc order (one linked DLL pair: cyggcc_s, cygreadline7). */
const FORK_CC_ORDER = [
  'parent dofork', 'parent hold_everything', 'parent dlls.topsort', 'parent setjmp', 'parent child_info_fork', 'parent CreateEvent',
  'parent __malloc_lock, cygheap->lock', 'parent CreateProcessW',
  'child dll_list::alloc', 'child pinfo::thisproc', 'child dlls.reserve_space', 'child cygheap_fixup_in_child', 'child handle_fork: dll data/bss, user heap, exe data/bss',
  'child fixup_mmaps_after_fork', 'child alloc_stack', 'child longjmp', 'child sync_with_parent',
  'parent ch.sync', 'parent child.remember', 'parent child_copy', 'parent child_copy', 'parent child_copy', 'parent resume_child',
  'child fixup_shms_after_fork', 'child dlls.load_after_fork', 'child fdtab.fixup_after_fork', 'child sync_with_parent',
  'parent ch.sync', 'parent child.attach', 'parent resume_child',
];

describe('fork (fork.cc)', () => {
  it('runs the steps in fork.cc\'s order', () => {
    const c = bootCygwin();
    expect(c.call('fork').error).toBeNull();
    expect(c.k.state.cygwin.forkSteps.map((s) => `${s.side} ${s.step}`)).toEqual(FORK_CC_ORDER);
    const copies = c.k.state.cygwin.forkSteps.filter((s) => s.step === 'child_copy').map((s) => s.detail);
    expect(copies).toEqual(['stack', 'linked dll data/bss cyggcc_s-seh-1.dll', 'linked dll data/bss cygreadline7.dll']);
  });

  it('the child gets copies of mmap\'d memory, the heap and the exe\'s data, not shared pages', () => {
    const c = bootCygwin();
    const a = c.call('mmap', 0, 0x20000, RW, ANON, -1, 0).value;
    expect(c.k.copyToUser(c.t, a + 0x10010, Uint8Array.of(1, 2, 3))).toBe(3);
    const heap = c.call('sbrk', 8192).value;
    expect(c.k.copyToUser(c.t, heap + 100, Uint8Array.of(7, 7))).toBe(2);
    const exe = c.p.space.modules[0]!;
    const data = exe.base + 0x2000; // .data follows .text
    expect(c.k.copyToUser(c.t, data + 8, Uint8Array.of(0xee))).toBe(1);
    const copiedBefore = c.k.metrics.bytesCopiedCrossProcess;
    const pid = c.call('fork').value;
    const ch = childOf(c, pid);
    expect(c.k.metrics.bytesCopiedCrossProcess - copiedBefore).toBeGreaterThanOrEqual(0x20000 + 8192);
    expect(c.k.copyToUser(c.t, a + 0x10010, Uint8Array.of(9, 9, 9))).toBe(3);
    expect([...c.k.copyFromUser(ch.t, a + 0x10010, 3)]).toEqual([1, 2, 3]);
    expect([...c.k.copyFromUser(ch.t, heap + 100, 2)]).toEqual([7, 7]);
    expect([...c.k.copyFromUser(ch.t, data + 8, 1)]).toEqual([0xee]);
    // copy-on-fork: the child's private mapping is committed (charged) in full, no page shared
    expect(c.k.accessIn(ch.t, ch.p, a, ACCESS_WRITE)).not.toBe(c.k.accessIn(c.t, c.p, a, ACCESS_WRITE));
    expect(ch.call('getpid').value).toBe(pid);
    expect(ch.call('getppid').value).toBe(c.call('getpid').value);
    expect(pid).not.toBe(ch.p.pid);
    expect(ch.p.space.modules.map((m) => m.base)).toEqual(c.p.space.modules.map((m) => m.base));
  });

  it('an injected DLL where a linked DLL goes: "Loaded to different address", the retry, then EAGAIN', () => {
    const c = bootCygwin();
    c.k.state.cygwin.injections.push({ name: 'bloda.dll', at: 0x3_ff88_0000, size: 0x10000 });
    const procs = c.k.processes.size;
    const r = c.call('fork');
    expect(r).toMatchObject({ value: -1, error: 'EAGAIN', errorNumber: 11 });
    // The first attempt is silentfail; the retry with forkables prints the child's abort, and the
    // parent prints nothing more (EXITCODE_FORK_FAILED leaves errmsg unset).
    expect(c.k.state.cygwin.console).toHaveLength(1);
    expect(c.k.state.cygwin.console[0]).toMatch(/^ {6}0 \[main\] bash \d+ child_info_fork::abort: \\\?\?\\C:\\cygwin64\\bin\\cygreadline7\.dll: Loaded to different address: parent\(0x3FF880000\) != child\(0x[0-9A-F]+\)$/);
    expect(c.k.state.cygwin.forkSteps.filter((s) => s.step === 'dofork').map((s) => s.detail)).toEqual(['', 'with forkables']);
    expect(c.k.processes.size).toBe(procs);
    expect(c.p.state).toBe('running');
  });

  it('rebaseall moves the DLLs out of the way: the same injection no longer breaks fork', () => {
    const { files, bases } = rebaseall(cygwinSysroot());
    expect(bases['/usr/bin/cygreadline7.dll']).not.toBe(0x3_ff88_0000);
    const c = bootCygwin({ fs: memoryFileSystem(files) });
    c.k.state.cygwin.injections.push({ name: 'bloda.dll', at: 0x3_ff88_0000, size: 0x10000 });
    const r = c.call('fork');
    expect(r.error).toBeNull();
    expect(r.value).toBeGreaterThan(0);
  });

  it('a child that dies while loading DLLs: "died waiting for dll loading", EAGAIN', () => {
    const c = bootCygwin();
    c.k.state.cygwin.crashChildAt = 'dll-loading';
    expect(c.call('fork').error).toBe('EAGAIN');
    expect(c.k.state.cygwin.console.filter((l) => l.includes('dofork: child -1 - died waiting for dll loading, errno 11'))).toHaveLength(1);
  });

  it('the commit limit reached while the child re-creates a mapping: fixup_mmaps_after_fork fails, EAGAIN', () => {
    const c = bootCygwin({}, { frames: 8192 });
    const a = c.call('mmap', 0, 20 * 1024 * 1024, RW, ANON, -1, 0).value;
    expect(a).toBeGreaterThan(0);
    expect(c.call('fork').error).toBe('EAGAIN');
    expect(c.k.state.cygwin.console.join('\n')).toMatch(/fixup_mmaps_after_fork: VirtualAlloc failed for MAP_PRIVATE address 0x[0-9a-f]+, Win32 error 1455/);
  });

  it('a process without an image cannot be forked: CreateProcessW fails, errno from errmap', () => {
    const c = bootCygwin();
    const bare = on(c.k, c.k.createProcess(c.k.init, 'bare'));
    const r = bare.call('fork');
    expect(r.value).toBe(-1);
    expect(r.error).toBe('ENOENT');
    expect(c.k.state.cygwin.console.join('\n')).toMatch(/dofork: child -1 - CreateProcessW failed for 'bare', errno 2/);
  });
});

describe('fork: the handshake', () => {
  it('runs on two inheritable events (subproc_ready, forker_finished): both closed on both sides afterwards', () => {
    const c = bootCygwin();
    const events = (p: typeof c.p): number => [...p.space.handles.values()].filter((h) => (h.kind as string) === 'event').length;
    const before = c.p.space.handles.size;
    const calls: string[] = [];
    c.k.bus.subscribe('syscall:entry', (e) => {
      if (['CreateEventW', 'SetEvent', 'WaitForSingleObject', 'WaitForMultipleObjects'].includes(e.name)) calls.push(e.name);
    });
    const pid = c.call('fork').value;
    const ch = childOf(c, pid);
    expect(calls).toEqual(['CreateEventW', 'CreateEventW', 'SetEvent', 'WaitForMultipleObjects', 'SetEvent', 'WaitForSingleObject', 'SetEvent', 'WaitForMultipleObjects', 'SetEvent']);
    expect(events(c.p)).toBe(0);
    expect(events(ch.p)).toBe(0);
    // The parent keeps two handles more: the child's process handle (for waitpid) and its pinfo section (child.remember).
    expect(c.p.space.handles.size).toBe(before + 2);
    const me = c.k.state.cygwin.byWinpid.get(c.p.pid)!;
    const view = me.childPinfo.get(pid)!;
    expect(c.p.space.handles.get(view.handle)?.kind).toBe('section');
    // Reaping the child gives both back.
    ch.call('_exit', 0);
    expect(c.call('waitpid', pid, 0).value).toBe(pid);
    expect(c.p.space.handles.size).toBe(before);
    expect(me.childPinfo.size).toBe(0);
    expect(c.call('VirtualQuery', view.view).record!.fields.State).toBe(0x10000);
  });
});

describe('fork: what others see', () => {
  it('fires the core\'s fork probe with the cycles it took and the pages it copied', () => {
    const c = bootCygwin();
    const events: { cycles: number; ptes: number }[] = [];
    c.k.bus.subscribe('fork', (e) => events.push({ cycles: e.cycles, ptes: e.ptes }));
    c.call('mmap', 0, 0x40000, RW, ANON, -1, 0);
    c.call('fork');
    expect(events).toHaveLength(1);
    expect(events[0]!.cycles).toBeGreaterThan(0);
    expect(events[0]!.ptes).toBeGreaterThanOrEqual(0x40000 / 4096);
  });

  it('a forked child killed by an access violation: waitpid reports SIGSEGV (11)', () => {
    const c = bootCygwin();
    const pid = c.call('fork').value;
    const ch = childOf(c, pid);
    expect(c.k.access(ch.t, 0x1000, ACCESS_WRITE)).toBeLessThan(0);
    expect(ch.p.killedBy).toBe('SIGSEGV');
    expect(c.call('waitpid', pid, 0).record!.fields.status).toBe(11);
  });
});
