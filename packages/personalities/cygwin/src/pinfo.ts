/**
 * The pinfo table (winsup/cygwin/pinfo.cc): Cygwin PIDs are Cygwin's own — create_cygwin_pid
 * takes the next free one from cygwin_shared->pid_src, round-robin between 2 and 65535 — and the
 * "winpid.<WINPID>" symlinks map a Windows PID to its Cygwin PID (cygwin_pid). A process gets its
 * PID in pinfo::thisproc when it starts (a forkee makes its own), except after an exec, which
 * keeps the PID.
 */
import type { CygProc, K, P } from './types.js';

/** pinfo.h: PIDs are below MAX_PID. */
export const MAX_PID = 65536;

/** create_cygwin_pid: the next PID from pid_src that no live process holds. */
export function createCygwinPid(k: K): number {
  const s = k.state.cygwin;
  for (;;) {
    let pid = 0;
    do {
      s.pidSrc = (s.pidSrc + 1) % 2 ** 32;
      pid = s.pidSrc % MAX_PID;
    } while (pid < 2);
    if (!s.byPid.has(pid)) return pid;
  }
}

/** cygwin_pid(dwProcessId): 0 when the Windows process has no Cygwin PID. */
export function cygwinPid(k: K, winpid: number): number {
  return k.state.cygwin.byWinpid.get(winpid)?.pid ?? 0;
}

/** pinfo::thisproc: the process's entry, made with a new PID when it has none yet. */
export function pinfoOf(k: K, p: P, opts: { ppid?: number; cygstarted?: boolean; pgid?: number } = {}): CygProc {
  const s = k.state.cygwin;
  const have = s.byWinpid.get(p.pid);
  if (have !== undefined) return have;
  const pid = createCygwinPid(k);
  const proc: CygProc = {
    pid, winpid: p.pid, ppid: opts.ppid ?? 1, pgid: opts.pgid ?? pid, progname: p.comm, argv: [], envp: [], fds: [],
    exited: false, exitcode: 0, cygstarted: opts.cygstarted ?? false,
    children: new Map(), mmaps: [], cygheap: 0, cygheapUsed: 0, heapStart: 0, heapTop: 0, heapEnd: 0, dlls: [],
    sigs: new Map(), pending: [], stopped: 0, stopUnreported: false, continuedUnreported: false,
    shared: { cygwinShared: 0, userShared: 0, myself: 0, next: 0 }, childPinfo: new Map(),
  };
  s.byPid.set(proc.pid, proc);
  s.byWinpid.set(p.pid, proc);
  return proc;
}

/** The pinfo slot is released (PID_REAPED): the PID can be handed out again. */
export function releasePinfo(k: K, proc: CygProc): void {
  const s = k.state.cygwin;
  if (s.byPid.get(proc.pid) === proc) s.byPid.delete(proc.pid);
  if (s.byWinpid.get(proc.winpid) === proc) s.byWinpid.delete(proc.winpid);
}
