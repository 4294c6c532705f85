/** Processes, threads, credentials and the minimal file table the core keeps for every personality. */
import type { SyscallContext, SyscallSpec } from './contract.js';

export interface Credentials {
  uid: number;
  gid: number;
  euid: number;
  egid: number;
}

/** An open file: enough to map it (the personality's page cache reads `bytes`). */
export interface OpenFile {
  path: string;
  bytes: Uint8Array;
  readable: boolean;
  writable: boolean;
  /** The file position (read/write advance it). */
  offset?: number;
  /** A character device the personality implements itself ('zero', 'null'), instead of `bytes`. */
  device?: string;
  /** The file's device and inode numbers, when it came from a file system that has them. */
  dev?: [number, number];
  ino?: number;
}

export type ProcessState = 'running' | 'zombie' | 'dead';

/** A thread's scheduling state; `suspended` while its suspend count is above zero. */
export type ThreadState = 'runnable' | 'blocked' | 'suspended' | 'dead';

/** A call a blocked thread sleeps in: the driver finishes it with `kernel.resume(thread)`. */
export interface PendingCall {
  readonly spec: SyscallSpec<unknown>;
  readonly reason: string;
  readonly resume: (ctx: SyscallContext<unknown>) => number;
  /**
   * Cycles the call had used when it went to sleep: its syscall:return reports the call's own
   * work before and after the sleep, not the time other threads ran meanwhile.
   */
  readonly spent: number;
}

/** An error variable's value: errno, or GetLastError's code. */
export interface ErrorValue {
  readonly name: string;
  readonly number: number;
}

export class Thread {
  /** Scheduling state. Drivers run a thread only while it is `runnable`. */
  state: ThreadState = 'runnable';
  /** SuspendThread/ResumeThread's count (CREATE_SUSPENDED starts at 1). */
  suspendCount = 0;
  /** The state to go back to when the suspend count drops to zero. */
  stateBeforeSuspend: 'runnable' | 'blocked' = 'runnable';
  /** The CPU it runs on (the simulation has no scheduler yet: callers place threads). */
  cpu = 0;
  /** The error of the outermost call last made by this thread (null after a success). */
  lastError: string | null = null;
  lastErrorNumber = 0;
  /**
   * The thread's error variables by error space, written only on failure as the real ones are
   * (errno, SetLastError): a success leaves them alone, and a nested call's failure in another
   * space does not touch the caller's.
   */
  readonly errors: Partial<Record<string, ErrorValue>> = {};
  /** The call it sleeps in while `blocked`, if it blocked through the core's mechanism. */
  pending: PendingCall | null = null;
  constructor(readonly tid: number, readonly process: Process) {}
}

export class Process<S = unknown> {
  readonly threads: Thread[] = [];
  readonly children: Process<S>[] = [];
  /** The descriptor table; processes made with CLONE_FILES share one array. */
  files: (OpenFile | null)[] = [];
  state: ProcessState = 'running';
  /** Wait status once exited, encoded by the personality (Linux: (code << 8) | signal). */
  exitStatus: number | null = null;
  /** The signal that killed it, if any. */
  killedBy: string | null = null;
  /** Open handles to the process object (Windows: it outlives its exit while any is open). */
  handles = 0;
  /** Personality-owned address-space state (mm_struct, vm_map, VAD tree ...). */
  space!: S;
  /** The creator's PID, kept when the parent is gone (Windows' InheritedFromUniqueProcessId). */
  readonly creatorPid: number;

  constructor(
    readonly pid: number,
    public parent: Process<S> | null,
    public comm: string,
    public creds: Credentials,
  ) {
    this.creatorPid = parent?.pid ?? 0;
  }

  get ppid(): number {
    return this.parent?.pid ?? this.creatorPid;
  }

  /** Lowest free descriptor (POSIX open() semantics). */
  installFile(f: OpenFile): number {
    let fd = this.files.indexOf(null);
    if (fd < 0) fd = this.files.length;
    this.files[fd] = f;
    return fd;
  }

  file(fd: number): OpenFile | null {
    return this.files[fd] ?? null;
  }
}
