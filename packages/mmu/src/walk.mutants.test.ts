// Tests written to kill surviving mutants of Mmu's page walk (docs/mutation.md, issue 22 §4).
import { describe, expect, it } from 'vitest';
import { explainTranslation } from './explain.js';
import { MAP_OK } from './pagetable.js';
import { FAULT_BAD_ADDRESS, FAULT_NOT_PRESENT, Mmu, TRANSLATE_FAULT } from './mmu.js';
import { getProfile, type MachineProfile } from './profiles.js';
import { ACCESS_READ, ACCESS_WRITE, formatPteFlags, PTE_ACCESSED, PTE_DIRTY, PTE_NX, PTE_USER, PTE_WRITE } from './pte.js';

const RW_USER = PTE_WRITE | PTE_USER | PTE_NX;

function machine(profile: string | MachineProfile = 'x86-64') {
  const mmu = new Mmu(typeof profile === 'string' ? getProfile(profile) : profile, { frames: 4096 });
  const pt = mmu.createPageTable();
  mmu.bindAsid(1, pt);
  mmu.activate(0, 1);
  return { mmu, pt };
}

describe('page walk: addresses it must not walk', () => {
  it('an address at or above 2^vaBits is a bad-address fault at level 0, never an alias of a low page', () => {
    const { mmu, pt } = machine();
    const f = mmu.frames.alloc(0);
    // 2^48 indexes like 0 in every level of a 4-level table: a walk would find this page.
    expect(pt.map(0, f, 4096, RW_USER)).toBe(MAP_OK);
    expect(mmu.translate(0, 1, 0, ACCESS_READ)).toBe(f * 4096);
    mmu.flushAll(0);
    expect(mmu.translate(0, 1, 2 ** 48, ACCESS_READ)).toBe(TRANSLATE_FAULT);
    expect(mmu.fault.kind).toBe(FAULT_BAD_ADDRESS);
    expect(mmu.fault.level).toBe(0);
    expect(mmu.fault.va).toBe(2 ** 48);
    // The last valid address walks normally (and faults as not present).
    expect(mmu.translate(0, 1, 2 ** 48 - 1, ACCESS_READ)).toBe(TRANSLATE_FAULT);
    expect(mmu.fault.kind).toBe(FAULT_NOT_PRESENT);
  });

  it('a negative address is a bad-address fault', () => {
    const { mmu, pt } = machine();
    expect(pt.map(0, mmu.frames.alloc(0), 4096, RW_USER)).toBe(MAP_OK);
    expect(mmu.translate(0, 1, -4096, ACCESS_READ)).toBe(TRANSLATE_FAULT);
    expect(mmu.fault.kind).toBe(FAULT_BAD_ADDRESS);
  });

  it('an ASID with no page table bound is a bad-address fault naming that ASID, not a crash', () => {
    const { mmu } = machine();
    mmu.activate(0, 2);
    expect(mmu.translate(0, 2, 0x1000, ACCESS_WRITE)).toBe(TRANSLATE_FAULT);
    expect(mmu.fault.kind).toBe(FAULT_BAD_ADDRESS);
    expect(mmu.fault.asid).toBe(2);
    expect(mmu.fault.access).toBe(ACCESS_WRITE);
    expect(mmu.stats.walks).toBe(0);
  });
});

describe('page walk: what a not-present walk costs', () => {
  it('charges one reference per level read, up to the level with no entry, and counts the walk', () => {
    const { mmu, pt } = machine();
    const ref = getProfile('x86-64').costs.walkRef;
    // Empty table: the walk stops at the top level after one reference.
    const start = mmu.metrics.cycles; // the root table's zeroing was charged when it was made
    expect(mmu.translate(0, 1, 0x40_0000, ACCESS_READ)).toBe(TRANSLATE_FAULT);
    expect([mmu.fault.kind, mmu.fault.level]).toEqual([FAULT_NOT_PRESENT, 0]);
    expect(mmu.metrics.walkRefs).toBe(1);
    expect(mmu.metrics.cycles - start).toBe(ref);
    expect(mmu.stats.walks).toBe(1);
    // A neighbour's tables exist: the walk reads all four levels before it finds no PTE.
    expect(pt.map(0x40_1000, mmu.frames.alloc(0), 4096, RW_USER)).toBe(MAP_OK);
    const cycles = mmu.metrics.cycles;
    expect(mmu.translate(0, 1, 0x40_0000, ACCESS_READ)).toBe(TRANSLATE_FAULT);
    expect([mmu.fault.kind, mmu.fault.level]).toEqual([FAULT_NOT_PRESENT, 3]);
    expect(mmu.metrics.walkRefs).toBe(1 + 4);
    expect(mmu.metrics.cycles - cycles).toBe(4 * ref);
    expect(mmu.stats.walks).toBe(2);
  });
});

