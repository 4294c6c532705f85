/**
 * Zero-fill page faults per second on the Linux personality (content-less frames): one process
 * writes once to each page of a fresh 256 MiB anonymous mapping, so every access is a not-present
 * fault, a zeroed-frame allocation, a PTE install and the retried translation; the mapping is then
 * unmapped (frames freed) and the next round starts. Also the read-fault (zero page) rate.
 *
 * Method: each (variant, access) pair runs in 3 fresh processes (the red-black tree and the B-tree
 * behind the same call sites would make the JIT's code polymorphic, and this VM's processes differ
 * by up to 40% from one another); each process does 2 warm-up rounds and 8 measured rounds of
 * 65,536 faults and reports its median round; the table shows the median of the 3 processes and
 * their range, with the machine's load average before and after.
 *   npx nx run @polykernel/bench-tools:zerofill [-- --json]
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Kernel } from '@polykernel/kernel';
import { ACCESS_READ, ACCESS_WRITE, type Access } from '@polykernel/mmu';
import { linuxPersonality, linuxFlags as F } from '@polykernel/linux';

const PAGE = 4096;
const PAGES = 65_536; // 256 MiB per round
const WARMUP = 2;
const ROUNDS = 8;
const PROCESSES = 3;

type Variant = 'linux-5.15' | 'linux-6.x';

/** One process's median faults/s over its measured rounds. */
function measure(variant: Variant, access: Access): number {
  const k = new Kernel(linuxPersonality({ variant }), { frames: PAGES * 2, contents: false });
  const p = k.createProcess(k.init, 'bench');
  const t = p.threads[0]!;
  const rates: number[] = [];
  for (let r = 0; r < WARMUP + ROUNDS; r++) {
    const a = k.syscall(t, 'mmap', [0, PAGES * PAGE, F.PROT_READ | F.PROT_WRITE, F.MAP_PRIVATE | F.MAP_ANONYMOUS, -1, 0]).value;
    const before = k.metrics.faults.zeroFill + k.metrics.faults.zeroPage;
    const t0 = performance.now();
    for (let i = 0; i < PAGES; i++) k.access(t, a + i * PAGE, access);
    const seconds = (performance.now() - t0) / 1000;
    const faults = k.metrics.faults.zeroFill + k.metrics.faults.zeroPage - before;
    if (faults !== PAGES) throw new Error(`expected ${PAGES} faults, counted ${faults}`);
    if (r >= WARMUP) rates.push(faults / seconds);
    k.syscall(t, 'munmap', [a, PAGES * PAGE]);
  }
  return median(rates);
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)]!;
}

const ACCESSES = { 'write (zero-fill)': ACCESS_WRITE, 'read (zero page)': ACCESS_READ } as const;
type AccessName = keyof typeof ACCESSES;

const only = process.argv.indexOf('--only');
if (only >= 0) {
  console.log(JSON.stringify(Math.round(measure(process.argv[only + 1] as Variant, ACCESSES[process.argv[only + 2] as AccessName]))));
} else {
  const load = (): number[] => os.loadavg().map((x) => Math.round(x * 100) / 100);
  const loadBefore = load();
  const rows: { variant: Variant; access: AccessName; faultsPerSecond: number; min: number; max: number }[] = [];
  for (const variant of ['linux-5.15', 'linux-6.x'] as const) {
    for (const access of Object.keys(ACCESSES) as AccessName[]) {
      const runs = Array.from({ length: PROCESSES }, () => JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--only', variant, access], { encoding: 'utf8' })) as number);
      rows.push({ variant, access, faultsPerSecond: median(runs), min: Math.min(...runs), max: Math.max(...runs) });
    }
  }
  const loadAverage = { before: loadBefore, after: load() };
  if (process.argv.includes('--json')) console.log(JSON.stringify({ node: process.version, pagesPerRound: PAGES, rounds: ROUNDS, processes: PROCESSES, cpus: os.cpus().length, loadAverage, rows }, null, 2));
  else {
    const n = (x: number): string => x.toLocaleString('en-US');
    console.log(`First-touch faults per second, ${n(PAGES)} pages per round: median of ${PROCESSES} processes, each the median of ${ROUNDS} rounds (Node ${process.version})\n`);
    console.log('| variant | access | faults/s | range over processes |');
    console.log('| --- | --- | ---: | ---: |');
    for (const r of rows) console.log(`| ${r.variant} | ${r.access} | ${n(r.faultsPerSecond)} | ${n(r.min)} – ${n(r.max)} |`);
    console.log(`\nLoad average (1, 5, 15 min) on ${os.cpus().length} CPUs: ${loadAverage.before.join(', ')} before, ${loadAverage.after.join(', ')} after.`);
  }
}
