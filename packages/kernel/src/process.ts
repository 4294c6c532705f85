/** Processes, threads, credentials and the minimal file table the core keeps for every personality. */

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

export class Thread {
  state: 'runnable' | 'blocked' | 'dead' = 'runnable';
  /** The CPU it runs on (the simulation has no scheduler yet: callers place threads). */
  cpu = 0;
  /** The error of the last failed system call (errno / GetLastError). */
  lastError: string | null = null;
  lastErrorNumber = 0;
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
  /** Personality-owned address-space state (mm_struct, vm_map, VAD tree ...). */
  space!: S;

  constructor(
    readonly pid: number,
    public parent: Process<S> | null,
    public comm: string,
    public creds: Credentials,
  ) {}

  get ppid(): number {
    return this.parent?.pid ?? 0;
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
