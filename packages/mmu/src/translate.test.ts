/**
 * Differential property test: under random map/unmap/protect/flush/translate sequences, translate()
 * agrees with a naive reference model (a Map from 4 KiB page to frame and rights), for every profile.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NO_FRAME } from './frames.js';
import { MAP_EXISTS, MAP_OK, type PageTable } from './pagetable.js';
import { FAULT_NOT_PRESENT, FAULT_TLB_REFILL, Mmu, TRANSLATE_FAULT } from './mmu.js';
import { getProfile, profileNames } from './profiles.js';
import { ACCESS_EXEC, ACCESS_WRITE, PTE_NX, PTE_USER, PTE_WRITE, type Access } from './pte.js';

interface ModelPage { frame: number; flags: number }

type Op =
  | { op: 'map'; space: number; page: number; sizeIdx: number; flags: number }
  | { op: 'unmap'; space: number; page: number; pages: number }
  | { op: 'protect'; space: number; page: number; pages: number; set: number; clear: number }
  | { op: 'translate'; space: number; cpu: number; page: number; offset: number; access: Access; user: boolean }
  | { op: 'switch'; space: number; cpu: number };

const FLAG_BITS = [PTE_WRITE, PTE_USER, PTE_NX];
const flagsArb = fc.subarray(FLAG_BITS).map((bits) => bits.reduce((a, b) => a | b, 0));
/** Mappings are mostly user-accessible, so translations succeed often enough to matter. */
const mapFlagsArb = fc.tuple(flagsArb, fc.integer({ min: 0, max: 4 })).map(([f, r]) => (r > 0 ? f | PTE_USER : f));

function opArb(regionPages: number): fc.Arbitrary<Op> {
  const space = fc.integer({ min: 0, max: 1 });
  // Most operations hit a small hot set (so TLB entries are reused and stale ones would show),
  // some roam the whole region (so several tables and huge leaves get involved).
  const page = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 500, max: 560 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: regionPages - 1 }) });
  const pages = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 40 }) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 700 }) });
  return fc.oneof(
    { weight: 3, arbitrary: fc.record({ op: fc.constant('map' as const), space, page, sizeIdx: fc.integer({ min: 0, max: 2 }), flags: mapFlagsArb }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('unmap' as const), space, page, pages }) },
    // Unmaps of whole 2 MiB-aligned stretches, so huge leaves are removed whole (and counted) too.
    { weight: 1, arbitrary: fc.record({ op: fc.constant('unmap' as const), space, page: fc.constantFrom(0, 512, 1024), pages: fc.constantFrom(512, 1024) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('protect' as const), space, page, pages, set: flagsArb, clear: flagsArb }) },
    { weight: 6, arbitrary: fc.record({ op: fc.constant('translate' as const), space, cpu: fc.integer({ min: 0, max: 1 }), page, offset: fc.integer({ min: 0, max: 4095 }), access: fc.constantFrom<Access>(0, 1, 2), user: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('switch' as const), space, cpu: fc.integer({ min: 0, max: 1 }) }) },
  );
}

function expectedFault(p: ModelPage | undefined, access: Access, user: boolean): number {
  if (p === undefined) return FAULT_NOT_PRESENT;
  if (user && (p.flags & PTE_USER) === 0) return 4;
  if (access === ACCESS_WRITE && (p.flags & PTE_WRITE) === 0) return 2;
  if (access === ACCESS_EXEC && (p.flags & PTE_NX) !== 0) return 3;
  return 0;
}

