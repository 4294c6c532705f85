import { describe, expect, it } from 'vitest';
import { Tlb, TLB_W } from './tlb.js';
import type { Replacement } from './profiles.js';

const K4 = 4096;
const M2 = 2 * 1024 * 1024;

function oneSet(ways: number, replacement: Replacement): Tlb {
  return new Tlb({ name: 't', replacement, arrays: [{ pageSize: K4, entries: ways, ways }] }, 5);
}

/** Fill a fully associative TLB with pages 0..ways-1, touch some, insert one more, report who was evicted. */
function evicted(tlb: Tlb, ways: number, touches: number[]): number[] {
  for (let p = 0; p < ways; p++) tlb.insert(p * K4, 1, false, p, K4, 0);
  for (const p of touches) expect(tlb.lookup(p * K4, 1)).toBeGreaterThanOrEqual(0);
  tlb.insert(ways * K4, 1, false, 99, K4, 0);
  const gone: number[] = [];
  for (let p = 0; p < ways; p++) if (tlb.peek(p * K4, 1) < 0) gone.push(p);
  return gone;
}

describe('TLB replacement', () => {
  it('LRU evicts the least recently used', () => {
    expect(evicted(oneSet(4, 'lru'), 4, [0, 2, 3])).toEqual([1]);
    expect(evicted(oneSet(4, 'lru'), 4, [1, 2, 3, 0])).toEqual([1]);
  });
  it('FIFO evicts the oldest insertion whatever was touched', () => {
    expect(evicted(oneSet(4, 'fifo'), 4, [0, 0, 0])).toEqual([0]);
  });
  it('tree-PLRU approximates LRU: after touching 0,1,2,3 in order it evicts 0', () => {
    expect(evicted(oneSet(4, 'plru'), 4, [0, 1, 2, 3])).toEqual([0]);
    expect(evicted(oneSet(8, 'plru'), 8, [0, 1, 2, 3, 4, 5, 6, 7, 0])).toEqual([4]);
  });
  it('seeded random replacement is reproducible', () => {
    const a = evicted(oneSet(8, 'random'), 8, []);
    const b = evicted(oneSet(8, 'random'), 8, []);
    expect(a).toEqual(b);
    expect(a).toHaveLength(1);
  });
});

describe('TLB tags', () => {
  it('separates ASIDs and lets global entries match any ASID', () => {
    const t = new Tlb({ name: 't', replacement: 'lru', arrays: [{ pageSize: K4, entries: 64, ways: 4 }] });
    t.insert(0x1000, 1, false, 10, K4, TLB_W);
    t.insert(0xffff_8000_0000, 1, true, 20, K4, 0);
    expect(t.lookup(0x1000, 2)).toBe(-1);
    expect(t.lookup(0x1000, 1)).toBeGreaterThanOrEqual(0);
    expect(t.lookup(0xffff_8000_0000, 7)).toBeGreaterThanOrEqual(0);
    t.flushAsid(1);
    expect(t.lookup(0x1000, 1)).toBe(-1);
    expect(t.lookup(0xffff_8000_0000, 1)).toBeGreaterThanOrEqual(0); // globals survive an ASID flush
    t.flushAll();
    expect(t.validEntries()).toBe(0);
  });

  it('addresses above 2^32 and up to 2^52 index and tag exactly', () => {
    const t = new Tlb({ name: 't', replacement: 'lru', arrays: [{ pageSize: K4, entries: 64, ways: 4 }] });
    const hi = 2 ** 52 - 4096;
    t.insert(hi, 3, false, 77, K4, 0);
    expect(t.lookup(hi + 123, 3)).toBeGreaterThanOrEqual(0);
    expect(t.lookup(hi - 4096, 3)).toBe(-1);
    expect(t.lookup(hi - 2 ** 40, 3)).toBe(-1); // same set, different tag
    expect(t.entryVa(t.peek(hi, 3))).toBe(hi);
  });

  it('splinters a 1 GiB page into the 2 MiB array when it has no 1 GiB entries', () => {
    const t = new Tlb({ name: 't', replacement: 'lru', arrays: [{ pageSize: K4, entries: 16, ways: 4 }, { pageSize: M2, entries: 8, ways: 4 }] });
    const va = 0x4000_0000 + 3 * M2 + 5;
    t.insert(va, 1, false, 0x40000, 1024 * 1024 * 1024, 0);
    const slot = t.lookup(va, 1);
    expect(t.entryPageSize(slot)).toBe(M2);
    expect(t.frame[slot]).toBe(0x40000 + (3 * M2) / 4096);
    expect(t.lookup(va + M2, 1)).toBe(-1);
  });
});

describe('TLB arrays', () => {
  it('refuses a page smaller than every array it holds', () => {
    const t = new Tlb({ name: 't', replacement: 'lru', arrays: [{ pageSize: M2, entries: 8, ways: 8 }] });
    expect(t.insert(0x1000, 1, false, 10, K4, 0)).toBe(-1);
    expect(t.peek(0x1000, 1)).toBe(-1);
    expect(t.insert(0, 1, false, 512, M2, 0)).toBeGreaterThanOrEqual(0);
  });

  it('invalidateSlot drops exactly that entry', () => {
    const t = new Tlb({ name: 't', replacement: 'lru', arrays: [{ pageSize: K4, entries: 8, ways: 8 }] });
    const a = t.insert(0x1000, 1, false, 10, K4, 0);
    t.insert(0x2000, 1, false, 11, K4, 0);
    t.invalidateSlot(a);
    expect(t.peek(0x1000, 1)).toBe(-1);
    expect(t.peek(0x2000, 1)).toBeGreaterThanOrEqual(0);
  });
});
