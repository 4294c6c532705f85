/**
 * task_struct's state and the rules around process life on Linux: task states, clone flags and the
 * combinations copy_process refuses, signals and their default actions, wait statuses, and the
 * OOM killer's scoring (mm/oom_kill.c oom_badness, 5.9+).
 */
import type { LinuxErrnoName } from '@polykernel/core';

/** include/linux/sched.h task states (state) and exit states (exit_state). */
export const TASK = {
  RUNNING: 0, INTERRUPTIBLE: 1, UNINTERRUPTIBLE: 2, STOPPED: 4, TRACED: 8,
  EXIT_DEAD: 0x10, EXIT_ZOMBIE: 0x20, DEAD: 0x80,
} as const;

/** include/uapi/linux/sched.h clone flags. */
export const CLONE = {
  CSIGNAL: 0xff, VM: 0x100, FS: 0x200, FILES: 0x400, SIGHAND: 0x800, PIDFD: 0x1000, PTRACE: 0x2000,
  VFORK: 0x4000, PARENT: 0x8000, THREAD: 0x10000, NEWNS: 0x20000, SYSVSEM: 0x40000, SETTLS: 0x80000,
  PARENT_SETTID: 0x100000, CHILD_CLEARTID: 0x200000, DETACHED: 0x400000, UNTRACED: 0x800000,
  CHILD_SETTID: 0x1000000, NEWCGROUP: 0x2000000, NEWUTS: 0x4000000, NEWIPC: 0x8000000,
  NEWUSER: 0x10000000, NEWPID: 0x20000000, NEWNET: 0x40000000, IO: 0x80000000,
} as const;

/** What pthread_create passes (glibc's create_thread). */
export const CLONE_THREAD_FLAGS = CLONE.VM | CLONE.FS | CLONE.FILES | CLONE.SIGHAND | CLONE.THREAD | CLONE.SYSVSEM
  | CLONE.SETTLS | CLONE.PARENT_SETTID | CLONE.CHILD_CLEARTID;

const NEW_NAMESPACES = CLONE.NEWNS | CLONE.NEWCGROUP | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWPID | CLONE.NEWNET;

/** Linux's signal numbers on x86-64 (arch/x86/include/uapi/asm/signal.h). */
export const SIGNALS: Readonly<Record<string, number>> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGBUS: 7, SIGFPE: 8, SIGKILL: 9,
  SIGUSR1: 10, SIGSEGV: 11, SIGUSR2: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGSTKFLT: 16,
  SIGCHLD: 17, SIGCONT: 18, SIGSTOP: 19, SIGTSTP: 20, SIGTTIN: 21, SIGTTOU: 22, SIGURG: 23,
  SIGXCPU: 24, SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28, SIGIO: 29, SIGPWR: 30, SIGSYS: 31,
};

export const SIGNAL_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(SIGNALS).map(([k, v]) => [v, k]));

/** Default actions (signal(7)): terminate, terminate with core, ignore, stop, continue. */
export type SignalAction = 'term' | 'core' | 'ign' | 'stop' | 'cont';

export function defaultAction(sig: string): SignalAction {
  switch (sig) {
    case 'SIGCHLD': case 'SIGURG': case 'SIGWINCH': return 'ign';
    case 'SIGCONT': return 'cont';
    case 'SIGSTOP': case 'SIGTSTP': case 'SIGTTIN': case 'SIGTTOU': return 'stop';
    case 'SIGQUIT': case 'SIGILL': case 'SIGTRAP': case 'SIGABRT': case 'SIGBUS': case 'SIGFPE':
    case 'SIGSEGV': case 'SIGXCPU': case 'SIGXFSZ': case 'SIGSYS': return 'core';
    default: return 'term';
  }
}

