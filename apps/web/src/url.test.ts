import { describe, expect, it } from 'vitest';
import { DEFAULT_MOMENT, formatMoment, parseMoment } from './url.js';

describe('URL moments', () => {
  it('round-trips workload, personalities, seed and step', () => {
    const m = { workload: 'lecture-fork', personalities: ['linux-6.x', 'linux-5.15'], seed: 7, step: 4 };
    expect(formatMoment(m)).toBe('?w=lecture-fork&p=linux-6.x,linux-5.15&seed=7&step=4');
    expect(parseMoment(formatMoment(m))).toEqual(m);
    const portable = { workload: 'portable/lecture-fork', personalities: ['freebsd-14', 'windows-11'], seed: 1, step: 3 };
    expect(formatMoment(portable)).toBe('?w=portable/lecture-fork&p=freebsd-14,windows-11&seed=1&step=3');
    expect(parseMoment(formatMoment(portable))).toEqual(portable);
  });

  it('falls back to the defaults for missing or malformed fields, and keeps at most two personalities', () => {
    expect(parseMoment('')).toEqual(DEFAULT_MOMENT);
    const m = parseMoment('?w=oom&p=a,b,c&seed=-3&step=x');
    expect(m).toEqual({ workload: 'oom', personalities: ['a', 'b'], seed: 1, step: 0 });
  });
});
