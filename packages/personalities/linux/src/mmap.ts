/**
 * mm/mmap.c (with arch/x86/mm/mmap.c's layout): do_mmap and __mmap_region, get_unmapped_area
 * (top-down from mmap_base, hints, MAP_FIXED and MAP_FIXED_NOREPLACE, the bottom-up fallback),
 * munmap, brk and vm_brk_flags, expand_downwards for a stack that grows to a fault, and exit_mmap.
 * The stack guard gap below VM_GROWSDOWN areas is kept by brk, hints and the gap search alike.
 *
 * The system calls mmap, munmap and brk do the areas' part (doMmap, doMunmap, doBrk, on the
 * MmStruct) and then the pages' part: the PTEs of what was unmapped or replaced are zapped
 * (memory.ts), shmem files mapped nowhere any more are released (shmem.ts), MAP_POPULATE faults
 * the range in.
 */
import { pageDown } from '@polykernel/core';
import type { SyscallArg, SyscallContext } from '@polykernel/kernel';
import { unmapFilePage, vmFileOf } from './filemap.js';
import {
  MAP_32BIT, MAP_ANONYMOUS, MAP_DROPPABLE, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_GROWSDOWN, MAP_HUGETLB, MAP_LOCKED, MAP_NORESERVE, MAP_POPULATE, MAP_PRIVATE,
  MAP_SHARED, MAP_SHARED_VALIDATE, MAP_TYPE, PAGE_SIZE, PROT_WRITE, VM_ACCOUNT, VM_DONTDUMP, VM_EXEC, VM_GROWSDOWN, VM_MAYEXEC, VM_MAYREAD, VM_MAYSHARE,
  VM_MAYWRITE, VM_NORESERVE, VM_READ, VM_SHARED, VM_WIPEONFORK, VM_WRITE, VM_LOCKED, VM_LOCKONFAULT, VM_SPECIAL,
} from './flags.js';
import { mlockFutureOk, populateAreas } from './mlock.js';
import { err, pageAlign, protToVm, STACK_GUARD_GAP, vmStartGap } from './internal.js';
import { machineOf, type LinuxMachine, type LinuxSpace } from './machine.js';
import { forgetFrame } from './madvise.js';
import { dropGuards, populate, zap } from './memory.js';
import type { MmStruct } from './mm.js';
import { PTE_PFN } from './pte.js';
import { releaseUnmapped, shmemIn } from './shmem.js';
import { zapSwap } from './swapfile.js';
import { call, int, reg, uint, ulong } from './syscall-args.js';
import { mergeable, unmapRange, VmArea, vmaMerge, type VmFile } from './vma.js';

// ---- mmap -------------------------------------------------------------------------------------

/**
 * How the descriptor behind a file mapping was opened, and what it is: a regular file, a directory
 * (no mmap operation: ENODEV), or /dev/zero (mmap_zero: shared memory when VM_SHARED, else plain
 * anonymous memory).
 */
export interface MmapFileMode { read: boolean; write: boolean; kind?: 'regular' | 'directory' | 'zero' | 'null' }

/** include/linux/mman.h LEGACY_MAP_MASK: the flags MAP_SHARED_VALIDATE accepts on a file without mmap_validate. */
const LEGACY_MAP_MASK = MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | 0x800 | 0x1000 | 0x4000000 | MAP_GROWSDOWN
  | MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE | 0x10000 | 0x20000 | MAP_HUGETLB | MAP_32BIT | 0x54000000 | 0x78000000;
const PAGES_2_64 = 1n << 52n;
/** MAX_LFS_FILESIZE (LLONG_MAX): the largest offset a regular file maps (file_mmap_size_max). */
const MAX_LFS_FILESIZE = (1n << 63n) - 1n;
const HPAGE_SIZE = 2 * 1024 * 1024;

