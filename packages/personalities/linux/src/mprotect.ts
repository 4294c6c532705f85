/**
 * mm/mprotect.c: do_mprotect_pkey (the checks, in Linux's order, and the walk over the areas),
 * mprotect_fixup (the commit charge for private memory turning writable, split and merge through
 * vma_modify), and change_protection: the present PTEs follow their area's new protection.
 */
import type { Kernel, SyscallArg, SyscallContext } from '@polykernel/kernel';
import { PTE_NX, PTE_WRITE } from '@polykernel/mmu';
import { PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_SEM, PROT_WRITE, VM_ACCOUNT, VM_EXEC, VM_NORESERVE, VM_READ, VM_SHARED, VM_WRITE } from './flags.js';
import { err, pageAlign, protToVm } from './internal.js';
import type { LinuxSpace } from './machine.js';
import type { MmStruct } from './mm.js';
import { PTE_FILE, PTE_SHMEM } from './pte.js';
import { call, uint, ulong, wraps } from './syscall-args.js';
import { splitVma, vmaMerge, type VmArea } from './vma.js';

/** do_mprotect_pkey: 0, or throws the errno (areas changed before a hole stay changed, as in Linux). */
export function doMprotect(mm: MmStruct, start: number, len: number, prot: number): number {
  if (start % PAGE_SIZE !== 0) throw err('EINVAL', 'start not page aligned');
  if (len === 0) return 0;
  const end = start + pageAlign(len);
  if (end <= start) throw err('ENOMEM', 'range wraps');
  // arch_validate_prot (include/linux/mman.h): PROT_SEM is accepted and ignored on x86.
  if ((prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM)) !== 0) throw err('EINVAL', 'unknown protection bits');
  const first = mm.vmas.find(start);
  if (first === undefined || first.start > start) throw err('ENOMEM', 'range not mapped');
  let cursor = start;
  for (const v of mm.vmas.overlapping(start, end)) {
    if (v.start > cursor) throw err('ENOMEM', 'hole in range'); // earlier areas stay changed, as in Linux
    const newFlags = protToVm(prot) | (v.flags & ~(VM_READ | VM_WRITE | VM_EXEC));
    // A permission not allowed by VM_MAY* is EACCES (e.g. PROT_WRITE on a read-only shared file).
    if ((newFlags & ~Math.floor(newFlags / 16) & (VM_READ | VM_WRITE | VM_EXEC)) !== 0) throw err('EACCES', 'protection exceeds VM_MAY* bits');
    const s = Math.max(v.start, start);
    const e = Math.min(v.end, end);
    mprotectFixup(mm, v, s, e, newFlags);
    cursor = e;
  }
  if (cursor < end) throw err('ENOMEM', 'range not fully mapped');
  return 0;
}

/** mprotect_fixup: change the flags of [s, e) within `v`, splitting and merging as vma_modify does. */
function mprotectFixup(mm: MmStruct, v: VmArea, s: number, e: number, newFlags: number): void {
  const pages = (e - s) / PAGE_SIZE;
  let charged = 0;
  // mprotect_fixup: a private area turning writable is charged now; a never-faulted anonymous
  // one turning read-only gives its charge back (there is nothing in it to keep) — on 6.x only:
  // 5.15 "cannot reduce our commit if we make it unwritable again" (mm/mprotect.c); the
  // unaccounting came with "mm/mprotect: allow unfaulted VMAs to be unaccounted on mprotect()" (6.7).
  if ((newFlags & VM_WRITE) !== 0) {
    if ((v.flags & (VM_ACCOUNT | VM_WRITE | VM_SHARED | VM_NORESERVE)) === 0) {
      if (!mm.commit.charge(pages, mm.totalVm)) throw err('ENOMEM', 'overcommit refused making the area writable');
      charged = pages;
      newFlags |= VM_ACCOUNT;
    }
  } else if (mm.variant !== 'linux-5.15' && (v.flags & VM_ACCOUNT) !== 0 && v.file === null && v.anonVma === 0) {
    newFlags &= ~VM_ACCOUNT;
  }
  if (newFlags === v.flags) {
    if (charged > 0) mm.commit.uncharge(charged);
    return;
  }
  if ((v.flags & VM_ACCOUNT) !== 0 && (newFlags & VM_ACCOUNT) === 0) mm.commit.uncharge(pages);
  mm.statAccount(v.flags, -pages);
  mm.statAccount(newFlags, pages);
  let piece = v;
  if (v.start < s) {
    splitVma(mm, v, s);
    piece = mm.vmas.lookup(s)!;
  }
  if (piece.end > e) {
    splitVma(mm, piece, e);
    piece = mm.vmas.lookup(s)!;
  }
  mm.vmas.remove(piece);
  piece.flags = newFlags;
  // Accounting follows the new flags (private writable memory is charged).
  vmaMerge(mm, piece);
}

// ---- the system call and change_protection: the PTEs follow the areas ----------------------------

/** mprotect(2): the areas change (doMprotect), then their PTEs (change_protection) and the TLBs. */
export function sysMprotect(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  return call(ctx, () => {
    const [start, len, prot] = [ulong(a[0]), ulong(a[1]), uint(a[2])];
    // do_mprotect_pkey: end = start + PAGE_ALIGN(len) in u64; a wrap is ENOMEM before anything changes.
    if (start % PAGE_SIZE === 0 && len !== 0 && wraps(a[0], a[1])) return ctx.fail('ENOMEM', 'range wraps');
    const s = ctx.process.space;
    const end = start + pageAlign(len);
    try {
      return s.mm.mprotect(start, len, prot);
    } finally {
      // Even when the call fails part-way (ENOMEM at a hole), the areas it did change must
      // have their PTEs follow, or a page would stay writable under a read-only area.
      if (start % PAGE_SIZE === 0 && end > start) {
        changeProtection(ctx.kernel, s, start, end);
        ctx.kernel.mmu.shootdown(ctx.thread.cpu, ctx.kernel.asidOf(ctx.process), start, end - start);
      }
    }
  });
}

/**
 * change_protection (mm/mprotect.c change_pte_range): every present PTE in [start, end) takes its
 * area's new protection. Write permission is only kept where no fault is needed to grant it:
 * shmem pages of a shared writable area (no write-notify), and, with MM_CP_TRY_CHANGE_WRITABLE,
 * private anonymous pages this mapping alone holds (can_change_pte_writable). The zero page,
 * page-cache pages and pages shared with others stay read-only, so their next write faults.
 */
export function changeProtection(k: Kernel<LinuxSpace>, s: LinuxSpace, start: number, end: number): void {
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