/** wait4 option bits (include/uapi/linux/wait.h). */
export const WAIT = { WNOHANG: 1, WUNTRACED: 2, WCONTINUED: 8, __WNOTHREAD: 0x20000000, __WALL: 0x40000000, __WCLONE: 0x80000000 } as const;
const WAIT_VALID = WAIT.WNOHANG | WAIT.WUNTRACED | WAIT.WCONTINUED | WAIT.__WNOTHREAD | WAIT.__WALL | WAIT.__WCLONE;

export function validWaitOptions(options: number): boolean {
  return options >= 0 && options <= 0xffffffff && (options & ~WAIT_VALID) === 0;
}

/**
 * The wait status word and what the W* macros make of it: exited (code << 8), killed (signal, 0x80
 * if a core was dumped), stopped ((signal << 8) | 0x7f), continued (0xffff).
 */
export function describeWaitStatus(status: number): string {
  const sig = status & 0x7f;
  if (status === 0xffff) return 'WIFCONTINUED';
  if ((status & 0xff) === 0x7f) return `WIFSTOPPED WSTOPSIG=${SIGNAL_NAMES[(status >> 8) & 0xff] ?? (status >> 8) & 0xff}`;
  if (sig === 0) return `WIFEXITED WEXITSTATUS=${(status >> 8) & 0xff}`;
  return `WIFSIGNALED WTERMSIG=${SIGNAL_NAMES[sig] ?? sig}${(status & 0x80) !== 0 ? ' WCOREDUMP' : ''}`;
}

/**
 * copy_process's flag checks (kernel/fork.c), in its order. `fromInit`: the caller is init
 * (SIGNAL_UNKILLABLE), which may not use CLONE_PARENT. Namespaces need CAP_SYS_ADMIN (EPERM for
 * others; for root they are accepted and not modelled).
 */
export function checkCloneFlags(flags: number, fromInit: boolean, root: boolean): { errno: LinuxErrnoName; why: string } | null {
  const has = (f: number): boolean => (flags & f) !== 0;
  if (has(CLONE.NEWNS) && has(CLONE.FS)) return { errno: 'EINVAL', why: 'CLONE_NEWNS with CLONE_FS' };
  if (has(CLONE.NEWUSER) && has(CLONE.FS)) return { errno: 'EINVAL', why: 'CLONE_NEWUSER with CLONE_FS' };
  if (has(CLONE.THREAD) && !has(CLONE.SIGHAND)) return { errno: 'EINVAL', why: 'CLONE_THREAD needs CLONE_SIGHAND' };
  if (has(CLONE.SIGHAND) && !has(CLONE.VM)) return { errno: 'EINVAL', why: 'CLONE_SIGHAND needs CLONE_VM' };
  if (has(CLONE.PARENT) && fromInit) return { errno: 'EINVAL', why: 'init may not use CLONE_PARENT' };
  if (has(CLONE.THREAD) && (has(CLONE.NEWUSER) || has(CLONE.NEWPID))) return { errno: 'EINVAL', why: 'a thread cannot enter a new user or PID namespace' };
  if (has(CLONE.PIDFD) && has(CLONE.DETACHED)) return { errno: 'EINVAL', why: 'CLONE_PIDFD with CLONE_DETACHED' };
  if ((flags & NEW_NAMESPACES) !== 0 && !root) return { errno: 'EPERM', why: 'new namespaces need CAP_SYS_ADMIN' };
  return null;
}

/** SIG_DFL and SIG_IGN as sa_handler values; anything else is the address of a handler. */
export const SIG_DFL = 0;
export const SIG_IGN = 1;

/** sighand_struct: the action for each signal (absent: SIG_DFL); shared with CLONE_SIGHAND. */
export interface SigHand {
  action: Map<number, number>;
}

/** fs_struct: root, working directory and umask; shared with CLONE_FS. */
export interface FsStruct {
  root: string;
  cwd: string;
  umask: number;
}

/** A 64-bit signal mask as /proc/<pid>/status prints it (bit sig-1), 16 hex digits. */
export function sigMask(signals: Iterable<number>): string {
  let m = 0n;
  for (const s of signals) if (s >= 1 && s <= 64) m |= 1n << BigInt(s - 1);
  return m.toString(16).padStart(16, '0');
}

