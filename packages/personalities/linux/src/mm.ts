/**
 * mm_struct (include/linux/mm_types.h): one address space — its areas (the maple tree on 6.x, the
 * red-black tree on 5.15), its layout (mmap_base, brk, the code/data/stack/argument bounds exec
 * sets) and its counters (total_vm and its split, vm_stat_account). The system calls that change
 * it live where Linux has them, and the methods here call them:
 *
 *   mmap, getUnmappedArea, munmap, brkSyscall, vmBrkFlags, findForFault's stack growth → mmap.ts (mm/mmap.c)
 *   split and merge, unmapping a range → vma.ts (mm/vma.c)
 *   mprotect → mprotect.ts (mm/mprotect.c);  mremap → mremap.ts (mm/mremap.c)
 *   mapVdso → vdso.ts (arch/x86/entry/vdso/vma.c);  forkFrom → fork.ts (kernel/fork.c dup_mmap)
 *
 * Results follow the kernel's order of checks, so the errno for a bad call is the one Linux returns.
 */
import { createIndex, type AddressSpaceIndex, type IndexKind } from '@polykernel/vm';
import type { Metrics } from '@polykernel/core';
import { PAGE_SIZE, VM_ACCOUNT, VM_EXEC, VM_GROWSDOWN, VM_LOCKED, VM_MAYEXEC, VM_MAYREAD, VM_MAYWRITE, VM_READ, VM_SHARED, VM_WRITE } from './flags.js';
import { VmCommit } from './commit.js';
import { dupMmapAreas } from './fork.js';
import { MIB, pageAlign, STACK_GUARD_GAP } from './internal.js';
import { doBrk, doMmap, doMunmap, expandDownwards, getUnmappedArea, vmBrkFlags, type MmapFileMode } from './mmap.js';
import { doMprotect } from './mprotect.js';
import { doMadvise } from './madvise.js';
import { doMlock, doMlockall, doMunlock, doMunlockall } from './mlock.js';
import { doMremap } from './mremap.js';
import { doMsync } from './msync.js';
import { doPrlimit } from './rlimit.js';
import { mapVdso } from './vdso.js';
import { VmArea, type VmFile } from './vma.js';

export { pageAlign } from './internal.js';

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
  /** Where the VMA index counts the nodes it visits and the bytes it holds. */
  metrics?: Metrics;
  /**
   * A design study: keep the VMAs in this index instead of the variant's own (maple tree on 6.x,
   * red-black tree on 5.15). `list` is Linux 2.4's sorted mm->mmap list with its mmap_cache;
   * `avl` is the mmap_avl tree Linux 2.2–2.4 built once a process had 32 areas; `splay` is
   * FreeBSD's vm_map. Only the index changes: every rule of the variant stays.
   */
  vmaIndex?: IndexKind;
}

/** One resource limit (include/uapi/linux/resource.h): soft and hard, Infinity for RLIM_INFINITY. */
export interface Rlimit { cur: number; max: number }

/** The limits the mm calls honour (the task's signal->rlim, kept with its mm here). */
export interface MmRlimits { data: Rlimit; as: Rlimit; stack: Rlimit; memlock: Rlimit }

/** What a shmem file still has mapped (bytes) and what it charged (shmem_acct_size), per file. */
export interface ShmemAccount { mapped: number; charged: number }

