import { existsSync, readFileSync } from 'node:fs';
import { FormatError } from '@polykernel/core';
import { parseElf } from '@polykernel/elf';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FREEBSD_14_X86_64, GLIBC_2_36_X86_64, type RtldConventions } from './conventions.js';
import { buildElfHints, freebsdCandidates, parseElfHints } from './hints.js';
import { mapSegments } from './map.js';
import { Session } from './session.js';
import type { RtldSystem } from './system.js';

function recorder(): RtldSystem & { calls: string[] } {
  let top = 0x800000000;
  const calls: string[] = [];
  return {
    calls,
    syscall: (name, args) => {
      calls.push(`${name}(${args.map((a) => (typeof a === 'number' && a > 9 ? `0x${a.toString(16)}` : String(a))).join(', ')})`);
      if (name !== 'mmap') return { value: 0, error: null };
      if ((Number(args[3]) & 0x10) !== 0) return { value: Number(args[0]), error: null };
      top -= Math.ceil(Number(args[1]) / 4096) * 4096;
      return { value: top, error: null };
    },
    load: (_va, len) => new Uint8Array(len),
    store: () => true,
    fileBytes: () => null,
  };
}

describe('FreeBSD ld-elf.so.1 conventions', () => {
  it('reads the hints file\'s directory list; malformed → FormatError with field and offset', () => {
    const h = buildElfHints(['/lib', '/usr/lib', '/usr/local/lib']);
    expect(parseElfHints(h)).toEqual({ bigEndian: false, dirs: ['/lib', '/usr/lib', '/usr/local/lib'] });
    const bad = h.slice();
    bad[4] = 2;
    expect(() => parseElfHints(bad)).toThrow(expect.objectContaining({ field: 'version', offset: 4 }) as Error);
    expect(() => parseElfHints(h.slice(0, 100))).toThrow(FormatError);
    const long = h.slice();
    new DataView(long.buffer).setUint32(20, 1000, true);
    expect(() => parseElfHints(long)).toThrow(expect.objectContaining({ field: 'dirlistlen' }) as Error);
    fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (b) => {
      try {
        parseElfHints(b);
      } catch (e) {
        if (!(e instanceof FormatError)) throw e;
      }
    }));
  });

  it('find_library\'s order: rpath (without runpath), LD_LIBRARY_PATH, runpath, hints, /lib/casper:/lib:/usr/lib', () => {
    const base = { name: 'libutil.so.9', rpath: ['/r'], mainRpath: ['/m'], ldLibraryPath: ['/e'], hints: ['/lib', '/usr/local/lib'], standard: ['/lib/casper', '/lib', '/usr/lib'], nodeflib: false };
    expect(freebsdCandidates({ ...base, runpath: null })).toEqual([
      '/r/libutil.so.9', '/m/libutil.so.9', '/e/libutil.so.9', '/lib/libutil.so.9', '/usr/local/lib/libutil.so.9', '/lib/casper/libutil.so.9', '/lib/libutil.so.9', '/usr/lib/libutil.so.9',
    ]);
    expect(freebsdCandidates({ ...base, runpath: ['/u'], nodeflib: true })).toEqual(['/e/libutil.so.9', '/u/libutil.so.9']);
    expect(freebsdCandidates({ ...base, name: './x.so', runpath: null })).toEqual(['./x.so']);
  });

  const LIBC = '/lib/x86_64-linux-gnu/libc.so.6';
  it.runIf(existsSync(LIBC))('maps an object the FreeBSD way (PROT_NONE reservation, every segment MAP_FIXED over it) and the glibc way', () => {
    const elf = parseElf(new Uint8Array(readFileSync(LIBC)));
    const run = (conv: RtldConventions): string[] => {
      const sys = recorder();
      mapSegments(new Session(sys, conv, 0x1000, 'x', 0), 3, elf);
      return sys.calls;
    };
    const bsd = run(FREEBSD_14_X86_64);
    const loads = elf.loadSegments.length;
    expect(bsd[0]).toMatch(/^mmap\(0, 0x[0-9a-f]+, 0, 0x21002, -1, 0\)$/);
    expect(bsd.filter((c) => /^mmap\(0x[0-9a-f]+, 0x[0-9a-f]+, \d, 0x12, 3,/.test(c))).toHaveLength(loads);
    const glibc = run(GLIBC_2_36_X86_64);
    expect(glibc[0]).toMatch(/^mmap\(0, 0x[0-9a-f]+, 1, 0x802, 3, 0\)$/);
    expect(glibc.filter((c) => c.includes(', 0x812, 3,'))).toHaveLength(loads - 1);
  });
});
