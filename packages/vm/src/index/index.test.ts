/**
 * Differential property test: random insert/remove/find/lookup/overlap/gap sequences give the same
 * answers from all five indexes and the sorted-array reference; every structure's invariants
 * (red-black colours and black height, AVL balance, B-tree fill, order and leaf depth, augmented
 * gaps, threads) are checked after each step.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createIndex, INDEX_KINDS, SortedArrayIndex, type AddressSpaceIndex, type RangeEntry } from './index.js';

type Op =
  | { op: 'insert'; page: number; pages: number }
  | { op: 'remove'; pick: number }
  | { op: 'find'; page: number; off: number }
  | { op: 'overlap'; page: number; pages: number }
  | { op: 'gap'; pages: number; alignLog: number; lowPage: number; span: number; topDown: boolean };

const PAGE = 4096;
const BASE = 2 ** 40; // well above 2^32, to catch any 32-bit arithmetic

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('insert' as const), page: fc.nat(3000), pages: fc.integer({ min: 1, max: 40 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('remove' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('find' as const), page: fc.nat(3100), off: fc.nat(4095) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('overlap' as const), page: fc.nat(3000), pages: fc.integer({ min: 1, max: 200 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('gap' as const), pages: fc.integer({ min: 1, max: 64 }), alignLog: fc.integer({ min: 0, max: 6 }), lowPage: fc.nat(3000), span: fc.integer({ min: 1, max: 4000 }), topDown: fc.boolean() }) },
);

function run(ops: Op[], kinds: readonly string[]): void {
  const ref = new SortedArrayIndex<RangeEntry>();
  const impls = kinds.map((k) => createIndex<RangeEntry>(k as (typeof INDEX_KINDS)[number]));
  const all: AddressSpaceIndex<RangeEntry>[] = [ref, ...impls];
  const live: RangeEntry[] = [];
  for (const o of ops) {
    switch (o.op) {
      case 'insert': {
        const e = { start: BASE + o.page * PAGE, end: BASE + (o.page + o.pages) * PAGE };
        const results = all.map((ix) => ix.insert(e));
        expect(new Set(results).size).toBe(1);
        if (results[0] === true) live.push(e);
        break;
      }
      case 'remove': {
        if (live.length === 0) break;
        const [e] = live.splice(o.pick % live.length, 1);
        for (const ix of all) expect(ix.remove(e!)).toBe(true);
        for (const ix of all) expect(ix.remove(e!)).toBe(false);
        break;
      }
      case 'find': {
        const a = BASE + o.page * PAGE + o.off;
        const want = ref.find(a);
        for (const ix of impls) {
          expect(ix.find(a)).toBe(want);
          expect(ix.lookup(a)).toBe(ref.lookup(a));
        }
        break;
      }
      case 'overlap': {
        const s = BASE + o.page * PAGE;
        const want = ref.overlapping(s, s + o.pages * PAGE);
        for (const ix of impls) expect(ix.overlapping(s, s + o.pages * PAGE)).toEqual(want);
        const it = [...ref.iterateFrom(s)].slice(0, 5);
        for (const ix of impls) expect([...ix.iterateFrom(s)].slice(0, 5)).toEqual(it);
        break;
      }
      case 'gap': {
        const q = { length: o.pages * PAGE, alignment: PAGE * 2 ** o.alignLog, low: BASE + o.lowPage * PAGE, high: BASE + (o.lowPage + o.span) * PAGE, topDown: o.topDown };
        const want = ref.findGap(q);
        for (const ix of impls) expect([ix.kind, ix.findGap(q)]).toEqual([ix.kind, want]);
        break;
      }
    }
    for (const ix of all) ix.checkInvariants();
    for (const ix of all) expect(ix.size).toBe(live.length);
  }
}

describe('address-space indexes agree with a sorted array', () => {
  it('all five, random operation sequences', () => {
    fc.assert(fc.property(fc.array(opArb, { minLength: 20, maxLength: 250, size: 'max' }), (ops) => {
      run(ops, INDEX_KINDS);
    }), { seed: 20261123, numRuns: 150 });
  });

  it.each(INDEX_KINDS)('%s: 3,000 inserts then removal of every entry in random order', (kind) => {
    const ix = createIndex<RangeEntry>(kind);
    const ref = new SortedArrayIndex<RangeEntry>();
    const entries: RangeEntry[] = [];
    for (let i = 0; i < 3000; i++) {
      const e = { start: (i * 7919 % 3001) * 3 * PAGE, end: ((i * 7919 % 3001) * 3 + 1 + (i % 2)) * PAGE };
      expect(ix.insert(e)).toBe(ref.insert(e));
      entries.push(e);
    }
    ix.checkInvariants();
    for (let i = 0; i < entries.length; i++) {
      const e = entries[(i * 4099) % entries.length]!;
      expect(ix.remove(e)).toBe(ref.remove(e));
      if (i % 500 === 0) ix.checkInvariants();
      if (i % 97 === 0) expect(ix.findGap({ length: 2 * PAGE, alignment: PAGE, low: 0, high: 2 ** 47, topDown: true })).toBe(ref.findGap({ length: 2 * PAGE, alignment: PAGE, low: 0, high: 2 ** 47, topDown: true }));
    }
    expect(ix.size).toBe(0);
    ix.checkInvariants();
  });

  it('the invariant checks can fail (a corrupted red-black tree is caught)', () => {
    const ix = createIndex<RangeEntry>('rbtree');
    for (let i = 0; i < 10; i++) ix.insert({ start: i * 2 * PAGE, end: (i * 2 + 1) * PAGE });
    const root = (ix as unknown as { root: { aux: number } }).root;
    root.aux = 1; // paint the root red
    expect(() => { ix.checkInvariants(); }).toThrow(/red root/);
  });
});
