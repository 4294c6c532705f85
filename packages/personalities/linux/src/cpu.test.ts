import { describe, expect, it } from 'vitest';
import { DEFAULT_CPU, describeCpu, minSigStkSz } from './exec.js';

describe('AT_MINSIGSTKSZ is derived from the CPU described (issue 21)', () => {
  it('Zen 4 with AVX-512 and PKRU: 3376; AVX and MPX without AVX-512 (the issue\'s host): 1776', () => {
    expect(minSigStkSz(0x2e7)).toBe(3376);
    expect(minSigStkSz(0x1f)).toBe(1776);
    expect(DEFAULT_CPU.minSigStkSz).toBe(3376);
    expect(describeCpu(1, 2, 0x7).minSigStkSz).toBe(1520); // AVX only: 832 bytes of XSAVE state
  });
});
