/**
 * The kernel core: one simulated machine (MMU, physical memory, VM system), a process table with
 * an init process, PID and ASID allocation, the system-call dispatcher and the memory-access path
 * that turns MMU faults into the personality's fault handler or a signal. Everything is counted in
 * the shared Metrics and charged to the cycle clock; probes fire only when someone listens.
 */
import {
  CycleClock, KernelError, Metrics, ProbeBus, Win32Error, errnoNumber, type ErrnoName,
  type Win32ErrorName, WIN32_ERRORS,
} from '@polykernel/core';
import {
  FAULT_NAMES, FAULT_TLB_REFILL, getProfile, Mmu, TRANSLATE_FAULT, type Access, type MachineProfile, type ZeroingPolicy,
} from '@polykernel/mmu';
import { VmSystem } from '@polykernel/vm';
import type { FaultInfo, Personality, SyscallArg, SyscallContext, SyscallSpec } from './contract.js';
import { AsidAllocator, PidAllocator } from './ids.js';
import { Process, Thread, type Credentials } from './process.js';

/** Probe events the core fires (subscribe through `kernel.bus`). */
export interface KernelEvents {
  'syscall:entry': { pid: number; tid: number; name: string; number: number; args: readonly SyscallArg[] };
  'syscall:return': { pid: number; tid: number; name: string; value: number; error: string | null; cycles: number };
  /** A page fault: where, why, how it ended, and the simulated cycles it took (trap included). */
  fault: { pid: number; va: number; access: Access; user: boolean; reason: string; resolution: string; cycles: number };
  signal: { pid: number; signal: string; code: string };
  'process:create': { pid: number; ppid: number; comm: string };
  'process:exit': { pid: number; status: number; signal: string | null };
  /** A fork/clone finished: what it copied and what it cost (simulated cycles). */
  fork: { pid: number; child: number; flags: number; vmas: number; ptes: number; tables: number; cycles: number };
  exec: { pid: number; path: string; interpreter: string | null };
  /** The out-of-memory killer chose a victim. */
  'oom:kill': { pid: number; victim: number; points: number; reason: string };
}

export interface KernelOptions {
  /** Machine profile (name or object); default: the personality's. */
  profile?: string | MachineProfile;
  /** Physical memory in 4 KiB frames. */
  frames?: number;
  contents?: boolean;
  zeroing?: ZeroingPolicy;
  swapSlots?: number;
  seed?: number;
  cpus?: number;
  /** PID allocation range (Linux pid_max). */
  pidMax?: number;
  /** init reaps its zombie children at once, as a real init's wait loop does (default true). */
  initReaps?: boolean;
}

export interface SyscallResult {
  value: number;
  /** Error name (errno or Win32 code name) when the call failed. */
  error: string | null;
  errorNumber: number;
}

const ROOT: Credentials = { uid: 0, gid: 0, euid: 0, egid: 0 };

export class Kernel<S> {
  readonly mmu: Mmu;
  readonly vm: VmSystem;
  readonly metrics: Metrics;
  readonly clock: CycleClock;
  readonly bus = new ProbeBus<KernelEvents>();
  readonly processes = new Map<number, Process<S>>();
  readonly pids: PidAllocator;
  readonly asids: AsidAllocator;
  readonly init: Process<S>;
  private readonly byName = new Map<string, SyscallSpec<S>>();
  private readonly byNumber = new Map<number, SyscallSpec<S>>();
  private readonly spaceUsers = new Map<object, number>();
  /** asidOf's one-entry cache (space, its ASID, the table bound to it, the generation). */
  private lastSpace: S | undefined = undefined;
  private lastAsid = 0;
  private lastTable: import('@polykernel/mmu').PageTable | undefined = undefined;
  private lastGeneration = -1;
  private readonly faultInfo: FaultInfo = { va: 0, access: 0, user: true, reason: '' };
  private readonly initReaps: boolean;
  private readonly pEntry;
  private readonly pReturn;
  private readonly pFault;