export class MmStruct {
  readonly vmas: AddressSpaceIndex<VmArea>;
  readonly taskSize: number;
  readonly mmapMinAddr: number;
  readonly mmapBase: number;
  readonly maxMapCount: number;
  readonly stackRlimit: number;
  startBrk = 0;
  brk = 0;
  /** Counter for anon_vma identities: split halves share one, separately faulted areas do not (mm-internal). */
  nextAnonVma = 1;
  /** get_next_ino for shmem_zero_setup's files, and the shmem mount's device (mm-internal). */
  readonly shmemInode: () => number;
  readonly shmemDev: [number, number];
  readonly commit: VmCommit;
  /** total_vm in pages, and its split by kind (vm_stat_account): data_vm, stack_vm, exec_vm. */
  totalVm = 0;
  dataVm = 0;
  stackVm = 0;
  execVm = 0;
  /**
   * RLIMIT_DATA, _AS, _STACK, _MEMLOCK. MEMLOCK defaults to 8 MiB (5.16+, "mm: use RLIMIT_MEMLOCK
   * of 8 MiB by default"; 5.15's default was 64 KiB).
   */
  readonly rlimit: MmRlimits;
  /** The resource limits nothing in the mm enforces, kept for getrlimit (rlimit.ts). */
  readonly otherRlimits = new Map<number, Rlimit>();
  /** The task holds every capability (CAP_IPC_LOCK lifts RLIMIT_MEMLOCK, CAP_SYS_RESOURCE lets a hard limit rise). */
  privileged = false;
  /** locked_vm in pages (VmLck): what mlock, mlock2, mlockall and VM_LOCKED mappings hold. */
  lockedVm = 0;
  /** def_flags: VM_LOCKED (| VM_LOCKONFAULT) after mlockall(MCL_FUTURE), given to every new area. */
  defFlags = 0;
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
  /** Bytes still mapped of each shmem file and what it charged, for the uncharge at eviction (mm-internal). */
  readonly shmem = new Map<VmFile, ShmemAccount>();

  /** The kernel whose rules this mm follows (its VMA index, the [heap] label in maps). */
  readonly variant: 'linux-5.15' | 'linux-6.x';

