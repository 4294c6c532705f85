/**
 * mm/mlock.c: mlock, mlock2 (MLOCK_ONFAULT), munlock, mlockall (MCL_CURRENT, MCL_FUTURE,
 * MCL_ONFAULT) and munlockall — the areas' VM_LOCKED / VM_LOCKONFAULT (split and merged as
 * vma_modify_flags does), locked_vm (VmLck) and RLIMIT_MEMLOCK, which CAP_IPC_LOCK lifts; and
 * mlock_future_ok, which mmap and brk consult while mlockall(MCL_FUTURE) is in force. The system
 * calls then fault the locked pages in (__mm_populate), except for MLOCK_ONFAULT.
 */
import type { SyscallArg, SyscallContext } from '@polykernel/kernel';
import { ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';
import { PAGE_SIZE, VM_EXEC, VM_HUGETLB, VM_LOCKED, VM_LOCKONFAULT, VM_READ, VM_SHARED, VM_SPECIAL, VM_WRITE } from './flags.js';
import { err } from './internal.js';
import type { LinuxSpace } from './machine.js';
import { handleFault } from './memory.js';
import type { MmStruct } from './mm.js';
import { call, reg, uint, ulong } from './syscall-args.js';
import { modifyFlags, type VmArea } from './vma.js';

export const VM_LOCKED_MASK = VM_LOCKED | VM_LOCKONFAULT;
const MLOCK_ONFAULT = 1;
export const MCL_CURRENT = 1;
export const MCL_FUTURE = 2;
export const MCL_ONFAULT = 4;
const U64 = 1n << 64n;

/** can_do_mlock: a non-zero RLIMIT_MEMLOCK, or CAP_IPC_LOCK. */
function canDoMlock(mm: MmStruct): boolean {
  return mm.rlimit.memlock.cur !== 0 || mm.privileged;
}

/** RLIMIT_MEMLOCK in pages (rlimit >> PAGE_SHIFT). */
function lockLimit(mm: MmStruct): number {
  return Math.floor(mm.rlimit.memlock.cur / PAGE_SIZE);
}

/**
 * mlock_future_ok: with VM_LOCKED in `flags` (mlockall(MCL_FUTURE)'s def_flags, or MAP_LOCKED),
 * `bytes` more may be locked only within RLIMIT_MEMLOCK, unless CAP_IPC_LOCK.
 */
export function mlockFutureOk(mm: MmStruct, flags: number, bytes: number): boolean {
  if ((flags & VM_LOCKED) === 0 || mm.privileged) return true;
  return Math.floor(bytes / PAGE_SIZE) + mm.lockedVm <= lockLimit(mm);
}

/** The page-aligned range mlock and munlock act on: len grows by start's offset in its page, start rounds down. */
function lockRange(start: number, len: number | bigint): { start: number; pages: bigint } {
  const off = start % PAGE_SIZE;
  const l = (BigInt.asUintN(64, BigInt(len)) + BigInt(off) + 4095n) % U64;
  return { start: start - off, pages: l / 4096n };
}

/** do_mlock (mlock, mlock2): `flags` is VM_LOCKED, or VM_LOCKED | VM_LOCKONFAULT. */
export function doMlock(mm: MmStruct, startArg: number, len: number | bigint, flags: number): number {
  if (!canDoMlock(mm)) throw err('EPERM', 'RLIMIT_MEMLOCK is 0 and no CAP_IPC_LOCK');
  const { start, pages } = lockRange(startArg, len);
  let locked = pages + BigInt(mm.lockedVm);
  const limit = BigInt(lockLimit(mm));
  // What the range already has locked is not counted again (count_mm_mlocked_page_nr).
  if (locked > limit && !mm.privileged) locked -= BigInt(lockedIn(mm, start, pages));
  if (locked > limit && !mm.privileged) throw err('ENOMEM', 'RLIMIT_MEMLOCK would be exceeded');
  applyVmaLockFlags(mm, start, pages, flags);
  populateAreas(mm, start, rangeEnd(mm, start, pages));
  return 0;
}

/**
 * What __mm_populate does to the areas: a write fault in each private writable page of the locked
 * (not on-fault) areas of [start, end) gives each such area its anon_vma (a read fault maps the
 * zero page and gives none). The system calls fault the pages in for real (populateLocked).
 */
export function populateAreas(mm: MmStruct, start: number, end: number): void {
  for (const v of mm.vmas.overlapping(start, end)) {
    if ((v.flags & VM_LOCKED_MASK) === VM_LOCKED && (v.flags & (VM_WRITE | VM_SHARED)) === VM_WRITE) mm.prepareAnon(v);
  }
}

/** The end of the range mlock acts on, capped just past TASK_SIZE. */
function rangeEnd(mm: MmStruct, start: number, pages: bigint): number {
  const end = BigInt(start) + pages * 4096n;
  return end > BigInt(mm.taskSize) ? mm.taskSize + PAGE_SIZE : Number(end);
}

/** munlock(2) (do_munlock → apply_vma_lock_flags with no lock flags). */
export function doMunlock(mm: MmStruct, startArg: number, len: number | bigint): number {
  const { start, pages } = lockRange(startArg, len);
  applyVmaLockFlags(mm, start, pages, 0);
  return 0;
}

/** count_mm_mlocked_page_nr: pages of VM_LOCKED areas inside the range. */
function lockedIn(mm: MmStruct, start: number, pages: bigint): number {
  const end = start + Number(pages < 2n ** 40n ? pages : 2n ** 40n) * PAGE_SIZE;
  let n = 0;
  for (const v of mm.vmas.overlapping(start, end)) {
    if ((v.flags & VM_LOCKED) !== 0) n += (Math.min(v.end, end) - Math.max(v.start, start)) / PAGE_SIZE;
  }
  return n;
}

/**
 * apply_vma_lock_flags: every area of [start, start + pages) takes the lock flags, in order; a
 * range that wraps is EINVAL, one starting outside an area or crossing a hole ENOMEM — after the
 * areas before the hole have changed, as in Linux.
 */
function applyVmaLockFlags(mm: MmStruct, start: number, pages: bigint, flags: number): void {
  const endBig = BigInt(start) + pages * 4096n;
  if (endBig >= U64) throw err('EINVAL', 'range wraps');
  if (pages === 0n) return;
  const end = endBig > BigInt(mm.taskSize) ? mm.taskSize + PAGE_SIZE : Number(endBig);
  const first = mm.vmas.lookup(start);
  if (first === undefined) throw err('ENOMEM', 'start not mapped');
  let cursor = first.start;
  for (const v of mm.vmas.overlapping(start, end)) {
    if (v.start !== cursor) throw err('ENOMEM', 'hole in range');
    const e = Math.min(v.end, end);
    mlockFixup(mm, v, Math.max(v.start, start), e, (v.flags & ~VM_LOCKED_MASK) | flags);
    cursor = v.end;
  }
  if (cursor < end) throw err('ENOMEM', 'range not fully mapped');
}

/**
 * mlock_fixup: special, hugetlb and droppable areas keep their flags and are not counted; others
 * take the new flags and locked_vm follows.
 */
function mlockFixup(mm: MmStruct, v: VmArea, s: number, e: number, newFlags: number): void {
  const old = v.flags;
  if (newFlags === old || (old & (VM_SPECIAL | VM_HUGETLB)) !== 0 || v.droppable) return;
  modifyFlags(mm, v, s, e, newFlags);
  const pages = (e - s) / PAGE_SIZE;
  if ((newFlags & VM_LOCKED) === 0) mm.lockedVm -= pages;
  else if ((old & VM_LOCKED) === 0) mm.lockedVm += pages;
}

/** mlockall(2): MCL_FUTURE sets def_flags; MCL_CURRENT locks every area (total_vm within the limit). */
export function doMlockall(mm: MmStruct, flags: number): number {
  if (flags === 0 || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) !== 0 || flags === MCL_ONFAULT) throw err('EINVAL', 'bad mlockall flags');
  if (!canDoMlock(mm)) throw err('EPERM', 'RLIMIT_MEMLOCK is 0 and no CAP_IPC_LOCK');
  if ((flags & MCL_CURRENT) !== 0 && mm.totalVm > lockLimit(mm) && !mm.privileged) throw err('ENOMEM', 'total_vm exceeds RLIMIT_MEMLOCK');
  applyMlockallFlags(mm, flags);
  if ((flags & MCL_CURRENT) !== 0) populateAreas(mm, 0, mm.taskSize);
  return 0;
}

