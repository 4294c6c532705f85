/**
 * A toy personality — not Linux: FreeBSD error numbers, its own syscall table, one fixed heap
 * region backed by a VM object — proves the core drives any personality through the contract.
 */
import { describe, expect, it } from 'vitest';
import { ACCESS_READ, ACCESS_WRITE, MAP_OK, PTE_NX, PTE_USER, PTE_WRITE, type PageTable } from '@polykernel/mmu';
import type { VmObject } from '@polykernel/vm';
import type { Personality } from './contract.js';
import { linuxIds } from './ids.js';
import { Kernel } from './kernel.js';

interface ToySpace {
  pt: PageTable;
  heap: VmObject;
}

const HEAP = 0x10_0000;
const HEAP_PAGES = 16;

function toy(errorSpace: 'freebsd' | 'win32' = 'freebsd', profile = 'x86-64'): Personality<ToySpace> {
  return {
    name: 'toyos',
    version: '0.1',
    defaultProfile: profile,
    errorSpace,
    failureValue: () => (errorSpace === 'win32' ? 0 : -1),
    signals: { SIGSEGV: 11, SIGBUS: 10, SIGKILL: 9 },
    waitStatus: (code, signal) => (signal !== null ? ({ SIGSEGV: 11, SIGBUS: 10, SIGKILL: 9 } as Record<string, number>)[signal]! : (code ?? 0) * 256),
    processModel: { bootComm: 'init', adoptsOrphans: true, bootReaps: true, lifetime: 'wait' },
    ids: (k) => linuxIds(k.options.pidMax),
    attach: () => undefined,
    views: [],
    metricsFilled: [],
    syscalls: [
      { name: 'getpid', number: 20, args: [], handler: (ctx) => ctx.process.pid },
      { name: 'half', number: 21, args: ['n'], handler: (ctx, [n]) => (typeof n === 'number' && n % 2 === 0 ? n / 2 : ctx.fail(errorSpace === 'win32' ? 'ERROR_INVALID_PARAMETER' : 'EINVAL')) },
    ],
    createAddressSpace: (k) => ({ pt: k.mmu.createPageTable(), heap: k.vm.createObject('anonymous', HEAP_PAGES) }),
    destroyAddressSpace: (k, p) => {
      p.space.pt.destroy();
      k.vm.deallocate(p.space.heap);
    },
    pageTableOf: (s) => s.pt,
    handleFault: (k, _thread, f) => {
      const s = (f.process as import('./process.js').Process<ToySpace>).space;
      const page = Math.floor((f.va - HEAP) / 4096);
      if (f.va < HEAP || page >= HEAP_PAGES || f.reason !== 'not-present') return { kind: 'signal', signal: 'SIGSEGV', code: 'SEGV_MAPERR' };
      const frame = k.vm.fault(s.heap, page, f.access === ACCESS_WRITE);
      if (frame < 0) return { kind: 'signal', signal: 'SIGKILL', code: 'out of memory' };
      expect(s.pt.map(HEAP + page * 4096, frame, 4096, PTE_USER | PTE_WRITE | PTE_NX)).toBe(MAP_OK);
      return { kind: 'resolved', how: 'zeroFill' };
    },
  };
}

describe('processes', () => {
  it('init is pid 1; children, exit to zombie, reparenting to init, reaping frees the PID', () => {
    const k = new Kernel(toy(), { frames: 4096, initReaps: false });
    expect(k.init.pid).toBe(1);
    const a = k.createProcess(k.init, 'a');
    const b = k.createProcess(a, 'b');
    expect([a.pid, b.pid, b.ppid]).toEqual([2, 3, 2]);
    k.exitProcess(a, 3);
    expect(a.state).toBe('zombie');
    expect(a.exitStatus).toBe(3 * 256);
    expect(b.parent).toBe(k.init);
    expect(k.reap(a)).toBe(768);
    expect(k.processes.has(2)).toBe(false);
    expect(k.ids.inUse).toBe(2);
  });
});

describe('system calls', () => {
  it('dispatch by name and number, errors in the personality numbering, ENOSYS for unknown numbers', () => {
    const k = new Kernel(toy(), { frames: 4096 });
    const p = k.createProcess(k.init, 'p');
    const t = p.threads[0]!;
    const cycles0 = k.metrics.cycles; // creating processes zeroed their page-table roots
    expect(k.syscall(t, 'getpid').value).toBe(p.pid);
    expect(k.syscall(t, 21, [10])).toEqual({ value: 5, error: null, errorNumber: 0 });
    expect(k.syscall(t, 'half', [3])).toEqual({ value: -1, error: 'EINVAL', errorNumber: 22 });
    expect(k.syscall(t, 999)).toEqual({ value: -1, error: 'ENOSYS', errorNumber: 78 }); // FreeBSD's ENOSYS
    expect(k.metrics.syscalls).toBe(4);
    expect(k.metrics.traps.syscall).toBe(4);
    expect(k.metrics.cycles - cycles0).toBe(4 * (k.mmu.profile.costs.trapEntry + k.mmu.profile.costs.trapExit));
  });

  it('a Win32-style personality fails with FALSE and a GetLastError code', () => {
    const k = new Kernel(toy('win32'), { frames: 4096 });
    const t = k.createProcess(k.init, 'w').threads[0]!;
    expect(k.syscall(t, 'half', [1])).toEqual({ value: 0, error: 'ERROR_INVALID_PARAMETER', errorNumber: 87 });
  });

  it('probes see entries and returns, aggregated by name', () => {
    const k = new Kernel(toy(), { frames: 4096 });
    const t = k.createProcess(k.init, 'p').threads[0]!;
    const byName = k.bus.aggregate('syscall:entry', { fn: 'count', by: (e) => e.name });
    const errors = k.bus.aggregate('syscall:return', { fn: 'count', by: (e) => e.error ?? 'ok' });
    for (let i = 0; i < 5; i++) k.syscall(t, 'getpid');
    k.syscall(t, 'half', [7]);
    expect(byName.get('getpid')).toBe(5);
    expect(errors.get('EINVAL')).toBe(1);
    expect(errors.get('ok')).toBe(5);
  });
});

