/**
 * The Personality contract, draft 3: what a kernel personality (Linux, FreeBSD, Windows, Cygwin, or
 * a teaching toy) gives the core, and what the core does for it. See docs/personality-contract.md.
 *
 * `S` is the personality's per-process address-space state (mm_struct, vm_map, VAD tree) and `M`
 * its per-machine state (commit accounting, page caches, the zero page ...), made by `attach`.
 */
import type { ErrnoOs, FaultKind, MetricsData } from '@polykernel/core';
import type { Access, PageTable } from '@polykernel/mmu';
import type { IdPolicy } from './ids.js';
import type { Kernel, SyscallResult } from './kernel.js';
import type { PortableDriver } from './portable.js';
import type { Process, Thread } from './process.js';

/**
 * A system call argument as the dispatcher passes it: numbers (addresses, flags), strings (paths)
 * or string vectors (execve's argv and envp, already copied in from user memory).
 */
export type SyscallArg = number | string | readonly string[];

/**
 * Whose numbers an error is in: an OS's errno (Linux, FreeBSD, Cygwin's newlib numbering), Win32
 * LastError codes, or NTSTATUS values.
 */
export type ErrorSpace = ErrnoOs | 'win32' | 'ntstatus';

/** A field of a structured result: the plain values a C struct holds. */
export type RecordValue = number | string | boolean | null | readonly number[] | readonly string[];

/**
 * A structured result beside a call's value, named after the real struct
 * (MEMORY_BASIC_INFORMATION, PROCESS_INFORMATION, kinfo_vmentry, a wait status ...), so apps can
 * print any personality's records without knowing their types.
 */
export interface CallRecord {
  readonly type: string;
  readonly fields: Readonly<Record<string, RecordValue>>;
}

export interface SyscallContext<S, M = unknown> {
  readonly kernel: Kernel<S, M>;
  readonly thread: Thread;
  readonly process: Process<S>;
  /** The spec being run (its error space decides how `fail` numbers errors). */
  readonly spec: SyscallSpec<S, M>;
  /**
   * Fail with an error named in this call's error space (errno, Win32, NTSTATUS); returns the
   * value the call returns then (the spec's or personality's failure value).
   */
  fail(error: string, detail?: string): number;
  /**
   * Call another call of the personality from inside this one (a library call over a trap, such
   * as VirtualAlloc over NtAllocateVirtualMemory). A trap counts as one; a library call does not.
   * This call's own error state is left as it was: the nested result comes back, not thrown.
   */
  call(name: string, args?: readonly SyscallArg[]): SyscallResult;
  /** Attach a structured result to this call (it comes back in `SyscallResult.record`). */
  record(r: CallRecord): void;
  /**
   * Sleep: the thread becomes `blocked` and the call returns `value` to the driver for now.
   * Once something calls `kernel.wake(thread)`, the driver runs `kernel.resume(thread)`, which
   * runs `resume` (which may block again) and finishes the call with its value. The core does not
   * restart calls: Linux's -ERESTARTSYS is the Linux personality's encoding, not the mechanism.
   */
  block(reason: string, resume: (ctx: SyscallContext<S, M>) => number, value?: number): number;
}

/**
 * A trap is a real kernel entry (syscall/sysenter/svc, or int 2e on NT) and is charged as one; a
 * library call is user-mode code in a system library (kernel32's VirtualAlloc, cygwin1.dll's
 * fork, libc's posix_spawn) that makes other calls.
 */
export type CallKind = 'trap' | 'library';

export interface SyscallSpec<S, M = unknown> {
  name: string;
  /** The number in its table (x86-64 Linux: mmap 9, munmap 11; library calls: an ordinal or -1). */
  number: number;
  /** Argument names, for traces and decoding. */
  args: readonly string[];
  /** Which table it belongs to ('x86_64', 'nt', 'kernel32', 'cygwin1'); default 'syscalls'. */
  table?: string;
  /** Default 'trap'. */
  kind?: CallKind;
  /** The error space its failures are in; default the personality's `errorSpace`. */
  errors?: ErrorSpace;
  /** Its failure return value for an error number; default the personality's `failureValue`. */
  failureValue?(errorNumber: number): number;
  handler(ctx: SyscallContext<S, M>, args: readonly SyscallArg[]): number;
}

/**
 * What the core tells a personality about a fault it could not satisfy from the TLB and page
 * tables. The record is reused for the next fault: read it during handleFault, do not keep it.
 */
export interface FaultInfo {
  va: number;
  access: Access;
  user: boolean;
  /** 'not-present' | 'write-protect' | 'exec-protect' | 'user-protect' | 'bad-address' */
  reason: string;
  /**
   * The process whose address space faulted. It is the faulting thread's own process, except for
   * cross-process accesses (`kernel.accessIn`: ReadProcessMemory, ptrace, access_process_vm).
   */
  process: Process;
}

/** The personality's answer: fixed (retry the access), or a signal/exception for the thread. */
export type FaultResolution =
  | { kind: 'resolved'; how: FaultKind }
  | { kind: 'signal'; signal: string; code: string }
  /** A kernel-mode access to a bad user address: the copy routine fails (EFAULT), no signal (exception-table fixup). */
  | { kind: 'fixup' };

/** A signal or exception the core is delivering to a thread (from a fault, or `kernel.signal`). */
export interface SignalInfo {
  signal: string;
  code: string;
  /** The faulting address, for a fault's signal; null otherwise. */
  address: number | null;
  /** Whether a retry of the access is possible (a fault's signal); false for a plain signal. */
  fromFault: boolean;
}

