import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { explainTranslation } from './explain.js';
import { MAP_BAD_ALIGNMENT, MAP_EXISTS, MAP_OK } from './pagetable.js';
import {
  FAULT_EXEC_PROTECT, FAULT_NOT_PRESENT, FAULT_TLB_REFILL, FAULT_USER_PROTECT, FAULT_WRITE_PROTECT,
  Mmu, TRANSLATE_FAULT,
} from './mmu.js';
import { getProfile, validateProfile } from './profiles.js';
import {
  ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE, formatPteFlags, PTE_ACCESSED, PTE_DIRTY, PTE_GLOBAL, PTE_HUGE, PTE_NX, PTE_PRESENT, PTE_SW1, PTE_SW2,
  PTE_SW3, PTE_SW4, PTE_USER, PTE_WRITE,
} from './pte.js';

const RW_USER = PTE_WRITE | PTE_USER | PTE_NX;

function machine(profile = 'x86-64', frames = 65536) {
  const mmu = new Mmu(getProfile(profile), { frames });
  const pt = mmu.createPageTable();
  mmu.bindAsid(1, pt);
  mmu.activate(0, 1);
  return { mmu, pt };
}

describe('profiles', () => {
  it('every shipped profile is valid', () => {
    for (const name of ['x86-64', 'x86-64-la57', 'arm64-a72', 'mips-swtlb']) expect(validateProfile(getProfile(name))).toEqual([]);
  });
  it('rejects an impossible geometry with reasons', () => {
    const p = getProfile('x86-64');
    p.tlb.l1d.arrays[0]!.ways = 3;
    expect(validateProfile(p).join()).toMatch(/not a multiple of ways|power of two/);
    expect(() => new Mmu(p)).toThrow(/invalid machine profile/);
    expect(() => getProfile('vax')).toThrow("unknown machine profile 'vax' (known: x86-64, x86-64-la57, arm64-a72, mips-swtlb)");
  });
  it('names each problem of a broken profile, and accepts the edges of each range', () => {
    const bad = (edit: (p: ReturnType<typeof getProfile>) => void): string[] => {
      const p = getProfile('x86-64');
      edit(p);
      return validateProfile(p);
    };
    expect(bad((p) => { p.pageTable.levels = 7; })).toEqual(['pageTable.levels 7 not in 1..6']);
    expect(bad((p) => { p.pageTable.levels = 6; })).toEqual([]);
    expect(bad((p) => { p.pageTable.levels = 0; })).toEqual(['pageTable.levels 0 not in 1..6', 'pageTable levels x bitsPerLevel do not cover vaBits']);
    expect(bad((p) => { p.pageTable.bitsPerLevel = 13; })).toEqual([
      'pageTable.bitsPerLevel 13 not in 1..12', 'page size 2097152 is not a leaf size of this format', 'page size 1073741824 is not a leaf size of this format',
    ]);
    expect(bad((p) => { p.pageTable.vaBits = 49; })).toEqual(['pageTable levels x bitsPerLevel do not cover vaBits']);
    expect(bad((p) => { p.asidBits = 17; })).toEqual(['asidBits 17 not in 0..16']);
    expect(bad((p) => { p.asidBits = -1; })).toEqual(['asidBits -1 not in 0..16']);
    expect(bad((p) => { p.asidBits = 16; p.cpus = 256; })).toEqual([]);
    expect(bad((p) => { p.asidBits = 0; p.cpus = 1; p.pageTable.levels = 1; p.pageTable.bitsPerLevel = 12; p.pageTable.vaBits = 24; p.pageTable.pageSizes = [4096]; p.tlb.l1d.arrays.splice(1); p.tlb.l1i.arrays.splice(1); p.tlb.l2 = null; })).toEqual([]);
    expect(bad((p) => { p.cpus = 0; })).toEqual(['cpus 0 not in 1..256']);
    expect(bad((p) => { p.cpus = 257; })).toEqual(['cpus 257 not in 1..256']);
    expect(bad((p) => { p.tlb.l1d.arrays[0]!.pageSize = 8192; })).toEqual(['L1 dTLB: page size 8192 not mapped by the page-table format']);
  });
});

