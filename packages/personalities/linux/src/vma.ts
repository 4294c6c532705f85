/** vm_area_struct: one mapped range of an mm (include/linux/mm_types.h). */
import type { RangeEntry } from '@polykernel/vm';

export interface VmFile {
  path: string;
  /** Device and inode numbers printed by /proc/<pid>/maps ("fe:00 2146516"). */
  dev: [number, number];
  ino: number;
  /** The file's bytes, for the page cache (absent for shmem and layout-only files). */
  bytes?: Uint8Array;
}

export class VmArea implements RangeEntry {
  constructor(
    /** vm_start: first address. */
    public start: number,
    /** vm_end: first address after the area. */
    public end: number,
    /** vm_flags (VM_READ ... VM_ACCOUNT). */
    public flags: number,
    /** vm_pgoff: offset in the file in pages, or, for anonymous private areas, vm_start >> PAGE_SHIFT. */
    public pgoff: number,
    public file: VmFile | null = null,
    /** A special name ([heap], [stack], [vdso], [vvar], [anon:...]) or null. */
    public name: string | null = null,
  ) {}

  /** vma->anon_vma: 0 until the first fault (anon_vma_prepare); split halves share it. */
  anonVma = 0;

  get length(): number {
    return this.end - this.start;
  }

  /**
 * A copy covering [start, end) with pgoff adjusted and the same anon_vma: split_vma's halves, or the
 * area grown in place (start may lie below this one's, end above).
 */
  slice(start: number, end: number): VmArea {
    const v = new VmArea(start, end, this.flags, this.pgoff + (start - this.start) / 4096, this.file, this.name);
    v.anonVma = this.anonVma;
    return v;
  }
}
