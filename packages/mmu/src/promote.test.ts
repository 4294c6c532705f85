/**
 * PageTable.promote (pmap_promote_pde's check and PDE store) and FrameTable.zeroFrames: a full
 * table of contiguous, aligned, same-flag leaves becomes one huge leaf; anything else is refused
 * with the reason and the tables left as they were.
 */
import { Metrics, PAGE_SIZE_2M, PAGE_SIZE_4K } from '@polykernel/core';
import { describe, expect, it } from 'vitest';
import { FRAME_ZEROED } from './frames.js';
import { Mmu } from './mmu.js';
import {
  MAP_BAD_ALIGNMENT, MAP_OK, PROMOTE_ALREADY, PROMOTE_MISALIGNED, PROMOTE_MIXED_FLAGS, PROMOTE_NOT_CONTIGUOUS, PROMOTE_NOT_MAPPED,
} from './pagetable.js';
import { getProfile } from './profiles.js';
import { ACCESS_READ, PTE_ACCESSED, PTE_DIRTY, PTE_HUGE, PTE_NX, PTE_USER, PTE_WRITE } from './pte.js';

const VA = 0x4000_0000;
const MASK = PTE_WRITE | PTE_USER | PTE_NX;

function machine(): Mmu {
  return new Mmu(getProfile('x86-64'), { frames: 8192, metrics: new Metrics() });
}

/** Map 512 small pages at VA over `first`.., flags per page from `flags(i)`. */
function fill(mmu: Mmu, first: number, flags: (i: number) => number = () => PTE_USER | PTE_WRITE, skip = -1) {
  const pt = mmu.createPageTable();
  for (let i = 0; i < 512; i++) if (i !== skip) expect(pt.map(VA + i * PAGE_SIZE_4K, first + i, PAGE_SIZE_4K, flags(i))).toBe(MAP_OK);
  return pt;
}

describe('PageTable.promote', () => {
  it('replaces a full table of contiguous aligned leaves by one 2 MiB leaf and frees the table page', () => {
    const mmu = machine();
    const block = mmu.frames.alloc(9);
    const pt = fill(mmu, block, (i) => PTE_USER | PTE_WRITE | (i === 3 ? PTE_DIRTY : 0) | (i === 9 ? PTE_ACCESSED : 0));
    const tables = pt.tablePages;
    const free = mmu.frames.freeFrames;
    expect(pt.promote(VA, PAGE_SIZE_2M, MASK)).toBe(MAP_OK);
    expect(pt.tablePages).toBe(tables - 1);
    expect(mmu.frames.freeFrames).toBe(free + 1);
    const r = pt.lookup(VA + 77 * PAGE_SIZE_4K)!;
    expect(r.pageSize).toBe(PAGE_SIZE_2M);
    expect(r.frame).toBe(block);
    expect(r.flags & PTE_HUGE).toBe(PTE_HUGE);
    expect(r.flags & (PTE_DIRTY | PTE_ACCESSED)).toBe(PTE_DIRTY | PTE_ACCESSED);
    // The hardware walk now ends one level up and fills the 2 MiB TLB arrays.
    mmu.bindAsid(1, pt);
    mmu.activate(0, 1);
    expect(mmu.translate(0, 1, VA + 300 * PAGE_SIZE_4K + 5, ACCESS_READ)).toBe((block + 300) * PAGE_SIZE_4K + 5);
    expect(mmu.translate(0, 1, VA + 400 * PAGE_SIZE_4K, ACCESS_READ)).toBe((block + 400) * PAGE_SIZE_4K);
    expect(mmu.metrics.tlbMisses).toBe(1);
    // And splitting it gives back the same 512 leaves.
    expect(pt.splitHuge(VA)).toBe(MAP_OK);
    expect(pt.lookup(VA + 511 * PAGE_SIZE_4K)!.frame).toBe(block + 511);
    expect(pt.promote(VA, PAGE_SIZE_2M, MASK)).toBe(MAP_OK);
    expect(pt.promote(VA, PAGE_SIZE_2M, MASK)).toBe(PROMOTE_ALREADY);
  });

  it('refuses a hole, a misaligned or discontiguous run, mixed flags, and a bad address', () => {
    const mmu = machine();
    const block = mmu.frames.alloc(9);
    const other = mmu.frames.alloc(9);
    expect(fill(mmu, block, undefined, 100).promote(VA, PAGE_SIZE_2M, MASK)).toBe(PROMOTE_NOT_MAPPED);
    const mis = mmu.createPageTable();
    for (let i = 0; i < 512; i++) mis.map(VA + i * PAGE_SIZE_4K, block + 1 + (i % 511), PAGE_SIZE_4K, PTE_USER);
    expect(mis.promote(VA, PAGE_SIZE_2M, MASK)).toBe(PROMOTE_MISALIGNED);
    const gap = mmu.createPageTable();
    for (let i = 0; i < 512; i++) gap.map(VA + i * PAGE_SIZE_4K, i < 256 ? block + i : other + i, PAGE_SIZE_4K, PTE_USER);
    expect(gap.promote(VA, PAGE_SIZE_2M, MASK)).toBe(PROMOTE_NOT_CONTIGUOUS);
    const mixed = fill(mmu, block, (i) => PTE_USER | (i === 511 ? 0 : PTE_WRITE));
    expect(mixed.promote(VA, PAGE_SIZE_2M, MASK)).toBe(PROMOTE_MIXED_FLAGS);
    expect(mixed.lookup(VA)!.pageSize).toBe(PAGE_SIZE_4K);
    expect(mixed.promote(VA + PAGE_SIZE_4K, PAGE_SIZE_2M, MASK)).toBe(MAP_BAD_ALIGNMENT);
    expect(mmu.createPageTable().promote(VA, PAGE_SIZE_2M, MASK)).toBe(PROMOTE_NOT_MAPPED);
  });
});

