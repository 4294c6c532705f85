/**
 * The machine-dependent layer under vm_map (sys/amd64/amd64/pmap.c, in outline): one page table
 * per vmspace, entered and removed by the machine-independent code. Every mapping holds a
 * reference on its frame (frame refcount = 1 for the owning VM object + one per page-table
 * entry; a 2 MiB mapping holds one on each of its 512 frames), so the property tests can check
 * page refcounts against page-table references; a removal gives the reference back. Removals and
 * downgrades shoot the page down from every CPU's TLB (pmap_invalidate_range); additions need no
 * flush.
 *
 * Superpages (vm.pmap.pg_ps_enabled): pmap_promote_pde replaces a full page-table page whose 512
 * PTEs map the frames of one fully populated reservation, in order and with the same protection,
 * by one 2 MiB PDE; pmap_demote_pde splits it again when part of it is removed, protected or
 * re-entered. Both are counted (vm.pmap.pde.promotions, demotions, p_failures) and charged
 * (costs.ts).
 */
import type { Process } from '@polykernel/kernel';
import {
  MAP_EXISTS, MAP_OK, PROMOTE_MISALIGNED, PROMOTE_MIXED_FLAGS, PROMOTE_NOT_CONTIGUOUS, PTE_ACCESSED, PTE_DIRTY, PTE_GLOBAL, PTE_NX, PTE_USER,
  PTE_WRITE, type PageTable,
} from '@polykernel/mmu';
import { FREEBSD_COSTS } from '../costs.js';
import type { FreebsdKernel, FreebsdSpace } from '../machine.js';
import { PAGE_SIZE, SUPERPAGE_SIZE, VM_PROT_EXECUTE, VM_PROT_READ, VM_PROT_WRITE } from '../param.js';

/** PG_PTE_PROMOTE: the PTE bits that must agree for a promotion (PG_RW, PG_U, PG_NX, PG_G, PG_M, PG_A). */
const PROMOTE_MASK = PTE_WRITE | PTE_USER | PTE_NX | PTE_GLOBAL | PTE_DIRTY | PTE_ACCESSED;

/** The vm.pmap.pde sysctls (sys/amd64/amd64/pmap.c), per machine. */
export interface PdeCounters {
  /** vm.pmap.pde.promotions: 2 MiB page promotions. */
  promotions: number;
  /** vm.pmap.pde.demotions: 2 MiB page demotions. */
  demotions: number;
  /** vm.pmap.pde.p_failures: promotion attempts that failed (misaligned, not contiguous, mixed protection). */
  pFailures: number;
  /** vm.pmap.pde.mappings: 2 MiB mappings made directly at a fault (pmap_enter_pde). */
  mappings: number;
}

export function newPdeCounters(): PdeCounters {
  return { promotions: 0, demotions: 0, pFailures: 0, mappings: 0 };
}

export class Pmap {
  /** pm_stats.resident_count: pages mapped by this pmap. */
  resident = 0;
  /** A process running on this pmap, for its ASID (any user of the vmspace will do). */
  owner: Process<FreebsdSpace> | null = null;

  constructor(private readonly k: FreebsdKernel, readonly pt: PageTable) {}

  /** PTE bits for a protection: user, writable, no-execute unless VM_PROT_EXECUTE. */
  static pteFlags(prot: number): number {
    return PTE_USER | ((prot & VM_PROT_WRITE) !== 0 ? PTE_WRITE : 0) | ((prot & VM_PROT_EXECUTE) === 0 ? PTE_NX : 0);
  }

