/** Section counts that no loader accepts are refused before anything is read for them (issue 21). */
import { readFileSync } from 'node:fs';
import { FormatError } from '@polykernel/core';
import { describe, expect, it } from 'vitest';
import { parsePe } from './index.js';

const exe = (): Uint8Array => new Uint8Array(readFileSync(new URL('../test/fixtures/delayed-x86_64.exe', import.meta.url)));

describe('NumberOfSections', () => {
  it('an image claiming 58,478 sections is refused even when the table would fit in the file', () => {
    const b = exe();
    const lfanew = new DataView(b.buffer).getUint32(0x3c, true);
    const big = new Uint8Array(b.length + 58_478 * 40);
    big.set(b);
    new DataView(big.buffer).setUint16(lfanew + 6, 58_478, true);
    expect(() => parsePe(big)).toThrow(FormatError);
    expect(() => parsePe(big)).toThrow(/NumberOfSections is 58478; an image has at most 96/);
  });

  it('the fixture itself parses (96 is the limit, not less)', () => {
    expect(parsePe(exe()).sections.length).toBeGreaterThan(0);
  });
});