describe('translate', () => {
  it('walks 4 levels on a miss, then hits in the TLB; counts and charges both', () => {
    const { mmu, pt } = machine();
    const f = mmu.frames.alloc(0);
    expect(pt.map(0x7f00_0000_1000, f, 4096, RW_USER)).toBe(MAP_OK);
    expect(mmu.translate(0, 1, 0x7f00_0000_1234, ACCESS_READ)).toBe(f * 4096 + 0x234);
    expect(mmu.metrics.walkRefs).toBe(4);
    expect(mmu.metrics.tlbMisses).toBe(1);
    const cycles = mmu.metrics.cycles;
    expect(mmu.translate(0, 1, 0x7f00_0000_1fff, ACCESS_READ)).toBe(f * 4096 + 0xfff);
    expect(mmu.metrics.tlbHits).toBe(1);
    expect(mmu.metrics.walkRefs).toBe(4);
    expect(mmu.metrics.cycles).toBe(cycles); // L1 hit costs 0 extra cycles on this profile
  });

  it('a 5-level (LA57) walk makes 5 references', () => {
    const { mmu, pt } = machine('x86-64-la57');
    const f = mmu.frames.alloc(0);
    const va = 2 ** 52 + 0x5000; // above the 4-level limit
    expect(pt.map(va, f, 4096, RW_USER)).toBe(MAP_OK);
    expect(mmu.translate(0, 1, va, ACCESS_READ)).toBe(f * 4096);
    expect(mmu.metrics.walkRefs).toBe(5);
  });

  it('sets accessed and dirty bits as x86 hardware does, with a dirty assist on the first write', () => {
    const { mmu, pt } = machine();
    const f = mmu.frames.alloc(0);
    pt.map(0x400000, f, 4096, RW_USER);
    mmu.translate(0, 1, 0x400000, ACCESS_READ);
    expect(pt.lookup(0x400000)!.flags & (PTE_ACCESSED | PTE_DIRTY)).toBe(PTE_ACCESSED);
    mmu.translate(0, 1, 0x400000, ACCESS_WRITE);
    expect(pt.lookup(0x400000)!.flags & PTE_DIRTY).toBe(PTE_DIRTY);
    expect(mmu.stats.dirtyAssists).toBe(1);
    mmu.translate(0, 1, 0x400008, ACCESS_WRITE);
    expect(mmu.stats.dirtyAssists).toBe(1);
  });

  it('reports each fault kind', () => {
    const { mmu, pt } = machine();
    pt.map(0x1000, mmu.frames.alloc(0), 4096, PTE_USER | PTE_NX); // read-only, no-exec
    pt.map(0x2000, mmu.frames.alloc(0), 4096, PTE_WRITE); // supervisor only
    expect(mmu.translate(0, 1, 0x9000, ACCESS_READ)).toBe(TRANSLATE_FAULT);
    expect(mmu.fault.kind).toBe(FAULT_NOT_PRESENT);
    expect(mmu.fault.level).toBe(3);
    expect(mmu.translate(0, 1, 0x1000, ACCESS_WRITE)).toBe(TRANSLATE_FAULT);
    expect(mmu.fault.kind).toBe(FAULT_WRITE_PROTECT);
    expect(mmu.translate(0, 1, 0x1000, ACCESS_EXEC)).toBe(TRANSLATE_FAULT);
    expect(mmu.fault.kind).toBe(FAULT_EXEC_PROTECT);
    expect(mmu.translate(0, 1, 0x2000, ACCESS_READ, true)).toBe(TRANSLATE_FAULT);
    expect(mmu.fault.kind).toBe(FAULT_USER_PROTECT);
    expect(mmu.translate(0, 1, 0x2000, ACCESS_WRITE, false)).toBeGreaterThan(0);
    expect(mmu.translate(0, 1, 2 ** 48, ACCESS_READ)).toBe(TRANSLATE_FAULT);
  });

  it('maps 2 MiB and 1 GiB pages with 3 and 2 walk references; needs physical alignment', () => {
    const { mmu, pt } = machine('x86-64', 1 << 19);
    const big = mmu.frames.alloc(18);
    const mid = mmu.frames.alloc(9);
    expect(pt.map(0x4000_0000, big, 1 << 30, RW_USER)).toBe(MAP_OK);
    expect(pt.map(0x20_0000, mid, 1 << 21, RW_USER)).toBe(MAP_OK);
    expect(pt.map(0x80_0000, mid + 1, 1 << 21, RW_USER)).toBeLessThan(0); // frame not 2 MiB aligned
    expect(mmu.translate(0, 1, 0x4000_0000 + 0x123456, ACCESS_READ)).toBe(big * 4096 + 0x123456);
    expect(mmu.metrics.walkRefs).toBe(2);
    expect(mmu.translate(0, 1, 0x20_0000 + 0x1f_ffff, ACCESS_READ)).toBe(mid * 4096 + 0x1f_ffff);
    expect(mmu.metrics.walkRefs).toBe(5);
    expect(pt.tablePages).toBe(3); // PML4 + 1 PDPT + 1 PD
  });

  it('unmapping part of a huge page splits it and keeps the rest', () => {
    const { mmu, pt } = machine();
    const mid = mmu.frames.alloc(9);
    pt.map(0x20_0000, mid, 1 << 21, RW_USER);
    expect(pt.unmap(0x20_1000, 4096)).toBe(1);
    mmu.shootdown(0, 1, 0x20_1000, 4096);
    expect(mmu.translate(0, 1, 0x20_1000, ACCESS_READ)).toBe(TRANSLATE_FAULT);
    expect(mmu.translate(0, 1, 0x20_2000, ACCESS_READ)).toBe(mid * 4096 + 0x2000);
    expect(pt.lookup(0x20_2000)!.pageSize).toBe(4096);
  });

  it('counts page-table pages and frees empty ones', () => {
    const { mmu, pt } = machine();
    const before = mmu.frames.freeFrames;
    pt.map(0x7f00_0000_0000, mmu.frames.alloc(0), 4096, RW_USER);
    expect(pt.tablePages).toBe(4);
    expect(pt.tableBytes).toBe(16384);
    expect(mmu.frames.freeFrames).toBe(before - 4); // 3 new tables + the data frame
    pt.unmap(0x7f00_0000_0000, 4096, (_va, frame) => {
      mmu.frames.free(frame, 0);
    });
    expect(pt.tablePages).toBe(1);
    expect(mmu.frames.freeFrames).toBe(before);
  });

  it('running out of frames for a table is a result code, not an exception', () => {
    const { pt } = machine('x86-64', 8);
    let result = 0;
    for (let i = 0; i < 8 && result === 0; i++) result = pt.map(i * 2 ** 39, 0, 4096, RW_USER);
    expect(result).toBe(-1); // MAP_NO_MEMORY
  });
});