  /**
   * pmap_enter: map `frame` at `va` with `prot`, replacing another frame's mapping (flushed) or
   * changing the protection of the same frame's. Returns MAP_OK or MAP_NO_MEMORY (no page for a
   * page-table page).
   */
  enter(va: number, frame: number, prot: number, cpu: number, knownEmpty = false, write = false): number {
    const pt = this.pt;
    // pmap_enter presets PG_A for the access and PG_M for a write (the access that faulted).
    const flags = Pmap.pteFlags(prot) | PTE_ACCESSED | (write && (prot & VM_PROT_WRITE) !== 0 ? PTE_DIRTY : 0);
    // A not-present fault: the MMU's walk just found no entry, so no second walk to learn that.
    let old = knownEmpty ? null : pt.lookup(va);
    if (old !== null && old.pageSize !== PAGE_SIZE) {
      // pmap_enter: a 2 MiB mapping over va is demoted first (pmap_demote_pde_locked).
      this.demote(va, cpu);
      old = pt.lookup(va);
    }
    if (old !== null) {
      if (old.frame === frame) {
        const downgrade = (old.flags & PTE_WRITE) !== 0 && (flags & PTE_WRITE) === 0;
        pt.updateFlags(va, flags, (PTE_WRITE | PTE_NX) & ~flags);
        if (downgrade) this.flush(cpu, va, PAGE_SIZE);
        return MAP_OK;
      }
      this.remove(va, va + PAGE_SIZE, cpu);
    }
    const r = pt.map(va, frame, PAGE_SIZE, flags);
    if (r === MAP_EXISTS) throw new Error(`pmap_enter: 0x${va.toString(16)} still mapped`);
    if (r !== MAP_OK) return r;
    this.k.mmu.frames.ref(frame);
    this.resident++;
    return MAP_OK;
  }

  /**
   * pmap_enter(psind = 1) → pmap_enter_pde: map the 2 MiB at `va` (aligned) to the 512 frames
   * from `frame` (aligned) with `prot`, where nothing is mapped yet. Counted in
   * vm.pmap.pde.mappings. Returns false (nothing changed) when something is mapped there or a
   * page-table page cannot be had.
   */
  enterPde(va: number, frame: number, prot: number, write: boolean): boolean {
    // A new mapping needs no TLB invalidation. PG_A preset, and PG_M for a write of all-dirty pages.
    const flags = Pmap.pteFlags(prot) | PTE_ACCESSED | (write && (prot & VM_PROT_WRITE) !== 0 ? PTE_DIRTY : 0);
    if (this.pt.map(va, frame, SUPERPAGE_SIZE, flags) !== MAP_OK) return false;
    const frames = this.k.mmu.frames;
    const pages = SUPERPAGE_SIZE / PAGE_SIZE;
    for (let i = 0; i < pages; i++) frames.ref(frame + i);
    this.resident += pages;
    this.k.state.pde.mappings++;
    return true;
  }

  /** pmap_remove: unmap [start, end), dropping each frame's mapping reference. */
  remove(start: number, end: number, cpu: number): number {
    if (end <= start) return 0;
    this.demoteEdges(start, end, cpu);
    const frames = this.k.mmu.frames;
    let n = 0;
    this.pt.unmap(start, end - start, (_va, frame, size) => {
      // A whole 2 MiB mapping inside the range goes at once (pmap_remove_pde).
      const pages = size / PAGE_SIZE;
      for (let i = 0; i < pages; i++) frames.unref(frame + i);
      n += pages;
    });
    if (n > 0) {
      this.resident -= n;
      this.flush(cpu, start, end - start);
    }
    return n;
  }

  /**
   * pmap_protect: lower the protection of [start, end) (no read: remove the mappings). Returns
   * the PTEs changed (or removed), for the callers that charge the per-PTE work.
   */
  protect(start: number, end: number, prot: number, cpu: number): number {
    if ((prot & VM_PROT_READ) === 0 && (prot & VM_PROT_EXECUTE) === 0) return this.remove(start, end, cpu);
    const set = (prot & VM_PROT_EXECUTE) === 0 ? PTE_NX : 0;
    const clear = (prot & VM_PROT_WRITE) === 0 ? PTE_WRITE : 0;
    // A 2 MiB mapping wholly inside is protected as one PDE (pmap_protect_pde); one the range
    // cuts through is demoted first.
    this.demoteEdges(start, end, cpu);
    const n = this.pt.protect(start, end - start, set, clear);
    if (n > 0) this.flush(cpu, start, end - start);
    return n;
  }

  /** The frame mapped at `va`, or -1. */
  frameAt(va: number): number {
    const r = this.pt.lookup(va);
    if (r === null) return -1;
    return r.frame + Math.floor((va % r.pageSize) / PAGE_SIZE);
  }

  /** True when `va` is mapped by a 2 MiB page. */
  isSuperpage(va: number): boolean {
    const r = this.pt.lookup(va);
    return r !== null && r.pageSize === SUPERPAGE_SIZE;
  }

