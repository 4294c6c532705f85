import { BENCH_PERSONALITIES } from './personalities.js';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main, type Io } from './main.js';
import { runPoints } from './pool.js';
import { chartSvg, markdown, toCsv } from './report.js';
import { crossovers } from './scenarios.js';
import { expandPoints, merge, parseShard, shardOf, type SweepResults, type SweepSpec } from './sweep.js';

const SPEC: SweepSpec = { scenario: 'fork-cost', params: { size: ['1M', '4M'] }, personalities: ['linux-6.x', 'linux-5.15'], seed: 1, memory: 256 * 1024 ** 2, sysroot: '/' };

async function sweep(spec: SweepSpec, shard = { index: 1, count: 1 }): Promise<SweepResults> {
  const all = expandPoints(spec);
  return { spec, total: all.length, shard, results: await runPoints(spec, shardOf(all, shard), 1) };
}

describe('sweeps', () => {
  it('cross the parameters with the personalities in a fixed order', () => {
    expect(expandPoints(SPEC).map((p) => `${p.index} ${p.params.size} ${p.personality}`)).toEqual(['0 1M linux-6.x', '1 1M linux-5.15', '2 4M linux-6.x', '3 4M linux-5.15']);
  });

  it('fork-cost: the fork copies page tables, so it costs more for a bigger parent', async () => {
    const r = await sweep(SPEC);
    expect(r.results.map((x) => x.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
    const fork = r.results.map((x) => x.extra.forkCycles!);
    expect(fork[2]!).toBeGreaterThan(fork[0]!);
    expect(r.results[0]!.metrics!.faults.cow).toBe(1); // the child's one write
  });

  it('run as 1 shard and as 3 shards, merged: identical results', async () => {
    const whole = await sweep(SPEC);
    const shards = await Promise.all([1, 2, 3].map((index) => sweep(SPEC, { index, count: 3 })));
    expect(shards.map((s) => s.results.map((x) => x.index))).toEqual([[0, 3], [1], [2]]);
    expect(merge(shards)).toEqual(whole);
    expect(merge([...shards].reverse())).toEqual(whole);
  });

  it('merge refuses a missing point, a point twice and shards of another sweep', async () => {
    const shards = await Promise.all([1, 2].map((index) => sweep(SPEC, { index, count: 3 })));
    expect(() => merge(shards)).toThrow('points missing from the shards: 2');
    expect(() => merge([shards[0]!, shards[0]!])).toThrow('point 0 is in two shards');
    expect(() => merge([shards[0]!, { ...shards[1]!, spec: { ...SPEC, seed: 2 } }])).toThrow('different sweeps');
  });

  it('a worker pool returns the same results, in point order, as one thread', async () => {
    const spec: SweepSpec = { scenario: 'vma-index', params: { areas: ['10', '200'] }, personalities: ['linux-6.x', 'linux-5.15', 'freebsd-14'], seed: 3, memory: 128 * 1024 ** 2, sysroot: '/' };
    const points = expandPoints(spec);
    const seen: number[] = [];
    const pooled = await runPoints(spec, points, 2, (done) => seen.push(done));
    expect(pooled).toEqual(await runPoints(spec, points, 1));
    expect(pooled.map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('a shard spec is i/n with 1 ≤ i ≤ n', () => {
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    expect(parseShard('3/2')).toBe('--shard 3/2: i must be between 1 and n (shards are numbered 1 to 2)');
    expect(parseShard('0/2')).toBe('--shard 0/2: i must be between 1 and n (shards are numbered 1 to 2)');
    expect(parseShard('1/0')).toBe('--shard 1/0: n must be at least 1');
    expect(parseShard('half')).toBe('--shard takes i/n, e.g. 2/3; got "half"');
  });
});

describe('design choices', () => {
  const spec: SweepSpec = { scenario: 'vma-index', params: { areas: ['2', '8', '64'], index: ['list', 'btree', 'avl'] }, personalities: ['linux-6.x', 'freebsd-14'], seed: 1, memory: 128 * 1024 ** 2, sysroot: '/' };

  it('vma-index on another index: Linux varies it, a kernel that cannot is n/a with the reason', async () => {
    const r = await sweep(spec);
    const at = (areas: string, index: string, p = 'linux-6.x') => r.results.find((x) => x.params.areas === areas && x.params.index === index && x.personality === p)!;
    // The list walks to the area (half the list on average past its one-entry cache); a tree does not.
    expect(at('64', 'list').extra.nodesPerFault).toBeGreaterThan(16);
    expect(at('64', 'btree').extra.nodesPerFault).toBeLessThan(4);
    expect(at('2', 'list').extra.nodesPerFault).toBeLessThanOrEqual(at('2', 'avl').extra.nodesPerFault!);
    expect(at('8', 'list', 'freebsd-14')).toMatchObject({ status: 'n/a', reason: 'freebsd-14 cannot vary vmaIndex (it offers: nothing)' });
  });

  it('the crossover: the smallest size from which a tree visits fewer nodes than the list, at every larger size', () => {
    const pt = (index: string, areas: number, perFault: number) => ({ personality: 'p', params: { index, areas: String(areas) }, status: 'ok', extra: { nodesPerFault: perFault, nodesPerMap: perFault } });
    const rows = crossovers([pt('list', 1, 1), pt('list', 4, 3), pt('list', 16, 9), pt('avl', 1, 2), pt('avl', 4, 2), pt('avl', 16, 4), pt('btree', 1, 0.5), pt('btree', 4, 5), pt('btree', 16, 1), pt('splay', 1, 2), pt('splay', 4, 4), pt('splay', 16, 10)], 'nodesPerFault');
    expect(rows).toEqual([{ personality: 'p', index: 'splay', areas: null }, { personality: 'p', index: 'avl', areas: 4 }, { personality: 'p', index: 'btree', areas: 16 }]);
  });

  it('an unknown index is a failed point naming the kinds', async () => {
    const r = await sweep({ ...spec, params: { areas: ['2'], index: ['skiplist'] }, personalities: ['linux-6.x'] });
    expect(r.results[0]).toMatchObject({ status: 'failed', reason: 'index takes native or one of list, rbtree, splay, avl, btree; got "skiplist"' });
  });

  it('the report has the crossover table', async () => {
    const r = await sweep(spec);
    const md = markdown(r, 'cmd', 'x.svg');
    expect(md).toContain('## Crossover: where each tree overtakes the sorted list');
    expect(md).toMatch(/\| linux-6\.x \| btree \| (2|8) areas \|/);
    expect(md).not.toMatch(/\| freebsd-14 \| btree/);
  });
});

describe('reports', () => {
  it('CSV, Markdown with the command that reproduces it, and an SVG chart', async () => {
    const r = await sweep(SPEC);
    const csv = toCsv(r).split('\n');
    expect(csv[0]).toBe('index,scenario,personality,size,status,reason,forkCycles,cycles,syscalls,traps.pageFault,faults.zeroFill,faults.cow,pagesZeroed,pagesCopied,tlbMisses,bytesCopiedCrossProcess,peakResident,indexNodesVisited,peakCommit');
    expect(csv[1]).toMatch(/^0,fork-cost,linux-6\.x,1M,ok,,\d+,/);
    const md = markdown(r, 'polykernel-bench run fork-cost', 'fork-cost.svg');
    expect(md).toContain('```sh\npolykernel-bench run fork-cost\n```');
    expect(md).toContain('![fork-cost: forkCycles by size](fork-cost.svg)');
    expect(md).toMatch(/^\| 1M \| linux-6\.x \| [\d,]+ \|/m);
    const svg = await chartSvg(r);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('linux-5.15');
  });
});

describe('polykernel-bench', () => {
  const io = (): Io & { text: () => string; errors: () => string } => {
    let out = '';
    let err = '';
    return { out: (s) => (out += s + '\n'), err: (s) => (err += s + '\n'), progress: null, text: () => out, errors: () => err };
  };

  it('run writes JSON, CSV, a report and its chart; shards write their slice', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pk-bench-'));
    const a = io();
    expect(await main(['node', 'bench', 'run', 'dd', '--param', 'bs=64K', '-p', 'linux-6.x', '--workers', '1', '--memory', '256M', '--out', dir], a)).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['dd.csv', 'dd.json', 'dd.md', 'dd.svg']);
    expect(readFileSync(join(dir, 'dd.md'), 'utf8')).toContain(`polykernel-bench run dd --param bs=64K -p linux-6.x --seed 1 --memory 256M --out ${dir}`);
    const j = JSON.parse(readFileSync(join(dir, 'dd.json'), 'utf8')) as SweepResults;
    expect(j.results[0]!.extra.readFaults).toBe(16); // 64 KiB read into a fresh buffer: 16 demand-zero faults
    const b = io();
    expect(await main(['node', 'bench', 'run', 'dd', '-p', 'linux-6.x,linux-5.15', '--shard', '2/2', '--workers', '1', '--memory', '256M', '--out', dir], b)).toBe(0);
    expect(b.text()).toContain('2 of 4 points (shard 2/2)');
  });

  it('merge joins shard files into the same results, report and chart as one run; a missing shard is refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pk-bench-'));
    const args = ['node', 'bench', 'run', 'fork-cost', '--param', 'size=1M,2M', '-p', 'linux-6.x,linux-5.15', '--workers', '1', '--memory', '256M'];
    expect(await main([...args, '--out', join(dir, 'whole')], io())).toBe(0);
    for (const i of [1, 2, 3]) expect(await main([...args, '--shard', `${i}/3`, '--out', join(dir, 'shards')], io())).toBe(0);
    const shard = (i: number): string => join(dir, 'shards', `fork-cost.shard-${i}-of-3.json`);
    const m = io();
    expect(await main(['node', 'bench', 'merge', shard(3), shard(1), shard(2), '--out', join(dir, 'merged')], m)).toBe(0);
    expect(m.text()).toContain('4 points merged from 3 shards');
    const results = (sub: string): unknown => (JSON.parse(readFileSync(join(dir, sub, 'fork-cost.json'), 'utf8')) as SweepResults).results;
    expect(results('merged')).toEqual(results('whole'));
    expect(readFileSync(join(dir, 'merged', 'fork-cost.csv'), 'utf8')).toBe(readFileSync(join(dir, 'whole', 'fork-cost.csv'), 'utf8'));
    expect(readFileSync(join(dir, 'merged', 'fork-cost.svg'), 'utf8')).toBe(readFileSync(join(dir, 'whole', 'fork-cost.svg'), 'utf8'));
    const bad = io();
    expect(await main(['node', 'bench', 'merge', shard(1), shard(2), '--out', join(dir, 'bad')], bad)).toBe(1);
    expect(bad.errors()).toBe('polykernel-bench merge: points missing from the shards: 2\n');
  });

  it('bad input: a shard spec out of range, an unknown scenario or parameter, a bad --param', async () => {
    const a = io();
    expect(await main(['node', 'bench', 'run', 'dd', '--shard', '3/2'], a)).toBe(2);
    expect(a.errors()).toBe('polykernel-bench: --shard 3/2: i must be between 1 and n (shards are numbered 1 to 2)\n');
    const b = io();
    expect(await main(['node', 'bench', 'run', 'nope'], b)).toBe(2);
    expect(b.errors()).toContain('unknown scenario "nope"');
    const c = io();
    expect(await main(['node', 'bench', 'run', 'dd', '--param', 'size=1M'], c)).toBe(2);
    expect(c.errors()).toContain('dd has no parameter "size" (it has: bs)');
    const d = io();
    expect(await main(['node', 'bench', 'run', 'dd', '-p', 'plan9'], d)).toBe(2);
    expect(d.errors()).toContain(`personality "plan9" is not registered (registered: ${BENCH_PERSONALITIES.map((p) => p.variant).join(', ')})`);
  });
});

