import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addMetrics, COUNTER_KEYS, CycleClock, FAULT_KINDS, GAUGE_KEYS, Metrics, metricsDelta, NUMERIC_KEYS, type MetricsData,
} from './metrics.js';

describe('Metrics', () => {
  it('starts at zero and snapshots deeply', () => {
    const m = new Metrics();
    m.faults.zeroFill += 3;
    m.traps.pageFault += 3;
    m.cycles += 1000;
    const s = m.snapshot();
    m.faults.zeroFill++;
    expect(s.faults.zeroFill).toBe(3);
    expect(m.totalFaults).toBe(4);
    expect(m.totalTraps).toBe(3);
    expect(JSON.parse(JSON.stringify(m))).toEqual(m.snapshot());
  });

  it('snapshot, toJSON and the key lists cover every field', () => {
    const m = new Metrics();
    const own = Object.keys(m).sort();
    expect(Object.keys(m.snapshot()).sort()).toEqual(own);
    expect(Object.keys(m.toJSON()).sort()).toEqual(own);
    expect([...NUMERIC_KEYS, 'traps', 'faults'].sort()).toEqual(own);
    expect(new Set(NUMERIC_KEYS).size).toBe(NUMERIC_KEYS.length);
    expect(GAUGE_KEYS).toEqual(['peakResident', 'peakCommit']);
    m.indexNodeCycles = 11; // a cost setting, not a measurement
    expect(Object.keys(m.snapshot()).sort()).toEqual(own);
    expect(m.indexNodeCycles).toBe(11);
    for (const k of ['processesCreated', 'contextSwitches', 'bytesCopiedCrossProcess'] as const) expect(COUNTER_KEYS).toContain(k);
  });

  it('new fault kinds are appended after the original nine', () => {
    expect(FAULT_KINDS.slice(0, 9)).toEqual(['zeroFill', 'zeroPage', 'cow', 'cowReuse', 'file', 'swapIn', 'stackGrowth', 'protection', 'segv']);
    expect(FAULT_KINDS.slice(9)).toEqual(['guard', 'soft', 'prefault', 'promotion', 'demotion']);
    const m = new Metrics();
    m.faults.guard++;
    m.faults.prefault += 7;
    expect(m.totalFaults).toBe(8);
  });

  it('delta and add are inverse', () => {
    const m = new Metrics();
    const before = m.snapshot();
    m.syscalls += 65;
    m.traps.pageFault += 5185;
    m.pagesZeroed += 5120;
    m.tlbMisses += 7;
    m.processesCreated += 2;
    m.contextSwitches += 40;
    m.bytesCopiedCrossProcess += 8192;
    const d = metricsDelta(before, m.snapshot());
    expect(d.syscalls).toBe(65);
    expect(d.traps.pageFault).toBe(5185);
    expect(d.processesCreated).toBe(2);
    expect(d.bytesCopiedCrossProcess).toBe(8192);
    const total = new Metrics().snapshot();
    addMetrics(total, d);
    addMetrics(total, d);
    expect(total.pagesZeroed).toBe(10240);
    expect(total.contextSwitches).toBe(80);
    m.noteResident(10);
    m.noteCommit(20);
    m.reset();
    expect(m.snapshot()).toEqual(new Metrics().snapshot());
  });

  it('noteResident and noteCommit keep high-water marks', () => {
    const m = new Metrics();
    m.noteResident(100);
    m.noteResident(40);
    m.noteCommit(5);
    m.noteCommit(300);
    m.noteCommit(299);
    expect(m.peakResident).toBe(100);
    expect(m.peakCommit).toBe(300);
  });

  it('gauges: a delta reports the peak as of `after`, a sum takes the larger peak', () => {
    const m = new Metrics();
    m.noteResident(500);
    const before = m.snapshot();
    m.noteResident(200); // this phase stayed below the earlier peak
    m.syscalls++;
    const d = metricsDelta(before, m.snapshot());
    expect(d.peakResident).toBe(500); // not 0: a difference of two peaks would say nothing
    expect(d.syscalls).toBe(1);

    const a = new Metrics();
    const b = new Metrics();
    a.noteResident(300);
    a.noteCommit(50);
    b.noteResident(200);
    b.noteCommit(80);
    const total = new Metrics().snapshot();
    addMetrics(total, a.snapshot());
    addMetrics(total, b.snapshot());
    expect(total.peakResident).toBe(300); // max, not 500
    expect(total.peakCommit).toBe(80);
  });

  it('property: addMetrics sums counters and maxes gauges, metricsDelta subtracts counters and keeps after\'s gauges', () => {
    const numbers = fc.array(fc.nat(1_000_000), { minLength: NUMERIC_KEYS.length, maxLength: NUMERIC_KEYS.length });
    const fill = (xs: number[]): MetricsData => {
      const m = new Metrics().snapshot();
      NUMERIC_KEYS.forEach((k, i) => { m[k] = xs[i]!; });
      FAULT_KINDS.forEach((k, i) => { m.faults[k] = xs[i % xs.length]!; });
      return m;
    };
    fc.assert(fc.property(numbers, numbers, (xa, xb) => {
      const a = fill(xa);
      const b = fill(xb);
      const sum = structuredClone(a);
      addMetrics(sum, b);
      const d = metricsDelta(a, sum);
      for (const k of COUNTER_KEYS) {
        expect(sum[k]).toBe(a[k] + b[k]);
        expect(d[k]).toBe(b[k]);
      }
      for (const k of GAUGE_KEYS) {
        expect(sum[k]).toBe(Math.max(a[k], b[k]));
        expect(d[k]).toBe(sum[k]);
      }
      for (const k of FAULT_KINDS) expect(d.faults[k]).toBe(b.faults[k]);
    }), { seed: 7, numRuns: 200 });
  });

  it('the cycle clock converts simulated cycles, never host time', () => {
    const m = new Metrics();
    const clock = new CycleClock(m, 2_000_000_000);
    clock.advance(clock.cyclesFromNanoseconds(1590)); // one zero-fill fault measured on this host
    expect(clock.now).toBe(3180);
    expect(clock.seconds()).toBeCloseTo(1.59e-6, 12);
    expect(() => new CycleClock(m, 0)).toThrow(RangeError);
  });
});