  constructor(opts: MmOptions = {}) {
    this.variant = opts.variant ?? 'linux-6.x';
    this.vmas = createIndex<VmArea>(opts.vmaIndex ?? (this.variant === 'linux-5.15' ? 'rbtree' : 'btree'), opts.metrics !== undefined ? { metrics: opts.metrics } : {});
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
    const memlock = this.variant === 'linux-5.15' ? 64 * 1024 : 8 * MIB;
    this.rlimit = { data: { cur: Infinity, max: Infinity }, as: { cur: Infinity, max: Infinity }, stack: { cur: this.stackRlimit, max: Infinity }, memlock: { cur: memlock, max: memlock } };
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

  /** anon_vma_prepare (mm/rmap.c) on an area already found (the fault path has it in hand). */
  prepareAnon(v: VmArea): void {
    if (v.anonVma === 0) v.anonVma = this.nextAnonVma++;
  }

  /**
   * The area a fault at `addr` belongs to (mm/mmap.c lock_mm_and_find_vma), growing a
   * VM_GROWSDOWN area down to it when `addr` is just below one (expand_downwards, mmap.ts).
   * Null: SEGV_MAPERR.
   */
  findForFault(addr: number): VmArea | null {
    const v = this.vmas.find(addr);
    if (v === undefined) return null;
    if (v.start <= addr) return v;
    return expandDownwards(this, v, addr);
  }

  /**
   * vm_stat_account (mm/mmap.c): total_vm, and exec_vm for VM_EXEC without VM_WRITE/VM_STACK,
   * stack_vm for VM_STACK (VM_GROWSDOWN on x86), data_vm for private writable non-stack memory.
   */
  statAccount(flags: number, pages: number): void {
    this.totalVm += pages;
    if ((flags & (VM_EXEC | VM_WRITE | VM_GROWSDOWN)) === VM_EXEC) this.execVm += pages;
    else if ((flags & VM_GROWSDOWN) !== 0) this.stackVm += pages;
    else if ((flags & (VM_WRITE | VM_SHARED | VM_GROWSDOWN)) === VM_WRITE) this.dataVm += pages;
  }

  /** vm_stat_account for `bytes` of area `v` mapped (or, negative, unmapped), and the shmem file's last unmap (shmem_unacct_size at eviction). */
  mapped(v: VmArea, bytes: number): void {
    this.statAccount(v.flags, bytes / PAGE_SIZE);
    const shm = v.file === null ? undefined : this.shmem.get(v.file);
    if (shm === undefined) return;
    shm.mapped += bytes;
    if (shm.mapped === 0) {
      this.commit.uncharge(shm.charged);
      this.shmem.delete(v.file!);
    }
  }

  /** mmap(2): do_mmap (mmap.ts). Returns the address. */
  mmap(addr: number, len: number, prot: number, flags: number, file: VmFile | null = null, pgoffBytes: number | bigint = 0, fileMode?: MmapFileMode): number {
    return doMmap(this, addr, len, prot, flags, file, pgoffBytes, fileMode);
  }

  /** get_unmapped_area (mmap.ts). */
  getUnmappedArea(addr: number, len: number, flags: number): number {
    return getUnmappedArea(this, addr, len, flags);
  }

  /** munmap(2) (mmap.ts). */
  munmap(start: number, len: number): number {
    return doMunmap(this, start, len);
  }

  /** mprotect(2) (mprotect.ts). */
  mprotect(start: number, len: number | bigint, prot: number): number {
    return doMprotect(this, start, len, prot);
  }

  /** mremap(2) (mremap.ts): the area's new address. */
  mremap(addr: number, oldLen: number | bigint, newLen: number | bigint, flags: number, newAddr = 0): number {
    return doMremap(this, addr, oldLen, newLen, flags, newAddr);
  }

  /** mlock(2) / mlock2(2) (mlock.ts): `flags` VM_LOCKED, with VM_LOCKONFAULT for MLOCK_ONFAULT. */
  mlock(start: number, len: number | bigint, flags = VM_LOCKED): number {
    return doMlock(this, start, len, flags);
  }

  /** munlock(2) (mlock.ts). */
  munlock(start: number, len: number | bigint): number {
    return doMunlock(this, start, len);
  }

  /** mlockall(2) (mlock.ts). */
  mlockall(flags: number): number {
    return doMlockall(this, flags);
  }

  /** munlockall(2) (mlock.ts). */
  munlockall(): number {
    return doMunlockall(this);
  }

  /** madvise(2)'s work on the areas (madvise.ts); the page work is the system call's. */
  madvise(start: number, len: number | bigint, advice: number): number {
    return doMadvise(this, start, len, advice);
  }

  /** msync(2) (msync.ts). */
  msync(start: number, len: number | bigint, flags: number): number {
    return doMsync(this, start, len, flags);
  }

  /** prlimit64 / setrlimit / getrlimit (rlimit.ts): the old limit; `next` null only reads. */
  prlimit(resource: number, next: Rlimit | null): Rlimit {
    return doPrlimit(this, resource, next);
  }

  /** brk(2) (mmap.ts): returns the new break, or the old one when the request cannot be met (never an errno). */
  brkSyscall(requested: number): number {
    return doBrk(this, requested);
  }

  /** vm_brk_flags (mmap.ts): a segment's bss pages as exec maps them. */
  vmBrkFlags(addr: number, len: number, exec: boolean): void {
    vmBrkFlags(this, addr, len, exec);
  }

  /** The stack area exec sets up (fs/exec.c setup_arg_pages): VM_STACK_FLAGS, executable only if asked. */
  setupStack(base: number, top: number, exec: boolean): void {
    const flags = VM_GROWSDOWN | VM_READ | VM_WRITE | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_ACCOUNT | (exec ? VM_EXEC : 0);
    this.addArea(new VmArea(base, top, flags, base / PAGE_SIZE, null, '[stack]'));
  }

  /** map_vdso (vdso.ts): the vDSO's areas; returns the [vdso] address. */
  mapVdso(variant: 'linux-5.15' | 'linux-6.x'): number {
    return mapVdso(this, variant);
  }

  /** dup_mmap's areas (fork.ts): this new mm becomes a copy of `src`; the areas copied, source and copy. */
  forkFrom(src: MmStruct): [VmArea, VmArea][] {
    return dupMmapAreas(this, src);
  }
}
