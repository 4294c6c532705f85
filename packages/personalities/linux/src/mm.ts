/**
 * mm_struct and the address-space system calls of Linux 6.x (mm/mmap.c, mm/vma.c, mm/mprotect.c,
 * arch/x86/mm/mmap.c): mmap with get_unmapped_area (top-down from mmap_base, hints, MAP_FIXED and
 * MAP_FIXED_NOREPLACE), munmap and mprotect with split_vma and vma_merge, and brk. Results follow
 * the kernel's order of checks, so the errno for a bad call is the one Linux returns.
 *
 * The stack guard gap below VM_GROWSDOWN areas is kept by brk, hints and the gap search alike.
 */
import { KernelError, pageDown, type LinuxErrnoName } from '@polykernel/core';
import { createIndex, type AddressSpaceIndex } from '@polykernel/vm';
import {
  MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_GROWSDOWN, MAP_NORESERVE, MAP_PRIVATE, MAP_SHARED, MAP_SHARED_VALIDATE, MAP_TYPE,
  PAGE_SIZE, PROT_EXEC, PROT_SEM, PROT_READ, PROT_WRITE, VM_ACCOUNT, VM_EXEC, VM_GROWSDOWN, VM_MAYEXEC, VM_MAYREAD, VM_MAYSHARE,
  VM_MAYWRITE, VM_NORESERVE, VM_IO, VM_DONTDUMP, VM_DONTCOPY, MREMAP_DONTUNMAP, MREMAP_FIXED, MREMAP_MAYMOVE, VM_DONTEXPAND, VM_PFNMAP, VM_READ, VM_SHARED, VM_SPECIAL, VM_WRITE,
} from './flags.js';
import { VmCommit } from './commit.js';
import { VmArea, type VmFile } from './vma.js';

export interface MmOptions {
  /** `linux-5.15` keeps VMAs in a red-black tree with the vmacache; `linux-6.x` in the maple tree. */
  variant?: 'linux-5.15' | 'linux-6.x';
  /** TASK_SIZE: 47-bit user space on x86-64 (0x7ffffffff000). */
  taskSize?: number;
  mmapMinAddr?: number;
  /** Top of the stack; mmap_base sits below it by max(RLIMIT_STACK + guard gap, 128 MiB). */
  stackTop?: number;
  stackRlimit?: number;
  maxMapCount?: number;
  /**
   * Inode numbers for shared anonymous memory (shmem_zero_setup gives each such mapping a shmem
   * file "/dev/zero (deleted)" whose inode comes from get_next_ino). Defaults to a counter from 1.
   */
  shmemInode?: () => number;
  /** Device of the internal shmem mount, 00:01 on a stock kernel. */
  shmemDev?: [number, number];
  /** The machine's overcommit accounting, shared by every mm on it; a private one by default. */
  commit?: VmCommit;
}

const MIB = 1024 * 1024;
const STACK_GUARD_GAP = 256 * PAGE_SIZE;

export class MmStruct {
  readonly vmas: AddressSpaceIndex<VmArea>;
  readonly taskSize: number;
  readonly mmapMinAddr: number;
  readonly mmapBase: number;
  readonly maxMapCount: number;
  readonly stackRlimit: number;
  startBrk = 0;
  brk = 0;
  /** Counter for anon_vma identities: split halves share one, separately faulted areas do not. */
  private nextAnonVma = 1;
  private readonly shmemInode: () => number;
  private readonly shmemDev: [number, number];
  readonly commit: VmCommit;
  /** total_vm in pages, and its split by kind (vm_stat_account): data_vm, stack_vm, exec_vm. */
  totalVm = 0;
  dataVm = 0;
  stackVm = 0;
  execVm = 0;
  /** hiwater_vm: total_vm's high-water mark, updated before each unmap as update_hiwater_vm does. */
  hiwaterVm = 0;
  /** start_code / end_code of the executable (exec sets them; VmExe and VmLib derive from them). */
  startCode = 0;
  endCode = 0;
  /** start_data / end_data and start_stack (bprm->p after the strings), set by exec. */
  startData = 0;
  endData = 0;
  startStack = 0;
  /** Where exec put the argument and environment strings (arg_start .. env_end). */
  argStart = 0;
  argEnd = 0;
  envStart = 0;
  envEnd = 0;
  /** Whether /proc/<pid>/maps shows x86-64's [vsyscall] gate area (every exec'd x86-64 task has it). */
  gateArea = false;
  /** Bytes still mapped of each shmem file and what it charged (shmem_acct_size), for the uncharge at eviction. */
  private readonly shmem = new Map<VmFile, { mapped: number; charged: number }>();

