/**
 * mm/memory.c and the x86 fault entry (arch/x86/mm/fault.c do_user_addr_fault → handle_mm_fault):
 * the fault path. access_error, __handle_mm_fault's table allocation, do_anonymous_page (the zero
 * page for a read, a zeroed frame for a write), do_wp_page (reuse or copy), do_swap_page, and the
 * dispatch to the vDSO (vdso.ts), shmem (shmem.ts) and page-cache (filemap.ts) faults; zap_page_range
 * for munmap, madvise and friends; and mm/gup.c's populate for MAP_POPULATE.
 *
 * The fault path is hot (millions of faults per second): no closure or object is allocated per
 * fault, the answers are preallocated (RESOLVED), and the machine comes from the space
 * (space.machine), not from a lookup.
 */
import { pageDown } from '@polykernel/core';
import type { FaultInfo, FaultResolution, Kernel, Process, Thread } from '@polykernel/kernel';
import { ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE, MAP_NO_MEMORY, NO_FRAME, PTE_NX, PTE_USER, PTE_WRITE } from '@polykernel/mmu';
import { PROCESS_COSTS } from './costs.js';
import { fileFault, unmapFilePage } from './filemap.js';
import { PAGE_SIZE, VM_EXEC, VM_PFNMAP, VM_READ, VM_SHARED, VM_WRITE } from './flags.js';
import type { LinuxMachine, LinuxSpace } from './machine.js';
import { forgetFrame } from './madvise.js';
import { allocPage, relieve } from './page_alloc.js';
import { PTE_FILE, PTE_PFN, PTE_SHMEM } from './pte.js';
import { isShmem, shmemFault } from './shmem.js';
import { dropSwap, zapSwap } from './swapfile.js';
import { specialFault } from './vdso.js';
import type { VmArea } from './vma.js';

/** The fault path's answers, allocated once (the fault path runs millions of times). */
export const RESOLVED = {
  zeroFill: { kind: 'resolved', how: 'zeroFill' },
  zeroPage: { kind: 'resolved', how: 'zeroPage' },
  cow: { kind: 'resolved', how: 'cow' },
  cowReuse: { kind: 'resolved', how: 'cowReuse' },
  file: { kind: 'resolved', how: 'file' },
  swapIn: { kind: 'resolved', how: 'swapIn' },
} as const satisfies Record<string, FaultResolution>;

/** Out of memory on the fault path with the faulting task chosen by the OOM killer (or none killable). */
export const OOM: FaultResolution = { kind: 'signal', signal: 'SIGKILL', code: 'out of memory' };

/** The fault path: resolve, then charge the kernel's software work for the kind of fault it was. */
export function handleFault(k: Kernel<LinuxSpace>, thread: Thread, f: FaultInfo): FaultResolution {
  const r = resolveFault(k, thread, f);
  if (r.kind === 'resolved') k.metrics.cycles += PROCESS_COSTS.faultHandler[r.how] ?? 0;
  return r;
}

/**
 * __handle_mm_fault's first step: the PUD, PMD and PTE tables for the page. A table is a frame
 * too, so when none is free reclaim and the OOM killer run as for any page (pte_alloc →
 * VM_FAULT_OOM). False when the faulting task itself must die.
 */
export function prepareTables(m: LinuxMachine, s: LinuxSpace, page: number): boolean {
  for (;;) {
    if (s.pt.prepare(page, PAGE_SIZE) !== MAP_NO_MEMORY) return true;
    if (!relieve(m)) return false;
  }
}

/**
 * do_user_addr_fault → handle_mm_fault: find the area (growing a stack), check access_error, then
 * wp_page for a present PTE, or allocate the tables and dispatch on what backs the page
 * (handle_pte_fault: vDSO, swap entry, anonymous, shmem, file).
 */
export function resolveFault(k: Kernel<LinuxSpace>, thread: Thread, f: FaultInfo): FaultResolution {
  // The faulting mm: the thread's own, or another process's for a remote access (access_process_vm).
  const p = f.process as Process<LinuxSpace>;
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
  // A guard marker (handle_pte_marker → VM_FAULT_SIGSEGV): SIGSEGV for a user access, EFAULT for the kernel's.
  if (pte === null && s.guards.size > 0 && s.guards.has(page)) return f.user ? { kind: 'signal', signal: 'SIGSEGV', code: 'SEGV_MAPERR' } : { kind: 'fixup' };
  // Present: the write to a read-only PTE of a writable area that access_error let through.
  if (pte !== null) return wpPage(m, thread, p, v, page, pte.frame, pte.flags, base);
  if (!prepareTables(m, s, page)) return OOM;
  if (v.name === '[vdso]' || (v.flags & VM_PFNMAP) !== 0) return specialFault(m, s, v, page, base);
  const slot = s.swap.get(page);
  if (slot !== undefined) return swapIn(m, s, v, page, slot, base);
  if (v.file === null) return anonFault(m, s, v, page, base, f.access === ACCESS_WRITE);
  if (isShmem(v)) return shmemFault(m, s, v, page, base);
  if (v.file.bytes !== undefined) return fileFault(m, s, v, page, base, f.access === ACCESS_WRITE);
  return { kind: 'signal', signal: 'SIGBUS', code: 'BUS_ADRERR' }; // a layout-only file: no bytes to read
}

