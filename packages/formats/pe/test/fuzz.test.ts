/** Fuzz the PE reader: truncations and mutations of real files yield only FormatError, quickly. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FormatError, Rng } from '@polykernel/core';
import { describe, expect, it } from 'vitest';
import { parsePe } from '../src/index.js';
import { FIXTURES } from './readobj.js';

function exercise(bytes: Uint8Array): string {
  try {
    const pe = parsePe(bytes);
    pe.imports();
    pe.delayImports();
    pe.exports();
    pe.baseRelocations();
    pe.tls();
    pe.loadConfig();
    pe.debug();
    pe.symbols();
    for (const s of pe.sections) pe.sectionRelocations(s);
    return 'ok';
  } catch (e) {
    if (e instanceof FormatError) return 'FormatError';
    throw e;
  }
}

describe('PE fuzz', () => {
  it.each(['hello-x86_64.exe', 'greet-i686.dll', 'greet-x86_64.obj', 'hello-i686.exe'])('%s: truncations and 800 mutations', (name) => {
    const original = new Uint8Array(readFileSync(join(FIXTURES, name)));
    let errors = 0;
    for (let len = 0; len < original.length; len += len < 1024 ? 3 : 97) if (exercise(original.subarray(0, len)) === 'FormatError') errors++;
    const rng = new Rng(`pe:${name}`);
    let worst = 0;
    for (let i = 0; i < 800; i++) {
      const b = original.slice();
      for (let k = 0, n = 1 + rng.below(6); k < n; k++) {
        const at = rng.chance(0.6) ? rng.below(Math.min(b.length, 1024)) : rng.below(b.length);
        b[at] = rng.chance(0.3) ? 0xff : rng.below(256);
      }
      const t0 = performance.now();
      exercise(b);
      worst = Math.max(worst, performance.now() - t0);
    }
    expect(errors).toBeGreaterThan(10);
    expect(worst).toBeLessThan(2000);
  });
  it('names the field: a bad e_lfanew, a bad optional header magic', () => {
    const b = new Uint8Array(readFileSync(join(FIXTURES, 'hello-x86_64.exe')));
    const c = b.slice();
    new DataView(c.buffer).setUint32(0x3c, 0x7ffffff0, true);
    expect(() => parsePe(c)).toThrow(/PE signature/);
    const d = b.slice();
    const lfanew = new DataView(d.buffer).getUint32(0x3c, true);
    new DataView(d.buffer).setUint16(lfanew + 24, 0x999, true);
    try {
      parsePe(d);
      expect.unreachable();
    } catch (e) {
      expect((e as FormatError).field).toBe('OptionalHeader.Magic');
      expect((e as FormatError).offset).toBe(lfanew + 24);
    }
  });
});
