/**
 * sys/vm/vm_object.c, the parts the personality adds to @polykernel/vm's objects: FreeBSD's
 * object flags and types. Anonymous memory is an object made by vm_object_allocate_anon with
 * OBJ_ANON | OBJ_ONEMAPPING; FreeBSD 14 makes it OBJT_SWAP (with OBJ_SWAP) when the mapping is
 * charged to a credential — writable private memory — and OBJT_DEFAULT otherwise. The flag bits
 * below are the personality's own encoding of those names, not FreeBSD's numeric values.
 */
import type { VmObject, VmSystem } from '@polykernel/vm';

/** The object is anonymous memory (no handle, no pager but swap). */
export const OBJ_ANON = 0x1;
/** Every page of the object is mapped at most once: deleting a mapping may free its pages. */
export const OBJ_ONEMAPPING = 0x2;
/** The object is swap-backed and charged (OBJT_SWAP with OBJ_SWAP). */
export const OBJ_SWAP = 0x4;
/** OBJT_PHYS objects the kernel makes (the shared page). */
export const OBJ_SHAREDPAGE = 0x8;

/** vm_object_allocate_anon: a new anonymous object of `pages` pages, shadowing `backing` if given. */
export function allocateAnon(vm: VmSystem, pages: number, backing: VmObject | null, charged: boolean): VmObject {
  const o = backing === null ? vm.createObject('anonymous', pages) : vm.shadow(backing, 0, pages);
  o.flags = OBJ_ANON | OBJ_ONEMAPPING | (charged ? OBJ_SWAP : 0);
  return o;
}

export function isAnon(o: VmObject): boolean {
  return (o.flags & OBJ_ANON) !== 0;
}

/** kinfo_vmentry kve_type of the bottom object (vm_object_kvme_type). */
export type KvmeType = 'none' | 'default' | 'vnode' | 'swap' | 'device' | 'phys' | 'dead' | 'sg' | 'mgtdevice' | 'guard' | 'unknown';

export function kvmeType(bottom: VmObject): KvmeType {
  if (bottom.dead) return 'dead';
  switch (bottom.type) {
    case 'anonymous': return (bottom.flags & OBJ_SWAP) !== 0 || bottom.swapped.size > 0 ? 'swap' : 'default';
    case 'vnode': return 'vnode';
    case 'device': return 'device';
    case 'physical': return 'phys';
  }
}

/**
 * vm_object_shadow: give the entry's reference to `source` to a new anonymous object over it —
 * unless `source` is anonymous and this is its only reference, when no shadow is needed (the
 * writer owns it already). Returns the object the entry maps now (a new shadow starts at `offset`
 * of `source`; the entry's offset becomes 0).
 */
export function objectShadow(vm: VmSystem, source: VmObject, offset: number, pages: number, charged: boolean): VmObject {
  if (source.refCount === 1 && isAnon(source)) return source;
  const s = vm.shadow(source, offset, pages);
  s.flags = OBJ_ANON | OBJ_ONEMAPPING | (charged ? OBJ_SWAP : 0);
  return s;
}
