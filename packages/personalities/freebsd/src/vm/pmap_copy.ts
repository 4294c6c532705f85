/**
 * pmap_copy at fork (sys/amd64/amd64/pmap.c and sys/arm64/arm64/pmap.c, FreeBSD 14), called by
 * vm_map_copy_entry for every VM_INHERIT_COPY entry that is not wired-writable, after the
 * parent's range was write-protected (pmap_protect; or it already was, NEEDS_COPY). It is
 * "advisory": it copies what is cheap to copy and gives up quietly otherwise.
 *
 * - Only when dst_addr == src_addr (always so at fork).
 * - A 4 KiB PTE is copied only if it maps a managed page (PG_MANAGED / ATTR_SW_MANAGED: not an
 *   OBJT_PHYS or OBJT_DEVICE page such as the shared page), with amd64's PG_W (wired), PG_M and
 *   PG_A cleared — arm64 clears ATTR_SW_WIRED and ATTR_AF and keeps a read-only PTE read-only —
 *   so the child's copy is read-only (the parent's was write-protected before) and not yet
 *   accessed: the child's first read needs no fault, its first write still takes vm_fault's
 *   copy-on-write path. Each copy takes a pv entry and a page-table-page reference; here, a
 *   reference on the frame (the model's pv entry) and `Pmap.resident`.
 * - A 2 MiB PDE (PG_PS / L2_BLOCK) is copied whole, only when the range covers all of it and the
 *   child's PDE is empty, keeping PG_M (managed read/write superpages must be dirty) and clearing
 *   the accessed bit of a managed one; counted in vm.pmap.pde.mappings (amd64 pmap_pde_mappings;
 *   arm64 pmap_l2_mappings, reported under the same name here). A superpage the range cuts is
 *   skipped. A 1 GiB PDPE (unmanaged) is copied as it is, but for PG_W.
 * - When a page-table page cannot be allocated (pmap_allocpte / pmap_alloc_pde with no lock
 *   pointer does not sleep or reclaim) the copy stops there: the rest of the range soft-faults.
 *
 * arm64 (sys/arm64/arm64/pmap.c pmap_copy) copies the same leaves with ATTR_AF and ATTR_SW_WIRED
 * cleared, and makes an ATTR_SW_DBM (writable-clean) copy read-only. arm64 has no dirty bit: a
 * leaf is dirty when writable with DBM, and the parent's leaves lost DBM in pmap_protect, so every
 * copy — the 2 MiB block too — is clean here, where amd64 keeps a PDE's PG_M. In this model's PTE
 * bits: amd64 clears PTE_DIRTY and PTE_ACCESSED on 4 KiB PTEs and PTE_ACCESSED on PDEs; arm64
 * clears both on both.
 *
 * Unmanaged superpages do not reach pmap_copy here: the only ones are largepage shm's, and
 * vm_map_inherit refuses VM_INHERIT_COPY on MAP_ENTRY_SPLIT_BOUNDARY entries (a SHARE entry is not
 * pmap_copied).
 */
import { MAP_EXISTS, MAP_OK, PTE_ACCESSED, PTE_DIRTY, PTE_HUGE } from '@polykernel/mmu';
import type { FreebsdKernel } from '../machine.js';
import { PAGE_SIZE, SUPERPAGE_SIZE } from '../param.js';
import type { Pmap } from './pmap.js';

/** What pmap_copy did on a machine (model counters: FreeBSD keeps only pmap_pde_mappings). */
export interface PmapCopyCounters {
  /** 4 KiB PTEs copied into children. */
  ptes: number;
  /** 2 MiB PDEs copied into children (also counted in vm.pmap.pde.mappings). */
  pdes: number;
  /** Copies cut short for want of a page-table page. */
  aborted: number;
}

export function newPmapCopyCounters(): PmapCopyCounters {
  return { ptes: 0, pdes: 0, aborted: 0 };
}

/** Result of one pmap_copy call (reused: no allocation per call). */
const result = { ptes: 0, pdes: 0 };

/** amd64 keeps a copied PDE's PG_M; arm64 has no dirty bit to keep (see the header). */
function keepsPdeDirty(k: FreebsdKernel): boolean {
  return !k.mmu.profile.name.startsWith('arm64');
}

/** True when `frame` is a managed page: owned by an object whose pages have pv lists. */
function managed(k: FreebsdKernel, frame: number): boolean {
  const o = k.vm.ownerOf(frame);
  return o !== null && o.type !== 'physical' && o.type !== 'device';
}

/**
 * pmap_copy(dst, src, addr, len, addr): copy `src`'s managed leaves in [start, end) into `dst`.
 * Returns the PTEs and PDEs copied (the caller charges them).
 */
