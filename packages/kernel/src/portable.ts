/**
 * Portable intents: one workload, every kernel. A portable step says what a program wants
 * (allocate 16 MiB read-write, fork, spawn /bin/true, wait for the child, map a file) and each
 * personality's `PortableDriver` turns it into that kernel's NATIVE calls through the kernel's own
 * gate (`kernel.syscall`), so system calls, traps, faults and cycles are counted the native way:
 *
 *   intent  Linux                            FreeBSD                                Windows                               Cygwin
 *   alloc   mmap(MAP_PRIVATE|MAP_ANONYMOUS)  mmap(MAP_PRIVATE|MAP_ANON)             VirtualAlloc(MEM_RESERVE|MEM_COMMIT)  mmap over VirtualAlloc/NtMapViewOfSection
 *   fork    fork (COW, dup_mmap)             fork (COW, vmspace_fork)               n/a: no fork in Win32                 its emulated fork (CreateProcess + copies)
 *   spawn   fork + execve in the child       rfork(RFSPAWN) + execve (posix_spawn)  CreateProcessW                        spawnve over CreateProcessW
 *
 * A driver never fakes a result: a step its kernel cannot do comes back `unsupported` with the
 * reason (apps print "n/a: <reason>"), a native failure comes back `failed` with the error name in
 * the failing call's error space (ENOMEM, ERROR_INVALID_PARAMETER, STATUS_NO_MEMORY).
 *
 * Memory touches, stores and loads are not driver calls: they are the machine's accesses, the same
 * on every kernel (`kernel.access(thread, va, access)`), and the personality's fault handler does
 * the rest. See docs/personality-contract.md, "Portable drivers".
 */
import type { ErrorSpace, SyscallArg } from './contract.js';
import type { Kernel, SyscallResult } from './kernel.js';
import type { Process, Thread } from './process.js';

/** The portable intents, in the order docs and `--help` list them. */
export const PORTABLE_OPS = ['alloc', 'free', 'protect', 'fork', 'spawn', 'exec', 'exit', 'wait', 'mapFile', 'open', 'read', 'write', 'close'] as const;
export type PortableOp = (typeof PORTABLE_OPS)[number];

/**
 * A portable intent's outcome:
 * - `ok`: the value (an address, a child, a byte count ...) and optionally a one-line detail
 *   (`/usr/bin/true + /lib64/ld-linux-x86-64.so.2`);
 * - `failed`: the kernel refused: `error` is the name in `space` (the failing call's own error
 *   space), `call` the native call that failed (`mmap`, `VirtualAlloc`, `NtCreateUserProcess`);
 * - `unsupported`: this kernel has no way to do it (Windows has no fork): `reason` says why;
 * - `blocked`: the thread sleeps in `call` (a wait for a child that has not exited). Once the
 *   kernel wakes it (`thread.state === 'runnable'`), the app calls the same method again with the
 *   same arguments, and the driver finishes the sleeping call (`gate` does that).
 */
export type PortableResult<T> =
  | { readonly kind: 'ok'; readonly value: T; readonly detail?: string }
  | { readonly kind: 'failed'; readonly call: string; readonly error: string; readonly space: ErrorSpace; readonly detail?: string }
  | { readonly kind: 'unsupported'; readonly reason: string }
  | { readonly kind: 'blocked'; readonly call: string };

/** A range of a process's memory that an alloc or mapFile gave back. */
export interface PortableRegion {
  /** Its first byte (the address mmap / VirtualAlloc / MapViewOfFile returned). */
  readonly addr: number;
  /** Its length in bytes as the kernel made it (rounded up to pages). */
  readonly length: number;
}

/**
 * A child made by fork or spawn: its process, the thread that runs its steps, and `ref`, what the
 * parent holds to name it — the PID on POSIX kernels, the process HANDLE on Windows. `wait` takes
 * the ref.
 */
export interface PortableChild<S = unknown> {
  readonly process: Process<S>;
  readonly thread: Thread;
  readonly ref: number;
}

