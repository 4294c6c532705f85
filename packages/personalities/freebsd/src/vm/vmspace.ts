/**
 * sys/vm/vm_map.c vmspace_alloc, vmspace_fork, vmspace_exit (vmspace_dofree): the per-process
 * address space. vmspace_fork walks the parent's entries by inheritance — NONE: skipped; SHARE:
 * both maps reference one object (shadowed first if the parent still needed a copy); COPY:
 * vm_map_copy_entry write-protects the parent's pages and makes both entries COW | NEEDS_COPY
 * over the same object, so nothing is copied and no shadow exists until the first write fault
 * (vm_map_lookup); ZERO: a fresh anonymous entry. After a COPY entry is set up,
 * vm_map_copy_entry calls pmap_copy (pmap_copy.ts): the child's page table gets read-only,
 * not-accessed copies of the parent's managed 4 KiB PTEs and whole 2 MiB PDEs, so the child reads
 * what the parent had resident without a fault and its first write is the copy-on-write fault.
 * SHARE, NONE and ZERO entries are not pmap_copied; the child faults their pages in.
 *
 * Software costs (costs.ts): the fixed part of vmspace_fork, one charge per entry inherited, one
 * per shadow made, one per resident PTE pmap_protect write-protects, one per PTE or PDE pmap_copy
 * copies.
 */
import type { Process } from '@polykernel/kernel';
import type { VmObject } from '@polykernel/vm';
import type { FreebsdKernel, FreebsdMachine, FreebsdSpace } from '../machine.js';
import {
  MAP_ENTRY_COW, MAP_ENTRY_GUARD, MAP_ENTRY_IN_TRANSITION, MAP_ENTRY_NEEDS_COPY, MAP_ENTRY_SPLIT_BOUNDARY_MASK, MAP_ENTRY_USER_WIRED,
  MAP_ENTRY_VN_EXEC, MAP_ENTRY_WRITECNT, VM_INHERIT_COPY, VM_INHERIT_NONE, VM_INHERIT_SHARE, VM_INHERIT_ZERO,
  VM_MIN_USER, VM_PROT_WRITE,
} from '../param.js';
import { FREEBSD_COSTS } from '../costs.js';
import { Pmap } from './pmap.js';
import { pmapCopy } from './pmap_copy.js';
import { VmMap, VmMapEntry } from './vm_map.js';
import { OBJ_ANON, OBJ_ONEMAPPING, OBJ_SWAP, isAnon } from './vm_object.js';

/** vmspace_alloc: an empty map over user space and a new pmap. */
export function vmspaceAlloc(k: FreebsdKernel, m: FreebsdMachine): FreebsdSpace {
  const pmap = new Pmap(k, k.mmu.createPageTable());
  const map = new VmMap(k.vm, pmap, VM_MIN_USER, m.abi.vmMaxUser, k.metrics);
  const s: FreebsdSpace = { map, pmap, taddr: 0, daddr: 0, tsize: 0, dsize: 0, ssize: 0, maxsaddr: 0, machine: m };
  m.spaces.add(s);
  return s;
}

/** vmspace_exit → vmspace_dofree: remove every entry (mappings, then objects), release the pmap. */
export function vmspaceFree(m: FreebsdMachine, s: FreebsdSpace, cpu: number): void {
  s.map.removeAll(cpu);
  s.pmap.release();
  m.spaces.delete(s);
}

/** vmspace_fork: the child's address space, by each entry's inheritance. */
export function vmspaceFork(k: FreebsdKernel, parent: Process<FreebsdSpace>, cpu: number): FreebsdSpace {
  const s1 = parent.space;
  const s2 = vmspaceAlloc(k, s1.machine);
  Object.assign(s2, { taddr: s1.taddr, daddr: s1.daddr, tsize: s1.tsize, dsize: s1.dsize, ssize: s1.ssize, maxsaddr: s1.maxsaddr });
  s2.map.anonLoc = s1.map.anonLoc;
  const mt = k.metrics;
  mt.cycles += FREEBSD_COSTS.vmspaceForkBase;
  for (const old of [...s1.map.entries()]) {
    let inh = old.inheritance;
    if ((old.eflags & MAP_ENTRY_GUARD) !== 0 && inh !== VM_INHERIT_NONE) inh = VM_INHERIT_COPY;
    if (inh !== VM_INHERIT_NONE) mt.cycles += FREEBSD_COSTS.perMapEntry;
    if (inh === VM_INHERIT_SHARE) forkShare(k, s1, s2, old);
    else if (inh === VM_INHERIT_COPY) mt.cycles += forkCopy(k, s1, s2, old, cpu);
    else if (inh === VM_INHERIT_ZERO) forkZero(s2, old);
  }
  return s2;
}

function cloneInto(s2: FreebsdSpace, old: VmMapEntry, clear: number): VmMapEntry {
  const e = new VmMapEntry(old.start, old.end, old.eflags & ~clear, old.protection, old.maxProtection, old.inheritance);
  e.object = old.object;
  e.offset = old.offset;
  e.cred = old.cred;
  e.stackGuard = old.stackGuard;
  e.stackProt = old.stackProt;
  e.stackMaxProt = old.stackMaxProt;
  return e;
}

