/**
 * /proc/<pid>/status (fs/proc/array.c proc_pid_status), and its memory lines (fs/proc/task_mmu.c
 * task_mem), byte for byte: each value
 * in kB, right-aligned in 8 columns after a tab. VmPeak and VmHWM are the high-water marks of
 * total_vm and rss, taken before unmaps as update_hiwater_vm/update_hiwater_rss do; VmPTE counts
 * page-table pages below the top level (mm_pgtables_bytes excludes the PGD).
 */
import { pageDown, pageUp } from '@polykernel/core';
import { PAGE_SIZE } from '../flags.js';
import type { Process } from '@polykernel/kernel';
import type { LinuxSpace } from '../machine.js';
import { SIG_DFL, SIG_IGN, sigMask, type LinuxTask } from '../tasks.js';

const KB = PAGE_SIZE / 1024;

export function procStatusMemory(s: LinuxSpace): string {
  const mm = s.mm;
  const rss = s.rss.anon + s.rss.file + s.rss.shmem;
  const text = pageUp(mm.endCode) - pageDown(mm.startCode);
  const lib = mm.execVm * PAGE_SIZE - text;
  let tables = 0;
  for (let l = 1; l < s.pt.tablesByLevel.length; l++) tables += s.pt.tablesByLevel[l]!;
  const rows: [string, number][] = [
    ['VmPeak', Math.max(mm.hiwaterVm, mm.totalVm) * KB],
    ['VmSize', mm.totalVm * KB],
    ['VmLck', mm.lockedVm * KB],
    ['VmPin', 0],
    ['VmHWM', Math.max(s.hiwaterRss, rss) * KB],
    ['VmRSS', rss * KB],
    ['RssAnon', s.rss.anon * KB],
    ['RssFile', s.rss.file * KB],
    ['RssShmem', s.rss.shmem * KB],
    ['VmData', mm.dataVm * KB],
    ['VmStk', mm.stackVm * KB],
    ['VmExe', Math.floor(text / 1024)],
    ['VmLib', Math.floor(Math.max(lib, 0) / 1024)],
    ['VmPTE', tables * KB],
    ['VmSwap', s.swap.size * KB],
  ];
  return rows.map(([k, v]) => `${k}:\t${String(v).padStart(8)} kB\n`).join('');
}

/**
 * /proc/<pid>/status (fs/proc/array.c proc_pid_status), the lines the simulation knows, in the
 * kernel's order: identity and state, credentials, the memory lines, the thread count and the
 * signal masks (nothing is ever pending or blocked: signals are delivered at once). Lines for
 * things not modelled (capabilities, seccomp, cpusets, SigQ) are left out. `task` is the
 * thread-group leader's Linux state (umask, signal actions), when known.
 */
export function procStatus(p: Process<LinuxSpace>, state: string, task?: LinuxTask): string {
  const c = p.creds;
  const umask = (task?.fs.umask ?? 0o022).toString(8).padStart(4, '0');
  const head = [
    `Name:\t${p.comm}`, `Umask:\t${umask}`, `State:\t${state}`, `Tgid:\t${p.pid}`, 'Ngid:\t0', `Pid:\t${p.pid}`,
    `PPid:\t${p.ppid}`, 'TracerPid:\t0', `Uid:\t${c.uid}\t${c.euid}\t${c.euid}\t${c.euid}`, `Gid:\t${c.gid}\t${c.egid}\t${c.egid}\t${c.egid}`,
    'FDSize:\t64',
  ].join('\n') + '\n';
  const live = p.threads.filter((t) => t.state !== 'dead').length;
  const actions = [...(task?.sighand.action ?? new Map<number, number>())];
  const sigs = [
    `SigPnd:\t${sigMask([])}`, `ShdPnd:\t${sigMask([])}`, `SigBlk:\t${sigMask([])}`,
    `SigIgn:\t${sigMask(actions.filter(([, h]) => h === SIG_IGN).map(([n]) => n))}`,
    `SigCgt:\t${sigMask(actions.filter(([, h]) => h !== SIG_IGN && h !== SIG_DFL).map(([n]) => n))}`,
  ].join('\n') + '\n';
  return head + (p.state === 'running' ? procStatusMemory(p.space) : '') + `Threads:\t${live}\n` + sigs;
}
