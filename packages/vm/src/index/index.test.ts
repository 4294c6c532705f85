/**
 * Differential property test: random insert/remove/find/lookup/overlap/gap sequences give the same
 * answers from all five indexes and the sorted-array reference; every structure's invariants
 * (red-black colours and black height, AVL balance, B-tree fill, order and leaf depth, augmented
 * gaps, threads) are checked after each step.
 */
import fc from 'fast-check';
import { Metrics } from '@polykernel/core';
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
  // Offset 0 often: a page boundary is where an area ends and the next begins (end > addr, not >=).
  { weight: 3, arbitrary: fc.record({ op: fc.constant('find' as const), page: fc.nat(3100), off: fc.oneof(fc.constant(0), fc.nat(4095)) }) },
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

  it.each([true, false])('find and lookup at an area\'s end never answer that area, with the vmacache just filled by it (cache %s)', (cache) => {
    // Every vmacache slot (VMACACHE_HASH = page & 3): look up inside A so A is cached, then at A's end.
    for (const kind of INDEX_KINDS) {
      for (let slot = 0; slot < 4; slot++) {
        const ix = createIndex<RangeEntry>(kind, { cache });
        const a = { start: BASE + (8 + slot) * PAGE, end: BASE + (16 + slot) * PAGE };
        const b = { start: a.end, end: a.end + 2 * PAGE };
        const c = { start: b.end + 5 * PAGE, end: b.end + 6 * PAGE };
        for (const e of [a, b, c]) expect(ix.insert(e)).toBe(true);
        for (let p = a.start; p < a.end; p += PAGE) expect(ix.lookup(p)).toBe(a);
        expect([kind, slot, ix.find(a.end)?.start]).toEqual([kind, slot, b.start]);
        expect(ix.find(a.end)).toBe(b);
        expect(ix.lookup(a.end)).toBe(b);
        // Now the area after A is a hole: find answers the next area, lookup nothing.
        for (let p = b.start; p < b.end; p += PAGE) expect(ix.lookup(p)).toBe(b);
        expect(ix.find(b.end)).toBe(c);
        expect(ix.lookup(b.end)).toBeUndefined();
      }
    }
  });

  it('the invariant checks can fail (a corrupted red-black tree is caught)', () => {
    const ix = createIndex<RangeEntry>('rbtree');
    for (let i = 0; i < 10; i++) ix.insert({ start: i * 2 * PAGE, end: (i * 2 + 1) * PAGE });
    const root = (ix as unknown as { root: { aux: number } }).root;
    root.aux = 1; // paint the root red
    expect(() => { ix.checkInvariants(); }).toThrow(/red root/);
  });
});

/** Apply one operation to an index (the same meaning as in run(), without comparing answers). */
function apply(ix: AddressSpaceIndex<RangeEntry>, o: Op, live: RangeEntry[]): void {
  switch (o.op) {
    case 'insert': {
      const e = { start: BASE + o.page * PAGE, end: BASE + (o.page + o.pages) * PAGE };
      if (ix.insert(e)) live.push(e);
      break;
    }
    case 'remove': {
      if (live.length === 0) break;
      const [e] = live.splice(o.pick % live.length, 1);
      expect(ix.remove(e!)).toBe(true);
      expect(ix.remove(e!)).toBe(false);
      break;
    }
    case 'find':
      ix.find(BASE + o.page * PAGE + o.off);
      ix.lookup(BASE + o.page * PAGE + o.off);
      break;
    case 'overlap':
      ix.overlapping(BASE + o.page * PAGE, BASE + (o.page + o.pages) * PAGE);
      [...ix.iterateFrom(BASE + o.page * PAGE)].slice(0, 5);
      break;
    case 'gap':
      ix.findGap({ length: o.pages * PAGE, alignment: PAGE * 2 ** o.alignLog, low: BASE + o.lowPage * PAGE, high: BASE + (o.lowPage + o.span) * PAGE, topDown: o.topDown });
      break;
  }
}

const MAPLE_NODE_BYTES = 256;

/** The footprint an index must report: size × bytesPerEntry, or for the B-tree whole 256-byte nodes. */
function expectFootprint(ix: AddressSpaceIndex<RangeEntry>): void {
  if (ix.kind !== 'btree') {
    expect(ix.metadataBytes).toBe(ix.size * ix.bytesPerEntry);
    return;
  }
  if (ix.size === 0) {
    expect(ix.metadataBytes).toBe(0);
    return;
  }
  // Whole nodes; at least enough leaves for the entries (at most 15 per leaf), at most one node per
  // entry (leaves are at least half full, so internal nodes add less than the leaves).
  expect(ix.metadataBytes % MAPLE_NODE_BYTES).toBe(0);
  expect(ix.metadataBytes).toBeGreaterThanOrEqual(Math.ceil(ix.size / 15) * MAPLE_NODE_BYTES);
  expect(ix.metadataBytes).toBeLessThanOrEqual(Math.max(1, ix.size) * MAPLE_NODE_BYTES);
}

