/**
 * kernel/fork.c: clone, fork and vfork (kernel_clone → copy_process: the flag checks, copy_sighand,
 * copy_fs, copy_files, copy_mm), dup_mmap — the areas (dupMmapAreas) and, through mm/memory.c's
 * copy_page_range, the PTEs and swap entries (dupMmap) — and mm_release's wake-up of a vfork parent.
 */
import { KernelError } from '@polykernel/core';
import type { Process, SyscallArg, SyscallContext, Thread } from '@polykernel/kernel';
import { PTE_ACCESSED, PTE_DIRTY, PTE_WRITE } from '@polykernel/mmu';
import { PROCESS_COSTS } from './costs.js';
import { PAGE_SIZE, VM_ACCOUNT, VM_DONTCOPY, VM_LOCKED, VM_LOCKONFAULT, VM_WIPEONFORK, VM_MAYBE_GUARD, VM_MAYWRITE, VM_MIXEDMAP, VM_PFNMAP, VM_SHARED } from './flags.js';
import { err } from './internal.js';
import { machineOf, type LinuxMachine, type LinuxSpace } from './machine.js';
import { mapsLine } from './proc/maps.js';
import type { MmStruct } from './mm.js';
import { exitMmap } from './mmap.js';
import { relieve } from './page_alloc.js';
import { PTE_FILE, PTE_PFN, PTE_SHMEM } from './pte.js';
import { copyRlimits } from './rlimit.js';
import { uint } from './syscall-args.js';
import { CLONE, checkCloneFlags, newTask, SIGNALS, TASK } from './tasks.js';
import type { VmArea } from './vma.js';

/**
 * dup_mm → dup_mmap (kernel/fork.c): `mm` (new, empty) becomes a copy of `src` — its layout
 * fields, and one area per source area except VM_DONTCOPY ones, each VM_ACCOUNT area charged
 * again (ENOMEM when the commit limit refuses). A copied area that had an anon_vma gets a new one
 * of its own (anon_vma_fork), so the child's areas never merge with each other through the
 * parent's. Shared memory files stay shared: both mms count their mappings on one record.
 * Returns the areas copied, source and copy, for copy_page_range.
 */
export function dupMmapAreas(mm: MmStruct, src: MmStruct): [VmArea, VmArea][] {
  mm.startBrk = src.startBrk;
  mm.brk = src.brk;
  mm.startCode = src.startCode;
  mm.endCode = src.endCode;
  mm.startData = src.startData;
  mm.endData = src.endData;
  mm.startStack = src.startStack;
  mm.argStart = src.argStart;
  mm.argEnd = src.argEnd;
  mm.envStart = src.envStart;
  mm.envEnd = src.envEnd;
  mm.gateArea = src.gateArea;
  // The limits and credentials are the task's, inherited; def_flags' VM_LOCKED is not
  // (mm_init keeps only VM_INIT_DEF_MASK), nor are the areas' locks (dup_mmap clears VM_LOCKED_MASK).
  copyRlimits(mm, src);
  mm.privileged = src.privileged;
  const pairs: [VmArea, VmArea][] = [];
  let charged = 0;
  for (const v of src.vmas.iterateFrom(0)) {
    if ((v.flags & VM_DONTCOPY) !== 0) continue;
    if ((v.flags & VM_ACCOUNT) !== 0) {
      if (!mm.commit.charge(v.length / PAGE_SIZE, mm.totalVm)) {
        mm.commit.uncharge(charged);
        throw err('ENOMEM', 'the commit limit refuses the copy of a private writable area');
      }
      charged += v.length / PAGE_SIZE;
    }
    const c = v.slice(v.start, v.end);
    c.flags &= ~(VM_LOCKED | VM_LOCKONFAULT);
    // VM_WIPEONFORK: the child's copy starts empty, with no anon_vma until it faults.
    const wipe = (v.flags & VM_WIPEONFORK) !== 0;
    c.anonVma = v.anonVma === 0 || wipe ? 0 : mm.nextAnonVma++;
    c.forkedAnon = c.anonVma !== 0;
    mm.vmas.insert(c);
    mm.statAccount(c.flags, c.length / PAGE_SIZE);
    const shm = c.file === null ? undefined : src.shmem.get(c.file);
    if (shm !== undefined) {
      shm.mapped += c.length;
      mm.shmem.set(c.file!, shm);
    }
    pairs.push([v, c]);
  }
  mm.hiwaterVm = mm.totalVm;
  return pairs;
}

