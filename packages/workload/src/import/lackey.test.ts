import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACCESS_OF_REF, LackeyError, LackeyParser, parseLackeyText, REF_INSTR, REF_LOAD, REF_MODIFY, REF_STORE } from './lackey.js';

const TRUE = gunzipSync(readFileSync(fileURLToPath(new URL('../../../../examples/real/true.lackey.gz', import.meta.url))));

describe('lackey traces', () => {
  it('reads I, L, S and M lines with their hex address and size, passing over valgrind\'s own lines', () => {
    const { stats, refs } = parseLackeyText('==1== Lackey\nI  04016a30,3\n L 1ffefffb98,8\n S 7ff000a58,8\n M 0422bd40,4\n==1== \n');
    expect(refs).toEqual([
      { kind: REF_INSTR, addr: 0x04016a30, size: 3 }, { kind: REF_LOAD, addr: 0x1ffefffb98, size: 8 },
      { kind: REF_STORE, addr: 0x7ff000a58, size: 8 }, { kind: REF_MODIFY, addr: 0x0422bd40, size: 4 },
    ]);
    expect(stats).toMatchObject({ lines: 6, refs: 4, byKind: [1, 1, 1, 1], comments: 2, bad: 0 });
  });

  it('the real trace of /bin/true: every line a reference or valgrind\'s, counts as awk counts them', () => {
    const text = TRUE.toString('latin1');
    const { stats } = parseLackeyText(text);
    const count = (re: RegExp): number => text.split('\n').filter((l) => re.test(l)).length;
    expect(stats.bad).toBe(0);
    expect(stats.byKind).toEqual([count(/^I {2}[0-9a-f]+,\d+$/), count(/^ L [0-9a-f]+,\d+$/), count(/^ S [0-9a-f]+,\d+$/), count(/^ M [0-9a-f]+,\d+$/)]);
    expect(stats.refs).toBeGreaterThan(100_000);
  });

  it('any chunking gives the same references (lines straddle chunks)', () => {
    const whole = parseLackeyText(TRUE.subarray(0, 200_000).toString('latin1')).refs;
    fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 50 }), (cuts) => {
      const got: number[] = [];
      const p = new LackeyParser((b) => {
        for (let i = 0; i < b.count; i++) got.push(b.addr[i]!);
      }, { batch: 1000 });
      let at = 0;
      const src = TRUE.subarray(0, 200_000);
      for (let i = 0; at < src.length; i++) {
        const n = cuts[i % cuts.length]!;
        p.push(src.subarray(at, at + n));
        at += n;
      }
      p.end();
      expect(got).toEqual(whole.map((r) => r.addr));
    }), { numRuns: 30 });
  });

  it('bad lines are counted with their line number and skipped; strict mode refuses them with LackeyError', () => {
    const bad = 'I  0400,3\nI  zz,3\n L 0x10,8\nI  0500\nhello\n S 0600,4';
    const { stats, refs } = parseLackeyText(bad, { file: 't' });
    expect(refs.map((r) => r.addr)).toEqual([0x400, 0x600]);
    expect(stats.issues.map((i) => i.line)).toEqual([2, 3, 4, 5]);
    expect(() => parseLackeyText(bad, { file: 't', strict: true })).toThrow(new LackeyError('t', 2, 'not a lackey reference line ("I  addr,size", " L|S|M addr,size" or "==pid== ..."): "I  zz,3"'));
    // An address beyond 2^53 is refused, not rounded.
    expect(parseLackeyText('I  ffffffffffffffff,1\n').stats.bad).toBe(1);
  });

  it('property: garbage never throws outside strict mode, and strict mode throws only LackeyError', () => {
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom(...'IL SM,=0123456789abcdefxz\n\r'.split('')), maxLength: 300 }), (s) => {
      const r = parseLackeyText(s);
      expect(r.stats.refs).toBe(r.refs.length);
      try {
        parseLackeyText(s, { strict: true });
      } catch (e) {
        if (!(e instanceof LackeyError)) throw e;
      }
    }), { numRuns: 500 });
  });

  it('property: any chunking, batch size and limit give the first `limit` references, kinds and access codes', () => {
    const src = TRUE.subarray(0, 60_000);
    const whole = parseLackeyText(src.toString('latin1')).refs;
    fc.assert(fc.property(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 700 }), fc.integer({ min: 1, max: whole.length + 10 }), (cut, batch, limit) => {
      const got: [number, number, number][] = [];
      const p = new LackeyParser((b) => {
        for (let i = 0; i < b.count; i++) got.push([b.kind[i]!, b.access[i]!, b.addr[i]!]);
      }, { batch, limit });
      for (let at = 0; at < src.length && !p.done; at += cut) p.push(src.subarray(at, at + cut));
      const stats = p.end();
      const want = whole.slice(0, limit);
      expect(stats.refs).toBe(want.length);
      expect(stats.limited).toBe(limit <= whole.length);
      // The access codes are @polykernel/mmu's: read 0, write 1, exec 2 (a modify is a write).
      expect(got).toEqual(want.map((r) => [r.kind, ACCESS_OF_REF[r.kind], r.addr]));
    }), { numRuns: 40 });
    expect([REF_INSTR, REF_LOAD, REF_STORE, REF_MODIFY].map((k) => ACCESS_OF_REF[k])).toEqual([2, 0, 1, 1]);
  });

  it('keeps nothing of a chunk after push returns: a reader may refill the same Buffer (whose slice() is a view)', () => {
    const src = TRUE.subarray(0, TRUE.indexOf(10, 100_000) + 1);
    const whole = parseLackeyText(src.toString('latin1')).refs.map((r) => r.addr);
    const got: number[] = [];
    const p = new LackeyParser((b) => {
      for (let i = 0; i < b.count; i++) got.push(b.addr[i]!);
    });
    const buf = Buffer.alloc(777);
    for (let at = 0; at < src.length; at += buf.length) {
      const n = src.copy(buf, 0, at, at + buf.length);
      p.push(buf.subarray(0, n));
      buf.fill(0x5a); // what the next read would overwrite
    }
    expect(p.end().bad).toBe(0);
    expect(got).toEqual(whole);
  });

  it('stops after limit references', () => {
    const { stats, refs } = parseLackeyText(TRUE.toString('latin1'), { limit: 1000, batch: 300 });
    expect(refs).toHaveLength(1000);
    expect(stats.limited).toBe(true);
  });
});
