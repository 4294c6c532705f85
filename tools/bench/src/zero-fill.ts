/**
 * Zero-fill page faults per second on the Linux personality (content-less frames): one process
 * writes once to each page of a fresh anonymous mapping, so every access is a not-present fault,
 * a zeroed-frame allocation, a PTE install and the retried translation; the mapping is then
 * unmapped (frames freed) and the next round starts. Also the read-fault (zero page) rate.
 *   npx nx run @polykernel/bench-tools:zerofill [-- --json]
 */
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Kernel } from '@polykernel/kernel';
import { ACCESS_READ, ACCESS_WRITE, type Access } from '@polykernel/mmu';
import { linuxPersonality, linuxFlags as F } from '@polykernel/linux';

const PAGE = 4096;
const PAGES = 65_536; // 256 MiB per round

function faultsPerSecond(variant: 'linux-5.15' | 'linux-6.x', access: Access, rounds: number): { perSecond: number; faults: number } {
  const k = new Kernel(linuxPersonality({ variant }), { frames: PAGES * 2, contents: false });
  const p = k.createProcess(k.init, 'bench');
  const t = p.threads[0]!;
  let time = 0;
  let faults = 0;
  for (let r = 0; r < rounds; r++) {
    const a = k.syscall(t, 'mmap', [0, PAGES * PAGE, F.PROT_READ | F.PROT_WRITE, F.MAP_PRIVATE | F.MAP_ANONYMOUS, -1, 0]).value;
    const before = k.metrics.faults.zeroFill + k.metrics.faults.zeroPage;
    const t0 = performance.now();
    for (let i = 0; i < PAGES; i++) k.access(t, a + i * PAGE, access);
    time += performance.now() - t0;
    faults += k.metrics.faults.zeroFill + k.metrics.faults.zeroPage - before;
    k.syscall(t, 'munmap', [a, PAGES * PAGE]);
  }
  if (faults !== PAGES * rounds) throw new Error(`expected ${PAGES * rounds} faults, counted ${faults}`);
  return { perSecond: Math.round(faults / (time / 1000)), faults };
}

type Variant = 'linux-5.15' | 'linux-6.x';
interface Row { variant: string; access: string; faultsPerSecond: number }

/** Both access kinds for one variant, in this process. */
function measureVariant(variant: Variant): Row[] {
  const rows: Row[] = [];
  for (const [name, access] of [['write (zero-fill)', ACCESS_WRITE], ['read (zero page)', ACCESS_READ]] as const) {
    faultsPerSecond(variant, access, 1); // warm-up
    const runs = [1, 2, 3].map(() => faultsPerSecond(variant, access, 2).perSecond).sort((x, y) => x - y);
    rows.push({ variant, access: name, faultsPerSecond: runs[1]! });
  }
  return rows;
}

const only = process.argv.indexOf('--only');
if (only >= 0) {
  console.log(JSON.stringify(measureVariant(process.argv[only + 1] as Variant)));
} else {
  // Each variant in a fresh process: the red-black tree and the B-tree behind the same call sites
  // would otherwise make them polymorphic, and whichever ran second would measure slower.
  const rows = (['linux-5.15', 'linux-6.x'] as const).flatMap((v) => JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--only', v], { encoding: 'utf8' })) as Row[]);
  if (process.argv.includes('--json')) console.log(JSON.stringify({ node: process.version, pagesPerRound: PAGES, rows }, null, 2));
  else {
    console.log(`First-touch faults per second, ${PAGES.toLocaleString('en-US')} pages per round, median of 3 runs of 2 rounds, each variant in its own process (Node ${process.version})\n`);
    console.log('| variant | access | faults/s |');
    console.log('| --- | --- | ---: |');
    for (const r of rows) console.log(`| ${r.variant} | ${r.access} | ${r.faultsPerSecond.toLocaleString('en-US')} |`);
  }
}
