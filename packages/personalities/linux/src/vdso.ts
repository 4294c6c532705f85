/**
 * arch/x86/entry/vdso/vma.c: map_vdso puts the vDSO's data pages ([vvar], and [vvar_vclock] on
 * 6.x) and its text ([vdso]) where mmap(NULL) would.
 */
import { PAGE_SIZE, VM_DONTDUMP, VM_DONTEXPAND, VM_EXEC, VM_IO, VM_MAYEXEC, VM_MAYREAD, VM_MAYWRITE, VM_PFNMAP, VM_READ } from './flags.js';
import type { MmStruct } from './mm.js';
import { getUnmappedArea } from './mmap.js';
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