describe('tlb-reach', () => {
  it('a set beyond the TLB\'s reach misses more, and the profiles differ', async () => {
    const spec: SweepSpec = { scenario: 'tlb-reach', params: { size: ['256K', '8M'] }, personalities: ['linux-6.x'], seed: 1, memory: 256 * 1024 ** 2, sysroot: '/' };
    const r = await sweep(spec);
    const misses = Object.fromEntries(r.results.map((x) => [`${x.params.profile} ${x.params.size}`, x.extra.walkMisses!]));
    expect(misses['x86-64 8M']!).toBeGreaterThan(misses['x86-64 256K']!);
    expect(misses['arm64-a72 8M']).not.toBe(misses['x86-64 8M']);
  });
});

describe('vma-index', () => {
  it('the index is visited more as areas grow, and the two Linux trees differ', async () => {
    const spec: SweepSpec = { scenario: 'vma-index', params: { areas: ['50', '500'] }, personalities: ['linux-6.x', 'linux-5.15'], seed: 1, memory: 256 * 1024 ** 2, sysroot: '/' };
    const r = await sweep(spec);
    const nodes = r.results.map((x) => x.metrics!.indexNodesVisited);
    expect(nodes[2]!).toBeGreaterThan(nodes[0]!);
    expect(nodes[2]).not.toBe(nodes[3]);
    expect(r.results.every((x) => x.extra.faultIndexNodes! > 0)).toBe(true);
  });
});