/** do_mmap + __mmap_region for anonymous and file memory (vm_mmap_pgoff, ksys_mmap_pgoff's checks first). Returns the address. */
export function doMmap(mm: MmStruct, addr: number, len: number, prot: number, flags: number, file: VmFile | null = null, pgoffBytes: number | bigint = 0, fileMode?: MmapFileMode): number {
  const off = BigInt.asUintN(64, BigInt(pgoffBytes));
  // arch/x86/kernel/sys_x86_64.c mmap: the offset's alignment, before anything else.
  if (off % BigInt(PAGE_SIZE) !== 0n) throw err('EINVAL', 'offset not page aligned');
  let pgoff = off / BigInt(PAGE_SIZE);
  const kind = file === null ? null : fileMode?.kind ?? 'regular';
  len = hugetlbLength(mm, len, flags, kind !== null);
  if (len === 0) throw err('EINVAL', 'zero length');
  if ((flags & MAP_FIXED_NOREPLACE) !== 0) flags |= MAP_FIXED;
  if ((flags & MAP_FIXED) === 0) addr = roundHint(mm, addr);
  const length = pageAlign(len);
  if (!Number.isSafeInteger(length) || length === 0) throw err('ENOMEM', 'length overflows');
  // "offset overflow?": pgoff + pages must not wrap an unsigned long of pages.
  if (pgoff + BigInt(length / PAGE_SIZE) >= PAGES_2_64 * 4096n) throw err('EOVERFLOW', 'offset + length wraps');
  if (mm.mapCount > mm.maxMapCount) throw err('ENOMEM', 'max_map_count reached');
  // 6.7+ __get_unmapped_area: private anonymous memory, no hint, a length that is a multiple of
  // PMD_SIZE (that restriction since 6.13): THP-aligned (thp_get_unmapped_area_vmflags).
  const thp = mm.variant === 'linux-6.x' && kind === null && (flags & (MAP_TYPE | MAP_FIXED)) !== MAP_SHARED && (flags & MAP_FIXED) === 0 && addr === 0 && length % HPAGE_SIZE === 0;
  const start = thp ? thpUnmappedArea(mm, length, flags) : getUnmappedArea(mm, addr, length, flags);
  if ((flags & MAP_FIXED_NOREPLACE) !== 0 && mm.vmas.overlapping(start, start + length).length > 0) throw err('EEXIST', 'MAP_FIXED_NOREPLACE over an existing mapping');
  let vmFlags = protToVm(prot) | mm.defFlags | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | ((flags & MAP_GROWSDOWN) !== 0 ? VM_GROWSDOWN : 0) | ((flags & MAP_LOCKED) !== 0 ? VM_LOCKED : 0);
  if ((flags & MAP_LOCKED) !== 0 && mm.rlimit.memlock.cur === 0 && !mm.privileged) throw err('EPERM', 'MAP_LOCKED without RLIMIT_MEMLOCK or CAP_IPC_LOCK');
  if (!mlockFutureOk(mm, vmFlags, length)) throw err('EAGAIN', 'the locked mapping would exceed RLIMIT_MEMLOCK');
  let droppable = false;
  if (kind !== null) {
    // file_mmap_ok: a regular file's offset + length stays within MAX_LFS_FILESIZE.
    if (kind === 'regular' && pgoff > (MAX_LFS_FILESIZE - BigInt(length)) / BigInt(PAGE_SIZE)) throw err('EOVERFLOW', 'offset beyond the largest file');
    vmFlags = fileFlags(vmFlags, flags, prot, fileMode ?? { read: true, write: true }, kind);
  } else {
    switch (flags & MAP_TYPE) {
      case MAP_SHARED:
        if ((vmFlags & VM_GROWSDOWN) !== 0) throw err('EINVAL', 'MAP_GROWSDOWN on shared memory');
        pgoff = 0n;
        vmFlags |= VM_SHARED | VM_MAYSHARE;
        break;
      case MAP_DROPPABLE:
        if (mm.variant === 'linux-5.15') throw err('EINVAL', 'MAP_DROPPABLE came in 6.11: an unknown map type');
        // 6.11+: private anonymous memory the kernel may drop under pressure; never reserved,
        // wiped in a fork child, left out of core dumps.
        if ((flags & MAP_LOCKED) !== 0 || (vmFlags & VM_GROWSDOWN) !== 0) throw err('EINVAL', 'MAP_DROPPABLE with MAP_LOCKED or MAP_GROWSDOWN');
        droppable = true;
        vmFlags |= VM_NORESERVE | VM_WIPEONFORK | VM_DONTDUMP;
        break;
      case MAP_PRIVATE:
        break;
      default:
        // MAP_SHARED_VALIDATE included: anonymous memory has no flags to validate.
        throw err('EINVAL', 'exactly one of MAP_SHARED and MAP_PRIVATE');
    }
  }
  // do_mmap: MAP_NORESERVE is honoured unless overcommit is strict.
  if ((flags & MAP_NORESERVE) !== 0 && mm.commit.mode !== 2) vmFlags |= VM_NORESERVE;
  // mmap_zero: a shared mapping of /dev/zero open for writing (VM_SHARED) is shared memory
  // (shmem_zero_setup: "/dev/zero (deleted)"); any other stays a mapping of /dev/zero itself, whose
  // pages are anonymous (vma_set_anonymous) — here they fault from its empty page cache, zeroes too.
  if (kind === 'zero' && (vmFlags & VM_SHARED) !== 0) file = null;
  const fixed = (flags & MAP_FIXED) !== 0;
  return mmapRegion(mm, { start, length, vmFlags, file, pgoffBytes: Number(pgoff) * PAGE_SIZE, droppable, fixed });
}

