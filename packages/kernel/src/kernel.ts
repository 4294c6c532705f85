/**
 * The kernel core: one simulated machine (MMU, physical memory, VM system), a process table with a
 * boot process, ASID allocation, the call gate (traps and library calls, each in its own error
 * space), the memory-access path that turns MMU faults into the personality's fault handler or a
 * delivered signal/exception, sleeping calls with continuations, suspended threads and
 * cross-process memory access. What differs per kernel — PID/TID numbering, orphans and what keeps
 * an exited process, per-machine state, signal delivery, views — the personality supplies (see
 * contract.ts). Everything is counted in the shared Metrics and charged to the cycle clock; probes
 * fire only when someone listens.
 */
import { CycleClock, KernelError, Metrics, ProbeBus, Win32Error, type ErrnoName, type Win32ErrorName } from '@polykernel/core';
import {
  ACCESS_READ, ACCESS_WRITE, FAULT_NAMES, FAULT_TLB_REFILL, getProfile, Mmu, TRANSLATE_FAULT, type Access, type MachineProfile, type PageTable,
  type ZeroingPolicy,
} from '@polykernel/mmu';
import { VmSystem } from '@polykernel/vm';
import type { CallRecord, Delivery, FaultInfo, FaultResolution, Personality, SignalInfo, SyscallArg, SyscallSpec } from './contract.js';
import { CallFrame } from './call-frame.js';
import { errorNumber, noSuchCall } from './errors.js';
import { AsidAllocator, type IdPolicy } from './ids.js';
import { Process, Thread, type Credentials } from './process.js';

/** Probe events the core fires (subscribe through `kernel.bus`). */
export interface KernelEvents {
  'syscall:entry': { pid: number; tid: number; name: string; number: number; args: readonly SyscallArg[]; kind: 'trap' | 'library'; depth: number };
  /** A call finished (`blocked`: it went to sleep and finishes later, through `kernel.resume`). */
  'syscall:return': { pid: number; tid: number; name: string; value: number; error: string | null; cycles: number; kind: 'trap' | 'library'; depth: number; blocked: boolean };
  /** A page fault: where, why, how it ended, and the simulated cycles it took (trap included). */
  fault: { pid: number; va: number; access: Access; user: boolean; reason: string; resolution: string; cycles: number };
  /** A signal or exception was delivered: what the personality did with it. */
  signal: { pid: number; signal: string; code: string; action: Delivery };
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
  /** PID allocation range (Linux pid_max, FreeBSD kern.pid_max), for personalities that honour it. */
  pidMax?: number;
  /** Override the process model's `bootReaps` (tests that want to see zombies of init). */
  initReaps?: boolean;
}

export interface SyscallResult {
  value: number;
  /** Error name (in the call's error space) when the call failed. */
  error: string | null;
  errorNumber: number;
  /** A structured result the call attached (MEMORY_BASIC_INFORMATION ...). */
  record?: CallRecord;
  /** The call went to sleep: `kernel.resume(thread)` finishes it once the thread is woken. */
  blocked?: true;
}

export interface ProcessOptions {
  /** The first thread starts suspended (CreateProcess with CREATE_SUSPENDED, Cygwin's fork child). */
  suspended?: boolean;
}

const ROOT: Credentials = { uid: 0, gid: 0, euid: 0, egid: 0 };
/** Windows' MAXIMUM_SUSPEND_COUNT: SuspendThread fails beyond it. */
const MAX_SUSPEND = 127;
/** Fault rounds per access before the core calls the personality's handler broken. */
const MAX_FAULT_ROUNDS = 4;