  constructor(readonly personality: Personality<S>, opts: KernelOptions = {}) {
    const profile = typeof opts.profile === 'object' ? opts.profile : getProfile(opts.profile ?? personality.defaultProfile);
    this.metrics = new Metrics();
    const mmuOpts: import('@polykernel/mmu').MmuOptions = { metrics: this.metrics };
    if (opts.frames !== undefined) mmuOpts.frames = opts.frames;
    if (opts.contents !== undefined) mmuOpts.contents = opts.contents;
    if (opts.zeroing !== undefined) mmuOpts.zeroing = opts.zeroing;
    if (opts.seed !== undefined) mmuOpts.seed = opts.seed;
    if (opts.cpus !== undefined) mmuOpts.cpus = opts.cpus;
    this.mmu = new Mmu(profile, mmuOpts);
    this.vm = new VmSystem(this.mmu.frames, { swapSlots: opts.swapSlots ?? 0, metrics: this.metrics });
    this.clock = new CycleClock(this.metrics, profile.hz);
    this.pids = new PidAllocator(opts.pidMax ?? 4_194_304);
    this.initReaps = opts.initReaps ?? true;
    this.asids = new AsidAllocator(this.mmu.asidCount, () => {
      for (const c of this.mmu.cpus) this.mmu.flushAll(c.id);
    });
    for (const s of personality.syscalls) {
      this.byName.set(s.name, s);
      this.byNumber.set(s.number, s);
    }
    this.pEntry = this.bus.probe('syscall:entry');
    this.pReturn = this.bus.probe('syscall:return');
    this.pFault = this.bus.probe('fault');
    this.init = this.createProcess(null, 'init', ROOT);
  }

  // ---- processes ----------------------------------------------------------------------------

  /**
   * A new process with one thread, child of `parent`. Its address space is a new empty one (the
   * personality's), or `space` when given: a copy the personality made (fork), or the parent's own
   * object to share it (CLONE_VM, vfork) — a shared space is torn down when its last user exits.
   */
  createProcess(parent: Process<S> | null, comm: string, creds: Credentials = parent?.creds ?? ROOT, space?: S): Process<S> {
    const pid = this.pids.alloc();
    if (pid < 0) throw this.error('EAGAIN', 'ERROR_NOT_ENOUGH_MEMORY', 'no free PID');
    const p = new Process<S>(pid, parent, comm, { ...creds });
    p.threads.push(new Thread(pid, p));
    p.space = space ?? this.personality.createAddressSpace(this, p);
    this.spaceUsers.set(p.space as object, (this.spaceUsers.get(p.space as object) ?? 0) + 1);
    parent?.children.push(p);
    this.processes.set(pid, p);
    this.bus.probe('process:create').publish({ pid, ppid: p.ppid, comm });
    return p;
  }

  /** A new thread in `p` (clone with CLONE_THREAD): its TID comes from the PID space, as on Linux. */
  createThread(p: Process<S>): Thread {
    const tid = this.pids.alloc();
    if (tid < 0) throw this.error('EAGAIN', 'ERROR_NOT_ENOUGH_MEMORY', 'no free TID');
    const t = new Thread(tid, p);
    p.threads.push(t);
    return t;
  }

  /**
   * One thread ends (exit(2) of a thread that is not the last): a non-leader thread is released at
   * once and its TID freed; the process itself ends with exitProcess.
   */
  exitThread(t: Thread): void {
    t.state = 'dead';
    const p = t.process as Process<S>;
    if (t.tid === p.pid) return; // the leader stays until the process is reaped
    const i = p.threads.indexOf(t);
    if (i >= 0) p.threads.splice(i, 1);
    this.pids.free(t.tid);
  }

  /** How many live processes use this address space (mm_users, counted per process). */
  spaceUsersOf(space: S): number {
    return this.spaceUsers.get(space as object) ?? 0;
  }

  /**
   * Give `p` a new address space (exec_mmap): the old one is dropped — torn down if `p` was its
   * last user (a vfork child leaves its parent's untouched) — and `space` becomes current.
   */
  replaceSpace(p: Process<S>, space: S): void {
    this.dropSpace(p);
    p.space = space;
    this.spaceUsers.set(space as object, (this.spaceUsers.get(space as object) ?? 0) + 1);
  }

