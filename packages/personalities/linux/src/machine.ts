/**
 * The state of one simulated Linux machine, in one object: what the kernel keeps in globals and
 * per-boot structures (mm/page_alloc.c's empty_zero_page, mm/util.c's vm_committed_as and the
 * overcommit sysctls, the page cache of every inode, the shmem files' pages, the per-CPU LRU
 * batches of mm/swap.c, the swap_map counts of mm/swapfile.c, the kernel log, the task_structs'
 * Linux-only fields, the vDSO pages of arch/x86/entry/vdso/vma.c and drivers/char/random.c's
 * generator). One `LinuxMachine` per `Kernel`, made by `attachLinux(kernel, opts)`.
 *
 * The core keeps it as the kernel's per-machine state (`Personality.attach` → `kernel.state`);
 * `machineOf(k)` reads it. The fault path never asks: every LinuxSpace carries its machine
 * (`space.machine`).
 */
import { Rng } from '@polykernel/core';
import type { FileLookup, Kernel, Thread } from '@polykernel/kernel';
import { NO_FRAME, type PageTable } from '@polykernel/mmu';
import { VmCommit, type CommitOptions } from './commit.js';
import { DEFAULT_CPU, type CpuDescription, type ExecImage } from './exec.js';
import type { ForkReport } from './fork.js';
import type { MmOptions, MmStruct } from './mm.js';
import { newTask, type LinuxTask } from './tasks.js';
import type { VmFile } from './vma.js';

/** Per-process state: the mm, its page table, and resident pages by type (mm->rss_stat). */
export interface LinuxSpace {
  mm: MmStruct;
  pt: PageTable;
  rss: { anon: number; file: number; shmem: number };
  /** The kernel's shared zero page (empty_zero_page), kept at hand for the fault path. */
  zeroFrame: number;
  /** hiwater_rss in pages: the resident high-water mark, taken before pages are zapped. */
  hiwaterRss: number;
  /** What the last execve built (null for a process that never exec'd). */
  image: ExecImage | null;
  /** The machine's lazy-free pages (MADV_FREE, once their batch drained), for smaps' LazyFree. */
  lazyFree: ReadonlyMap<number, unknown>;
  /**
   * Swap entries: page address → swap slot, for anonymous pages swapped out (the kernel keeps them
   * in the non-present PTE; here they sit beside the page table).
   */
  swap: Map<number, number>;
  /**
   * Guard markers (MADV_GUARD_INSTALL): page addresses whose PTE is a guard marker (the kernel's
   * PTE_MARKER_GUARD in a non-present PTE; here beside the page table, as the swap entries are).
   */
  guards: Set<number>;
  /** How many swap entries (of every mm) name each slot (the kernel's swap_map counts), per machine. */
  swapCounts: Map<number, number>;
  /** The machine this address space lives on (so the fault path needs no lookup to find it). */
  machine: LinuxMachine;
}

export interface LinuxOptions {
  variant?: 'linux-5.15' | 'linux-6.x';
  /**
   * Overcommit sysctls; one VmCommit is shared by every process of the kernel. totalRamPages and
   * swapPages default to the machine's frames and swap slots.
   */
  overcommit?: CommitOptions;
  /** Per-mm options (stack rlimit, mmap_min_addr, max_map_count). */
  mm?: Omit<MmOptions, 'variant' | 'commit'>;
  /** Where execve finds programs (a sysroot); without one every path is ENOENT. */
  fs?: FileLookup;
  /** The CPU's auxv values (AT_HWCAP, AT_HWCAP2, AT_MINSIGSTKSZ). */
  cpu?: CpuDescription;
  /** Seed of the kernel's random bytes (AT_RANDOM). */
  seed?: number;
}

/** A page MADV_FREE was given, and where it is mapped (to discard it under pressure). */
export interface LazyPage { space: LinuxSpace; va: number }

/** The vDSO's frames: one data page mapped by PFN ([vvar]), two text pages ([vdso]). */
export interface VdsoFrames { vvar: number; text: number[] }