/** What a wait collected: which child, its native status and the status decoded. */
export interface PortableWait {
  /** The ref the parent named the child by (PID or HANDLE). */
  readonly ref: number;
  readonly pid: number;
  /** The native status: a wait(2) status word, or the Windows exit code. */
  readonly status: number;
  /** The exit code when the child exited, null when a signal or exception ended it. */
  readonly exitCode: number | null;
  /** The signal or exception that ended it, by name, or null. */
  readonly signal: string | null;
}

/** What an exec (or spawn) loaded. */
export interface PortableImage {
  /** The program as the kernel resolved it. */
  readonly path: string;
  /** The ELF interpreter (PT_INTERP) the kernel loaded as well, or null. */
  readonly interpreter: string | null;
  /**
   * Where the program runs from now on, when the kernel gives it another process and thread
   * (Cygwin's execve: a new Windows process under the same Cygwin PID, the old one a stub);
   * absent when the caller's own process and thread go on (Linux, FreeBSD).
   */
  readonly continuesIn?: { readonly process: Process; readonly thread: Thread };
}

/** Protection bits: PROT_READ 1, PROT_WRITE 2, PROT_EXEC 4 (core's PROT_*); Windows drivers turn them into PAGE_* values. */
export type PortableProt = number;

export interface AllocRequest {
  /** Bytes; the kernel rounds up (to pages; Windows also aligns the base to 64 KiB). */
  readonly size: number;
  readonly prot: PortableProt;
  /** A placement hint (mmap's addr without MAP_FIXED, VirtualAlloc's lpAddress), when given. */
  readonly addr?: number;
}

export interface SpawnRequest {
  /** The program, as the workload names it (an absolute path under the sysroot). */
  readonly path: string;
  readonly argv: readonly string[];
  readonly env?: readonly string[];
}

export type ExecRequest = SpawnRequest;

export interface MapFileRequest {
  readonly path: string;
  readonly prot: PortableProt;
  /** Shared (writes reach the file: MAP_SHARED, a section view) or private (copy-on-write: MAP_PRIVATE, PAGE_WRITECOPY). */
  readonly shared: boolean;
  /** Bytes to map; default the file's size (what fstat / GetFileSizeEx report). */
  readonly length?: number;
  /** Offset in the file, a multiple of the page size (64 KiB on Windows). */
  readonly offset?: number;
}

/**
 * A portable open, as the step's flags ask it. The access mode is the program's O_RDONLY,
 * O_WRONLY or O_RDWR (`openAccess`): `write: false` reads only; `write: true` reads and writes
 * unless `read: false` says the file is opened for writing only (O_WRONLY), so that a read of it
 * fails the way that kernel's read fails on such a descriptor (EBADF; ERROR_ACCESS_DENIED from
 * ReadFile, which the UCRT's _read turns into EBADF).
 */
export interface OpenRequest {
  readonly path: string;
  readonly write: boolean;
  /** Open for reading too; default true. With `write: true`, false is O_WRONLY / GENERIC_WRITE alone. */
  readonly read?: boolean;
  /** Create the file when missing (O_CREAT, OPEN_ALWAYS). */
  readonly create?: boolean;
  /** Truncate it (O_TRUNC, CREATE_ALWAYS / TRUNCATE_EXISTING). */
  readonly truncate?: boolean;
}

/** An open's access mode: O_RDONLY (`read`), O_WRONLY (`write`) or O_RDWR (`readwrite`). */
export type OpenAccess = 'read' | 'write' | 'readwrite';

/** The access mode a portable open asks for; every driver maps it to its own flags. */
export function openAccess(req: OpenRequest): OpenAccess {
  if (!req.write) return 'read';
  return req.read === false ? 'write' : 'readwrite';
}

