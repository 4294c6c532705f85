/**
 * Cygwin's own state over the Windows personality's: the pinfo table (Cygwin PIDs, their
 * Windows PIDs, exit codes), each process's mmap records, cygheap and user heap, the fork log
 * (what strace and the console show), and the DLLs a workload injects into new processes.
 */
import type { Kernel, Process } from '@polykernel/kernel';
import type { WindowsMachine, WindowsSpace } from '@polykernel/windows';

/** One mmap_record (mm/mmap.cc): a mapping's range, protection and flags. */
export interface MmapRecord {
  addr: number;
  len: number;
  prot: number;
  flags: number;
  /** Per 4 KiB page: still mapped (1) or munmap'ed (0) — mmap_record's page map. */
  mapped: Uint8Array;
  /** MAP_SHARED or a file: the section's handle (mmap_record::mapping_hdl), inheritable, so a forked child has it at the same value. */
  section?: number;
  /** A file mapping: its fd, the offset in the file, the access the file was opened with (openflags: GENERIC_*), its path. */
  fd?: number;
  offset?: number;
  openflags?: number;
  path?: string;
}

/**
 * An open file description: dup'ed fds share it. A regular file's position is the Windows file
 * object's (every handle DuplicateHandle'd from the first names that object); a device's is here.
 */
export interface OpenFile {
  readonly path: string;
  readonly kind: 'null' | 'zero' | 'console' | 'file' | 'dir';
  /** The open(2) flags (O_ACCMODE and the rest). */
  readonly flags: number;
  /** A device's position (a regular file's lives in its Windows file object). */
  position: number;
}

/** One fd's fhandler in the cygheap's dtable: the open file, FD_CLOEXEC (per fd), and its Windows handle. */
export interface Fhandler {
  readonly file: OpenFile;
  cloexec: boolean;
  /**
   * A regular file's io_handle in the owning process (CreateFileW; inheritable unless
   * close-on-exec), null for the devices modelled without a Windows object.
   */
  handle: number | null;
}

/** A _pinfo (pinfo.h) with what this model keeps of the process beside it. */
export interface CygProc {
  /** The Cygwin PID (create_cygwin_pid) and the Windows process under it (dwProcessId). */
  readonly pid: number;
  winpid: number;
  ppid: number;
  /** The process group (setpgid is not modelled: a child keeps its parent's, a process started from Windows leads its own). */
  pgid: number;
  progname: string;
  /** The argument and environment vectors the program was started with (child_info_spawn's moreinfo, or fork's copy). */
  argv: string[];
  envp: string[];
  /** cygheap->fdtab: fd → fhandler (null: closed). */
  readonly fds: (Fhandler | null)[];
  /** PID_EXITED, and the exit code as pinfo keeps it (EXITCODE_SET | (code << 8) or the signal). */
  exited: boolean;
  exitcode: number;
  /** Started by a Cygwin parent (fork, spawn): exit codes are passed to Windows unswapped. */
  readonly cygstarted: boolean;
  /** Children's Cygwin PIDs → the process HANDLE the parent holds (pinfo::hProcess). */
  readonly children: Map<number, number>;
  readonly mmaps: MmapRecord[];
  /** The cygheap (start, bytes in use) and the user heap (start, break, reserved end); 0 when absent. */
  cygheap: number;
  cygheapUsed: number;
  heapStart: number;
  heapTop: number;
  heapEnd: number;
  /** After execve: the Windows process left as a stub, and its handle to the new one (held by the stub). */
  stubWinpid?: number;
  stubHandle?: number;
  /** The DLLs linked into the program, with their bases (dll_list, DLL_LINK). */
  dlls: DllRecord[];
  /** global_sigs (cygwin1.dll's data, so fork copies it): the signals with an action other than SIG_DFL. */
  sigs: Map<number, SigAction>;
  /** Signals sent to a handler and not yet delivered (delivered when the process next returns from a Cygwin call). */
  pending: number[];
  /** The stop signal that stopped the process (0: running), and what waitpid has not yet reported. */
  stopped: number;
  stopUnreported: boolean;
  continuedUnreported: boolean;
  /** cygheap->shared_regions: the views of [cygwin-shared], [cygwin-user-shared] and [procinfo] (0 until mapped). */
  shared: { cygwinShared: number; userShared: number; myself: number; next: number };
  /** The parent's views of its live children's pinfo sections (child PID → view and section handle). */
  readonly childPinfo: Map<number, { view: number; handle: number }>;
}

/** struct sigaction as this model keeps it: sa_handler (SIG_DFL 0, SIG_IGN 1, else the function's address) and sa_flags. */
export interface SigAction {
  handler: number;
  flags: number;
}

/** A signal handler entered (no user code runs: the entry is recorded, on return from the Cygwin call named). */
export interface HandlerEntry {
  readonly pid: number;
  readonly sig: number;
  readonly handler: number;
  /** The Cygwin call whose return delivered it, or 'fault' for a signal from an exception. */
  readonly after: string;
}

/** A dll in dll_list: linked (DLL_LINK) or dlopen'd (DLL_LOAD, with its size and dlopen count). */
export interface DllRecord {
  name: string;
  path: string;
  base: number;
  loaded?: boolean;
  size?: number;
  count?: number;
}

/** Something a workload injects into processes created from now on (an AV or hook DLL). */
export interface Injection {
  readonly name: string;
  readonly at: number;
  readonly size: number;
}

/** A step of fork as it ran, for traces and the fork.cc order test. */
export interface ForkStep {
  readonly pid: number;
  readonly side: 'parent' | 'child';
  readonly step: string;
  readonly detail: string;
  /** The machine's simulated cycles and bytes copied across processes when the step began. */
  readonly cycles: number;
  readonly bytesCopied: number;
}

export interface CygwinState {
  /** cygwin_shared->pid_src. */
  pidSrc: number;
  readonly byPid: Map<number, CygProc>;
  readonly byWinpid: Map<number, CygProc>;
  readonly injections: Injection[];
  /** Kill a forked child at this point of its start-up (a child that dies during the handshake). */
  crashChildAt: 'startup' | 'dll-loading' | null;
  /** system_printf / api_fatal lines, as the console shows them. */
  readonly console: string[];
  readonly forkSteps: ForkStep[];
  /** Forks that failed, and forks retried. */
  forkFailures: number;
  /** Every signal handler entered, in order. */
  readonly handlerEntries: HandlerEntry[];
}

export interface CygwinMachine extends WindowsMachine {
  readonly cygwin: CygwinState;
}

export type K = Kernel<WindowsSpace, CygwinMachine>;
export type P = Process<WindowsSpace>;
