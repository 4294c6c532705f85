/**
 * /proc/<pid>/smaps (fs/proc/task_mmu.c show_smap → smaps_pte_entry/smaps_account, __show_smap),
 * byte for byte in 6.x's field order. Counted per present PTE of a normal page — the shared zero
 * page is not one (vm_normal_page), so zero-page mappings add nothing. A page mapped more than once
 * (mapcount ≥ 2, e.g. a shmem page in two areas) is Shared_* and adds size/mapcount to Pss, kept in
 * 1/4096ths of a byte as PSS_SHIFT does; Referenced comes from the PTE's accessed bit, dirtiness
 * from its dirty bit.
 *
 * LazyFree counts MADV_FREE'd pages that are still clean once their per-CPU batch has drained (31
 * pages), as on the host.
 * Swap and SwapPss come from the area's swap entries. Not modelled: KSM, THP (THPeligible is 1 only for VM_HUGEPAGE areas, as under the
 * "madvise" policy; nothing here sets VM_HUGEPAGE yet), hugetlb, mlock.
 */
import type { Kernel, Process } from '@polykernel/kernel';
import { PTE_ACCESSED, PTE_DIRTY } from '@polykernel/mmu';
import { PAGE_SIZE, VM_HUGEPAGE, VM_LOCKED } from '../flags.js';
import { PTE_FILE, PTE_SHMEM } from '../pte.js';
import { mapsLine, vmFlagsLine } from './maps.js';
import type { LinuxSpace } from '../machine.js';
import type { VmArea } from '../vma.js';

const PSS_SHIFT = 4096; // 2^12, as a multiplier: Pss is summed in 1/4096ths of a byte

interface SmapsCounts {
  rss: number; pss: number; pssDirty: number; sharedClean: number; sharedDirty: number;
  privateClean: number; privateDirty: number; referenced: number; anonymous: number; lazyFree: number;
  swap: number; swapPss: number;
}

function countArea(k: Kernel<LinuxSpace>, s: LinuxSpace, v: VmArea): SmapsCounts {
  const c: SmapsCounts = { rss: 0, pss: 0, pssDirty: 0, sharedClean: 0, sharedDirty: 0, privateClean: 0, privateDirty: 0, referenced: 0, anonymous: 0, lazyFree: 0, swap: 0, swapPss: 0 };
  // Swap entries of the area (smaps_pte_entry's non-present branch): Swap, and SwapPss shared out
  // between the mms whose entries name the same slot.
  for (const [va, slot] of s.swap) {
    if (va < v.start || va >= v.end) continue;
    c.swap += PAGE_SIZE;
    c.swapPss += Math.floor((PAGE_SIZE * PSS_SHIFT) / (s.swapCounts.get(slot) ?? 1));
  }
  const refcount = k.mmu.frames.refcount;
  s.pt.forEachLeaf(v.start, v.end - v.start, (_va, frame, size, flags) => {
    if (frame === s.zeroFrame) return;
    const cached = (flags & (PTE_SHMEM | PTE_FILE)) !== 0;
    // The page cache holds one reference of a shmem or file page; every other reference is a mapping.
    const mapcount = Math.max(1, refcount[frame]! - (cached ? 1 : 0));
    const dirty = (flags & PTE_DIRTY) !== 0;
    c.rss += size;
    if (!cached) c.anonymous += size;
    // An anonymous page no longer swap-backed (MADV_FREE, its batch drained) and still clean.
    if (!cached && !dirty && s.lazyFree.has(frame)) c.lazyFree += size;
    if ((flags & PTE_ACCESSED) !== 0) c.referenced += size;
    const pss = mapcount >= 2 ? Math.floor((size * PSS_SHIFT) / mapcount) : size * PSS_SHIFT;
    c.pss += pss;
    if (dirty) c.pssDirty += pss;
    if (mapcount >= 2) {
      if (dirty) c.sharedDirty += size;
      else c.sharedClean += size;
    } else if (dirty) c.privateDirty += size;
    else c.privateClean += size;
  });
  return c;
}

const line = (name: string, kb: number): string => `${(name + ':').padEnd(16)}${String(kb).padStart(8)} kB\n`;
const kB = (bytes: number): number => Math.floor(bytes / 1024);

/** One area's smaps entry. */
export function smapsEntry(k: Kernel<LinuxSpace>, p: Process<LinuxSpace>, v: VmArea): string {
  const s = p.space;
  const c = countArea(k, s, v);
  return mapsLine(s.mm, v) + '\n'
    + line('Size', kB(v.end - v.start))
    + line('KernelPageSize', kB(PAGE_SIZE))
    + line('MMUPageSize', kB(PAGE_SIZE))
    + line('Rss', kB(c.rss))
    + line('Pss', kB(Math.floor(c.pss / PSS_SHIFT)))
    + line('Pss_Dirty', kB(Math.floor(c.pssDirty / PSS_SHIFT)))
    + line('Shared_Clean', kB(c.sharedClean))
    + line('Shared_Dirty', kB(c.sharedDirty))
    + line('Private_Clean', kB(c.privateClean))
    + line('Private_Dirty', kB(c.privateDirty))
    + line('Referenced', kB(c.referenced))
    + line('Anonymous', kB(c.anonymous))
    + line('KSM', 0)
    + line('LazyFree', kB(c.lazyFree))
    + line('AnonHugePages', 0)
    + line('ShmemPmdMapped', 0)
    + line('FilePmdMapped', 0)
    + line('Shared_Hugetlb', 0)
    + line('Private_Hugetlb', 0)
    + line('Swap', kB(c.swap))
    + line('SwapPss', kB(Math.floor(c.swapPss / PSS_SHIFT)))
    // smap_gather_stats: a locked area's whole Pss is Locked.
    + line('Locked', (v.flags & VM_LOCKED) !== 0 ? kB(Math.floor(c.pss / PSS_SHIFT)) : 0)
    + `${'THPeligible:'.padEnd(16)}${String((v.flags & VM_HUGEPAGE) !== 0 && v.file === null ? 1 : 0).padStart(8)}\n`
    + vmFlagsLine(v) + '\n';
}

/** The whole /proc/<pid>/smaps. */
export function procSmaps(k: Kernel<LinuxSpace>, p: Process<LinuxSpace>): string {
  let out = '';
  for (const v of p.space.mm.vmas.iterateFrom(0)) out += smapsEntry(k, p, v);
  return out;
}