  constructor(opts: MmOptions = {}) {
    this.vmas = createIndex<VmArea>((opts.variant ?? 'linux-6.x') === 'linux-5.15' ? 'rbtree' : 'btree');
    this.taskSize = opts.taskSize ?? 0x7ffffffff000;
    this.mmapMinAddr = opts.mmapMinAddr ?? 65536;
    this.maxMapCount = opts.maxMapCount ?? 65530;
    let ino = 1;
    this.shmemInode = opts.shmemInode ?? ((): number => ino++);
    this.shmemDev = opts.shmemDev ?? [0, 1];
    this.commit = opts.commit ?? new VmCommit();
    // arch/x86/mm/mmap.c mmap_base: gap = RLIMIT_STACK + guard gap, clamped to [128 MiB, 5/6 TASK_SIZE].
    const stackTop = opts.stackTop ?? this.taskSize;
    this.stackRlimit = opts.stackRlimit ?? 8 * MIB;
    let gap = this.stackRlimit + STACK_GUARD_GAP;
    gap = Math.min(Math.max(gap, 128 * MIB), Math.floor(this.taskSize / 6) * 5);
    this.mmapBase = pageAlign(stackTop - gap);
  }

  get mapCount(): number {
    return this.vmas.size;
  }

  /** Insert an area as exec or a test's starting state would (no merging). */
  addArea(v: VmArea): void {
    if (!this.vmas.insert(v)) throw new RangeError(`area [0x${v.start.toString(16)}, 0x${v.end.toString(16)}) overlaps`);
    this.statAccount(v.flags, v.length / PAGE_SIZE);
    if ((v.flags & VM_ACCOUNT) !== 0) this.commit.committed += v.length / PAGE_SIZE;
  }

  /** Mark an area as faulted (anon_vma_prepare): it now has an anon_vma of its own. */
  touch(addr: number): void {
    const v = this.vmas.lookup(addr);
    if (v !== undefined) this.prepareAnon(v);
  }

  /** anon_vma_prepare on an area already found (the fault path has it in hand). */
  prepareAnon(v: VmArea): void {
    if (v.anonVma === 0) v.anonVma = this.nextAnonVma++;
  }

  /**
   * The area a fault at `addr` belongs to, growing a VM_GROWSDOWN area down to it when `addr` is
   * just below one (mm/mmap.c lock_mm_and_find_vma → expand_downwards: within RLIMIT_STACK, keeping
   * stack_guard_gap above the previous area, charged when accounted). Null: SEGV_MAPERR.
   */
  findForFault(addr: number): VmArea | null {
    const v = this.vmas.find(addr);
    if (v === undefined) return null;
    if (v.start <= addr) return v;
    if ((v.flags & VM_GROWSDOWN) === 0) return null;
    const newStart = pageDown(addr);
    if (newStart < this.mmapMinAddr || v.end - newStart > this.stackRlimit) return null;
    // The previous area must end at least stack_guard_gap below the new start.
    for (const prev of this.vmas.overlapping(Math.max(0, newStart - STACK_GUARD_GAP), newStart)) {
      if ((prev.flags & VM_GROWSDOWN) === 0) return null;
    }
    const grow = v.start - newStart;
    if ((v.flags & VM_ACCOUNT) !== 0 && !this.commit.charge(grow / PAGE_SIZE, this.totalVm)) return null;
    this.vmas.remove(v);
    // The area keeps its anon_vma; its pgoff moves down with its start.
    const grown = v.slice(newStart, v.end);
    this.vmas.insert(grown);
    this.statAccount(v.flags, grow / PAGE_SIZE);
    return grown;
  }


  // ---- mmap -----------------------------------------------------------------------------------

