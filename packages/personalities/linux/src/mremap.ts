/**
 * mm/mremap.c: shrink in place, grow in place when the space after the area is free
 * (vma_expandable), otherwise move with MREMAP_MAYMOVE (move_vma) or to `newAddr` with
 * MREMAP_FIXED (mremap_to). MREMAP_DONTUNMAP (5.7+; any area but VM_DONTEXPAND/VM_PFNMAP since
 * 5.13) moves the pages to a new area of the same size and leaves the old area mapped and empty,
 * `newAddr` then being a hint. The system call moves the PTEs and swap entries with the area
 * (move_page_tables).
 */
import type { SyscallArg, SyscallContext } from '@polykernel/kernel';
import { MAP_SHARED, MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE, PAGE_SIZE, VM_ACCOUNT, VM_DONTEXPAND, VM_LOCKED, VM_MAYSHARE, VM_PFNMAP, VM_SHARED } from './flags.js';
import { err, pageAlign, pageAlignReg } from './internal.js';
import { machineOf, type LinuxSpace } from './machine.js';
import { dropGuards, zap } from './memory.js';
import type { MmStruct } from './mm.js';
import { mlockFutureOk } from './mlock.js';
import { doMunmap, getUnmappedArea, mayExpandVm } from './mmap.js';
import { releaseUnmapped, shmemIn } from './shmem.js';
import { call, reg, uint, ulong } from './syscall-args.js';
import { unmapRange, VmArea, vmaMerge } from './vma.js';

/**
 * mremap(2)'s area work: returns the area's new address. The lengths may be the full 64-bit
 * registers (bigints): PAGE_ALIGN wraps as in C.
 */
export function doMremap(mm: MmStruct, addr: number, oldLenArg: number | bigint, newLenArg: number | bigint, flags: number, newAddr = 0): number {
  if ((flags & ~(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP)) !== 0) throw err('EINVAL', 'unknown mremap flags');
  if ((flags & MREMAP_FIXED) !== 0 && (flags & MREMAP_MAYMOVE) === 0) throw err('EINVAL', 'MREMAP_FIXED without MREMAP_MAYMOVE');
  // MREMAP_DONTUNMAP is always a move and does not resize (compared before page alignment).
  if ((flags & MREMAP_DONTUNMAP) !== 0 && ((flags & MREMAP_MAYMOVE) === 0 || BigInt(oldLenArg) !== BigInt(newLenArg))) throw err('EINVAL', 'MREMAP_DONTUNMAP needs MREMAP_MAYMOVE and equal lengths');
  if (addr % PAGE_SIZE !== 0) throw err('EINVAL', 'address not page aligned');
  const oldLen = pageAlignReg(oldLenArg);
  const newLen = pageAlignReg(newLenArg);
  if (newLen === 0) throw err('EINVAL', 'zero new length');
  // 6.17+ check_mremap_params: "Is the new length silly?" — beyond TASK_SIZE is EINVAL up front
  // (5.15 gets as far as get_unmapped_area: ENOMEM).
  if (mm.variant === 'linux-6.x' && newLen > mm.taskSize) throw err('EINVAL', 'new length beyond TASK_SIZE');
  if ((flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) !== 0) return mremapTo(mm, addr, oldLen, newLen, newAddr, (flags & MREMAP_FIXED) !== 0, (flags & MREMAP_DONTUNMAP) !== 0);
  // Shrinking (or same size) always succeeds in place: the tail is unmapped, with munmap's own
  // range checks (do_vmi_munmap: EINVAL past TASK_SIZE).
  if (oldLen >= newLen) {
    if (oldLen > newLen) doMunmap(mm, addr + newLen, oldLen - newLen);
    return addr;
  }
  const vma = vmaToResize(mm, addr, oldLen, newLen);
  if (oldLen === vma.end - addr && expandable(mm, vma, newLen - oldLen)) {
    const delta = newLen - oldLen;
    // An accounted area is charged for the pages it grows by.
    if ((vma.flags & VM_ACCOUNT) !== 0 && !mm.commit.charge(delta / PAGE_SIZE, mm.totalVm)) throw err('ENOMEM', 'overcommit refused the growth');
    mm.vmas.remove(vma);
    const grown = vma.slice(vma.start, vma.end + delta);
    if ((grown.flags & VM_LOCKED) !== 0) mm.lockedVm += delta / PAGE_SIZE;
    mm.mapped(grown, delta);
    vmaMerge(mm, grown);
    return addr;
  }
  if ((flags & MREMAP_MAYMOVE) === 0) throw err('ENOMEM', 'cannot grow in place and MREMAP_MAYMOVE not given');
  const mapFlags = (vma.flags & VM_MAYSHARE) !== 0 ? MAP_SHARED : 0;
  const target = getUnmappedArea(mm, 0, newLen, mapFlags);
  return moveVma(mm, vma, addr, oldLen, newLen, target);
}

