/**
 * Two toy personalities that exercise every mechanism of the draft-3 core without being any real
 * kernel: `toyPosix` (FreeBSD-like IDs and errno, init adopts orphans, a wait that sleeps,
 * signal handlers that fix a fault and retry it or jump past it) and `toyWin` (Windows-like:
 * client-ID numbering in multiples of 4, no init, process objects kept by handles, NT traps with
 * NTSTATUS under Win32 library calls with LastError, guard pages whose exception a handler
 * continues, suspended creation, cross-process allocation and writes).
 */
import { NTSTATUS, ntStatusToWin32Error, win32ErrorName } from '@polykernel/core';
import { ACCESS_WRITE, MAP_OK, PTE_NX, PTE_USER, PTE_WRITE, type PageTable } from '@polykernel/mmu';
import type { VmObject } from '@polykernel/vm';
import type { FaultResolution, Personality, SyscallArg, SyscallContext, SyscallSpec } from '../src/contract.js';
import { freebsdIds, windowsIds } from '../src/ids.js';
import type { Kernel } from '../src/kernel.js';
import type { Process, Thread } from '../src/process.js';

export const PAGE = 4096;
export const MAP_BASE = 0x1000_0000;

export interface Region {
  start: number;
  end: number;
  object: VmObject;
  writable: boolean;
  /** PAGE_GUARD: the first touch raises the guard exception and clears it. */
  guard: boolean;
}

export interface ToySpace {
  pt: PageTable;
  regions: Region[];
  /** Signal → handler mode ('fix': make the region writable and retry; 'skip': resume past the access). */
  handlers: Map<string, 'fix' | 'skip'>;
  delivered: number;
}

/** Per-machine state of the toys: what `attach` makes (one per kernel, never shared). */
export interface ToyMachine {
  kernelName: string;
  mapped: number;
}

const num = (a: SyscallArg | undefined): number => (typeof a === 'number' ? a : Number.NaN);

function regionAt(s: ToySpace, va: number): Region | undefined {
  return s.regions.find((r) => va >= r.start && va < r.end);
}

/** First fit above MAP_BASE (a toy vm_map_findspace). */
function findSpace(s: ToySpace, len: number): number {
  let at = MAP_BASE;
  for (const r of [...s.regions].sort((x, y) => x.start - y.start)) {
    if (r.start - at >= len) break;
    at = Math.max(at, r.end);
  }
  return at;
}

function mapRegion(k: Kernel<ToySpace, ToyMachine>, s: ToySpace, len: number, writable: boolean, guard: boolean): number {
  const pages = Math.ceil(len / PAGE);
  const start = findSpace(s, pages * PAGE);
  s.regions.push({ start, end: start + pages * PAGE, object: k.vm.createObject('anonymous', pages), writable, guard });
  k.state.mapped++;
  return start;
}

function unmapRegion(k: Kernel<ToySpace, ToyMachine>, p: Process<ToySpace>, r: Region): void {
  const s = p.space;
  const removed = s.pt.unmap(r.start, r.end - r.start);
  if (removed > 0) k.mmu.shootdown(0, k.asidOf(p), r.start, r.end - r.start);
  k.vm.deallocate(r.object);
  s.regions.splice(s.regions.indexOf(r), 1);
}

function demandZero(k: Kernel<ToySpace, ToyMachine>, s: ToySpace, r: Region, va: number, write: boolean): FaultResolution {
  const page = Math.floor((va - r.start) / PAGE);
  const frame = k.vm.fault(r.object, page, write);
  if (frame < 0) return { kind: 'signal', signal: 'SIGKILL', code: 'out of memory' };
  if (s.pt.map(r.start + page * PAGE, frame, PAGE, PTE_USER | PTE_NX | (r.writable ? PTE_WRITE : 0)) !== MAP_OK) throw new Error('toy: map failed');
  return { kind: 'resolved', how: 'zeroFill' };
}

function common(k: Kernel<ToySpace, ToyMachine>): ToySpace {
  return { pt: k.mmu.createPageTable(), regions: [], handlers: new Map(), delivered: 0 };
}

