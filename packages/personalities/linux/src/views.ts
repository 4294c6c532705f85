/**
 * The contract's views of a Linux process (fs/proc/task_mmu.c show_map / show_smap, fs/proc/array.c
 * proc_pid_status) and the metrics fields this personality fills — what apps render for any
 * personality without knowing Linux's types.
 */
import type { Kernel, MetricPath, Process, ViewRow, ViewSpec } from '@polykernel/kernel';
import type { LinuxMachine, LinuxSpace } from './machine.js';
import { mapsLine, procMaps } from './proc/maps.js';
import { procSmaps } from './proc/smaps.js';
import { procStatus } from './proc/status.js';
import { stateLetter } from './tasks.js';

type LinuxKernel = Kernel<LinuxSpace, LinuxMachine>;

/** One maps line's fields, by the column names of proc(5). */
function mapsRows(_k: LinuxKernel, p: Process<LinuxSpace>): ViewRow[] {
  const mm = p.space.mm;
  return [...mm.vmas.iterateFrom(0)].map((v) => {
    const [range, perms, offset, dev, inode] = mapsLine(mm, v).split(/\s+/, 5) as [string, string, string, string, string];
    const path = mapsLine(mm, v).slice(73);
    const [start, end] = range.split('-') as [string, string];
    return { start: Number.parseInt(start, 16), end: Number.parseInt(end, 16), perms, offset: Number.parseInt(offset, 16), dev, inode: Number(inode), pathname: path };
  });
}

export const LINUX_VIEWS: readonly ViewSpec<LinuxSpace, LinuxMachine>[] = [
  { name: 'maps', title: '/proc/<pid>/maps', render: (_k, p) => procMaps(p.space.mm), rows: mapsRows },
  { name: 'smaps', title: '/proc/<pid>/smaps', render: (k, p) => procSmaps(k, p) },
  {
    name: 'status', title: '/proc/<pid>/status',
    render: (k, p) => {
      const leader = p.threads[0];
      const task = leader === undefined ? undefined : k.state.task(leader);
      return procStatus(p, task === undefined ? 'X (dead)' : stateLetter(task), task);
    },
  },
];

/** The metrics this personality fills (the contract kit checks that each one moves). */
export const LINUX_METRICS: readonly MetricPath[] = [
  'syscalls', 'traps.syscall', 'traps.pageFault', 'faults.zeroFill', 'faults.zeroPage', 'faults.cow', 'faults.cowReuse', 'faults.segv',
  'pagesZeroed', 'pagesCopied', 'tlbHits', 'tlbMisses', 'walkRefs', 'indexNodesVisited', 'metadataBytes', 'processesCreated',
  'peakResident', 'peakCommit', 'cycles',
];
