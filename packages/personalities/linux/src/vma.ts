/**
 * vm_area_struct (include/linux/mm_types.h) and what mm/vma.c does to areas: split_vma, vma_merge
 * (vma_merge_new_range / vma_modify's merging with the neighbours) and do_vmi_align_munmap, the
 * unmapping of a range that munmap, MAP_FIXED, brk, mremap and exit all go through.
 */
import type { RangeEntry } from '@polykernel/vm';
import { PAGE_SIZE, VM_ACCOUNT, VM_LOCKED, VM_MAYBE_GUARD, VM_SPECIAL } from './flags.js';
import { err } from './internal.js';
import type { MmStruct } from './mm.js';

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

  /**
   * The anon_vma_chain also links the parent's anon_vma (anon_vma_fork gave a child's copy of a
   * faulted area its own anon_vma chained to the parent's): the chain is not singular, so the
   * area never takes in a range without an anon_vma (is_mergeable_anon_vma).
   */
  forkedAnon = false;

  /** VM_DROPPABLE (6.11+, bit 40, beyond the 32-bit flag word; smaps "dp"): MAP_DROPPABLE memory. */
  droppable = false;

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
    v.forkedAnon = this.forkedAnon;
    v.droppable = this.droppable;
    return v;
  }
}

/** split_vma: cut `v` at `at` into two areas sharing its anon_vma. */
export function splitVma(mm: MmStruct, v: VmArea, at: number): void {
  mm.vmas.remove(v);
  mm.vmas.insert(v.slice(v.start, at));
  mm.vmas.insert(v.slice(at, v.end));
}

/**
 * vma_modify_flags: [s, e) of `v` takes `newFlags` — split off at either end (split_vma refuses
 * with ENOMEM once the mm holds max_map_count areas; a first split already made stays), then
 * merged with its neighbours where vma_merge would. Accounting is the caller's.
 */
export function modifyFlags(mm: MmStruct, v: VmArea, s: number, e: number, newFlags: number): void {
  let piece = v;
  if (v.start < s) {
    if (mm.mapCount >= mm.maxMapCount) throw err('ENOMEM', 'the split would exceed max_map_count');
    splitVma(mm, v, s);
    piece = mm.vmas.lookup(s)!;
  }
  if (piece.end > e) {
    if (mm.mapCount >= mm.maxMapCount) throw err('ENOMEM', 'the split would exceed max_map_count');
    splitVma(mm, piece, e);
    piece = mm.vmas.lookup(s)!;
  }
  mm.vmas.remove(piece);
  piece.flags = newFlags;
  vmaMerge(mm, piece);
}

/** Insert `v`, merging with its neighbours when vma_merge would (same flags, file, contiguous pgoff, compatible anon_vma). */
export function vmaMerge(mm: MmStruct, v: VmArea): void {
  let area = v;
  const prev = mm.vmas.find(area.start - 1);
  if (prev?.end === area.start && mergeable(prev, area)) {
    mm.vmas.remove(prev);
    area = join(prev, area);
  }
  const next = mm.vmas.find(area.end);
  if (next?.start === area.end && mergeable(area, next)) {
    mm.vmas.remove(next);
    area = join(area, next);
  }
  mm.vmas.insert(area);
}

/** is_mergeable_vma + the pgoff and anon_vma checks of can_vma_merge_before/after. */
export function mergeable(a: VmArea, b: VmArea): boolean {
  // VM_MAYBE_GUARD is sticky: it does not keep areas apart, and the joined area has it.
  if (((a.flags | b.flags) & VM_SPECIAL) !== 0 || (a.flags | VM_MAYBE_GUARD) !== (b.flags | VM_MAYBE_GUARD) || a.droppable !== b.droppable || a.name !== b.name) return false;
  if (a.file !== b.file) return false;
  if (a.pgoff + a.length / PAGE_SIZE !== b.pgoff) return false;
  // is_mergeable_anon_vma: the same anon_vma, or at most one of them has one and that one's
  // anon_vma_chain is singular — not a fork's copy (5.15: list_is_singular; 6.x since the
  // vma_merge rework: vma_had_uncowed_parents).
  if (a.anonVma === b.anonVma) return true;
  if (a.anonVma === 0) return !b.forkedAnon;
  if (b.anonVma === 0) return !a.forkedAnon;
  return false;
}

/** The area covering both neighbours, keeping the anon_vma one of them has. */
function join(a: VmArea, b: VmArea): VmArea {
  const j = a.slice(a.start, b.end);
  j.flags |= b.flags & VM_MAYBE_GUARD;
  if (j.anonVma === 0) {
    j.anonVma = b.anonVma;
    j.forkedAnon = b.forkedAnon;
  }
  return j;
}

/**
 * do_vmi_align_munmap: split the areas straddling the ends, then drop everything inside,
 * returning their VM_ACCOUNT pages to Committed_AS unless the caller took them over (`uncharge`).
 */
export function unmapRange(mm: MmStruct, start: number, end: number, uncharge = true): void {
  const hit = mm.vmas.overlapping(start, end);
  if (hit.length === 0) return;
  mm.hiwaterVm = Math.max(mm.hiwaterVm, mm.totalVm);
  const first = hit[0]!;
  const last = hit[hit.length - 1]!;
  // split_vma fails with ENOMEM when the split would exceed max_map_count.
  if (first.start < start && end < first.end && mm.mapCount >= mm.maxMapCount) throw err('ENOMEM', 'split would exceed max_map_count');
  if (first.start < start) splitVma(mm, first, start);
  if (last.end > end) splitVma(mm, mm.vmas.lookup(end - 1)!, end);
  for (const v of mm.vmas.overlapping(start, end)) {
    mm.vmas.remove(v);
    if (uncharge && (v.flags & VM_ACCOUNT) !== 0) mm.commit.uncharge(v.length / PAGE_SIZE);
    // vms_gather_munmap_vmas: locked areas leave locked_vm.
    if ((v.flags & VM_LOCKED) !== 0) mm.lockedVm -= v.length / PAGE_SIZE;
    mm.mapped(v, -v.length);
  }
}
