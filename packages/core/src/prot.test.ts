import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatProt, parseProt, protAllows, PROT_EXEC, PROT_READ, PROT_WRITE } from './prot.js';

describe('protections', () => {
  it('formats the letters kernel tools print', () => {
    expect(formatProt(PROT_READ | PROT_EXEC)).toBe('r-x');
    expect(formatProt(PROT_READ | PROT_WRITE)).toBe('rw-');
    expect(formatProt(0)).toBe('---');
    expect(formatProt(7)).toBe('rwx');
  });
  it('parses only well-formed text', () => {
    expect(parseProt('r-x')).toBe(5);
    expect(parseProt('---')).toBe(0);
    expect(parseProt('xwr')).toBeUndefined();
    expect(parseProt('rw')).toBeUndefined();
    expect(parseProt('rwxp')).toBeUndefined();
  });
  it('round-trips every value', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 7 }), (p) => parseProt(formatProt(p)) === p), { seed: 42 });
  });
  it('protAllows is subset inclusion', () => {
    expect(protAllows(PROT_READ | PROT_WRITE, PROT_WRITE)).toBe(true);
    expect(protAllows(PROT_READ, PROT_WRITE)).toBe(false);
    expect(protAllows(0, 0)).toBe(true);
  });
});