  private dropSpace(p: Process<S>): void {
    const key = p.space as object;
    const users = (this.spaceUsers.get(key) ?? 1) - 1;
    if (users > 0) {
      this.spaceUsers.set(key, users);
      return;
    }
    this.spaceUsers.delete(key);
    this.personality.destroyAddressSpace(this, p);
    this.asids.release(key);
    if (this.lastSpace === p.space) this.lastSpace = undefined;
  }

  /** The process exits: it becomes a zombie, its children go to init, its address space is freed. */
  exitProcess(p: Process<S>, code: number | null, signal: string | null = null): void {
    if (p.state !== 'running') return;
    for (const t of p.threads) t.state = 'dead';
    for (const c of p.children) {
      c.parent = this.init;
      this.init.children.push(c);
    }
    p.children.length = 0;
    this.dropSpace(p);
    p.state = 'zombie';
    p.killedBy = signal;
    p.exitStatus = this.personality.waitStatus(code, signal);
    this.bus.probe('process:exit').publish({ pid: p.pid, status: p.exitStatus, signal });
    this.personality.onExit?.(this, p);
    // init waits for its children all the time: orphans and its own children are reaped at once.
    if (this.initReaps) for (const c of [...this.init.children]) if (c.state === 'zombie') this.reap(c);
  }

  /** Reap a zombie (wait): remove it from the table and free its PID. Returns its wait status. */
  reap(p: Process<S>): number {
    if (p.state !== 'zombie') throw new RangeError(`process ${p.pid} is not a zombie`);
    p.state = 'dead';
    this.processes.delete(p.pid);
    this.pids.free(p.pid);
    // Threads still listed (the group ended by exit_group or a signal) give their TIDs back too.
    for (const t of p.threads) if (t.tid !== p.pid) this.pids.free(t.tid);
    if (p.parent !== null) {
      const i = p.parent.children.indexOf(p);
      if (i >= 0) p.parent.children.splice(i, 1);
    }
    return p.exitStatus ?? 0;
  }

  // ---- address spaces -----------------------------------------------------------------------

  /** The ASID `p` runs with now (re-allocated after a generation rollover) bound to its page table. */
  asidOf(p: Process<S>): number {
    // The common case, once per access: the same space as last time, in the same ASID generation,
    // and the ASID still bound to its page table.
    if (p.space === this.lastSpace && this.asids.generation === this.lastGeneration && this.mmu.pageTableOf(this.lastAsid) === this.lastTable) return this.lastAsid;
    const key = p.space as object;
    const before = this.asids.generation;
    const asid = this.asids.asidFor(key);
    const table = this.personality.pageTableOf(p.space);
    if (this.mmu.pageTableOf(asid) !== table || before !== this.asids.generation) this.mmu.bindAsid(asid, table);
    this.lastSpace = p.space;
    this.lastAsid = asid;
    this.lastTable = table;
    this.lastGeneration = this.asids.generation;
    return asid;
  }

