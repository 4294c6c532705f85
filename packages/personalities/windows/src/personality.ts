/**
 * Windows 11 x64: VADs on an AVL tree, NT memory services (traps with NTSTATUS) under kernel32's
 * VirtualAlloc/Free/Protect/Query (library calls with GetLastError), commit charge against the
 * machine's commit limit (no overcommit, no OOM killer), demand-zero and guard pages, exceptions
 * that end the process with their code, handles that keep process objects alive, and a
 * VirtualQuery walk in WinDbg's `!address` layout.
 */
import { Rng } from '@polykernel/core';
import { memoryFileSystem, windowsIds, type Delivery, type FileLookup, type Personality } from '@polykernel/kernel';
import { createIndex } from '@polykernel/vm';
import { EXCEPTIONS, handleFault } from './fault.js';
import { closeAll } from './handles.js';
import { deleteVad, VAD_BITMAP_BITS, type K, type P } from './mm.js';
import { windowsPortable } from './portable.js';
import { memorySyscalls } from './syscalls.js';
import { expireWaits, objectSyscalls, wakeWaiters } from './objects.js';
import { librarySyscalls } from './library.js';
import { fileSyscalls } from './files.js';
import type { Spec } from './callspec.js';
import type { Vad, WindowsMachine, WindowsSpace } from './types.js';
import { windowsViews } from './views.js';

export type { WindowsMachine, WindowsSpace } from './types.js';

export interface WindowsOptions {
  /** The variant (kernel version) to model; the CLI passes one of the variants it registered. */
  variant?: string | undefined;
  /** Where CreateProcess finds images and their DLLs (the CLI passes the host's files under --sysroot). */
  fs?: FileLookup | undefined;
  /** Seed of the kernel's own randomness; default: the Kernel's seed. */
  seed?: number | undefined;
  /** Paging-file size in 4 KiB pages: the commit limit is physical memory plus this (default 0). */
  pagefilePages?: number | undefined;
  /**
   * DLLs (sysroot paths) mapped into every process CreateProcess makes, after the exe and ntdll and
   * before the exe's imports are snapped — where injected DLLs (AppInit_DLLs, an antivirus hook, a
   * "BLODA") land in a new process. Each takes its preferred base, relocated if it is taken.
   */
  injectDll?: string | readonly string[] | undefined;
}

const NAME = 'windows';

function createSpace(k: K): WindowsSpace {
  return {
    pt: k.mmu.createPageTable(),
    vads: createIndex<Vad>('avl', { metrics: k.metrics }),
    // Bit 0 (address 0) is never handed out, so the search starts at bit 1.
    vadBitmap: new Uint8Array(VAD_BITMAP_BITS), vadBitmapHint: 1,
    commitCharge: 0, peakCommit: 0,
    locked: new Set(), handles: new Map(), inheritable: new Set(), nextHandle: 4, loadCounts: new Map(), loadDeps: new Map(),
    vectoredHandlers: [], exceptionsDispatched: 0,
    modules: [], loaderRan: false,
    image: null, imageBase: 0, peb: 0, teb: 0, stackBase: 0, stackLimit: 0,
  };
}

/** MmCleanProcessAddressSpace + MmDeleteProcessAddressSpace: every VAD deleted, handles closed, tables freed. */
function destroySpace(k: K, p: P): void {
  closeAll(k, p);
  for (const v of [...p.space.vads.iterateFrom(0)]) deleteVad(k, p, v);
  p.space.pt.destroy();
}

/**
 * KiDispatchException → RtlDispatchException: the vectored handlers in order; the first that
 * returns EXCEPTION_CONTINUE_EXECUTION resumes the thread (the faulting access is retried). With
 * none, the unhandled-exception path ends the process with the exception code.
 */
function dispatchException(p: P, signal: string, fromFault: boolean): Delivery {
  for (const h of p.space.vectoredHandlers) {
    if (h.code !== null && h.code !== signal) continue;
    p.space.exceptionsDispatched++;
    if (h.action === 'continue-execution') return fromFault ? 'retry' : 'handled';
  }
  return 'default';
}

/** Every call first ends the waits whose timeout has passed on the cost clock (the clock interrupt's KiTimerExpiration). */
function withTimers(specs: Spec[]): Spec[] {
  return specs.map((s) => ({
    ...s,
    handler: (c, a) => {
      if (c.kernel.state.timedWaits.size > 0) expireWaits(c.kernel);
      return s.handler(c, a);
    },
  }));
}

/**
 * One function for every personality instance, not a closure per instance: the kernel's access
 * path inlines this call, and a new closure (a new kernel) would be a new call target there.
 */
function pageTableOf(space: WindowsSpace): WindowsSpace['pt'] {
  return space.pt;
}

export function windowsPersonality(opts: WindowsOptions = {}): Personality<WindowsSpace, WindowsMachine> {
  return {
    name: opts.variant ?? NAME,
    version: 'windows-11',
    defaultProfile: 'x86-64',
    errorSpace: 'win32',
    failureValue: () => 0,
    syscalls: withTimers([...memorySyscalls(), ...objectSyscalls(), ...librarySyscalls(), ...fileSyscalls()]),
    signals: EXCEPTIONS,
    // GetExitCodeProcess(): the exit code, or the code of the exception that ended it.
    waitStatus: (exitCode, signal) => (signal !== null ? (EXCEPTIONS[signal] ?? 0) : (exitCode ?? 0)),
    // System is PID 4; a child keeps its creator's ID (InheritedFromUniqueProcessId); the process
    // object lives until its last handle closes (ObDereferenceObject → PspProcessDelete).
    processModel: { bootComm: 'System', adoptsOrphans: false, bootReaps: false, lifetime: 'handles' },
    ids: () => windowsIds(),
    attach: (k) => ({
      rng: new Rng(opts.seed ?? k.options.seed ?? 1),
      fs: opts.fs ?? memoryFileSystem({}),
      commitLimit: k.mmu.frames.frameCount + (opts.pagefilePages ?? 0),
      commitCharge: 0,
      imageSections: new Map(),
      namedSections: new Map(),
      namedEvents: new Map(),
      timedWaits: new Map(),
      injectDlls: opts.injectDll === undefined ? [] : typeof opts.injectDll === 'string' ? [opts.injectDll] : [...opts.injectDll],
      byName: new Map(),
      fileNodes: new Map(),
    }),
    createAddressSpace: (k) => createSpace(k),
    destroyAddressSpace: (k, p) => {
      destroySpace(k, p);
    },
    pageTableOf,
    onExit: (k, p) => {
      // The process object is signalled: the waiting threads poll again (KeSetEvent on the process's dispatcher header).
      for (const t of p.threads) k.state.timedWaits.delete(t);
      wakeWaiters(k);
    },
    handleFault: (k, _thread, fault) => handleFault(k, fault),
    deliver: (_k, t, info) => dispatchException(t.process as P, info.signal, info.fromFault),
    views: windowsViews(),
    portable: windowsPortable(),
    metricsFilled: [
      'syscalls', 'traps.syscall', 'traps.pageFault', 'faults.zeroFill', 'faults.segv', 'faults.guard', 'faults.soft', 'processesCreated',
      'pagesZeroed', 'peakCommit',
    ],
  };
}
