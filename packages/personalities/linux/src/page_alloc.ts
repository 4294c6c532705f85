/**
 * mm/page_alloc.c's slow path for the pages a fault, the page cache or fork needs:
 * __alloc_pages_slowpath tries direct reclaim (vmscan.ts) and then __alloc_pages_may_oom
 * (oom_kill.ts) before the allocation is tried again.
 */
import { NO_FRAME } from '@polykernel/mmu';
import type { LinuxMachine } from './machine.js';
import { outOfMemory } from './oom_kill.js';
import { reclaimAnon, reclaimLazyFree, reclaimPageCache } from './vmscan.js';

/** A frame for the fault path; when memory is out, out_of_memory() kills a victim and the allocation is retried. */
export function allocPage(m: LinuxMachine, zeroed: boolean): number {
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
export function relieve(m: LinuxMachine): boolean {
  // Page cache and lazy-free pages first, then anonymous pages out to swap (a batch of 32).
  if (reclaimPageCache(m) + reclaimLazyFree(m) > 0 || reclaimAnon(m, 32) > 0) return true;
  const current = m.current;
  const victim = outOfMemory(m, current);
  return victim !== null && victim !== current?.process.pid;
}
