/**
 * sys/vm/vm_mmap.c and the vm_map.c routines under it: mmap (kern_mmap → vm_mmap_object →
 * vm_map_find_min / vm_map_find / vm_map_fixed), munmap, mprotect, madvise, minherit, and
 * break (kern_break). Each validates its arguments in the order FreeBSD 14 does and fails with
 * the errno that order produces; vm_map's KERN_* results become errnos as vm_mmap_to_errno and
 * each call's own switch map them.
 *
 * A file descriptor is mapped by fo_mmap (src/kern/vfs_vnops.ts: the vnode's one OBJT_VNODE
 * object, /dev/zero as anonymous memory). Simplifications: ASLR is off (kern.elf64.aslr.enable=0), so placement is the first fit
 * from the heap's end with anonymous clustering (cluster_anon = 1, map->anon_loc); no swap
 * reservation limit is enforced.
 */
import type { SyscallArg, SyscallContext } from '@polykernel/kernel';
import type { VmObject } from '@polykernel/vm';
import { vnMmap } from '../kern/vfs_vnops.js';
import { largepageInRange, shmMmap, shmOf, splitBoundaryCut } from '../kern/uipc_shm.js';
import { procOf, type FreebsdMachine, type FreebsdSpace } from '../machine.js';
import {
  MADV_AUTOSYNC, MADV_CORE, MADV_DONTNEED, MADV_FREE, MADV_NOCORE, MADV_NORMAL, MADV_NOSYNC, MADV_PROTECT, MADV_RANDOM,
  MADV_SEQUENTIAL, MADV_WILLNEED, MAP_32BIT, MAP_32BIT_MAX_ADDR, MAP_ALIGNED_SUPER_FIELD, MAP_ALIGNMENT_UNIT, MAP_ANON,
  MAP_CHECK_EXCL, MAP_COPY_ON_WRITE, MAP_CREATE_GUARD, MAP_DISABLE_COREDUMP, MAP_DISABLE_SYNCER, MAP_ENTRY_BEHAV_MASK,
  MAP_ENTRY_BEHAV_RANDOM, MAP_ENTRY_BEHAV_SEQUENTIAL, MAP_ENTRY_NOCOREDUMP, MAP_ENTRY_NOSYNC, MAP_EXCL, MAP_FIXED, MAP_GUARD,
  MAP_HASSEMAPHORE, MAP_INHERIT_SHARE, MAP_NOCORE, MAP_NOSYNC, MAP_PREFAULT_READ, MAP_PRIVATE, MAP_SHARED, MAP_STACK,
  MAP_STACK_GROWS_DOWN, MAXDSIZ, PAGE_SIZE, PROT_MAX_SHIFT, SGROWSIZ, SUPERPAGE_SIZE, VM_PROT_ALL, VM_PROT_NONE, VM_PROT_READ,
  VM_PROT_WRITE, VM_INHERIT_COPY, roundPage, truncPage,
} from '../param.js';
import {
  KERN_INVALID_ADDRESS, KERN_NO_SPACE, KERN_OUT_OF_BOUNDS, KERN_PROTECTION_FAILURE, KERN_RESOURCE_SHORTAGE, KERN_SUCCESS, type FindSpace,
  type VmMap,
} from './vm_map.js';

type Ctx = SyscallContext<FreebsdSpace, FreebsdMachine>;

/** sys/sys/param.h P_OSREL_MAP_FSTRICT (FreeBSD 11.0): a file mapping must say MAP_SHARED or MAP_PRIVATE. */
const P_OSREL_MAP_FSTRICT = 1100036;

/** An argument as an unsigned machine word (a string argument reads as 0). */
export function arg(args: readonly SyscallArg[], i: number): number {
  const v = args[i];
  return typeof v === 'number' ? v : 0;
}

