/**
 * sys/amd64/amd64/trap.c trap_pfault → sys/vm/vm_fault.c vm_fault_trap → vm_fault, and
 * vm_map.c vm_map_lookup / vm_map_growstack.
 *
 * vm_map_lookup finds the entry (none: KERN_INVALID_ADDRESS → SIGSEGV/SEGV_MAPERR), lets a fault
 * in a stack's guard gap grow the stack, checks the entry's protection (KERN_PROTECTION_FAILURE →
 * SIGSEGV/SEGV_ACCERR for binaries newer than P_OSREL_SIGSEGV), resolves NEEDS_COPY — a write
 * shadows the object now (the lazily made shadow of vmspace_fork), a read just maps read-only —
 * and gives anonymous memory its object at its first fault. vm_fault then walks the shadow chain
 * (VmSystem.faultPage): the page found in the first object is mapped with the entry's protection,
 * one found in a backing object read-only, and a write copies it up (or moves it, when the
 * backing object has no other reference). A kernel-mode fault (copyin/copyout) that fails is
 * fixed up (pcb_onfault) without a signal.
 *
 * The fault path allocates nothing per fault: its answers are preallocated.
 */
import type { FaultInfo, FaultResolution, Process, Thread } from '@polykernel/kernel';
import { ACCESS_EXEC, ACCESS_WRITE, FRAME_DIRTY, MAP_OK, NO_FRAME } from '@polykernel/mmu';
import type { VmObject } from '@polykernel/vm';
import type { FreebsdKernel, FreebsdMachine, FreebsdSpace } from '../machine.js';
import {
  MAP_ENTRY_GROWS_DOWN, MAP_ENTRY_GUARD, MAP_STACK_GROWS_DOWN, MAP_ENTRY_NEEDS_COPY, MAP_ENTRY_STACK_GAP_DN, PAGE_SIZE, SGROWSIZ, SUPERPAGE_SIZE, VM_PROT_EXECUTE, VM_PROT_NONE,
  VM_PROT_READ, VM_PROT_WRITE,
} from '../param.js';
import { KERN_NO_SPACE, KERN_SUCCESS, type VmMap, type VmMapEntry } from './vm_map.js';
import { OBJ_ONEMAPPING, allocateAnon, objectShadow } from './vm_object.js';
import { VM_LEVEL_0_NPAGES } from './vm_reserv.js';
import { FREEBSD_COSTS } from '../costs.js';
import { OBJ_LARGEPAGE, largepageFault } from '../kern/uipc_shm.js';

/** vm_fault's software path by what it did (costs.ts: borrowed from the Linux host calibration). */
const HANDLER = FREEBSD_COSTS.faultHandler;

const RESOLVED = {
  zeroFill: { kind: 'resolved', how: 'zeroFill' },
  cow: { kind: 'resolved', how: 'cow' },
  cowReuse: { kind: 'resolved', how: 'cowReuse' },
  soft: { kind: 'resolved', how: 'soft' },
  swapIn: { kind: 'resolved', how: 'swapIn' },
  file: { kind: 'resolved', how: 'file' },
} as const satisfies Record<string, FaultResolution>;
const MAPERR: FaultResolution = { kind: 'signal', signal: 'SIGSEGV', code: 'SEGV_MAPERR' };
const ACCERR: FaultResolution = { kind: 'signal', signal: 'SIGSEGV', code: 'SEGV_ACCERR' };
/** KERN_RESOURCE_SHORTAGE (no page, no swap): vm_fault_trap's SIGBUS/BUS_OOMERR. */
const OOMERR: FaultResolution = { kind: 'signal', signal: 'SIGBUS', code: 'BUS_OOMERR' };
/** A page past the end of the entry's object (a file mapped past its end): vm_fault's KERN_OUT_OF_BOUNDS, SIGBUS/BUS_OBJERR. */
const OBJERR: FaultResolution = { kind: 'signal', signal: 'SIGBUS', code: 'BUS_OBJERR' };
const FIXUP: FaultResolution = { kind: 'fixup' };
/**
 * Simulated cycles per backing object vm_fault visits: VM_OBJECT_RLOCK/WLOCK of the next object
 * (an uncontended rwlock, ~20 cycles) and vm_page_lookup's radix-trie descent (a few dependent
 * cache misses, ~40 cycles when the trie is warm). A model estimate, not a measurement.
 */
