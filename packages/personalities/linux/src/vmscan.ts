/**
 * mm/vmscan.c, simplified: what shrink_folio_list frees when an allocation fails — unmapped
 * page-cache pages (the dirty ones written back first), clean lazy-free pages (MADV_FREE), then anonymous pages
 * out to swap by a second-chance clock over every mm.
 */
import type { Process } from '@polykernel/kernel';
import { PTE_ACCESSED, PTE_DIRTY } from '@polykernel/mmu';
import { PROCESS_COSTS } from './costs.js';
import { PAGE_SIZE, VM_LOCKED, VM_PFNMAP, VM_SHARED } from './flags.js';
import type { LinuxMachine, LinuxSpace } from './machine.js';
import { ownsBytes, writePage } from './filemap.js';
import { drainLazy, forgetFrame } from './madvise.js';
import { PTE_FILE, PTE_PFN, PTE_SHMEM } from './pte.js';
import type { VmFile } from './vma.js';

/**
 * Memory pressure (shrink_folio_list over the file LRU, simplified): every page-cache page no
 * mapping holds — its only reference is the cache's — is freed, a dirty one written back first
 * (pageout → writepage). A clean page is just dropped: its bytes are the file's already. Only the
 * machine's own bytes are ever written (ownsBytes): a host file never opened for writing has no
 * dirty page. Linux takes a batch at a time from the inactive list; here every such page goes.
 * Returns the number of pages freed.
 */
export function reclaimPageCache(m: LinuxMachine): number {
  const frames = m.kernel.mmu.frames;
  let freed = 0;
  for (const [file, pages] of m.pageCache) {
    for (const [index, frame] of pages) {
      if (frames.refcount[frame] !== 1) continue;
      if (m.dirtyPages.delete(frame)) writeBack(m, file, index, frame);
      frames.unref(frame);
      frames.free(frame);
      pages.delete(index);
      freed++;
    }
    if (pages.size === 0) m.pageCache.delete(file);
  }
  return freed;
}

/** pageout: a dirty cache page's bytes go to the file, within its size (a page past a shrink has none). */
function writeBack(m: LinuxMachine, file: VmFile, index: number, frame: number): void {
  const bytes = file.bytes;
  if (bytes === undefined || !m.kernel.mmu.frames.contentsEnabled || !ownsBytes(m, file) || index * PAGE_SIZE >= bytes.length) return;
  writePage(m, bytes, index, frame);
}

/**
 * Reclaim of lazy-free pages (shrink_folio_list → try_to_unmap_one): a page still clean and
 * mapped once is discarded — its PTE cleared, the frame freed, so the next access reads zeros;
 * a page written again since (dirty) or mapped more than once goes back to being an ordinary
 * anonymous page. Returns the pages freed.
 */
export function reclaimLazyFree(m: LinuxMachine): number {
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

/**
 * shrink_folio_list for anonymous pages, as a second-chance clock over every mm: a page that was
 * accessed since the last pass loses its accessed bit and stays; one that was not is written to a
 * swap slot, its PTE replaced by the swap entry, its frame freed. Only pages mapped once are
 * swapped (a page shared after fork stays: simplified). Returns the pages freed (at most `want`).
 */
export function reclaimAnon(m: LinuxMachine, want: number): number {
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