export class Kernel<S, M = unknown> {
  readonly mmu: Mmu;
  readonly vm: VmSystem;
  readonly metrics: Metrics;
  readonly clock: CycleClock;
  readonly bus = new ProbeBus<KernelEvents>();
  readonly processes = new Map<number, Process<S>>();
  /** The personality's PID/TID numbering. */
  readonly ids: IdPolicy;
  readonly asids: AsidAllocator;
  /** The personality's per-machine state (from `attach`). */
  readonly state: M;
  /** The boot process: init (PID 1) on Linux and FreeBSD, System (PID 4) on Windows. */
  readonly init: Process<S>;
  private readonly byName = new Map<string, SyscallSpec<S, M>>();
  private readonly byNumber = new Map<number, SyscallSpec<S, M>>();
  private readonly spaceUsers = new Map<object, number>();
  /** asidOf's one-entry cache (space, its ASID, the table bound to it, the generation). */
  private lastSpace: S | undefined = undefined;
  private lastAsid = 0;
  private lastTable: PageTable | undefined = undefined;
  private lastGeneration = -1;
  private readonly faultInfo: FaultInfo;
  private readonly bootReaps: boolean;
  private readonly pEntry;
  private readonly pReturn;
  private readonly pFault;

  constructor(readonly personality: Personality<S, M>, readonly options: KernelOptions = {}) {
    const opts = options;
    const profile = typeof opts.profile === 'object' ? opts.profile : getProfile(opts.profile ?? personality.defaultProfile);
    this.metrics = new Metrics();
    // Every index a personality builds on these metrics charges its node visits to the clock.
    this.metrics.indexNodeCycles = profile.costs.indexNode ?? 0;
    const mmuOpts: import('@polykernel/mmu').MmuOptions = { metrics: this.metrics };
    if (opts.frames !== undefined) mmuOpts.frames = opts.frames;
    if (opts.contents !== undefined) mmuOpts.contents = opts.contents;
    if (opts.zeroing !== undefined) mmuOpts.zeroing = opts.zeroing;
    if (opts.seed !== undefined) mmuOpts.seed = opts.seed;
    if (opts.cpus !== undefined) mmuOpts.cpus = opts.cpus;
    this.mmu = new Mmu(profile, mmuOpts);
    this.vm = new VmSystem(this.mmu.frames, { swapSlots: opts.swapSlots ?? 0, metrics: this.metrics });
    this.clock = new CycleClock(this.metrics, profile.hz);
    this.bootReaps = opts.initReaps ?? personality.processModel.bootReaps;
    this.asids = new AsidAllocator(this.mmu.asidCount, () => {
      for (const c of this.mmu.cpus) this.mmu.flushAll(c.id);
    });
    for (const s of personality.syscalls) {
      if (this.byName.has(s.name)) throw new RangeError(`${personality.name}: two calls named ${s.name}`);
      this.byName.set(s.name, s);
      // Numbers index the trap table only: library calls are found by name.
      if ((s.kind ?? 'trap') === 'trap') this.byNumber.set(s.number, s);
    }
    this.pEntry = this.bus.probe('syscall:entry');
    this.pReturn = this.bus.probe('syscall:return');
    this.pFault = this.bus.probe('fault');
    this.faultInfo = { va: 0, access: 0, user: true, reason: '', process: null as unknown as Process };
    this.ids = personality.ids(this);
    this.state = personality.attach(this);
    this.init = this.createProcess(null, personality.processModel.bootComm, ROOT);
  }

  // ---- processes ----------------------------------------------------------------------------

  /**
   * A new process with one thread, child of `parent`. Its address space is a new empty one (the
   * personality's), or `space` when given: a copy the personality made (fork), or the parent's own
   * object to share it (CLONE_VM, vfork) — a shared space is torn down when its last user exits.
   */
  createProcess(parent: Process<S> | null, comm: string, creds: Credentials = parent?.creds ?? ROOT, space?: S, opts: ProcessOptions = {}): Process<S> {
    const pid = this.ids.allocProcessId();
    if (pid < 0) throw this.error('EAGAIN', 'ERROR_NOT_ENOUGH_MEMORY', 'no free PID');
    const tid = this.ids.allocThreadId(pid, true);
    if (tid < 0) {
      this.ids.freeProcessId(pid);
      throw this.error('EAGAIN', 'ERROR_NOT_ENOUGH_MEMORY', 'no free TID');
    }
    const p = new Process<S>(pid, parent, comm, { ...creds });
    const t = new Thread(tid, p);
    p.threads.push(t);
    if (opts.suspended === true) this.suspendThread(t);
    p.space = space ?? this.personality.createAddressSpace(this, p);
    this.spaceUsers.set(p.space as object, (this.spaceUsers.get(p.space as object) ?? 0) + 1);
    parent?.children.push(p);
    this.processes.set(pid, p);
    this.metrics.processesCreated++;
    this.bus.probe('process:create').publish({ pid, ppid: p.ppid, comm });
    return p;
  }

