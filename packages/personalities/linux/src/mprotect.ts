/**
 * mm/mprotect.c: do_mprotect_pkey (the checks, in Linux's order, and the walk over the areas),
 * mprotect_fixup (the commit charge for private memory turning writable, split and merge through
 * vma_modify), and change_protection: the present PTEs follow their area's new protection.
 */
import type { KernelError } from '@polykernel/core';
import type { Kernel, SyscallArg, SyscallContext } from '@polykernel/kernel';
import { PTE_NX, PTE_WRITE } from '@polykernel/mmu';
import { PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_SEM, PROT_WRITE, VM_ACCOUNT, VM_EXEC, VM_GROWSDOWN, VM_NORESERVE, VM_READ, VM_SHARED, VM_WRITE } from './flags.js';
import { endWraps, err, pageAlign, pageAlignReg, protToVm } from './internal.js';
import type { LinuxSpace } from './machine.js';
import type { MmStruct } from './mm.js';
import { PTE_FILE, PTE_SHMEM } from './pte.js';
import { call, reg, uint, ulong, wraps } from './syscall-args.js';
import { splitVma, vmaMerge, type VmArea } from './vma.js';

const PROT_GROWSDOWN = 0x01000000;
const PROT_GROWSUP = 0x02000000;

/**
 * do_mprotect_pkey: 0, or throws the errno (areas changed before a hole stay changed, as in
 * Linux). `len` may be the full 64-bit register (a bigint): an end past 2^64 is ENOMEM before
 * anything changes. PROT_GROWSDOWN extends the change down to the start of the VM_GROWSDOWN area
 * the range starts in; PROT_GROWSUP has no VM_GROWSUP to act on on x86 (EINVAL).
 */
export function doMprotect(mm: MmStruct, start: number, len: number | bigint, prot: number): number {
  const grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
  prot &= ~(PROT_GROWSDOWN | PROT_GROWSUP);
  if (grows === (PROT_GROWSDOWN | PROT_GROWSUP)) throw err('EINVAL', 'PROT_GROWSDOWN and PROT_GROWSUP together');
  if (start % PAGE_SIZE !== 0) throw err('EINVAL', 'start not page aligned');
  if (BigInt(len) === 0n) return 0;
  if (endWraps(start, len)) throw err('ENOMEM', 'range wraps');
  const end = start + pageAlignReg(len);
  // arch_validate_prot (include/linux/mman.h): PROT_SEM is accepted and ignored on x86.
  if ((prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM)) !== 0) throw err('EINVAL', 'unknown protection bits');
  // vma_find(start, end): the first area meeting the range.
  const first = mm.vmas.find(start);
  if (first === undefined || first.start >= end) throw err('ENOMEM', 'range not mapped');
  if ((grows & PROT_GROWSDOWN) !== 0) {
    if ((first.flags & VM_GROWSDOWN) === 0) throw err('EINVAL', 'PROT_GROWSDOWN on an area that does not grow down');
    start = first.start;
  } else {
    if (first.start > start) throw err('ENOMEM', 'range not mapped');
    if (grows !== 0) throw err('EINVAL', 'PROT_GROWSUP: no VM_GROWSUP on x86');
  }
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
  let piece = v;
  // vma_modify → split_vma: each split is refused (ENOMEM) once the mm holds max_map_count areas;
  // a first split already made stays.
  const splitRefused = (): KernelError => {
    if (charged > 0) mm.commit.uncharge(charged);
    return err('ENOMEM', 'the split would exceed max_map_count');
  };
  if ((v.start < s || v.end > e) && mm.mapCount >= mm.maxMapCount) throw splitRefused();
  if (v.start < s) {
    splitVma(mm, v, s);
    piece = mm.vmas.lookup(s)!;
  }
  if (piece.end > e) {
    if (mm.mapCount >= mm.maxMapCount) throw splitRefused();
    splitVma(mm, piece, e);
    piece = mm.vmas.lookup(s)!;
  }
  if ((v.flags & VM_ACCOUNT) !== 0 && (newFlags & VM_ACCOUNT) === 0) mm.commit.uncharge(pages);
  mm.statAccount(v.flags, -pages);
  mm.statAccount(newFlags, pages);
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
    const s = ctx.process.space;
    const end = start + pageAlign(len);
    try {
      return s.mm.mprotect(start, reg(a[1]) ?? -1n, prot);
    } finally {
      // Even when the call fails part-way (ENOMEM at a hole), the areas it did change must
      // have their PTEs follow, or a page would stay writable under a read-only area.
      if (start % PAGE_SIZE === 0 && end > start && !wraps(a[0], a[1])) {
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
