/** Linux constants (include/uapi/asm-generic/mman*.h, include/linux/mm.h). */

export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const PROT_EXEC = 0x4;
export const PROT_SEM = 0x8;

export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_SHARED_VALIDATE = 0x03;
export const MAP_TYPE = 0x0f;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_GROWSDOWN = 0x0100;
export const MAP_NORESERVE = 0x4000;
export const MAP_POPULATE = 0x8000;
export const MAP_FIXED_NOREPLACE = 0x100000;
/** The map type of droppable memory (6.11+, include/uapi/linux/mman.h). */
export const MAP_DROPPABLE = 0x08;
/** x86-64: map in the first 2 GiB (arch/x86/include/uapi/asm/mman.h). */
export const MAP_32BIT = 0x40;
export const MAP_LOCKED = 0x2000;
export const MAP_HUGETLB = 0x40000;

export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_EXEC = 0x4;
export const VM_SHARED = 0x8;
export const VM_MAYREAD = 0x10;
export const VM_MAYWRITE = 0x20;
export const VM_MAYEXEC = 0x40;
export const VM_MAYSHARE = 0x80;
export const VM_GROWSDOWN = 0x100;
export const VM_UFFD_MISSING = 0x200;
export const VM_PFNMAP = 0x400;
/**
 * VM_MAYBE_GUARD ("gu"): MADV_GUARD_INSTALL has put guard markers in the area's page tables (set on
 * the whole area, never split off nor cleared by MADV_GUARD_REMOVE; sticky across merges; fork
 * copies the page tables of an area that has it). Bit 11 on the host's 6.18 kernel, whose smaps
 * prints "gu" between "me" and "ac".
 */
export const VM_MAYBE_GUARD = 0x800;
export const VM_UFFD_WP = 0x1000;
export const VM_LOCKED = 0x2000;
export const VM_IO = 0x4000;
export const VM_SEQ_READ = 0x8000;
export const VM_RAND_READ = 0x10000;
export const VM_DONTCOPY = 0x20000;
export const VM_DONTEXPAND = 0x40000;
export const VM_LOCKONFAULT = 0x80000;
export const VM_ACCOUNT = 0x100000;
export const VM_NORESERVE = 0x200000;
export const VM_HUGETLB = 0x400000;
export const VM_SYNC = 0x800000;
export const VM_ARCH_1 = 0x1000000;
export const VM_WIPEONFORK = 0x2000000;
export const VM_DONTDUMP = 0x4000000;
export const VM_SOFTDIRTY = 0x8000000;
export const VM_MIXEDMAP = 0x10000000;
export const VM_HUGEPAGE = 0x20000000;
export const VM_NOHUGEPAGE = 0x40000000;

/**
 * The two-letter names /proc/<pid>/smaps prints on its VmFlags line, by bit (fs/proc/task_mmu.c
 * show_smap_vma_flags). Bits from 31 up (VM_MERGEABLE "mg", shadow stacks, sealing) are not
 * modelled: vm_flags stay below 2^31 here.
 */
export const VM_FLAG_MNEMONICS: readonly (string | null)[] = [
  'rd', 'wr', 'ex', 'sh', 'mr', 'mw', 'me', 'ms', 'gd', 'um', 'pf', 'gu', 'uw', 'lo', 'io', 'sr',
  'rr', 'dc', 'de', 'lf', 'ac', 'nr', 'ht', 'sf', 'ar', 'wf', 'dd', 'sd', 'mm', 'hg', 'nh',
];
/** Never merged (include/linux/mm.h VM_SPECIAL). */
export const VM_SPECIAL = VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP;

export const PAGE_SIZE = 4096;

export const MREMAP_MAYMOVE = 1;
export const MREMAP_FIXED = 2;
export const MREMAP_DONTUNMAP = 4;
