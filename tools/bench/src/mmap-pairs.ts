/**
 * mmap+munmap pairs per second on the Linux personality, with 10 and 10,000 VMAs already in the
 * address space, for both index variants (linux-5.15: red-black tree; linux-6.x: the B-tree that
 * stands in for the maple tree). Each pair is an anonymous one-page mmap(NULL) — a top-down gap
 * search — and its munmap. Host time is used only to measure; the simulation itself is unaffected.
 *   npx nx run @polykernel/bench-tools:mmappairs [-- --json]
 */
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { MmStruct, linuxFlags as F, type MmOptions } from '@polykernel/linux';

const PAGE = 4096;
const RW = F.PROT_READ | F.PROT_WRITE;
const ANON = F.MAP_PRIVATE | F.MAP_ANONYMOUS;

/** An mm holding `n` one-page areas that cannot merge (alternating protections, a hole after each). */
function populated(variant: NonNullable<MmOptions['variant']>, n: number): MmStruct {
  const mm = new MmStruct({ variant });
  for (let i = 0; i < n; i++) mm.mmap(0x10000000 + i * 2 * PAGE, PAGE, i % 2 === 0 ? RW : F.PROT_READ, ANON | F.MAP_FIXED);
  if (mm.mapCount !== n) throw new Error(`expected ${n} areas, have ${mm.mapCount}`);
  return mm;
}

function pairsPerSecond(mm: MmStruct, pairs: number): number {
  const t0 = performance.now();
  for (let i = 0; i < pairs; i++) {
    const a = mm.mmap(0, PAGE, RW, ANON);
    mm.munmap(a, PAGE);
  }
  return pairs / ((performance.now() - t0) / 1000);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

type Variant = NonNullable<MmOptions['variant']>;
interface Row { variant: string; vmas: number; pairsPerSecond: number }

function measureVariant(variant: Variant): Row[] {
  const rows: Row[] = [];
  for (const n of [10, 10_000]) {
    const mm = populated(variant, n);
    pairsPerSecond(mm, 20_000); // warm-up: let the JIT settle
    const runs = Array.from({ length: 5 }, () => pairsPerSecond(mm, 100_000));
    if (mm.mapCount !== n) throw new Error('pairs leaked areas');
    rows.push({ variant, vmas: n, pairsPerSecond: Math.round(median(runs)) });
  }
  return rows;
}

const only = process.argv.indexOf('--only');
if (only >= 0) console.log(JSON.stringify(measureVariant(process.argv[only + 1] as Variant)));
else {
  // Each variant in its own process: with both index types behind the same call sites the JIT's
  // code goes polymorphic, and whichever variant runs second measures slower (up to 40% here).
  const rows = (['linux-5.15', 'linux-6.x'] as const).flatMap((v) => JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--only', v], { encoding: 'utf8' })) as Row[]);
  if (process.argv.includes('--json')) console.log(JSON.stringify({ node: process.version, rows }, null, 2));
  else {
    console.log(`mmap(NULL, 4 KiB, anon)+munmap pairs per second, median of 5 runs of 100,000, each variant in its own process (Node ${process.version})\n`);
    console.log('| variant | existing VMAs | pairs/s |');
    console.log('| --- | ---: | ---: |');
    for (const r of rows) console.log(`| ${r.variant} | ${r.vmas.toLocaleString('en-US')} | ${r.pairsPerSecond.toLocaleString('en-US')} |`);
  }
}
