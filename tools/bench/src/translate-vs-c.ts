/**
 * translate() throughput, TypeScript against the C reference (reference/translate.c), side by side
 * on the same trace, geometry and page tables. Usage:
 *   npx nx run @polykernel/bench-tools:translate [-- --json]
 * Needs gcc. Host time is used here, in a benchmark tool, never inside the engine.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ACCESS_READ, ACCESS_WRITE, getProfile, Mmu, PTE_NX, PTE_USER, PTE_WRITE } from '@polykernel/mmu';

interface Case { name: string; pages: number; accesses: number; mode: 'seq' | 'rand' }
interface Result { accesses: number; seconds: number; hits: number; walkRefs: number; checksum: number }

const CASES: Case[] = [
  { name: 'L1 hits (16 pages, sequential)', pages: 16, accesses: 20_000_000, mode: 'seq' },
  { name: 'L1 hits (64 pages, random)', pages: 64, accesses: 20_000_000, mode: 'rand' },
  { name: 'STLB hits (1,024 pages, random)', pages: 1024, accesses: 10_000_000, mode: 'rand' },
  { name: 'misses + 4-level walk (262,144 pages, random)', pages: 262_144, accesses: 5_000_000, mode: 'rand' },
];
const BASE = 0x7f00_0000_0000;

function makeTrace(c: Case): Float64Array {
  const trace = new Float64Array(c.accesses);
  let x = 2463534242;
  for (let i = 0; i < c.accesses; i++) {
    // xorshift32 on a 32-bit state word (not an address).
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const page = c.mode === 'rand' ? x % c.pages : i % c.pages;
    trace[i] = BASE + page * 4096 + ((x >>> 8) & 0xff8);
  }
  return trace;
}

function runTs(c: Case): Result {
  const mmu = new Mmu(getProfile('x86-64'), { frames: 1 << 20, cpus: 1 });
  const pt = mmu.createPageTable();
  mmu.bindAsid(1, pt);
  mmu.activate(0, 1);
  for (let p = 0; p < c.pages; p++) pt.map(BASE + p * 4096, 1000 + p, 4096, PTE_WRITE | PTE_USER | PTE_NX);
  const trace = makeTrace(c);
  let sum = 0;
  for (let i = 0; i < trace.length; i++) sum += mmu.translate(0, 1, trace[i]!, ACCESS_READ);
  const before = { hits: mmu.metrics.tlbHits, refs: mmu.metrics.walkRefs };
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < trace.length; i++) sum += mmu.translate(0, 1, trace[i]!, (i & 7) === 0 ? ACCESS_WRITE : ACCESS_READ);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { accesses: trace.length, seconds, hits: mmu.metrics.tlbHits - before.hits, walkRefs: mmu.metrics.walkRefs - before.refs, checksum: sum };
}

function runC(bin: string, c: Case): Result {
  const out = execFileSync(bin, [String(c.pages), String(c.accesses), c.mode], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
  const [accesses = 0, seconds = 0, hits = 0, walkRefs = 0, checksum = 0] = out;
  return { accesses, seconds, hits, walkRefs, checksum };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function main(): void {
  const here = dirname(fileURLToPath(import.meta.url));
  const binDir = join(here, '..', 'reference', 'bin');
  mkdirSync(binDir, { recursive: true });
  const bin = join(binDir, 'translate');
  execFileSync('gcc', ['-O2', '-o', bin, join(here, '..', 'reference', 'translate.c')]);
  const rounds = 3;
  const rows = CASES.map((c) => {
    const ts: Result[] = [];
    const cc: Result[] = [];
    for (let r = 0; r < rounds; r++) {
      cc.push(runC(bin, c));
      ts.push(runTs(c));
    }
    const tsRate = median(ts.map((x) => x.accesses / x.seconds));
    const cRate = median(cc.map((x) => x.accesses / x.seconds));
    const t = ts[0]!;
    const k = cc[0]!;
    // Same model, same trace: the hit and walk counts must be identical.
    const same = t.hits === k.hits && t.walkRefs === k.walkRefs;
    return { case: c.name, tsMps: tsRate / 1e6, cMps: cRate / 1e6, ratio: tsRate / cRate, hits: t.hits, walkRefs: t.walkRefs, sameCounts: same };
  });
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(rows, null, 2));
    return;
  }
  console.log(`translate() throughput, median of ${rounds} rounds (M translations/s); node ${process.version}`);
  console.log('| case | TS | C (gcc -O2) | TS/C | hits | walk refs | same counts |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of rows) {
    console.log(`| ${r.case} | ${r.tsMps.toFixed(1)} | ${r.cMps.toFixed(1)} | ${r.ratio.toFixed(2)}x | ${r.hits} | ${r.walkRefs} | ${r.sameCounts ? 'yes' : 'NO'} |`);
  }
  if (rows.some((r) => !r.sameCounts)) process.exitCode = 1;
}

main();