export function pmapCopy(k: FreebsdKernel, dst: Pmap, src: Pmap, start: number, end: number, allManaged = false): { readonly ptes: number; readonly pdes: number } {
  result.ptes = 0;
  result.pdes = 0;
  const counters = k.state.pmapCopy;
  const pdeClear = keepsPdeDirty(k) ? PTE_ACCESSED : PTE_ACCESSED | PTE_DIRTY;
  if (allManaged && !cutsHugeLeaf(src, start, end)) {
    copyAllLeaves(k, dst, src, start, end);
    counters.ptes += result.ptes;
    counters.pdes += result.pdes;
    return result;
  }
  const frames = k.mmu.frames;
  const dpt = dst.pt;
  const state = { stopped: false };
  src.pt.forEachLeaf(start, end - start, (va, frame, size, flags) => {
    if (state.stopped) return;
    if (size === PAGE_SIZE) {
      if (!managed(k, frame)) return;
      // PG_W is not modelled (no wiring); PG_M and PG_A go, the write bit was cleared by pmap_protect.
      const r = dpt.map(va, frame, PAGE_SIZE, flags & ~(PTE_DIRTY | PTE_ACCESSED));
      if (r !== MAP_OK) {
        state.stopped = true;
        return;
      }
      frames.ref(frame);
      result.ptes++;
      return;
    }
    // "We can only virtual copy whole superpages."
    if (va < start || va + size > end) return;
    // A 2 MiB PDE loses PG_A when managed (amd64; arm64's L2 block always loses ATTR_AF); a
    // 1 GiB PDPE (unmanaged largepage) is copied as it is, but for PG_W.
    const clear = size !== SUPERPAGE_SIZE ? 0 : managed(k, frame) || !keepsPdeDirty(k) ? pdeClear : 0;
    // pmap_alloc_pde failing (no page-directory page) ends the copy; an occupied PDE is skipped.
    const r = dpt.map(va, frame, size, flags & ~clear);
    if (r !== MAP_OK) {
      state.stopped = r !== MAP_EXISTS; // an occupied PDE: pmap_abort_ptp, and on to the next
      return;
    }
    const pages = size / PAGE_SIZE;
    for (let i = 0; i < pages; i++) frames.ref(frame + i);
    dst.resident += pages;
    if (size === SUPERPAGE_SIZE) {
      result.pdes++;
      k.state.pde.mappings++;
    }
  });
  dst.resident += result.ptes;
  counters.ptes += result.ptes;
  counters.pdes += result.pdes;
  if (state.stopped) counters.aborted++;
  return result;
}

/** A 2 MiB (or larger) leaf that [start, end) covers only in part (pmap_copy skips those). */
function cutsHugeLeaf(src: Pmap, start: number, end: number): boolean {
  for (const va of [start, end - PAGE_SIZE]) {
    const r = src.pt.lookup(va);
    if (r !== null && r.pageSize !== PAGE_SIZE) {
      const base = Math.floor(va / r.pageSize) * r.pageSize;
      if (base < start || base + r.pageSize > end) return true;
    }
  }
  return false;
}

/**
 * The same copy when every page of the range is managed and no superpage is cut: the MMU's
 * table-at-a-time copy (PageTable.copyFrom finds each leaf table once), with the bits pmap_copy
 * clears. A host-side shortcut with the same result as the per-leaf loop.
 */
function copyAllLeaves(k: FreebsdKernel, dst: Pmap, src: Pmap, start: number, end: number): void {
  const frames = k.mmu.frames;
  const pages = SUPERPAGE_SIZE / PAGE_SIZE;
  const n = dst.pt.copyFrom(src.pt, start, end - start, false, 0, PTE_DIRTY | PTE_ACCESSED, (frame, childFlags) => {
    if ((childFlags & PTE_HUGE) !== 0) {
      for (let i = 0; i < pages; i++) frames.ref(frame + i);
      result.pdes++;
    } else {
      frames.ref(frame);
      result.ptes++;
    }
  });
  if (n < 0) k.state.pmapCopy.aborted++;
  dst.resident += result.ptes + result.pdes * pages;
  k.state.pde.mappings += result.pdes;
  if (result.pdes === 0 || !keepsPdeDirty(k)) return;
  // A copied PDE keeps PG_M ("managed read/write superpage mappings are required to be dirty"),
  // which copyFrom cleared with the 4 KiB PTEs' PG_M.
  dst.pt.forEachLeaf(start, end - start, (va, _frame, size) => {
    if (size !== PAGE_SIZE && ((src.pt.lookup(va)?.flags ?? 0) & PTE_DIRTY) !== 0) dst.pt.updateFlags(va, PTE_DIRTY, 0);
  });
}