/**
 * The personality's delivery decision: `default` (the default action: the core terminates the
 * process), `retry` (a handler ran and returned: re-execute the faulting access — Linux's
 * sigreturn, Windows' EXCEPTION_CONTINUE_EXECUTION), `skip` (a handler ran and resumed elsewhere:
 * siglongjmp, or a changed context: the access is abandoned, the process lives), `ignore` (the
 * signal is discarded: a non-fault signal whose disposition is SIG_IGN), `handled` (a handler ran
 * for a signal that did not come from a fault, and the thread goes on where it was).
 */
export type Delivery = 'default' | 'retry' | 'skip' | 'ignore' | 'handled';

/** How processes begin and end on this kernel. */
export interface ProcessModel {
  /** The boot process's command name: 'init' (Linux, FreeBSD) or 'System' (Windows, PID 4). */
  bootComm: string;
  /** Orphans are re-parented to the boot process (POSIX), or keep their dead parent's ID (Windows). */
  adoptsOrphans: boolean;
  /** The boot process reaps its zombie children at once, as init's wait loop does. */
  bootReaps: boolean;
  /**
   * What keeps an exited process's object alive: its parent's wait (POSIX zombies, freed by
   * `kernel.reap`) or open handles (Windows: the object and its ID live until the last handle
   * closes, `kernel.closeHandle`).
   */
  lifetime: 'wait' | 'handles';
}

/** One row of a view: the fields of one line, by column name. */
export type ViewRow = Readonly<Record<string, RecordValue>>;

/**
 * A native view of a process: `/proc/<pid>/maps`, `procstat -v`, a VirtualQuery walk. Apps list
 * a personality's views and render them without knowing its types.
 */
export interface ViewSpec<S, M = unknown> {
  /** Short key: 'maps', 'smaps', 'status', 'procstat-v', 'virtualquery'. */
  name: string;
  /** What a user of the real kernel calls it: '/proc/<pid>/maps', 'procstat -v <pid>'. */
  title: string;
  /** The real tool's text, byte for byte where the personality reproduces it. */
  render(kernel: Kernel<S, M>, process: Process<S>): string;
  /** The same content as rows of fields (for --json and tables), when the view has rows. */
  rows?(kernel: Kernel<S, M>, process: Process<S>): readonly ViewRow[];
}

/** A metrics field by path: 'syscalls', 'faults.zeroFill', 'traps.pageFault'. */
export type MetricPath =
  | Exclude<keyof MetricsData, 'traps' | 'faults'>
  | `faults.${keyof MetricsData['faults']}`
  | `traps.${keyof MetricsData['traps']}`;

export interface Personality<S, M = unknown> {
  /** Short name, e.g. 'linux-6.x', 'freebsd-14', 'windows-11', 'cygwin'. */
  readonly name: string;
  /** The kernel version or variant it models, for views and reports. */
  readonly version: string;
  /** Default machine profile name (mmu getProfile). */
  readonly defaultProfile: string;
  /** Whose error numbers its calls return by default (a spec may name another). */
  readonly errorSpace: ErrorSpace;
  /** Failure return value convention: Linux returns -errno from the syscall, Windows FALSE/NULL. */
  failureValue(errorNumber: number): number;
  readonly syscalls: readonly SyscallSpec<S, M>[];
  /** Signal (or exception) numbers by name: SIGSEGV is 11 on Linux and FreeBSD, SIGBUS 7 vs 10. */
  readonly signals: Readonly<Record<string, number>>;
  /** Encode an exit status for wait (Linux/FreeBSD: code << 8, or the signal number). */
  waitStatus(exitCode: number | null, signal: string | null): number;
  /** How processes begin and end: the boot process, orphans, what keeps an exited process. */
  readonly processModel: ProcessModel;
  /** The kernel's PID/TID numbering (one policy object per machine). */
  ids(kernel: Kernel<S, M>): IdPolicy;
  /**
   * The per-machine state (`kernel.state`), made once when a Kernel is built, before the boot
   * process. A personality object is a factory: several kernels may share it, never its state.
   */
  attach(kernel: Kernel<S, M>): M;

  /** Set up the address-space state of a new process (an empty mm / vm_map / VAD tree). */
  createAddressSpace(kernel: Kernel<S, M>, process: Process<S>): S;
  /** Tear it down, returning every frame and table page. */
  destroyAddressSpace(kernel: Kernel<S, M>, process: Process<S>): void;
  /** The page table the MMU walks for this process. */
  pageTableOf(space: S): PageTable;
  /** Called after a process became a zombie (wake a vfork parent or a waiting parent, SIGCHLD). */
  onExit?(kernel: Kernel<S, M>, process: Process<S>): void;
  /** Resolve a fault (demand paging, COW, stack growth) or say which signal it becomes. */
  handleFault(kernel: Kernel<S, M>, thread: Thread, fault: FaultInfo): FaultResolution;
  /**
   * Deliver a signal or exception to `thread`: run its handler (charging what that costs) and
   * say what happens next. Without this member every signal takes its default action.
   */
  deliver?(kernel: Kernel<S, M>, thread: Thread, info: SignalInfo): Delivery;
  /** The native views of a process (maps, procstat -v, VirtualQuery walk). */
  readonly views: readonly ViewSpec<S, M>[];
  /** The metrics fields this personality fills (the contract kit checks each one moves). */
  readonly metricsFilled: readonly MetricPath[];
  /**
   * The portable-intent driver (portable.ts): alloc, fork, spawn, wait, mapFile ... as this
   * kernel's native calls. Without it, apps report portable steps as n/a for this personality.
   */
  readonly portable?: PortableDriver<S, M>;
}
