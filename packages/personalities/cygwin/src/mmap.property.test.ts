/** Property: random mmap / munmap / mprotect sequences keep the records and the Windows regions in step, and unmapping everything gives the commit back. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GRANULARITY, MAP_ANONYMOUS, MAP_NORESERVE, MAP_PRIVATE, PROT_READ, PROT_WRITE } from './posix.js';
import { bootCygwin } from './testkit.js';

const op = fc.oneof(
  fc.record({ kind: fc.constant('mmap' as const), chunks: fc.integer({ min: 1, max: 4 }), noreserve: fc.boolean() }),
  fc.record({ kind: fc.constant('munmap' as const), rec: fc.nat(), first: fc.nat(3), chunks: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('mprotect' as const), rec: fc.nat(), first: fc.nat(3), ro: fc.boolean() }),
);

describe('mmap records property', () => {
  it('mapped pages are accessible regions, unmapped ones are not, and everything unmapped returns the commit', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 12 }), (ops) => {
        const c = bootCygwin({}, { frames: 16384 });
        const commit0 = c.p.space.commitCharge;
        const recs = () => c.k.state.cygwin.byWinpid.get(c.p.pid)!.mmaps;
        for (const o of ops) {
          if (o.kind === 'mmap') {
            const flags = MAP_PRIVATE + MAP_ANONYMOUS + (o.noreserve ? MAP_NORESERVE : 0);
            expect(c.call('mmap', 0, o.chunks * GRANULARITY - 100, PROT_READ | PROT_WRITE, flags, -1, 0).value).toBeGreaterThan(0);
          } else if (recs().length > 0) {
            const r = recs()[o.rec % recs().length]!;
            const at = r.addr + (o.first % (r.len / GRANULARITY)) * GRANULARITY;
            // Within the record: past the top-down mapping at the end of the user range,
            // check_invalid_virtual_addr's VirtualQuery fails and munmap is EINVAL, as on Cygwin.
            const left = (r.addr + r.len - at) / GRANULARITY;
            if (o.kind === 'munmap') expect(c.call('munmap', at, Math.min(o.chunks, left) * GRANULARITY).value).toBe(0);
            // mmap_record::match ignores the page map, so Cygwin's mprotect of a munmap'ed part of
            // a record makes it accessible again: only mapped chunks are protected here.
            else if (r.mapped[(at - r.addr) / 4096] === 1) expect(c.call('mprotect', at, GRANULARITY, o.ro ? PROT_READ : PROT_READ | PROT_WRITE).value).toBe(0);
          }
        }
        for (const r of recs()) {
          for (let i = 0; i < r.len / 4096; i += 16) {
            const q = c.call('VirtualQuery', r.addr + i * 4096).record!.fields;
            const noreserve = Math.floor(r.flags / MAP_NORESERVE) % 2 === 1;
            if (r.mapped[i] === 0) expect(q.State === 0x2000 || q.Protect === 0x01, 'an unmapped page is reserved or PAGE_NOACCESS').toBe(true);
            else if (!noreserve) expect(q.State, 'a mapped page is committed').toBe(0x1000);
          }
        }
        for (const r of [...recs()]) c.call('munmap', r.addr, r.len);
        expect(recs()).toHaveLength(0);
        expect(c.p.space.commitCharge).toBe(commit0);
      }),
      { numRuns: 30, seed: 7 },
    );
  });
});
