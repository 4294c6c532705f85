/**
 * mm/madvise.c: madvise(2) — the checks of do_madvise, the walk over the areas (madvise_walk_vmas:
 * a hole is ENOMEM after the mapped parts are done), and each advice: the flag-changing ones
 * (NORMAL, RANDOM, SEQUENTIAL, DONTFORK, DOFORK, WIPEONFORK, KEEPONFORK, DONTDUMP, DODUMP,
 * HUGEPAGE, NOHUGEPAGE: the areas split and merge as vma_modify_flags does), WILLNEED (nothing to
 * read ahead), DONTNEED (zap), FREE (mm/swap.c's per-CPU lazy-free batches), REMOVE (punch the
 * pages out of a shared memory file), COLD and PAGEOUT (their checks; the pages' LRU moves are not
 * modelled), POPULATE_READ / POPULATE_WRITE (5.14+: fault the range in, EINVAL where the access is
 * not allowed), GUARD_INSTALL / GUARD_REMOVE (6.13+: guard markers in the page tables — a user
 * access is SIGSEGV, a kernel copy EFAULT, population EFAULT; MADV_DONTNEED/FREE and mprotect keep
 * them, fork copies them, mremap moves them, unmapping drops them; the area gets VM_MAYBE_GUARD).
 */
import { KernelError } from '@polykernel/core';
import type { SyscallArg, SyscallContext } from '@polykernel/kernel';
import { ACCESS_READ, ACCESS_WRITE, PTE_ACCESSED, PTE_DIRTY, PTE_WRITE } from '@polykernel/mmu';
import {
  PAGE_SIZE, VM_DONTCOPY, VM_DONTDUMP, VM_HUGEPAGE, VM_HUGETLB, VM_IO, VM_LOCKED, VM_MAYBE_GUARD, VM_MAYWRITE, VM_NOHUGEPAGE, VM_PFNMAP, VM_RAND_READ, VM_READ,
  VM_SEQ_READ, VM_SHARED, VM_SPECIAL, VM_WIPEONFORK, VM_WRITE,
} from './flags.js';
import { err } from './internal.js';
import { machineOf, type LazyPage, type LinuxMachine, type LinuxSpace } from './machine.js';
import { dropGuards, handleFault, zap } from './memory.js';
import type { MmStruct } from './mm.js';
import { PTE_FILE, PTE_PFN, PTE_SHMEM } from './pte.js';
import { zapSwap } from './swapfile.js';
import { call, int, reg, ulong } from './syscall-args.js';
import { modifyFlags, type VmArea } from './vma.js';

/** include/uapi/asm-generic/mman-common.h. */
export const MADV = {
  NORMAL: 0, RANDOM: 1, SEQUENTIAL: 2, WILLNEED: 3, DONTNEED: 4, FREE: 8, REMOVE: 9, DONTFORK: 10, DOFORK: 11, HUGEPAGE: 14, NOHUGEPAGE: 15,
  DONTDUMP: 16, DODUMP: 17, WIPEONFORK: 18, KEEPONFORK: 19, COLD: 20, PAGEOUT: 21, POPULATE_READ: 22, POPULATE_WRITE: 23,
  GUARD_INSTALL: 102, GUARD_REMOVE: 103,
} as const;
const KNOWN = new Set<number>(Object.values(MADV));
const U64 = 1n << 64n;

/** The page work of an advice on [start, end) of one area (the system call's; the mm-only model has none). */
export type MadvisePages = (advice: number, v: VmArea, start: number, end: number) => void;

/**
 * madvise(2) on the mm: 0, or throws the errno. `len` may be the full 64-bit register. `pages`
 * does what an advice does to the pages of each area's part of the range.
 */
