import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Rng } from './rng.js';

/** xoshiro128** written with BigInt and explicit 32-bit masks, straight from the reference C. */
function referenceXoshiro(state: [number, number, number, number], n: number): number[] {
  const M = 0xffffffffn;
  let [s0, s1, s2, s3] = state.map(BigInt) as [bigint, bigint, bigint, bigint];
  const rotl = (x: bigint, k: bigint): bigint => ((x << k) | (x >> (32n - k))) & M;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    out.push(Number((rotl((s1 * 5n) & M, 7n) * 9n) & M));
    const t = (s1 << 9n) & M;
    s2 ^= s0;
    s3 ^= s1;
    s1 ^= s2;
    s0 ^= s3;
    s2 ^= t;
    s3 = rotl(s3, 11n);
  }
  return out;
}

describe('Rng', () => {
  it('matches a BigInt reference implementation of xoshiro128**', () => {
    for (const seed of [0, 1, 42, 0xffffffff, 'polykernel']) {
      const rng = new Rng(seed);
      const expected = referenceXoshiro(rng.getState(), 1000);
      const got = Array.from({ length: 1000 }, () => rng.nextU32());
      expect(got).toEqual(expected);
    }
  });

  it('is reproducible: same seed, same sequence; different seed, different sequence', () => {
    const a = new Rng(7);
    const b = new Rng(7);
    const c = new Rng(8);
    const sa = Array.from({ length: 100 }, () => a.nextU32());
    expect(Array.from({ length: 100 }, () => b.nextU32())).toEqual(sa);
    expect(Array.from({ length: 100 }, () => c.nextU32())).not.toEqual(sa);
  });

  it('pins the first outputs for seed 1 (cross-platform golden values)', () => {
    // Literal values, computed once by an independent Python transcription of splitmix32 and
    // xoshiro128** (not by this code): any change to seeding or to the generator shows here.
    const rng = new Rng(1);
    expect(rng.getState()).toEqual([0x96a0f96b, 0x12bc8390, 0x971e9964, 0x79adc7e7]);
    expect(rng.getState()).toEqual(referenceSplitmixState(1));
    expect(Array.from({ length: 8 }, () => rng.nextU32())).toEqual([
      0x9190299e, 0xc1017b27, 0xe3af522f, 0x7d71fb05, 0x787816c2, 0xfbbe0c00, 0x5a5c175a, 0x89063de1,
    ]);
    // nextFloat takes 27 + 26 bits of two outputs: (0x9190299e >>> 5, 0xc1017b27 >>> 6) / 2^53.
    expect(new Rng(1).nextFloat()).toBe(((0x9190299e >>> 5) * 2 ** 26 + (0xc1017b27 >>> 6)) / 2 ** 53);
    expect(new Rng(1).nextFloat()).toBe(0.5686059948349658);
    // String seeds and below() above 2^32 are pinned too (values of this implementation, recorded).
    const str = new Rng('polykernel');
    expect(Array.from({ length: 4 }, () => str.nextU32())).toEqual([0xc8b4e061, 0xfdd7917c, 0x3a22af7a, 0xec271b12]);
    const big = new Rng(1);
    expect(Array.from({ length: 4 }, () => big.below(2 ** 40 + 7))).toEqual([1034821680879, 776184177217, 739882301176, 588250115819]);
  });

  it('below(n) stays in range, including n above 2^32', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.integer(), (n, seed) => {
        const rng = new Rng(seed);
        for (let i = 0; i < 20; i++) {
          const v = rng.below(n);
          if (!(Number.isSafeInteger(v) && v >= 0 && v < n)) return false;
        }
        return true;
      }),
      { seed: 42 },
    );
  });

  it('below(6) is roughly uniform (chi-square, 60,000 draws)', () => {
    const rng = new Rng(123);
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 60000; i++) counts[rng.below(6)]!++;
    const chi = counts.reduce((s, c) => s + (c - 10000) ** 2 / 10000, 0);
    expect(chi).toBeLessThan(20.5); // p = 0.001 for 5 degrees of freedom
  });

  it('nextFloat is in [0, 1)', () => {
    const rng = new Rng(9);
    for (let i = 0; i < 10000; i++) {
      const f = rng.nextFloat();
      expect(f >= 0 && f < 1).toBe(true);
    }
  });

  it('fork gives an independent stream; state save/restore is exact', () => {
    const rng = new Rng(5);
    const child = rng.fork();
    expect(child.nextU32()).not.toBe(rng.nextU32());
    const saved = rng.getState();
    const x = [rng.nextU32(), rng.nextU32()];
    rng.setState(saved);
    expect([rng.nextU32(), rng.nextU32()]).toEqual(x);
    expect(() => {
      rng.setState([0, 0, 0, 0]);
    }).toThrow(RangeError);
  });

  it('shuffle is a permutation', () => {
    const rng = new Rng(3);
    const xs = Array.from({ length: 50 }, (_, i) => i);
    const ys = rng.shuffle([...xs]);
    expect([...ys].sort((p, q) => p - q)).toEqual(xs);
    expect(ys).not.toEqual(xs);
  });
});

/** splitmix32 seeding, written independently with BigInt. */
function referenceSplitmixState(seed: number): [number, number, number, number] {
  const M = 0xffffffffn;
  let x = BigInt(seed);
  const out: number[] = [];
  for (let i = 0; i < 4; i++) {
    x = (x + 0x9e3779b9n) & M;
    let z = x;
    z = ((z ^ (z >> 16n)) * 0x85ebca6bn) & M;
    z = ((z ^ (z >> 13n)) * 0xc2b2ae35n) & M;
    out.push(Number((z ^ (z >> 16n)) & M));
  }
  return out as [number, number, number, number];
}