// ---- copy_page_range: the PTEs ------------------------------------------------------------------

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

/**
 * The child's address space: the areas (MmStruct.forkFrom) and, for areas with anonymous pages
 * or raw PFN mappings, their PTEs (vma_needs_copy: file and shmem areas without anon_vma fault
 * their pages in again). In a private writable area (is_cow_mapping) a writable PTE is made
 * read-only in both parent and child and the page gains a reference; the next write to it is
 * do_wp_page's copy. Shared areas' PTEs are copied as they are.
 */
export function dupMmap(m: LinuxMachine, parent: Process<LinuxSpace>, thread: Thread, child: LinuxSpace): { vmas: number; ptes: number; tables: number } | null {
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
    if ((v.flags & VM_WIPEONFORK) !== 0) {
      area.action = 'not copied: VM_WIPEONFORK (MADV_WIPEONFORK), the child starts with empty memory';
      continue;
    }
    // vma_needs_copy: anonymous pages, raw PFNs, or (6.18) guard markers (VM_MAYBE_GUARD).
    if (v.anonVma === 0 && (v.flags & (VM_PFNMAP | VM_MIXEDMAP | VM_MAYBE_GUARD)) === 0) continue;
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
    // copy_nonpresent_pte: guard markers are copied as they are.
    for (const va of src.guards) if (va >= v.start && va < v.end) child.guards.add(va);
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

// ---- copy_process: clone, fork, vfork -----------------------------------------------------------

/** kernel_clone → copy_process, for clone, fork and vfork. Returns the child's PID (or TID). */
export function doClone(ctx: SyscallContext<LinuxSpace>, flags: number): number {
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
        if (fresh !== null) exitMmap(m, fresh);
        if (e instanceof KernelError) return ctx.fail(e.errno, e.message);
        if (!(e instanceof RangeError)) throw e; // no frame for the new root table
      }
      if (result !== null && fresh !== null) {
        space = fresh;
        copied = result;
        break;
      }
      if (fresh !== null) exitMmap(m, fresh);
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
  }
  k.bus.probe('fork').publish({ pid: p.pid, child: child.pid, flags, ...copied, cycles: mt.cycles - start });
  // vfork returns to the parent only once the child releases the mm: it sleeps in the call.
  if ((flags & CLONE.VFORK) !== 0) return ctx.block('vfork', () => child.pid, child.pid);
  return child.pid;
}

/** mm_release → complete_vfork_done: the vfork parent runs again. */
export function releaseVforkParent(m: LinuxMachine, t: Thread): void {
  const task = m.task(t);
  const parent = task.vforkParent;
  if (parent === null) return;
  task.vforkParent = null;
  m.task(parent).state = TASK.RUNNING;
  m.kernel.wake(parent);
}

/** clone(2): the flags are the caller's (the exit signal in the low byte). */
export function sysClone(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  return doClone(ctx, uint(a[0]));
}

/** fork(2): clone with SIGCHLD and nothing shared. */
export function sysFork(ctx: SyscallContext<LinuxSpace>): number {
  return doClone(ctx, SIGNALS.SIGCHLD!);
}

/** vfork(2): CLONE_VM | CLONE_VFORK — the child borrows the mm, the parent sleeps until it execs or exits. */
export function sysVfork(ctx: SyscallContext<LinuxSpace>): number {
  return doClone(ctx, CLONE.VM | CLONE.VFORK | SIGNALS.SIGCHLD!);
}
