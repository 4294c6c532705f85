/**
 * mm/shmem.c for shared anonymous memory: each MAP_SHARED|MAP_ANONYMOUS area is backed by a shmem
 * file "/dev/zero (deleted)" (shmem_zero_setup, mmap.ts) whose pages live in the machine's
 * shmemPages; shmem_fault maps them; the file and its pages go when no mm maps it any more
 * (the last fput → shmem_evict_inode).
 */
import type { FaultResolution } from '@polykernel/kernel';
import { NO_FRAME, PTE_WRITE } from '@polykernel/mmu';
import { cachedPage } from './filemap.js';
import { PAGE_SIZE, VM_SHARED, VM_WRITE } from './flags.js';
import type { LinuxMachine, LinuxSpace } from './machine.js';
import { OOM, RESOLVED } from './memory.js';
import type { MmStruct } from './mm.js';
import { PTE_SHMEM } from './pte.js';
import type { VmArea, VmFile } from './vma.js';

/** shmem_file / vma_is_anon_shmem: a shared anonymous area (its file made by shmem_zero_setup). */
export function isShmem(v: VmArea): boolean {
  return v.file !== null && (v.flags & VM_SHARED) !== 0 && v.file.path === '/dev/zero (deleted)';
}

/** shmem_fault: the shmem file's page at this offset, zeroed on first use, mapped shared. */
export function shmemFault(m: LinuxMachine, s: LinuxSpace, v: VmArea, page: number, base: number): FaultResolution {
  const frame = cachedPage(m, m.shmemPages, v.file!, v.pgoff + (page - v.start) / PAGE_SIZE);
  if (frame === NO_FRAME) return OOM;
  m.kernel.mmu.frames.ref(frame);
  s.pt.map(page, frame, PAGE_SIZE, base | PTE_SHMEM | ((v.flags & VM_WRITE) !== 0 ? PTE_WRITE : 0));
  s.rss.shmem++;
  m.kernel.metrics.faults.file++;
  return RESOLVED.file;
}

/** Shmem files mapped in [start, end) now, to release those that are mapped nowhere afterwards. */
export function shmemIn(m: LinuxMachine, s: LinuxSpace, start: number, end: number): VmFile[] {
  return s.mm.vmas.overlapping(start, end).flatMap((v) => (v.file !== null && m.shmemPages.has(v.file) ? [v.file] : []));
}

/** The shmem files of `files` that no mm maps any more (after an unmap in `s`) give their pages back. */
export function releaseUnmapped(m: LinuxMachine, s: LinuxSpace, files: VmFile[]): void {
  // The shmem file lives while any mm maps it (fork shares it between parent and child).
  for (const f of files) if (m.shmemPages.has(f) && !anyMaps(s.mm, f) && ![...m.kernel.processes.values()].some((p) => p.space !== s && anyMaps(p.space.mm, f))) releaseShmem(m, f);
}

/** Whether an area of `mm` maps `file`. */
export function anyMaps(mm: MmStruct, file: VmFile): boolean {
  for (const v of mm.vmas.iterateFrom(0)) if (v.file === file) return true;
  return false;
}

/** shmem_evict_inode → shmem_undo_range: the file's pages lose the cache's reference (freed if nothing maps them). */
export function releaseShmem(m: LinuxMachine, file: VmFile): void {
  const frames = m.kernel.mmu.frames;
  for (const f of m.shmemPages.get(file)!.values()) if (frames.unref(f) === 0) frames.free(f);
  m.shmemPages.delete(file);
}

/** Pages held by this machine's live shmem files (shared anonymous memory). */
export function shmemPageCount(m: LinuxMachine): number {
  let n = 0;
  for (const pages of m.shmemPages.values()) n += pages.size;
  return n;
}