describe('page walk: what a successful walk costs', () => {
  it('charges one reference per level down to the leaf: 4 for a 4 KiB page, 3 for 2 MiB', () => {
    const { mmu, pt } = machine();
    const ref = getProfile('x86-64').costs.walkRef;
    expect(pt.map(0x40_0000, mmu.frames.alloc(0), 4096, RW_USER)).toBe(MAP_OK);
    let before = mmu.metrics.cycles;
    expect(mmu.translate(0, 1, 0x40_0000, ACCESS_READ)).not.toBe(TRANSLATE_FAULT);
    expect(mmu.metrics.cycles - before).toBe(4 * ref);
    expect(pt.map(0x4000_0000, mmu.frames.alloc(9), 2 * 1024 * 1024, RW_USER)).toBe(MAP_OK);
    before = mmu.metrics.cycles;
    expect(mmu.translate(0, 1, 0x4000_1000, ACCESS_READ)).not.toBe(TRANSLATE_FAULT);
    expect(mmu.metrics.cycles - before).toBe(3 * ref);
  });
});

describe('page walk: a hardware-walked TLB without hardware accessed/dirty bits', () => {
  it('leaves A and D to software, and a write through a clean entry needs no dirty assist', () => {
    // A custom machine (an arm64 core without FEAT_HAFDBS, say): the shipped profiles that walk in
    // hardware all manage A/D in hardware, and mips-swtlb never walks.
    const { mmu, pt } = machine({ ...getProfile('x86-64'), hardwareAccessedDirty: false });
    const f = mmu.frames.alloc(0);
    expect(pt.map(0x40_0000, f, 4096, RW_USER)).toBe(MAP_OK);
    expect(mmu.translate(0, 1, 0x40_0000, ACCESS_READ)).toBe(f * 4096);
    expect(pt.lookup(0x40_0000)!.flags & (PTE_ACCESSED | PTE_DIRTY)).toBe(0);
    expect(mmu.translate(0, 1, 0x40_0008, ACCESS_WRITE)).toBe(f * 4096 + 8);
    expect(pt.lookup(0x40_0000)!.flags & (PTE_ACCESSED | PTE_DIRTY)).toBe(0);
    expect(mmu.stats.dirtyAssists).toBe(0);
    expect(mmu.stats.walks).toBe(1);
  });
});

/** Does each entry the walk to `va` reads (every level) carry the accessed bit? */
function accessedPerLevel(mmu: Mmu, va: number): boolean[] {
  const a = formatPteFlags(PTE_ACCESSED);
  return explainTranslation(mmu, 0, 1, va, ACCESS_READ).steps.flatMap((s) => (s.kind === 'walk' ? [s.flags.split(' ').includes(a)] : []));
}

describe('page walk: accessed bits in the tables above the leaf', () => {
  it('hardware sets A in every entry it walks through, not only in the PTE', () => {
    const { mmu, pt } = machine();
    expect(pt.map(0x40_0000, mmu.frames.alloc(0), 4096, RW_USER)).toBe(MAP_OK);
    expect(accessedPerLevel(mmu, 0x40_0000)).toEqual([false, false, false, false]);
    mmu.translate(0, 1, 0x40_0000, ACCESS_READ);
    mmu.flushAll(0);
    expect(accessedPerLevel(mmu, 0x40_0000)).toEqual([true, true, true, true]);
  });

  it('without hardware A/D, no entry is touched', () => {
    const { mmu, pt } = machine({ ...getProfile('x86-64'), hardwareAccessedDirty: false });
    expect(pt.map(0x40_0000, mmu.frames.alloc(0), 4096, RW_USER)).toBe(MAP_OK);
    mmu.translate(0, 1, 0x40_0000, ACCESS_READ);
    mmu.flushAll(0);
    expect(accessedPerLevel(mmu, 0x40_0000)).toEqual([false, false, false, false]);
  });
});

describe('page walk: a hardware-walked machine with no L2 TLB', () => {
  it('fills the L1 TLB alone and hits there next time', () => {
    const { mmu, pt } = machine({ ...getProfile('x86-64'), tlb: { ...getProfile('x86-64').tlb, l2: null } });
    const f = mmu.frames.alloc(0);
    expect(pt.map(0x40_0000, f, 4096, RW_USER)).toBe(MAP_OK);
    expect(mmu.translate(0, 1, 0x40_0010, ACCESS_READ)).toBe(f * 4096 + 0x10);
    expect(mmu.translate(0, 1, 0x40_0020, ACCESS_READ)).toBe(f * 4096 + 0x20);
    expect([mmu.stats.walks, mmu.metrics.tlbHits]).toEqual([1, 1]);
  });
});
