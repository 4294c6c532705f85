/**
 * arch/x86/entry/vdso/vma.c: map_vdso puts the vDSO's data pages ([vvar], and [vvar_vclock] on
 * 6.x) and its text ([vdso]) where mmap(NULL) would; vvar_fault maps the data page by PFN and
 * special_mapping_fault (mm/mmap.c) the text pages, one set of frames per machine.
 */
import type { FaultResolution } from '@polykernel/kernel';
import { NO_FRAME } from '@polykernel/mmu';
import { PAGE_SIZE, VM_DONTDUMP, VM_DONTEXPAND, VM_EXEC, VM_IO, VM_MAYEXEC, VM_MAYREAD, VM_MAYWRITE, VM_PFNMAP, VM_READ } from './flags.js';
import type { LinuxMachine, LinuxSpace, VdsoFrames } from './machine.js';
import { RESOLVED } from './memory.js';
import type { MmStruct } from './mm.js';
import { getUnmappedArea } from './mmap.js';
import { PTE_FILE, PTE_PFN } from './pte.js';
import { VmArea } from './vma.js';

/**
 * map_vdso: 6.x (6.15+, as the host's 6.18 shows): [vvar] 4 pages, [vvar_vclock] 2, [vdso] 2;
 * 5.15: [vvar] 4 and [vdso] 2. Returns the [vdso] address.
 */
export function mapVdso(mm: MmStruct, variant: 'linux-5.15' | 'linux-6.x'): number {
  const parts: [string, number][] = variant === 'linux-6.x' ? [['[vvar]', 4], ['[vvar_vclock]', 2], ['[vdso]', 2]] : [['[vvar]', 4], ['[vdso]', 2]];
  const size = parts.reduce((n, [, pages]) => n + pages * PAGE_SIZE, 0);
  let at = getUnmappedArea(mm, 0, size, 0);
  let vdso = 0;
  for (const [name, pages] of parts) {
    const text = name === '[vdso]';
    const flags = text ? VM_READ | VM_EXEC | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC | VM_DONTEXPAND : VM_READ | VM_MAYREAD | VM_IO | VM_DONTDUMP | VM_PFNMAP | VM_DONTEXPAND;
    mm.addArea(new VmArea(at, at + pages * PAGE_SIZE, flags, 0, null, name));
    if (text) vdso = at;
    at += pages * PAGE_SIZE;
  }
  return vdso;
}

// ---- the pages behind the areas: vvar_fault and special_mapping_fault ---------------------------

/** The kernel's vDSO pages: one data page mapped by PFN, two text pages with a reference of their own. */
export function vdsoOf(m: LinuxMachine): VdsoFrames {
  let v = m.vdso;
  if (v === null) {
    const frames = m.kernel.mmu.frames;
    const alloc = (): number => {
      const f = frames.alloc(0, true);
      if (f === NO_FRAME) throw new RangeError('no frame for the vDSO');
      return f;
    };
    v = m.vdso = { vvar: alloc(), text: [alloc(), alloc()] };
  }
  return v;
}

/**
 * The vDSO's special mappings: [vdso] text pages come from special_mapping_fault (a page with a
 * struct page: counted as a file page), the data pages from vvar_fault by PFN (not counted).
 */
export function specialFault(m: LinuxMachine, s: LinuxSpace, v: VmArea, page: number, base: number): FaultResolution {
  const k = m.kernel;
  const d = vdsoOf(m);
  const index = (page - v.start) / PAGE_SIZE;
  if ((v.flags & VM_PFNMAP) !== 0) {
    s.pt.map(page, d.vvar, PAGE_SIZE, base | PTE_PFN);
    k.metrics.faults.file++;
    return RESOLVED.file;
  }
  const frame = d.text[index];
  if (frame === undefined) return { kind: 'signal', signal: 'SIGBUS', code: 'BUS_ADRERR' };
  k.mmu.frames.ref(frame);
  s.pt.map(page, frame, PAGE_SIZE, base | PTE_FILE);
  s.rss.file++;
  k.metrics.faults.file++;
  return RESOLVED.file;
}