/**
 * ksys_mmap_pgoff's MAP_HUGETLB: on a file that is not hugetlbfs EINVAL; anonymous, the length
 * rounds up to the huge page and hugetlb_file_setup reserves the pages (hugetlb_reserve_pages),
 * ENOMEM when the pool (vm.nr_hugepages, the commit's hugetlbPages) is short. Mapping huge pages
 * is not modelled: a reservation the pool could meet is refused with ENOSYS, saying so.
 */
function hugetlbLength(mm: MmStruct, len: number, flags: number, isFile: boolean): number {
  if ((flags & MAP_HUGETLB) === 0) return len;
  if (isFile) throw err('EINVAL', 'MAP_HUGETLB on a file outside hugetlbfs');
  // hstate_sizelog: MAP_HUGE_SHIFT's log2 of the page size; 0 is the default (2 MiB), x86-64 has
  // 2 MiB and 1 GiB pages, any other size has no hstate (EINVAL).
  const log = Math.floor(flags / 2 ** 26) % 64;
  if (log !== 0 && log !== 21 && log !== 30) throw err('EINVAL', `no huge page size 2^${log}`);
  const size = log === 30 ? 1024 * 1024 * 1024 : HPAGE_SIZE;
  const huge = Math.ceil(len / size) * size;
  if (huge / PAGE_SIZE > mm.commit.hugetlbPages) throw err('ENOMEM', 'no huge pages reserved for MAP_HUGETLB');
  throw err('ENOSYS', 'hugetlb mappings are not modelled');
}

/** do_mmap's checks for a file mapping, in its order; the vm_flags it leaves. */
function fileFlags(vmFlags: number, flags: number, prot: number, mode: MmapFileMode, kind: NonNullable<MmapFileMode['kind']>): number {
  switch (flags & MAP_TYPE) {
    case MAP_SHARED:
    case MAP_SHARED_VALIDATE:
      // MAP_SHARED drops what it does not know; MAP_SHARED_VALIDATE refuses it.
      if ((flags & MAP_TYPE) === MAP_SHARED_VALIDATE && (flags & ~LEGACY_MAP_MASK) !== 0) throw err('EOPNOTSUPP', 'MAP_SHARED_VALIDATE with a flag the file does not support');
      if ((prot & PROT_WRITE) !== 0 && !mode.write) throw err('EACCES', 'shared writable mapping of a file not open for writing');
      vmFlags |= VM_SHARED | VM_MAYSHARE;
      // A file not open for writing gives a shared mapping neither VM_MAYWRITE nor VM_SHARED (smaps "rd mr me ms").
      if (!mode.write) vmFlags &= ~(VM_MAYWRITE | VM_SHARED);
      break;
    case MAP_PRIVATE:
      break;
    default:
      // MAP_DROPPABLE is for anonymous memory only.
      throw err('EINVAL', 'exactly one of MAP_SHARED and MAP_PRIVATE');
  }
  if (!mode.read) throw err('EACCES', 'file not open for reading');
  if (kind === 'directory') throw err('ENODEV', 'a directory has no mmap operation');
  // drivers/char/mem.c: null_fops has no mmap (/dev/zero's mmap_zero is the only one of the two).
  if (kind === 'null') throw err('ENODEV', '/dev/null has no mmap operation');
  if ((vmFlags & VM_GROWSDOWN) !== 0) throw err('EINVAL', 'MAP_GROWSDOWN on a file');
  return vmFlags;
}