/**
 * The portable driver a personality supplies (`Personality.portable`). Every method is user-mode
 * code of a program on that kernel: it makes the kernel's native calls for `thread` through
 * `kernel.syscall` (or `gate` below), never changes kernel state behind the gate, and returns a
 * `PortableResult`. `kernel` and `thread` are the caller's; a method may also make calls on a
 * child's thread (spawn: the child's execve).
 */
export interface PortableDriver<S, M = unknown> {
  /**
   * The native path of each intent in one line, for `--help`, reports and docs:
   * `alloc: 'mmap(NULL, size, prot, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)'`, or `'n/a: <reason>'`.
   */
  readonly native: Readonly<Record<PortableOp, string>>;
  /**
   * How a workload's top-level process comes to be; default `kernel.createProcess(kernel.init, comm)`
   * (a Windows driver may open the handle its creator would hold).
   */
  start?(kernel: Kernel<S, M>, comm: string): PortableChild<S>;
  /** Anonymous private zero-filled memory. Linux/FreeBSD: mmap(MAP_PRIVATE|MAP_ANON); Windows: VirtualAlloc(MEM_RESERVE|MEM_COMMIT, PAGE_*). */
  alloc(kernel: Kernel<S, M>, thread: Thread, req: AllocRequest): PortableResult<PortableRegion>;
  /** Give a region back. Linux/FreeBSD: munmap(addr, length); Windows: VirtualFree(addr, 0, MEM_RELEASE) (the whole allocation). */
  free(kernel: Kernel<S, M>, thread: Thread, region: PortableRegion): PortableResult<number>;
  /** Change a range's protection. Linux/FreeBSD: mprotect; Windows: VirtualProtect (the old protection comes back in `detail`). */
  protect(kernel: Kernel<S, M>, thread: Thread, region: PortableRegion, prot: PortableProt): PortableResult<number>;
  /**
   * A child that is a copy of the caller. Linux: fork (dup_mmap, COW); FreeBSD: fork (vmspace_fork);
   * Windows: unsupported (Win32 has no fork); Cygwin: its emulated fork (CreateProcess of the same
   * image, then copies of data, bss, heap and stack into the child). The child's thread is runnable.
   */
  fork(kernel: Kernel<S, M>, thread: Thread): PortableResult<PortableChild<S>>;
  /**
   * A child running `path`. Linux: fork, then execve in the child; FreeBSD: what libc's
   * posix_spawn does, rfork(RFSPAWN) (the child borrows the parent's vmspace, the parent asleep
   * until the child's execve or exit), then execve in the child. A failed execve: the child
   * _exit(127)s and the result is `failed` with execve's error. Windows: CreateProcessW; Cygwin:
   * spawnve. The value's `thread` is the child's (its steps, if any, run after the exec).
   */
  spawn(kernel: Kernel<S, M>, thread: Thread, req: SpawnRequest): PortableResult<PortableChild<S>>;
  /**
   * Replace the caller's program. Linux/FreeBSD: execve; Windows: unsupported (a Win32 process
   * cannot replace its image: CreateProcess + ExitProcess is spawn); Cygwin: its execve (a new
   * Windows process that takes over the Cygwin PID). A process killed past the point of no return
   * is not running afterwards: apps check `process.state`.
   */
  exec(kernel: Kernel<S, M>, thread: Thread, req: ExecRequest): PortableResult<PortableImage>;
  /** End the caller's process with `code`. Linux: exit_group; FreeBSD: exit; Windows: ExitProcess (NtTerminateProcess). */
  exit(kernel: Kernel<S, M>, thread: Thread, code: number): PortableResult<number>;
  /**
   * Collect a child that ended: `ref` (from fork/spawn) or null for any child. Linux: wait4;
   * FreeBSD: wait4 / wait6; Windows: WaitForSingleObject + GetExitCodeProcess + CloseHandle (no
   * wait-for-any without handles: unsupported for null unless the driver keeps them). May be `blocked`.
   */
  wait(kernel: Kernel<S, M>, thread: Thread, ref: number | null): PortableResult<PortableWait>;
  /** Map a file. Linux/FreeBSD: open + mmap(fd) + close; Windows: CreateFileW + CreateFileMappingW + MapViewOfFile + CloseHandle ×2. */
  mapFile(kernel: Kernel<S, M>, thread: Thread, req: MapFileRequest): PortableResult<PortableRegion>;
  /** Open a file: the value is the descriptor (POSIX) or HANDLE (Windows). Linux: openat; FreeBSD: openat; Windows: CreateFileW. */
  open(kernel: Kernel<S, M>, thread: Thread, req: OpenRequest): PortableResult<number>;
  /** Read into [addr, addr+length) of the caller's memory: bytes read. read(2) / ReadFile (NtReadFile). */
  read(kernel: Kernel<S, M>, thread: Thread, handle: number, addr: number, length: number): PortableResult<number>;
  /** Write from the caller's memory: bytes written. write(2) / WriteFile (NtWriteFile). */
  write(kernel: Kernel<S, M>, thread: Thread, handle: number, addr: number, length: number): PortableResult<number>;
  /** close(2) / CloseHandle. */
  close(kernel: Kernel<S, M>, thread: Thread, handle: number): PortableResult<number>;
}