function destroy(k: Kernel<ToySpace, ToyMachine>, p: Process<ToySpace>): void {
  p.space.pt.destroy();
  for (const r of p.space.regions) k.vm.deallocate(r.object);
  p.space.regions.length = 0;
}

const POSIX_SIGNALS = { SIGSEGV: 11, SIGBUS: 10, SIGKILL: 9, SIGCHLD: 20 } as const;

/** A POSIX toy: FreeBSD-like IDs and errno, init adopts orphans and reaps, wait sleeps. */
export function toyPosix(): Personality<ToySpace, ToyMachine> {
  const wait4 = (ctx: SyscallContext<ToySpace, ToyMachine>): number => {
    const zombie = ctx.process.children.find((c) => c.state === 'zombie');
    if (zombie !== undefined) {
      const pid = zombie.pid;
      ctx.kernel.reap(zombie);
      return pid;
    }
    if (ctx.process.children.length === 0) return ctx.fail('ECHILD');
    return ctx.block('wait4', wait4);
  };
  const syscalls: SyscallSpec<ToySpace, ToyMachine>[] = [
    { name: 'getpid', number: 20, args: [], handler: (ctx) => ctx.process.pid },
    { name: 'half', number: 21, args: ['n'], handler: (ctx, [n]) => (typeof n === 'number' && n % 2 === 0 ? n / 2 : ctx.fail('EINVAL')) },
    {
      name: 'mmap', number: 477, args: ['addr', 'len', 'prot'],
      handler: (ctx, a) => (num(a[1]) > 0 ? mapRegion(ctx.kernel, ctx.process.space, num(a[1]), (num(a[2]) & 2) !== 0, false) : ctx.fail('EINVAL')),
    },
    {
      name: 'munmap', number: 73, args: ['addr', 'len'],
      handler: (ctx, a) => {
        const r = regionAt(ctx.process.space, num(a[0]));
        if (r === undefined) return ctx.fail('EINVAL');
        unmapRegion(ctx.kernel, ctx.process, r);
        return 0;
      },
    },
    {
      name: 'sigaction', number: 416, args: ['sig', 'mode'],
      handler: (ctx, a) => {
        const sig = Object.entries(POSIX_SIGNALS).find(([, n]) => n === num(a[0]))?.[0];
        if (sig === undefined || sig === 'SIGKILL') return ctx.fail('EINVAL');
        const mode = num(a[1]);
        if (mode === 0) ctx.process.space.handlers.delete(sig);
        else ctx.process.space.handlers.set(sig, mode === 1 ? 'fix' : 'skip');
        return 0;
      },
    },
    { name: 'wait4', number: 7, args: ['pid'], handler: wait4 },
  ];
  return {
    name: 'toyposix', version: '0.1', defaultProfile: 'x86-64', errorSpace: 'freebsd',
    failureValue: () => -1,
    signals: POSIX_SIGNALS,
    waitStatus: (code, signal) => (signal !== null ? POSIX_SIGNALS[signal as keyof typeof POSIX_SIGNALS] : (code ?? 0) * 256),
    processModel: { bootComm: 'init', adoptsOrphans: true, bootReaps: true, lifetime: 'wait' },
    ids: (k) => freebsdIds({ pidMax: k.options.pidMax ?? 99_999 }),
    attach: () => ({ kernelName: 'toyposix', mapped: 0 }),
    syscalls,
    createAddressSpace: common,
    destroyAddressSpace: destroy,
    pageTableOf: (s) => s.pt,
    onExit: (k, p) => {
      // Wake a parent sleeping in wait4 (the toy's SIGCHLD).
      const parent = p.parent;
      if (parent !== null) for (const t of parent.threads) if (t.pending?.reason === 'wait4') k.wake(t);
    },
    handleFault: (k, _t, f) => {
      const s = (f.process as Process<ToySpace>).space;
      const r = regionAt(s, f.va);
      if (r === undefined) return f.user ? { kind: 'signal', signal: 'SIGSEGV', code: 'SEGV_MAPERR' } : { kind: 'fixup' };
      if (f.access === ACCESS_WRITE && !r.writable) return f.user ? { kind: 'signal', signal: 'SIGSEGV', code: 'SEGV_ACCERR' } : { kind: 'fixup' };
      return demandZero(k, s, r, f.va, f.access === ACCESS_WRITE);
    },
    deliver: (k, t, info) => {
      const p = t.process as Process<ToySpace>;
      const mode = p.space.handlers.get(info.signal);
      if (mode === undefined) return 'default';
      p.space.delivered++;
      k.metrics.cycles += 2_000; // the signal frame and sigreturn
      if (mode === 'skip' || info.address === null) return 'skip';
      const r = regionAt(p.space, info.address);
      if (r !== undefined) r.writable = true; // the handler's mprotect(PROT_READ | PROT_WRITE)
      return 'retry';
    },
    views: [{ name: 'regions', title: 'toy region list', render: (_k, p) => p.space.regions.map((r) => `${r.start.toString(16)}-${r.end.toString(16)}`).join('\n') }],
    metricsFilled: ['syscalls', 'traps.syscall', 'traps.pageFault', 'faults.zeroFill', 'faults.segv', 'processesCreated', 'tlbMisses'],
  };
}

