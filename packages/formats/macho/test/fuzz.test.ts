/** Fuzz the Mach-O reader: truncations and mutations of real files yield only FormatError, quickly. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError, Rng } from '@polykernel/core';
import { describe, expect, it } from 'vitest';
import { FatFile, parseMachO } from '../src/index.js';
import { FIXTURES } from './objdump.js';

/** Parse everything the reader offers; return `ok:<kind of each image>` or the error class name. */
function exercise(bytes: Uint8Array): string {
  try {
    const p = parseMachO(bytes);
    const kinds: string[] = [];
    for (const m of p instanceof FatFile ? p.arches.map((a) => a.image) : [p]) {
      m.symbols();
      m.rebases();
      m.binds();
      m.exports();
      m.chainedFixups();
      kinds.push(m.kind);
    }
    return `ok:${kinds.join(',')}`;
  } catch (e) {
    if (e instanceof FormatError) return 'FormatError';
    throw e;
  }
}

describe('Mach-O fuzz', () => {
  it.each(['hello-x86_64', 'libgreet-fat.dylib', 'greet-arm64.o', 'fsevents.node', 'chained-arm64'])('%s: truncations and 800 mutations', (name) => {
    const original = new Uint8Array(readFileSync(join(FIXTURES, name)));
    // The whole file reads (so a reader that rejects everything fails here), with a known kind.
    const whole = exercise(original);
    expect(whole).toMatch(/^ok:/);
    expect(whole).not.toContain('unknown');
    let errors = 0;
    for (let len = 0; len < original.length; len += len < 2048 ? 3 : 211) if (exercise(original.subarray(0, len)) === 'FormatError') errors++;
    const rng = new Rng(`macho:${name}`);
    let worst = 0;
    let parsed = 0;
    for (let i = 0; i < 800; i++) {
      const b = original.slice();
      for (let k = 0, n = 1 + rng.below(6); k < n; k++) {
        const at = rng.chance(0.7) ? rng.below(Math.min(b.length, 2048)) : rng.below(b.length);
        b[at] = rng.chance(0.3) ? 0xff : rng.below(256);
      }
      const t0 = performance.now();
      if (exercise(b).startsWith('ok:')) parsed++;
      worst = Math.max(worst, performance.now() - t0);
    }
    expect(errors).toBeGreaterThan(10);
    expect(parsed).toBeGreaterThan(0); // damage to bytes the reader does not check leaves a readable file
    expect(worst).toBeLessThan(2000);
  });
  it('a load command claiming a huge size is a FormatError naming cmdsize', () => {
    const b = new Uint8Array(readFileSync(join(FIXTURES, 'hello-x86_64')));
    new DataView(b.buffer).setUint32(32 + 4, 0x7ffffff0, true);
    try {
      parseMachO(b);
      expect.unreachable();
    } catch (e) {
      expect((e as FormatError).field).toBe('cmdsize');
      expect((e as FormatError).offset).toBe(36);
    }
  });
});
