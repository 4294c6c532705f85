/**
 * Cost of a probe with no subscriber. Run: npx nx bench core (or `npx vitest bench --run` here).
 * Each iteration publishes 1,000 events, so divide the reported time per iteration by 1,000.
 */
import { bench, describe } from 'vitest';
import { ProbeBus } from './probes.js';

interface Events {
  fault: { va: number; kind: number };
}
const bus = new ProbeBus<Events>();
const probe = bus.probe('fault');
let sink = 0;

describe('probe publish x1000, no subscriber', () => {
  bench('baseline: loop only', () => {
    let s = 0;
    for (let i = 0; i < 1000; i++) s += i;
    sink += s;
  });
  bench('guarded: if (probe.active) probe.fire({...})', () => {
    let s = 0;
    for (let i = 0; i < 1000; i++) {
      s += i;
      if (probe.active) probe.fire({ va: i * 4096, kind: 1 });
    }
    sink += s;
  });
  bench('unguarded: probe.publish({...})', () => {
    let s = 0;
    for (let i = 0; i < 1000; i++) {
      s += i;
      probe.publish({ va: i * 4096, kind: 1 });
    }
    sink += s;
  });
});

const busOn = new ProbeBus<Events>();
const probeOn = busOn.probe('fault');
const agg = busOn.aggregate('fault', { fn: 'count', by: (e) => e.kind });
describe('probe publish x1000, one count() aggregation', () => {
  bench('guarded publish with a keyed count', () => {
    for (let i = 0; i < 1000; i++) if (probeOn.active) probeOn.fire({ va: i * 4096, kind: i % 4 });
  });
});

export const keep = (): number => sink + agg.get(0);
