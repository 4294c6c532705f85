import { describe, expect, it } from 'vitest';
import { addMetrics, CycleClock, Metrics, metricsDelta } from './metrics.js';

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

  it('delta and add are inverse', () => {
    const m = new Metrics();
    const before = m.snapshot();
    m.syscalls += 65;
    m.traps.pageFault += 5185;
    m.pagesZeroed += 5120;
    m.tlbMisses += 7;
    const d = metricsDelta(before, m.snapshot());
    expect(d.syscalls).toBe(65);
    expect(d.traps.pageFault).toBe(5185);
    const total = new Metrics().snapshot();
    addMetrics(total, d);
    addMetrics(total, d);
    expect(total.pagesZeroed).toBe(10240);
    m.reset();
    expect(m.snapshot()).toEqual(new Metrics().snapshot());
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