export const CHAIN_STEP_CYCLES = 60;

/** trap_pfault → vm_fault_trap. */
export function handleFault(k: FreebsdKernel, thread: Thread, f: FaultInfo): FaultResolution {
  const r = vmFault(k, thread, f);
  if (r.kind === 'signal' && !f.user) return FIXUP;
  return r;
}

function faultType(access: number): number {
  return access === ACCESS_WRITE ? VM_PROT_WRITE : access === ACCESS_EXEC ? VM_PROT_EXECUTE : VM_PROT_READ;
}

function vmFault(k: FreebsdKernel, thread: Thread, f: FaultInfo): FaultResolution {
  const p = f.process as Process<FreebsdSpace>;
  const s = p.space;
  const map = s.map;
  // pageDown by division: `%` on an address above 2^31 is a floating-point modulo (a C call in V8).
  const va = Math.floor(f.va / PAGE_SIZE) * PAGE_SIZE;
  const type = faultType(f.access);
  let e = map.lookupEntry(va);
  if (e === undefined) return MAPERR;
  if (e.protection === VM_PROT_NONE && (e.eflags & MAP_ENTRY_GUARD) !== 0 && (e.eflags & MAP_ENTRY_STACK_GAP_DN) !== 0) {
    k.metrics.faults.guard++;
    if (growStack(s, va, e) === KERN_SUCCESS) {
      k.metrics.faults.stackGrowth++;
      e = map.lookupEntry(va);
      if (e === undefined) return MAPERR;
    }
  }
  let prot = e.protection;
  if ((type & prot) !== type || prot === VM_PROT_NONE) return ACCERR;
  const write = type === VM_PROT_WRITE;
  if ((e.eflags & MAP_ENTRY_NEEDS_COPY) !== 0) {
    if (write) needsCopy(s, e);
    else prot &= ~VM_PROT_WRITE;
  }
  if (e.object === null) {
    e.object = allocateAnon(k.vm, e.pages, null, e.cred);
    e.offset = 0;
    e.cred = false;
  }
  const first = e.object;
  // A largepage shm object maps a whole large page at a fault (vm_fault_populate, uipc_shm.ts).
  if ((first.flags & OBJ_LARGEPAGE) !== 0) return largepageFault(k, s, e, va, prot, write);
  const pindex = e.offset + (va - e.start) / PAGE_SIZE;
  if (pindex >= first.size) return OBJERR;
  const reserv = s.machine.reserv;
  // Whether the soft-fast check below found no page at `pindex` (faultPage then does not look again).
  let absent = false;
  // vm_fault_allocate: vm_object_color(fs->object, atop(fs->vaddr) - fs->pindex), so that the
  // object's reservations line up with 2 MiB boundaries of this address space.
  if (reserv !== null) {
    reserv.colorObject(first, va / PAGE_SIZE - pindex);
    if (f.reason === 'not-present') {
      const resident = first.pages.get(pindex);
      absent = resident === undefined;
      if (resident !== undefined && softFastSuperpage(s, e, first, resident, pindex, va, prot, write)) {
        k.metrics.faults.soft++;
        k.metrics.cycles += HANDLER.soft;
        return RESOLVED.soft;
      }
    }
  }
  const r = k.vm.faultPage(first, pindex, write, absent);
  // Each backing object looked at is an object lock and a radix-trie lookup (vm_fault_object's
  // loop over fs->object->backing_object).
  k.metrics.cycles += (r.depth - 1) * CHAIN_STEP_CYCLES;
  if (r.frame === NO_FRAME) return OOMERR;
  if (r.how === 'backing') prot &= ~VM_PROT_WRITE;
  // A copy of a page that other address spaces map read/write-shared: their mappings of the
  // old page must go (vm_fault_cow: pmap_remove_all(fs->m_cow) unless OBJ_ONEMAPPING).
  if (r.how === 'cow' && (first.flags & OBJ_ONEMAPPING) === 0) pmapRemoveAll(s.machine, r.source);
  const frame = r.frame;
  const how = r.how;
  const owner = r.object;
  if (!enter(s, va, frame, prot, thread.cpu, f.reason === 'not-present', write)) return OOMERR;
  // pmap_enter's tail: a page of a fully populated reservation may complete a 2 MiB run
  // (vm_reserv_level_iffullpop(m) == 0 → pmap_promote_pde).
  if (reserv !== null && reserv.levelIfFullpop(frame) === 0) s.pmap.promote(va);
  return count(k, how, owner, f.reason, write);
}