describe('TLB coherence', () => {
  it('without a flush a stale translation survives mprotect; with the shootdown it does not', () => {
    const { mmu, pt } = machine();
    const f = mmu.frames.alloc(0);
    pt.map(0x400000, f, 4096, RW_USER);
    mmu.activate(1, 1);
    expect(mmu.translate(1, 1, 0x400000, ACCESS_WRITE)).toBe(f * 4096);
    pt.protect(0x400000, 4096, 0, PTE_WRITE);
    // The stale hit: CPU 1 still writes through its cached writable entry.
    expect(mmu.translate(1, 1, 0x400000, ACCESS_WRITE)).toBe(f * 4096);
    expect(mmu.shootdown(0, 1, 0x400000, 4096)).toBe(1);
    expect(mmu.metrics.tlbShootdowns).toBe(1);
    expect(mmu.translate(1, 1, 0x400000, ACCESS_WRITE)).toBe(TRANSLATE_FAULT);
    expect(mmu.fault.kind).toBe(FAULT_WRITE_PROTECT);
  });

  it('without a flush an unmapped page stays reachable; with it the access faults', () => {
    const { mmu, pt } = machine();
    const f = mmu.frames.alloc(0);
    pt.map(0x400000, f, 4096, RW_USER);
    mmu.translate(0, 1, 0x400000, ACCESS_READ);
    pt.unmap(0x400000, 4096);
    expect(mmu.translate(0, 1, 0x400000, ACCESS_READ)).toBe(f * 4096);
    mmu.flushLocal(0, 1, 0x400000, 4096);
    expect(mmu.translate(0, 1, 0x400000, ACCESS_READ)).toBe(TRANSLATE_FAULT);
  });

  it('global pages: one cached entry serves every ASID; a per-ASID flush keeps it; INVLPG drops it', () => {
    // A kernel page mapped global (x86 G) in two address spaces, as Linux maps its own half.
    const mmu = new Mmu(getProfile('x86-64'), { frames: 4096, cpus: 2 });
    const a = mmu.createPageTable();
    const b = mmu.createPageTable();
    mmu.bindAsid(1, a);
    mmu.bindAsid(2, b);
    const va = 0x7fff_f000_0000;
    const f = mmu.frames.alloc(0);
    const g = mmu.frames.alloc(0);
    for (const pt of [a, b]) expect(pt.map(va, f, 4096, PTE_WRITE | PTE_GLOBAL)).toBe(MAP_OK);
    mmu.activate(0, 1);
    expect(mmu.translate(0, 1, va, ACCESS_READ, false)).toBe(f * 4096);
    const misses = mmu.metrics.tlbMisses;
    // The entry cached under ASID 1 serves ASID 2 without a walk.
    mmu.activate(0, 2);
    expect(mmu.translate(0, 2, va, ACCESS_READ, false)).toBe(f * 4096);
    expect(mmu.metrics.tlbMisses).toBe(misses);
    // The kernel moves the page to frame g. A per-ASID flush (INVPCID single-context) keeps globals,
    // so the old frame is still reached: that is why the kernel must use INVLPG (or flush all).
    for (const pt of [a, b]) {
      pt.unmap(va, 4096);
      expect(pt.map(va, g, 4096, PTE_WRITE | PTE_GLOBAL)).toBe(MAP_OK);
    }
    mmu.flushAsid(0, 1);
    mmu.flushAsid(0, 2);
    expect(mmu.translate(0, 2, va, ACCESS_READ, false)).toBe(f * 4096);
    // INVLPG, issued while ASID 2 runs, drops the global entry cached under ASID 1 too.
    mmu.flushLocal(0, 2, va, 4096);
    expect(mmu.translate(0, 1, va, ACCESS_READ, false)).toBe(g * 4096);
    // And INVLPG issued under the ASID that cached it, on the other CPU, likewise.
    mmu.activate(1, 1);
    expect(mmu.translate(1, 1, va, ACCESS_READ, false)).toBe(g * 4096);
    for (const pt of [a, b]) {
      pt.unmap(va, 4096);
      expect(pt.map(va, f, 4096, PTE_WRITE | PTE_GLOBAL)).toBe(MAP_OK);
    }
    mmu.flushLocal(1, 1, va, 4096);
    expect(mmu.translate(1, 2, va, ACCESS_READ, false)).toBe(f * 4096);
    // A full flush drops globals as well.
    mmu.translate(1, 2, va, ACCESS_READ, false);
    for (const pt of [a, b]) {
      pt.unmap(va, 4096);
      expect(pt.map(va, g, 4096, PTE_WRITE | PTE_GLOBAL)).toBe(MAP_OK);
    }
    mmu.flushAll(1);
    expect(mmu.translate(1, 1, va, ACCESS_READ, false)).toBe(g * 4096);
  });

  it('a spurious fault after a permission upgrade without flush invalidates the stale entry', () => {
    const { mmu, pt } = machine();
    pt.map(0x400000, mmu.frames.alloc(0), 4096, PTE_USER);
    mmu.translate(0, 1, 0x400000, ACCESS_READ);
    pt.protect(0x400000, 4096, PTE_WRITE, 0);
    expect(mmu.translate(0, 1, 0x400000, ACCESS_WRITE)).toBe(TRANSLATE_FAULT);
    expect(mmu.translate(0, 1, 0x400000, ACCESS_WRITE)).toBeGreaterThan(0);
  });
});