/** Per-thread Linux state beside the core's Thread (the parts of task_struct the core does not keep). */
export interface LinuxTask {
  state: number;
  exitState: number;
  /** The signal the parent gets at exit (SIGCHLD for fork; 0 for threads). */
  exitSignal: number;
  /** oom_score_adj, -1000 (never) .. 1000; inherited across fork. */
  oomScoreAdj: number;
  /** SCHED_NORMAL at nice 0: static_prio 120. */
  policy: 'SCHED_NORMAL';
  prio: number;
  /** Set in a vfork child until it execs or exits: the parent thread sleeping in TASK_UNINTERRUPTIBLE. */
  vforkParent: import('@polykernel/kernel').Thread | null;
  /** A stop not yet reported to a WUNTRACED waiter. */
  stopSignal: number;
  stopReported: boolean;
  /** The last wait4 result of this thread (for workloads and views). */
  lastWait: { pid: number; status: number } | null;
  sighand: SigHand;
  fs: FsStruct;
  /** Signals delivered to a handler (the simulation runs no user code: they are counted). */
  signalsHandled: number;
}

export function newTask(oomScoreAdj = 0, exitSignal = SIGNALS.SIGCHLD!, sighand?: SigHand, fs?: FsStruct): LinuxTask {
  return {
    state: TASK.RUNNING, exitState: 0, exitSignal, oomScoreAdj, policy: 'SCHED_NORMAL', prio: 120, vforkParent: null, stopSignal: 0,
    stopReported: true, lastWait: null, sighand: sighand ?? { action: new Map() }, fs: fs ?? { root: '/', cwd: '/', umask: 0o022 }, signalsHandled: 0,
  };
}

/** The letter /proc/<pid>/status and ps show (fs/proc/array.c task_state_array). */
export function stateLetter(t: LinuxTask): string {
  if (t.exitState === TASK.EXIT_ZOMBIE) return 'Z (zombie)';
  if (t.exitState === TASK.EXIT_DEAD) return 'X (dead)';
  if (t.state === TASK.STOPPED) return 'T (stopped)';
  if (t.state === TASK.INTERRUPTIBLE) return 'S (sleeping)';
  if (t.state === TASK.UNINTERRUPTIBLE) return 'D (disk sleep)';
  return 'R (running)';
}

/** What oom_badness reads from a process. */
export interface OomInput {
  rssPages: number;
  swapEntries: number;
  /** mm_pgtables_bytes: page-table pages below the top level. */
  pgtablesBytes: number;
  oomScoreAdj: number;
  /** init, kernel threads, or no mm: never chosen. */
  unkillable: boolean;
  /** A vfork child still borrowing its parent's mm (in_vfork). */
  inVfork: boolean;
}

/** LONG_MIN: the process is not a candidate. */
export const OOM_SKIP = Number.NEGATIVE_INFINITY;

/**
 * mm/oom_kill.c oom_badness (5.9+): RSS + swap entries + page-table pages, plus oom_score_adj in
 * units of totalpages/1000 (integer division first, as the C does). OOM_SKIP for unkillable tasks,
 * oom_score_adj -1000 and tasks in vfork.
 */
export function oomBadness(t: OomInput, totalPages: number): number {
  if (t.unkillable || t.oomScoreAdj === -1000 || t.inVfork) return OOM_SKIP;
  const points = t.rssPages + t.swapEntries + Math.floor(t.pgtablesBytes / 4096);
  return points + t.oomScoreAdj * Math.floor(totalPages / 1000);
}

/** /proc/<pid>/oom_score (fs/proc/base.c proc_oom_score): 0..2000, 0 for skipped tasks. */
export function oomScore(badness: number, totalPages: number): number {
  if (badness === OOM_SKIP) return 0;
  return Math.trunc(((1000 + Math.trunc((badness * 1000) / totalPages)) * 2) / 3);
}