export function doMadvise(mm: MmStruct, start: number, len: number | bigint, advice: number, pages?: MadvisePages): number {
  if (!KNOWN.has(advice)) throw err('EINVAL', `advice ${advice} is not known (or not modelled)`);
  if (start % PAGE_SIZE !== 0) throw err('EINVAL', 'start not page aligned');
  const l = BigInt.asUintN(64, BigInt(len));
  const aligned = ((l + 4095n) % U64) - (((l + 4095n) % U64) % 4096n);
  if (l !== 0n && aligned === 0n) throw err('EINVAL', 'length rounds up to zero');
  if (BigInt(start) + aligned >= U64) throw err('EINVAL', 'range wraps');
  if (aligned === 0n) return 0;
  const end = BigInt(start) + aligned > BigInt(mm.taskSize) ? mm.taskSize + PAGE_SIZE : start + Number(aligned);
  if (advice === MADV.POPULATE_READ || advice === MADV.POPULATE_WRITE) return populateRange(mm, start, end, advice === MADV.POPULATE_WRITE, pages);
  let cursor = start;
  let hole = false;
  for (;;) {
    const v = mm.vmas.find(cursor);
    if (v === undefined) throw err('ENOMEM', 'range not fully mapped');
    if (cursor < v.start) {
      hole = true;
      cursor = v.start;
      if (cursor >= end) break;
    }
    const e = Math.min(v.end, end);
    behave(mm, v, cursor, e, advice, pages);
    cursor = e;
    if (cursor >= end) break;
  }
  if (hole) throw err('ENOMEM', 'range had holes');
  return 0;
}

/** madvise_vma_behavior for one area's part [s, e). */
function behave(mm: MmStruct, v: VmArea, s: number, e: number, advice: number, pages?: MadvisePages): void {
  switch (advice) {
    case MADV.WILLNEED:
      return; // anonymous memory swaps in, files read ahead: nothing the model keeps
    case MADV.DONTNEED:
    case MADV.FREE:
      // madvise_dontneed_free_valid_vma; MADV_FREE is for anonymous memory only.
      if ((v.flags & (VM_LOCKED | VM_PFNMAP | VM_HUGETLB)) !== 0) throw err('EINVAL', 'locked, PFN-mapped or hugetlb area');
      if (advice === MADV.FREE && v.file !== null) throw err('EINVAL', 'MADV_FREE on a file or shared mapping');
      pages?.(advice, v, s, e);
      return;
    case MADV.REMOVE:
      if ((v.flags & VM_LOCKED) !== 0) throw err('EINVAL', 'MADV_REMOVE on a locked area');
      if (v.file === null) throw err('EINVAL', 'MADV_REMOVE on anonymous private memory');
      if ((v.flags & (VM_SHARED | VM_MAYWRITE)) !== (VM_SHARED | VM_MAYWRITE)) throw err('EACCES', 'MADV_REMOVE needs a shared writable mapping');
      pages?.(advice, v, s, e);
      return;
    case MADV.GUARD_INSTALL:
    case MADV.GUARD_REMOVE:
      // is_valid_guard_vma: not VM_SPECIAL or hugetlb; installing not in a locked area either
      // (its pages would have to be zapped).
      if ((v.flags & (VM_SPECIAL | VM_HUGETLB | (advice === MADV.GUARD_INSTALL ? VM_LOCKED : 0))) !== 0) throw err('EINVAL', 'no guard regions in a special, hugetlb or (to install) locked area');
      if (advice === MADV.GUARD_INSTALL) {
        // The whole area is marked (vma_flag_set_atomic: no split), and an anonymous one gets its
        // anon_vma so that fork copies the page tables holding the markers.
        v.flags |= VM_MAYBE_GUARD;
        if (v.file === null) mm.prepareAnon(v);
      }
      pages?.(advice, v, s, e);
      return;
    case MADV.COLD:
    case MADV.PAGEOUT:
      // can_madv_lru_vma.
      if ((v.flags & (VM_LOCKED | VM_PFNMAP | VM_HUGETLB)) !== 0) throw err('EINVAL', 'locked, PFN-mapped or hugetlb area');
      return;
    default: {
      const f = newFlags(v, advice);
      if (f === v.flags) return;
      try {
        modifyFlags(mm, v, s, e, f);
      } catch (x) {
        // madvise_vma_behavior: "madvise() returns EAGAIN if kernel resources, such as slab, are
        // temporarily unavailable" — a split refused at max_map_count is ENOMEM turned EAGAIN.
        if (x instanceof KernelError && x.errno === 'ENOMEM') throw err('EAGAIN', 'the split would exceed max_map_count');
        throw x;
      }
    }
  }
}