/** An argument as a C int (two's complement of the low 32 bits): fd -1 passed as 0xffffffff is -1. */
export function intArg(args: readonly SyscallArg[], i: number): number {
  const v = arg(args, i);
  const low = ((v % 2 ** 32) + 2 ** 32) % 2 ** 32;
  return low >= 2 ** 31 ? low - 2 ** 32 : low;
}

/** Bits of mmap's flags outside the MAP_ALIGNMENT field (bits 0..23), and the field itself. */
function splitFlags(flags: number): { low: number; align: number; high: boolean } {
  const low = flags % MAP_ALIGNMENT_UNIT;
  const rest = Math.floor(flags / MAP_ALIGNMENT_UNIT);
  return { low, align: rest % 256, high: rest >= 256 };
}

/** vm_mmap_to_errno. */
function mmapErrno(rv: number): string | null {
  if (rv === KERN_SUCCESS) return null;
  if (rv === KERN_INVALID_ADDRESS || rv === KERN_NO_SPACE || rv === KERN_RESOURCE_SHORTAGE) return 'ENOMEM';
  if (rv === KERN_PROTECTION_FAILURE) return 'EACCES';
  return 'EINVAL';
}

const PROT_ALL_MASK = VM_PROT_ALL + VM_PROT_ALL * 2 ** PROT_MAX_SHIFT;

