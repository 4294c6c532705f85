import { describe, expect, it } from 'vitest';
import { openAccess } from './portable.js';

describe('openAccess: the access mode of a portable open', () => {
  it('write: false reads only; write: true reads and writes unless read: false (O_WRONLY)', () => {
    expect(openAccess({ path: 'x', write: false })).toBe('read');
    expect(openAccess({ path: 'x', write: true })).toBe('readwrite');
    expect(openAccess({ path: 'x', write: true, read: true })).toBe('readwrite');
    expect(openAccess({ path: 'x', write: true, read: false, create: true, truncate: true })).toBe('write');
  });
});