/** The vm_flags a flag-changing advice gives an area (madvise_vma_behavior, hugepage_madvise). */
function newFlags(v: VmArea, advice: number): number {
  const f = v.flags;
  switch (advice) {
    case MADV.NORMAL:
      return f & ~(VM_RAND_READ | VM_SEQ_READ);
    case MADV.SEQUENTIAL:
      return (f & ~VM_RAND_READ) | VM_SEQ_READ;
    case MADV.RANDOM:
      return (f & ~VM_SEQ_READ) | VM_RAND_READ;
    case MADV.DONTFORK:
      return f | VM_DONTCOPY;
    case MADV.DOFORK:
      if ((f & VM_IO) !== 0) throw err('EINVAL', 'MADV_DOFORK on a VM_IO area');
      return f & ~VM_DONTCOPY;
    case MADV.WIPEONFORK:
      if (v.file !== null || (f & VM_SHARED) !== 0) throw err('EINVAL', 'MADV_WIPEONFORK is for private anonymous memory');
      return f | VM_WIPEONFORK;
    case MADV.KEEPONFORK:
      if (v.droppable) throw err('EINVAL', 'MADV_KEEPONFORK on droppable memory');
      return f & ~VM_WIPEONFORK;
    case MADV.DONTDUMP:
      return f | VM_DONTDUMP;
    case MADV.DODUMP:
      if ((f & VM_HUGETLB) === 0 && (f & VM_SPECIAL) !== 0) throw err('EINVAL', 'MADV_DODUMP on a special area');
      return f & ~VM_DONTDUMP;
    case MADV.HUGEPAGE:
      return (f & ~VM_NOHUGEPAGE) | VM_HUGEPAGE;
    case MADV.NOHUGEPAGE:
      return (f & ~VM_HUGEPAGE) | VM_NOHUGEPAGE;
    default:
      return f;
  }
}

/**
 * madvise_populate: each area from `start` is faulted in, read or write; no area at the cursor is
 * ENOMEM, an area the access is not allowed in (check_vma_flags: no VM_READ, no VM_WRITE for a
 * write, VM_IO/VM_PFNMAP) EINVAL. A write fault gives a private area its anon_vma.
 */
function populateRange(mm: MmStruct, start: number, end: number, write: boolean, pages?: MadvisePages): number {
  let cursor = start;
  while (cursor < end) {
    const v = mm.vmas.lookup(cursor);
    if (v === undefined) throw err('ENOMEM', 'no area to populate');
    if ((v.flags & (VM_IO | VM_PFNMAP)) !== 0 || (v.flags & VM_READ) === 0 || (write && (v.flags & VM_WRITE) === 0)) throw err('EINVAL', 'the access is not allowed in this area');
    const e = Math.min(v.end, end);
    if (write && (v.flags & VM_SHARED) === 0) mm.prepareAnon(v);
    pages?.(write ? MADV.POPULATE_WRITE : MADV.POPULATE_READ, v, cursor, e);
    cursor = e;
  }
  return 0;
}

/** madvise(2): doMadvise with the page work — zap, lazy-free, shmem punch-out, population. */
export function sysMadvise(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  return call(ctx, () => {
    const m = machineOf(ctx.kernel);
    return doMadvise(ctx.process.space.mm, ulong(a[0]), reg(a[1]) ?? -1n, int(a[2]), (advice, v, s, e) => {
      if (advice === MADV.FREE) markLazyFree(m, ctx, s, e);
      else if (advice === MADV.DONTNEED) zap(m, ctx.process, ctx.thread.cpu, s, e);
      else if (advice === MADV.REMOVE) removeShmem(m, ctx, v, s, e);
      else if (advice === MADV.GUARD_INSTALL) installGuards(m, ctx, s, e);
      else if (advice === MADV.GUARD_REMOVE) dropGuards(ctx.process.space, s, e); // madvise_guard_remove: the pages fault in afresh
      else populatePages(ctx, s, e, advice === MADV.POPULATE_WRITE);
    });
  });
}

