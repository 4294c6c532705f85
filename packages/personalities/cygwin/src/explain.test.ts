import { describe, expect, it } from 'vitest';
import { explainCygwinFork } from './explain.js';

describe('explain fork -p cygwin', () => {
  it('tells every step with its time and bytes; the mapping\'s copy dominates as it grows', () => {
    const small = explainCygwinFork(16);
    const big = explainCygwinFork(1024);
    expect(big.steps.map((s) => s.step)).toEqual(small.steps.map((s) => s.step));
    expect(big.steps.reduce((n, s) => n + s.bytes, 0)).toBe(big.totals.bytesCopied);
    const mmaps = (st: typeof big): number => st.steps.find((s) => s.step === 'fixup_mmaps_after_fork')!.bytes;
    expect(mmaps(big)).toBeGreaterThanOrEqual(1024 * 4096);
    expect(mmaps(big) - mmaps(small)).toBe((1024 - 16) * 4096);
    expect(big.totals.us).toBeGreaterThan(small.totals.us);
    expect(big.totals.childCommitPages).toBeGreaterThan(1024);
    expect(big.lines.join('\n')).toMatch(/child {2}fixup_mmaps_after_fork \(1 mappings\) +\d+\.\d µs 4,1\d\d,\d\d\d bytes copied/);
  });
});