  /** mmap(2) for anonymous memory (file mappings arrive with the page cache). Returns the address. */
  mmap(addr: number, len: number, prot: number, flags: number, file: VmFile | null = null, pgoffBytes = 0, fileMode?: { read: boolean; write: boolean }): number {
    if (pgoffBytes % PAGE_SIZE !== 0) throw err('EINVAL', 'offset not page aligned');
    if (len === 0) throw err('EINVAL', 'zero length');
    if ((flags & MAP_FIXED) === 0) addr = this.roundHint(addr);
    if ((flags & MAP_FIXED_NOREPLACE) !== 0) flags |= MAP_FIXED;
    const length = pageAlign(len);
    if (!Number.isSafeInteger(length) || length === 0) throw err('ENOMEM', 'length overflows');
    if (this.mapCount > this.maxMapCount) throw err('ENOMEM', 'max_map_count reached');
    const start = this.getUnmappedArea(addr, length, flags);
    if ((flags & MAP_FIXED_NOREPLACE) !== 0 && this.vmas.overlapping(start, start + length).length > 0) throw err('EEXIST', 'MAP_FIXED_NOREPLACE over an existing mapping');
    let vmFlags = protToVm(prot) | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
    switch (flags & MAP_TYPE) {
      case MAP_SHARED:
      case MAP_SHARED_VALIDATE:
        vmFlags |= VM_SHARED | VM_MAYSHARE;
        break;
      case MAP_PRIVATE:
        break;
      default:
        throw err('EINVAL', 'exactly one of MAP_SHARED and MAP_PRIVATE');
    }
    // do_mmap's file checks: a shared writable mapping needs a file open for writing; a file not
    // open for writing gives a shared mapping neither VM_MAYWRITE nor VM_SHARED (it stays
    // VM_MAYSHARE: smaps "rd mr me ms"); every file mapping needs a file open for reading.
    if (file !== null && fileMode !== undefined) {
      if ((vmFlags & VM_MAYSHARE) !== 0) {
        if ((prot & PROT_WRITE) !== 0 && !fileMode.write) throw err('EACCES', 'shared writable mapping of a file not open for writing');
        if (!fileMode.write) vmFlags &= ~(VM_MAYWRITE | VM_SHARED);
      }
      if (!fileMode.read) throw err('EACCES', 'file not open for reading');
    }
    if ((flags & MAP_GROWSDOWN) !== 0) vmFlags |= VM_GROWSDOWN;
    // do_mmap: MAP_NORESERVE is honoured unless overcommit is strict.
    if ((flags & MAP_NORESERVE) !== 0 && this.commit.mode !== 2) vmFlags |= VM_NORESERVE;
    const replaced = (flags & MAP_FIXED) !== 0 ? this.accountedPages(start, start + length) : 0;
    // __mmap_region: accountable_mapping (private, writable, reserving) is charged, net of the
    // accounted pages the MAP_FIXED range replaces; a refusal is ENOMEM with nothing changed.
    if ((vmFlags & (VM_SHARED | VM_WRITE | VM_NORESERVE)) === VM_WRITE) {
      if (!this.commit.charge(length / PAGE_SIZE - replaced, this.totalVm)) throw err('ENOMEM', 'overcommit refused the mapping');
      vmFlags |= VM_ACCOUNT;
    } else if (replaced > 0) {
      this.commit.uncharge(replaced);
    }
    const shared = file === null && (vmFlags & VM_SHARED) !== 0;
    // shmem_acct_size: shared anonymous memory is charged for its whole size unless VM_NORESERVE.
    const shmemCharge = shared && (vmFlags & VM_NORESERVE) === 0 ? length / PAGE_SIZE : 0;
    if (shmemCharge > 0 && !this.commit.charge(shmemCharge, this.totalVm)) {
      if ((vmFlags & VM_ACCOUNT) !== 0) this.commit.uncharge(length / PAGE_SIZE - replaced);
      throw err('ENOMEM', 'overcommit refused the shared memory');
    }
    if ((flags & MAP_FIXED) !== 0) this.unmapRange(start, start + length, false);
    // do_mmap: shared anonymous memory ignores pgoff (0) and mmap_region backs it with a fresh
    // shmem file (mm/shmem.c shmem_zero_setup), so two such areas never merge.
    if (shared) {
      file = { path: '/dev/zero (deleted)', dev: this.shmemDev, ino: this.shmemInode() };
      pgoffBytes = 0;
      this.shmem.set(file, { mapped: 0, charged: shmemCharge });
    }
    // mmap_region: anonymous private areas get pgoff = addr >> PAGE_SHIFT, which makes neighbours contiguous.
    const pgoff = file === null ? start / PAGE_SIZE : pgoffBytes / PAGE_SIZE;
    const v = new VmArea(start, start + length, vmFlags, pgoff, file);
    this.mapped(v, length);
    this.insertMerged(v);
    return start;
  }

  private roundHint(addr: number): number {
    // round_hint_to_min: hints below mmap_min_addr are raised to it.
    addr = pageDown(addr);
    return addr !== 0 && addr < this.mmapMinAddr ? pageAlign(this.mmapMinAddr) : addr;
  }

  /** arch_get_unmapped_area_topdown. */
  getUnmappedArea(addr: number, len: number, flags: number): number {
    if (len > this.taskSize - this.mmapMinAddr) throw err('ENOMEM', 'length exceeds TASK_SIZE');
    if ((flags & MAP_FIXED) !== 0) {
      if (addr % PAGE_SIZE !== 0) throw err('EINVAL', 'MAP_FIXED address not page aligned');
      if (addr > this.taskSize - len) throw err('ENOMEM', 'MAP_FIXED range beyond TASK_SIZE');
      return addr;
    }
    if (addr !== 0) {
      addr = pageAlign(addr);
      // The hint is taken when [addr, addr + len) is free and ends below vm_start_gap of the next area.
      if (this.taskSize - len >= addr && addr >= this.mmapMinAddr && this.vmas.overlapping(addr, addr + len).length === 0 && this.clearOfStackGap(addr, len)) return addr;
    }
    const low = Math.max(PAGE_SIZE, this.mmapMinAddr);
    let high = this.mmapBase;
    let a = this.vmas.findGap({ length: len, alignment: PAGE_SIZE, low, high, topDown: true });
    // vm_unmapped_area measures gaps up to vm_start_gap(next): below a VM_GROWSDOWN area the stack
    // guard gap is not free. Search again under it until the candidate is clear.
    while (a >= 0 && !this.clearOfStackGap(a, len)) {
      high = vmStartGap(this.vmas.find(a + len)!);
      a = this.vmas.findGap({ length: len, alignment: PAGE_SIZE, low, high, topDown: true });
    }
    if (a < 0) {
      // Bottom-up fallback from TASK_UNMAPPED_BASE (a third of TASK_SIZE).
      a = this.vmas.findGap({ length: len, alignment: PAGE_SIZE, low: pageAlign(Math.floor(this.taskSize / 3)), high: this.taskSize, topDown: false });
    }
    if (a < 0) throw err('ENOMEM', 'no gap large enough');
    return a;
  }

