/** fs/proc/meminfo.c: /proc/meminfo, the lines this personality models. */
import { PAGE_SIZE } from '../flags.js';
import type { LinuxMachine, LinuxSpace } from '../machine.js';
import { PTE_FILE, PTE_PFN, PTE_SHMEM } from '../pte.js';
import { shmemPageCount } from '../shmem.js';

/**
 * /proc/meminfo (fs/proc/meminfo.c meminfo_proc_show), the lines modelled, "%-16s%8lu kB":
 * MemTotal and MemFree from the frame table; MemAvailable = free + what reclaim could free now
 * (unmapped page-cache pages and clean lazy-free pages; the kernel estimates it from watermarks);
 * Cached = page cache + shmem; AnonPages, Mapped (file and shmem pages mapped somewhere) and
 * Shmem counted once per page however many mappings share it; PageTables = page-table pages below
 * each root (as VmPTE); swap; and the overcommit lines.
 */
export function meminfo(m: LinuxMachine): string {
  const k = m.kernel;
  const frames = k.mmu.frames;
  const kb = (pages: number): number => pages * (PAGE_SIZE / 1024);
  const line = (name: string, pages: number): string => `${(name + ':').padEnd(16)}${String(kb(pages)).padStart(8)} kB\n`;
  const anon = new Set<number>();
  const mapped = new Set<number>();
  let tables = 0;
  const spaces = new Set<LinuxSpace>();
  for (const p of k.processes.values()) if (p.state === 'running') spaces.add(p.space);
  for (const s of spaces) {
    for (let l = 1; l < s.pt.tablesByLevel.length; l++) tables += s.pt.tablesByLevel[l]!;
    s.pt.forEachLeaf(0, s.mm.taskSize, (_va, frame, _size, flags) => {
      if (frame === s.zeroFrame || (flags & PTE_PFN) !== 0) return;
      if ((flags & (PTE_FILE | PTE_SHMEM)) !== 0) mapped.add(frame);
      else anon.add(frame);
    });
  }
  let cache = 0;
  let reclaimable = 0;
  for (const pages of m.pageCache.values()) {
    cache += pages.size;
    for (const f of pages.values()) if (frames.refcount[f] === 1) reclaimable++;
  }
  const shmem = shmemPageCount(m);
  const lazy = m.lazyMarked.size;
  const swap = k.vm.swap;
  return line('MemTotal', frames.frameCount) + line('MemFree', frames.freeFrames) + line('MemAvailable', frames.freeFrames + reclaimable + lazy)
    + line('Buffers', 0) + line('Cached', cache + shmem) + line('SwapCached', 0)
    + line('SwapTotal', swap.slots) + line('SwapFree', swap.slots - swap.usedSlots)
    + line('AnonPages', anon.size) + line('Mapped', mapped.size) + line('Shmem', shmem) + line('PageTables', tables)
    + m.commit.meminfoLines();
}
