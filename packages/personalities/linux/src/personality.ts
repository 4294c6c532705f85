/**
 * The Linux personality on the kernel core: x86-64 system-call numbers for the memory calls, the
 * page-fault path (arch/x86/mm/fault.c do_user_addr_fault → mm/memory.c handle_mm_fault) and the
 * page-table work behind munmap, mprotect, mremap, brk and madvise (DONTNEED, FREE, WILLNEED).
 *
 * Faults on private anonymous memory: a read maps the shared zero page read-only
 * (do_anonymous_page); a write allocates a zeroed frame; a write to a present read-only page of a
 * writable area is do_wp_page: the zero page is replaced by a zeroed frame, a frame only this
 * mapping references is made writable in place (reuse), any other is copied. Shared anonymous
 * memory faults through its shmem file's pages. A VM_GROWSDOWN area grows to a fault just below
 * it. Anything else is SIGSEGV (SEGV_MAPERR without an area, SEGV_ACCERR without permission).
 *
 * File pages come from a page cache filled from the open file's bytes (filemap_fault), shared
 * mappings map the cache page, private ones copy it on the first write.
 *
 * Every function takes the machine (`LinuxMachine`, machine.ts) or the kernel explicitly: no state
 * lives in closures.
 */
import { KernelError, pageDown } from '@polykernel/core';
import type { FaultInfo, FaultResolution, Kernel, Personality, Process, SyscallArg, SyscallContext, SyscallSpec, Thread } from '@polykernel/kernel';
import { ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE, MAP_NO_MEMORY, NO_FRAME, PTE_ACCESSED, PTE_DIRTY, PTE_NX, PTE_SW2, PTE_SW3, PTE_SW4, PTE_USER, PTE_WRITE } from '@polykernel/mmu';
import type { OpenFile } from '@polykernel/kernel';
import { MAP_ANONYMOUS, MAP_POPULATE, PAGE_SIZE, VM_HUGETLB, VM_LOCKED, VM_MAYWRITE, VM_MIXEDMAP, VM_PFNMAP, VM_EXEC, VM_READ, VM_SHARED, VM_WRITE } from './flags.js';
import { execve, type ExecHost, type FsFile } from './exec.js';
import { machineOf, type LazyPage, type LinuxMachine, type LinuxOptions, type LinuxSpace, type VdsoFrames } from './machine.js';
import { mapsLine } from './maps.js';
import { MmStruct, pageAlign } from './mm.js';
import {
  CLONE, checkCloneFlags, defaultAction, newTask, OOM_SKIP, oomBadness, oomScore, SIG_DFL, SIG_IGN, SIGNAL_NAMES, SIGNALS, TASK, validWaitOptions, WAIT,
  type LinuxTask, type OomInput,
} from './tasks.js';
import type { VmArea, VmFile } from './vma.js';

export type { LinuxSpace, LinuxOptions } from './machine.js';
export { attachLinux, machineOf, LinuxMachine } from './machine.js';

const MADV_WILLNEED = 3;
const MADV_DONTNEED = 4;
const MADV_FREE = 8;
/** Software PTE bit marking a shmem page (for the rss type when it is zapped). */
const PTE_SHMEM = PTE_SW2;
/** Software PTE bit marking a page-cache page of a regular file (rss_stat MM_FILEPAGES). */
const PTE_FILE = PTE_SW3;
/** Software PTE bit marking a raw PFN mapping (the vDSO's data pages): no struct page, no rss. */
const PTE_PFN = PTE_SW4;
/** The fault path's answers, allocated once (the fault path runs millions of times). */
const RESOLVED = {
  zeroFill: { kind: 'resolved', how: 'zeroFill' },
  zeroPage: { kind: 'resolved', how: 'zeroPage' },
  cow: { kind: 'resolved', how: 'cow' },
  cowReuse: { kind: 'resolved', how: 'cowReuse' },
  file: { kind: 'resolved', how: 'file' },
  swapIn: { kind: 'resolved', how: 'swapIn' },
} as const satisfies Record<string, FaultResolution>;
/** Out of memory on the fault path with the faulting task chosen by the OOM killer (or none killable). */
const OOM: FaultResolution = { kind: 'signal', signal: 'SIGKILL', code: 'out of memory' };
/**
 * Simulated cycles of Linux's own software work, calibrated on host-costs.md (Zen 4 KVM guest,
 * 3 GHz nominal). Process calls: vfork+_exit+waitpid ≈ 25 µs whatever the parent's size (the task
 * without a new mm: forkBase + exitBase); fork+_exit+waitpid of a minimal process ≈ 112 µs (dup_mm
 * adds dupMmBase) plus ≈ 118 ns per resident page (forkPerPte). Fault handling beyond what the MMU model charges (trap, walks, zeroing or
 * copying the page): what makes a zero-fill fault 1.59 µs, a zero-page read fault 0.64 µs, a COW
 * copy ≈ 2.1 µs and a reuse 0.67 µs on the host. clear_user/copy_to_user: 10 MiB cleared into
 * touched pages in 0.195 ms ≈ 230 cycles per page.
 */
export const PROCESS_COSTS = {
  forkBase: 60_000, dupMmBase: 240_000, forkPerVma: 1_500, forkPerPte: 350, exitBase: 15_000,
  faultHandler: { zeroFill: 3_500, zeroPage: 1_450, cow: 4_600, cowReuse: 1_550, file: 1_500 } as Readonly<Record<string, number>>,
  clearUserPage: 230, copyUserPage: 460,
  /**
   * One 4 KiB page written to or read from the swap device: an assumed NVMe-class device (≈ 20 µs
   * per page, not measured here — the development host has no swap).
   */
  swapPageIo: 60_000,
} as const;
/** The value wait4 returns to a caller it put to sleep: restart the call once the thread runs again (-ERESTARTSYS). */
export const RESTART_SYSCALL = -512;

const num = (a: unknown): number => (typeof a === 'number' ? a : Number.NaN);

/** What dup_mmap did with one area of the parent (for `polykernel explain fork`). */
export interface ForkArea {
  /** The parent's /proc/<pid>/maps line for the area. */
  line: string;
  action: string;
  ptes: number;
  writeProtected: number;
}

export interface ForkReport {
  areas: ForkArea[];
  /** VM_DONTCOPY areas left out. */
  dontCopy: number;
  ptes: number;
  tables: number;
  /** Whether the parent's TLB entries were flushed (flush_tlb_mm) after write-protecting. */
  flushed: boolean;
}