/** sys_mmap → kern_mmap. */
export function sysMmap(ctx: Ctx, args: readonly SyscallArg[]): number {
  let addr = arg(args, 0);
  const len = arg(args, 1);
  const protArg = arg(args, 2);
  const flags = arg(args, 3);
  const fd = intArg(args, 4);
  const pos = arg(args, 5);
  const s = ctx.process.space;
  if (protArg < 0 || protArg > PROT_ALL_MASK || (protArg & ~PROT_ALL_MASK) !== 0) return ctx.fail('EINVAL', 'prot has unknown bits');
  let maxProt = Math.floor(protArg / 2 ** PROT_MAX_SHIFT) & VM_PROT_ALL;
  const prot = protArg & VM_PROT_ALL;
  // ENOTSUP is EOPNOTSUPP (45) in sys/sys/errno.h.
  if (maxProt !== 0 && (maxProt & prot) !== prot) return ctx.fail('EOPNOTSUPP', 'PROT_MAX does not include prot');
  if (maxProt === 0) maxProt = VM_PROT_ALL; // kern_mmap_maxprot: imply_prot_max is off
  const { low, align, high } = splitFlags(flags);
  // Mapping of length 0 is only allowed for old binaries; anonymous memory wants fd -1 and offset 0.
  if (len === 0 || ((low & MAP_ANON) !== 0 && (fd !== -1 || pos !== 0))) return ctx.fail('EINVAL', len === 0 ? 'len is 0' : 'MAP_ANON with an fd or offset');
  let f = low;
  if ((f & MAP_STACK) !== 0) {
    if (fd !== -1 || (prot & (VM_PROT_READ | VM_PROT_WRITE)) !== (VM_PROT_READ | VM_PROT_WRITE)) return ctx.fail('EINVAL', 'MAP_STACK needs fd -1 and PROT_READ|PROT_WRITE');
    f |= MAP_ANON;
  }
  const known = MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_HASSEMAPHORE | MAP_STACK | MAP_NOSYNC | MAP_ANON | MAP_EXCL | MAP_NOCORE
    | MAP_PREFAULT_READ | MAP_GUARD | MAP_32BIT;
  if (high || (f & ~known) !== 0) return ctx.fail('EINVAL', 'unknown flags');
  if ((f & (MAP_EXCL | MAP_FIXED)) === MAP_EXCL) return ctx.fail('EINVAL', 'MAP_EXCL without MAP_FIXED');
  if ((f & (MAP_SHARED | MAP_PRIVATE)) === (MAP_SHARED | MAP_PRIVATE)) return ctx.fail('EINVAL', 'MAP_SHARED and MAP_PRIVATE');
  if ((f & MAP_GUARD) !== 0 && (prot !== VM_PROT_NONE || fd !== -1 || pos !== 0 || (f & ~(MAP_FIXED | MAP_GUARD | MAP_EXCL | MAP_32BIT)) !== 0)) {
    return ctx.fail('EINVAL', 'MAP_GUARD with access, a file or other flags');
  }
  const pageoff = pos % PAGE_SIZE;
  let size = len + pageoff;
  // "Check for rounding up to zero": ENOMEM. A length past 2^53 (beyond a JS number's exact
  // range) would fail in vm_map_find with ENOMEM on FreeBSD too.
  if (roundPage(size) > Number.MAX_SAFE_INTEGER || roundPage(size) < size) return ctx.fail('ENOMEM', 'len rounds past the address space');
  size = roundPage(size);
  // MAP_ALIGNED(n): at least a page, less than the pointer width.
  if (align !== 0 && align !== MAP_ALIGNED_SUPER_FIELD && (align >= 64 || align < 12)) return ctx.fail('EINVAL', 'bad MAP_ALIGNED');
  const map = s.map;
  if ((f & MAP_FIXED) !== 0) {
    addr -= pageoff;
    if (addr % PAGE_SIZE !== 0) return ctx.fail('EINVAL', 'MAP_FIXED address not page-aligned');
    if (!map.rangeValid(addr, addr + size)) return ctx.fail('EINVAL', 'MAP_FIXED range outside user space');
    if ((f & MAP_32BIT) !== 0 && addr + size > MAP_32BIT_MAX_ADDR) return ctx.fail('EINVAL', 'MAP_32BIT range above 2 GiB');
  } else if ((f & MAP_32BIT) !== 0) {
    if (addr + size > MAP_32BIT_MAX_ADDR) addr = 0;
  } else if (((f & MAP_ANON) === 0 && addr === 0) || (addr !== 0 && addr >= roundPage(s.taddr) && addr < roundPage(s.daddr + s.machine.abi.maxdsiz))) {
    // A hint inside the potential heap is moved above the largest possible heap. (FreeBSD tests
    // no `addr !== 0`: vm_taddr is never 0 there, but it is for a process made without exec here,
    // and an absent hint must stay absent for anonymous clustering.)
    addr = roundPage(s.daddr + s.machine.abi.maxdsiz);
  }
  // fo_mmap (src/kern/vfs_vnops.ts): the file's vnode object, or anonymous memory for /dev/zero.
  let object: VmObject | null = null;
  if ((f & MAP_FIXED) !== 0 && (f & MAP_EXCL) === 0) {
    // vm_map_delete's clip of a largepage entry inside one of its pages fails (KERN_INVALID_ARGUMENT).
    const cut = splitBoundaryCut(map, addr, addr + size);
    if (cut !== null) return ctx.fail('EINVAL', cut);
  }
  const sh = (f & MAP_GUARD) === 0 && (f & MAP_ANON) === 0 ? shmOf(ctx.process, fd) : null;
  if (sh !== null) {
    // fo_mmap of a POSIX shm descriptor (uipc_shm.c shm_mmap; a largepage object maps itself).
    if ((f & (MAP_SHARED | MAP_PRIVATE)) === 0 && procOf(ctx.kernel.state, ctx.process).osrel >= P_OSREL_MAP_FSTRICT) {
      return ctx.fail('EINVAL', 'neither MAP_SHARED nor MAP_PRIVATE (p_osrel >= P_OSREL_MAP_FSTRICT)');
    }
    const r = shmMmap(ctx.kernel, sh.fp, sh.shm, maxProt, {
      map, addr, size, prot, flags: f, align, foff: pos - pageoff, fixed: (f & MAP_FIXED) !== 0, excl: (f & MAP_EXCL) !== 0,
      shared: (f & MAP_SHARED) !== 0, otherFlags: (f & ~(MAP_SHARED | MAP_FIXED | MAP_EXCL | MAP_NOCORE | MAP_32BIT)) !== 0,
      maxAddr: (f & MAP_32BIT) !== 0 ? MAP_32BIT_MAX_ADDR : map.maxOffset, nocore: (f & MAP_NOCORE) !== 0,
      heapStart: roundPage(s.taddr), heapEnd: roundPage(s.daddr + MAXDSIZ), cpu: ctx.thread.cpu,
      insert: (o, pindex, start, end, p, max, nocore) => mmapErrno(map.insert(o, pindex, start, end, p, max, MAP_INHERIT_SHARE | (nocore ? MAP_DISABLE_COREDUMP : 0))),
    });
    if (r.kind === 'error') return ctx.fail(r.errno, r.detail);
    if (r.kind === 'mapped') return r.addr + pageoff;
    object = r.object;
    maxProt = r.maxProt;
  } else if ((f & MAP_GUARD) === 0 && (f & MAP_ANON) === 0) {
    const v = vnMmap(ctx.kernel, ctx.process, fd, prot, maxProt, f, pos - pageoff, size);
    if (v.kind === 'error') return ctx.fail(v.errno, v.detail);
    if (v.kind === 'anon') f |= MAP_ANON;
    else {
      object = v.object;
      maxProt = v.maxProt;
    }
  }
  const prots = (f & MAP_GUARD) !== 0 ? [VM_PROT_NONE, VM_PROT_NONE] : [prot, maxProt];
  const r = mmapObject(s, map, addr, size, prots[0]!, prots[1]!, f, align, ctx.thread.cpu, object, (pos - pageoff) / PAGE_SIZE);
  if (r.error !== null) {
    if (object !== null) ctx.kernel.vm.deallocate(object);
    return ctx.fail(r.error, 'vm_mmap_object');
  }
  return r.addr + pageoff;
}

