import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GLIBC_2_36_X86_64 } from './conventions.js';
import { MinimalMalloc } from './minimal-malloc.js';
import { sortMaps } from './rtld.js';
import { expandDst } from './search.js';
import { Session, type LinkMap, type TlsModule } from './session.js';
import type { RtldSystem, SyscallOutcome } from './system.js';
import { determineTlsOffsets } from './tls.js';

/** A system whose mmap hands out addresses top-down from 0x7ffff7fc2000 and records the calls. */
function fakeSystem(): RtldSystem & { calls: string[] } {
  let top = 0x7ffff7fc2000;
  const calls: string[] = [];
  return {
    calls,
    syscall: (name, args): SyscallOutcome => {
      calls.push(`${name}(${args.join(',')})`);
      if (name !== 'mmap') return { value: 0, error: null };
      top -= Math.ceil(Number(args[1]) / 4096) * 4096;
      return { value: top, error: null };
    },
    load: (_va, len) => new Uint8Array(len),
    store: () => true,
    fileBytes: () => null,
  };
}

function map(name: string, deps: LinkMap[] = [], kind: LinkMap['kind'] = 'lib'): LinkMap {
  return {
    name, libnames: [], kind, elf: null, addr: 0, mapStart: 0, mapEnd: 0, fileId: name, loader: null, deps, origin: '',
    rpath: null, runpath: null, tls: null, relro: null, relocated: false, structAddr: 0, segments: [],
  };
}

describe('the run-time linker mechanism', () => {
  it('minimal malloc: the tail of ld.so\'s bss page first, then page-rounded mmaps with a spare page (the /bin/true sequence)', () => {
    const sys = fakeSystem();
    // ld.so's _end is 0x342d8 past its base: 3368 bytes left in its last page.
    const m = new MinimalMalloc(sys, 0x7ffff7fca000 + 0x342d8, 16);
    for (const n of [1481, 1481, 48, 274, 40]) m.malloc(n, 'x');
    expect(sys.calls).toEqual([]);
    m.malloc(480, 'system search path elements');
    expect(sys.calls).toEqual(['mmap(0,8192,3,34,-1,0)']);
    for (const n of [32, 1234, 32, 40, 56, 216, 72, 1056, 192, 1040]) m.malloc(n, 'x');
    expect(sys.calls).toHaveLength(1);
    m.malloc(4296, 'static TLS');
    expect(sys.calls[1]).toBe('mmap(0,12288,3,34,-1,0)');
    expect(m.allocations.at(-1)!.at % 4096).toBe(0);
  });

  it('minimal malloc never overlaps allocations (property)', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 20000 }), { maxLength: 40 }), (sizes) => {
      const m = new MinimalMalloc(fakeSystem(), 0x7ffff7ffe2d8, 16);
      for (const n of sizes) m.malloc(n, 'x');
      const spans = m.allocations.map((a) => [a.at, a.at + a.size] as const).sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
      for (const a of m.allocations) expect(a.at % 16).toBe(0);
    }));
  });

  it('static TLS: libc\'s 0x90-byte block below the thread pointer, 4224 bytes with the surplus and the TCB', () => {
    const s = new Session(fakeSystem(), GLIBC_2_36_X86_64, 0x1000, 'prog', 0);
    const libc: TlsModule = { modid: 1, blocksize: 0x90, align: 8, firstbyte: 0x1cf8d0 % 8, offset: 0, initAddr: 0, initSize: 0x10 };
    expect(determineTlsOffsets(s, [libc])).toEqual({ size: 4224, align: 64, used: 144 });
    expect(libc.offset).toBe(144);
  });

  it('static TLS: blocks never overlap and respect their alignment (property)', () => {
    const s = new Session(fakeSystem(), GLIBC_2_36_X86_64, 0x1000, 'prog', 0);
    const mod = fc.record({ blocksize: fc.integer({ min: 1, max: 5000 }), alignLog: fc.integer({ min: 0, max: 7 }), fb: fc.nat(127) });
    fc.assert(fc.property(fc.array(mod, { minLength: 1, maxLength: 8 }), (ms) => {
      const mods: TlsModule[] = ms.map((m, i) => ({ modid: i + 1, blocksize: m.blocksize, align: 2 ** m.alignLog, firstbyte: m.fb % 2 ** m.alignLog, offset: 0, initAddr: 0, initSize: 0 }));
      const r = determineTlsOffsets(s, mods);
      const spans = mods.map((m) => [-m.offset, -m.offset + m.blocksize] as const).sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
      // The block's start keeps the p_vaddr congruence modulo the alignment (tp is max-aligned).
      for (const m of mods) expect((((-m.offset - m.firstbyte) % m.align) + m.align) % m.align).toBe(0);
      expect(r.used).toBeGreaterThanOrEqual(Math.max(...mods.map((m) => m.offset)));
    }));
  });

  it('initialisation order: every object after the objects it needs when read backwards (the ls example)', () => {
    const rtld = map('ld.so', [], 'rtld');
    const libc = map('libc', [rtld]);
    const pcre = map('pcre', [libc]);
    const selinux = map('selinux', [pcre, libc]);
    const main = map('', [selinux, libc], 'main');
    const order = sortMaps([main, selinux, libc, pcre, rtld]);
    expect(order.map((m) => m.name)).toEqual(['', 'selinux', 'pcre', 'libc', 'ld.so']);
  });

  it('expands $ORIGIN, ${ORIGIN}, $LIB and $PLATFORM', () => {
    expect(expandDst('$ORIGIN/../lib:${ORIGIN}/x', '/opt/app/bin')).toBe('/opt/app/bin/../lib:/opt/app/bin/x');
    expect(expandDst('/usr/$LIB/$PLATFORM', '/')).toBe('/usr/lib/x86_64-linux-gnu/x86_64');
  });
});