interface Region { start: number; length: number; vmFlags: number; file: VmFile | null; pgoffBytes: number; droppable: boolean; fixed: boolean }

/** __mmap_region: the charge, the replaced range, the new area. */
function mmapRegion(mm: MmStruct, r: Region): number {
  const { start, length, droppable, fixed } = r;
  let { vmFlags, file, pgoffBytes } = r;
  const replaced = fixed ? accountedPages(mm, start, start + length) : 0;
  // may_expand_vm: RLIMIT_AS over total_vm, RLIMIT_DATA over data_vm, net of what MAP_FIXED replaces.
  if (!mayExpandVm(mm, vmFlags, (length - (fixed ? mappedBytes(mm, start, start + length) : 0)) / PAGE_SIZE)) throw err('ENOMEM', 'RLIMIT_AS or RLIMIT_DATA would be exceeded');
  // __mmap_region: accountable_mapping (private, writable, reserving) is charged, net of the
  // accounted pages the MAP_FIXED range replaces; a refusal is ENOMEM with nothing changed.
  if ((vmFlags & (VM_SHARED | VM_WRITE | VM_NORESERVE)) === VM_WRITE) {
    if (!mm.commit.charge(length / PAGE_SIZE - replaced, mm.totalVm)) throw err('ENOMEM', 'overcommit refused the mapping');
    vmFlags |= VM_ACCOUNT;
  } else if (replaced > 0) {
    mm.commit.uncharge(replaced);
  }
  const shared = file === null && (vmFlags & VM_SHARED) !== 0;
  // shmem_acct_size: shared anonymous memory is charged for its whole size unless VM_NORESERVE.
  const shmemCharge = shared && (vmFlags & VM_NORESERVE) === 0 ? length / PAGE_SIZE : 0;
  if (shmemCharge > 0 && !mm.commit.charge(shmemCharge, mm.totalVm)) {
    if ((vmFlags & VM_ACCOUNT) !== 0) mm.commit.uncharge(length / PAGE_SIZE - replaced);
    throw err('ENOMEM', 'overcommit refused the shared memory');
  }
  if (fixed) unmapRange(mm, start, start + length, false);
  // do_mmap: shared anonymous memory ignores pgoff (0) and mmap_region backs it with a fresh
  // shmem file (mm/shmem.c shmem_zero_setup), so two such areas never merge.
  if (shared) {
    file = { path: '/dev/zero (deleted)', dev: mm.shmemDev, ino: mm.shmemInode() };
    pgoffBytes = 0;
    mm.shmem.set(file, { mapped: 0, charged: shmemCharge });
  }
  // mmap_region: anonymous private areas get pgoff = addr >> PAGE_SHIFT, which makes neighbours contiguous.
  const pgoff = file === null ? start / PAGE_SIZE : pgoffBytes / PAGE_SIZE;
  const v = new VmArea(start, start + length, vmFlags, pgoff, file);
  v.droppable = droppable;
  // A locked mapping counts in locked_vm (special areas drop the lock flags instead).
  if ((vmFlags & VM_LOCKED) !== 0) {
    if ((vmFlags & VM_SPECIAL) !== 0) v.flags &= ~(VM_LOCKED | VM_LOCKONFAULT);
    else mm.lockedVm += length / PAGE_SIZE;
  }
  mm.mapped(v, length);
  vmaMerge(mm, v);
  // A locked mapping is populated (do_mmap's *populate): its pages fault in.
  populateAreas(mm, start, start + length);
  return start;
}

/**
 * mm/huge_memory.c __thp_get_unmapped_area: search for the length plus a huge page, then place the
 * mapping where its offset meets a huge page boundary — the top one of the padded gap when the gap
 * starts aligned (top-down) — or, if the padded search fails, the plain search.
 */