  /** True when [addr, addr + len) ends at or below vm_start_gap of the area above it. */
  private clearOfStackGap(addr: number, len: number): boolean {
    const next = this.vmas.find(addr + len);
    return next === undefined || (next.flags & VM_GROWSDOWN) === 0 || addr + len <= vmStartGap(next);
  }

  // ---- munmap ---------------------------------------------------------------------------------

  munmap(start: number, len: number): number {
    if (start % PAGE_SIZE !== 0 || start > this.taskSize || len > this.taskSize - start) throw err('EINVAL', 'bad range');
    const end = start + pageAlign(len);
    if (end === start) throw err('EINVAL', 'zero length');
    this.unmapRange(start, end);
    return 0;
  }

  /**
   * do_vmi_align_munmap: split the areas straddling the ends, then drop everything inside,
   * returning their VM_ACCOUNT pages to Committed_AS unless the caller took them over (`uncharge`).
   */
  private unmapRange(start: number, end: number, uncharge = true): void {
    const hit = this.vmas.overlapping(start, end);
    if (hit.length === 0) return;
    this.hiwaterVm = Math.max(this.hiwaterVm, this.totalVm);
    const first = hit[0]!;
    const last = hit[hit.length - 1]!;
    // split_vma fails with ENOMEM when the split would exceed max_map_count.
    if (first.start < start && end < first.end && this.mapCount >= this.maxMapCount) throw err('ENOMEM', 'split would exceed max_map_count');
    if (first.start < start) this.split(first, start);
    if (last.end > end) this.split(this.vmas.lookup(end - 1)!, end);
    for (const v of this.vmas.overlapping(start, end)) {
      this.vmas.remove(v);
      if (uncharge && (v.flags & VM_ACCOUNT) !== 0) this.commit.uncharge(v.length / PAGE_SIZE);
      this.mapped(v, -v.length);
    }
  }

  /**
   * vm_stat_account (mm/mmap.c): total_vm, and exec_vm for VM_EXEC without VM_WRITE/VM_STACK,
   * stack_vm for VM_STACK (VM_GROWSDOWN on x86), data_vm for private writable non-stack memory.
   */
  private statAccount(flags: number, pages: number): void {
    this.totalVm += pages;
    if ((flags & (VM_EXEC | VM_WRITE | VM_GROWSDOWN)) === VM_EXEC) this.execVm += pages;
    else if ((flags & VM_GROWSDOWN) !== 0) this.stackVm += pages;
    else if ((flags & (VM_WRITE | VM_SHARED | VM_GROWSDOWN)) === VM_WRITE) this.dataVm += pages;
  }

  /** Pages of VM_ACCOUNT areas inside [start, end). */
  private accountedPages(start: number, end: number): number {
    let n = 0;
    for (const v of this.vmas.overlapping(start, end)) {
      if ((v.flags & VM_ACCOUNT) !== 0) n += (Math.min(v.end, end) - Math.max(v.start, start)) / PAGE_SIZE;
    }
    return n;
  }

  /** vm_stat_account for total_vm, and the shmem file's last unmap (shmem_unacct_size at eviction). */
  private mapped(v: VmArea, bytes: number): void {
    this.statAccount(v.flags, bytes / PAGE_SIZE);
    const shm = v.file === null ? undefined : this.shmem.get(v.file);
    if (shm === undefined) return;
    shm.mapped += bytes;
    if (shm.mapped === 0) {
      this.commit.uncharge(shm.charged);
      this.shmem.delete(v.file!);
    }
  }

  /** split_vma: cut `v` at `at` into two areas sharing its anon_vma. */
  private split(v: VmArea, at: number): void {
    this.vmas.remove(v);
    this.vmas.insert(v.slice(v.start, at));
    this.vmas.insert(v.slice(at, v.end));
  }

  // ---- mprotect -------------------------------------------------------------------------------