describe('software-managed TLB (mips-swtlb)', () => {
  it('a miss traps; the kernel refills from its page table; then it hits', () => {
    const { mmu, pt } = machine('mips-swtlb', 4096);
    const f = mmu.frames.alloc(0);
    pt.map(0x0040_0000, f, 4096, RW_USER);
    expect(mmu.translate(0, 1, 0x0040_0010, ACCESS_READ)).toBe(TRANSLATE_FAULT);
    expect(mmu.fault.kind).toBe(FAULT_TLB_REFILL);
    expect(mmu.refill(0, 1, 0x0040_0010, ACCESS_READ)).toBe(true);
    expect(mmu.metrics.traps.tlbRefill).toBe(1);
    expect(mmu.metrics.walkRefs).toBe(2);
    expect(mmu.translate(0, 1, 0x0040_0010, ACCESS_READ)).toBe(f * 4096 + 0x10);
    expect(mmu.refill(0, 1, 0x0050_0000, ACCESS_READ)).toBe(false); // invalid: a real page fault
    expect(mmu.refill(0, 2, 0x0040_0010, ACCESS_READ)).toBe(false); // no page table bound to ASID 2
  });

  it('the page-table pool grows past its first 64 tables and keeps every mapping', () => {
    const { mmu, pt } = machine('x86-64', 65536);
    expect(mmu.pool.hostBytes()).toBe(64 * (512 * (4 + 2) + 4 + 2)); // next, flags, tableFrame, tableUsed
    const pages: [number, number][] = [];
    const first = mmu.frames.alloc(0);
    pt.map(0x8000_0000, first, 4096, RW_USER);
    const addresses = (): number[] => explainTranslation(mmu, 0, 1, 0x8000_0000, ACCESS_READ).steps.flatMap((s) => (s.kind === 'walk' ? [s.entryAddress] : []));
    const before = addresses();
    mmu.flushAll(0);
    // Each 1 GiB step needs a new page directory and page table: 100 steps need 200+ tables.
    for (let i = 0; i < 100; i++) {
      const f = mmu.frames.alloc(0);
      const va = 0x10_0000_0000 + i * 0x4000_0000;
      expect(pt.map(va, f, 4096, RW_USER)).toBe(MAP_OK);
      pages.push([va, f]);
    }
    expect(mmu.pool.tablesInUse).toBe(1 + 3 + 2 * 100); // the root; the PDPT, PD and PT of the first page; a PD and a PT per step
    expect(mmu.pool.hostBytes()).toBe(256 * (512 * (4 + 2) + 4 + 2));
    mmu.flushAll(0);
    expect(addresses()).toEqual(before); // the old tables kept their frames through the growth
    for (const [va, f] of pages) expect(mmu.translate(0, 1, va + 8, ACCESS_READ)).toBe(f * 4096 + 8);
    expect(pt.updateFlags(0x10_0000_0000, 0, PTE_WRITE)).toBe(true);
    expect(pt.updateFlags(0x10_0000_1000, 0, PTE_WRITE)).toBe(false); // not mapped
    expect(mmu.geometry.levelForSize(2 << 20)).toBe(2);
    expect(mmu.geometry.levelForSize(8192)).toBe(-1);
    const l1d = mmu.cpus[0]!.l1d;
    // All 100 pages fall in set 0 of the 4-way dTLB: it holds the last 4, and entryVa names them.
    expect(l1d.validEntries()).toBe(4);
    const held = (): number[] => Array.from({ length: 64 + 32 }, (_, slot) => slot).filter((slot) => l1d.peek(l1d.entryVa(slot), 1) === slot).map((slot) => l1d.entryVa(slot));
    expect(held().sort((a, b) => a - b)).toEqual(pages.slice(-4).map(([va]) => va));
    // A page in set 5, and a 2 MiB page in the second array.
    const big = mmu.frames.alloc(9);
    expect(pt.map(0x30_0000_0000, big, 2 << 20, RW_USER)).toBe(MAP_OK);
    expect(mmu.translate(0, 1, 0x30_0000_0000, ACCESS_READ)).toBe(big * 4096);
    expect(pt.map(0x10_0000_5000, first, 4096, RW_USER)).toBe(MAP_OK);
    expect(mmu.translate(0, 1, 0x10_0000_5000, ACCESS_READ)).toBe(first * 4096);
    expect(held()).toEqual(expect.arrayContaining([0x10_0000_5000, 0x30_0000_0000]));
  });

  it('prepare allocates the tables of a mapping without mapping it', () => {
    const { mmu, pt } = machine();
    const tables = mmu.pool.tablesInUse;
    expect(pt.prepare(0x7f00_0000_0000, 4096)).toBe(MAP_OK);
    expect(mmu.pool.tablesInUse).toBe(tables + 3); // PDPT, PD, PT
    expect(mmu.translate(0, 1, 0x7f00_0000_0000, ACCESS_READ)).toBe(TRANSLATE_FAULT);
    expect(pt.prepare(0x7f00_0000_1000, 4096)).toBe(MAP_OK);
    expect(mmu.pool.tablesInUse).toBe(tables + 3);
    expect(pt.prepare(0x7f00_0000_0000, 8192)).toBe(MAP_BAD_ALIGNMENT);
    expect(pt.prepare(-4096, 4096)).toBe(MAP_BAD_ALIGNMENT);
    expect(pt.prepare(2 ** 48, 4096)).toBe(MAP_BAD_ALIGNMENT);
    expect(pt.map(0x40_0000_0000, mmu.frames.alloc(9), 2 << 20, RW_USER)).toBe(MAP_OK);
    expect(pt.prepare(0x40_0000_1000, 4096)).toBe(MAP_EXISTS);
  });

  it('hostBytes adds up the frames, the page-table pool, every TLB and the per-CPU ASID bitmap', () => {
    const { mmu } = machine('x86-64');
    let tlbs = 0;
    for (const c of mmu.cpus) for (const t of [c.l1d, c.l1i, c.l2]) if (t) tlbs += t.hostBytes();
    expect(tlbs).toBeGreaterThan(0);
    expect(mmu.hostBytes()).toBe(mmu.frames.hostBytes() + mmu.pool.hostBytes() + tlbs + (1 << mmu.profile.asidBits) * mmu.cpus.length);
  });
});