/** madvise_guard_install: what the pages held is zapped, then each page holds a guard marker. */
function installGuards(m: LinuxMachine, ctx: SyscallContext<LinuxSpace>, s: number, e: number): void {
  zap(m, ctx.process, ctx.thread.cpu, s, e);
  const g = ctx.process.space.guards;
  for (let va = s; va < e; va += PAGE_SIZE) g.add(va);
}

/** shmem_fallocate(FALLOC_FL_PUNCH_HOLE) through MADV_REMOVE: the range's pages leave this mapping and the file. */
function removeShmem(m: LinuxMachine, ctx: SyscallContext<LinuxSpace>, v: VmArea, s: number, e: number): void {
  zap(m, ctx.process, ctx.thread.cpu, s, e);
  const cache = v.file === null ? undefined : m.shmemPages.get(v.file);
  if (cache === undefined) return;
  const frames = m.kernel.mmu.frames;
  for (let va = s; va < e; va += PAGE_SIZE) {
    const index = v.pgoff + (va - v.start) / PAGE_SIZE;
    const f = cache.get(index);
    if (f === undefined) continue;
    cache.delete(index);
    if (frames.unref(f) === 0) frames.free(f);
  }
}

/** The faults of MADV_POPULATE_READ/WRITE, page by page. */
function populatePages(ctx: SyscallContext<LinuxSpace>, s: number, e: number, write: boolean): void {
  const sp = ctx.process.space;
  for (let va = s; va < e; va += PAGE_SIZE) {
    // faultin_page on a guard marker: VM_FAULT_SIGSEGV, which population reports as EFAULT.
    if (sp.guards.has(va)) throw err('EFAULT', 'a guard marker in the range');
    const pte = sp.pt.lookup(va);
    if (pte !== null && (!write || (pte.flags & PTE_WRITE) !== 0)) continue;
    handleFault(ctx.kernel, ctx.thread, { va, access: write ? ACCESS_WRITE : ACCESS_READ, user: true, reason: pte === null ? 'not-present' : 'protection', process: ctx.process });
  }
}

/** FOLIO_BATCH_SIZE: a per-CPU batch is moved to the LRU (and the pages marked) when it holds 31. */
const FOLIO_BATCH_SIZE = 31;

/**
 * madvise_free_pte_range: every present anonymous page of the range becomes clean and old (its
 * PTE's D and A bits cleared, the TLB entry dropped) and is handed to folio_mark_lazyfree, which
 * queues it in this CPU's lazy-free batch; the batch marks its pages lazy-free when it fills
 * (lru_lazyfree_fn) or is drained. The zero page is no normal page and is skipped.
 */
export function markLazyFree(m: LinuxMachine, ctx: SyscallContext<LinuxSpace>, start: number, end: number): void {
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

/** lru_lazyfree_fn over one per-CPU batch: its pages are lazy-free now. */
function drainLazyBatch(m: LinuxMachine, batch: [number, LazyPage][]): void {
  for (const [frame, where] of batch) m.lazyMarked.set(frame, where);
  batch.length = 0;
}

/** lru_add_drain_all: every CPU's pending lazy-free pages are marked now. */
export function drainLazy(m: LinuxMachine): void {
  for (const b of m.lazyBatches.values()) drainLazyBatch(m, b);
}

/** A frame went back to the allocator: it is no longer anybody's lazy-free page. */
export function forgetFrame(m: LinuxMachine, frame: number): void {
  m.lazyMarked.delete(frame);
  for (const b of m.lazyBatches.values()) {
    const i = b.findIndex(([f]) => f === frame);
    if (i >= 0) b.splice(i, 1);
  }
}