  mprotect(start: number, len: number, prot: number): number {
    if (start % PAGE_SIZE !== 0) throw err('EINVAL', 'start not page aligned');
    if (len === 0) return 0;
    const end = start + pageAlign(len);
    if (end <= start) throw err('ENOMEM', 'range wraps');
    // arch_validate_prot (include/linux/mman.h): PROT_SEM is accepted and ignored on x86.
    if ((prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM)) !== 0) throw err('EINVAL', 'unknown protection bits');
    const first = this.vmas.find(start);
    if (first === undefined || first.start > start) throw err('ENOMEM', 'range not mapped');
    let cursor = start;
    for (const v of this.vmas.overlapping(start, end)) {
      if (v.start > cursor) throw err('ENOMEM', 'hole in range'); // earlier areas stay changed, as in Linux
      const newFlags = protToVm(prot) | (v.flags & ~(VM_READ | VM_WRITE | VM_EXEC));
      // A permission not allowed by VM_MAY* is EACCES (e.g. PROT_WRITE on a read-only shared file).
      if ((newFlags & ~Math.floor(newFlags / 16) & (VM_READ | VM_WRITE | VM_EXEC)) !== 0) throw err('EACCES', 'protection exceeds VM_MAY* bits');
      const s = Math.max(v.start, start);
      const e = Math.min(v.end, end);
      this.fixup(v, s, e, newFlags);
      cursor = e;
    }
    if (cursor < end) throw err('ENOMEM', 'range not fully mapped');
    return 0;
  }

  /** mprotect_fixup: change the flags of [s, e) within `v`, splitting and merging as vma_modify does. */
  private fixup(v: VmArea, s: number, e: number, newFlags: number): void {
    const pages = (e - s) / PAGE_SIZE;
    let charged = 0;
    // mprotect_fixup: a private area turning writable is charged now; a never-faulted anonymous
    // one turning read-only gives its charge back (there is nothing in it to keep).
    if ((newFlags & VM_WRITE) !== 0) {
      if ((v.flags & (VM_ACCOUNT | VM_WRITE | VM_SHARED | VM_NORESERVE)) === 0) {
        if (!this.commit.charge(pages, this.totalVm)) throw err('ENOMEM', 'overcommit refused making the area writable');
        charged = pages;
        newFlags |= VM_ACCOUNT;
      }
    } else if ((v.flags & VM_ACCOUNT) !== 0 && v.file === null && v.anonVma === 0) {
      newFlags &= ~VM_ACCOUNT;
    }
    if (newFlags === v.flags) {
      if (charged > 0) this.commit.uncharge(charged);
      return;
    }
    if ((v.flags & VM_ACCOUNT) !== 0 && (newFlags & VM_ACCOUNT) === 0) this.commit.uncharge(pages);
    this.statAccount(v.flags, -pages);
    this.statAccount(newFlags, pages);
    let piece = v;
    if (v.start < s) {
      this.split(v, s);
      piece = this.vmas.lookup(s)!;
    }
    if (piece.end > e) {
      this.split(piece, e);
      piece = this.vmas.lookup(s)!;
    }
    this.vmas.remove(piece);
    piece.flags = newFlags;
    // Accounting follows the new flags (private writable memory is charged).
    this.insertMerged(piece);
  }

  // ---- mremap ---------------------------------------------------------------------------------

  /**
   * mremap(2) (mm/mremap.c): shrink in place, grow in place when the space after the area is free
   * (vma_expandable), otherwise move with MREMAP_MAYMOVE (move_vma) or to `newAddr` with
   * MREMAP_FIXED (mremap_to). MREMAP_DONTUNMAP (5.7+; any area but VM_DONTEXPAND/VM_PFNMAP since
   * 5.13) moves the pages to a new area of the same size and leaves the old area mapped and empty,
   * `newAddr` then being a hint. Returns the area's new address.
   */
  mremap(addr: number, oldLen: number, newLen: number, flags: number, newAddr = 0): number {
    if ((flags & ~(MREMAP_FIXED | MREMAP_MAYMOVE | MREMAP_DONTUNMAP)) !== 0) throw err('EINVAL', 'unknown mremap flags');
    if ((flags & MREMAP_FIXED) !== 0 && (flags & MREMAP_MAYMOVE) === 0) throw err('EINVAL', 'MREMAP_FIXED without MREMAP_MAYMOVE');
    // MREMAP_DONTUNMAP is always a move and does not resize (compared before page alignment).
    if ((flags & MREMAP_DONTUNMAP) !== 0 && ((flags & MREMAP_MAYMOVE) === 0 || oldLen !== newLen)) throw err('EINVAL', 'MREMAP_DONTUNMAP needs MREMAP_MAYMOVE and equal lengths');
    if (addr % PAGE_SIZE !== 0) throw err('EINVAL', 'address not page aligned');
    oldLen = pageAlign(oldLen);
    newLen = pageAlign(newLen);
    if (newLen === 0) throw err('EINVAL', 'zero new length');
    if ((flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) !== 0) return this.mremapTo(addr, oldLen, newLen, newAddr, (flags & MREMAP_FIXED) !== 0, (flags & MREMAP_DONTUNMAP) !== 0);
    // Shrinking (or same size) always succeeds in place: the tail is unmapped.
    if (oldLen >= newLen) {
      if (oldLen > newLen) this.unmapRange(addr + newLen, addr + oldLen);
      return addr;
    }
    const vma = this.vmaToResize(addr, oldLen, newLen);
    if (oldLen === vma.end - addr && this.expandable(vma, newLen - oldLen)) {
      const delta = newLen - oldLen;
      // An accounted area is charged for the pages it grows by.
      if ((vma.flags & VM_ACCOUNT) !== 0 && !this.commit.charge(delta / PAGE_SIZE, this.totalVm)) throw err('ENOMEM', 'overcommit refused the growth');
      this.vmas.remove(vma);
      const grown = vma.slice(vma.start, vma.end + delta);
      this.mapped(grown, delta);
      this.insertMerged(grown);
      return addr;
    }
    if ((flags & MREMAP_MAYMOVE) === 0) throw err('ENOMEM', 'cannot grow in place and MREMAP_MAYMOVE not given');
    const mapFlags = (vma.flags & VM_MAYSHARE) !== 0 ? MAP_SHARED : 0;
    const target = this.getUnmappedArea(0, newLen, mapFlags);
    return this.moveVma(vma, addr, oldLen, newLen, target);
  }

  /**
   * mremap_to: MREMAP_FIXED clears the destination first, as MAP_FIXED does, and moves there;
   * MREMAP_DONTUNMAP without it takes `newAddr` as a hint for get_unmapped_area.
   */
  private mremapTo(addr: number, oldLen: number, newLen: number, newAddr: number, fixed: boolean, dontUnmap: boolean): number {
    if (newAddr % PAGE_SIZE !== 0) throw err('EINVAL', 'new address not page aligned');
    if (newLen > this.taskSize || newAddr > this.taskSize - newLen) throw err('EINVAL', 'new range beyond TASK_SIZE');
    // Overlapping source and destination ranges are EINVAL.
    if (addr + oldLen > newAddr && newAddr + newLen > addr) throw err('EINVAL', 'source and destination overlap');
    if (fixed) this.unmapRange(newAddr, newAddr + newLen);
    if (oldLen > newLen) {
      this.unmapRange(addr + newLen, addr + oldLen);
      oldLen = newLen;
    }
    const vma = this.vmaToResize(addr, oldLen, newLen);
    if (dontUnmap && (vma.flags & (VM_DONTEXPAND | VM_PFNMAP)) !== 0) throw err('EINVAL', 'MREMAP_DONTUNMAP on a VM_DONTEXPAND or VM_PFNMAP area');
    const to = fixed ? newAddr : this.getUnmappedArea(newAddr, newLen, (vma.flags & VM_MAYSHARE) !== 0 ? MAP_SHARED : 0);
    return this.moveVma(vma, addr, oldLen, newLen, to, dontUnmap);
  }

  /** vma_to_resize: the area holding `addr` must cover the old range and be allowed to grow. */
  private vmaToResize(addr: number, oldLen: number, newLen: number): VmArea {
    const vma = this.vmas.lookup(addr);
    if (vma === undefined) throw err('EFAULT', 'no mapping at address');
    // Duplicating a mapping (old_len 0) only makes sense for shared memory.
    if (oldLen === 0 && (vma.flags & (VM_SHARED | VM_MAYSHARE)) === 0) throw err('EINVAL', 'old_len 0 on a private mapping');
    if (oldLen > vma.end - addr) throw err('EFAULT', 'old range runs past the mapping');
    if (newLen === oldLen) return vma;
    if ((vma.flags & (VM_DONTEXPAND | VM_PFNMAP)) !== 0) throw err('EFAULT', 'mapping may not be expanded');
    return vma;
  }

  /** vma_expandable: the `delta` bytes after the area are free and inside TASK_SIZE. */
  private expandable(vma: VmArea, delta: number): boolean {
    const end = vma.end + delta;
    if (end > this.taskSize) return false;
    return this.vmas.overlapping(vma.end, end).length === 0;
  }

  /**
   * move_vma + copy_vma: a new area of `newLen` at `to` carries the old range's pgoff (so a moved
   * faulted anonymous area rarely merges), or to >> PAGE_SHIFT when it was never faulted; then the
   * old range is unmapped.
   */
  private moveVma(vma: VmArea, addr: number, oldLen: number, newLen: number, to: number, dontUnmap = false): number {
    let pgoff = vma.pgoff + (addr - vma.start) / PAGE_SIZE;
    if (vma.file === null && vma.anonVma === 0) pgoff = to / PAGE_SIZE;
    if (this.mapCount >= this.maxMapCount - 3) throw err('ENOMEM', 'max_map_count would be exceeded');
    // move_vma: an accounted area is charged for its new size; unmapping the old range returns the
    // old (with MREMAP_DONTUNMAP the old range stays, and stays charged).
    if ((vma.flags & VM_ACCOUNT) !== 0 && !this.commit.charge(newLen / PAGE_SIZE, this.totalVm)) throw err('ENOMEM', 'overcommit refused the move');
    const moved = new VmArea(to, to + newLen, vma.flags, pgoff, vma.file, vma.name);
    moved.anonVma = vma.anonVma;
    this.mapped(moved, newLen);
    if (!dontUnmap) this.unmapRange(addr, addr + oldLen);
    else if (vma.start === addr && vma.end === addr + oldLen) vma.anonVma = 0; // unlink_anon_vmas: its pages went with the move
    this.insertMerged(moved);
    return to;
  }

  // ---- brk ------------------------------------------------------------------------------------

  /** brk(2): returns the new break, or the old one when the request cannot be met (never an errno). */
  brkSyscall(requested: number): number {
    if (requested < this.startBrk) return this.brk;
    const newBrk = pageAlign(requested);
    const oldBrk = pageAlign(this.brk);
    if (oldBrk === newBrk) {
      this.brk = requested;
      return this.brk;
    }
    if (requested <= this.brk) {
      this.unmapRange(newBrk, oldBrk);
      this.brk = requested;
      return this.brk;
    }
    // check_brk_limits → get_unmapped_area → security_mmap_addr: no heap below mmap_min_addr (a
    // process that was never exec'd has start_brk 0, so its brk cannot grow).
    if (oldBrk < this.mmapMinAddr) return this.brk;
    // Growing must leave a page (and the stack guard gap) before the next area.
    const next = this.vmas.find(oldBrk);
    if (next !== undefined && newBrk + PAGE_SIZE > vmStartGap(next)) return this.brk;
    if (this.mapCount >= this.maxMapCount) return this.brk;
    // do_brk_flags: the new heap pages are charged; a refusal leaves the break where it was.
    if (!this.commit.charge((newBrk - oldBrk) / PAGE_SIZE, this.totalVm)) return this.brk;
    const flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT;
    const heap = new VmArea(oldBrk, newBrk, flags, oldBrk / PAGE_SIZE);
    this.mapped(heap, newBrk - oldBrk);
    this.insertMerged(heap);
    this.brk = requested;
    return this.brk;
  }

  /**
   * vm_brk_flags as exec uses it for a segment's bss pages: anonymous data memory at a fixed place
   * (VM_DATA_DEFAULT_FLAGS | VM_ACCOUNT, VM_EXEC when the segment asks for it), merged with an
   * anonymous area just below it as do_brk_flags does.
   */
  vmBrkFlags(addr: number, len: number, exec: boolean): void {
    if (len === 0) return;
    if (this.mapCount >= this.maxMapCount) throw err('ENOMEM', 'max_map_count reached');
    if (!this.commit.charge(len / PAGE_SIZE, this.totalVm)) throw err('ENOMEM', 'commit limit');
    const flags = VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT | (exec ? VM_EXEC : 0);
    const v = new VmArea(addr, addr + len, flags, addr / PAGE_SIZE);
    this.mapped(v, len);
    this.insertMerged(v);
  }

  /** The stack area exec sets up (setup_arg_pages): VM_STACK_FLAGS, executable only if asked. */
  setupStack(base: number, top: number, exec: boolean): void {
    const flags = VM_GROWSDOWN | VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT | (exec ? VM_EXEC : 0);
    this.addArea(new VmArea(base, top, flags, base / PAGE_SIZE, null, '[stack]'));
  }

  /**
   * map_vdso (arch/x86/entry/vdso/vma.c): the vDSO's data pages and text as special mappings
   * where mmap(NULL) would put them. 6.x (6.15+, as the host's 6.18 shows): [vvar] 4 pages,
   * [vvar_vclock] 2, [vdso] 2; 5.15: [vvar] 4 and [vdso] 2. Returns the [vdso] address.
   */
  mapVdso(variant: 'linux-5.15' | 'linux-6.x'): number {
    const parts: [string, number][] = variant === 'linux-6.x' ? [['[vvar]', 4], ['[vvar_vclock]', 2], ['[vdso]', 2]] : [['[vvar]', 4], ['[vdso]', 2]];
    const size = parts.reduce((n, [, pages]) => n + pages * PAGE_SIZE, 0);
    let at = this.getUnmappedArea(0, size, 0);
    let vdso = 0;
    for (const [name, pages] of parts) {
      const text = name === '[vdso]';
      const flags = text ? VM_READ | VM_EXEC | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_DONTEXPAND : VM_READ | VM_MAYREAD | VM_IO | VM_DONTDUMP | VM_PFNMAP | VM_DONTEXPAND;
      this.addArea(new VmArea(at, at + pages * PAGE_SIZE, flags, 0, null, name));
      if (text) vdso = at;
      at += pages * PAGE_SIZE;
    }
    return vdso;
  }

  /**
   * dup_mm → dup_mmap (kernel/fork.c): this (new, empty) mm becomes a copy of `src` — its layout
   * fields, and one area per source area except VM_DONTCOPY ones, each VM_ACCOUNT area charged
   * again (ENOMEM when the commit limit refuses). A copied area that had an anon_vma gets a new one
   * of its own (anon_vma_fork), so the child's areas never merge with each other through the
   * parent's. Shared memory files stay shared: both mms count their mappings on one record.
   * Returns the areas copied, source and copy, for copy_page_range.
   */
  forkFrom(src: MmStruct): [VmArea, VmArea][] {
    this.startBrk = src.startBrk;
    this.brk = src.brk;
    this.startCode = src.startCode;
    this.endCode = src.endCode;
    this.startData = src.startData;
    this.endData = src.endData;
    this.startStack = src.startStack;
    this.argStart = src.argStart;
    this.argEnd = src.argEnd;
    this.envStart = src.envStart;
    this.envEnd = src.envEnd;
    this.gateArea = src.gateArea;
    const pairs: [VmArea, VmArea][] = [];
    let charged = 0;
    for (const v of src.vmas.iterateFrom(0)) {
      if ((v.flags & VM_DONTCOPY) !== 0) continue;
      if ((v.flags & VM_ACCOUNT) !== 0) {
        if (!this.commit.charge(v.length / PAGE_SIZE, this.totalVm)) {
          this.commit.uncharge(charged);
          throw err('ENOMEM', 'the commit limit refuses the copy of a private writable area');
        }
        charged += v.length / PAGE_SIZE;
      }
      const c = v.slice(v.start, v.end);
      c.anonVma = v.anonVma === 0 ? 0 : this.nextAnonVma++;
      this.vmas.insert(c);
      this.statAccount(c.flags, c.length / PAGE_SIZE);
      const shm = c.file === null ? undefined : src.shmem.get(c.file);
      if (shm !== undefined) {
        shm.mapped += c.length;
        this.shmem.set(c.file!, shm);
      }
      pairs.push([v, c]);
    }
    this.hiwaterVm = this.totalVm;
    return pairs;
  }

  // ---- merging --------------------------------------------------------------------------------

  /** Insert `v`, merging with its neighbours when vma_merge would (same flags, file, contiguous pgoff, compatible anon_vma). */
  private insertMerged(v: VmArea): void {
    let area = v;
    const prev = this.vmas.find(area.start - 1);
    if (prev?.end === area.start && this.mergeable(prev, area)) {
      this.vmas.remove(prev);
      area = this.join(prev, area);
    }
    const next = this.vmas.find(area.end);
    if (next?.start === area.end && this.mergeable(area, next)) {
      this.vmas.remove(next);
      area = this.join(area, next);
    }
    this.vmas.insert(area);
  }

  private mergeable(a: VmArea, b: VmArea): boolean {
    if (((a.flags | b.flags) & VM_SPECIAL) !== 0 || a.flags !== b.flags || a.name !== b.name) return false;
    if (a.file !== b.file) return false;
    if (a.pgoff + a.length / PAGE_SIZE !== b.pgoff) return false;
    // is_mergeable_anon_vma: the same anon_vma, or at most one of them has one.
    return a.anonVma === 0 || b.anonVma === 0 || a.anonVma === b.anonVma;
  }

  private join(a: VmArea, b: VmArea): VmArea {
    const j = a.slice(a.start, b.end);
    if (j.anonVma === 0) j.anonVma = b.anonVma;
    return j;
  }
}

/**
 * PAGE_ALIGN for lengths taken from system-call arguments: it never throws, and callers check the
 * result the way Linux checks for wrap-around (core's pageUp throws past 2^53 instead).
 */
export function pageAlign(n: number): number {
  const r = n % PAGE_SIZE;
  return r === 0 ? n : n + (PAGE_SIZE - r);
}

function protToVm(prot: number): number {
  return ((prot & PROT_READ) !== 0 ? VM_READ : 0) | ((prot & PROT_WRITE) !== 0 ? VM_WRITE : 0) | ((prot & PROT_EXEC) !== 0 ? VM_EXEC : 0);
}

/** vm_start_gap: a stack area keeps stack_guard_gap free below it. */
function vmStartGap(v: VmArea): number {
  return (v.flags & VM_GROWSDOWN) !== 0 ? Math.max(0, v.start - STACK_GUARD_GAP) : v.start;
}

function err(e: LinuxErrnoName, detail: string): KernelError {
  return new KernelError('linux', e, detail);
}