  /** A new thread in `p` (clone with CLONE_THREAD, CreateThread), its TID from the personality's policy. */
  createThread(p: Process<S>, opts: ProcessOptions = {}): Thread {
    const tid = this.ids.allocThreadId(p.pid, false);
    if (tid < 0) throw this.error('EAGAIN', 'ERROR_NOT_ENOUGH_MEMORY', 'no free TID');
    const t = new Thread(tid, p);
    p.threads.push(t);
    if (opts.suspended === true) this.suspendThread(t);
    return t;
  }

  /**
   * One thread ends (exit(2) of a thread that is not the last): a non-leader thread is released at
   * once and its TID freed; the leader stays until the process is reaped (its TID is the PID on
   * Linux); the process itself ends with exitProcess.
   */
  exitThread(t: Thread): void {
    t.state = 'dead';
    t.pending = null;
    const p = t.process as Process<S>;
    if (t === p.threads[0]) return;
    const i = p.threads.indexOf(t);
    if (i >= 0) p.threads.splice(i, 1);
    this.ids.freeThreadId(t.tid, p.pid);
  }

  /**
   * SuspendThread: the thread stops running until as many resumeThread calls. Returns the previous
   * suspend count, or -1 for a dead thread or past MAXIMUM_SUSPEND_COUNT (127).
   */
  suspendThread(t: Thread): number {
    if (t.state === 'dead' || t.suspendCount >= MAX_SUSPEND) return -1;
    const prev = t.suspendCount++;
    if (prev === 0) {
      t.stateBeforeSuspend = t.state === 'blocked' ? 'blocked' : 'runnable';
      t.state = 'suspended';
    }
    return prev;
  }

  /** ResumeThread: decrement the suspend count; at zero the thread runs again. Returns the previous count. */
  resumeThread(t: Thread): number {
    if (t.state === 'dead') return -1;
    const prev = t.suspendCount;
    if (prev > 0 && --t.suspendCount === 0) t.state = t.stateBeforeSuspend;
    return prev;
  }

  /** How many live processes use this address space (mm_users, counted per process). */
  spaceUsersOf(space: S): number {
    return this.spaceUsers.get(space as object) ?? 0;
  }

