/**
 * Cygwin 3.5 over the Windows personality: cygwin1.dll's POSIX calls are library calls
 * (table 'cygwin1') over the Windows personality's kernel32/NT calls; processes, address spaces,
 * faults and handles are Windows' (taken from `windowsPersonality()`, its public API); Cygwin adds
 * its pinfo table (Cygwin PIDs beside Windows PIDs), newlib errno numbering, POSIX signals in
 * place of exceptions, NORESERVE pages committed on first touch, and fork emulated by
 * CreateProcess and cross-process copies (fork.ts).
 */
import { memoryFileSystem, type Delivery, type FileLookup, type Personality } from '@polykernel/kernel';
import { MEM_COMMIT, windowsPersonality, type WindowsSpace } from '@polykernel/windows';
import { cygwinDriver } from './driver.js';
import { genProtect, MAP_NORESERVE, PAGE, cygwinCalls } from './posix.js';
import { releasePinfo } from './pinfo.js';
import { isAttached } from './filemap.js';
import { actionOf, SIG_IGN, tellParent } from './signals.js';
import { cygwinSysroot } from './sysroot.js';
import type { CygwinMachine, K, P } from './types.js';
import { cygwinViews } from './views.js';

export type { CygwinMachine } from './types.js';
export type CygwinSpace = WindowsSpace;

export interface CygwinOptions {
  variant?: string | undefined;
  /** Files looked up first; what they lack comes from cygwinSysroot() (cygwin1.dll, bash.exe, true.exe, two DLLs). */
  fs?: FileLookup | undefined;
  seed?: number | undefined;
  /** Paging-file pages (the Windows commit limit is memory plus this). */
  pagefilePages?: number | undefined;
}

/**
 * Cygwin's signal numbers (newlib sys/signal.h for Cygwin); exception.cc maps
 * STATUS_ACCESS_VIOLATION to SIGSEGV, STATUS_STACK_OVERFLOW to SIGSEGV, STATUS_NO_MEMORY to SIGBUS.
 */
export const SIGNALS: Readonly<Record<string, number>> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGEMT: 7, SIGFPE: 8, SIGKILL: 9, SIGBUS: 10,
  SIGSEGV: 11, SIGSYS: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGURG: 16, SIGSTOP: 17, SIGTSTP: 18, SIGCONT: 19,
  SIGCHLD: 20, SIGTTIN: 21, SIGTTOU: 22, SIGIO: 23, SIGXCPU: 24, SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27,
  SIGWINCH: 28, SIGLOST: 29, SIGUSR1: 30, SIGUSR2: 31,
};

const EXCEPTION_TO_SIGNAL: Readonly<Record<string, string>> = {
  EXCEPTION_ACCESS_VIOLATION: 'SIGSEGV',
  STATUS_GUARD_PAGE_VIOLATION: 'SIGSEGV',
  STATUS_STACK_OVERFLOW: 'SIGSEGV',
  STATUS_NO_MEMORY: 'SIGBUS',
};

/** exception.cc: a fault in a MAP_NORESERVE mapping commits the page (mmap_is_attached_or_noreserve). */
function commitNoreserve(k: K, p: P, va: number): boolean | 'sigbus' {
  const proc = k.state.cygwin.byWinpid.get(p.pid);
  const t = p.threads.find((x) => x.state !== 'dead');
  if (proc === undefined || t === undefined) return false;
  const rec = proc.mmaps.find((r) => va >= r.addr && va < r.addr + r.len && Math.floor(r.flags / MAP_NORESERVE) % 2 === 1);
  if (rec === undefined) return false;
  // MMAP_RAISE_SIGBUS: attached pages (past a file's end) are never committed.
  if (isAttached(rec)) return 'sigbus';
  if (rec.mapped[Math.floor((va - rec.addr) / PAGE)] !== 1) return false;
  const page = va - (va % PAGE);
  return k.syscall(t, 'VirtualAlloc', [page, PAGE, MEM_COMMIT, genProtect(rec.prot, rec.flags)]).error === null;
}

/**
 * One function for every personality instance, not a closure per instance: the kernel's access
 * path inlines this call, and a new closure (a new kernel) would be a new call target there.
 */
function pageTableOf(space: WindowsSpace): WindowsSpace['pt'] {
  return space.pt;
}