/** vm_mmap_object for anonymous memory, guards and vnode objects (`object` referenced for the entry). */
function mmapObject(s: FreebsdSpace, map: VmMap, addr: number, size: number, prot: number, maxProt: number, flags: number, align: number, cpu: number, object: VmObject | null = null, pindex = 0): { addr: number; error: string | null } {
  let docow = 0;
  if ((flags & (MAP_ANON | MAP_SHARED)) === 0) docow |= MAP_COPY_ON_WRITE;
  if ((flags & MAP_NOSYNC) !== 0) docow |= MAP_DISABLE_SYNCER;
  if ((flags & MAP_NOCORE) !== 0) docow |= MAP_DISABLE_COREDUMP;
  if ((flags & MAP_SHARED) !== 0) docow |= MAP_INHERIT_SHARE;
  if ((flags & MAP_STACK) !== 0) docow |= MAP_STACK_GROWS_DOWN;
  if ((flags & MAP_EXCL) !== 0) docow |= MAP_CHECK_EXCL;
  if ((flags & MAP_GUARD) !== 0) docow |= MAP_CREATE_GUARD;
  if ((flags & MAP_FIXED) !== 0) {
    const rv = vmMapFixed(map, addr, size, prot, maxProt, docow, cpu, object, pindex);
    return { addr, error: mmapErrno(rv) };
  }
  const find: FindSpace = align === MAP_ALIGNED_SUPER_FIELD ? { kind: 'super' } : align !== 0 ? { kind: 'aligned', log2: align } : { kind: 'optimal' };
  const maxAddr = (flags & MAP_32BIT) !== 0 ? MAP_32BIT_MAX_ADDR : 0;
  // MAP_32BIT starts its search from the bottom (the default address is above 4 GiB) — unverified.
  const defaultAddr = (flags & MAP_32BIT) !== 0 ? 0 : roundPage(s.daddr + s.machine.abi.maxdsiz);
  return vmMapFindMin(map, roundPage(addr), defaultAddr, size, maxAddr, find, prot, maxProt, docow, object, pindex);
}

