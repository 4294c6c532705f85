import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { RefBatch } from '@polykernel/workload';
import { translateBatch, translation } from './refs-step.js';
import { runWorkload } from './run.js';

const TRACE = fileURLToPath(new URL('../../../examples/real/true.lackey.gz', import.meta.url));

function batch(addrs: number[]): RefBatch {
  const n = addrs.length;
  return { count: n, kind: new Uint8Array(n), access: new Uint8Array(n), addr: Float64Array.from(addrs), size: new Uint32Array(n).fill(8) };
}

async function run(yaml: string): Promise<{ code: number; steps: { step: string; result: string }[]; err: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'pk-refs-step-'));
  const file = join(dir, 'w.yaml');
  writeFileSync(file, yaml);
  let out = '';
  let err = '';
  const code = await runWorkload(file, { json: true }, (s) => (out += s), (s) => (err += s));
  return { code, steps: code === 0 ? (JSON.parse(out) as { steps: { step: string; result: string }[] }).steps : [], err };
}

/** /bin/true's own trace, run inside /bin/true loaded by the simulated execve. */
const workload = (map: string, others = ''): string => `name: refs-in-true
processes:
  - name: p
    steps:
      - exec: { path: /bin/true }
      - mmap: { name: stack, length: 0x40000, prot: rw-, flags: [private, anonymous] }
      - refs:
          trace: ${JSON.stringify(TRACE)}
${map}${others}
`;
// valgrind put the PIE at 0x108000, ld.so at 0x4000000 and the stack below 0x1fff01000 (the trace's addresses).
const MAP = `          map:
            - { from: 0x108000, length: 0x10000, region: "[exe]" }
            - { from: 0x4000000, length: 0x40000, region: "[interp]" }
            - { from: 0x1ffec1000, length: 0x40000, region: stack }
`;

describe('translation of a trace\'s addresses onto the process\'s regions', () => {
  it('moves each reference in an entry\'s range by region + offset − from; the first entry that holds it wins', () => {
    const moves = translation([{ from: 0x1000, length: 0x1000, region: 'a', offset: 0x10 }, { from: 0x1000, length: 0x4000, region: 'b', offset: 0 }], new Map([['a', { addr: 0x7000 }], ['b', { addr: 0x9000 }]]));
    expect(Array.isArray(moves)).toBe(true);
    const b = batch([0x1008, 0x3000, 0x8000]);
    const counts = { moved: 0, own: 0, skipped: 0 };
    translateBatch(b, moves as never, false, counts);
    expect([...b.addr]).toEqual([0x7018, 0xb000, 0x8000]);
    expect(counts).toEqual({ moved: 2, own: 1, skipped: 0 });
    const s = batch([0x1008, 0x8000, 0x1010]);
    translateBatch(s, moves as never, true, counts);
    expect(s.count).toBe(2);
    expect([...s.addr.subarray(0, 2)]).toEqual([0x7018, 0x7020]);
  });

  it('a region no step made is refused by name', () => {
    expect(translation([{ from: 0, length: 1, region: 'nope', offset: 0 }], new Map())).toMatch(/region "nope" was not mapped/);
  });
});

describe('the refs step', () => {
  it('replays /bin/true\'s lackey trace inside the simulated /bin/true: mapped onto [exe], [interp] and a stack region, fewer pages need a first touch', async () => {
    const moved = await run(workload(MAP));
    expect(moved.code, moved.err).toBe(0);
    const r = moved.steps.at(-1)!.result;
    expect(r).toMatch(/^170,090 references \(([\d,]+) moved by map, ([\d,]+) at their own address\)/);
    expect(r).not.toMatch(/failed/);
    const [, m] = /\(([\d,]+) moved by map/.exec(r)!;
    expect(Number(m!.replace(/,/g, ''))).toBeGreaterThan(100_000);
    const own = await run(workload(''));
    const pages = (s: string): number => Number(/([\d,]+) pages mapped on first touch/.exec(s)![1]!.replace(/,/g, ''));
    expect(pages(r)).toBeLessThan(pages(own.steps.at(-1)!.result));
  }, 60_000);

  it('others: skip leaves out the references no entry holds (libc, here)', async () => {
    const s = await run(workload(MAP, '          others: skip'));
    expect(s.steps.at(-1)!.result).toMatch(/[\d,]+ skipped\)/);
  }, 60_000);

  it('is a native Linux step: a map naming no region is an error result', async () => {
    const s = await run(workload('          map: [{ from: 0, length: 4096, region: nowhere }]'));
    expect(s.steps.at(-1)!.result).toMatch(/^error: .*region "nowhere"/);
  }, 60_000);
});

describe('examples/real/true-refs.yaml', () => {
  it('runs: the trace (relative to the workload) replays between the execve and the exit', async () => {
    const file = fileURLToPath(new URL('../../../examples/real/true-refs.yaml', import.meta.url));
    let out = '';
    expect(await runWorkload(file, { json: true }, (s) => (out += s), () => undefined)).toBe(0);
    const steps = (JSON.parse(out) as { steps: { step: string; result: string }[] }).steps;
    expect(steps.map((s) => s.step.split(' ')[0])).toEqual(['exec', 'mmap', 'refs', 'exit']);
    expect(steps[2]!.step).toContain('map=[3 ranges]');
    expect(steps[2]!.result).toMatch(/^170,090 references/);
  }, 60_000);
});