/**
 * mremap_to: MREMAP_FIXED clears the destination first, as MAP_FIXED does, and moves there;
 * MREMAP_DONTUNMAP without it takes `newAddr` as a hint for get_unmapped_area.
 */
function mremapTo(mm: MmStruct, addr: number, oldLen: number, newLen: number, newAddr: number, fixed: boolean, dontUnmap: boolean): number {
  if (newAddr % PAGE_SIZE !== 0) throw err('EINVAL', 'new address not page aligned');
  if (newLen > mm.taskSize || newAddr > mm.taskSize - newLen) throw err('EINVAL', 'new range beyond TASK_SIZE');
  // Overlapping source and destination ranges are EINVAL.
  if (addr + oldLen > newAddr && newAddr + newLen > addr) throw err('EINVAL', 'source and destination overlap');
  // "(mm->map_count + 2) >= sysctl_max_map_count - 3": both unmaps may split an area in three,
  // and move_vma wants 3 more to spare (6.18 check_mremap_params; mremap_to before).
  if (mm.mapCount + 2 >= mm.maxMapCount - 3) throw err('ENOMEM', 'max_map_count could be exceeded');
  if (fixed) unmapRange(mm, newAddr, newAddr + newLen);
  if (oldLen > newLen) {
    unmapRange(mm, addr + newLen, addr + oldLen);
    oldLen = newLen;
  }
  // 6.17+ ("mm/mremap: permit mremap() move of multiple VMAs"): a same-size MREMAP_FIXED move of
  // a range that starts in an area but runs past it moves every area of the range, holes and all.
  const first = mm.vmas.lookup(addr);
  if (mm.variant === 'linux-6.x' && fixed && !dontUnmap && oldLen === newLen && first !== undefined && first.end < addr + oldLen) {
    return moveMultiple(mm, addr, oldLen, newAddr);
  }
  const vma = vmaToResize(mm, addr, oldLen, newLen);
  if (dontUnmap && (vma.flags & (VM_DONTEXPAND | VM_PFNMAP)) !== 0) throw err('EINVAL', 'MREMAP_DONTUNMAP on a VM_DONTEXPAND or VM_PFNMAP area');
  const to = fixed ? newAddr : getUnmappedArea(mm, newAddr, newLen, (vma.flags & VM_MAYSHARE) !== 0 ? MAP_SHARED : 0);
  return moveVma(mm, vma, addr, oldLen, newLen, to, dontUnmap);
}

/** Each area of [addr, addr + len) moves to the same offset from `to` (the destination is already clear). */
function moveMultiple(mm: MmStruct, addr: number, len: number, to: number): number {
  const areas = mm.vmas.overlapping(addr, addr + len);
  if (areas.some((v) => (v.flags & (VM_DONTEXPAND | VM_PFNMAP)) !== 0)) throw err('EFAULT', 'an area of the range may not move');
  for (const v of areas) {
    const s = Math.max(v.start, addr);
    const e = Math.min(v.end, addr + len);
    moveVma(mm, mm.vmas.lookup(s)!, s, e - s, e - s, to + (s - addr));
  }
  return to;
}

/** vma_to_resize: the area holding `addr` must cover the old range and be allowed to grow. */
function vmaToResize(mm: MmStruct, addr: number, oldLen: number, newLen: number): VmArea {
  const vma = mm.vmas.lookup(addr);
  if (vma === undefined) throw err('EFAULT', 'no mapping at address');
  // Duplicating a mapping (old_len 0) only makes sense for shared memory.
  if (oldLen === 0 && (vma.flags & (VM_SHARED | VM_MAYSHARE)) === 0) throw err('EINVAL', 'old_len 0 on a private mapping');
  if (oldLen > vma.end - addr) throw err('EFAULT', 'old range runs past the mapping');
  if (newLen === oldLen) return vma;
  if ((vma.flags & (VM_DONTEXPAND | VM_PFNMAP)) !== 0) throw err('EFAULT', 'mapping may not be expanded');
  if (newLen > oldLen) {
    // resize_is_valid: a locked area's growth within RLIMIT_MEMLOCK (EAGAIN), then RLIMIT_AS/DATA (ENOMEM).
    if (!mlockFutureOk(mm, vma.flags, newLen - oldLen)) throw err('EAGAIN', 'the locked area would exceed RLIMIT_MEMLOCK');
    if (!mayExpandVm(mm, vma.flags, (newLen - oldLen) / PAGE_SIZE)) throw err('ENOMEM', 'RLIMIT_AS or RLIMIT_DATA would be exceeded');
  }
  return vma;
}