/** toyWin's exception codes (NTSTATUS values). */
export const WIN_EXCEPTIONS = { EXCEPTION_ACCESS_VIOLATION: 0xc0000005, STATUS_GUARD_PAGE_VIOLATION: 0x80000001 } as const;
const MEM_COMMIT = 0x1000;
const PAGE_READWRITE = 0x04;
const PAGE_GUARD = 0x100;
const CREATE_SUSPENDED = 0x4;
/** The current-process pseudo handle, (HANDLE)-1. */
export const CURRENT_PROCESS = -1;

/** A Windows-like toy: client IDs, handle lifetimes, NT traps under Win32 library calls. */
export function toyWin(): Personality<ToySpace, ToyMachine> {
  const target = (ctx: SyscallContext<ToySpace, ToyMachine>, h: number): Process<ToySpace> | undefined =>
    h === CURRENT_PROCESS ? ctx.process : ctx.kernel.processes.get(h);
  const nt = (name: string, number: number, args: string[], handler: SyscallSpec<ToySpace, ToyMachine>['handler']): SyscallSpec<ToySpace, ToyMachine> =>
    ({ name, number, args, table: 'nt', kind: 'trap', errors: 'ntstatus', failureValue: (n) => n, handler });
  const win32 = (name: string, args: string[], handler: SyscallSpec<ToySpace, ToyMachine>['handler'], failure = 0): SyscallSpec<ToySpace, ToyMachine> =>
    ({ name, number: -1, args, table: 'kernel32', kind: 'library', errors: 'win32', failureValue: () => failure, handler });
  /** RtlNtStatusToDosError, from core's table. */
  const dosError = (status: string | null): string => {
    const code = ntStatusToWin32Error((NTSTATUS as Record<string, number>)[status ?? ''] ?? 0);
    return (code !== undefined ? win32ErrorName(code) : undefined) ?? 'ERROR_INVALID_PARAMETER'; // every status the toy returns is in the table
  };
  const syscalls: SyscallSpec<ToySpace, ToyMachine>[] = [
    nt('NtAllocateVirtualMemory', 0x18, ['ProcessHandle', 'BaseAddress', 'RegionSize', 'AllocationType', 'Protect'], (ctx, a) => {
      const p = target(ctx, num(a[0]));
      if (p?.state !== 'running') return ctx.fail('STATUS_INVALID_HANDLE');
      const size = num(a[2]);
      if (!(size > 0)) return ctx.fail('STATUS_INVALID_PARAMETER');
      if (size > 1024 * 1024 * 1024) return ctx.fail('STATUS_NO_MEMORY');
      const protect = num(a[4]);
      const base = mapRegion(ctx.kernel, p.space, size, (protect & PAGE_READWRITE) !== 0, (protect & PAGE_GUARD) !== 0);
      ctx.record({ type: 'NtAllocateVirtualMemory', fields: { BaseAddress: base, RegionSize: Math.ceil(size / PAGE) * PAGE } });
      return 0;
    }),
    nt('NtWriteVirtualMemory', 0x3a, ['ProcessHandle', 'BaseAddress', 'Buffer'], (ctx, a) => {
      const p = target(ctx, num(a[0]));
      if (p === undefined) return ctx.fail('STATUS_INVALID_HANDLE');
      const bytes = Uint8Array.from(String(a[2]), (c) => c.charCodeAt(0));
      const n = ctx.kernel.writeProcessMemory(ctx.thread, p, num(a[1]), bytes);
      ctx.record({ type: 'NtWriteVirtualMemory', fields: { NumberOfBytesWritten: n } });
      return n === bytes.length ? 0 : ctx.fail('STATUS_PARTIAL_COPY');
    }),
    nt('NtCreateUserProcess', 0xc8, ['ImagePath', 'CreateFlags'], (ctx, a) => {
      const child = ctx.kernel.createProcess(ctx.process, String(a[0]), undefined, undefined, { suspended: (num(a[1]) & CREATE_SUSPENDED) !== 0 });
      ctx.kernel.openHandle(child); // the creator's hProcess
      ctx.record({ type: 'PROCESS_INFORMATION', fields: { hProcess: child.pid, hThread: child.threads[0]!.tid, dwProcessId: child.pid, dwThreadId: child.threads[0]!.tid } });
      return 0;
    }),
    nt('NtResumeThread', 0x52, ['ThreadHandle'], (ctx, a) => {
      for (const p of ctx.kernel.processes.values()) {
        const t = p.threads.find((x) => x.tid === num(a[0]));
        if (t !== undefined) {
          ctx.record({ type: 'NtResumeThread', fields: { PreviousSuspendCount: ctx.kernel.resumeThread(t) } });
          return 0;
        }
      }
      return ctx.fail('STATUS_INVALID_HANDLE');
    }),
    nt('NtClose', 0x0f, ['Handle'], (ctx, a) => {
      const p = ctx.kernel.processes.get(num(a[0]));
      if (p === undefined || p.handles === 0) return ctx.fail('STATUS_INVALID_HANDLE');
      ctx.kernel.closeHandle(p);
      return 0;
    }),
    nt('NtTerminateProcess', 0x2c, ['ProcessHandle', 'ExitStatus'], (ctx, a) => {
      const p = target(ctx, num(a[0]));
      if (p === undefined) return ctx.fail('STATUS_INVALID_HANDLE');
      ctx.kernel.exitProcess(p, num(a[1]));
      return 0;
    }),
    win32('VirtualAllocEx', ['hProcess', 'lpAddress', 'dwSize', 'flAllocationType', 'flProtect'], (ctx, a) => {
      const r = ctx.call('NtAllocateVirtualMemory', [a[0]!, a[1]!, a[2]!, a[3]!, a[4]!]);
      if (r.error !== null) return ctx.fail(dosError(r.error));
      return r.record!.fields.BaseAddress as number;
    }),
    win32('VirtualAlloc', ['lpAddress', 'dwSize', 'flAllocationType', 'flProtect'], (ctx, a) => {
      const r = ctx.call('VirtualAllocEx', [CURRENT_PROCESS, a[0]!, a[1]!, a[2]!, a[3]!]);
      return r.error !== null ? ctx.fail(r.error) : r.value;
    }),
    win32('WriteProcessMemory', ['hProcess', 'lpBaseAddress', 'lpBuffer'], (ctx, a) => {
      const r = ctx.call('NtWriteVirtualMemory', [a[0]!, a[1]!, a[2]!]);
      if (r.record !== undefined) ctx.record({ type: 'WriteProcessMemory', fields: { lpNumberOfBytesWritten: r.record.fields.NumberOfBytesWritten ?? 0 } });
      return r.error !== null ? ctx.fail(dosError(r.error)) : 1;
    }),
    win32('CreateProcessW', ['lpApplicationName', 'dwCreationFlags'], (ctx, a) => {
      const r = ctx.call('NtCreateUserProcess', [a[0]!, a[1]!]);
      if (r.error !== null) return ctx.fail(dosError(r.error));
      ctx.record({ type: 'PROCESS_INFORMATION', fields: r.record!.fields });
      return 1;
    }),
    win32('ResumeThread', ['hThread'], (ctx, a) => {
      const r = ctx.call('NtResumeThread', [a[0]!]);
      return r.error !== null ? ctx.fail(dosError(r.error)) : (r.record!.fields.PreviousSuspendCount as number);
    }, 0xffffffff),
    win32('CloseHandle', ['hObject'], (ctx, a) => (ctx.call('NtClose', [a[0]!]).error !== null ? ctx.fail('ERROR_INVALID_HANDLE') : 1)),
    win32('AddVectoredExceptionHandler', ['First', 'Mode'], (ctx, a) => {
      ctx.process.space.handlers.set('STATUS_GUARD_PAGE_VIOLATION', num(a[1]) === 1 ? 'fix' : 'skip');
      ctx.process.space.handlers.set('EXCEPTION_ACCESS_VIOLATION', num(a[1]) === 1 ? 'fix' : 'skip');
      return 1;
    }),
  ];
  return {
    name: 'toywin', version: '0.1', defaultProfile: 'x86-64', errorSpace: 'win32',
    failureValue: () => 0,
    signals: WIN_EXCEPTIONS,
    waitStatus: (code, signal) => (signal !== null ? WIN_EXCEPTIONS[signal as keyof typeof WIN_EXCEPTIONS] : (code ?? 0)),
    processModel: { bootComm: 'System', adoptsOrphans: false, bootReaps: false, lifetime: 'handles' },
    ids: () => windowsIds(),
    attach: () => ({ kernelName: 'toywin', mapped: 0 }),
    syscalls,
    createAddressSpace: common,
    destroyAddressSpace: destroy,
    pageTableOf: (s) => s.pt,
    handleFault: (k, _t, f) => {
      const s = (f.process as Process<ToySpace>).space;
      const r = regionAt(s, f.va);
      const violation: FaultResolution = f.user ? { kind: 'signal', signal: 'EXCEPTION_ACCESS_VIOLATION', code: f.access === ACCESS_WRITE ? 'write' : 'read' } : { kind: 'fixup' };
      if (r === undefined) return violation;
      if (r.guard) {
        // MiAccessCheck: the guard bit goes, and the access raises STATUS_GUARD_PAGE_VIOLATION once.
        r.guard = false;
        k.metrics.faults.guard++;
        return { kind: 'signal', signal: 'STATUS_GUARD_PAGE_VIOLATION', code: 'guard' };
      }
      if (f.access === ACCESS_WRITE && !r.writable) return violation;
      return demandZero(k, s, r, f.va, f.access === ACCESS_WRITE);
    },
    deliver: (_k, t, info) => {
      const p = t.process as Process<ToySpace>;
      const mode = p.space.handlers.get(info.signal);
      if (mode === undefined) return 'default';
      p.space.delivered++;
      // EXCEPTION_CONTINUE_EXECUTION for a guard page: the guard is already gone, the retry works.
      return mode === 'fix' ? 'retry' : 'skip';
    },
    views: [{
      name: 'virtualquery', title: 'VirtualQuery walk',
      render: (_k, p) => p.space.regions.map((r) => `${r.start.toString(16)} ${(r.end - r.start).toString(16)} MEM_COMMIT ${r.guard ? 'PAGE_GUARD|' : ''}${r.writable ? 'PAGE_READWRITE' : 'PAGE_READONLY'}`).join('\n'),
      rows: (_k, p) => p.space.regions.map((r) => ({ BaseAddress: r.start, RegionSize: r.end - r.start, State: MEM_COMMIT })),
    }],
    metricsFilled: ['syscalls', 'traps.pageFault', 'faults.zeroFill', 'faults.segv', 'processesCreated'],
  };
}

/** Map `bytes` read-write with the toy's own call (the kit's mapMemory). */
export function toyMap(k: Kernel<ToySpace, ToyMachine>, t: Thread, bytes: number): number {
  if (k.personality.name === 'toyposix') return k.syscall(t, 'mmap', [0, bytes, 3]).value;
  const v = k.syscall(t, 'VirtualAlloc', [0, bytes, MEM_COMMIT | 0x2000, PAGE_READWRITE]).value;
  return v === 0 ? -1 : v;
}