/** vm_map_find_min: try the hint (or the default address when there is none), then the default address. */
function vmMapFindMin(map: VmMap, hint: number, minAddr: number, length: number, maxAddr: number, find: FindSpace, prot: number, max: number, cow: number, object: VmObject | null, pindex: number): { addr: number; error: string | null } {
  const noHint = hint === 0;
  let h = noHint ? minAddr : hint;
  for (;;) {
    const r = vmMapFind(map, h, length, maxAddr, find, prot, max, cow, noHint, object, pindex);
    if (r.rv === KERN_SUCCESS || minAddr >= h) return { addr: r.addr, error: mmapErrno(r.rv) };
    h = minAddr;
  }
}

/**
 * vm_map_find: first fit at or above `start` (VMFS_ANY_SPACE; anonymous memory's
 * VMFS_OPTIMAL_SPACE is the same), aligned to 2^n (VMFS_ALIGNED_SPACE) or, for MAP_ALIGNED_SUPER,
 * to a superpage when the mapping is at least one (pmap_align_superpage). An anonymous mapping
 * without a hint starts where the previous one ended (map->anon_loc, cluster_anon = 1) and falls
 * back to a search from `start`.
 */
export function vmMapFind(map: VmMap, start: number, length: number, maxAddr: number, find: FindSpace, prot: number, max: number, cow: number, noHint: boolean, object: VmObject | null = null, pindex = 0): { addr: number; rv: number } {
  const stack = (cow & MAP_STACK_GROWS_DOWN) !== 0;
  const updateAnon = noHint && object === null && maxAddr === 0 && find.kind !== 'none' && (cow & (MAP_INHERIT_SHARE | MAP_STACK_GROWS_DOWN)) === 0 && prot !== VM_PROT_NONE;
  const alignment = find.kind === 'aligned' ? 2 ** find.log2 : find.kind === 'super' && length >= SUPERPAGE_SIZE ? SUPERPAGE_SIZE : PAGE_SIZE;
  const limit = maxAddr !== 0 ? Math.min(maxAddr, map.maxOffset) : map.maxOffset;
  const tryFrom = (from: number): number => {
    const a = map.findspace(from, length, alignment);
    return a < 0 || a + length > limit ? -1 : a;
  };
  let addr = -1;
  if (updateAnon && map.anonLoc !== 0) addr = tryFrom(map.anonLoc);
  if (addr < 0) addr = tryFrom(start);
  if (addr < 0) return { addr: 0, rv: KERN_NO_SPACE };
  const rv = stack ? map.stack(addr, length, SGROWSIZ, prot, max, cow & ~MAP_STACK_GROWS_DOWN) : map.insert(object, pindex, addr, addr + length, prot, max, cow);
  if (rv === KERN_SUCCESS && updateAnon) map.anonLoc = addr + length;
  return { addr, rv };
}

/** vm_map_fixed: replace what is there (unless MAP_EXCL), then insert or make a stack. */
function vmMapFixed(map: VmMap, start: number, length: number, prot: number, max: number, cow: number, cpu: number, object: VmObject | null, pindex: number): number {
  const s = Math.max(start, map.minOffset);
  const e = Math.min(start + length, map.maxOffset);
  if ((cow & MAP_CHECK_EXCL) === 0) map.delete(s, e, cpu);
  if ((cow & MAP_STACK_GROWS_DOWN) !== 0) return map.stack(s, e - s, SGROWSIZ, prot, max, cow & ~(MAP_STACK_GROWS_DOWN | MAP_CHECK_EXCL));
  return map.insert(object, pindex, s, e, prot, max, cow & ~MAP_CHECK_EXCL);
}

/** sys_munmap → kern_munmap. */
export function sysMunmap(ctx: Ctx, args: readonly SyscallArg[]): number {
  const addr0 = arg(args, 0);
  const len = arg(args, 1);
  if (len === 0) return ctx.fail('EINVAL', 'len is 0');
  const pageoff = addr0 % PAGE_SIZE;
  const addr = addr0 - pageoff;
  const end = addr + roundPage(len + pageoff);
  const map = ctx.process.space.map;
  if (!map.rangeValid(addr, end)) return ctx.fail('EINVAL', 'range outside user space');
  // vm_map_delete clips: inside a largepage it cannot (KERN_INVALID_ARGUMENT).
  const cut = splitBoundaryCut(map, addr, end);
  if (cut !== null) return ctx.fail('EINVAL', cut);
  map.delete(addr, end, ctx.thread.cpu);
  return 0;
}