/** vma_expandable: the `delta` bytes after the area are free and inside TASK_SIZE. */
function expandable(mm: MmStruct, vma: VmArea, delta: number): boolean {
  const end = vma.end + delta;
  if (end > mm.taskSize) return false;
  return mm.vmas.overlapping(vma.end, end).length === 0;
}

/**
 * move_vma + copy_vma: a new area of `newLen` at `to` carries the old range's pgoff (so a moved
 * faulted anonymous area rarely merges), or to >> PAGE_SHIFT when it was never faulted; then the
 * old range is unmapped.
 */
function moveVma(mm: MmStruct, vma: VmArea, addr: number, oldLen: number, newLen: number, to: number, dontUnmap = false): number {
  let pgoff = vma.pgoff + (addr - vma.start) / PAGE_SIZE;
  if (vma.file === null && vma.anonVma === 0) pgoff = to / PAGE_SIZE;
  if (mm.mapCount >= mm.maxMapCount - 3) throw err('ENOMEM', 'max_map_count would be exceeded');
  // move_vma: an accounted area is charged for its new size; unmapping the old range returns the
  // old (with MREMAP_DONTUNMAP the old range stays, and stays charged).
  if ((vma.flags & VM_ACCOUNT) !== 0 && !mm.commit.charge(newLen / PAGE_SIZE, mm.totalVm)) throw err('ENOMEM', 'overcommit refused the move');
  const moved = new VmArea(to, to + newLen, vma.flags, pgoff, vma.file, vma.name);
  moved.anonVma = vma.anonVma;
  if ((moved.flags & VM_LOCKED) !== 0) mm.lockedVm += newLen / PAGE_SIZE;
  mm.mapped(moved, newLen);
  if (!dontUnmap) unmapRange(mm, addr, addr + oldLen);
  else if (vma.start === addr && vma.end === addr + oldLen) vma.anonVma = 0; // unlink_anon_vmas: its pages went with the move
  vmaMerge(mm, moved);
  return to;
}

// ---- the system call: the pages move with the area (move_page_tables) ---------------------------

/** mremap(2): the areas move or resize (doMremap), the PTEs and swap entries of what survives move along. */
export function sysMremap(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  return call(ctx, () => {
    const [addr, oldLen, newLen, flags, newAddr] = [ulong(a[0]), pageAlign(ulong(a[1])), pageAlign(ulong(a[2])), uint(a[3]), ulong(a[4] ?? 0)];
    const m = machineOf(ctx.kernel);
    const s = ctx.process.space;
    // Keep the PTEs of the part that survives, to move them (move_page_tables).
    const keep: [number, number, number][] = [];
    s.pt.forEachLeaf(addr, Math.min(oldLen, newLen), (va, frame, _size, fl) => keep.push([va - addr, frame, fl]));
    const keepGuards = [...s.guards].filter((va) => va >= addr && va < addr + Math.min(oldLen, newLen)).map((va) => va - addr);
    const keepSwap = [...s.swap].filter(([va]) => va >= addr && va < addr + Math.min(oldLen, newLen)).map(([va, slot]) => [va - addr, slot] as const);
    const files = shmemIn(m, s, addr, addr + oldLen).concat(shmemIn(m, s, newAddr, newAddr + newLen));
    const r = s.mm.mremap(addr, reg(a[1]) ?? -1n, reg(a[2]) ?? -1n, flags, newAddr);
    const k = ctx.kernel;
    if (oldLen > newLen) {
      zap(m, ctx.process, ctx.thread.cpu, addr + newLen, addr + oldLen);
      dropGuards(s, addr + newLen, addr + oldLen);
    }
    if (r !== addr) {
      s.pt.unmap(addr, Math.min(oldLen, newLen));
      k.mmu.shootdown(ctx.thread.cpu, k.asidOf(ctx.process), addr, Math.min(oldLen, newLen));
      zap(m, ctx.process, ctx.thread.cpu, r, r + newLen); // what MREMAP_FIXED replaced
      for (const [off, frame, fl] of keep) s.pt.map(r + off, frame, PAGE_SIZE, fl);
      // The swap entries move with their PTEs (move_ptes moves non-present entries too).
      for (const [off] of keepSwap) s.swap.delete(addr + off);
      for (const [off, slot] of keepSwap) s.swap.set(r + off, slot);
      // So do the guard markers (move_ptes moves PTE markers).
      dropGuards(s, addr, addr + Math.min(oldLen, newLen));
      dropGuards(s, r, r + newLen);
      for (const off of keepGuards) s.guards.add(r + off);
    }
    releaseUnmapped(m, s, files);
    return r;
  });
}