function thpUnmappedArea(mm: MmStruct, length: number, flags: number): number {
  // Anonymous memory: the offset is 0 whatever the caller passed (the host places a mapping with
  // offset 0x1000 on a 2 MiB boundary all the same).
  const off = 0;
  let ret: number;
  try {
    ret = getUnmappedArea(mm, 0, length + HPAGE_SIZE, flags);
  } catch {
    return getUnmappedArea(mm, 0, length, flags);
  }
  const offSub = (((off - ret) % HPAGE_SIZE) + HPAGE_SIZE) % HPAGE_SIZE;
  return offSub === 0 ? ret + HPAGE_SIZE : ret + offSub;
}

/** round_hint_to_min: hints below mmap_min_addr are raised to it. */
function roundHint(mm: MmStruct, addr: number): number {
  addr = pageDown(addr);
  return addr !== 0 && addr < mm.mmapMinAddr ? pageAlign(mm.mmapMinAddr) : addr;
}

/**
 * may_expand_vm (mm/mmap.c): total_vm + npages within RLIMIT_AS, and for data mappings (private
 * writable, not stack) data_vm + npages within RLIMIT_DATA — except Valgrind's RLIMIT_DATA 0,
 * judged against the hard limit.
 */
export function mayExpandVm(mm: MmStruct, flags: number, npages: number): boolean {
  if (mm.totalVm + npages > Math.floor(mm.rlimit.as.cur / PAGE_SIZE)) return false;
  const data = (flags & (VM_WRITE | VM_SHARED | VM_GROWSDOWN)) === VM_WRITE;
  if (data && mm.dataVm + npages > Math.floor(mm.rlimit.data.cur / PAGE_SIZE)) {
    return mm.rlimit.data.cur === 0 && mm.dataVm + npages <= Math.floor(mm.rlimit.data.max / PAGE_SIZE);
  }
  return true;
}

/** Bytes mapped inside [start, end). */
function mappedBytes(mm: MmStruct, start: number, end: number): number {
  let n = 0;
  for (const v of mm.vmas.overlapping(start, end)) n += Math.min(v.end, end) - Math.max(v.start, start);
  return n;
}

/** Pages of VM_ACCOUNT areas inside [start, end). */
function accountedPages(mm: MmStruct, start: number, end: number): number {
  let n = 0;
  for (const v of mm.vmas.overlapping(start, end)) {
    if ((v.flags & VM_ACCOUNT) !== 0) n += (Math.min(v.end, end) - Math.max(v.start, start)) / PAGE_SIZE;
  }
  return n;
}

/** arch_get_unmapped_area_topdown. */
export function getUnmappedArea(mm: MmStruct, addr: number, len: number, flags: number): number {
  if (len > mm.taskSize - mm.mmapMinAddr) throw err('ENOMEM', 'length exceeds TASK_SIZE');
  if ((flags & MAP_FIXED) !== 0) {
    // __get_unmapped_area: the range first (ENOMEM), then the alignment (EINVAL).
    if (addr > mm.taskSize - len) throw err('ENOMEM', 'MAP_FIXED range beyond TASK_SIZE');
    if (addr % PAGE_SIZE !== 0) throw err('EINVAL', 'MAP_FIXED address not page aligned');
    return addr;
  }
  if ((flags & MAP_32BIT) !== 0) return bottomUp32(mm, addr, len);
  if (addr !== 0) {
    addr = pageAlign(addr);
    // The hint is taken when [addr, addr + len) is free and ends below vm_start_gap of the next area.
    if (mm.taskSize - len >= addr && addr >= mm.mmapMinAddr && mm.vmas.overlapping(addr, addr + len).length === 0 && clearOfStackGap(mm, addr, len)) return addr;
  }
  const low = Math.max(PAGE_SIZE, mm.mmapMinAddr);
  let high = mm.mmapBase;
  let a = mm.vmas.findGap({ length: len, alignment: PAGE_SIZE, low, high, topDown: true });
  // vm_unmapped_area measures gaps up to vm_start_gap(next): below a VM_GROWSDOWN area the stack
  // guard gap is not free. Search again under it until the candidate is clear.
  while (a >= 0 && !clearOfStackGap(mm, a, len)) {
    high = vmStartGap(mm.vmas.find(a + len)!);
    a = mm.vmas.findGap({ length: len, alignment: PAGE_SIZE, low, high, topDown: true });
  }
  if (a < 0) {
    // Bottom-up fallback from TASK_UNMAPPED_BASE (a third of TASK_SIZE).
    a = mm.vmas.findGap({ length: len, alignment: PAGE_SIZE, low: pageAlign(Math.floor(mm.taskSize / 3)), high: mm.taskSize, topDown: false });
  }
  if (a < 0) throw err('ENOMEM', 'no gap large enough');
  return a;
}

