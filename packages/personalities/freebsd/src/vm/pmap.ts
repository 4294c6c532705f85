/**
 * The machine-dependent layer under vm_map (sys/amd64/amd64/pmap.c, in outline): one page table
 * per vmspace, entered and removed by the machine-independent code. Every mapping holds a
 * reference on its frame (frame refcount = 1 for the owning VM object + one per page-table
 * entry), so the property tests can check page refcounts against page-table references; a
 * removal gives the reference back. Removals and downgrades shoot the page down from every CPU's
 * TLB (pmap_invalidate_range); additions need no flush.
 */
import type { Process } from '@polykernel/kernel';
import { MAP_EXISTS, MAP_OK, PTE_NX, PTE_USER, PTE_WRITE, type PageTable } from '@polykernel/mmu';
import type { FreebsdKernel, FreebsdSpace } from '../machine.js';
import { PAGE_SIZE, VM_PROT_EXECUTE, VM_PROT_READ, VM_PROT_WRITE } from '../param.js';

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
  enter(va: number, frame: number, prot: number, cpu: number, knownEmpty = false): number {
    const pt = this.pt;
    const flags = Pmap.pteFlags(prot);
    // A not-present fault: the MMU's walk just found no entry, so no second walk to learn that.
    const old = knownEmpty ? null : pt.lookup(va);
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

  /** pmap_remove: unmap [start, end), dropping each frame's mapping reference. */
  remove(start: number, end: number, cpu: number): number {
    if (end <= start) return 0;
    const frames = this.k.mmu.frames;
    let n = 0;
    this.pt.unmap(start, end - start, (_va, frame) => {
      frames.unref(frame);
      n++;
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
    const n = this.pt.protect(start, end - start, set, clear);
    if (n > 0) this.flush(cpu, start, end - start);
    return n;
  }

  /** The frame mapped at `va`, or -1. */
  frameAt(va: number): number {
    const r = this.pt.lookup(va);
    return r === null ? -1 : r.frame;
  }

  /** pmap_release: the page table goes (every mapping was removed before). */
  release(): void {
    const frames = this.k.mmu.frames;
    this.pt.destroy((_va, frame) => {
      frames.unref(frame);
    });
    this.resident = 0;
  }

  private flush(cpu: number, va: number, length: number): void {
    const owner = this.owner;
    if (owner === null || owner.state === 'dead') return;
    this.k.mmu.shootdown(cpu, this.k.asidOf(owner), va, length);
  }
}
