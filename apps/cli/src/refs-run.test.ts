/**
 * polykernel run --refs: a lackey trace through each profile's MMU, alone or in a workload's
 * process; plain, .gz and .xz give the same replay; bad input is refused with the right status.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { getProfile } from '@polykernel/mmu';
import { cli } from '../test/run-cli.js';
import type { RefsResult } from './refs.js';

const TRUE_TRACE = fileURLToPath(new URL('../../../examples/real/true.lackey.gz', import.meta.url));
const TRUE_LOG = fileURLToPath(new URL('../../../examples/real/true.strace', import.meta.url));

const tmp = (): string => mkdtempSync(join(tmpdir(), 'pk-refs-'));

interface Report { references: number; byKind: Record<string, number>; limited: boolean; badLines: number; hostSeconds: number; hostCpuSeconds: number; profiles: RefsResult[] }

describe('polykernel run --refs TRACE', () => {
  it('replays /bin/true on three profiles side by side, with simulated time at each profile\'s clock', async () => {
    const r = await cli('run', '--refs', TRUE_TRACE, '--profile', 'x86-64,arm64-a72,mips-swtlb', '--limit', '40000', '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out) as Report;
    expect(s).toMatchObject({ references: 40000, limited: true, badLines: 0 });
    expect(s.profiles.map((p) => p.profile)).toEqual(['x86-64', 'arm64-a72', 'mips-swtlb']);
    for (const p of s.profiles) {
      expect(p.error).toBeNull();
      expect(p.references).toBe(40000);
      expect(p.simulatedSeconds).toBeCloseTo(p.cycles / getProfile(p.profile).hz, 12);
      // Each replayed access is a counted lookup, and a retry after a fault is another (a write
      // through a read-only TLB entry faults before it counts as a hit: at most one per fault).
      const faults = Object.values(p.faults).reduce((a, b) => a + b, 0);
      const lookups = p.tlb.l1Hits + p.tlb.l2Hits + p.tlb.misses;
      expect(lookups).toBeGreaterThanOrEqual(40000 - p.beyondAddressSpace);
      expect(lookups).toBeLessThanOrEqual(40000 - p.beyondAddressSpace + faults + p.refills);
    }
    const [x86, , mips] = s.profiles;
    expect(x86!.walks).toBe(x86!.tlb.misses);
    // MIPS has no hardware walker: every miss is a software refill.
    expect(mips!.walks).toBe(0);
    expect(mips!.refills).toBe(mips!.tlb.misses);
  });

  it('the same counts as import lackey --replay, and the table names every row', async () => {
    const run = await cli('run', '--refs', TRUE_TRACE, '--limit', '20000', '--json');
    const imp = await cli('import', 'lackey', TRUE_TRACE, '--limit', '20000', '--replay', '--json');
    expect((JSON.parse(run.out) as Report).profiles).toEqual((JSON.parse(imp.out) as Report).profiles);
    const text = await cli('run', '--refs', TRUE_TRACE, '--limit', '20000');
    for (const row of ['TLB L1 hits', 'TLB L2 hits', 'TLB misses', 'page walks (walk references)', 'page faults', 'simulated cycles', 'simulated time', 'M references/s']) expect(text.out).toContain(row);
  });

  it('plain, .gz and .xz traces give the same replay (streamed in chunks, lines straddling them)', async () => {
    const dir = tmp();
    const plain = join(dir, 'true.lackey');
    writeFileSync(plain, gunzipSync(readFileSync(TRUE_TRACE)));
    execFileSync('xz', ['-k', '-1', plain]);
    const results = [];
    for (const f of [plain, TRUE_TRACE, `${plain}.xz`]) {
      const r = await cli('run', '--refs', f, '--profile', 'arm64-a72', '--json');
      expect(r.code).toBe(0);
      results.push((JSON.parse(r.out) as Report).profiles);
    }
    expect(results[0]!.length).toBe(1);
    expect(results[0]![0]!.references).toBeGreaterThan(170000);
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
  });

  it('a trace with garbage lines is replayed with the lines counted; --strict refuses it at its line', async () => {
    const f = join(tmp(), 'bad.lackey');
    writeFileSync(f, '==1== Lackey\nI  0400000,3\nGARBAGE\n L 0400008,4\n S 7ff000,8');
    const ok = await cli('run', '--refs', f, '--json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ references: 3, badLines: 1, profiles: [{ references: 3, pagesMapped: 2, failed: 0 }] });
    const strict = await cli('run', '--refs', f, '--strict');
    expect(strict.code).toBe(1);
    expect(strict.err).toContain(`${f}:3: not a lackey reference line`);
  });
});

describe('polykernel run W.yaml --refs TRACE', () => {
  it('replays in the workload\'s first process: references in its mappings use them, the others are mapped on first touch', async () => {
    const dir = tmp();
    const w = join(dir, 'w.yaml');
    writeFileSync(w, [
      'name: w', 'processes:', '  - name: main', '    steps:',
      '      - mmap: { name: data, addr: 0x10000000, length: 8K, prot: rw-, flags: [private, anonymous, fixed] }',
      '      - mmap: { name: ro, addr: 0x10004000, length: 4K, prot: r--, flags: [private, anonymous, fixed] }',
      '      - exit: 0', '',
    ].join('\n'));
    const t = join(dir, 't.lackey');
    // Two pages of the workload's rw- mapping, a page of nothing (mapped on first touch), a store into the r-- mapping.
    writeFileSync(t, ' L 10000000,8\n S 10001008,8\n L 20000000,4\n S 10004000,4\n');
    const r = await cli('run', w, '--refs', t, '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out) as { exitLeftOut: boolean; steps: { result: string }[]; refs: Report };
    expect(s.exitLeftOut).toBe(true);
    expect(s.steps.map((x) => x.result)).toEqual(['0x10000000', '0x10004000']);
    // Only 0x20000000 needed a page; the store into the read-only mapping fails (SIGSEGV), as the program's would.
    expect(s.refs.profiles[0]).toMatchObject({ references: 4, pagesMapped: 1, failed: 1, error: null });
  });

  it('an imported strace log of /bin/true with its lackey trace: the workload runs, then the trace, on one profile', async () => {
    const dir = tmp();
    const w = join(dir, 'true.yaml');
    expect((await cli('import', 'strace', TRUE_LOG, '-o', w)).code).toBe(0);
    const r = await cli('run', w, '--refs', TRUE_TRACE, '--limit', '10000', '--profile', 'arm64-a72');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^true on linux-6.x \(arm64-a72\): 18 steps run; the trace replayed in pid\d+\[\d+\], after its steps \(before its closing exit step, left out\)/);
    expect(r.out).toContain('replayed');
  });
});

describe('polykernel run --refs: bad usage', () => {
  it('refuses what does not apply (2) and a trace that is not there (1)', async () => {
    const dir = tmp();
    expect((await cli('run', '--refs', TRUE_TRACE, '-p', 'freebsd-14')).code).toBe(2);
    expect((await cli('run', '--refs', TRUE_TRACE, '--meminfo')).code).toBe(2);
    expect((await cli('run', '--refs', TRUE_TRACE, '--profile', 'vax')).code).toBe(2);
    expect((await cli('run', '--refs', TRUE_TRACE, '--limit', '0')).code).toBe(2);
    expect((await cli('run', '--refs', join(dir, 'none.lackey'))).code).toBe(1);
    expect((await cli('run', '--refs', dir)).code).toBe(1);
    const w = join(dir, 'w.yaml');
    writeFileSync(w, 'name: w\nprocesses:\n  - name: main\n    steps: []\n');
    expect((await cli('run', w, '--profile', 'x86-64')).code).toBe(2);
    expect((await cli('run', w, '--refs', TRUE_TRACE, '--profile', 'x86-64,arm64-a72')).code).toBe(2);
    const none = await cli('run');
    expect(none.code).toBe(2);
    expect(none.err).toContain('missing required argument');
  });
});