/**
 * vm_fault_soft_fast with a superpage: the page is resident in the first object and is part of a
 * fully populated reservation of that object (vm_reserv_to_superpage), the 2 MiB-aligned range
 * around `va` lies inside the entry and matches the reservation's alignment, and every page of
 * the reservation is the object's page at the matching index (vm_page_ps_test; for a write, all
 * dirty): one pmap_enter(psind = 1) maps the whole 2 MiB (pmap_enter_pde, vm.pmap.pde.mappings).
 * Only where nothing is mapped in the range yet (pmap_enter_pde would remove 4 KiB mappings
 * first; here the ordinary path maps the page and promotion follows). `frame` is the first
 * object's page at `pindex`. Returns true when mapped.
 */
function softFastSuperpage(s: FreebsdSpace, e: VmMapEntry, first: VmObject, frame: number, pindex: number, va: number, prot: number, write: boolean): boolean {
  const reserv = s.machine.reserv!;
  if (reserv.levelIfFullpop(frame) !== 0) return false;
  const rv = reserv.reservationOf(frame);
  if (rv < 0 || reserv.objectOf(rv) !== first) return false;
  const base = Math.floor(va / SUPERPAGE_SIZE) * SUPERPAGE_SIZE;
  const index = frame % VM_LEVEL_0_NPAGES;
  if (base < e.start || base + SUPERPAGE_SIZE > e.end || (va - base) / PAGE_SIZE !== index) return false;
  const vm = s.map.vm;
  const frames = vm.frames;
  const firstFrame = frame - index;
  const firstPindex = pindex - index;
  for (let i = 0; i < VM_LEVEL_0_NPAGES; i++) {
    const f = firstFrame + i;
    if (vm.ownerOf(f) !== first || vm.pindexOf(f) !== firstPindex + i) return false;
    if (write && (frames.flags[f]! & FRAME_DIRTY) === 0) return false;
  }
  return s.pmap.enterPde(base, firstFrame, prot, write);
}

/** Count the fault once, by what vm_fault did, and charge its software path once. */
function count(k: FreebsdKernel, how: string, obj: VmObject | null, reason: string, write: boolean): FaultResolution {
  const m = k.metrics.faults;
  const mt = k.metrics;
  switch (how) {
    case 'zeroFill':
      m.zeroFill++;
      mt.cycles += HANDLER.zeroFill;
      return RESOLVED.zeroFill;
    case 'cow':
    case 'move':
      m.cow++;
      // A move renames the backing object's page into the first object: nothing is copied.
      mt.cycles += how === 'cow' ? HANDLER.cow : HANDLER.cowReuse;
      return RESOLVED.cow;
    case 'pagein':
      // The pager counted the fault itself (vnodePager / swapPager getpage): count it once.
      if (obj?.type === 'vnode') {
        mt.cycles += HANDLER.file;
        return RESOLVED.file;
      }
      return RESOLVED.swapIn;
    default:
      // The page was resident (in the first object or below): only the mapping was missing, or
      // a write found its own page write-protected after the NEEDS_COPY shadow was skipped.
      if (write && reason === 'write-protect') {
        m.cowReuse++;
        mt.cycles += HANDLER.cowReuse;
        return RESOLVED.cowReuse;
      }
      m.soft++;
      mt.cycles += HANDLER.soft;
      return RESOLVED.soft;
  }
}

/**
 * vm_map_lookup's NEEDS_COPY case for a write: shadow the shared object now, moving the entry's
 * reference to the shadow (none is made when the entry holds the object's only reference).
 */