  /**
   * Give `p` a new address space (exec_mmap): the old one is dropped — torn down if `p` was its
   * last user (a vfork child leaves its parent's untouched) — and `space` becomes current.
   * Replacing a space with itself changes nothing.
   */
  replaceSpace(p: Process<S>, space: S): void {
    if (space === p.space) return;
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

  /**
   * The process exits: it becomes a zombie (POSIX) or a signalled process object (Windows), its
   * children go to the boot process where the kernel does that, its address space is freed.
   */
  exitProcess(p: Process<S>, code: number | null, signal: string | null = null): void {
    if (p.state !== 'running') return;
    const model = this.personality.processModel;
    for (const t of p.threads) {
      t.state = 'dead';
      t.pending = null;
    }
    if (model.adoptsOrphans) {
      for (const c of p.children) {
        c.parent = this.init;
        this.init.children.push(c);
      }
      p.children.length = 0;
    }
    this.dropSpace(p);
    p.state = 'zombie';
    p.killedBy = signal;
    p.exitStatus = this.personality.waitStatus(code, signal);
    this.bus.probe('process:exit').publish({ pid: p.pid, status: p.exitStatus, signal });
    this.personality.onExit?.(this, p);
    // init waits for its children all the time: orphans and its own children are reaped at once.
    if (this.bootReaps) for (const c of [...this.init.children]) if (c.state === 'zombie') this.reap(c);
    if (model.lifetime === 'handles' && p.handles === 0) this.release(p);
  }

  /** Reap a zombie (wait): remove it from the table and free its PID. Returns its wait status. */
  reap(p: Process<S>): number {
    if (p.state !== 'zombie') throw new RangeError(`process ${p.pid} is not a zombie`);
    this.release(p);
    return p.exitStatus ?? 0;
  }

  /** A handle to the process object was opened (OpenProcess, CreateProcess's hProcess, DuplicateHandle). */
  openHandle(p: Process<S>): void {
    if (p.state === 'dead') throw new RangeError(`process ${p.pid} no longer exists`);
    p.handles++;
  }

  /** A handle was closed: an exited process whose last handle closes is deleted and its ID freed. */
  closeHandle(p: Process<S>): void {
    if (p.handles <= 0) throw new RangeError(`process ${p.pid} has no open handle`);
    p.handles--;
    if (p.handles === 0 && p.state === 'zombie' && this.personality.processModel.lifetime === 'handles') this.release(p);
  }

  /** The process object is gone: out of the table, its IDs back to the policy. */
  private release(p: Process<S>): void {
    if (p.state === 'dead') return;
    p.state = 'dead';
    this.processes.delete(p.pid);
    // Threads still listed (the group ended by exit_group or a signal) give their TIDs back too.
    for (const t of p.threads) this.ids.freeThreadId(t.tid, p.pid);
    this.ids.freeProcessId(p.pid);
    if (p.parent !== null) {
      const i = p.parent.children.indexOf(p);
      if (i >= 0) p.parent.children.splice(i, 1);
    }
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
   * A memory access by `thread` to its own process's memory: translate, and on a fault trap into
   * the personality's handler and retry, or deliver the signal it names. Returns the physical
   * address, or -1 when the access did not complete (a signal, a handler that resumed elsewhere,
   * or — for a kernel-mode access — a fixup).
   */
  access(thread: Thread, va: number, access: Access, user = true): number {
    const p = thread.process as Process<S>;
    // A thread of a process that has exited has no address space to access.
    if (p.state !== 'running') return -1;
    if (thread.state === 'suspended') throw new RangeError(`thread ${thread.tid} is suspended: it cannot run until resumed`);
    const cpu = thread.cpu;
    const asid = this.asidOf(p);
    this.mmu.activate(cpu, asid);
    let delivered = false;
    let resolved = false;
    for (let round = 0; round < MAX_FAULT_ROUNDS; round++) {
      // After a resolved fault, translateAgain: the same effects as translate(), without probing
      // TLBs again that it knows still miss.
      const pa = resolved ? this.mmu.translateAgain(cpu, asid, va, access, user) : this.mmu.translate(cpu, asid, va, access, user);
      if (pa !== TRANSLATE_FAULT) return pa;
      resolved = false;
      if (this.mmu.fault.kind === FAULT_TLB_REFILL && this.mmu.refill(cpu, asid, va, access)) continue;
      const res = this.trapFault(thread, p, va, access, user);
      if (res.kind === 'resolved') {
        resolved = true;
        continue;
      }
      if (res.kind === 'fixup') return -1;
      this.metrics.faults.segv++;
      // A handler that returns without fixing the cause would fault forever on a real machine;
      // the second delivery for one access takes the signal's default action instead.
      const action = delivered ? 'default' : this.deliver(thread, res.signal, res.code, va, true);
      // A handler that returned re-executes the access (sigreturn, EXCEPTION_CONTINUE_EXECUTION).
      if (action === 'retry' || action === 'handled') {
        delivered = true;
        round = -1;
        continue;
      }
      if (action === 'default') this.terminate(p, res.signal);
      return -1;
    }
    throw new Error(`${this.personality.name}: fault at 0x${va.toString(16)} still unresolved after ${MAX_FAULT_ROUNDS} attempts (personality bug)`);
  }

  /**
   * Index of the reference accessBatch() was on when it last left its fast path (so a caller can
   * say how far a batch got if the personality's fault handler throws).
   */
  batchIndex = 0;

  /**
   * Accesses `from` up to (not including) `to` of `vas` (addresses) and `accesses` (ACCESS_READ,
   * ACCESS_WRITE or ACCESS_EXEC per reference) by `thread`, in order, with exactly the effects and
   * counts of calling access() on each: L1 4 KiB TLB hits are translated inline by
   * Mmu.translateHits, and every other reference (a miss, a walk, a fault and the personality's
   * handler, a signal) goes through access(). Returns how many did not complete (access() < 0).
   */
  accessBatch(thread: Thread, vas: Float64Array, accesses: Uint8Array, from: number, to: number, user = true): number {
    const p = thread.process as Process<S>;
    const cpu = thread.cpu;
    let failed = 0;
    let i = from;
    while (i < to) {
      // access() checks the process and thread state on every call; only a fault or a signal
      // (the slow path below) can change them, so the fast path runs only while they hold.
      if (p.state === 'running' && thread.state !== 'suspended') {
        const asid = this.asidOf(p);
        this.mmu.activate(cpu, asid);
        i = this.mmu.translateHits(cpu, asid, vas, accesses, i, to, user);
        if (i >= to) break;
      }
      this.batchIndex = i;
      if (this.access(thread, vas[i]!, accesses[i]! as Access, user) < 0) failed++;
      i++;
    }
    return failed;
  }

  /**
   * A kernel-mode access by `caller` to another process's memory (ReadProcessMemory,
   * VirtualAllocEx's callers, ptrace's access_process_vm): the caller's CPU attaches to `target`'s
   * address space, faults are resolved by the personality in the target's space, and a bad
   * address fails without a signal to anyone. Returns the physical address or -1.
   */
  accessIn(caller: Thread, target: Process<S>, va: number, access: Access): number {
    if (target.state !== 'running') return -1;
    const cpu = caller.cpu;
    const asid = this.asidOf(target);
    this.mmu.activate(cpu, asid);
    let pa = -1;
    for (let round = 0; round < MAX_FAULT_ROUNDS; round++) {
      pa = this.mmu.translate(cpu, asid, va, access, false);
      if (pa !== TRANSLATE_FAULT) break;
      if (this.mmu.fault.kind === FAULT_TLB_REFILL && this.mmu.refill(cpu, asid, va, access)) continue;
      if (this.trapFault(caller, target, va, access, false).kind !== 'resolved') {
        pa = -1;
        break;
      }
    }
    // Back to the caller's own address space (KeUnstackDetachProcess).
    const own = caller.process as Process<S>;
    if (own.state === 'running') this.mmu.activate(cpu, this.asidOf(own));
    return pa === TRANSLATE_FAULT ? -1 : pa;
  }

  /** One page-fault trap: charge it, ask the personality, fire the probe. */
  private trapFault(thread: Thread, p: Process<S>, va: number, access: Access, user: boolean): FaultResolution {
    const m = this.metrics;
    const costs = this.mmu.profile.costs;
    const f = this.mmu.fault;
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
    info.process = p;
    const res = this.personality.handleFault(this, thread, info);
    if (this.pFault.active) {
      const resolution = res.kind === 'resolved' ? res.how : res.kind === 'signal' ? res.signal : 'fixup';
      this.pFault.fire({ pid: p.pid, va, access, user, reason, resolution, cycles: m.cycles - before });
    }
    return res;
  }

  /**
   * Copy bytes from `target`'s memory for `caller` (NtReadVirtualMemory, process_vm_readv): the
   * bytes read before the first inaccessible page (all of them on success), charged to the
   * caller. Without page contents the bytes read as zeros.
   */
  readProcessMemory(caller: Thread, target: Process<S>, va: number, length: number): Uint8Array {
    return this.copyPages(caller, target, va, length, ACCESS_READ, null);
  }

  /** Copy `bytes` into `target`'s memory for `caller`: how many bytes were written (fewer: a partial copy). */
  writeProcessMemory(caller: Thread, target: Process<S>, va: number, bytes: Uint8Array): number {
    return this.copyPages(caller, target, va, bytes.length, ACCESS_WRITE, bytes).length;
  }

  /** copy_to_user / clear_user in the caller's own space (`bytes` null: zeros). Returns bytes written. */
  copyToUser(thread: Thread, va: number, bytes: Uint8Array | null, length = bytes?.length ?? 0): number {
    return this.copyPages(thread, null, va, length, ACCESS_WRITE, bytes ?? new Uint8Array(length)).length;
  }

  /** copy_from_user in the caller's own space: the bytes read before the first bad page. */
  copyFromUser(thread: Thread, va: number, length: number): Uint8Array {
    return this.copyPages(thread, null, va, length, ACCESS_READ, null);
  }

  private copyPages(thread: Thread, target: Process<S> | null, va: number, length: number, access: Access, src: Uint8Array | null): Uint8Array {
    const frames = this.mmu.frames;
    const page = this.mmu.profile.pageTable.pageSizes[0]!;
    const out = src ?? new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const at = va + done;
      const n = Math.min(page - (at % page), length - done);
      const pa = target === null ? this.access(thread, at, access, false) : this.accessIn(thread, target, at, access);
      if (pa < 0) break;
      if (frames.contentsEnabled) {
        if (src === null) out.set(frames.read(pa, n), done);
        else frames.write(pa, src.subarray(done, done + n));
      }
      done += n;
    }
    this.metrics.cycles += Math.ceil((this.mmu.profile.costs.copyPage * done) / page);
    if (target !== null) this.metrics.bytesCopiedCrossProcess += done;
    return out.subarray(0, done);
  }

  // ---- signals and exceptions ---------------------------------------------------------------

  /**
   * Deliver a signal (or exception) to a process: its personality's `deliver` decides (a handler,
   * ignored, or the default action); the default action of a fatal signal ends the process.
   */
  signal(p: Process<S>, signal: string, code = ''): Delivery {
    if (this.personality.signals[signal] === undefined) throw new RangeError(`${this.personality.name} has no signal ${signal}`);
    const t = p.threads.find((x) => x.state !== 'dead');
    const action = t === undefined ? 'default' : this.deliver(t, signal, code, null, false);
    if (action === 'default') this.terminate(p, signal);
    return action;
  }

  /** The signal's default action: the process ends with it (no handler is asked). */
  terminate(p: Process<S>, signal: string): void {
    if (this.personality.signals[signal] === undefined) throw new RangeError(`${this.personality.name} has no signal ${signal}`);
    this.exitProcess(p, null, signal);
  }

  private deliver(thread: Thread, signal: string, code: string, address: number | null, fromFault: boolean): Delivery {
    if (this.personality.signals[signal] === undefined) throw new RangeError(`${this.personality.name} has no signal ${signal}`);
    const info: SignalInfo = { signal, code, address, fromFault };
    let action = this.personality.deliver?.(this, thread, info) ?? 'default';
    // A fault's signal cannot be ignored: the access would fault again (force_sig_fault resets it).
    if (fromFault && action === 'ignore') action = 'default';
    this.bus.probe('signal').publish({ pid: (thread.process as Process<S>).pid, signal, code, action });
    return action;
  }

  // ---- calls --------------------------------------------------------------------------------

  /** Enter the kernel (or a system library) with a call by name or trap number. */
  syscall(thread: Thread, call: string | number, args: readonly SyscallArg[] = []): SyscallResult {
    // A thread sleeping in a call is still inside it: it makes no other call until resumed.
    if (thread.pending !== null) throw new RangeError(`thread ${thread.tid} is sleeping in ${thread.pending.spec.name}: resume it (kernel.resume) before its next call`);
    const spec = typeof call === 'string' ? this.byName.get(call) : this.byNumber.get(call);
    if (spec === undefined) return this.noSuchCall(thread);
    return this.invoke(thread, spec, args, 0);
  }

  /** The spec of a call by name (apps decode arguments with it). */
  callSpec(name: string): SyscallSpec<S, M> | undefined {
    return this.byName.get(name);
  }

  /** A nested call made by a library call's handler (`ctx.call`), one level below `depth`. @internal */
  invokeNested(thread: Thread, caller: string, depth: number, name: string, args: readonly SyscallArg[]): SyscallResult {
    const spec = this.byName.get(name);
    if (spec === undefined) throw new RangeError(`${caller} calls ${name}, which ${this.personality.name} does not have`);
    return this.invoke(thread, spec, args, depth + 1);
  }

  private noSuchCall(thread: Thread): SyscallResult {
    // An unknown number: a trap into the kernel that fails (ENOSYS; STATUS_INVALID_SYSTEM_SERVICE on NT).
    const m = this.metrics;
    const costs = this.mmu.profile.costs;
    m.syscalls++;
    m.traps.syscall++;
    m.cycles += costs.trapEntry + costs.trapExit;
    const space = this.personality.errorSpace;
    const name = noSuchCall(space);
    const num = errorNumber(space, name) ?? 0;
    thread.errors[space] = { name, number: num };
    thread.lastError = name;
    thread.lastErrorNumber = num;
    return { value: this.personality.failureValue(num), error: name, errorNumber: num };
  }

  private invoke(thread: Thread, spec: SyscallSpec<S, M>, args: readonly SyscallArg[], depth: number): SyscallResult {
    const p = thread.process as Process<S>;
    const m = this.metrics;
    const costs = this.mmu.profile.costs;
    const trap = (spec.kind ?? 'trap') === 'trap';
    const start = m.cycles;
    if (trap) {
      m.syscalls++;
      m.traps.syscall++;
      m.cycles += costs.trapEntry;
    }
    const kind = trap ? 'trap' : 'library';
    if (this.pEntry.active) this.pEntry.fire({ pid: p.pid, tid: thread.tid, name: spec.name, number: spec.number, args, kind, depth });
    const frame = new CallFrame<S, M>(this, thread, p, spec, depth, start);
    const value = spec.handler(frame, args);
    return this.finish(frame, value);
  }

  private finish(frame: CallFrame<S, M>, value: number): SyscallResult {
    const start = frame.start;
    const { thread, spec, depth } = frame;
    const trap = (spec.kind ?? 'trap') === 'trap';
    // A sleeping trap has not returned to user mode yet: its exit is charged when it finishes.
    if (trap && !frame.blocked) this.metrics.cycles += this.mmu.profile.costs.trapExit;
    if (depth === 0) {
      thread.lastError = frame.error;
      thread.lastErrorNumber = frame.errorNumber;
    }
    if (this.pReturn.active) {
      this.pReturn.fire({
        pid: frame.process.pid, tid: thread.tid, name: spec.name, value, error: frame.error, cycles: this.metrics.cycles - start,
        kind: trap ? 'trap' : 'library', depth, blocked: frame.blocked,
      });
    }
    return frame.result(value);
  }

  /** A sleeping thread's wait is over: it becomes runnable (a suspended one stays suspended). */
  wake(thread: Thread): void {
    if (thread.state === 'blocked') thread.state = 'runnable';
    else if (thread.state === 'suspended' && thread.stateBeforeSuspend === 'blocked') thread.stateBeforeSuspend = 'runnable';
  }

  /**
   * Continue the call `thread` sleeps in (after `wake`): the scheduler switches to the thread and
   * the continuation runs; it finishes the call, or sleeps again.
   */
  resume(thread: Thread): SyscallResult {
    const pending = thread.pending;
    if (pending === null) throw new RangeError(`thread ${thread.tid} is not sleeping in a call`);
    if (thread.state !== 'runnable') throw new RangeError(`thread ${thread.tid} is ${thread.state}: wake it before resuming`);
    thread.pending = null;
    this.metrics.contextSwitches++;
    // The frame's start leaves out the sleep: the call is charged its own work only.
    const frame = new CallFrame<S, M>(this, thread, thread.process as Process<S>, pending.spec, 0, this.metrics.cycles - pending.spent);
    const value = pending.resume(frame);
    return this.finish(frame, value);
  }

  /** A typed error in the personality's error space: the POSIX errno, or the Win32 code on Windows. */
  error(posix: ErrnoName, win32: Win32ErrorName, detail?: string): KernelError | Win32Error {
    const space = this.personality.errorSpace;
    if (space === 'win32' || space === 'ntstatus') return new Win32Error(win32, detail);
    return new KernelError(space, posix, detail);
  }
}
