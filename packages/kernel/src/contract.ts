/**
 * The Personality contract: what a kernel personality (Linux, FreeBSD, Windows, Cygwin, or a
 * teaching toy) gives the core, and what the core does for it. See docs/personality-contract.md.
 */
import type { ErrnoName, ErrnoOs, FaultKind, Win32ErrorName } from '@polykernel/core';
import type { Access } from '@polykernel/mmu';
import type { Kernel } from './kernel.js';
import type { Process, Thread } from './process.js';

/**
 * A system call argument as the dispatcher passes it: numbers (addresses, flags), strings (paths)
 * or string vectors (execve's argv and envp, already copied in from user memory).
 */
export type SyscallArg = number | string | readonly string[];

export interface SyscallContext<S> {
  readonly kernel: Kernel<S>;
  readonly thread: Thread;
  readonly process: Process<S>;
  /** Fail with an error of the personality's error space; returns the value the call returns then. */
  fail(error: ErrnoName | Win32ErrorName, detail?: string): number;
}

export interface SyscallSpec<S> {
  name: string;
  /** The number in the personality's table (x86-64 Linux: mmap 9, munmap 11, ...). */
  number: number;
  /** Argument names, for traces and decoding. */
  args: readonly string[];
  handler(ctx: SyscallContext<S>, args: readonly SyscallArg[]): number;
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
}

/** The personality's answer: fixed (retry the access), or a signal/exception for the thread. */
export type FaultResolution =
  | { kind: 'resolved'; how: FaultKind }
  | { kind: 'signal'; signal: string; code: string }
  /** A kernel-mode access to a bad user address: the copy routine fails (EFAULT), no signal (exception-table fixup). */
  | { kind: 'fixup' };

export interface Personality<S> {
  /** Short name, e.g. 'linux-6.x', 'freebsd-14', 'windows-11', 'cygwin'. */
  readonly name: string;
  /** The kernel version or variant it models, for views and reports. */
  readonly version: string;
  /** Default machine profile name (mmu getProfile). */
  readonly defaultProfile: string;
  /** Whose error numbers system calls return. */
  readonly errorSpace: ErrnoOs | 'win32';
  /** Failure return value convention: Linux returns -errno from the syscall, Windows FALSE/NULL. */
  failureValue(errnoNumber: number): number;
  readonly syscalls: readonly SyscallSpec<S>[];
  /** Signal (or exception) numbers by name: SIGSEGV is 11 on Linux and FreeBSD, SIGBUS 7 vs 10. */
  readonly signals: Readonly<Record<string, number>>;
  /** Encode an exit status for wait (Linux/FreeBSD: code << 8, or the signal number). */
  waitStatus(exitCode: number | null, signal: string | null): number;

  /** Set up the address-space state of a new process (an empty mm / vm_map / VAD tree). */
  createAddressSpace(kernel: Kernel<S>, process: Process<S>): S;
  /** Tear it down, returning every frame and table page. */
  destroyAddressSpace(kernel: Kernel<S>, process: Process<S>): void;
  /** The page table the MMU walks for this process. */
  pageTableOf(space: S): import('@polykernel/mmu').PageTable;
  /** Called after a process became a zombie (wake a vfork parent or a waiting parent, SIGCHLD). */
  onExit?(kernel: Kernel<S>, process: Process<S>): void;
  /** Resolve a fault (demand paging, COW, stack growth) or say which signal it becomes. */
  handleFault(kernel: Kernel<S>, thread: Thread, fault: FaultInfo): FaultResolution;
}