// ---- helpers for drivers ------------------------------------------------------------------------

export function ok<T>(value: T, detail?: string): PortableResult<T> {
  return detail === undefined ? { kind: 'ok', value } : { kind: 'ok', value, detail };
}

export function unsupported(reason: string): PortableResult<never> {
  return { kind: 'unsupported', reason };
}

export function failed(call: string, error: string, space: ErrorSpace, detail?: string): PortableResult<never> {
  return detail === undefined ? { kind: 'failed', call, error, space } : { kind: 'failed', call, error, space, detail };
}

/**
 * A native call's failure as a portable one, in the call's own error space (its spec's `errors`,
 * else the personality's). Returns null when the call succeeded, so a driver writes
 * `const f = failure(k, 'mmap', r); if (f !== null) return f;`.
 */
export function failure<S, M>(kernel: Kernel<S, M>, call: string, r: SyscallResult): PortableResult<never> | null {
  if (r.error === null) return null;
  return failed(call, r.error, kernel.callSpec(call)?.errors ?? kernel.personality.errorSpace);
}

/**
 * Make a native call for `thread` through the gate, finishing first a call the thread sleeps in
 * and was woken from (`kernel.resume`): when that call is `name` itself, its result is this call's
 * (a wait4 that slept and is retried); a different one (a vfork parent released by its child's
 * exec) completes and then `name` is called. A thread still asleep gets `blocked: true` back
 * without a new call.
 */
export function gate<S, M>(kernel: Kernel<S, M>, thread: Thread, name: string, args: readonly SyscallArg[] = []): SyscallResult {
  const sleeping = thread.pending?.spec.name;
  if (sleeping !== undefined) {
    if (thread.state !== 'runnable') return { value: 0, error: null, errorNumber: 0, blocked: true };
    const r = kernel.resume(thread);
    if (sleeping === name || r.blocked === true) return r;
  }
  return kernel.syscall(thread, name, args);
}

/** How apps print an outcome: the value's text, `n/a: <reason>`, `ENOMEM (mmap)`, `blocked in wait4`. */
export function describeResult<T>(r: PortableResult<T>, show: (value: T) => string): string {
  switch (r.kind) {
    case 'ok':
      return r.detail === undefined ? show(r.value) : `${show(r.value)} (${r.detail})`;
    case 'failed':
      return `${r.error} (${r.call})${r.detail === undefined ? '' : `: ${r.detail}`}`;
    case 'unsupported':
      return `n/a: ${r.reason}`;
    case 'blocked':
      return `blocked in ${r.call}`;
  }
}

/** The default `start`: a process of the boot process, as a shell would make it. */
export function startProcess<S, M>(kernel: Kernel<S, M>, comm: string): PortableChild<S> {
  const process = kernel.createProcess(kernel.init, comm);
  return { process, thread: process.threads[0]!, ref: process.pid };
}
