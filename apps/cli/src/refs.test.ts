/**
 * The batched replay (Kernel.accessBatch: L1 TLB hits inline, the rest through Kernel.access)
 * against the one-by-one replay (one Kernel.access per reference): the same counts, the same
 * cycles, the same final page tables (accessed/dirty bits included) and TLB contents, on random
 * traces and on the real trace of /bin/true.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACCESS_OF_REF, LackeyParser, type RefBatch } from '@polykernel/workload';
import { RefsReplay } from './refs.js';

const TRUE_TRACE = fileURLToPath(new URL('../../../examples/real/true.lackey.gz', import.meta.url));
const PROFILES = ['x86-64', 'arm64-a72', 'mips-swtlb'];

function bytes(a: ArrayBufferView): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

/** Everything the replay leaves behind: its report, every counter, the page tables, the TLBs. */
function machineState(r: RefsReplay): unknown {
  const k = r.kernel;
  const c = k.mmu.cpus[0]!;
  const tlbs = [c.l1d, c.l1i, c.l2].map((t) => (t === null ? null : [bytes(t.tag), bytes(t.asid), bytes(t.frame), bytes(t.perm)]));
  return { result: r.result(), metrics: k.metrics.snapshot(), stats: { ...k.mmu.stats }, ptes: bytes(k.mmu.pool.flags), next: bytes(k.mmu.pool.next), tlbs };
}

/** Replay the same batches both ways on `profile`. */
function both(profile: string, batches: RefBatch[]): [unknown, unknown] {
  const batched = new RefsReplay(profile, 16384);
  const each = new RefsReplay(profile, 16384);
  for (const b of batches) {
    batched.add(b);
    each.replayEach(b);
  }
  return [machineState(batched), machineState(each)];
}

const ref = fc.record({
  // A few pages in a few places: code low, heap, a stack high (beyond MIPS32's 2^31), page edges.
  region: fc.constantFrom(0x400000, 0x4000_0000, 0x1fff_0000_00, 0x7ff0_0000_0000),
  page: fc.nat(40),
  off: fc.constantFrom(0, 8, 4088, 4095, 1234),
  kind: fc.nat(3),
});

describe('lackey replay: batched = one by one', () => {
  for (const profile of PROFILES) {
    it(`${profile}: random traces, random batch boundaries`, () => {
      fc.assert(fc.property(fc.array(ref, { minLength: 1, maxLength: 600 }), fc.integer({ min: 1, max: 700 }), (refs, cut) => {
        const batches: RefBatch[] = [];
        for (let s = 0; s < refs.length; s += cut) {
          const part = refs.slice(s, s + cut);
          batches.push({
            count: part.length,
            kind: Uint8Array.from(part, (x) => x.kind),
            access: Uint8Array.from(part, (x) => ACCESS_OF_REF[x.kind]!),
            addr: Float64Array.from(part, (x) => x.region + x.page * 4096 + x.off),
            size: new Uint32Array(part.length).fill(8),
          });
        }
        const [a, b] = both(profile, batches);
        expect(a).toEqual(b);
      }), { numRuns: 25 });
    });
  }

  it('the real trace of /bin/true, on every profile', () => {
    const batches: RefBatch[] = [];
    const p = new LackeyParser((b) => batches.push({ count: b.count, kind: b.kind.slice(0, b.count), access: b.access.slice(0, b.count), addr: b.addr.slice(0, b.count), size: b.size.slice(0, b.count) }), { batch: 4096 });
    p.push(gunzipSync(readFileSync(TRUE_TRACE)));
    expect(p.end().refs).toBeGreaterThan(100000);
    for (const profile of PROFILES) {
      const [a, b] = both(profile, batches);
      expect(a).toEqual(b);
      const r = (a as { result: { references: number; tlb: { l1Hits: number }; error: string | null } }).result;
      expect(r.error).toBeNull();
      expect(r.tlb.l1Hits).toBeGreaterThan(0);
    }
  });
});
