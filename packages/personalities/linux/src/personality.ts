/**
 * The Linux personality on the kernel core: the object the core calls. Everything it does is in
 * the file named after the kernel source it follows —
 *
 *   syscalls.ts      the system-call table (arch/x86/entry/syscalls/syscall_64.tbl)
 *   memory.ts        the fault path (arch/x86/mm/fault.c, mm/memory.c)
 *   mmap.ts, vma.ts, mprotect.ts, mremap.ts, madvise.ts, filemap.ts, shmem.ts   (mm/*.c)
 *   page_alloc.ts, vmscan.ts, swapfile.ts, oom_kill.ts                         (memory pressure)
 *   fork.ts, exit.ts, signal.ts                                                (kernel/*.c)
 *   exec.ts, binfmt_elf.ts, files.ts, uaccess.ts                               (fs/*.c, lib)
 *   proc/            maps, smaps, status, meminfo (fs/proc/*.c)
 *
 * — and the state of each simulated machine is one LinuxMachine (machine.ts), reached through
 * machineOf(k), or space.machine on the fault path.
 */
import { linuxIds, type Kernel, type Personality, type Process, type Thread } from '@polykernel/kernel';
import { onExit } from './exit.js';
import type { ForkReport } from './fork.js';
import { attachLinux, machineOf, type LinuxMachine, type LinuxOptions, type LinuxSpace } from './machine.js';
import { handleFault } from './memory.js';
import { exitMmap } from './mmap.js';
import { MmStruct } from './mm.js';
import { oomInput, outOfMemory, totalPages } from './oom_kill.js';
import { meminfo } from './proc/meminfo.js';
import { LINUX_PORTABLE } from './portable.js';
import { LINUX_SYSCALLS } from './syscalls.js';
import { deliverSignal } from './signal.js';
import { LINUX_METRICS, LINUX_VIEWS } from './views.js';
import { oomBadness, oomScore, SIGNALS, type LinuxTask } from './tasks.js';

export type { LinuxSpace, LinuxOptions } from './machine.js';
export { attachLinux, machineOf, LinuxMachine } from './machine.js';
export { PROCESS_COSTS } from './costs.js';
export { RESTART_SYSCALL } from './exit.js';
export type { ForkArea, ForkReport } from './fork.js';

/** The Linux personality: the core's contract plus the Linux-only views (tasks, dmesg, OOM scores). */
export interface LinuxPersonality extends Personality<LinuxSpace, LinuxMachine> {
  /** The options every machine of this personality is made with. */
  readonly options: Readonly<LinuxOptions>;
  /** What the last fork's dup_mmap did, area by area. */
  lastFork(k: Kernel<LinuxSpace>): ForkReport | null;
  /** task_struct's Linux-only fields for a thread (created on first use). */
  task(t: Thread): LinuxTask;
  /** The kernel log (the OOM killer's reports). */
  dmesg(k: Kernel<LinuxSpace>): readonly string[];
  /** /proc/<pid>/oom_score and the raw oom_badness points. */
  oomScore(k: Kernel<LinuxSpace>, p: Process<LinuxSpace>): { score: number; badness: number };
  /** Run the OOM killer now (as a failed allocation would): the victim's pid, or null. */
  outOfMemory(k: Kernel<LinuxSpace>, current: Thread | null): number | null;
  /** The lines of /proc/meminfo this personality models, in the kernel's order and format. */
  meminfo(k: Kernel<LinuxSpace>): string;
}

/**
 * One function for every personality instance, not a closure per instance: the kernel's access
 * path inlines this call, and a new closure (a new kernel) would be a new call target there.
 */
function pageTableOf(space: LinuxSpace): LinuxSpace['pt'] {
  return space.pt;
}

/** The personality object. It keeps no state: each kernel's is its LinuxMachine (machine.ts). */
export function linuxPersonality(opts: LinuxOptions = {}): LinuxPersonality {
  const variant = opts.variant ?? 'linux-6.x';
  return {
    options: opts,
    name: variant,
    version: variant === 'linux-5.15' ? '5.15' : '6.x',
    defaultProfile: 'x86-64',
    errorSpace: 'linux',
    failureValue: (e) => -e,
    syscalls: LINUX_SYSCALLS,
    signals: SIGNALS,
    waitStatus: (code, signal) => (signal !== null ? (SIGNALS[signal] ?? 0) : ((code ?? 0) % 256) * 256),
    // init (PID 1) adopts orphans (forget_original_parent → find_new_reaper) and reaps them.
    processModel: { bootComm: 'init', adoptsOrphans: true, bootReaps: true, lifetime: 'wait' },
    ids: (k) => linuxIds(k.options.pidMax),
    attach: (k) => attachLinux(k, opts),
    deliver: deliverSignal,
    views: LINUX_VIEWS,
    metricsFilled: LINUX_METRICS,
    portable: LINUX_PORTABLE,
    createAddressSpace: (k) => {
      const m = machineOf(k);
      const mm = new MmStruct({ ...opts.mm, variant, commit: m.commit, metrics: k.metrics });
      const pt = k.mmu.createPageTable();
      // The zero page is allocated after the first root table (the machine's frame numbers depend on it).
      return {
        mm, pt, rss: { anon: 0, file: 0, shmem: 0 }, zeroFrame: m.zeroPage(), hiwaterRss: 0, image: null,
        lazyFree: m.lazyMarked, swap: new Map<number, number>(), guards: new Set<number>(), swapCounts: m.swapCounts, machine: m,
      };
    },
    destroyAddressSpace: (k, p) => {
      exitMmap(machineOf(k), p.space);
    },
    pageTableOf,
    handleFault,
    onExit,
    lastFork: (k) => machineOf(k).lastFork,
    meminfo: (k) => meminfo(machineOf(k)),
    // A thread's machine is its address space's (no kernel at hand here).
    task: (t) => (t.process as Process<LinuxSpace>).space.machine.task(t),
    dmesg: (k) => machineOf(k).dmesg,
    oomScore: (k, p) => {
      const badness = oomBadness(oomInput(machineOf(k), p), totalPages(k));
      return { score: oomScore(badness, totalPages(k)), badness };
    },
    outOfMemory: (k, current) => outOfMemory(machineOf(k), current),
  };
}