/** sys_mprotect → kern_mprotect → vm_map_protect. */
export function sysMprotect(ctx: Ctx, args: readonly SyscallArg[]): number {
  const addr0 = arg(args, 0);
  const len = arg(args, 1);
  const protArg = arg(args, 2);
  if (protArg < 0 || protArg > PROT_ALL_MASK || (protArg & ~PROT_ALL_MASK) !== 0) return ctx.fail('EINVAL', 'prot has unknown bits');
  const maxProt = Math.floor(protArg / 2 ** PROT_MAX_SHIFT) & VM_PROT_ALL;
  const prot = protArg & VM_PROT_ALL;
  const pageoff = addr0 % PAGE_SIZE;
  const addr = addr0 - pageoff;
  const size = roundPage(len + pageoff);
  if (addr + size > Number.MAX_SAFE_INTEGER) return ctx.fail('EINVAL', 'range wraps');
  const cut = splitBoundaryCut(ctx.process.space.map, addr, addr + size);
  if (cut !== null) return ctx.fail('EINVAL', cut);
  const rv = ctx.process.space.map.protect(addr, addr + size, prot, maxProt, maxProt !== 0, ctx.thread.cpu);
  switch (rv) {
    case KERN_SUCCESS: return 0;
    case KERN_PROTECTION_FAILURE: return ctx.fail('EACCES', 'beyond the maximum protection');
    case KERN_RESOURCE_SHORTAGE: return ctx.fail('ENOMEM', 'no swap to charge');
    case KERN_OUT_OF_BOUNDS: return ctx.fail('EOPNOTSUPP', 'PROT_MAX does not include prot');
    default: return ctx.fail('EINVAL', 'vm_map_protect');
  }
}

/** sys_minherit → vm_map_inherit. */
export function sysMinherit(ctx: Ctx, args: readonly SyscallArg[]): number {
  const addr0 = arg(args, 0);
  const len = arg(args, 1);
  const inherit = intArg(args, 2);
  const pageoff = addr0 % PAGE_SIZE;
  const addr = addr0 - pageoff;
  const size = roundPage(len + pageoff);
  if (addr + size > Number.MAX_SAFE_INTEGER) return ctx.fail('EINVAL', 'range wraps');
  const map = ctx.process.space.map;
  // vm_map_inherit: no VM_INHERIT_COPY of a largepage entry, and no clip inside one of its pages.
  if (inherit === VM_INHERIT_COPY && largepageInRange(map, addr, addr + size)) return ctx.fail('EINVAL', 'VM_INHERIT_COPY of a largepage mapping');
  const cut = splitBoundaryCut(map, addr, addr + size);
  if (cut !== null) return ctx.fail('EINVAL', cut);
  const rv = map.inherit(addr, addr + size, inherit);
  if (rv === KERN_SUCCESS) return 0;
  if (rv === KERN_PROTECTION_FAILURE) return ctx.fail('EACCES', 'vm_map_inherit');
  return ctx.fail('EINVAL', 'unknown inheritance');
}