/** do_anonymous_page: a read maps the shared zero page, a write a zeroed frame of its own. */
export function anonFault(m: LinuxMachine, s: LinuxSpace, v: VmArea, page: number, base: number, write: boolean): FaultResolution {
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
export function wpPage(m: LinuxMachine, thread: Thread, p: Process<LinuxSpace>, v: VmArea, page: number, old: number, flags: number, base: number): FaultResolution {
  const k = m.kernel;
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
    // ptep_clear_flush_notify (mm/memory.c wp_page_copy, 5.15 and 6.x): the old PTE is cleared and
    // flushed on every CPU that runs this mm (flush_tlb_page → flush_tlb_mm_range), before the new
    // one is set; another thread's CPU would otherwise go on reading the old page.
    s.pt.unmap(page, PAGE_SIZE);
    k.mmu.shootdown(thread.cpu, k.asidOf(p), page, PAGE_SIZE);
    s.pt.map(page, frame, PAGE_SIZE, base | PTE_WRITE);
    how = fromZero ? 'zeroFill' : 'cow';
    k.metrics.faults[how]++;
    return RESOLVED[how];
  }
  // wp_page_reuse: only the write bit is added (ptep_set_access_flags); a stale read-only entry on
  // another CPU at worst faults once more (flush_tlb_fix_spurious_fault), so the flush stays local.
  k.mmu.flushLocal(thread.cpu, k.asidOf(p), page, PAGE_SIZE);
  k.metrics.faults[how]++;
  return RESOLVED[how];
}

/**
 * do_swap_page: the page is read back from its slot into a new frame of this mm's own (a slot
 * other mms still name keeps its copy for them), mapped writable when the area is, and the
 * entry dropped.
 */
export function swapIn(m: LinuxMachine, s: LinuxSpace, v: VmArea, page: number, slot: number, base: number): FaultResolution {
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

/** Drop the pages of [start, end): unmap the PTEs, release the frames, shoot down the TLBs (zap_page_range). */
export function zap(m: LinuxMachine, p: Process<LinuxSpace>, cpu: number, start: number, end: number): void {
  if (end <= start) return;
  const k = m.kernel;
  const zero = m.zeroPage();
  const frames = k.mmu.frames;
  const s = p.space;
  s.hiwaterRss = Math.max(s.hiwaterRss, s.rss.anon + s.rss.file + s.rss.shmem);
  const removed = s.pt.unmap(start, end - start, (_va, frame, _size, flags) => {
    if (frame === zero || (flags & PTE_PFN) !== 0) return;
    if ((flags & PTE_SHMEM) !== 0) s.rss.shmem--;
    else if ((flags & PTE_FILE) !== 0) {
      s.rss.file--;
      unmapFilePage(m, frame, flags);
    }
    else s.rss.anon--;
    if (frames.unref(frame) === 0) {
      frames.free(frame);
      forgetFrame(m, frame);
    }
  });
  if (removed > 0) k.mmu.shootdown(cpu, k.asidOf(p), start, end - start);
  zapSwap(m, s, start, end);
}

/** The guard markers of [start, end) go: unmapped (munmap, MAP_FIXED, brk, mremap) or removed (MADV_GUARD_REMOVE). */
export function dropGuards(s: LinuxSpace, start: number, end: number): void {
  const g = s.guards;
  if (g.size === 0) return;
  for (const va of [...g]) if (va >= start && va < end) g.delete(va);
}

/**
 * mm/gup.c populate_vma_page_range: fault every page in now, writing where the area is private
 * and writable (so no later COW fault), reading otherwise. A page that cannot be had (out of
 * memory, no page cache) is left to fault later, as __mm_populate ignores errors.
 */
export function populate(k: Kernel<LinuxSpace>, thread: Thread, start: number, end: number): void {
  const p = thread.process as Process<LinuxSpace>;
  const s = p.space;
  for (let va = start; va < end; va += PAGE_SIZE) {
    const v = s.mm.vmas.lookup(va);
    if (v === undefined || s.pt.lookup(va) !== null) continue;
    const write = (v.flags & (VM_WRITE | VM_SHARED)) === VM_WRITE;
    handleFault(k, thread, { va, access: write ? ACCESS_WRITE : ACCESS_READ, user: true, reason: 'not-present', process: p });
  }
}