/** The Linux personality: the core's contract plus the Linux-only views (tasks, dmesg, OOM scores). */
export interface LinuxPersonality extends Personality<LinuxSpace> {
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

/** The machine a thread's process lives on (its address space carries it). */
function machineOfThread(t: Thread): LinuxMachine {
  return (t.process as Process<LinuxSpace>).space.machine;
}

// ---- files, inodes and the vDSO --------------------------------------------------------------

function execFileOf(m: LinuxMachine, f: FsFile): VmFile {
  const key = `${f.dev[0]}:${f.dev[1]}:${f.ino}`;
  let v = m.inodes.get(key);
  if (v === undefined) m.inodes.set(key, (v = { path: f.path, dev: f.dev, ino: f.ino, bytes: f.bytes }));
  return v;
}

/** The kernel's vDSO pages: one data page mapped by PFN, two text pages with a reference of their own. */
function vdsoOf(m: LinuxMachine): VdsoFrames {
  let v = m.vdso;
  if (v === null) {
    const frames = m.kernel.mmu.frames;
    const alloc = (): number => {
      const f = frames.alloc(0, true);
      if (f === NO_FRAME) throw new RangeError('no frame for the vDSO');
      return f;
    };
    v = m.vdso = { vvar: alloc(), text: [alloc(), alloc()] };
  }
  return v;
}

function vmFileOf(m: LinuxMachine, f: OpenFile): VmFile {
  // A file from the file system: one VmFile (one page cache) per inode, shared with exec's.
  if (f.dev !== undefined && f.ino !== undefined) return execFileOf(m, { path: f.path, bytes: f.bytes, dev: f.dev, ino: f.ino, mode: 0o100644 });
  let v = m.vmFiles.get(f.bytes);
  if (v === undefined) {
    v = { path: f.path, dev: [0, 0], ino: m.nextIno++, bytes: f.bytes };
    m.vmFiles.set(f.bytes, v);
  }
  return v;
}

/** Drop the pages of [start, end): unmap the PTEs, release the frames, shoot down the TLBs (zap_page_range). */
function zap(m: LinuxMachine, p: Process<LinuxSpace>, cpu: number, start: number, end: number): void {
  if (end <= start) return;
  const k = m.kernel;
  const zero = m.zeroPage();
  const frames = k.mmu.frames;
  const s = p.space;
  s.hiwaterRss = Math.max(s.hiwaterRss, s.rss.anon + s.rss.file + s.rss.shmem);
  const removed = s.pt.unmap(start, end - start, (_va, frame, _size, flags) => {
    if (frame === zero || (flags & PTE_PFN) !== 0) return;
    if ((flags & PTE_SHMEM) !== 0) s.rss.shmem--;
    else if ((flags & PTE_FILE) !== 0) s.rss.file--;
    else s.rss.anon--;
    if (frames.unref(frame) === 0) {
      frames.free(frame);
      forgetFrame(m, frame);
    }
  });
  if (removed > 0) k.mmu.shootdown(cpu, k.asidOf(p), start, end - start);
  zapSwap(m, s, start, end);
}

/** Shmem files mapped in [start, end) now, to release those that are mapped nowhere afterwards. */
function shmemIn(m: LinuxMachine, s: LinuxSpace, start: number, end: number): VmFile[] {
  return s.mm.vmas.overlapping(start, end).flatMap((v) => (v.file !== null && m.shmemPages.has(v.file) ? [v.file] : []));
}

function releaseUnmapped(m: LinuxMachine, s: LinuxSpace, files: VmFile[]): void {
  // The shmem file lives while any mm maps it (fork shares it between parent and child).
  for (const f of files) if (m.shmemPages.has(f) && !anyMaps(s.mm, f) && ![...m.kernel.processes.values()].some((p) => p.space !== s && anyMaps(p.space.mm, f))) releaseShmem(m, f);
}

function anyMaps(mm: MmStruct, file: VmFile): boolean {
  for (const v of mm.vmas.iterateFrom(0)) if (v.file === file) return true;
  return false;
}

function releaseShmem(m: LinuxMachine, file: VmFile): void {
  const frames = m.kernel.mmu.frames;
  for (const f of m.shmemPages.get(file)!.values()) if (frames.unref(f) === 0) frames.free(f);
  m.shmemPages.delete(file);
}

/**
 * change_protection (mm/mprotect.c change_pte_range): every present PTE in [start, end) takes its
 * area's new protection. Write permission is only kept where no fault is needed to grant it:
 * shmem pages of a shared writable area (no write-notify), and, with MM_CP_TRY_CHANGE_WRITABLE,
 * private anonymous pages this mapping alone holds (can_change_pte_writable). The zero page,
 * page-cache pages and pages shared with others stay read-only, so their next write faults.
 */
function syncPtes(k: Kernel<LinuxSpace>, s: LinuxSpace, start: number, end: number): void {
  const frames = k.mmu.frames;
  for (const v of s.mm.vmas.overlapping(start, end)) {
    const lo = Math.max(v.start, start);
    const hi = Math.min(v.end, end);
    const exec = (v.flags & VM_EXEC) !== 0;
    s.pt.protect(lo, hi - lo, exec ? 0 : PTE_NX, PTE_WRITE | (exec ? PTE_NX : 0));
    if ((v.flags & VM_WRITE) === 0) continue;
    const upgrade: number[] = [];
    s.pt.forEachLeaf(lo, hi - lo, (va, frame, _size, flags) => {
      const shmemShared = (v.flags & VM_SHARED) !== 0 && (flags & PTE_SHMEM) !== 0;
      const exclusiveAnon = (v.flags & VM_SHARED) === 0 && (flags & (PTE_SHMEM | PTE_FILE)) === 0 && frame !== s.zeroFrame && frames.refcount[frame] === 1;
      if (shmemShared || exclusiveAnon) upgrade.push(va);
    });
    for (const va of upgrade) s.pt.updateFlags(va, PTE_WRITE, 0);
  }
}

/** Run an mm call, turning its KernelError into the errno return. */
function call(ctx: SyscallContext<LinuxSpace>, f: () => number): number {
  try {
    return f();
  } catch (e) {
    if (e instanceof KernelError) return ctx.fail(e.errno, e.message);
    throw e;
  }
}

// ---- memory system calls ---------------------------------------------------------------------

function sysMmap(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  return call(ctx, () => {
    const [addr, len, prot, flags, fd] = [num(a[0]), num(a[1]), num(a[2]), num(a[3]), num(a[4] ?? -1)];
    const m = machineOf(ctx.kernel);
    const s = ctx.process.space;
    let file: VmFile | null = null;
    let mode: { read: boolean; write: boolean } | undefined;
    if ((flags & MAP_ANONYMOUS) === 0) {
      // Without MAP_ANONYMOUS the fd must name an open file (fs/file.c fget → EBADF).
      const open = ctx.process.file(fd);
      if (open === null) return ctx.fail('EBADF', `fd ${fd} is not open`);
      file = vmFileOf(m, open);
      mode = { read: open.readable, write: open.writable };
    }
    const replaced = shmemIn(m, s, addr, addr + pageAlign(len));
    const r = s.mm.mmap(addr, len, prot, flags, file, file === null ? 0 : num(a[5] ?? 0), mode);
    // MAP_FIXED replaced whatever was there: its pages go (the new area starts empty).
    zap(m, ctx.process, ctx.thread.cpu, r, r + pageAlign(len));
    releaseUnmapped(m, s, replaced);
    if ((flags & MAP_POPULATE) !== 0) populate(ctx.kernel, ctx.thread, r, r + pageAlign(len));
    return r;
  });
}

function sysMprotect(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  return call(ctx, () => {
    const [start, len, prot] = [num(a[0]), num(a[1]), num(a[2])];
    const s = ctx.process.space;
    const end = start + pageAlign(len);
    try {
      return s.mm.mprotect(start, len, prot);
    } finally {
      // Even when the call fails part-way (ENOMEM at a hole), the areas it did change must
      // have their PTEs follow, or a page would stay writable under a read-only area.
      if (start % PAGE_SIZE === 0 && end > start) {
        syncPtes(ctx.kernel, s, start, end);
        ctx.kernel.mmu.shootdown(ctx.thread.cpu, ctx.kernel.asidOf(ctx.process), start, end - start);
      }
    }
  });
}

function sysMunmap(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  return call(ctx, () => {
    const [addr, len] = [num(a[0]), num(a[1])];
    // Zap before the areas go (the rss type is read from them), only once the call is valid.
    const s = ctx.process.space;
    if (addr % PAGE_SIZE !== 0 || len === 0 || addr > s.mm.taskSize || len > s.mm.taskSize - addr) return s.mm.munmap(addr, len);
    const m = machineOf(ctx.kernel);
    const files = shmemIn(m, s, addr, addr + pageAlign(len));
    zap(m, ctx.process, ctx.thread.cpu, addr, addr + pageAlign(len));
    const r = s.mm.munmap(addr, len);
    releaseUnmapped(m, s, files);
    return r;
  });
}

function sysBrk(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  const s = ctx.process.space;
  const old = s.mm.brk;
  const r = s.mm.brkSyscall(num(a[0]));
  if (r < old) zap(machineOf(ctx.kernel), ctx.process, ctx.thread.cpu, pageAlign(r), pageAlign(old));
  return r;
}

function sysMremap(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  return call(ctx, () => {
    const [addr, oldLen, newLen, flags, newAddr] = [num(a[0]), pageAlign(num(a[1])), pageAlign(num(a[2])), num(a[3]), num(a[4] ?? 0)];
    const m = machineOf(ctx.kernel);
    const s = ctx.process.space;
    // Keep the PTEs of the part that survives, to move them (move_page_tables).
    const keep: [number, number, number][] = [];
    s.pt.forEachLeaf(addr, Math.min(oldLen, newLen), (va, frame, _size, fl) => keep.push([va - addr, frame, fl]));
    const keepSwap = [...s.swap].filter(([va]) => va >= addr && va < addr + Math.min(oldLen, newLen)).map(([va, slot]) => [va - addr, slot] as const);
    const files = shmemIn(m, s, addr, addr + oldLen).concat(shmemIn(m, s, newAddr, newAddr + newLen));
    const r = s.mm.mremap(addr, num(a[1]), num(a[2]), flags, newAddr);
    const k = ctx.kernel;
    if (oldLen > newLen) zap(m, ctx.process, ctx.thread.cpu, addr + newLen, addr + oldLen);
    if (r !== addr) {
      s.pt.unmap(addr, Math.min(oldLen, newLen));
      k.mmu.shootdown(ctx.thread.cpu, k.asidOf(ctx.process), addr, Math.min(oldLen, newLen));
      zap(m, ctx.process, ctx.thread.cpu, r, r + newLen); // what MREMAP_FIXED replaced
      for (const [off, frame, fl] of keep) s.pt.map(r + off, frame, PAGE_SIZE, fl);
      // The swap entries move with their PTEs (move_ptes moves non-present entries too).
      for (const [off] of keepSwap) s.swap.delete(addr + off);
      for (const [off, slot] of keepSwap) s.swap.set(r + off, slot);
    }
    releaseUnmapped(m, s, files);
    return r;
  });
}

function sysMadvise(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  return call(ctx, () => {
    const [start, len, advice] = [num(a[0]), num(a[1]), num(a[2])];
    if (advice !== MADV_DONTNEED && advice !== MADV_FREE && advice !== MADV_WILLNEED) return ctx.fail('EINVAL', `advice ${advice} is not simulated`);
    if (start % PAGE_SIZE !== 0) return ctx.fail('EINVAL', 'start not page aligned');
    const end = start + pageAlign(len);
    if (end < start) return ctx.fail('EINVAL', 'range wraps');
    if (end === start) return 0;
    const m = machineOf(ctx.kernel);
    const s = ctx.process.space;
    // madvise_walk_vmas: the range must be mapped throughout, else ENOMEM (after doing the mapped parts).
    let cursor = start;
    let hole = false;
    for (const v of s.mm.vmas.overlapping(start, end)) {
      if (v.start > cursor) hole = true;
      cursor = v.end;
      // WILLNEED only schedules read-ahead: nothing to do for pages that fault in on demand.
      if (advice === MADV_WILLNEED) continue;
      // madvise_dontneed_free_valid_vma; MADV_FREE applies to anonymous memory only.
      if ((v.flags & (VM_LOCKED | VM_PFNMAP | VM_HUGETLB)) !== 0) return ctx.fail('EINVAL', 'locked, PFN-mapped or hugetlb area');
      if (advice === MADV_FREE && v.file !== null) return ctx.fail('EINVAL', 'MADV_FREE on a file or shared mapping');
      if (advice === MADV_FREE) markLazyFree(m, ctx, Math.max(v.start, start), Math.min(v.end, end));
      else zap(m, ctx.process, ctx.thread.cpu, Math.max(v.start, start), Math.min(v.end, end));
    }
    return hole || cursor < end ? ctx.fail('ENOMEM', 'range not fully mapped') : 0;
  });
}

function sysExecve(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  const path = typeof a[0] === 'string' ? a[0] : '';
  const argv = Array.isArray(a[1]) ? (a[1] as readonly string[]) : [];
  const envp = Array.isArray(a[2]) ? (a[2] as readonly string[]) : [];
  const m = machineOf(ctx.kernel);
  const state = { committed: false };
  try {
    const image = execve(execHost(m, ctx, () => { state.committed = true; }), path, argv, envp);
    ctx.process.space.image = image;
    // de_thread → unshare_sighand, flush_signal_handlers: caught signals go back to SIG_DFL,
    // ignored ones stay ignored.
    const t = m.task(ctx.thread);
    t.sighand = { action: new Map([...t.sighand.action].filter(([, h]) => h === SIG_IGN)) };
    releaseVforkParent(m, ctx.thread);
    ctx.kernel.bus.probe('exec').publish({ pid: ctx.process.pid, path: image.path, interpreter: image.interpreter });
    // __set_task_comm(kbasename(bprm->filename)), TASK_COMM_LEN 16.
    ctx.process.comm = (path.split('/').pop() ?? path).slice(0, 15);
    return 0;
  } catch (e) {
    if (!(e instanceof KernelError)) throw e;
    // Past the point of no return the old image is gone: the task gets SIGSEGV (bprm_execve).
    if (state.committed) {
      ctx.kernel.signal(ctx.process, 'SIGSEGV', e.message);
      return 0;
    }
    return ctx.fail(e.errno, e.message);
  }
}

// ---- MADV_FREE: lazily freed anonymous pages (mm/madvise.c, mm/swap.c, mm/vmscan.c) -----------

/** FOLIO_BATCH_SIZE: a per-CPU batch is moved to the LRU (and the pages marked) when it holds 31. */
const FOLIO_BATCH_SIZE = 31;

/**
 * madvise_free_pte_range: every present anonymous page of the range becomes clean and old (its
 * PTE's D and A bits cleared, the TLB entry dropped) and is handed to folio_mark_lazyfree, which
 * queues it in this CPU's lazy-free batch; the batch marks its pages lazy-free when it fills
 * (lru_lazyfree_fn) or is drained. The zero page is no normal page and is skipped.
 */
function markLazyFree(m: LinuxMachine, ctx: SyscallContext<LinuxSpace>, start: number, end: number): void {
  const k = ctx.kernel;
  const s = ctx.process.space;
  const batch = m.lazyBatches.get(ctx.thread.cpu) ?? [];
  m.lazyBatches.set(ctx.thread.cpu, batch);
  // Swapped-out pages of the range are simply freed (free_swap_and_cache): their data is not wanted.
  zapSwap(m, s, start, end);
  const pages: [number, number, number][] = [];
  s.pt.forEachLeaf(start, end - start, (va, frame, _size, flags) => pages.push([va, frame, flags]));
  for (const [va, frame, flags] of pages) {
    if (frame === s.zeroFrame || (flags & (PTE_SHMEM | PTE_FILE | PTE_PFN)) !== 0) continue;
    if ((flags & (PTE_ACCESSED | PTE_DIRTY)) !== 0) s.pt.updateFlags(va, 0, PTE_ACCESSED | PTE_DIRTY);
    if (m.lazyMarked.has(frame) || batch.some(([f]) => f === frame)) continue;
    batch.push([frame, { space: s, va }]);
    if (batch.length >= FOLIO_BATCH_SIZE) drainLazyBatch(m, batch);
  }
  k.mmu.shootdown(ctx.thread.cpu, k.asidOf(ctx.process), start, end - start);
}

function drainLazyBatch(m: LinuxMachine, batch: [number, LazyPage][]): void {
  for (const [frame, where] of batch) m.lazyMarked.set(frame, where);
  batch.length = 0;
}

/** lru_add_drain_all: every CPU's pending lazy-free pages are marked now. */
function drainLazy(m: LinuxMachine): void {
  for (const b of m.lazyBatches.values()) drainLazyBatch(m, b);
}

/** A frame went back to the allocator: it is no longer anybody's lazy-free page. */
function forgetFrame(m: LinuxMachine, frame: number): void {
  m.lazyMarked.delete(frame);
  for (const b of m.lazyBatches.values()) {
    const i = b.findIndex(([f]) => f === frame);
    if (i >= 0) b.splice(i, 1);
  }
}

/**
 * Reclaim of lazy-free pages (shrink_folio_list → try_to_unmap_one): a page still clean and
 * mapped once is discarded — its PTE cleared, the frame freed, so the next access reads zeros;
 * a page written again since (dirty) or mapped more than once goes back to being an ordinary
 * anonymous page. Returns the pages freed.
 */
function reclaimLazyFree(m: LinuxMachine): number {
  drainLazy(m);
  const k = m.kernel;
  const frames = k.mmu.frames;
  let freed = 0;
  for (const [frame, { space, va }] of [...m.lazyMarked]) {
    m.lazyMarked.delete(frame);
    const pte = space.pt.lookup(va);
    // Gone or replaced since, shared (after fork), or written again: not discarded.
    if (pte?.frame !== frame || frames.refcount[frame] !== 1 || (pte.flags & PTE_DIRTY) !== 0) continue;
    space.pt.unmap(va, PAGE_SIZE);
    const owner = [...k.processes.values()].find((p) => p.space === space && p.state === 'running');
    if (owner !== undefined) k.mmu.shootdown(owner.threads[0]?.cpu ?? 0, k.asidOf(owner), va, PAGE_SIZE);
    space.rss.anon--;
    frames.unref(frame);
    frames.free(frame);
    freed++;
  }
  return freed;
}

// ---- swap: anonymous pages out to the swap device and back (mm/vmscan.c, mm/memory.c do_swap_page)

/** swap_free: one entry less names `slot`; the slot is released when none does. */
function dropSwap(m: LinuxMachine, slot: number): void {
  const n = (m.swapCounts.get(slot) ?? 1) - 1;
  if (n > 0) m.swapCounts.set(slot, n);
  else {
    m.swapCounts.delete(slot);
    m.kernel.vm.swap.free(slot);
  }
}

/** The swap entries of [start, end) go (munmap, MADV_DONTNEED, exit, MAP_FIXED over them). */
function zapSwap(m: LinuxMachine, s: LinuxSpace, start: number, end: number): void {
  if (s.swap.size === 0) return;
  for (const [va, slot] of [...s.swap]) {
    if (va < start || va >= end) continue;
    s.swap.delete(va);
    dropSwap(m, slot);
  }
}

/**
 * shrink_folio_list for anonymous pages, as a second-chance clock over every mm: a page that was
 * accessed since the last pass loses its accessed bit and stays; one that was not is written to a
 * swap slot, its PTE replaced by the swap entry, its frame freed. Only pages mapped once are
 * swapped (a page shared after fork stays: simplified). Returns the pages freed (at most `want`).
 */
function reclaimAnon(m: LinuxMachine, want: number): number {
  const k = m.kernel;
  const swap = k.vm.swap;
  if (swap.slots === 0 || swap.usedSlots >= swap.slots) return 0;
  const frames = k.mmu.frames;
  let freed = 0;
  const owners = new Map<LinuxSpace, Process<LinuxSpace>>();
  for (const p of k.processes.values()) if (p.state === 'running' && !owners.has(p.space)) owners.set(p.space, p);
  for (let pass = 0; pass < 2 && freed < want; pass++) {
    for (const [s, owner] of owners) {
      const candidates: [number, number, number][] = [];
      for (const v of s.mm.vmas.iterateFrom(0)) {
        if (v.file !== null || (v.flags & (VM_SHARED | VM_LOCKED | VM_PFNMAP)) !== 0) continue;
        s.pt.forEachLeaf(v.start, v.length, (va, frame, _size, flags) => {
          if (frame !== s.zeroFrame && (flags & (PTE_FILE | PTE_SHMEM | PTE_PFN)) === 0 && frames.refcount[frame] === 1) candidates.push([va, frame, flags]);
        });
      }
      const asid = k.asidOf(owner);
      for (const [va, frame, flags] of candidates) {
        if (freed >= want) break;
        if ((flags & PTE_ACCESSED) !== 0) {
          s.pt.updateFlags(va, 0, PTE_ACCESSED); // second chance; the next access sets it again
          k.mmu.shootdown(0, asid, va, PAGE_SIZE);
          continue;
        }
        const slot = swap.alloc();
        if (slot < 0) return freed;
        swap.write(slot, frames.contentsEnabled ? frames.read(frame * PAGE_SIZE, PAGE_SIZE) : null);
        k.metrics.cycles += PROCESS_COSTS.swapPageIo;
        s.pt.unmap(va, PAGE_SIZE);
        k.mmu.shootdown(0, asid, va, PAGE_SIZE);
        s.swap.set(va, slot);
        m.swapCounts.set(slot, 1);
        s.rss.anon--;
        frames.unref(frame);
        frames.free(frame);
        forgetFrame(m, frame);
        freed++;
      }
    }
  }
  return freed;
}

/**
 * do_swap_page: the page is read back from its slot into a new frame of this mm's own (a slot
 * other mms still name keeps its copy for them), mapped writable when the area is, and the
 * entry dropped.
 */
function swapIn(m: LinuxMachine, s: LinuxSpace, v: VmArea, page: number, slot: number, base: number): FaultResolution {
  const frame = allocPage(m, false);
  if (frame === NO_FRAME) return OOM;
  const k = m.kernel;
  const frames = k.mmu.frames;
  const bytes = k.vm.swap.read(slot);
  if (frames.contentsEnabled) frames.write(frame * PAGE_SIZE, bytes ?? new Uint8Array(PAGE_SIZE));
  k.metrics.cycles += PROCESS_COSTS.swapPageIo;
  s.swap.delete(page);
  dropSwap(m, slot);
  s.mm.prepareAnon(v);
  s.pt.map(page, frame, PAGE_SIZE, base | ((v.flags & VM_WRITE) !== 0 ? PTE_WRITE : 0));
  s.rss.anon++;
  k.metrics.faults.swapIn++;
  return RESOLVED.swapIn;
}

// ---- memory pressure: the OOM killer (mm/oom_kill.c) ----------------------------------------

/** A frame for the fault path; when memory is out, out_of_memory() kills a victim and the allocation is retried. */
function allocPage(m: LinuxMachine, zeroed: boolean): number {
  const frames = m.kernel.mmu.frames;
  for (;;) {
    const f = frames.alloc(0, zeroed);
    if (f !== NO_FRAME || !relieve(m)) return f;
  }
}

/**
 * An allocation failed: reclaim (unmapped page-cache pages, clean lazy-free pages), else the OOM
 * killer. True when memory may now be had; false when nothing could be freed for the faulting
 * task — nothing killable, or the task itself was chosen — so its fault fails (SIGKILL).
 */
function relieve(m: LinuxMachine): boolean {
  // Page cache and lazy-free pages first, then anonymous pages out to swap (a batch of 32).
  if (reclaimPageCache(m) + reclaimLazyFree(m) > 0 || reclaimAnon(m, 32) > 0) return true;
  const current = m.current;
  const victim = outOfMemory(m, current);
  return victim !== null && victim !== current?.process.pid;
}

function totalPages(k: Kernel<LinuxSpace>): number {
  return k.mmu.frames.frameCount + k.vm.swap.slots;
}

function oomInput(m: LinuxMachine, p: Process<LinuxSpace>): OomInput {
  const s = p.space;
  const leader = p.threads[0];
  let tables = 0;
  for (let l = 1; l < s.pt.tablesByLevel.length; l++) tables += s.pt.tablesByLevel[l]!;
  return {
    rssPages: s.rss.anon + s.rss.file + s.rss.shmem,
    swapEntries: s.swap.size,
    pgtablesBytes: tables * PAGE_SIZE,
    oomScoreAdj: leader === undefined ? 0 : m.task(leader).oomScoreAdj,
    unkillable: p === m.kernel.init || p.state !== 'running',
    inVfork: leader !== undefined && m.task(leader).vforkParent !== null,
  };
}

/**
 * out_of_memory → select_bad_process → oom_kill_process: the running process with the most
 * oom_badness points is killed with SIGKILL (on equal points the one found later, as
 * oom_evaluate_task's `points < chosen_points` test keeps it), with the kernel's report in dmesg.
 */
function outOfMemory(m: LinuxMachine, cur: Thread | null): number | null {
  const k = m.kernel;
  const total = totalPages(k);
  const log = m.dmesg;
  const kb = (pages: number): number => pages * (PAGE_SIZE / 1024);
  let chosen: Process<LinuxSpace> | null = null;
  let chosenPoints = OOM_SKIP;
  const rows: string[] = [];
  for (const p of k.processes.values()) {
    const input = oomInput(m, p);
    const points = oomBadness(input, total);
    if (p.state === 'running' && p !== k.init) {
      const s = p.space;
      rows.push(`[${String(p.pid).padStart(7)}] ${String(p.creds.uid).padStart(5)} ${String(p.pid).padStart(5)} ${String(s.mm.totalVm).padStart(8)} ${String(input.rssPages).padStart(8)} ${String(s.rss.anon).padStart(8)} ${String(s.rss.file).padStart(8)} ${String(s.rss.shmem).padStart(9)} ${String(input.pgtablesBytes).padStart(14)} ${String(input.swapEntries).padStart(8)} ${String(input.oomScoreAdj).padStart(13)} ${p.comm}`);
    }
    if (points === OOM_SKIP || points < chosenPoints) continue;
    chosen = p;
    chosenPoints = points;
  }
  const curProc = cur?.process as Process<LinuxSpace> | undefined;
  const adj = cur === null ? 0 : m.task(cur).oomScoreAdj;
  log.push(`${curProc?.comm ?? 'kernel'} invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=${adj}`);
  log.push('Tasks state (memory values in pages):');
  log.push('[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents oom_score_adj name');
  log.push(...rows);
  if (chosen === null) {
    log.push('Out of memory and no killable processes...');
    return null;
  }
  const s = chosen.space;
  const input = oomInput(m, chosen);
  log.push(`oom-kill:constraint=CONSTRAINT_NONE,task=${chosen.comm},pid=${chosen.pid},uid=${chosen.creds.uid}`);
  log.push(`Out of memory: Killed process ${chosen.pid} (${chosen.comm}) total-vm:${kb(s.mm.totalVm)}kB, anon-rss:${kb(s.rss.anon)}kB, file-rss:${kb(s.rss.file)}kB, shmem-rss:${kb(s.rss.shmem)}kB, UID:${chosen.creds.uid} pgtables:${input.pgtablesBytes / 1024}kB oom_score_adj:${input.oomScoreAdj}`);
  k.bus.probe('oom:kill').publish({ pid: curProc?.pid ?? 0, victim: chosen.pid, points: chosenPoints, reason: 'out of memory' });
  if (chosen !== curProc) k.signal(chosen, 'SIGKILL', 'oom-kill');
  return chosen.pid;
}

// ---- fork: copy_process and dup_mmap (kernel/fork.c, mm/memory.c copy_page_range) ----------

/**
 * The child's address space: the areas (MmStruct.forkFrom) and, for areas with anonymous pages
 * or raw PFN mappings, their PTEs (vma_needs_copy: file and shmem areas without anon_vma fault
 * their pages in again). In a private writable area (is_cow_mapping) a writable PTE is made
 * read-only in both parent and child and the page gains a reference; the next write to it is
 * do_wp_page's copy. Shared areas' PTEs are copied as they are.
 */
function dupMmap(m: LinuxMachine, parent: Process<LinuxSpace>, thread: Thread, child: LinuxSpace): { vmas: number; ptes: number; tables: number } | null {
  const k = m.kernel;
  const src = parent.space;
  const frames = k.mmu.frames;
  const tables0 = child.pt.tablePages;
  const skipped = src.mm.mapCount;
  const pairs = child.mm.forkFrom(src.mm);
  let ptes = 0;
  const state = { wrprotected: false };
  const areas: ForkArea[] = [];
  for (const [v] of pairs) {
    const area: ForkArea = { line: mapsLine(src.mm, v).trimEnd(), action: 'not copied: no anonymous pages (vma_needs_copy), the child faults them in again', ptes: 0, writeProtected: 0 };
    areas.push(area);
    if (v.anonVma === 0 && (v.flags & (VM_PFNMAP | VM_MIXEDMAP)) === 0) continue;
    const cow = (v.flags & (VM_SHARED | VM_MAYWRITE)) === VM_MAYWRITE;
    area.action = cow ? 'PTEs copied; writable ones write-protected in parent and child (copy-on-write)' : 'PTEs copied as they are (shared or raw PFN mapping)';
    // copy_present_pte: the child's PTE is old (pte_mkold), and clean in a shared area (pte_mkclean).
    const childClear = PTE_ACCESSED | ((v.flags & VM_SHARED) !== 0 ? PTE_DIRTY : 0);
    const copied = child.pt.copyFrom(src.pt, v.start, v.length, cow, PTE_WRITE, childClear, (frame, _childFlags, parentFlags, wp) => {
      area.ptes++;
      if (wp) {
        area.writeProtected++;
        state.wrprotected = true;
      }
      if ((parentFlags & PTE_PFN) !== 0 || frame === src.zeroFrame) return;
      frames.ref(frame);
      if ((parentFlags & PTE_SHMEM) !== 0) child.rss.shmem++;
      else if ((parentFlags & PTE_FILE) !== 0) child.rss.file++;
      else child.rss.anon++;
    });
    if (copied < 0) {
      // A page-table page could not be had: the caller tears the copy down and retries.
      if (state.wrprotected) k.mmu.shootdown(thread.cpu, k.asidOf(parent), 0, src.mm.taskSize);
      return null;
    }
    // copy_nonpresent_pte: a swap entry is copied and its slot gains a user (swap_duplicate).
    for (const [va, slot] of src.swap) {
      if (va < v.start || va >= v.end) continue;
      child.swap.set(va, slot);
      m.swapCounts.set(slot, (m.swapCounts.get(slot) ?? 1) + 1);
      area.ptes++;
    }
    ptes += area.ptes;
  }
  // flush_tlb_mm: the parent's cached writable translations must go.
  if (state.wrprotected) k.mmu.shootdown(thread.cpu, k.asidOf(parent), 0, src.mm.taskSize);
  child.hiwaterRss = child.rss.anon + child.rss.file + child.rss.shmem;
  const tables = child.pt.tablePages - tables0;
  m.lastFork = { areas, dontCopy: skipped - pairs.length, ptes, tables, flushed: state.wrprotected };
  return { vmas: pairs.length, ptes, tables };
}

/** kernel_clone → copy_process, for clone, fork and vfork. Returns the child's PID (or TID). */
function doClone(ctx: SyscallContext<LinuxSpace>, flags: number): number {
  const k = ctx.kernel;
  const m = machineOf(k);
  const p = ctx.process;
  const t = ctx.thread;
  const bad = checkCloneFlags(flags, p === k.init, p.creds.euid === 0);
  if (bad !== null) return ctx.fail(bad.errno, bad.why);
  const mt = k.metrics;
  const start = mt.cycles;
  mt.cycles += PROCESS_COSTS.forkBase;
  const parentTask = m.task(t);
  // copy_sighand / copy_fs: shared with CLONE_SIGHAND / CLONE_FS, else a private copy.
  const sighand = (flags & CLONE.SIGHAND) !== 0 ? parentTask.sighand : { action: new Map(parentTask.sighand.action) };
  const fs = (flags & CLONE.FS) !== 0 ? parentTask.fs : { ...parentTask.fs };
  if ((flags & CLONE.THREAD) !== 0) {
    const nt = k.createThread(p);
    m.tasks.set(nt, newTask(parentTask.oomScoreAdj, 0, sighand, fs));
    return nt.tid;
  }
  let space: LinuxSpace = p.space;
  let copied = { vmas: 0, ptes: 0, tables: 0 };
  if ((flags & CLONE.VM) === 0) {
    // dup_mm's page tables come from the page allocator: short of frames, reclaim (or the OOM
    // killer) runs and the copy starts again; a refused commit charge is ENOMEM at once.
    m.current = t;
    for (;;) {
      let fresh: LinuxSpace | null = null;
      let result: ReturnType<typeof dupMmap> = null;
      try {
        fresh = k.personality.createAddressSpace(k, p);
        result = dupMmap(m, p, t, fresh);
      } catch (e) {
        if (fresh !== null) destroySpace(m, fresh);
        if (e instanceof KernelError) return ctx.fail(e.errno, e.message);
        if (!(e instanceof RangeError)) throw e; // no frame for the new root table
      }
      if (result !== null && fresh !== null) {
        space = fresh;
        copied = result;
        break;
      }
      if (fresh !== null) destroySpace(m, fresh);
      if (!relieve(m) || p.state !== 'running') return ctx.fail('ENOMEM', 'no memory for the child\'s page tables');
    }
  }
  if ((flags & CLONE.VM) === 0) mt.cycles += PROCESS_COSTS.dupMmBase;
  mt.cycles += copied.vmas * PROCESS_COSTS.forkPerVma + copied.ptes * PROCESS_COSTS.forkPerPte;
  const parentOfChild = (flags & CLONE.PARENT) !== 0 && p.parent !== null ? p.parent : p;
  const child = k.createProcess(parentOfChild, p.comm, p.creds, space);
  // copy_files: CLONE_FILES shares the descriptor table; otherwise the child gets a copy (dup_fd).
  if ((flags & CLONE.FILES) !== 0) child.files = p.files;
  else for (const f of p.files) child.files.push(f);
  const ct = newTask(parentTask.oomScoreAdj, flags & CLONE.CSIGNAL, sighand, fs);
  m.tasks.set(child.threads[0]!, ct);
  if ((flags & CLONE.VFORK) !== 0) {
    // The parent sleeps (TASK_UNINTERRUPTIBLE) until the child execs or exits (wait_for_vfork_done).
    ct.vforkParent = t;
    parentTask.state = TASK.UNINTERRUPTIBLE;
    t.state = 'blocked';
  }
  k.bus.probe('fork').publish({ pid: p.pid, child: child.pid, flags, ...copied, cycles: mt.cycles - start });
  return child.pid;
}

/** mm_release → complete_vfork_done: the vfork parent runs again. */
function releaseVforkParent(m: LinuxMachine, t: Thread): void {
  const task = m.task(t);
  const parent = task.vforkParent;
  if (parent === null) return;
  task.vforkParent = null;
  m.task(parent).state = TASK.RUNNING;
  if (parent.state === 'blocked') parent.state = 'runnable';
}

/** Children wait4 may report: pid match and the __WCLONE/__WALL rule on the exit signal (eligible_child). */
function eligibleChildren(m: LinuxMachine, p: Process<LinuxSpace>, pid: number, options: number): Process<LinuxSpace>[] {
  return p.children.filter((c) => {
    if (pid > 0 && c.pid !== pid) return false;
    if (pid < -1) return false; // process groups are not modelled: no child is in group -pid
    const leader = c.threads[0];
    const sig = leader === undefined ? SIGNALS.SIGCHLD! : m.task(leader).exitSignal;
    if ((options & WAIT.__WALL) !== 0) return true;
    return (sig !== SIGNALS.SIGCHLD) === ((options & WAIT.__WCLONE) !== 0);
  });
}

/** Store a wait status at a user address (put_user), as wait4's stat_addr. */
function putStatus(ctx: SyscallContext<LinuxSpace>, addr: number, status: number): boolean {
  if (addr === 0) return true;
  const pa = ctx.kernel.access(ctx.thread, addr, ACCESS_WRITE);
  if (pa < 0) return false;
  const frames = ctx.kernel.mmu.frames;
  if (frames.contentsEnabled) frames.write(pa, Uint8Array.of(status & 0xff, (status >> 8) & 0xff, 0, 0));
  return true;
}

function sendSignal(m: LinuxMachine, target: Process<LinuxSpace>, sig: string): void {
  const k = m.kernel;
  if (target.state !== 'running') return;
  // init (SIGNAL_UNKILLABLE) gets no default-action signals from user space.
  if (target === k.init) return;
  const threads = target.threads;
  const num = SIGNALS[sig]!;
  const leader = threads[0];
  // SIGKILL and SIGSTOP cannot be caught or ignored; SIGCONT continues a stopped process even so.
  const handler = leader === undefined || num === SIGNALS.SIGKILL || num === SIGNALS.SIGSTOP ? SIG_DFL : (m.task(leader).sighand.action.get(num) ?? SIG_DFL);
  if (handler !== SIG_DFL) {
    if (num === SIGNALS.SIGCONT) continueProcess(m, target);
    if (handler === SIG_IGN) return;
    // A handler would run in the process; the simulation runs no user code, so it is counted.
    m.task(leader!).signalsHandled++;
    k.bus.probe('signal').publish({ pid: target.pid, signal: sig, code: 'handled' });
    return;
  }
  const action = defaultAction(sig);
  if (action === 'ign') return;
  if (action === 'stop' || action === 'cont') {
    for (const th of threads) {
      const task = m.task(th);
      if (action === 'stop' && task.state !== TASK.STOPPED) {
        task.state = TASK.STOPPED;
        task.stopSignal = SIGNALS[sig]!;
        task.stopReported = false;
        th.state = 'blocked';
      } else if (action === 'cont' && task.state === TASK.STOPPED) {
        task.state = TASK.RUNNING;
        th.state = 'runnable';
      }
    }
    if (target.parent !== null) wakeWaiters(m, target.parent);
    return;
  }
  k.signal(target, sig, 'SI_USER');
}

function continueProcess(m: LinuxMachine, target: Process<LinuxSpace>): void {
  for (const th of target.threads) {
    const task = m.task(th);
    if (task.state === TASK.STOPPED) {
      task.state = TASK.RUNNING;
      th.state = 'runnable';
    }
  }
}

/** A child changed state: threads of `parent` sleeping in wait4 run again (and restart the call). */
function wakeWaiters(m: LinuxMachine, parent: Process<LinuxSpace>): void {
  for (const th of parent.threads) {
    const task = m.task(th);
    if (task.state === TASK.INTERRUPTIBLE && th.state === 'blocked') {
      task.state = TASK.RUNNING;
      th.state = 'runnable';
    }
  }
}

function sysExit(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  // exit(2) ends the calling thread; the process ends with its last thread (do_exit).
  ctx.kernel.exitThread(ctx.thread);
  ctx.kernel.metrics.cycles += PROCESS_COSTS.exitBase;
  if (ctx.process.threads.every((th) => th.state === 'dead')) ctx.kernel.exitProcess(ctx.process, num(a[0]) & 0xff);
  return 0;
}

function sysWait4(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  const [pid, statAddr, options] = [num(a[0]), num(a[1] ?? 0), num(a[2] ?? 0)];
  if (!validWaitOptions(options)) return ctx.fail('EINVAL', `options 0x${options.toString(16)}`);
  const m = machineOf(ctx.kernel);
  const p = ctx.process;
  const task = m.task(ctx.thread);
  const kids = eligibleChildren(m, p, pid === 0 ? -1 : pid, options);
  if (kids.length === 0) return ctx.fail('ECHILD', 'no child to wait for');
  const zombie = kids.find((c) => c.state === 'zombie');
  if (zombie !== undefined) {
    const status = zombie.exitStatus ?? 0;
    if (!putStatus(ctx, statAddr, status)) return ctx.fail('EFAULT', 'stat_addr is not writable');
    const zpid = zombie.pid;
    for (const th of zombie.threads) m.task(th).exitState = TASK.EXIT_DEAD;
    ctx.kernel.reap(zombie);
    task.lastWait = { pid: zpid, status };
    return zpid;
  }
  if ((options & WAIT.WUNTRACED) !== 0) {
    for (const c of kids) {
      const ct = c.threads[0] === undefined ? null : m.task(c.threads[0]);
      if (ct !== null && ct.state === TASK.STOPPED && !ct.stopReported) {
        ct.stopReported = true;
        const status = (ct.stopSignal << 8) | 0x7f;
        if (!putStatus(ctx, statAddr, status)) return ctx.fail('EFAULT', 'stat_addr is not writable');
        task.lastWait = { pid: c.pid, status };
        return c.pid;
      }
    }
  }
  if ((options & WAIT.WNOHANG) !== 0) return 0;
  // Sleep (TASK_INTERRUPTIBLE) until a child changes state; the call is then restarted.
  task.state = TASK.INTERRUPTIBLE;
  ctx.thread.state = 'blocked';
  return RESTART_SYSCALL;
}

function sysKill(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  const [pid, sigNum] = [num(a[0]), num(a[1])];
  const k = ctx.kernel;
  if (!Number.isInteger(sigNum) || sigNum < 0 || sigNum > 64) return ctx.fail('EINVAL', `signal ${sigNum}`);
  const sig = SIGNAL_NAMES[sigNum];
  if (sigNum !== 0 && sig === undefined) return ctx.fail('EINVAL', `signal ${sigNum} is not modelled (real-time signals)`);
  const me = ctx.process.creds;
  const allowed = (t: Process<LinuxSpace>): boolean => me.euid === 0 || me.uid === t.creds.uid || me.euid === t.creds.uid;
  let targets: Process<LinuxSpace>[];
  if (pid > 0) {
    const t = k.processes.get(pid);
    if (t === undefined) return ctx.fail('ESRCH', `no process ${pid}`);
    targets = [t];
  } else if (pid === -1) {
    targets = [...k.processes.values()].filter((t) => t !== k.init && t !== ctx.process);
    if (targets.length === 0) return ctx.fail('ESRCH', 'no process to signal');
  } else return ctx.fail('ESRCH', 'process groups are not modelled');
  const permitted = targets.filter(allowed);
  if (permitted.length === 0) return ctx.fail('EPERM', 'not permitted to signal that process');
  const m = machineOf(k);
  if (sig !== undefined) for (const t of permitted) sendSignal(m, t, sig);
  return 0;
}

/**
 * rt_sigaction(sig, act, oact, sigsetsize). Simplified: `act` is the sa_handler value itself
 * (0 SIG_DFL, 1 SIG_IGN, else a handler's address), not a pointer to struct sigaction; the
 * previous one is the return value's business only through oact, which is not written.
 */
function sysRtSigaction(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  const [sig, act, size] = [num(a[0]), num(a[1]), num(a[3] ?? 8)];
  if (size !== 8) return ctx.fail('EINVAL', 'sigsetsize must be 8');
  if (!Number.isInteger(sig) || sig < 1 || sig > 64) return ctx.fail('EINVAL', `signal ${sig}`);
  if (sig === SIGNALS.SIGKILL || sig === SIGNALS.SIGSTOP) return ctx.fail('EINVAL', 'SIGKILL and SIGSTOP cannot be caught or ignored');
  if (!Number.isSafeInteger(act) || act < 0) return ctx.fail('EFAULT', 'act');
  const sighand = machineOf(ctx.kernel).task(ctx.thread).sighand;
  if (act === SIG_DFL) sighand.action.delete(sig);
  else sighand.action.set(sig, act);
  return 0;
}

function sysExitGroup(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  ctx.kernel.metrics.cycles += PROCESS_COSTS.exitBase;
  ctx.kernel.exitProcess(ctx.process, num(a[0]) & 0xff);
  return 0;
}

/** exit_notify → do_notify_parent, as the core calls it once a process is a zombie. */
function onExit(k: Kernel<LinuxSpace>, p: Process<LinuxSpace>): void {
  const m = machineOf(k);
  for (const th of p.threads) {
    const task = m.task(th);
    task.exitState = TASK.EXIT_ZOMBIE;
    task.state = TASK.DEAD;
    releaseVforkParent(m, th);
  }
  if (p.parent !== null) {
    // do_notify_parent: the exit signal (SIGCHLD for fork's children) goes to the parent; its
    // default action is to ignore it, so it shows only in traces.
    const leader = p.threads[0];
    const sig = leader === undefined ? SIGNALS.SIGCHLD! : m.task(leader).exitSignal;
    const name = SIGNAL_NAMES[sig];
    const parentLeader = p.parent.threads[0];
    // A parent ignoring SIGCHLD gets no signal and no zombie: the child is reaped at once
    // (do_notify_parent's autoreap), and its wait4 ends in ECHILD when no child is left.
    const autoreap = sig === SIGNALS.SIGCHLD && parentLeader !== undefined && m.task(parentLeader).sighand.action.get(sig) === SIG_IGN;
    if (!autoreap && name !== undefined) k.bus.probe('signal').publish({ pid: p.parent.pid, signal: name, code: p.killedBy === null ? 'CLD_EXITED' : 'CLD_KILLED' });
    const parent = p.parent;
    if (autoreap) {
      for (const th of p.threads) m.task(th).exitState = TASK.EXIT_DEAD;
      k.reap(p);
    }
    wakeWaiters(m, parent);
  }
}

// ---- files: openat, read, write, close (fs/open.c, fs/read_write.c, drivers/char/mem.c) -------

/**
 * copy_to_user / clear_user: write `len` bytes at `va` page by page through the MMU in kernel
 * mode (faulting pages in as needed), charging the copy. `src` null writes zeros. False: EFAULT.
 */
function copyOut(ctx: SyscallContext<LinuxSpace>, va: number, len: number, src: Uint8Array | null): boolean {
  const k = ctx.kernel;
  const frames = k.mmu.frames;
  for (let at = va; at < va + len;) {
    const next = Math.min(pageDown(at) + PAGE_SIZE, va + len);
    const pa = k.access(ctx.thread, at, ACCESS_WRITE, false);
    if (pa < 0) return false;
    const n = next - at;
    if (frames.contentsEnabled) frames.write(pa, src === null ? new Uint8Array(n) : src.subarray(at - va, next - va));
    k.metrics.cycles += Math.ceil(((src === null ? PROCESS_COSTS.clearUserPage : PROCESS_COSTS.copyUserPage) * n) / PAGE_SIZE);
    at = next;
  }
  return true;
}

const O_ACCMODE = 3;
const O_WRONLY = 1;
const O_RDWR = 2;
const O_CREAT = 0x40;
const O_DIRECTORY = 0x10000;
const AT_FDCWD = -100;
/** The character devices every system has (drivers/char/mem.c), independent of the sysroot. */
const DEVICES: Record<string, string> = { '/dev/zero': 'zero', '/dev/null': 'null' };

function sysRead(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  const [fd, buf, count] = [num(a[0]), num(a[1]), num(a[2])];
  const f = ctx.process.file(fd);
  if (!f?.readable) return ctx.fail('EBADF', `fd ${fd} is not open for reading`);
  if (!Number.isSafeInteger(count) || count < 0) return ctx.fail('EINVAL', 'count');
  if (f.device === 'zero') return copyOut(ctx, buf, count, null) ? count : ctx.fail('EFAULT', 'buffer not writable');
  if (f.device === 'null') return 0;
  const off = f.offset ?? 0;
  const n = Math.max(0, Math.min(count, f.bytes.length - off));
  if (!copyOut(ctx, buf, n, f.bytes.subarray(off, off + n))) return ctx.fail('EFAULT', 'buffer not writable');
  f.offset = off + n;
  return n;
}

function sysWrite(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  const [fd, , count] = [num(a[0]), num(a[1]), num(a[2])];
  const f = ctx.process.file(fd);
  if (!f?.writable) return ctx.fail('EBADF', `fd ${fd} is not open for writing`);
  if (!Number.isSafeInteger(count) || count < 0) return ctx.fail('EINVAL', 'count');
  // write_null and write_zero consume nothing: the buffer is not even read.
  if (f.device !== undefined) return count;
  return ctx.fail('EROFS', 'the simulated file system is read-only');
}

function sysClose(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  const fd = num(a[0]);
  if (ctx.process.file(fd) === null) return ctx.fail('EBADF', `fd ${fd} is not open`);
  ctx.process.files[fd] = null;
  return 0;
}

function sysOpenat(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  const [dfd, path, flags] = [num(a[0]), typeof a[1] === 'string' ? a[1] : '', num(a[2] ?? 0)];
  if (dfd !== AT_FDCWD && !path.startsWith('/')) return ctx.fail('EBADF', 'only AT_FDCWD or absolute paths are modelled');
  const acc = flags & O_ACCMODE;
  const readable = acc !== O_WRONLY;
  const writable = acc === O_WRONLY || acc === O_RDWR;
  const device = DEVICES[path];
  if (device !== undefined) return ctx.process.installFile({ path, bytes: new Uint8Array(0), readable, writable, device, offset: 0 });
  const f = machineOf(ctx.kernel).lookup(path);
  if (typeof f === 'string') return ctx.fail(f === 'ENOENT' && (flags & O_CREAT) !== 0 ? 'EROFS' : f, `${path}: cannot open`);
  const dir = (f.mode & 0o170000) === 0o040000;
  if ((flags & O_DIRECTORY) !== 0 && !dir) return ctx.fail('ENOTDIR', `${path} is not a directory`);
  if (writable && dir) return ctx.fail('EISDIR', `${path} is a directory`);
  if (writable) return ctx.fail('EROFS', 'the simulated file system is read-only');
  return ctx.process.installFile({ path: f.path, bytes: f.bytes, readable, writable, offset: 0, dev: f.dev, ino: f.ino });
}

/** What exec needs from the kernel: the file system, a new mm at the point of no return, user copies. */
function execHost(m: LinuxMachine, ctx: SyscallContext<LinuxSpace>, onCommit: () => void): ExecHost {
  const k = ctx.kernel;
  const p = ctx.process;
  const c = p.creds;
  // copy_strings / create_elf_tables / padzero write the new image through copyOut, as read() does.
  const write = (va: number, len: number, bytes: Uint8Array | null): void => {
    if (!copyOut(ctx, va, len, bytes)) throw new KernelError('linux', 'EFAULT', `cannot write the new image at 0x${va.toString(16)}`);
  };
  return {
    lookup: m.lookup,
    stackRlimit: m.options.mm?.stackRlimit ?? 8 * 1024 * 1024,
    variant: m.variant,
    cpu: m.cpu,
    uid: c.uid, gid: c.gid, euid: c.euid, egid: c.egid,
    vmFile: (f) => execFileOf(m, f),
    randomBytes: () => Uint8Array.from({ length: 16 }, () => m.rng.below(256)),
    newMm: () => {
      onCommit();
      const space = k.personality.createAddressSpace(k, p);
      k.replaceSpace(p, space);
      return space.mm;
    },
    copyToUser: (va, bytes) => {
      write(va, bytes.length, bytes);
    },
    clearUser: (va, len) => {
      write(va, len, null);
    },
  };
}

/**
 * mm/gup.c populate_vma_page_range: fault every page in now, writing where the area is private
 * and writable (so no later COW fault), reading otherwise. A page that cannot be had (out of
 * memory, no page cache) is left to fault later, as __mm_populate ignores errors.
 */
function populate(k: Kernel<LinuxSpace>, thread: Thread, start: number, end: number): void {
  const s = (thread.process as Process<LinuxSpace>).space;
  for (let va = start; va < end; va += PAGE_SIZE) {
    const v = s.mm.vmas.lookup(va);
    if (v === undefined || s.pt.lookup(va) !== null) continue;
    const write = (v.flags & (VM_WRITE | VM_SHARED)) === VM_WRITE;
    handleFault(k, thread, { va, access: write ? ACCESS_WRITE : ACCESS_READ, user: true, reason: 'not-present' });
  }
}

// ---- the fault path (arch/x86/mm/fault.c, mm/memory.c) ----------------------------------------

/** The fault path: resolve, then charge the kernel's software work for the kind of fault it was. */
function handleFault(k: Kernel<LinuxSpace>, thread: Thread, f: FaultInfo): FaultResolution {
  const r = resolveFault(k, thread, f);
  if (r.kind === 'resolved') k.metrics.cycles += PROCESS_COSTS.faultHandler[r.how] ?? 0;
  return r;
}

/**
 * __handle_mm_fault's first step: the PUD, PMD and PTE tables for the page. A table is a frame
 * too, so when none is free reclaim and the OOM killer run as for any page (pte_alloc →
 * VM_FAULT_OOM). False when the faulting task itself must die.
 */
function prepareTables(m: LinuxMachine, s: LinuxSpace, page: number): boolean {
  for (;;) {
    if (s.pt.prepare(page, PAGE_SIZE) !== MAP_NO_MEMORY) return true;
    if (!relieve(m)) return false;
  }
}

function resolveFault(k: Kernel<LinuxSpace>, thread: Thread, f: FaultInfo): FaultResolution {
  const p = thread.process as Process<LinuxSpace>;
  const s = p.space;
  const m = s.machine;
  m.current = thread;
  const v = s.mm.findForFault(f.va);
  // A kernel-mode access (copy_to_user/copy_from_user) to a bad address is fixed up: the call returns EFAULT.
  if (v === null) return f.user ? { kind: 'signal', signal: 'SIGSEGV', code: 'SEGV_MAPERR' } : { kind: 'fixup' };
  // access_error: writes need VM_WRITE, instruction fetches VM_EXEC, reads any access at all.
  const allowed = f.access === ACCESS_WRITE ? (v.flags & VM_WRITE) !== 0
    : f.access === ACCESS_EXEC ? (v.flags & VM_EXEC) !== 0
      : (v.flags & (VM_READ | VM_WRITE | VM_EXEC)) !== 0;
  if (!allowed) {
    k.metrics.faults.protection++;
    return f.user ? { kind: 'signal', signal: 'SIGSEGV', code: 'SEGV_ACCERR' } : { kind: 'fixup' };
  }
  const page = pageDown(f.va);
  const base = PTE_USER | ((v.flags & VM_EXEC) === 0 ? PTE_NX : 0);
  // The MMU's walk just found no PTE for a not-present fault: no second walk to learn that again.
  const pte = f.reason === 'not-present' ? null : s.pt.lookup(page);
  // Present: the write to a read-only PTE of a writable area that access_error let through.
  if (pte !== null) return wpPage(m, thread, v, page, pte.frame, pte.flags, base);
  if (!prepareTables(m, s, page)) return OOM;
  if (v.name === '[vdso]' || (v.flags & VM_PFNMAP) !== 0) return specialFault(m, s, v, page, base);
  const slot = s.swap.get(page);
  if (slot !== undefined) return swapIn(m, s, v, page, slot, base);
  if (v.file === null) return anonFault(m, s, v, page, base, f.access === ACCESS_WRITE);
  if (isShmem(v)) return shmemFault(m, s, v, page, base);
  if (v.file.bytes !== undefined) return fileFault(m, s, v, page, base, f.access === ACCESS_WRITE);
  return { kind: 'signal', signal: 'SIGBUS', code: 'BUS_ADRERR' }; // a layout-only file: no bytes to read
}

/**
 * The vDSO's special mappings: [vdso] text pages come from special_mapping_fault (a page with a
 * struct page: counted as a file page), the data pages from vvar_fault by PFN (not counted).
 */
function specialFault(m: LinuxMachine, s: LinuxSpace, v: VmArea, page: number, base: number): FaultResolution {
  const k = m.kernel;
  const d = vdsoOf(m);
  const index = (page - v.start) / PAGE_SIZE;
  if ((v.flags & VM_PFNMAP) !== 0) {
    s.pt.map(page, d.vvar, PAGE_SIZE, base | PTE_PFN);
    k.metrics.faults.file++;
    return RESOLVED.file;
  }
  const frame = d.text[index];
  if (frame === undefined) return { kind: 'signal', signal: 'SIGBUS', code: 'BUS_ADRERR' };
  k.mmu.frames.ref(frame);
  s.pt.map(page, frame, PAGE_SIZE, base | PTE_FILE);
  s.rss.file++;
  k.metrics.faults.file++;
  return RESOLVED.file;
}

/** do_anonymous_page: a read maps the shared zero page, a write a zeroed frame of its own. */
function anonFault(m: LinuxMachine, s: LinuxSpace, v: VmArea, page: number, base: number, write: boolean): FaultResolution {
  s.mm.prepareAnon(v);
  if (!write) {
    s.pt.map(page, s.zeroFrame, PAGE_SIZE, base);
    m.kernel.metrics.faults.zeroPage++;
    return RESOLVED.zeroPage;
  }
  const frame = allocPage(m, true);
  if (frame === NO_FRAME) return OOM;
  s.pt.map(page, frame, PAGE_SIZE, base | PTE_WRITE);
  s.rss.anon++;
  m.kernel.metrics.faults.zeroFill++;
  return RESOLVED.zeroFill;
}

/**
 * do_wp_page: a shared area's page (shmem or file) just regains the write bit (wp_page_shared);
 * a private page only this mapping holds is reused (wp_page_reuse); otherwise wp_page_copy — the
 * zero page is replaced by a zeroed frame, anything else (a page-cache page, a shared page) copied,
 * and the copy is anonymous.
 */
function wpPage(m: LinuxMachine, thread: Thread, v: VmArea, page: number, old: number, flags: number, base: number): FaultResolution {
  const k = m.kernel;
  const p = thread.process as Process<LinuxSpace>;
  const s = p.space;
  const frames = k.mmu.frames;
  let how: 'zeroFill' | 'cowReuse' | 'cow';
  const exclusive = old !== s.zeroFrame && (flags & PTE_FILE) === 0 && frames.refcount[old] === 1;
  if ((v.flags & VM_SHARED) !== 0 || exclusive) {
    s.pt.updateFlags(page, PTE_WRITE, 0);
    how = 'cowReuse';
  } else {
    // wp_page_copy: the new page is anonymous (anon_vma_prepare).
    s.mm.prepareAnon(v);
    const fromZero = old === s.zeroFrame;
    const frame = allocPage(m, fromZero);
    if (frame === NO_FRAME) return OOM;
    if (!fromZero) {
      frames.copyFrame(old, frame);
      if (frames.unref(old) === 0) {
        frames.free(old);
        forgetFrame(m, old);
      }
    }
    if (fromZero || (flags & PTE_FILE) !== 0) s.rss.anon++;
    if ((flags & PTE_FILE) !== 0) s.rss.file--;
    s.pt.unmap(page, PAGE_SIZE);
    s.pt.map(page, frame, PAGE_SIZE, base | PTE_WRITE);
    how = fromZero ? 'zeroFill' : 'cow';
  }
  k.mmu.flushLocal(thread.cpu, k.asidOf(p), page, PAGE_SIZE);
  k.metrics.faults[how]++;
  return RESOLVED[how];
}

/**
 * Memory pressure (shrink_page_cache, simplified): every page-cache page no mapping holds — its
 * only reference is the cache's — is written back to the file's bytes and freed. Linux reclaims
 * from the inactive LRU a batch at a time and writes back only dirty pages; here dirtiness is not
 * tracked, so every reclaimed page is written back (the same bytes for a clean one). Returns the
 * number of pages freed.
 */
function reclaimPageCache(m: LinuxMachine): number {
  const frames = m.kernel.mmu.frames;
  let freed = 0;
  for (const [file, pages] of m.pageCache) {
    for (const [index, frame] of pages) {
      if (frames.refcount[frame] !== 1) continue;
      const bytes = file.bytes;
      if (bytes !== undefined && frames.contentsEnabled && index * PAGE_SIZE < bytes.length) {
        const n = Math.min(PAGE_SIZE, bytes.length - index * PAGE_SIZE);
        bytes.set(frames.read(frame * PAGE_SIZE, n), index * PAGE_SIZE);
      }
      frames.unref(frame);
      frames.free(frame);
      pages.delete(index);
      freed++;
    }
    if (pages.size === 0) m.pageCache.delete(file);
  }
  return freed;
}

/**
 * The page at `index` of a file's page cache (`caches`: the machine's page cache or its shmem
 * files' pages), created on first use: zeroed, then filled from `bytes` when given (content-less
 * machines keep no bytes, so it is only accounted for). The cache holds one reference of its own.
 * NO_FRAME when memory is out.
 */
function cachedPage(m: LinuxMachine, caches: Map<VmFile, Map<number, number>>, file: VmFile, index: number, bytes?: Uint8Array): number {
  let cache = caches.get(file);
  if (cache === undefined) caches.set(file, (cache = new Map<number, number>()));
  let frame = cache.get(index);
  if (frame !== undefined) return frame;
  const frames = m.kernel.mmu.frames;
  frame = allocPage(m, true);
  if (frame === NO_FRAME) return NO_FRAME;
  if (bytes !== undefined && frames.contentsEnabled) frames.write(frame * PAGE_SIZE, bytes.subarray(index * PAGE_SIZE, Math.min(bytes.length, (index + 1) * PAGE_SIZE)));
  cache.set(index, frame);
  return frame;
}

/**
 * A regular file's page (filemap_fault): from the page cache; past the end of the file it is
 * SIGBUS. Shared areas map the cache page itself (a write there is the file's new content, seen
 * by every mapping); private areas map it read-only, and a private write copies it at once
 * (do_cow_fault), the copy being anonymous.
 */
function fileFault(m: LinuxMachine, s: LinuxSpace, v: VmArea, page: number, base: number, write: boolean): FaultResolution {
  const k = m.kernel;
  const file = v.file!;
  const bytes = file.bytes!;
  const index = v.pgoff + (page - v.start) / PAGE_SIZE;
  if (index * PAGE_SIZE >= bytes.length) return { kind: 'signal', signal: 'SIGBUS', code: 'BUS_ADRERR' };
  const frame = cachedPage(m, m.pageCache, file, index, bytes);
  if (frame === NO_FRAME) return OOM;
  const frames = k.mmu.frames;
  const shared = (v.flags & VM_SHARED) !== 0;
  if (!shared && write) {
    // do_cow_fault: the copy is an anonymous page, so the area needs its anon_vma (anon_vma_prepare).
    s.mm.prepareAnon(v);
    const copy = allocPage(m, false);
    if (copy === NO_FRAME) return OOM;
    frames.copyFrame(frame, copy);
    s.pt.map(page, copy, PAGE_SIZE, base | PTE_WRITE);
    s.rss.anon++;
    k.metrics.faults.cow++;
    return RESOLVED.cow;
  }
  frames.ref(frame);
  s.pt.map(page, frame, PAGE_SIZE, base | PTE_FILE | (shared && (v.flags & VM_WRITE) !== 0 ? PTE_WRITE : 0));
  s.rss.file++;
  k.metrics.faults.file++;
  return RESOLVED.file;
}

function isShmem(v: VmArea): boolean {
  return v.file !== null && (v.flags & VM_SHARED) !== 0 && v.file.path === '/dev/zero (deleted)';
}

/** shmem_fault: the shmem file's page at this offset, zeroed on first use, mapped shared. */
function shmemFault(m: LinuxMachine, s: LinuxSpace, v: VmArea, page: number, base: number): FaultResolution {
  const frame = cachedPage(m, m.shmemPages, v.file!, v.pgoff + (page - v.start) / PAGE_SIZE);
  if (frame === NO_FRAME) return OOM;
  m.kernel.mmu.frames.ref(frame);
  s.pt.map(page, frame, PAGE_SIZE, base | PTE_SHMEM | ((v.flags & VM_WRITE) !== 0 ? PTE_WRITE : 0));
  s.rss.shmem++;
  m.kernel.metrics.faults.file++;
  return RESOLVED.file;
}

/** exit_mmap: every page, swap entry and area of the space goes, with its charges. */
function destroySpace(m: LinuxMachine, s: LinuxSpace): void {
  const zero = m.zeroPage();
  const frames = m.kernel.mmu.frames;
  s.pt.destroy((_va, frame, _size, flags) => {
    if (frame !== zero && (flags & PTE_PFN) === 0 && frames.unref(frame) === 0) {
      frames.free(frame);
      forgetFrame(m, frame);
    }
  });
  zapSwap(m, s, 0, s.mm.taskSize);
  // exit_mmap: every area goes, returning its commit charge and its shmem file's pages.
  const files = shmemIn(m, s, 0, s.mm.taskSize);
  for (const v of [...s.mm.vmas.iterateFrom(0)]) s.mm.munmap(v.start, v.length);
  releaseUnmapped(m, s, files);
  s.rss = { anon: 0, file: 0, shmem: 0 };
}

/**
 * /proc/meminfo (fs/proc/meminfo.c meminfo_proc_show), the lines modelled, "%-16s%8lu kB":
 * MemTotal and MemFree from the frame table; MemAvailable = free + what reclaim could free now
 * (unmapped page-cache pages and clean lazy-free pages; the kernel estimates it from watermarks);
 * Cached = page cache + shmem; AnonPages, Mapped (file and shmem pages mapped somewhere) and
 * Shmem counted once per page however many mappings share it; PageTables = page-table pages below
 * each root (as VmPTE); swap; and the overcommit lines.
 */
function meminfo(m: LinuxMachine): string {
  const k = m.kernel;
  const frames = k.mmu.frames;
  const kb = (pages: number): number => pages * (PAGE_SIZE / 1024);
  const line = (name: string, pages: number): string => `${(name + ':').padEnd(16)}${String(kb(pages)).padStart(8)} kB\n`;
  const anon = new Set<number>();
  const mapped = new Set<number>();
  let tables = 0;
  const spaces = new Set<LinuxSpace>();
  for (const p of k.processes.values()) if (p.state === 'running') spaces.add(p.space);
  for (const s of spaces) {
    for (let l = 1; l < s.pt.tablesByLevel.length; l++) tables += s.pt.tablesByLevel[l]!;
    s.pt.forEachLeaf(0, s.mm.taskSize, (_va, frame, _size, flags) => {
      if (frame === s.zeroFrame || (flags & PTE_PFN) !== 0) return;
      if ((flags & (PTE_FILE | PTE_SHMEM)) !== 0) mapped.add(frame);
      else anon.add(frame);
    });
  }
  let cache = 0;
  let reclaimable = 0;
  for (const pages of m.pageCache.values()) {
    cache += pages.size;
    for (const f of pages.values()) if (frames.refcount[f] === 1) reclaimable++;
  }
  const shmem = shmemPageCount(m);
  const lazy = m.lazyMarked.size;
  const swap = k.vm.swap;
  return line('MemTotal', frames.frameCount) + line('MemFree', frames.freeFrames) + line('MemAvailable', frames.freeFrames + reclaimable + lazy)
    + line('Buffers', 0) + line('Cached', cache + shmem) + line('SwapCached', 0)
    + line('SwapTotal', swap.slots) + line('SwapFree', swap.slots - swap.usedSlots)
    + line('AnonPages', anon.size) + line('Mapped', mapped.size) + line('Shmem', shmem) + line('PageTables', tables)
    + m.commit.meminfoLines();
}

/** Pages held by this machine's live shmem files (shared anonymous memory). */
function shmemPageCount(m: LinuxMachine): number {
  let n = 0;
  for (const pages of m.shmemPages.values()) n += pages.size;
  return n;
}

const syscalls: readonly SyscallSpec<LinuxSpace>[] = [
  { name: 'mmap', number: 9, args: ['addr', 'len', 'prot', 'flags', 'fd', 'off'], handler: sysMmap },
  { name: 'mprotect', number: 10, args: ['start', 'len', 'prot'], handler: sysMprotect },
  { name: 'munmap', number: 11, args: ['addr', 'len'], handler: sysMunmap },
  { name: 'brk', number: 12, args: ['brk'], handler: sysBrk },
  { name: 'mremap', number: 25, args: ['addr', 'old_len', 'new_len', 'flags', 'new_addr'], handler: sysMremap },
  { name: 'madvise', number: 28, args: ['start', 'len', 'advice'], handler: sysMadvise },
  { name: 'getpid', number: 39, args: [], handler: (ctx) => ctx.process.pid },
  { name: 'execve', number: 59, args: ['filename', 'argv', 'envp'], handler: sysExecve },
  { name: 'clone', number: 56, args: ['flags', 'newsp', 'parent_tid', 'child_tid', 'tls'], handler: (ctx, a) => doClone(ctx, num(a[0])) },
  { name: 'fork', number: 57, args: [], handler: (ctx) => doClone(ctx, SIGNALS.SIGCHLD!) },
  { name: 'vfork', number: 58, args: [], handler: (ctx) => doClone(ctx, CLONE.VM | CLONE.VFORK | SIGNALS.SIGCHLD!) },
  { name: 'exit', number: 60, args: ['error_code'], handler: sysExit },
  { name: 'wait4', number: 61, args: ['pid', 'stat_addr', 'options', 'rusage'], handler: sysWait4 },
  { name: 'kill', number: 62, args: ['pid', 'sig'], handler: sysKill },
  { name: 'rt_sigaction', number: 13, args: ['sig', 'act', 'oact', 'sigsetsize'], handler: sysRtSigaction },
  { name: 'getppid', number: 110, args: [], handler: (ctx) => ctx.process.ppid },
  { name: 'gettid', number: 186, args: [], handler: (ctx) => ctx.thread.tid },
  { name: 'exit_group', number: 231, args: ['error_code'], handler: sysExitGroup },
  { name: 'read', number: 0, args: ['fd', 'buf', 'count'], handler: sysRead },
  { name: 'write', number: 1, args: ['fd', 'buf', 'count'], handler: sysWrite },
  { name: 'close', number: 3, args: ['fd'], handler: sysClose },
  { name: 'openat', number: 257, args: ['dfd', 'filename', 'flags', 'mode'], handler: sysOpenat },
];

/** The personality object; its state lives in one LinuxMachine per kernel (machine.ts). */
export function linuxPersonality(opts: LinuxOptions = {}): LinuxPersonality {
  const variant = opts.variant ?? 'linux-6.x';
  return {
    options: opts,
    lastFork: (k) => machineOf(k).lastFork,
    meminfo: (k) => meminfo(machineOf(k)),
    task: (t) => machineOfThread(t).task(t),
    dmesg: (k) => machineOf(k).dmesg,
    oomScore: (k, p) => {
      const badness = oomBadness(oomInput(machineOf(k), p), totalPages(k));
      return { score: oomScore(badness, totalPages(k)), badness };
    },
    outOfMemory: (k, current) => outOfMemory(machineOf(k), current),
    onExit,
    name: variant,
    version: variant === 'linux-5.15' ? '5.15' : '6.x',
    defaultProfile: 'x86-64',
    errorSpace: 'linux',
    failureValue: (e) => -e,
    syscalls,
    signals: SIGNALS,
    waitStatus: (code, signal) => (signal !== null ? (SIGNALS[signal] ?? 0) : ((code ?? 0) % 256) * 256),
    createAddressSpace: (k) => {
      const m = machineOf(k);
      const mm = new MmStruct({ ...opts.mm, variant, commit: m.commit });
      const pt = k.mmu.createPageTable();
      // The zero page is allocated after the first root table (frame numbers as before).
      return {
        mm, pt, rss: { anon: 0, file: 0, shmem: 0 }, zeroFrame: m.zeroPage(), hiwaterRss: 0, image: null,
        lazyFree: m.lazyMarked, swap: new Map<number, number>(), swapCounts: m.swapCounts, machine: m,
      };
    },
    destroyAddressSpace: (k, p) => {
      destroySpace(machineOf(k), p.space);
    },
    pageTableOf: (s) => s.pt,
    handleFault,
  };
}