describe('explain', () => {
  it('records TLB probes and each walk step, and agrees with translate()', () => {
    const { mmu, pt } = machine();
    const f = mmu.frames.alloc(0);
    pt.map(0x7f12_3456_7000, f, 4096, RW_USER);
    const e = explainTranslation(mmu, 0, 1, 0x7f12_3456_7123, ACCESS_READ);
    expect(e.pa).toBe(f * 4096 + 0x123);
    expect(e.steps.map((s) => s.kind)).toEqual(['tlb', 'tlb', 'walk', 'walk', 'walk', 'walk']);
    const walk = e.steps.filter((s) => s.kind === 'walk');
    expect(walk.map((s) => s.index)).toEqual([0xfe, 0x48, 0x1a2, 0x167]);
    expect(walk.map((s) => s.levelName)).toEqual(['PML4', 'PDPT', 'PD', 'PT']);
    expect(e.text).toContain('PML4[254]');
    const again = explainTranslation(mmu, 0, 1, 0x7f12_3456_7123, ACCESS_READ);
    expect(again.steps).toHaveLength(1);
    expect(again.steps[0]).toMatchObject({ kind: 'tlb', result: 'hit' });
    const miss = explainTranslation(mmu, 0, 1, 0x1000, ACCESS_WRITE);
    expect(miss.fault).toBe('not-present');
    expect(miss.text).toContain('not present');
  });

  it('pins each walk entry: its physical address, present and leaf bits, and where a huge page stops the walk', () => {
    const { mmu, pt } = machine();
    const f = mmu.frames.alloc(0);
    const va = 0x7f12_3456_7123;
    pt.map(0x7f12_3456_7000, f, 4096, RW_USER);
    const e = explainTranslation(mmu, 0, 1, va, ACCESS_READ);
    expect(e.fault).toBeNull();
    expect(e.text.split('\n')[0]).toBe('read of 0x7f1234567123 on CPU 0, ASID 1 (x86-64)');
    const walk = e.steps.filter((s) => s.kind === 'walk');
    // Each entry sits in its table's frame at index * 8 bytes; each level's table is the previous entry's next.
    let table = pt.root;
    for (const s of walk) {
      expect(s.entryAddress).toBe(mmu.pool.tableFrame[table]! * 4096 + s.index * 8);
      table = s.next;
    }
    expect(walk.map((s) => [s.present, s.leaf])).toEqual([[true, false], [true, false], [true, false], [true, true]]);
    expect(walk[3]!.next).toBe(f);
    expect(e.text).toContain(`leaf -> frame 0x${f.toString(16)}`);

    const big = mmu.frames.alloc(9);
    const hugeVa = 0x40_0000_0000;
    pt.map(hugeVa, big, 2 << 20, RW_USER);
    const h = explainTranslation(mmu, 0, 1, hugeVa + 0x1234, ACCESS_READ);
    const hw = h.steps.filter((s) => s.kind === 'walk');
    expect(hw.map((s) => s.levelName)).toEqual(['PML4', 'PDPT', 'PD']);
    expect(hw.map((s) => s.leaf)).toEqual([false, false, true]);
    expect(h.pa).toBe(big * 4096 + 0x1234);

    // 0x1000 shares its PML4 entry with the huge page, and its PDPT entry is empty: the walk stops there.
    const miss = explainTranslation(mmu, 0, 1, 0x1000, ACCESS_READ);
    expect(miss.pa).toBeNull();
    expect(miss.steps.filter((s) => s.kind === 'walk').map((s) => [s.present, s.leaf])).toEqual([[true, false], [false, false]]);
  });

  it('reports TLB hits with their rights, probes the iTLB for fetches and stops at an L2 hit', () => {
    const { mmu, pt } = machine();
    const ro = mmu.frames.alloc(0);
    const rx = mmu.frames.alloc(0);
    const rw = mmu.frames.alloc(0);
    pt.map(0x1000_0000, ro, 4096, PTE_USER | PTE_NX);
    pt.map(0x2000_0000, rx, 4096, PTE_USER);
    pt.map(0x3000_0000, rw, 4096, RW_USER);
    for (const va of [0x1000_0000, 0x2000_0000, 0x3000_0000]) expect(mmu.translate(0, 1, va, ACCESS_READ, true)).not.toBe(TRANSLATE_FAULT);
    const rights = (va: number): string | undefined => {
      const step = explainTranslation(mmu, 0, 1, va, ACCESS_READ).steps[0]!;
      expect(step).toMatchObject({ kind: 'tlb', tlb: 'L1 dTLB', result: 'hit' });
      return step.kind === 'tlb' ? step.rights : undefined;
    };
    expect(rights(0x1000_0000)).toBe('r--');
    expect(rights(0x2000_0000)).toBe('r-x');
    expect(rights(0x3000_0000)).toBe('rw-');
    // The read above filled the dTLB and the STLB; an instruction fetch misses the iTLB and hits the STLB.
    const fetch = explainTranslation(mmu, 0, 1, 0x2000_0000, ACCESS_EXEC);
    expect(fetch.steps).toEqual([
      { kind: 'tlb', tlb: 'L1 iTLB', result: 'miss' },
      expect.objectContaining({ kind: 'tlb', tlb: 'STLB', result: 'hit', frame: rx, rights: 'r-x' }),
    ]);
    expect(fetch.pa).toBe(rx * 4096);
    expect([fetch.access, explainTranslation(mmu, 0, 1, 0x3000_0000, ACCESS_WRITE).access, explainTranslation(mmu, 0, 1, 0x3000_0000, ACCESS_READ).access]).toEqual(['exec', 'write', 'read']);
  });

  it('renders the whole explanation: a walk, a TLB hit, a fault, a software refill', () => {
    const { mmu, pt } = machine();
    const f = mmu.frames.alloc(0);
    expect(f).toBe(1); // frame 0 holds the root table
    pt.map(0x7f12_3456_7000, f, 4096, RW_USER);
    // Indices 254, 72, 418, 359 are 0x7f12_3456_7123's 9-bit fields; each entry is 8 bytes into its table's frame.
    expect(explainTranslation(mmu, 0, 1, 0x7f12_3456_7123, ACCESS_READ).text).toBe([
      'read of 0x7f1234567123 on CPU 0, ASID 1 (x86-64)', '  L1 dTLB: miss', '  STLB: miss',
      '  PML4[254] at 0x7f0: P W U: -> table', '  PDPT[72] at 0x2240: P W U: -> table', '  PD[418] at 0x3d10: P W U: -> table',
      '  PT[359] at 0x4b38: P W U NX: leaf -> frame 0x1', '  => physical 0x1123',
    ].join('\n'));
    expect(explainTranslation(mmu, 0, 1, 0x7f12_3456_7123, ACCESS_READ).text).toBe(
      'read of 0x7f1234567123 on CPU 0, ASID 1 (x86-64)\n  L1 dTLB: hit in set 7 (4 KiB page, frame 0x1, rw-)\n  => physical 0x1123');
    expect(explainTranslation(mmu, 0, 1, 0x7f12_3456_8000, ACCESS_WRITE).text.split('\n').slice(-2))
      .toEqual(['  PT[360] at 0x4b40: -: not present', '  => fault: not-present']);
    const sw = machine('mips-swtlb', 4096);
    expect(explainTranslation(sw.mmu, 0, 1, 0x40_0123, ACCESS_READ).text).toBe([
      'read of 0x400123 on CPU 0, ASID 1 (mips-swtlb)', '  JTLB: miss', '  TLB miss traps to the kernel, whose refill handler walks the page table',
      '  PGD[1] at 0x4: -: not present', '  => fault: tlb-refill',
    ].join('\n'));
    expect(() => { mmu.bindAsid(4096, pt); }).toThrow('ASID 4096 outside 0..4095 (12 bits)');
    expect(() => { mmu.bindAsid(-1, pt); }).toThrow(RangeError);
    expect(() => { mmu.bindAsid(1.5, pt); }).toThrow(RangeError);
    mmu.bindAsid(4095, pt);
  });

  it('names every PTE flag bit in order', () => {
    expect(formatPteFlags(0)).toBe('-');
    expect(formatPteFlags(PTE_PRESENT | PTE_WRITE | PTE_USER | PTE_NX | PTE_ACCESSED | PTE_DIRTY | PTE_GLOBAL | PTE_HUGE | PTE_SW1 | PTE_SW2 | PTE_SW3 | PTE_SW4))
      .toBe('P W U NX A D G PS sw1 sw2 sw3 sw4');
  });

  it('shows a global TLB entry hitting for another ASID', () => {
    const { mmu, pt } = machine();
    const g = mmu.frames.alloc(0);
    pt.map(0x6000_0000, g, 4096, PTE_WRITE | PTE_NX | PTE_GLOBAL);
    expect(mmu.translate(0, 1, 0x6000_0000, ACCESS_READ, false)).toBe(g * 4096);
    mmu.bindAsid(2, mmu.createPageTable());
    mmu.activate(0, 2);
    const e = explainTranslation(mmu, 0, 2, 0x6000_0000, ACCESS_READ, false);
    expect(e.steps).toEqual([expect.objectContaining({ kind: 'tlb', tlb: 'L1 dTLB', result: 'hit', frame: g })]);
    expect(e.pa).toBe(g * 4096);
  });

  it('checks a user access by default, and shows the refill trap on a software-managed TLB', () => {
    const { mmu, pt } = machine();
    const k = mmu.frames.alloc(0);
    pt.map(0x5000_0000, k, 4096, PTE_WRITE | PTE_NX); // kernel only
    expect(explainTranslation(mmu, 0, 1, 0x5000_0000, ACCESS_READ).fault).toBe('user-protect');
    expect(explainTranslation(mmu, 0, 1, 0x5000_0000, ACCESS_READ, false).fault).toBeNull();

    const sw = machine('mips-swtlb', 4096);
    const f = sw.mmu.frames.alloc(0);
    sw.pt.map(0x40_0000, f, 4096, RW_USER);
    const e = explainTranslation(sw.mmu, 0, 1, 0x40_0123, ACCESS_READ);
    expect(e.steps.map((s) => s.kind)).toEqual(['tlb', 'software-refill', 'walk', 'walk']);
    expect(e.text).toContain('TLB miss traps to the kernel');
    expect(e.steps.filter((s) => s.kind === 'walk').map((s) => s.levelName)).toEqual(['PGD', 'PTE']);
  });
});