export function needsCopy(s: FreebsdSpace, e: VmMapEntry): void {
  const vm = s.map.vm;
  if (e.object !== null) {
    const before = e.object;
    e.object = objectShadow(vm, before, e.offset, e.pages, true);
    if (e.object !== before) {
      e.offset = 0;
      s.machine.kernel.metrics.cycles += FREEBSD_COSTS.shadowSetup;
    }
  }
  e.cred = false;
  e.eflags &= ~MAP_ENTRY_NEEDS_COPY;
}

/** pmap_enter, reclaiming memory once if a page-table page cannot be had. */
function enter(s: FreebsdSpace, va: number, frame: number, prot: number, cpu: number, notPresent: boolean, write: boolean): boolean {
  if (s.pmap.enter(va, frame, prot, cpu, notPresent, write) === MAP_OK) return true;
  s.map.vm.pageout(32);
  return s.pmap.enter(va, frame, prot, cpu, false, write) === MAP_OK;
}

/**
 * pmap_remove_all(m): remove every mapping of `frame` from every pmap. Without pv lists the
 * machine's vmspaces are searched: each entry whose object chain reaches the frame's object
 * names the one address where it could be mapped.
 */
export function pmapRemoveAll(m: FreebsdMachine, frame: number): void {
  const vm = m.kernel.vm;
  const owner = vm.ownerOf(frame);
  if (owner === null) return;
  const pindex = vm.pindexOf(frame);
  for (const s of m.spaces) {
    for (const e of s.map.entries()) {
      const va = addressOf(e, owner, pindex);
      if (va >= 0 && s.pmap.frameAt(va) === frame) s.pmap.remove(va, va + PAGE_SIZE, 0);
    }
  }
}

/** Where entry `e` would map page `pindex` of `target` (an object in its chain), or -1. */
function addressOf(e: VmMapEntry, target: VmObject, pindex: number): number {
  let off = e.offset;
  for (let o = e.object; o !== null; o = o.backing) {
    if (o === target) {
      const rel = pindex - off;
      return rel >= 0 && rel < e.pages ? e.start + rel * PAGE_SIZE : -1;
    }
    off += o.backingOffset;
  }
  return -1;
}

/**
 * vm_map_growstack: a fault in the guard gap below a grow-down stack grows the stack to cover
 * it (rounded up to sgrowsiz), keeping stack_guard_page pages of gap; the new part is a new
 * GROWS_DOWN entry (those never merge), and the gap shrinks or goes.
 */
export function growStack(s: FreebsdSpace, addr: number, gap: VmMapEntry): number {
  const map: VmMap = s.map;
  const stack = map.succ(gap);
  if (stack?.start !== gap.end || (stack.eflags & MAP_ENTRY_GROWS_DOWN) === 0) return KERN_NO_SPACE;
  const guard = gap.stackGuard;
  let maxGrow = gap.end - gap.start;
  if (guard > maxGrow) return KERN_NO_SPACE;
  maxGrow -= guard;
  let grow = Math.ceil((stack.start - addr) / PAGE_SIZE) * PAGE_SIZE;
  if (grow > maxGrow) return KERN_NO_SPACE;
  // The main process stack (between vm_maxsaddr and vm_stacktop, set by exec) may not grow past
  // lim_cur(RLIMIT_STACK) — DFLSSIZ, though MAXSSIZ is reserved below USRSTACK.
  const abi = s.machine.abi;
  const procStack = s.maxsaddr !== 0 && addr >= s.maxsaddr && addr < abi.usrStack;
  const used = s.ssize * PAGE_SIZE;
  if (procStack && used + grow > abi.dflssiz) return KERN_NO_SPACE;
  grow = Math.ceil(grow / SGROWSIZ) * SGROWSIZ;
  if (grow > maxGrow) grow = maxGrow;
  if (procStack && used + grow > abi.dflssiz) grow = Math.floor(abi.dflssiz / PAGE_SIZE) * PAGE_SIZE - used;
  const prot = gap.stackProt;
  const max = gap.stackMaxProt;
  const growStart = gap.end - grow;
  map.shrinkGapTop(gap, grow);
  const rv = map.insert(null, 0, growStart, growStart + grow, prot, max, MAP_STACK_GROWS_DOWN);
  if (rv === KERN_SUCCESS) s.ssize += grow / PAGE_SIZE;
  return rv;
}
