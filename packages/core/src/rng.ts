/**
 * A seeded PRNG: xoshiro128** (Blackman & Vigna), seeded through splitmix32. 32-bit integer math
 * only (Math.imul and >>> 0 on 32-bit state words, never on addresses), so the sequence is the same
 * on every platform and JS engine. Fast enough for hot simulation loops, and never Math.random.
 */
export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  constructor(seed: number | string = 1) {
    this.reseed(seed);
  }

  /** Restart the sequence from `seed` (a number, or a string hashed with FNV-1a). */
  reseed(seed: number | string): void {
    let x = typeof seed === 'string' ? fnv1a(seed) : hashNumber(seed);
    const next = (): number => {
      // splitmix32
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Next uniformly distributed unsigned 32-bit integer. */
  nextU32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform float in [0, 1) with 53 bits of randomness. */
  nextFloat(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in [0, n) for any safe integer n >= 1, without modulo bias. */
  below(n: number): number {
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`Rng.below(${n}): n must be a positive safe integer`);
    if (n <= 0x100000000) {
      // Lemire-style rejection on 32 bits.
      const limit = 0x100000000 - (0x100000000 % n);
      for (;;) {
        const r = this.nextU32();
        if (r < limit) return r % n;
      }
    }
    // Above 2^32: rejection sampling on 53-bit floats scaled to the next power of two.
    for (;;) {
      const r = Math.floor(this.nextFloat() * 2 ** Math.ceil(Math.log2(n)));
      if (r < n) return r;
    }
  }

  /** Uniform integer in [lo, hi] inclusive. */
  between(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.nextFloat() < p;
  }

  /** A uniformly chosen element. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('Rng.pick: empty array');
    return items[this.below(items.length)]!;
  }

  /** Shuffle in place (Fisher-Yates) and return the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const tmp = items[i]!;
      items[i] = items[j]!;
      items[j] = tmp;
    }
    return items;
  }

  /** An independent generator derived from this one's next outputs (for per-CPU or per-process streams). */
  fork(): Rng {
    const child = new Rng(0);
    child.s0 = this.nextU32();
    child.s1 = this.nextU32();
    child.s2 = this.nextU32();
    child.s3 = this.nextU32() | 1;
    return child;
  }

  /** The four state words, to save and restore a stream exactly. */
  getState(): [number, number, number, number] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  setState(state: readonly [number, number, number, number]): void {
    [this.s0, this.s1, this.s2, this.s3] = state;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) throw new RangeError('Rng state must not be all zero');
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** FNV-1a over UTF-16 code units, 32-bit. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Fold any number (even above 2^32 or fractional) into 32 bits, deterministically. */
function hashNumber(seed: number): number {
  if (Number.isInteger(seed) && seed >= 0 && seed < 0x100000000) return seed >>> 0;
  return fnv1a(String(seed));
}
