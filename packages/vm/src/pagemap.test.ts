/**
 * PageMap against a plain Map (differential): random sequences of set, delete, get, has, clear,
 * trim and range removal by slot walk must leave both with the same entries and answer every
 * query alike. Keys come from small dense ranges (many collisions, growth, tombstones) and from the
 * whole page-index range.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_PAGE_INDEX, PageMap } from './pagemap.js';

type Op =
  | { op: 'set'; k: number; v: number }
  | { op: 'delete'; k: number }
  | { op: 'get'; k: number }
  | { op: 'clear' }
  | { op: 'trim' }
  | { op: 'removeRange'; from: number; span: number };

const keyArb = fc.oneof(
  { weight: 6, arbitrary: fc.nat(63) },
  { weight: 3, arbitrary: fc.nat(4095) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: MAX_PAGE_INDEX }) },
);
const valueArb = fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff });

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ op: fc.constant('set' as const), k: keyArb, v: valueArb }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('delete' as const), k: keyArb }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('get' as const), k: keyArb }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('removeRange' as const), from: fc.nat(63), span: fc.nat(64) }) },
  { weight: 1, arbitrary: fc.constant({ op: 'trim' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
);

/** Delete every key in [from, from + span) while walking the slots (as VmSystem.removePages does). */
function removeRange(m: PageMap, from: number, span: number): number[] {
  const removed: number[] = [];
  for (let i = 0; i < m.slotCount; i++) {
    const k = m.keyAt(i);
    if (k < from || k >= from + span) continue;
    removed.push(k);
    m.delete(k);
  }
  return removed.sort((a, b) => a - b);
}

function sorted(entries: Iterable<[number, number]>): [number, number][] {
  return [...entries].sort((a, b) => a[0] - b[0]);
}

function apply(m: PageMap, model: Map<number, number>, o: Op): void {
  switch (o.op) {
    case 'set':
      expect(m.set(o.k, o.v)).toBe(m);
      model.set(o.k, o.v);
      break;
    case 'delete':
      expect(m.delete(o.k)).toBe(model.delete(o.k));
      break;
    case 'get':
      expect(m.get(o.k)).toBe(model.get(o.k));
      expect(m.has(o.k)).toBe(model.has(o.k));
      break;
    case 'clear':
      m.clear();
      model.clear();
      break;
    case 'trim':
      m.trim();
      break;
    case 'removeRange': {
      const want = [...model.keys()].filter((k) => k >= o.from && k < o.from + o.span).sort((a, b) => a - b);
      for (const k of want) model.delete(k);
      expect(removeRange(m, o.from, o.span)).toEqual(want);
      break;
    }
  }
  expect(m.size).toBe(model.size);
}

describe('PageMap', () => {
  it('behaves as a Map<number, number> over random operation sequences', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 400 }), (ops) => {
        const m = new PageMap();
        const model = new Map<number, number>();
        for (const o of ops) apply(m, model, o);
        expect(sorted(m)).toEqual(sorted(model));
        expect(sorted(m.entries())).toEqual(sorted(model.entries()));
        expect([...m.keys()].sort((a, b) => a - b)).toEqual([...model.keys()].sort((a, b) => a - b));
        expect([...m.values()].sort((a, b) => a - b)).toEqual([...model.values()].sort((a, b) => a - b));
        const seen = new Map<number, number>();
        m.forEach((v, k) => seen.set(k, v));
        expect(sorted(seen)).toEqual(sorted(model));
        for (const k of model.keys()) expect(m.get(k)).toBe(model.get(k));
      }),
      { numRuns: 300 },
    );
  });

  it('keeps every entry reachable through growth and heavy delete/reinsert churn', () => {
    const m = new PageMap();
    const model = new Map<number, number>();
    let peak = 0;
    for (let round = 0; round < 20; round++) {
      for (let k = round; k < 5000; k += 3) {
        m.set(k, k + round);
        model.set(k, k + round);
      }
      peak = Math.max(peak, model.size);
      for (let k = round; k < 5000; k += 2) expect(m.delete(k)).toBe(model.delete(k));
      expect(m.size).toBe(model.size);
    }
    for (let k = 0; k < 5000; k++) expect(m.get(k)).toBe(model.get(k));
    // Tombstones are dropped on rebuild rather than grown into: the table stays within 8× the peak.
    expect(m.slotCount).toBeLessThanOrEqual(8 * (peak + 1));
  });

  it('gives its memory back when emptied, and trims after bulk removal', () => {
    const m = new PageMap();
    for (let k = 0; k < 1000; k++) m.set(k, k);
    const big = m.slotCount;
    expect(removeRange(m, 10, 985)).toHaveLength(985);
    m.trim();
    expect(m.slotCount).toBeLessThan(big);
    expect([...m.keys()].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 995, 996, 997, 998, 999]);
    for (const k of [...m.keys()]) m.delete(k);
    expect([m.size, m.slotCount]).toEqual([0, 0]);
  });

  it('rejects keys that are not page indexes and values wider than 32 bits', () => {
    const m = new PageMap();
    expect(() => m.set(-1, 0)).toThrow(RangeError);
    expect(() => m.set(1.5, 0)).toThrow(RangeError);
    expect(() => m.set(MAX_PAGE_INDEX + 1, 0)).toThrow(/page index 2147483648/);
    expect(() => m.set(0, 2 ** 31)).toThrow(/32-bit/);
    m.set(MAX_PAGE_INDEX, -7);
    expect([m.get(MAX_PAGE_INDEX), m.get(-1), m.get(0.5), m.has(2 ** 40), m.delete(-3)]).toEqual([-7, undefined, undefined, false, false]);
  });
});