/**
 * arch/x86/kernel/sys_x86_64.c: MAP_32BIT goes to arch_get_unmapped_area (bottom-up), whose
 * find_start_end gives [1 GiB, 2 GiB) (plus a random offset only with ASLR on); a hint is still
 * taken when it fits below 2 GiB.
 */
function bottomUp32(mm: MmStruct, addr: number, len: number): number {
  const [begin, end] = [0x40000000, 0x80000000];
  if (len > end) throw err('ENOMEM', 'length exceeds the MAP_32BIT range');
  if (addr !== 0) {
    addr = pageAlign(addr);
    if (end - len >= addr && mm.vmas.overlapping(addr, addr + len).length === 0 && clearOfStackGap(mm, addr, len)) return addr;
  }
  const a = mm.vmas.findGap({ length: len, alignment: PAGE_SIZE, low: begin, high: end, topDown: false });
  if (a < 0) throw err('ENOMEM', 'no gap in the first 2 GiB');
  return a;
}

/** True when [addr, addr + len) ends at or below vm_start_gap of the area above it. */
function clearOfStackGap(mm: MmStruct, addr: number, len: number): boolean {
  const next = mm.vmas.find(addr + len);
  return next === undefined || (next.flags & VM_GROWSDOWN) === 0 || addr + len <= vmStartGap(next);
}

/**
 * expand_downwards (called from lock_mm_and_find_vma): `v` is the area above a fault at `addr`; a
 * VM_GROWSDOWN area grows down to it within RLIMIT_STACK, keeping stack_guard_gap above the
 * previous area, charged when accounted. The grown area, or null (SEGV_MAPERR).
 */
export function expandDownwards(mm: MmStruct, v: VmArea, addr: number): VmArea | null {
  if ((v.flags & VM_GROWSDOWN) === 0) return null;
  const newStart = pageDown(addr);
  if (newStart < mm.mmapMinAddr || v.end - newStart > mm.rlimit.stack.cur) return null;
  // The previous area must end at least stack_guard_gap below the new start.
  for (const prev of mm.vmas.overlapping(Math.max(0, newStart - STACK_GUARD_GAP), newStart)) {
    if ((prev.flags & VM_GROWSDOWN) === 0) return null;
  }
  const grow = v.start - newStart;
  if ((v.flags & VM_ACCOUNT) !== 0 && !mm.commit.charge(grow / PAGE_SIZE, mm.totalVm)) return null;
  mm.vmas.remove(v);
  // The area keeps its anon_vma; its pgoff moves down with its start.
  const grown = v.slice(newStart, v.end);
  mm.vmas.insert(grown);
  mm.statAccount(v.flags, grow / PAGE_SIZE);
  return grown;
}

// ---- munmap -----------------------------------------------------------------------------------

/** __vm_munmap's checks, then do_vmi_align_munmap (vma.ts). */
export function doMunmap(mm: MmStruct, start: number, len: number): number {
  if (start % PAGE_SIZE !== 0 || start > mm.taskSize || len > mm.taskSize - start) throw err('EINVAL', 'bad range');
  const end = start + pageAlign(len);
  if (end === start) throw err('EINVAL', 'zero length');
  unmapRange(mm, start, end);
  return 0;
}

// ---- brk --------------------------------------------------------------------------------------