/** sys_madvise → kern_madvise → vm_map_madvise. */
export function sysMadvise(ctx: Ctx, args: readonly SyscallArg[]): number {
  const addr = arg(args, 0);
  const len = arg(args, 1);
  const behav = intArg(args, 2);
  if (behav === MADV_PROTECT) {
    // kern_procctl(PROC_SPROTECT): needs PRIV_VM_MADV_PROTECT.
    return ctx.process.creds.euid === 0 ? 0 : ctx.fail('EPERM', 'MADV_PROTECT needs privilege');
  }
  const map = ctx.process.space.map;
  if (!map.rangeValid(addr, addr + len)) return ctx.fail('EINVAL', 'range outside user space');
  const start = truncPage(addr);
  const end = roundPage(addr + len);
  switch (behav) {
    case MADV_NORMAL: case MADV_SEQUENTIAL: case MADV_RANDOM: case MADV_NOSYNC: case MADV_AUTOSYNC: case MADV_NOCORE: case MADV_CORE:
      if (start === end) return 0;
      map.setEflags(start, end, ...behaviourBits(behav));
      return 0;
    case MADV_WILLNEED: case MADV_DONTNEED: case MADV_FREE:
      if (start === end) return 0;
      if (behav !== MADV_WILLNEED) deactivate(ctx, map, start, end);
      return 0;
    default:
      return ctx.fail('EINVAL', `unknown advice ${behav}`);
  }
}

/** The eflags a modifying advice sets and clears. */
function behaviourBits(behav: number): [number, number] {
  switch (behav) {
    case MADV_NORMAL: return [0, MAP_ENTRY_BEHAV_MASK];
    case MADV_SEQUENTIAL: return [MAP_ENTRY_BEHAV_SEQUENTIAL, MAP_ENTRY_BEHAV_MASK];
    case MADV_RANDOM: return [MAP_ENTRY_BEHAV_RANDOM, MAP_ENTRY_BEHAV_MASK];
    case MADV_NOSYNC: return [MAP_ENTRY_NOSYNC, 0];
    case MADV_AUTOSYNC: return [0, MAP_ENTRY_NOSYNC];
    case MADV_NOCORE: return [MAP_ENTRY_NOCOREDUMP, 0];
    default: return [0, MAP_ENTRY_NOCOREDUMP];
  }
}

/**
 * MADV_DONTNEED / MADV_FREE (pmap_advise + vm_object_madvise): the pages lose their referenced
 * state, so the page daemon takes them first. FreeBSD keeps their contents (unlike Linux's
 * MADV_DONTNEED); MADV_FREE's early release of swap space is not modelled.
 */
function deactivate(ctx: Ctx, map: VmMap, start: number, end: number): void {
  const q = ctx.kernel.vm.queues;
  for (const e of map.index.overlapping(start, end)) {
    const o = e.object;
    if (o === null) continue;
    const from = e.offset + (Math.max(start, e.start) - e.start) / PAGE_SIZE;
    const to = e.offset + (Math.min(end, e.end) - e.start) / PAGE_SIZE;
    for (const [p, frame] of o.pages) if (p >= from && p < to) q.referenced[frame] = 0;
  }
}

/** sys_break → kern_break: move the end of the data segment; below its start, just report it. */
export function sysBreak(ctx: Ctx, args: readonly SyscallArg[]): number {
  const s = ctx.process.space;
  const map = s.map;
  let nw = roundPage(arg(args, 0));
  const base = roundPage(s.daddr);
  const old = base + s.dsize * PAGE_SIZE;
  if (nw > base) {
    if (nw - base > s.machine.abi.dfldsiz && nw > old) return ctx.fail('ENOMEM', 'RLIMIT_DATA');
    if (nw > map.maxOffset) return ctx.fail('ENOMEM', 'above user space');
  } else if (nw < base) {
    // An ad-hoc interface libc uses to learn the initial break.
    nw = old;
  }
  if (nw > old) {
    const rv = map.insert(null, 0, old, nw, VM_PROT_READ | VM_PROT_WRITE, VM_PROT_ALL, 0);
    if (rv !== KERN_SUCCESS) return ctx.fail('ENOMEM', 'vm_map_insert');
    s.dsize += (nw - old) / PAGE_SIZE;
  } else if (nw < old) {
    map.delete(nw, old, ctx.thread.cpu);
    s.dsize -= (old - nw) / PAGE_SIZE;
  }
  return nw;
}