/** munlockall(2). */
export function doMunlockall(mm: MmStruct): number {
  applyMlockallFlags(mm, 0);
  return 0;
}

/** apply_mlockall_flags: def_flags, then (MCL_CURRENT, or none: munlockall) every area; errors are ignored. */
function applyMlockallFlags(mm: MmStruct, flags: number): void {
  mm.defFlags &= ~VM_LOCKED_MASK;
  if ((flags & MCL_FUTURE) !== 0) {
    mm.defFlags |= VM_LOCKED | ((flags & MCL_ONFAULT) !== 0 ? VM_LOCKONFAULT : 0);
    if ((flags & MCL_CURRENT) === 0) return;
  }
  const toAdd = (flags & MCL_CURRENT) !== 0 ? VM_LOCKED | ((flags & MCL_ONFAULT) !== 0 ? VM_LOCKONFAULT : 0) : 0;
  for (const v of [...mm.vmas.iterateFrom(0)]) {
    const cur = mm.vmas.lookup(v.start);
    if (cur === undefined) continue;
    try {
      mlockFixup(mm, cur, cur.start, cur.end, (cur.flags & ~VM_LOCKED_MASK) | toAdd);
    } catch {
      // "Ignore errors, but prev needs fixing up."
    }
  }
}

// ---- the system calls, with __mm_populate ------------------------------------------------------