/** brk(2): returns the new break, or the old one when the request cannot be met (never an errno). */
export function doBrk(mm: MmStruct, requested: number): number {
  if (requested < mm.startBrk) return mm.brk;
  // check_data_rlimit: the heap and the data segment together within RLIMIT_DATA.
  if (requested - mm.startBrk + (mm.endData - mm.startData) > mm.rlimit.data.cur) return mm.brk;
  const newBrk = pageAlign(requested);
  const oldBrk = pageAlign(mm.brk);
  if (oldBrk === newBrk) {
    mm.brk = requested;
    return mm.brk;
  }
  if (requested <= mm.brk) {
    unmapRange(mm, newBrk, oldBrk);
    mm.brk = requested;
    return mm.brk;
  }
  // check_brk_limits → get_unmapped_area → security_mmap_addr: no heap below mmap_min_addr (a
  // process that was never exec'd has start_brk 0, so its brk cannot grow).
  if (oldBrk < mm.mmapMinAddr) return mm.brk;
  // Growing must leave a page (and the stack guard gap) before the next area.
  const next = mm.vmas.find(oldBrk);
  if (next !== undefined && newBrk + PAGE_SIZE > vmStartGap(next)) return mm.brk;
  // check_brk_limits: mlockall(MCL_FUTURE) would lock the new pages (mlock_future_ok).
  if (!mlockFutureOk(mm, mm.defFlags, newBrk - oldBrk)) return mm.brk;
  const flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT | mm.defFlags;
  // do_brk_flags: may_expand_vm, max_map_count, then the charge; a refusal leaves the break where it was.
  if (!mayExpandVm(mm, flags, (newBrk - oldBrk) / PAGE_SIZE)) return mm.brk;
  // "if (mm->map_count > sysctl_max_map_count)": at the limit the heap may still grow (host 6.18).
  if (mm.mapCount > mm.maxMapCount) return mm.brk;
  if (!mm.commit.charge((newBrk - oldBrk) / PAGE_SIZE, mm.totalVm)) return mm.brk;
  const heap = new VmArea(oldBrk, newBrk, flags, oldBrk / PAGE_SIZE);
  if ((flags & VM_LOCKED) !== 0) mm.lockedVm += (newBrk - oldBrk) / PAGE_SIZE;
  mm.mapped(heap, newBrk - oldBrk);
  if (mm.variant === 'linux-5.15') vmaMerge(mm, heap);
  else brkExpand(mm, heap);
  // brk: mm_populate when def_flags has VM_LOCKED.
  populateAreas(mm, oldBrk, newBrk);
  mm.brk = requested;
  return mm.brk;
}

/**
 * 6.1+ do_brk_flags: only the area brk() found with vma_prev_limit(start_brk) — one at or above
 * start_brk ending at the old break — may be expanded (vma_merge_new_range, just_expand); else the
 * pages are a new area, never merged with the bss below start_brk nor with the area above. (5.15
 * calls vma_merge with whatever area precedes the old break, so a first brk grows the bss.)
 */
function brkExpand(mm: MmStruct, heap: VmArea): void {
  const prev = mm.vmas.find(heap.start - 1);
  if (prev !== undefined && prev.start >= mm.startBrk && prev.end === heap.start && mergeable(prev, heap)) {
    mm.vmas.remove(prev);
    mm.vmas.insert(prev.slice(prev.start, heap.end));
    return;
  }
  mm.vmas.insert(heap);
}

/**
 * vm_brk_flags as exec uses it for a segment's bss pages: anonymous data memory at a fixed place
 * (VM_DATA_DEFAULT_FLAGS | VM_ACCOUNT, VM_EXEC when the segment asks for it), merged with an
 * anonymous area just below it as do_brk_flags does.
 */
export function vmBrkFlags(mm: MmStruct, addr: number, len: number, exec: boolean): void {
  if (len === 0) return;
  if (mm.mapCount > mm.maxMapCount) throw err('ENOMEM', 'max_map_count reached');
  if (!mm.commit.charge(len / PAGE_SIZE, mm.totalVm)) throw err('ENOMEM', 'commit limit');
  const flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT | (exec ? VM_EXEC : 0);
  const v = new VmArea(addr, addr + len, flags, addr / PAGE_SIZE);
  mm.mapped(v, len);
  vmaMerge(mm, v);
}

// ---- the system calls, with their page-table work (zap_page_range, exit_mmap) -------------------