describe('memory access and faults', () => {
  it('a first touch traps into the personality, which zero-fills; later touches do not trap', () => {
    const k = new Kernel(toy(), { frames: 4096 });
    const t = k.createProcess(k.init, 'p').threads[0]!;
    const faults = k.bus.aggregate('fault', { fn: 'count', by: (e) => e.resolution });
    const pa = k.access(t, HEAP + 0x123, ACCESS_WRITE);
    expect(pa).toBeGreaterThan(0);
    expect(k.access(t, HEAP + 0x456, ACCESS_READ)).toBe(pa - 0x123 + 0x456);
    expect(k.metrics.traps.pageFault).toBe(1);
    expect(faults.get('zeroFill')).toBe(1);
    expect(k.metrics.faults.zeroFill).toBe(1);
  });

  it('an access outside any region becomes SIGSEGV and kills the process', () => {
    const k = new Kernel(toy(), { frames: 4096 });
    const p = k.createProcess(k.init, 'p');
    const signals: string[] = [];
    k.bus.subscribe('signal', (e) => signals.push(`${e.pid}:${e.signal}:${e.code}`));
    expect(k.access(p.threads[0]!, 0x5000, ACCESS_READ)).toBe(-1);
    expect(signals).toEqual([`${p.pid}:SIGSEGV:SEGV_MAPERR`]);
    // Its parent is init, which reaps it at once.
    expect([p.state, p.killedBy, p.exitStatus]).toEqual(['dead', 'SIGSEGV', 11]);
    expect(k.metrics.faults.segv).toBe(1);
  });

  it('accessBatch: the same faults, hits, cycles and signal as access() one by one, and counts what did not complete', () => {
    const vas = Float64Array.of(HEAP, HEAP + 8, HEAP + 0x1000, HEAP + 16, HEAP + 0x1008, 0x5000, HEAP, HEAP + 8);
    const acc = Uint8Array.of(ACCESS_WRITE, ACCESS_READ, ACCESS_READ, ACCESS_WRITE, ACCESS_WRITE, ACCESS_READ, ACCESS_READ, ACCESS_READ);
    const run = (batched: boolean): unknown => {
      const k = new Kernel(toy(), { frames: 4096 });
      const p = k.createProcess(k.init, 'p');
      const t = p.threads[0]!;
      let failed = 0;
      if (batched) failed = k.accessBatch(t, vas, acc, 0, vas.length);
      else for (let i = 0; i < vas.length; i++) if (k.access(t, vas[i]!, acc[i] === ACCESS_WRITE ? ACCESS_WRITE : ACCESS_READ) < 0) failed++;
      return { failed, state: p.state, metrics: k.metrics.snapshot() };
    };
    const batched = run(true);
    expect(batched).toEqual(run(false));
    // The SIGSEGV at 0x5000 kills the process: it and the two accesses after it do not complete.
    expect(batched).toMatchObject({ failed: 3, state: 'dead' });
  });

  it('each process sees its own memory; exit returns every frame', () => {
    const k = new Kernel(toy(), { frames: 4096, contents: true, initReaps: false });
    const free0 = k.mmu.frames.freeFrames;
    const a = k.createProcess(k.init, 'a');
    const b = k.createProcess(k.init, 'b');
    const pa = k.access(a.threads[0]!, HEAP, ACCESS_WRITE);
    const pb = k.access(b.threads[0]!, HEAP, ACCESS_WRITE);
    expect(pa).not.toBe(pb);
    k.exitProcess(a, 0);
    k.exitProcess(b, 0);
    k.reap(a);
    k.reap(b);
    expect(k.mmu.frames.freeFrames).toBe(free0);
  });

  it('on a software-managed TLB the core answers refill traps, and ASID generations roll over', () => {
    const k = new Kernel(toy('freebsd', 'mips-swtlb'), { frames: 8192 });
    const procs = Array.from({ length: 300 }, (_, i) => k.createProcess(k.init, `p${i}`));
    const pas = procs.map((p) => k.access(p.threads[0]!, HEAP, ACCESS_WRITE));
    expect(k.asids.rollovers).toBeGreaterThanOrEqual(1); // 8-bit ASIDs, 300 address spaces
    expect(new Set(pas).size).toBe(300);
    // After the rollover every process still translates to its own frame.
    procs.forEach((p, i) => {
      expect(k.access(p.threads[0]!, HEAP, ACCESS_READ)).toBe(pas[i]);
    });
    expect(k.metrics.traps.tlbRefill).toBeGreaterThan(0);
  });
});