/** __mm_populate for a locked range: each page of the VM_LOCKED (not on-fault) areas with some access is faulted in. */
function populateLocked(ctx: SyscallContext<LinuxSpace>, start: number, end: number): void {
  const s = ctx.process.space;
  for (const v of s.mm.vmas.overlapping(start, end)) {
    if ((v.flags & VM_LOCKED_MASK) !== VM_LOCKED || (v.flags & (VM_READ | VM_WRITE | VM_EXEC)) === 0) continue;
    const write = (v.flags & (VM_WRITE | VM_SHARED)) === VM_WRITE;
    for (let va = Math.max(v.start, start); va < Math.min(v.end, end); va += PAGE_SIZE) {
      // A guard marker stops __mm_populate with EFAULT, which mlock reports as ENOMEM
      // (__mlock_posix_error_return); the areas stay locked.
      if (s.guards.has(va)) throw err('ENOMEM', 'a guard marker in the locked range');
      if (s.pt.lookup(va) === null) handleFault(ctx.kernel, ctx.thread, { va, access: write ? ACCESS_WRITE : ACCESS_READ, user: true, reason: 'not-present', process: ctx.process });
    }
  }
}

function lockCall(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[], flags: number): number {
  const start = ulong(a[0]);
  const len = reg(a[1]) ?? -1n;
  const mm = ctx.process.space.mm;
  const r = doMlock(mm, start, len, flags);
  const { start: s, pages } = lockRange(start, len);
  populateLocked(ctx, s, Math.min(mm.taskSize, s + Number(pages) * PAGE_SIZE));
  return r;
}

/** mlock(2). */
export function sysMlock(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  return call(ctx, () => lockCall(ctx, a, VM_LOCKED));
}

/** mlock2(2): MLOCK_ONFAULT is the only flag. */
export function sysMlock2(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  return call(ctx, () => {
    const flags = uint(a[2]);
    if ((flags & ~MLOCK_ONFAULT) !== 0) throw err('EINVAL', 'unknown mlock2 flags');
    return lockCall(ctx, a, VM_LOCKED | ((flags & MLOCK_ONFAULT) !== 0 ? VM_LOCKONFAULT : 0));
  });
}

/** munlock(2). */
export function sysMunlock(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  return call(ctx, () => doMunlock(ctx.process.space.mm, ulong(a[0]), reg(a[1]) ?? -1n));
}

/** mlockall(2). */
export function sysMlockall(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  return call(ctx, () => {
    const flags = uint(a[0]);
    const mm = ctx.process.space.mm;
    const r = doMlockall(mm, flags);
    if ((flags & MCL_CURRENT) !== 0) populateLocked(ctx, 0, mm.taskSize);
    return r;
  });
}

/** munlockall(2). */
export function sysMunlockall(ctx: SyscallContext<LinuxSpace>): number {
  return call(ctx, () => doMunlockall(ctx.process.space.mm));
}
