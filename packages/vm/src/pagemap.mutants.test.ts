// Tests written to kill surviving mutants of PageMap (docs/mutation.md, issue 22 §4).
import { describe, expect, it } from 'vitest';
import { PageMap } from './pagemap.js';

describe('PageMap growth', () => {
  it('grows only when a set would fill more than half the slots, to a quarter-full table', () => {
    const m = new PageMap();
    const slots: number[] = [];
    for (let p = 0; p < 9; p++) {
      m.set(p * 1000, p);
      slots.push(m.slotCount);
    }
    // 8 slots hold 4 entries; the 5th set rebuilds for 5 live entries at load ≤ 1/4 (32 slots).
    expect(slots).toEqual([8, 8, 8, 8, 32, 32, 32, 32, 32]);
    for (let p = 0; p < 9; p++) expect(m.get(p * 1000)).toBe(p);
  });
});

describe('PageMap tombstones', () => {
  it('a key deleted and set again goes back into its own slot (the tombstone is reused, not skipped)', () => {
    const m = new PageMap();
    m.set(1, 10); // keeps the map from emptying (an empty map drops its tombstones)
    const slotOf = (k: number): number => {
      for (let s = 0; s < m.slotCount; s++) if (m.keyAt(s) === k) return s;
      return -1;
    };
    for (const k of [2, 77, 4096, 123_457]) {
      m.set(k, k);
      const before = slotOf(k);
      expect(m.delete(k)).toBe(true);
      m.set(k, k + 1);
      expect(slotOf(k)).toBe(before);
      expect(m.get(k)).toBe(k + 1);
      m.delete(k);
    }
  });
});