describe('PageTable.promote with FreeBSD\'s rules (PG_A required, clean writable PTEs write-protected)', () => {
  const FULL = MASK | PTE_ACCESSED | PTE_DIRTY;
  it('promotes an all-clean run read-only, refuses clean beside dirty (write-protecting the clean ones), refuses an unaccessed entry', () => {
    const mmu = machine();
    const block = mmu.frames.alloc(9);
    const clean = fill(mmu, block, () => PTE_USER | PTE_WRITE | PTE_ACCESSED);
    expect(clean.promote(VA, PAGE_SIZE_2M, FULL, PTE_ACCESSED, true)).toBe(MAP_OK);
    expect(clean.lookup(VA)!.flags & PTE_WRITE).toBe(0);
    const mixed = fill(mmu, block, (i) => PTE_USER | PTE_WRITE | PTE_ACCESSED | (i === 5 ? 0 : PTE_DIRTY));
    expect(mixed.promote(VA, PAGE_SIZE_2M, FULL, PTE_ACCESSED, true)).toBe(PROMOTE_MIXED_FLAGS);
    expect(mixed.lookup(VA + 5 * PAGE_SIZE_4K)!.flags & PTE_WRITE).toBe(0);
    expect(mixed.lookup(VA + 4 * PAGE_SIZE_4K)!.flags & PTE_WRITE).toBe(PTE_WRITE);
    const unaccessed = fill(mmu, block, (i) => PTE_USER | (i === 300 ? 0 : PTE_ACCESSED));
    expect(unaccessed.promote(VA, PAGE_SIZE_2M, FULL, PTE_ACCESSED, true)).toBe(PROMOTE_MIXED_FLAGS);
  });
});

describe('FrameTable.zeroFrames', () => {
  it('zeroes allocated frames now and charges them; refuses a free frame', () => {
    const mmu = machine();
    const f = mmu.frames.alloc(9);
    mmu.frames.markDirty(f + 2);
    const zeroed = mmu.metrics.pagesZeroed;
    mmu.frames.zeroFrames(f + 2, 1);
    expect(mmu.metrics.pagesZeroed).toBe(zeroed + 1);
    expect(mmu.frames.flags[f + 2]! & FRAME_ZEROED).toBe(FRAME_ZEROED);
    mmu.frames.free(f, 9);
    expect(() => { mmu.frames.zeroFrames(f, 1); }).toThrow(RangeError);
  });
});
