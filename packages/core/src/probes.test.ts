import { describe, expect, it } from 'vitest';
import { ProbeBus, quantizeBucket } from './probes.js';

interface Events {
  'syscall:entry': { name: string; pid: number };
  fault: { kind: string; cycles: number };
}

describe('ProbeBus', () => {
  it('a probe is inactive until subscribed, and inactive again after the last detach', () => {
    const bus = new ProbeBus<Events>();
    const p = bus.probe('syscall:entry');
    expect(p.active).toBe(false);
    const seen: string[] = [];
    const off = bus.subscribe('syscall:entry', (e) => seen.push(e.name));
    expect(p.active).toBe(true);
    p.publish({ name: 'mmap', pid: 1 });
    off();
    expect(p.active).toBe(false);
    p.publish({ name: 'munmap', pid: 1 });
    expect(seen).toEqual(['mmap']);
    expect(bus.probe('syscall:entry')).toBe(p);
  });

  it('counts by key like @[probefunc] = count()', () => {
    const bus = new ProbeBus<Events>();
    const agg = bus.aggregate('syscall:entry', { fn: 'count', by: (e) => e.name });
    const p = bus.probe('syscall:entry');
    for (const name of ['mmap', 'read', 'mmap', 'mmap', 'write']) p.publish({ name, pid: 1 });
    expect(agg.get('mmap')).toBe(3);
    expect(agg.get('read')).toBe(1);
    expect(agg.get('nope')).toBe(0);
    expect(agg.rows().map((r) => [r.key, r.value])).toEqual([['read', 1], ['write', 1], ['mmap', 3]]);
    agg.detach();
    p.publish({ name: 'mmap', pid: 1 });
    expect(agg.get('mmap')).toBe(3);
    expect(p.active).toBe(false);
  });

  it('sum, min, max, avg with a predicate', () => {
    const bus = new ProbeBus<Events>();
    const sum = bus.aggregate('fault', { fn: 'sum', by: (e) => e.kind, value: (e) => e.cycles });
    const max = bus.aggregate('fault', { fn: 'max', value: (e) => e.cycles });
    const min = bus.aggregate('fault', { fn: 'min', value: (e) => e.cycles });
    const avg = bus.aggregate('fault', { fn: 'avg', value: (e) => e.cycles, where: (e) => e.kind === 'cow' });
    const p = bus.probe('fault');
    p.publish({ kind: 'zeroFill', cycles: 100 });
    p.publish({ kind: 'cow', cycles: 300 });
    p.publish({ kind: 'cow', cycles: 500 });
    expect(sum.get('cow')).toBe(800);
    expect(sum.get('zeroFill')).toBe(100);
    expect(max.get()).toBe(500);
    expect(min.get()).toBe(100);
    expect(avg.get()).toBe(400);
  });

  it('quantize buckets by power of two', () => {
    expect([0, 1, 2, 3, 4, 7, 8, 1000, -5].map(quantizeBucket)).toEqual([0, 1, 2, 2, 4, 4, 8, 512, -4]);
    const bus = new ProbeBus<Events>();
    const q = bus.aggregate('fault', { fn: 'quantize', value: (e) => e.cycles });
    for (const c of [1, 2, 3, 900, 1000]) bus.probe('fault').publish({ kind: 'x', cycles: c });
    expect(q.rows()[0]?.buckets).toEqual({ '1': 1, '2': 2, '512': 2 });
  });

  it('rejects value-less sum', () => {
    const bus = new ProbeBus<Events>();
    expect(() => bus.aggregate('fault', { fn: 'sum' })).toThrow(RangeError);
  });
});