/** VM_INHERIT_SHARE: one object for both maps (made now if the entry had none). */
function forkShare(k: FreebsdKernel, s1: FreebsdSpace, s2: FreebsdSpace, old: VmMapEntry): void {
  if (old.object === null) s1.map.chargeObject(old);
  let obj = old.object!;
  if ((old.eflags & MAP_ENTRY_NEEDS_COPY) !== 0) {
    // vm_object_shadow(shared = true): the parent's copy is made now, and both share it.
    const sh = k.vm.shadow(obj, old.offset, old.pages);
    sh.flags = OBJ_ANON | OBJ_ONEMAPPING | (old.cred || (obj.flags & OBJ_SWAP) !== 0 ? OBJ_SWAP : 0);
    old.object = sh;
    old.offset = 0;
    old.eflags &= ~MAP_ENTRY_NEEDS_COPY;
    old.cred = false;
    obj = sh;
    k.metrics.cycles += FREEBSD_COSTS.shadowSetup;
  }
  k.vm.reference(obj);
  obj.flags &= ~OBJ_ONEMAPPING;
  const e = cloneInto(s2, old, MAP_ENTRY_USER_WIRED | MAP_ENTRY_IN_TRANSITION);
  s2.map.link(e);
}

/**
 * VM_INHERIT_COPY → vm_map_copy_entry. Returns the cycles of its per-PTE work: pmap_protect's
 * write-protection of the parent's PTEs and pmap_copy's copies into the child. (Wired writable
 * entries, which vm_fault_copy_entry copies at once instead, do not exist here: no wiring.)
 */
function forkCopy(k: FreebsdKernel, s1: FreebsdSpace, s2: FreebsdSpace, src: VmMapEntry, cpu: number): number {
  const dst = cloneInto(s2, src, MAP_ENTRY_USER_WIRED | MAP_ENTRY_IN_TRANSITION | MAP_ENTRY_WRITECNT);
  dst.object = null;
  dst.cred = false;
  s2.map.link(dst);
  // A source that needs a copy is write-protected already.
  let protectedPtes = 0;
  if ((src.eflags & MAP_ENTRY_NEEDS_COPY) === 0 && (src.protection & VM_PROT_WRITE) !== 0) {
    protectedPtes = s1.pmap.protect(src.start, src.end, src.protection & ~VM_PROT_WRITE, cpu);
  }
  let obj = src.object;
  if (obj !== null) {
    // vm_object_collapse first; an object only this entry's range maps (OBJ_ONEMAPPING) is split
    // off for it, so the copy-on-write sharing covers exactly this range.
    if (isAnon(obj)) {
      s1.map.vm.collapse(obj);
      if ((obj.flags & OBJ_ONEMAPPING) !== 0) obj = objectSplit(s1, src);
    }
    s1.map.vm.reference(obj);
    obj.flags &= ~OBJ_ONEMAPPING;
    dst.object = obj;
    dst.offset = src.offset;
    src.eflags |= MAP_ENTRY_COW | MAP_ENTRY_NEEDS_COPY;
    dst.eflags |= MAP_ENTRY_COW | MAP_ENTRY_NEEDS_COPY;
  } else {
    if ((dst.eflags & MAP_ENTRY_GUARD) === 0) dst.offset = 0;
    dst.cred = src.cred;
  }
  let cycles = protectedPtes * FREEBSD_COSTS.protectPerPte;
  if (s1.machine.pmapCopyEnabled) {
    const c = pmapCopy(k, s2.pmap, s1.pmap, dst.start, dst.end, managedChain(dst.object));
    cycles += c.ptes * FREEBSD_COSTS.pmapCopyPerPte + c.pdes * FREEBSD_COSTS.pmapCopyPerPde;
  }
  return cycles;
}

/** Every page an entry over `obj` can map is managed (no OBJT_PHYS or OBJT_DEVICE object in its chain). */
function managedChain(obj: VmObject | null): boolean {
  for (let o = obj; o !== null; o = o.backing) if (o.type === 'physical' || o.type === 'device') return false;
  return true;
}

/** vm_object_split(entry): the entry's part of an object others also map gets an object of its own. */
function objectSplit(s1: FreebsdSpace, e: VmMapEntry): VmObject {
  const orig = e.object!;
  if (orig.refCount <= 1) return orig;
  const vm = s1.map.vm;
  const n = vm.split(orig, e.offset, e.pages);
  e.object = n;
  e.offset = 0;
  vm.deallocate(orig);
  return n;
}

/** VM_INHERIT_ZERO: a new anonymous entry with the same bounds and protections. */
function forkZero(s2: FreebsdSpace, old: VmMapEntry): void {
  const e = new VmMapEntry(old.start, old.end,
    old.eflags & ~(MAP_ENTRY_USER_WIRED | MAP_ENTRY_IN_TRANSITION | MAP_ENTRY_WRITECNT | MAP_ENTRY_VN_EXEC | MAP_ENTRY_SPLIT_BOUNDARY_MASK),
    old.protection, old.maxProtection, VM_INHERIT_ZERO);
  e.cred = true;
  s2.map.link(e);
}
