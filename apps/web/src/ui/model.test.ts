import { describe, expect, it } from 'vitest';
import { frameLabel, frameSummary, GAP_SHARE, mapRows, MIN_SHARE } from './model.js';

const area = (start: number, end: number): { start: number; end: number; perms: string; label: string } => ({ start, end, perms: 'rw-p', label: '' });

describe('address map rows', () => {
  it('puts a gap between areas and shares the height by bytes', () => {
    const rows = mapRows([area(0x3000, 0x4000), area(0x1000, 0x2000)], false);
    expect(rows.map((r) => r.kind)).toEqual(['area', 'gap', 'area']);
    expect(rows.reduce((s, r) => s + r.share, 0)).toBeCloseTo(1);
    // Two equal areas get equal shares; the gap is an axis break of a fixed share, whatever its size.
    expect(rows[0]!.share).toBeCloseTo(rows[2]!.share);
    expect(rows[1]!.share).toBeCloseTo(GAP_SHARE);
    expect(mapRows([area(0x1000, 0x2000), area(2 ** 46, 2 ** 46 + 0x1000)], false)[1]!.share).toBeCloseTo(GAP_SHARE);
  });

  it('keeps a small area visible next to a huge one, more so on a log scale', () => {
    const areas = [area(0x1000, 0x2000), area(0x2000, 0x2000 + 2 ** 40)];
    const lin = mapRows(areas, false);
    const log = mapRows(areas, true);
    expect(lin[0]!.share).toBeGreaterThanOrEqual(MIN_SHARE * 0.9);
    expect(log[0]!.share).toBeGreaterThan(lin[0]!.share);
    expect(log[0]!.share).toBeCloseTo(12 / (12 + 40));
    expect(lin[0]!.share).toBeCloseTo(MIN_SHARE / (1 + MIN_SHARE), 6);
  });
});

describe('frame labels', () => {
  it('letters each state, so colour is not the only cue', () => {
    expect(frameLabel({ frame: 9, pids: [2, 3], state: 'shared-cow' }).letter).toBe('C');
    expect(frameLabel({ frame: 9, pids: [2], state: 'private' }).text).toBe('frame 9: private to pid 2');
    expect(frameSummary([{ frame: 1, pids: [2], state: 'private' }, { frame: 2, pids: [2, 3], state: 'shared-cow' }], 5))
      .toBe('5 frames mapped (first 2 shown): 1 private, 1 shared copy-on-write, 0 shared writable');
  });
});