function runScenario(profileName: string, base: number, ops: Op[]): void {
  const profile = getProfile(profileName);
  const mmu = new Mmu(profile, { frames: 16384, cpus: 2, seed: 3 });
  const sizes = profile.pageTable.pageSizes.filter((s) => s <= 2 * 1024 * 1024);
  const spaces: PageTable[] = [mmu.createPageTable(), mmu.createPageTable()];
  const asids = [5, 9];
  spaces.forEach((pt, i) => {
    mmu.bindAsid(asids[i]!, pt);
  });
  const models = [new Map<number, ModelPage>(), new Map<number, ModelPage>()];
  const basePage = base / 4096;

  const freeFrame = (_va: number, frame: number, size: number): void => {
    mmu.frames.free(frame, Math.log2(size / 4096));
  };

  for (const op of ops) {
    const model = models[op.space]!;
    const pt = spaces[op.space]!;
    const asid = asids[op.space]!;
    if (op.op === 'map') {
      const size = sizes[op.sizeIdx % sizes.length]!;
      const per = size / 4096;
      const page = Math.floor(op.page / per) * per;
      const va = base + page * 4096;
      let overlap = false;
      for (let k = 0; k < per; k++) if (model.has(basePage + page + k)) overlap = true;
      const frame = mmu.frames.alloc(Math.log2(per));
      if (frame === NO_FRAME) continue;
      const r = pt.map(va, frame, size, op.flags);
      if (overlap) {
        expect(r).toBe(MAP_EXISTS);
        mmu.frames.free(frame, Math.log2(per));
      } else {
        expect(r).toBe(MAP_OK);
        for (let k = 0; k < per; k++) model.set(basePage + page + k, { frame: frame + k, flags: op.flags });
      }
    } else if (op.op === 'unmap') {
      const va = base + op.page * 4096;
      // Every leaf removed is reported once, lies inside the range, and covers only pages the model
      // holds, with the model's frames; together they cover exactly the model's pages in the range.
      let leaves = 0;
      let removedPages = 0;
      const n = pt.unmap(va, op.pages * 4096, (leafVa, frame, size) => {
        leaves++;
        expect(leafVa).toBeGreaterThanOrEqual(va);
        expect(leafVa + size).toBeLessThanOrEqual(va + op.pages * 4096);
        for (let k = 0; k < size / 4096; k++) expect(model.get(leafVa / 4096 + k)?.frame).toBe(frame + k);
        removedPages += size / 4096;
        freeFrame(leafVa, frame, size);
      });
      let modelPages = 0;
      for (let k = 0; k < op.pages; k++) if (model.delete(basePage + op.page + k)) modelPages++;
      expect(n).toBe(leaves);
      expect(removedPages).toBe(modelPages);
      mmu.shootdown(0, asid, va, op.pages * 4096);
    } else if (op.op === 'protect') {
      const va = base + op.page * 4096;
      pt.protect(va, op.pages * 4096, op.set, op.clear);
      for (let k = 0; k < op.pages; k++) {
        const p = model.get(basePage + op.page + k);
        if (p) p.flags = (p.flags | op.set) & ~op.clear;
      }
      mmu.shootdown(0, asid, va, op.pages * 4096);
    } else if (op.op === 'switch') {
      mmu.activate(op.cpu, asid);
    } else {
      mmu.activate(op.cpu, asid);
      const va = base + op.page * 4096 + op.offset;
      let pa = mmu.translate(op.cpu, asid, va, op.access, op.user);
      if (pa === TRANSLATE_FAULT && mmu.fault.kind === FAULT_TLB_REFILL) {
        // What the kernel does: refill from the page table, or treat an invalid PTE as a page fault.
        if (mmu.refill(op.cpu, asid, va, op.access)) pa = mmu.translate(op.cpu, asid, va, op.access, op.user);
        else mmu.fault.kind = FAULT_NOT_PRESENT;
      }
      const p = model.get(basePage + op.page);
      const want = expectedFault(p, op.access, op.user);
      if (want === 0) {
        expect(pa).toBe(p!.frame * 4096 + op.offset);
      } else {
        expect(pa).toBe(TRANSLATE_FAULT);
        expect(mmu.fault.kind).toBe(want);
      }
    }
  }
  // Every frame comes back: unmap everything and destroy the tables.
  for (const pt of spaces) pt.destroy(freeFrame);
  expect(mmu.frames.freeFrames).toBe(16384);
}

describe.each(profileNames())('translate agrees with a reference model (%s)', (name) => {
  const bases = name === 'mips-swtlb' ? [0x0040_0000, 0x7fc0_0000 - 0x4000_0000] : [0x0040_0000, 0x7f00_0000_0000, 0x3fe0_0000];
  it.each(bases)('region at 0x%s', (base) => {
    fc.assert(
      fc.property(fc.array(opArb(2048), { minLength: 40, maxLength: 200, size: 'max' }), (ops) => {
        runScenario(name, base, ops);
      }),
      { seed: 1234, numRuns: 60 },
    );
  });
});