export function cygwinPersonality(opts: CygwinOptions = {}): Personality<WindowsSpace, CygwinMachine> {
  // The given files first (the CLI's --sysroot), then the built-in Cygwin sysroot.
  const builtin = memoryFileSystem(cygwinSysroot());
  const given = opts.fs;
  const fs: FileLookup = given === undefined ? builtin : (path) => {
    const f = given(path);
    return typeof f === 'string' ? builtin(path) : f;
  };
  const win = windowsPersonality({ variant: 'windows', fs, seed: opts.seed, pagefilePages: opts.pagefilePages });
  const self: Personality<WindowsSpace, CygwinMachine> = {
    name: opts.variant ?? 'cygwin',
    version: 'cygwin-3.5',
    defaultProfile: 'x86-64',
    errorSpace: 'cygwin',
    failureValue: () => -1,
    // The Windows calls stay in their own tables and error spaces; cygwin1.dll's are added.
    syscalls: [...win.syscalls, ...(cygwinCalls() as unknown as typeof win.syscalls)],
    signals: SIGNALS,
    // The Windows process's exit code (what GetExitCodeProcess reads; pinfo::exit chose it), or the
    // signal that ended it. waitpid's status is pinfo's (exitcode: (code & 0xff) << 8, or the signal).
    waitStatus: (exitCode, signal) => (signal !== null ? (SIGNALS[signal] ?? 0) : (exitCode ?? 0)),
    // POSIX semantics are Cygwin's own table (pinfo); underneath, Windows process objects live while a handle is open.
    processModel: { bootComm: 'System', adoptsOrphans: false, bootReaps: false, lifetime: 'handles' },
    ids: (k) => win.ids(k),
    attach: (k) => Object.assign(win.attach(k as never), {
      cygwin: { pidSrc: 0, byPid: new Map(), byWinpid: new Map(), injections: [], crashChildAt: null, console: [], forkSteps: [], forkFailures: 0, handlerEntries: [] },
    }),
    createAddressSpace: (k, p) => win.createAddressSpace(k, p),
    destroyAddressSpace: (k, p) => {
      win.destroyAddressSpace(k, p);
    },
    pageTableOf,
    onExit: (k, p) => {
      win.onExit?.(k, p);
      const proc = k.state.cygwin.byWinpid.get(p.pid);
      if (proc === undefined) return;
      // The exec'ed program ended: its stub (the original Windows process) exits with its code.
      const stub = proc.stubWinpid === undefined ? undefined : k.processes.get(proc.stubWinpid);
      if (stub?.state === 'running') k.exitProcess(stub, p.exitStatus ?? 0);
      if (!proc.exited) {
        proc.exited = true;
        proc.exitcode = p.killedBy !== null ? (SIGNALS[p.killedBy] ?? 0) : ((p.exitStatus ?? 0) % 256) * 256;
      }
      // proc_terminate (sigproc.cc): children are orphaned (ppid 1, nobody waits for them); those
      // already exited are released.
      for (const cpid of proc.children.keys()) {
        const child = k.state.cygwin.byPid.get(cpid);
        if (child === undefined) continue;
        if (child.exited) releasePinfo(k, child);
        else child.ppid = 1;
      }
      proc.children.clear();
      // A process no Cygwin parent waits for is released now; otherwise its parent's waitpid wakes.
      const parent = k.state.cygwin.byPid.get(proc.ppid);
      // Otherwise SIGCHLD (pending if the parent has a handler) and its waitpid wakes.
      if (!parent?.children.has(proc.pid)) releasePinfo(k, proc);
      else tellParent(k, proc, false);
    },
    handleFault: (k, thread, fault) => {
      const r = win.handleFault(k, thread, fault);
      if (r.kind !== 'signal') return r;
      const committed = fault.user ? commitNoreserve(k, fault.process as P, fault.va) : false;
      if (committed === 'sigbus') return { kind: 'signal', signal: 'SIGBUS', code: r.code };
      if (committed) return win.handleFault(k, thread, fault);
      return { kind: 'signal', signal: EXCEPTION_TO_SIGNAL[r.signal] ?? 'SIGSEGV', code: r.code };
    },
    // A signal from an exception (SIGSEGV, SIGBUS …) with a handler installed: the handler is entered
    // (recorded) and the access retried — the kernel takes the default action if it faults again.
    deliver: (k, thread, info): Delivery => {
      const proc = k.state.cygwin.byWinpid.get(thread.process.pid);
      const sig = SIGNALS[info.signal];
      if (proc === undefined || sig === undefined) return 'default';
      const act = actionOf(proc, sig);
      if (!info.fromFault || act.handler <= SIG_IGN) return 'default';
      k.state.cygwin.handlerEntries.push({ pid: proc.pid, sig, handler: act.handler, after: 'fault' });
      return 'handled';
    },
    views: cygwinViews(),
    portable: cygwinDriver(),
    metricsFilled: ['syscalls', 'traps.syscall', 'traps.pageFault', 'faults.zeroFill', 'faults.segv', 'processesCreated', 'bytesCopiedCrossProcess', 'peakCommit'],
  };
  return self;
}