  /**
   * A user-mode memory access by `thread`: translate, and on a fault trap into the personality's
   * handler and retry, or deliver the signal it asks for (the process then dies by default).
   * Returns the physical address, or -1 when the access ended in a signal.
   */
  access(thread: Thread, va: number, access: Access, user = true): number {
    const p = thread.process as Process<S>;
    // A thread of a process that has exited has no address space to access.
    if (p.state !== 'running') return -1;
    const cpu = thread.cpu;
    const asid = this.asidOf(p);
    this.mmu.activate(cpu, asid);
    const m = this.metrics;
    const costs = this.mmu.profile.costs;
    for (let attempt = 0; attempt < 4; attempt++) {
      const pa = this.mmu.translate(cpu, asid, va, access, user);
      if (pa !== TRANSLATE_FAULT) return pa;
      const f = this.mmu.fault;
      if (f.kind === FAULT_TLB_REFILL && this.mmu.refill(cpu, asid, va, access)) continue;
      m.traps.pageFault++;
      const before = m.cycles;
      m.cycles += costs.trapEntry + costs.trapExit;
      const reason = f.kind === FAULT_TLB_REFILL ? 'not-present' : (FAULT_NAMES[f.kind] ?? 'unknown');
      // One scratch record per kernel (valid during the handler call only): no allocation per fault.
      const info = this.faultInfo;
      info.va = va;
      info.access = access;
      info.user = user;
      info.reason = reason;
      const res = this.personality.handleFault(this, thread, info);
      if (this.pFault.active) {
        const resolution = res.kind === 'resolved' ? res.how : res.kind === 'signal' ? res.signal : 'fixup';
        this.pFault.fire({ pid: p.pid, va, access, user, reason, resolution, cycles: m.cycles - before });
      }
      if (res.kind === 'fixup') return -1;
      if (res.kind === 'signal') {
        m.faults.segv++;
        this.signal(p, res.signal, res.code);
        return -1;
      }
    }
    throw new Error(`${this.personality.name}: fault at 0x${va.toString(16)} still unresolved after 4 attempts (personality bug)`);
  }

  /** Deliver a signal; the default action of the fatal ones terminates the process. */
  signal(p: Process<S>, signal: string, code = ''): void {
    if (this.personality.signals[signal] === undefined) throw new RangeError(`${this.personality.name} has no signal ${signal}`);
    this.bus.probe('signal').publish({ pid: p.pid, signal, code });
    this.exitProcess(p, null, signal);
  }

  // ---- system calls -------------------------------------------------------------------------

  /** Enter the kernel through the system-call gate with a call by name or number. */
  syscall(thread: Thread, call: string | number, args: readonly SyscallArg[] = []): SyscallResult {
    const spec = typeof call === 'string' ? this.byName.get(call) : this.byNumber.get(call);
    const p = thread.process as Process<S>;
    const m = this.metrics;
    const costs = this.mmu.profile.costs;
    m.syscalls++;
    m.traps.syscall++;
    const start = m.cycles;
    m.cycles += costs.trapEntry;
    if (spec === undefined) {
      // An unknown number: ENOSYS on POSIX kernels (STATUS_INVALID_SYSTEM_SERVICE on NT).
      m.cycles += costs.trapExit;
      const value = this.setError(thread, this.personality.errorSpace === 'win32' ? 'ERROR_INVALID_FUNCTION' : 'ENOSYS');
      return { value, error: thread.lastError, errorNumber: thread.lastErrorNumber };
    }
    if (this.pEntry.active) this.pEntry.fire({ pid: p.pid, tid: thread.tid, name: spec.name, number: spec.number, args });
    thread.lastError = null;
    thread.lastErrorNumber = 0;
    const ctx: SyscallContext<S> = { kernel: this, thread, process: p, fail: (e) => this.setError(thread, e) };
    const value = spec.handler(ctx, args);
    m.cycles += costs.trapExit;
    if (this.pReturn.active) this.pReturn.fire({ pid: p.pid, tid: thread.tid, name: spec.name, value, error: thread.lastError, cycles: m.cycles - start });
    return { value, error: thread.lastError, errorNumber: thread.lastErrorNumber };
  }

  private setError(thread: Thread, e: ErrnoName | Win32ErrorName): number {
    const space = this.personality.errorSpace;
    const num = space === 'win32' ? WIN32_ERRORS[e as Win32ErrorName] : errnoNumber(space, e as ErrnoName);
    if (num === undefined) throw new RangeError(`${e} does not exist in ${space}`);
    thread.lastError = e;
    thread.lastErrorNumber = num;
    return this.personality.failureValue(num);
  }

  /** A typed error in the personality's error space: the POSIX errno, or the Win32 code on Windows. */
  error(posix: ErrnoName, win32: Win32ErrorName, detail?: string): KernelError | Win32Error {
    const space = this.personality.errorSpace;
    return space === 'win32' ? new Win32Error(win32, detail) : new KernelError(space, posix, detail);
  }
}
