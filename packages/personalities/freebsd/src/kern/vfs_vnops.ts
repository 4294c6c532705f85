/**
 * fo_mmap for the descriptors this model has (sys/kern/vfs_vnops.c vn_mmap, sys/vm/vm_mmap.c
 * vm_mmap_vnode, sys/fs/devfs/devfs_vnops.c devfs_mmap_f with vm_mmap_cdev): what kern_mmap maps
 * for a file descriptor, or the errno.
 *
 * - first, kern_mmap's own rule: neither MAP_SHARED nor MAP_PRIVATE is EINVAL for a process whose
 *   image was built for FreeBSD 11.0 or later (p_osrel >= P_OSREL_MAP_FSTRICT);
 * - a pipe: invfo_mmap, ENODEV;
 * - /dev/zero (D_MMAP_ANON): anonymous memory, as if MAP_ANON had been given; /dev/null has no
 *   d_mmap: ENODEV;
 * - a regular file: vn_mmap's protection rules — PROT_READ needs the file open for reading
 *   (EACCES), a MAP_SHARED PROT_WRITE mapping needs it open for writing (EACCES), and the
 *   maximum protection is execute, plus read when readable, plus write when private or opened
 *   for writing; an offset past OFF_MAX - size is EINVAL; vm_mmap_vnode then takes the vnode's one
 *   OBJT_VNODE object (vnode_pager_alloc: made at the first mapping, shared by every later one);
 * - anything else (a directory): EINVAL (vm_mmap_vnode maps VREG only).
 */
import type { Process, SyscallArg, SyscallContext } from '@polykernel/kernel';
import type { VmObject } from '@polykernel/vm';
import { procOf, type FreebsdKernel, type FreebsdMachine, type FreebsdSpace } from '../machine.js';
import { MAP_PRIVATE, MAP_SHARED, VM_PROT_EXECUTE, VM_PROT_READ, VM_PROT_WRITE } from '../param.js';
import { fget, FREAD, FWRITE } from './kern_descrip.js';
import { sysMunmap } from '../vm/vm_mmap.js';
import { ownForSharedWrite, vnodeObject, vnodeRecycleAfterUnmap } from './vfs_vnode.js';

const OFF_MAX = 2 ** 63 - 1;
/** sys/sys/param.h: the p_osrel from which kern_mmap refuses a file mapping without MAP_SHARED/MAP_PRIVATE. */
const P_OSREL_MAP_FSTRICT = 1100036;

export type VnMmap =
  | { readonly kind: 'error'; readonly errno: string; readonly detail: string }
  | { readonly kind: 'anon' }
  | { readonly kind: 'object'; readonly object: VmObject; readonly maxProt: number };

/** fget_mmap + fo_mmap's checks; the object comes back referenced for the new entry. */
export function vnMmap(k: FreebsdKernel, p: Process<FreebsdSpace>, fd: number, prot: number, capMaxProt: number, flags: number, foff: number, size: number): VnMmap {
  const fp = fget(p, fd);
  if (fp === null) return { kind: 'error', errno: 'EBADF', detail: `fd ${fd} is not open` };
  // kern_mmap: a file mapping must say MAP_SHARED or MAP_PRIVATE for binaries built for 11.0 and later.
  if ((flags & (MAP_SHARED | MAP_PRIVATE)) === 0 && procOf(k.state, p).osrel >= P_OSREL_MAP_FSTRICT) {
    return { kind: 'error', errno: 'EINVAL', detail: 'neither MAP_SHARED nor MAP_PRIVATE (p_osrel >= P_OSREL_MAP_FSTRICT)' };
  }
  const v = fp.vnode;
  if (v === null) return { kind: 'error', errno: 'ENODEV', detail: 'a pipe cannot be mapped' };
  if (v.type === 'VCHR') {
    if (v.device === 'zero') return { kind: 'anon' };
    return { kind: 'error', errno: 'ENODEV', detail: `${v.path} cannot be mapped` };
  }
  let maxProt = VM_PROT_EXECUTE;
  if ((fp.flag & FREAD) !== 0) maxProt |= VM_PROT_READ;
  else if ((prot & VM_PROT_READ) !== 0) return { kind: 'error', errno: 'EACCES', detail: 'PROT_READ of a file not open for reading' };
  const shared = (flags & MAP_SHARED) !== 0;
  if (shared) {
    if ((fp.flag & FWRITE) !== 0) maxProt |= VM_PROT_WRITE;
    else if ((prot & VM_PROT_WRITE) !== 0) return { kind: 'error', errno: 'EACCES', detail: 'MAP_SHARED PROT_WRITE of a file not open for writing' };
  } else {
    maxProt |= VM_PROT_WRITE;
  }
  maxProt &= capMaxProt | (shared ? 0 : VM_PROT_WRITE);
  if (size > OFF_MAX || foff > OFF_MAX - size) return { kind: 'error', errno: 'EINVAL', detail: 'offset + size past OFF_MAX' };
  if (v.type !== 'VREG') return { kind: 'error', errno: 'EINVAL', detail: `${v.path} is not a regular file` };
  if (v.partial !== null) return { kind: 'error', errno: 'EFBIG', detail: `${v.path} is too large to simulate` };
  // Dirty pages of a writable shared mapping are written back into the file's bytes: those must
  // be the overlay's copy, never the file system's.
  if (shared && (maxProt & VM_PROT_WRITE) !== 0) ownForSharedWrite(k, v);
  return { kind: 'object', object: vnodeObject(k, v), maxProt };
}

/**
 * munmap (73) with the vnode's last use: when the removed mapping held the last reference to an
 * unused vnode's object (vm_object_deallocate → vrele → vinactive), the vnode is recycled now — an
 * unlinked file's object and pages are freed as its last mapping goes.
 */
export function sysMunmapRecycle(ctx: SyscallContext<FreebsdSpace, FreebsdMachine>, args: readonly SyscallArg[]): number {
  const r = sysMunmap(ctx, args);
  vnodeRecycleAfterUnmap(ctx.kernel);
  return r;
}