describe('splitting a 1 GiB page (split_huge_pud, then split_huge_pmd)', () => {
  const GIB_PAGES = 262144;
  interface Op { op: 'unmap' | 'protect'; page: number; pages: number }
  const opArb: fc.Arbitrary<Op> = fc.record({
    op: fc.constantFrom<'unmap' | 'protect'>('unmap', 'protect'),
    // Anywhere in the page, and often near 2 MiB boundaries, where a wrong stride shows first.
    page: fc.oneof(fc.integer({ min: 0, max: GIB_PAGES - 1 }), fc.integer({ min: 0, max: 511 }).chain((k) => fc.integer({ min: -3, max: 3 }).map((d) => Math.min(GIB_PAGES - 1, Math.max(0, k * 512 + d))))),
    pages: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 1500 })),
  });

  it('every page still translates to its own frame after unmaps and protects split it, as a per-page model says', () => {
    fc.assert(fc.property(
      fc.array(opArb, { minLength: 1, maxLength: 12 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: GIB_PAGES - 1 }), fc.integer({ min: 0, max: 4095 })), { minLength: 1, maxLength: 60 }),
      (ops, probes) => {
        const { mmu, pt } = machine('x86-64', 1 << 19);
        const big = mmu.frames.alloc(18);
        const base = 0x80_0000_0000; // 512 GiB: above 2^32, 1 GiB aligned
        expect(pt.map(base, big, 1 << 30, RW_USER)).toBe(MAP_OK);
        const state = new Uint8Array(GIB_PAGES); // 0 writable, 1 read-only, 2 unmapped
        for (const o of ops) {
          const n = Math.min(o.pages, GIB_PAGES - o.page);
          if (o.op === 'unmap') pt.unmap(base + o.page * 4096, n * 4096);
          else pt.protect(base + o.page * 4096, n * 4096, 0, PTE_WRITE);
          for (let i = o.page; i < o.page + n; i++) {
            if (o.op === 'unmap') state[i] = 2;
            else if (state[i] === 0) state[i] = 1;
          }
          mmu.shootdown(0, 1, base + o.page * 4096, n * 4096);
        }
        // Probe the edges of every op's range too, and each probe both for read and for write.
        const all = [...probes, ...ops.flatMap((o) => [[o.page, 0], [Math.max(0, o.page - 1), 4095], [Math.min(GIB_PAGES - 1, o.page + o.pages), 8]] as [number, number][])];
        for (const [page, off] of all) {
          const va = base + page * 4096 + off;
          const s = state[page]!;
          const r = mmu.translate(0, 1, va, ACCESS_READ);
          expect(r).toBe(s === 2 ? TRANSLATE_FAULT : big * 4096 + page * 4096 + off);
          const w = mmu.translate(0, 1, va, ACCESS_WRITE);
          expect(w).toBe(s === 0 ? big * 4096 + page * 4096 + off : TRANSLATE_FAULT);
          // The leaf holding it (4 KiB, 2 MiB or the 1 GiB) starts at the frame its offset says.
          const leaf = pt.lookup(va);
          if (s === 2) expect(leaf).toBeNull();
          else expect(leaf!.frame).toBe(big + (va - base - ((va - base) % leaf!.pageSize)) / 4096);
        }
      },
    ), { seed: 0x22_0310, numRuns: 40 });
  });
});
