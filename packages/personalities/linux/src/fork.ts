/**
 * kernel/fork.c: dup_mmap's copy of the areas.
 */
import { PAGE_SIZE, VM_ACCOUNT, VM_DONTCOPY } from './flags.js';
import { err } from './internal.js';
import type { MmStruct } from './mm.js';
import type { VmArea } from './vma.js';

/**
 * dup_mm → dup_mmap (kernel/fork.c): `mm` (new, empty) becomes a copy of `src` — its layout
 * fields, and one area per source area except VM_DONTCOPY ones, each VM_ACCOUNT area charged
 * again (ENOMEM when the commit limit refuses). A copied area that had an anon_vma gets a new one
 * of its own (anon_vma_fork), so the child's areas never merge with each other through the
 * parent's. Shared memory files stay shared: both mms count their mappings on one record.
 * Returns the areas copied, source and copy, for copy_page_range.
 */
export function dupMmapAreas(mm: MmStruct, src: MmStruct): [VmArea, VmArea][] {
  mm.startBrk = src.startBrk;
  mm.brk = src.brk;
  mm.startCode = src.startCode;
  mm.endCode = src.endCode;
  mm.startData = src.startData;
  mm.endData = src.endData;
  mm.startStack = src.startStack;
  mm.argStart = src.argStart;
  mm.argEnd = src.argEnd;
  mm.envStart = src.envStart;
  mm.envEnd = src.envEnd;
  mm.gateArea = src.gateArea;
  const pairs: [VmArea, VmArea][] = [];
  let charged = 0;
  for (const v of src.vmas.iterateFrom(0)) {
    if ((v.flags & VM_DONTCOPY) !== 0) continue;
    if ((v.flags & VM_ACCOUNT) !== 0) {
      if (!mm.commit.charge(v.length / PAGE_SIZE, mm.totalVm)) {
        mm.commit.uncharge(charged);
        throw err('ENOMEM', 'the commit limit refuses the copy of a private writable area');
      }
      charged += v.length / PAGE_SIZE;
    }
    const c = v.slice(v.start, v.end);
    c.anonVma = v.anonVma === 0 ? 0 : mm.nextAnonVma++;
    mm.vmas.insert(c);
    mm.statAccount(c.flags, c.length / PAGE_SIZE);
    const shm = c.file === null ? undefined : src.shmem.get(c.file);
    if (shm !== undefined) {
      shm.mapped += c.length;
      mm.shmem.set(c.file!, shm);
    }
    pairs.push([v, c]);
  }
  mm.hiwaterVm = mm.totalVm;
  return pairs;
}