/** mmap(2) (ksys_mmap_pgoff → vm_mmap_pgoff): the fd's file, do_mmap, then the pages of what MAP_FIXED replaced go. */
export function sysMmap(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  return call(ctx, () => {
    const [addr, len, prot, flags, fd] = [ulong(a[0]), ulong(a[1]), uint(a[2]), uint(a[3]), int(a[4] ?? -1)];
    const m = machineOf(ctx.kernel);
    const s = ctx.process.space;
    const off = reg(a[5] ?? 0) ?? 0n;
    // arch/x86/kernel/sys_x86_64.c: the offset's alignment comes before the descriptor.
    if (off % BigInt(PAGE_SIZE) !== 0n) return ctx.fail('EINVAL', 'offset not page aligned');
    let file: VmFile | null = null;
    let mode: MmapFileMode | undefined;
    if ((flags & MAP_ANONYMOUS) === 0) {
      // Without MAP_ANONYMOUS the fd must name an open file (fs/file.c fget → EBADF).
      const open = ctx.process.file(fd);
      if (open === null) return ctx.fail('EBADF', `fd ${fd} is not open`);
      // A pipe has no mmap file operation (do_mmap: ENODEV).
      if (open.device === 'pipe') return ctx.fail('ENODEV', 'a pipe cannot be mapped');
      file = vmFileOf(m, open);
      mode = { read: open.readable, write: open.writable, kind: open.device === 'zero' || open.device === 'null' ? open.device : 'regular' };
    }
    const replaced = shmemIn(m, s, addr, addr + pageAlign(len));
    const r = s.mm.mmap(addr, len, prot, flags, file, off, mode);
    // MAP_FIXED replaced whatever was there: its pages go (the new area starts empty).
    zap(m, ctx.process, ctx.thread.cpu, r, r + pageAlign(len));
    dropGuards(s, r, r + pageAlign(len));
    releaseUnmapped(m, s, replaced);
    // do_mmap's *populate: MAP_POPULATE, or a locked (not on-fault) mapping with some access.
    const v = s.mm.vmas.lookup(r);
    const locked = v !== undefined && (v.flags & (VM_LOCKED | VM_LOCKONFAULT)) === VM_LOCKED && (v.flags & (VM_READ | VM_WRITE | VM_EXEC)) !== 0;
    if ((flags & MAP_POPULATE) !== 0 || locked) populate(ctx.kernel, ctx.thread, r, r + pageAlign(len));
    return r;
  });
}

/** munmap(2) (__vm_munmap): the pages go first (their rss type is read from the areas), then the areas. */
export function sysMunmap(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  return call(ctx, () => {
    const [addr, len] = [ulong(a[0]), ulong(a[1])];
    // Zap before the areas go (the rss type is read from them), only once the call is valid.
    const s = ctx.process.space;
    if (addr % PAGE_SIZE !== 0 || len === 0 || addr > s.mm.taskSize || len > s.mm.taskSize - addr) return s.mm.munmap(addr, len);
    const m = machineOf(ctx.kernel);
    const files = shmemIn(m, s, addr, addr + pageAlign(len));
    zap(m, ctx.process, ctx.thread.cpu, addr, addr + pageAlign(len));
    const r = s.mm.munmap(addr, len);
    dropGuards(s, addr, addr + pageAlign(len));
    releaseUnmapped(m, s, files);
    return r;
  });
}

/** brk(2): the heap grows or shrinks; a shrink zaps the pages given up. */
export function sysBrk(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  const s = ctx.process.space;
  const old = s.mm.brk;
  const r = s.mm.brkSyscall(ulong(a[0]));
  if (r < old) {
    zap(machineOf(ctx.kernel), ctx.process, ctx.thread.cpu, pageAlign(r), pageAlign(old));
    dropGuards(s, pageAlign(r), pageAlign(old));
  }
  return r;
}

/** exit_mmap: every page, swap entry and area of the space goes, with its charges. */
export function exitMmap(m: LinuxMachine, s: LinuxSpace): void {
  const zero = m.zeroPage();
  const frames = m.kernel.mmu.frames;
  s.pt.destroy((_va, frame, _size, flags) => {
    unmapFilePage(m, frame, flags);
    if (frame !== zero && (flags & PTE_PFN) === 0 && frames.unref(frame) === 0) {
      frames.free(frame);
      forgetFrame(m, frame);
    }
  });
  zapSwap(m, s, 0, s.mm.taskSize);
  // exit_mmap: every area goes, returning its commit charge and its shmem file's pages.
  const files = shmemIn(m, s, 0, s.mm.taskSize);
  for (const v of [...s.mm.vmas.iterateFrom(0)]) s.mm.munmap(v.start, v.length);
  releaseUnmapped(m, s, files);
  s.rss = { anon: 0, file: 0, shmem: 0 };
}
