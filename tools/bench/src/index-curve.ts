/**
 * Address-space index costs by size: find() and insert+remove for every index at 10 ... 100,000
 * entries, host throughput and nodes visited per operation, and the list/tree crossover point.
 * Host time here is a benchmark's measurement, never part of the simulation.
 *   npx nx run @polykernel/bench-tools:indexes [-- --json]
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Rng } from '@polykernel/core';
import { createIndex, INDEX_KINDS, type IndexKind, type RangeEntry } from '@polykernel/vm';

const SIZES = [10, 100, 1000, 10_000, 100_000];
const PAGE = 4096;

interface Row { kind: IndexKind; size: number; findMps: number; findNodes: number; insRemMps: number; insRemNodes: number }

/** Entries of 1-4 pages with 1-3 page gaps, from 0x7f0000000000 up, like a process's mmaps. */
function layout(n: number, rng: Rng): RangeEntry[] {
  const out: RangeEntry[] = [];
  let a = 0x7f00_0000_0000;
  for (let i = 0; i < n; i++) {
    const len = (1 + rng.below(4)) * PAGE;
    out.push({ start: a, end: a + len });
    a += len + (1 + rng.below(3)) * PAGE;
  }
  return out;
}

function measure(kind: IndexKind, n: number): Row {
  const rng = new Rng(`${kind}:${n}`);
  const entries = layout(n, rng);
  // No lookup caches: this measures the structures themselves (cache hit rates are measured apart).
  const ix = createIndex<RangeEntry>(kind, { cache: false });
  for (const e of rng.shuffle([...entries])) ix.insert(e);
  const probes = Float64Array.from({ length: 4096 }, () => {
    const e = entries[rng.below(n)]!;
    return e.start + rng.below(e.end - e.start);
  });
  const budgetMs = 150;
  // find
  let ops = 0;
  let sink = 0;
  ix.nodesVisited = 0;
  let t0 = performance.now();
  while (performance.now() - t0 < budgetMs) {
    for (let i = 0; i < probes.length; i++) sink += ix.find(probes[i]!)!.start;
    ops += probes.length;
  }
  const findMps = ops / ((performance.now() - t0) / 1000) / 1e6;
  const findNodes = ix.nodesVisited / ops;
  // insert + remove of an existing entry (remove it, put it back)
  ops = 0;
  ix.nodesVisited = 0;
  t0 = performance.now();
  while (performance.now() - t0 < budgetMs) {
    for (let i = 0; i < 1024; i++) {
      const e = entries[(i * 7919) % n]!;
      ix.remove(e);
      ix.insert(e);
    }
    ops += 1024;
  }
  const insRemMps = ops / ((performance.now() - t0) / 1000) / 1e6;
  if (sink === 0.5) console.log(sink);
  return { kind, size: n, findMps, findNodes, insRemMps, insRemNodes: ix.nodesVisited / ops };
}

/**
 * Each (index, size) runs in a fresh process: one index kind per process keeps the call sites
 * monomorphic and the JIT state clean, as in a kernel personality that uses a single index kind.
 */
function measureIsolated(kind: IndexKind, n: number): Row {
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--one', kind, String(n)], { encoding: 'utf8' });
  return JSON.parse(out) as Row;
}

const one = process.argv.indexOf('--one');
if (one >= 0) {
  console.log(JSON.stringify(measure(process.argv[one + 1] as IndexKind, Number(process.argv[one + 2]))));
  process.exit(0);
}
const rows: Row[] = [];
for (const n of SIZES) for (const k of INDEX_KINDS) rows.push(measureIsolated(k, n));

if (process.argv.includes('--json')) {
  console.log(JSON.stringify(rows, null, 2));
} else {
  const f = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
  for (const [title, key, nodes] of [['find(addr)', 'findMps', 'findNodes'], ['remove + insert', 'insRemMps', 'insRemNodes']] as const) {
    console.log(`\n${title}: M operations/s (nodes visited per operation)\n`);
    console.log(`| entries | ${INDEX_KINDS.join(' | ')} |`);
    console.log(`| ---: | ${INDEX_KINDS.map(() => '---:').join(' | ')} |`);
    for (const n of SIZES) {
      const cells = INDEX_KINDS.map((k) => rows.find((r) => r.kind === k && r.size === n)!).map((r) => `${f(r[key])} (${f(r[nodes])})`);
      console.log(`| ${n.toLocaleString('en')} | ${cells.join(' | ')} |`);
    }
  }
  // Crossover: for each tree, the smallest measured size from which its find() beats the list's.
  const at = (k: IndexKind, n: number): number => rows.find((r) => r.kind === k && r.size === n)!.findMps;
  console.log('\nCrossover with the list (find):');
  for (const k of INDEX_KINDS.filter((x) => x !== 'list')) {
    const n = SIZES.find((size) => SIZES.filter((m) => m >= size).every((m) => at(k, m) > at('list', m)));
    console.log(`- ${k}: ${n === undefined ? 'never in the measured range' : `from ${n.toLocaleString('en')} entries on`}`);
  }
}
