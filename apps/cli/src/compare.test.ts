import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TOYPORT_ENTRY } from '../test/toy-portable.js';
import { TOY_ENTRY } from '../test/toy.js';
import { runCompare } from './compare.js';
import { PERSONALITIES, registeredList, type RegisteredPersonality } from './personalities.js';

const EX = (name: string): string => fileURLToPath(new URL(`../../../examples/${name}`, import.meta.url));

async function compare(file: string, opts: Record<string, boolean | string | undefined> = {}, registry: readonly RegisteredPersonality[] = PERSONALITIES): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCompare(file, opts, (s) => (out += s + '\n'), (s) => (err += s + '\n'), registry);
  return { code, out, err };
}

interface Json {
  seed: number;
  columns: { variant: string; na: string | null; metrics: { syscalls: number; faults: Record<string, number> } | null; unsupported: { step: string; result: string }[]; steps: { result: string }[] }[];
  rows: { metric: string; values: (number | null)[]; ratios: (number | null)[] }[];
}

describe('polykernel compare', () => {
  it('one table, the variants side by side with ratios to the first; the same seed gives the same output', async () => {
    const a = await compare(EX('portable/lecture-fork.yaml'), { personality: 'linux-6.x,linux-5.15' });
    expect(a.code).toBe(0);
    expect(a.err).toBe('');
    expect(a.out).toMatch(/^workload lecture-fork-portable on linux-6\.x, linux-5\.15 \(seed 1, memory 1,073,741,824 B, swap 0 B\)\n/);
    expect(a.out).toMatch(/^metric +linux-6\.x +linux-5\.15$/m);
    expect(a.out).toMatch(/^faults: cow +1 +1 {2}×1\.00$/m);
    expect(a.out).toMatch(/^system calls +4 +4 {2}×1\.00$/m);
    // The VMA index is where the variants differ: a B-tree against a red-black tree.
    expect(a.out).toMatch(/^index nodes visited +17 +15 {2}×0\.88$/m);
    expect(a.out).not.toMatch(/faults: swapIn/); // zero everywhere: left out
    expect((await compare(EX('portable/lecture-fork.yaml'), { personality: 'linux-6.x,linux-5.15', all: true })).out).toMatch(/^faults: swapIn +— +—$/m);
    const b = await compare(EX('portable/lecture-fork.yaml'), { personality: 'linux-6.x,linux-5.15' });
    expect(b.out).toBe(a.out);
  });

  it('--json: every row with values and ratios, each column with its steps', async () => {
    const j = JSON.parse((await compare(EX('portable/fork-exec-storm.yaml'), { personality: 'linux-5.15,linux-6.x', json: true })).out) as Json;
    expect(j.seed).toBe(1);
    expect(j.columns.map((c) => c.variant)).toEqual(['linux-5.15', 'linux-6.x']);
    const row = (m: string): Json['rows'][number] => j.rows.find((r) => r.metric === m)!;
    expect(row('processesCreated').values).toEqual([10, 10]);
    expect(row('syscalls').values[0]).toBe(1 + 8 * 4); // mmap, then eight times fork + execve, the child's exit_group and wait4
    expect(row('syscalls').ratios).toEqual([1, 1]);
    expect(j.columns[0]!.steps.filter((s) => s.result.includes('WEXITSTATUS=0'))).toHaveLength(8);
  });

  it('honest columns: no driver is n/a with the reason; a step a kernel cannot do is listed, not faked', async () => {
    const registry = [...PERSONALITIES, TOY_ENTRY, TOYPORT_ENTRY];
    const r = await compare(EX('portable/lecture-fork.yaml'), { personality: 'linux-6.x,toyos,toyport' }, registry);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^system calls +4 +n\/a +2 {2}×0\.50$/m);
    expect(r.out).toContain('toyos-1: n/a — toyos-1 has no portable driver (Personality.portable)');
    expect(r.out).toContain('toyport-1: 1 step n/a (the other figures leave them out):\n');
    expect(r.out).toContain('parent: fork as=child steps=[4 steps] -> n/a: toyport has no fork');
    // "—": toyport does not model COW (not in its metricsFilled), and did not fill it.
    expect(r.out).toMatch(/^faults: cow +1 +n\/a +—$/m);
  });

  it('a workload with native Linux steps runs on Linux and is n/a elsewhere, saying why', async () => {
    const registry = [...PERSONALITIES, TOYPORT_ENTRY];
    const j = JSON.parse((await compare(EX('lecture-fork.yaml'), { personality: 'linux-6.x,toyport', json: true }, registry)).out) as Json;
    expect(j.columns[0]!.na).toBeNull();
    expect(j.columns[1]!.na).toBe('native steps of linux (mmap); write them as portable steps');
    expect(j.rows.find((r) => r.metric === 'syscalls')!.values).toEqual([4, null]);
  });

  it('--views puts each process\'s map side by side in each kernel\'s own view', async () => {
    const registry = [...PERSONALITIES, TOYPORT_ENTRY];
    const r = await compare(EX('portable/mapfile.yaml'), { personality: 'linux-6.x,toyport', views: true }, registry);
    expect(r.out).toMatch(/== p\nlinux-6\.x: \/proc\/2\/maps +\| {2}toyport-1: regions of 2/);
    expect(r.out).toMatch(/\/etc\/hostname/);
  });

  it('bad input: an unknown personality lists the registered ones; an empty list and a bad seed are usage errors', async () => {
    const u = await compare(EX('portable/lecture-fork.yaml'), { personality: 'linux-6.x,plan9' });
    expect(u.code).toBe(2);
    expect(u.err).toBe(`polykernel compare: personality "plan9" is not registered (registered: ${registeredList()}; see polykernel personalities)\n`);
    expect((await compare(EX('portable/lecture-fork.yaml'), { personality: ',' })).code).toBe(2);
    const s = await compare(EX('portable/lecture-fork.yaml'), { personality: 'linux', seed: 'x' });
    expect(s.code).toBe(2);
    expect(s.err).toContain('--seed takes a whole number');
  });
});
