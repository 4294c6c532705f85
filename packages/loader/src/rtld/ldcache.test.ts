import { existsSync, readFileSync } from 'node:fs';
import { FormatError } from '@polykernel/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cacheLookup, CACHE_FLAGS_X86_64, parseLdCache } from './ldcache.js';

/** A new-format cache ("glibc-ld.so.cache1.1") of [soname, path, hwcaps index or -1] with an optional glibc-hwcaps extension. */
function buildCache(entries: [string, string, number][], hwcaps: string[] = []): Uint8Array {
  const strings: string[] = [];
  const header = 48;
  const table = entries.length * 24;
  let strOff = header + table;
  const offsets = new Map<string, number>();
  const intern = (s: string): number => {
    const hit = offsets.get(s);
    if (hit !== undefined) return hit;
    offsets.set(s, strOff);
    strings.push(s);
    strOff += s.length + 1;
    return offsets.get(s)!;
  };
  const rows = entries.map(([k, v, h]) => [intern(k), intern(v), h] as const);
  const hwOffs = hwcaps.map(intern);
  const lenStrings = strOff - header - table;
  const extAt = Math.ceil(strOff / 8) * 8;
  const extSize = hwcaps.length === 0 ? 0 : 8 + 16 + hwcaps.length * 4;
  const b = new Uint8Array(extAt + extSize);
  const v = new DataView(b.buffer);
  b.set(new TextEncoder().encode('glibc-ld.so.cache1.1'), 0);
  v.setUint32(20, entries.length, true);
  v.setUint32(24, lenStrings, true);
  b[28] = 2;
  v.setUint32(32, hwcaps.length === 0 ? 0 : extAt, true);
  rows.forEach(([k, val, h], i) => {
    const o = header + i * 24;
    v.setInt32(o, CACHE_FLAGS_X86_64, true);
    v.setUint32(o + 4, k, true);
    v.setUint32(o + 8, val, true);
    if (h >= 0) {
      v.setUint32(o + 16, h, true);
      v.setUint32(o + 20, 0x40000000, true);
    }
  });
  let p = header + table;
  for (const s of strings) {
    b.set(new TextEncoder().encode(s), p);
    p += s.length + 1;
  }
  if (hwcaps.length > 0) {
    v.setUint32(extAt, 0xeaa42174, true);
    v.setUint32(extAt + 4, 1, true);
    v.setUint32(extAt + 8, 1, true);
    v.setUint32(extAt + 16, extAt + 24, true);
    v.setUint32(extAt + 20, hwcaps.length * 4, true);
    hwOffs.forEach((o, i) => { v.setUint32(extAt + 24 + i * 4, o, true); });
  }
  return b;
}

describe('ld.so.cache', () => {
  it('parses a new-format cache and looks sonames up, preferring the best glibc-hwcaps subdirectory', () => {
    const c = parseLdCache(buildCache([
      ['libz.so.1', '/usr/lib/glibc-hwcaps/x86-64-v3/libz.so.1', 0],
      ['libz.so.1', '/lib/x86_64-linux-gnu/libz.so.1', -1],
      ['libc.so.6', '/lib/x86_64-linux-gnu/libc.so.6', -1],
    ], ['x86-64-v3']));
    expect(c.format).toBe('new');
    expect(c.entries).toHaveLength(3);
    expect(c.hwcapsSubdirs).toEqual(['x86-64-v3']);
    expect(cacheLookup(c, 'libz.so.1', ['x86-64-v4', 'x86-64-v3', 'x86-64-v2'])).toBe('/usr/lib/glibc-hwcaps/x86-64-v3/libz.so.1');
    expect(cacheLookup(c, 'libz.so.1', ['x86-64-v2'])).toBe('/lib/x86_64-linux-gnu/libz.so.1');
    expect(cacheLookup(c, 'libc.so.6', [])).toBe('/lib/x86_64-linux-gnu/libc.so.6');
    expect(cacheLookup(c, 'libnone.so', [])).toBeNull();
  });

  it('names the field and offset of malformed input', () => {
    const good = buildCache([['libc.so.6', '/lib/libc.so.6', -1]]);
    const bad = (b: Uint8Array): FormatError => {
      try {
        parseLdCache(b);
      } catch (e) {
        if (e instanceof FormatError) return e;
        throw e;
      }
      throw new Error('parsed');
    };
    expect(bad(new TextEncoder().encode('not a cache at all, no')).field).toBe('magic');
    expect(bad(good.slice(0, 60)).field).toBe('file_entry_new[]');
    const wrongKey = good.slice();
    new DataView(wrongKey.buffer).setUint32(48 + 4, 1 << 20, true);
    expect(bad(wrongKey)).toMatchObject({ field: 'file_entry_new.key' });
    const wrongVersion = good.slice();
    wrongVersion[17] = 0x32;
    expect(bad(wrongVersion)).toMatchObject({ field: 'version', offset: 17 });
  });

  it('parses the old format with the new one appended', () => {
    const inner = buildCache([['libm.so.6', '/lib/libm.so.6', -1]]);
    const old = new Uint8Array(16 + 8 + inner.length);
    old.set(new TextEncoder().encode('ld.so-1.7.0'), 0);
    // No old entries: the new table starts at the next 8-byte boundary after the 16-byte header.
    old.set(inner, 16);
    const c = parseLdCache(old.subarray(0, 16 + inner.length));
    expect(c.format).toBe('old+new');
  });

  it('never fails with anything but a FormatError (fuzz)', () => {
    const seed = buildCache([['libc.so.6', '/lib/x86_64-linux-gnu/libc.so.6', 0], ['libm.so.6', '/lib/libm.so.6', -1]], ['x86-64-v3']);
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(seed.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat(seed.length), (edits, cut) => {
      const b = seed.slice(0, Math.max(cut, 1));
      for (const [at, val] of edits) if (at < b.length) b[at] = val;
      try {
        parseLdCache(b);
      } catch (e) {
        if (!(e instanceof FormatError)) throw e;
      }
    }));
  });

  it.runIf(existsSync('/etc/ld.so.cache'))('reads the host\'s /etc/ld.so.cache', () => {
    const c = parseLdCache(new Uint8Array(readFileSync('/etc/ld.so.cache')));
    expect(c.entries.length).toBeGreaterThan(0);
    const libc = cacheLookup(c, 'libc.so.6', ['x86-64-v4', 'x86-64-v3', 'x86-64-v2']);
    if (process.arch === 'x64') expect(libc).toMatch(/libc\.so\.6$/);
  });
});
