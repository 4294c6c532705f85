import { parseWorkload } from '@polykernel/workload';
import { describe, expect, it } from 'vitest';
import { foreignStepsNa, isNaResult } from './compare.js';

const W = (steps: string): ReturnType<typeof parseWorkload> => parseWorkload(`name: w\nprocesses:\n  - name: p\n    steps:\n${steps}`, 'w.yaml');

describe('the comparison\'s n/a rules (polykernel compare and the visualizer)', () => {
  it('native steps of another kernel make the whole column n/a, naming the first and counting the rest', () => {
    const w = W('      - mmap: { name: a, length: 4K, prot: rw-, flags: [private, anonymous] }\n      - munmap: { region: a, length: 4K }\n      - alloc: { name: b, size: 4K, prot: rw- }\n');
    expect(foreignStepsNa(w, 'linux')).toBeNull();
    expect(foreignStepsNa(w, 'freebsd')).toBe('native steps of linux (mmap and 1 more); write them as portable steps');
    expect(foreignStepsNa(W('      - alloc: { name: b, size: 4K, prot: rw- }\n'), 'windows')).toBeNull();
  });

  it('a step result is n/a only when it says so first', () => {
    expect(isNaResult('n/a: Win32 has no fork')).toBe(true);
    expect(isNaResult('error: mmap is a native step of linux; freebsd-14 runs portable steps only')).toBe(false);
    expect(isNaResult('-ENOENT (n/a)')).toBe(false);
  });
});