/** Everything one simulated Linux machine keeps beside the core's Kernel. */
export class LinuxMachine {
  readonly variant: 'linux-5.15' | 'linux-6.x';
  /** Where execve and openat find files. */
  readonly lookup: FileLookup;
  readonly cpu: CpuDescription;
  /** Committed_AS and the overcommit sysctls (mm/util.c), shared by every mm of the machine. */
  readonly commit: VmCommit;
  /** The kernel's random bytes (get_random_bytes for AT_RANDOM), seeded: deterministic. */
  readonly rng: Rng;
  /** empty_zero_page: allocated with the first address space (after its root table, as before). */
  zeroFrame = NO_FRAME;
  /** The vDSO's pages, allocated on the first fault in a [vvar] or [vdso] area. */
  vdso: VdsoFrames | null = null;
  /** task_struct's Linux-only fields, per thread (created on first use). */
  readonly tasks = new WeakMap<Thread, LinuxTask>();
  /** What the last fork's dup_mmap did, area by area. */
  lastFork: ForkReport | null = null;
  /** The kernel log (printk): the OOM killer's reports. */
  readonly dmesg: string[] = [];
  /** The thread whose fault (or fork) is being handled: the OOM killer's `current`. */
  current: Thread | null = null;
  /** The page cache: each regular file's page index → frame (the cache holds one reference). */
  readonly pageCache = new Map<VmFile, Map<number, number>>();
  /**
   * PG_dirty: the page-cache frames stored to through a shared mapping since their last
   * writeback. A mapping's PTE dirty bit moves here when the mapping goes (zap_present_folio_ptes,
   * exit_mmap); reclaim writes back only these pages (shrink_folio_list → pageout).
   */
  readonly dirtyPages = new Set<number>();
  /** Each shmem file's pages (shared anonymous memory), while any mm maps the file. */
  readonly shmemPages = new Map<VmFile, Map<number, number>>();
  /** Files exec or openat found in the file system: one VmFile (one page cache) per dev:ino. */
  readonly inodes = new Map<string, VmFile>();
  /** Files without an inode (installed by hand): one VmFile per byte array, numbered here. */
  readonly vmFiles = new WeakMap<Uint8Array, VmFile>();
  nextIno = 1;
  /**
   * The copy-on-write overlay over the host-backed file system: files created here and host files
   * once opened for writing, by path, each with bytes of its own (the host's are never written).
   */
  readonly overlay = new Map<string, { file: VmFile; mode: number }>();
  /** Per-CPU lru_lazyfree folio batches (mm/swap.c): a page becomes lazy-free when its batch drains. */
  readonly lazyBatches = new Map<number, [number, LazyPage][]>();
  /** Pages that are lazy-free (!PG_swapbacked), by frame: reclaim may discard them while clean. */
  readonly lazyMarked = new Map<number, LazyPage>();
  /** swap_map: how many swap entries name each slot. */
  readonly swapCounts = new Map<number, number>();

  constructor(readonly kernel: Kernel<LinuxSpace>, readonly options: Readonly<LinuxOptions>) {
    this.variant = options.variant ?? 'linux-6.x';
    const fs = options.fs ?? ((): 'ENOENT' => 'ENOENT');
    // What the simulation wrote or created shadows the host's file system.
    this.lookup = (path) => {
      const o = this.overlay.get(path);
      return o === undefined ? fs(path) : { path, bytes: o.file.bytes!, dev: o.file.dev, ino: o.file.ino, mode: o.mode };
    };
    this.cpu = options.cpu ?? DEFAULT_CPU;
    this.rng = new Rng(options.seed ?? 1);
    // totalram_pages() and total_swap_pages are this machine's frames and swap slots (mm/util.c
    // reads them in __vm_enough_memory and vm_commit_limit), unless the caller set them.
    const oc = options.overcommit ?? {};
    this.commit = new VmCommit({
      ...oc,
      totalRamPages: oc.totalRamPages ?? kernel.mmu.frames.frameCount,
      swapPages: oc.swapPages ?? kernel.vm.swap.slots,
      metrics: kernel.metrics,
    });
  }

  /** The Linux half of a thread's task_struct. */
  task(t: Thread): LinuxTask {
    let task = this.tasks.get(t);
    if (task === undefined) this.tasks.set(t, (task = newTask()));
    return task;
  }

  /** empty_zero_page, allocated on first use. */
  zeroPage(): number {
    if (this.zeroFrame === NO_FRAME) {
      const f = this.kernel.mmu.frames.alloc(0, true);
      if (f === NO_FRAME) throw new RangeError('no frame for the zero page');
      this.zeroFrame = f;
    }
    return this.zeroFrame;
  }
}

/** Make the Linux state of a kernel (`Personality.attach`). */
export function attachLinux(kernel: Kernel<LinuxSpace>, opts: Readonly<LinuxOptions> = {}): LinuxMachine {
  return new LinuxMachine(kernel, opts);
}

/** The machine of a kernel: the state the core's `attach` made (`kernel.state`). */
export function machineOf(k: Kernel<LinuxSpace>): LinuxMachine {
  const m = k.state;
  if (!(m instanceof LinuxMachine)) throw new TypeError(`kernel of ${k.personality.name} has no LinuxMachine (not a Linux personality)`);
  return m;
}