const ALL_KINDS = [...INDEX_KINDS, 'array'] as const;
const make = (kind: (typeof ALL_KINDS)[number], metrics: Metrics, cache: boolean): AddressSpaceIndex<RangeEntry> =>
  kind === 'array' ? new SortedArrayIndex<RangeEntry>(metrics) : createIndex<RangeEntry>(kind, { metrics, cache });

describe('indexes report to a metrics sink', () => {
  it('every kind: metadataBytes is the footprint and indexNodesVisited the sum of visits, after every operation', () => {
    fc.assert(fc.property(fc.array(opArb, { minLength: 20, maxLength: 200, size: 'max' }), fc.boolean(), (ops, cache) => {
      for (const kind of ALL_KINDS) {
        const m = new Metrics();
        const ix = make(kind, m, cache);
        const live: RangeEntry[] = [];
        let sum = 0;
        for (const o of ops) {
          const before = ix.nodesVisited;
          const mBefore = m.indexNodesVisited;
          apply(ix, o, live);
          const d = ix.nodesVisited - before;
          sum += d;
          expect([kind, o.op, m.indexNodesVisited - mBefore]).toEqual([kind, o.op, d]);
          expect(m.indexNodesVisited).toBe(sum);
          expect(m.metadataBytes).toBe(ix.metadataBytes);
          expectFootprint(ix);
        }
        ix.checkInvariants();
        for (const e of [...live]) {
          ix.remove(e);
          expect(m.metadataBytes).toBe(ix.metadataBytes);
        }
        // An emptied index has given every byte back.
        expect([kind, m.metadataBytes]).toEqual([kind, 0]);
        expect(m.indexNodesVisited).toBe(ix.nodesVisited);
      }
    }), { seed: 20261124, numRuns: 60 });
  });

  it('indexes sharing one sink add up; without a sink nothing else changes', () => {
    const shared = new Metrics();
    const withSink = ALL_KINDS.map((k) => make(k, shared, true));
    const without = [...INDEX_KINDS.map((k) => createIndex<RangeEntry>(k)), new SortedArrayIndex<RangeEntry>()];
    for (const ix of [...withSink, ...without]) {
      for (let i = 0; i < 500; i++) ix.insert({ start: BASE + i * 3 * PAGE, end: BASE + (i * 3 + 2) * PAGE });
      for (let i = 0; i < 500; i += 7) ix.find(BASE + i * 3 * PAGE);
      ix.findGap({ length: PAGE, alignment: PAGE, low: 0, high: 2 ** 47, topDown: true });
    }
    expect(shared.indexNodesVisited).toBe(withSink.reduce((n, ix) => n + ix.nodesVisited, 0));
    expect(shared.metadataBytes).toBe(withSink.reduce((n, ix) => n + ix.metadataBytes, 0));
    // The sink changes what is reported, never what is visited.
    expect(withSink.map((ix) => ix.nodesVisited)).toEqual(without.map((ix) => ix.nodesVisited));
    expect(without.every((ix) => (ix as unknown as { metrics: Metrics | null }).metrics === null)).toBe(true);
  });

  it('the B-tree counts whole 256-byte maple nodes, not bytesPerEntry', () => {
    const m = new Metrics();
    const ix = createIndex<RangeEntry>('btree', { metrics: m });
    expect(m.metadataBytes).toBe(0); // an empty maple tree has no node
    ix.insert({ start: PAGE, end: 2 * PAGE });
    expect(m.metadataBytes).toBe(256); // one leaf
    for (let i = 1; i < 15; i++) ix.insert({ start: (2 * i + 1) * PAGE, end: (2 * i + 2) * PAGE });
    expect(m.metadataBytes).toBe(256); // 15 entries still fit one leaf
    ix.insert({ start: 31 * PAGE, end: 32 * PAGE });
    expect(m.metadataBytes).toBe(3 * 256); // the 16th splits it: two leaves and a new root
    for (let i = 15; i >= 0; i--) ix.remove(ix.find(i * 2 * PAGE + PAGE)!);
    expect(m.metadataBytes).toBe(0);
  });
});
