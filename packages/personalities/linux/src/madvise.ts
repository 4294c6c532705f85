/**
 * mm/madvise.c: madvise(2) with MADV_DONTNEED (zap), MADV_FREE (anonymous pages only) and
 * MADV_WILLNEED (nothing to prefetch); and mm/swap.c's per-CPU lazy-free batches behind MADV_FREE
 * (folio_mark_lazyfree, lru_lazyfree_fn, lru_add_drain_all).
 */
import type { SyscallArg, SyscallContext } from '@polykernel/kernel';
import { PTE_ACCESSED, PTE_DIRTY } from '@polykernel/mmu';
import { PAGE_SIZE, VM_HUGETLB, VM_LOCKED, VM_PFNMAP } from './flags.js';
import { pageAlign } from './internal.js';
import { machineOf, type LazyPage, type LinuxMachine, type LinuxSpace } from './machine.js';
import { zap } from './memory.js';
import { PTE_FILE, PTE_PFN, PTE_SHMEM } from './pte.js';
import { zapSwap } from './swapfile.js';
import { call, int, ulong, wraps } from './syscall-args.js';

/** include/uapi/asm-generic/mman-common.h: the advice values modelled. */
const MADV_WILLNEED = 3;
const MADV_DONTNEED = 4;
const MADV_FREE = 8;

/** madvise(2) (do_madvise): each area of the range in turn; ENOMEM at the end if the range had a hole. */
export function sysMadvise(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  return call(ctx, () => {
    const [start, len, advice] = [ulong(a[0]), ulong(a[1]), int(a[2])];
    if (advice !== MADV_DONTNEED && advice !== MADV_FREE && advice !== MADV_WILLNEED) return ctx.fail('EINVAL', `advice ${advice} is not simulated`);
    if (start % PAGE_SIZE !== 0) return ctx.fail('EINVAL', 'start not page aligned');
    const end = start + pageAlign(len);
    if (end < start || wraps(a[0], a[1])) return ctx.fail('EINVAL', 'range wraps');
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