  /**
   * pmap_promote_pde: the 2 MiB-aligned region containing `va` becomes one 2 MiB mapping if its
   * page-table page is full and its PTEs map contiguous, aligned frames with the same PG_PTE_PROMOTE
   * bits, every one accessed. A writable PTE that is not dirty is write-protected first, so a
   * region of clean and dirty pages fails (p_failures) until the clean ones are written. No TLB
   * flush (pde_store without an invalidation). Returns true on a promotion.
   */
  promote(va: number): boolean {
    const base = Math.floor(va / SUPERPAGE_SIZE) * SUPERPAGE_SIZE;
    const r = this.pt.promote(base, SUPERPAGE_SIZE, PROMOTE_MASK, PTE_ACCESSED, true);
    const mt = this.k.metrics;
    // The check reads PTEs until one fails, or all 512 (and stores the PDE on success).
    mt.cycles += FREEBSD_COSTS.promotePde;
    const pde = this.k.state.pde;
    if (r === MAP_OK) {
      pde.promotions++;
      return true;
    }
    if (r === PROMOTE_MISALIGNED || r === PROMOTE_NOT_CONTIGUOUS || r === PROMOTE_MIXED_FLAGS) pde.pFailures++;
    return false;
  }

  /**
   * pmap_demote_pde: split the 2 MiB mapping over `va` into 512 PTEs with its attributes, and
   * invalidate the 2 MiB TLB entry (pmap_update_pde → invlpg). Without a page for the new
   * page-table page the whole 2 MiB mapping is removed instead (its pages fault back in), as
   * pmap_demote_pde_locked does when vm_page_alloc_noobj fails. Returns false then.
   */
  demote(va: number, cpu: number): boolean {
    const base = Math.floor(va / SUPERPAGE_SIZE) * SUPERPAGE_SIZE;
    let r = this.pt.splitHuge(base);
    if (r !== MAP_OK && this.k.state.reserv?.reclaim() === true) r = this.pt.splitHuge(base);
    if (r === MAP_OK) {
      this.k.state.pde.demotions++;
      this.k.metrics.cycles += FREEBSD_COSTS.demotePde;
      this.flush(cpu, base, PAGE_SIZE);
      return true;
    }
    const frames = this.k.mmu.frames;
    let n = 0;
    this.pt.unmap(base, SUPERPAGE_SIZE, (_va, frame, size) => {
      for (let i = 0; i < size / PAGE_SIZE; i++) frames.unref(frame + i);
      n += size / PAGE_SIZE;
    });
    this.resident -= n;
    this.flush(cpu, base, SUPERPAGE_SIZE);
    return false;
  }

  /** Demote the 2 MiB mappings that [start, end) covers only in part. */
  private demoteEdges(start: number, end: number, cpu: number): void {
    if (start % SUPERPAGE_SIZE !== 0 && this.cutsSuperpage(start, start, end)) this.demote(start, cpu);
    if (end % SUPERPAGE_SIZE !== 0 && this.cutsSuperpage(end - 1, start, end)) this.demote(end - 1, cpu);
  }

  private cutsSuperpage(va: number, start: number, end: number): boolean {
    const r = this.pt.lookup(va);
    if (r?.pageSize !== SUPERPAGE_SIZE) return false;
    const base = Math.floor(va / SUPERPAGE_SIZE) * SUPERPAGE_SIZE;
    return base < start || base + SUPERPAGE_SIZE > end;
  }

  /** pmap_release: the page table goes (every mapping was removed before). */
  release(): void {
    const frames = this.k.mmu.frames;
    this.pt.destroy((_va, frame, size) => {
      for (let i = 0; i < size / PAGE_SIZE; i++) frames.unref(frame + i);
    });
    this.resident = 0;
  }

  /** Pages mapped by 2 MiB mappings in [start, end). */
  superpageBytes(start: number, end: number): number {
    let n = 0;
    this.pt.forEachLeaf(start, end - start, (_va, _frame, size) => {
      if (size === SUPERPAGE_SIZE) n += size;
    });
    return n;
  }

  private flush(cpu: number, va: number, length: number): void {
    const owner = this.owner;
    if (owner === null || owner.state === 'dead') return;
    this.k.mmu.shootdown(cpu, this.k.asidOf(owner), va, length);
  }
}
