/**
 * The software bits this personality keeps in a PTE (x86's _PAGE_SOFTW bits; Linux keeps the
 * same facts in struct page / folio flags and vma->vm_flags): what kind of page a PTE maps, so
 * zap, fork, reclaim and the /proc views know which rss counter it belongs to.
 */
import { PTE_SW2, PTE_SW3, PTE_SW4 } from '@polykernel/mmu';

/** Software PTE bit marking a shmem page (for the rss type when it is zapped). */
export const PTE_SHMEM = PTE_SW2;

/** Software PTE bit marking a page-cache page of a regular file (rss_stat MM_FILEPAGES). */
export const PTE_FILE = PTE_SW3;

/** Software PTE bit marking a raw PFN mapping (the vDSO's data pages): no struct page, no rss. */
export const PTE_PFN = PTE_SW4;
