/**
 * The FreeBSD personality's costs through the kernel's gate (k.syscall, k.access), as the issue
 * asks: zero-fill faults per second (after a JIT warm-up on 5 fresh kernels: median, min and max
 * over 15 fresh kernels, with the load average); a write fault at shadow depth 1, 4 and 16 (vm_fault's walk
 * grows with the chain); vmspace_fork of a process with 1 GiB resident; and mmap+munmap pairs at
 * 10, 1,000 and 10,000 existing entries, FreeBSD (splay tree) beside Linux (red-black tree and the
 * B-tree standing in for the maple tree), each personality in its own process. Host time is only
 * measured; the simulation does not see it.
 *   npm run build -w @polykernel/bench-tools && node tools/bench/dist/freebsd.js [--zero-fill | --fork]
 *   node tools/bench/dist/freebsd.js --side-by-side <old checkout> <new checkout> [freebsd|freebsd-nosuperpages|linux|fork|fork-nosuperpages]
 */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freebsdPersonality } from '@polykernel/freebsd';
import { Kernel, type Thread } from '@polykernel/kernel';
import { linuxPersonality } from '@polykernel/linux';
import { ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';

const PAGE = 4096;
const FB_ANON = 0x1000 | 0x2;
const LX_ANON = 0x20 | 0x2;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function fbKernel(frames: number, contents = false, superpages = true, pmapCopy = true): { k: Kernel<unknown>; t: Thread } {
  const k = new Kernel(freebsdPersonality({ superpages, pmapCopy }), { frames, contents, seed: 1 });
  return { k, t: k.createProcess(k.init, 'bench').threads[0]! };
}

/** One fresh kernel's 16,384 first writes to a fresh anonymous mapping: faults/s by wall clock and by this process's CPU time. */
function zeroFillRound(superpages: boolean): { wall: number; cpu: number } {
  const { k, t } = fbKernel(20_000, false, superpages);
  const n = 16_384;
  const va = k.syscall(t, 'mmap', [0, n * PAGE, 3, FB_ANON, -1, 0]).value;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) k.access(t, va + i * PAGE, ACCESS_WRITE);
  const dt = performance.now() - t0;
  const c = process.cpuUsage(c0);
  if (k.metrics.faults.zeroFill !== n) throw new Error('not every access was a zero-fill fault');
  return { wall: n / (dt / 1000), cpu: n / ((c.user + c.system) / 1e6) };
}

interface Spread {
  median: number;
  min: number;
  max: number;
}

function spread(xs: number[]): Spread {
  return { median: Math.round(median(xs)), min: Math.round(Math.min(...xs)), max: Math.round(Math.max(...xs)) };
}

/**
 * Zero-fill faults/s through the kernel (k.access → MMU miss → vm_fault → pmap_enter → retried
 * translation), each round a fresh kernel. The JIT is warmed up first: `warmup` fresh kernels run
 * the same loop unmeasured (a kernel's first rounds in a new process run in V8's interpreter and
 * baseline tiers, 0.1–0.3 M/s, which measures V8's compiler rather than the fault path). Then
 * `rounds` fresh kernels are measured: the median, min and max by wall clock and by this
 * process's CPU time (user + system: on a shared machine the wall clock also counts the time
 * other processes held the CPU; on an idle one CPU time also counts V8's concurrent GC and
 * compiler threads).
 */
function zeroFill(superpages: boolean, warmup: number, rounds: number): { wall: Spread; cpu: Spread } {
  for (let r = 0; r < warmup; r++) zeroFillRound(superpages);
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const x = zeroFillRound(superpages);
    wall.push(x.wall);
    cpu.push(x.cpu);
  }
  return { wall: spread(wall), cpu: spread(cpu) };
}

/** The zero-fill figures: the headline (5 warm-up kernels, 15 measured), then superpages off (the same), with the load average before and after. */
function zeroFillReport(): Record<string, unknown> {
  const loadBefore = os.loadavg().map((x) => Math.round(x * 100) / 100);
  const headline = zeroFill(true, 5, 15);
  const noSuperpages = zeroFill(false, 5, 15);
  return {
    zeroFillPerSecond: headline.wall.median,
    zeroFill: { warmupKernels: 5, measuredKernels: 15, ...headline },
    zeroFillNoSuperpages: noSuperpages,
    cpus: os.cpus().length,
    loadAverage: { before: loadBefore, after: os.loadavg().map((x) => Math.round(x * 100) / 100) },
  };
}

/**
 * A write fault at shadow depth d: the process's object chain is made d + 1 objects deep by forks
 * whose children keep the older objects alive, then each timed write copies a page found at the
 * chain's bottom, d backing objects below the first. Returns µs per fault and the simulated cycles per fault.
 */
function shadowDepth(depth: number): { us: number; cycles: number; chain: number } {
  const { k, t } = fbKernel(40_000);
  const n = 2048;
  const va = k.syscall(t, 'mmap', [0, (n + 1) * PAGE, 3, FB_ANON, -1, 0]).value;
  for (let i = 0; i <= n; i++) k.access(t, va + i * PAGE, ACCESS_WRITE);
  for (let d = 0; d < depth; d++) {
    k.syscall(t, 'fork');
    k.access(t, va + n * PAGE, ACCESS_WRITE); // the parent's write makes its next shadow
  }
  const p = t.process as unknown as { space: { map: { lookupEntry(a: number): { object: { chainLength: number } | null } | undefined } } };
  const chain = p.space.map.lookupEntry(va)!.object!.chainLength;
  const c0 = k.metrics.cycles;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) k.access(t, va + i * PAGE, ACCESS_WRITE);
  const dt = performance.now() - t0;
  return { us: (dt * 1000) / n, cycles: Math.round((k.metrics.cycles - c0) / n), chain };
}

/** vmspace_fork of a process with 1 GiB resident: host ms for the fork call, median of 3 (freebsd-14, or without superpages). */
function fork1GiB(superpages = true): number {
  const runs: number[] = [];
  for (let r = 0; r < 3; r++) {
    const pages = 262_144;
    const { k, t } = fbKernel(pages + 4096, false, superpages);
    const va = k.syscall(t, 'mmap', [0, pages * PAGE, 3, FB_ANON, -1, 0]).value;
    for (let i = 0; i < pages; i++) k.access(t, va + i * PAGE, ACCESS_WRITE);
    const t0 = performance.now();
    const pid = k.syscall(t, 'fork').value;
    runs.push(performance.now() - t0);
    if (pid <= 0) throw new Error('fork failed');
  }
  return Math.round(median(runs) * 10) / 10;
}

/** mmap+munmap pairs/s with `n` unmergeable one-page entries already mapped. */
function pairs(personality: string, n: number): number {
  if (personality === 'freebsd-14') return pairsOn(new Kernel(freebsdPersonality(), { frames: 4096, seed: 1 }), FB_ANON, n);
  return pairsOn(new Kernel(linuxPersonality({ variant: personality as 'linux-6.x' | 'linux-5.15' }), { frames: 4096, seed: 1 }), LX_ANON, n);
}

function pairsOn<S, M>(k: Kernel<S, M>, anon: number, n: number): number {
  const t = k.createProcess(k.init, 'bench').threads[0]!;
  const fixed = 0x10;
  for (let i = 0; i < n; i++) k.syscall(t, 'mmap', [0x1000_0000 + i * 2 * PAGE, PAGE, i % 2 === 0 ? 3 : 1, anon | fixed, -1, 0]);
  const run = (count: number): number => {
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      const a = k.syscall(t, 'mmap', [0, PAGE, 3, anon, -1, 0]).value;
      k.syscall(t, 'munmap', [a, PAGE]);
    }
    return count / ((performance.now() - t0) / 1000);
  };
  run(10_000);
  return Math.round(median([run(30_000), run(30_000), run(30_000)]));
}

/**
 * pmap_copy at fork (issue 13, fifth session): a parent with `mib` MiB resident forks, the child
 * reads every page once. Simulated: the fork's cycles, the child's page faults and the cycles of
 * its reads; host: the fork call's ms (median of 3).
 */
function forkPmapCopy(mib: number, superpages: boolean, pmapCopy: boolean): { forkCycles: number; childFaults: number; childReadCycles: number; forkHostMs: number } {
  const pages = (mib * 1024 * 1024) / PAGE;
  const runs: number[] = [];
  let out = { forkCycles: 0, childFaults: 0, childReadCycles: 0 };
  for (let r = 0; r < 3; r++) {
    const { k, t } = fbKernel(pages + 8192, false, superpages, pmapCopy);
    const va = k.syscall(t, 'mmap', [0, pages * PAGE, 3, FB_ANON, -1, 0]).value;
    for (let i = 0; i < pages; i++) k.access(t, va + i * PAGE, ACCESS_WRITE);
    const c0 = k.metrics.cycles;
    const h0 = performance.now();
    const pid = k.syscall(t, 'fork').value;
    runs.push(performance.now() - h0);
    const forkCycles = k.metrics.cycles - c0;
    const ct = k.processes.get(pid)!.threads[0]!;
    const f0 = k.metrics.traps.pageFault;
    const c1 = k.metrics.cycles;
    for (let i = 0; i < pages; i++) k.access(ct, va + i * PAGE, ACCESS_READ);
    out = { forkCycles, childFaults: k.metrics.traps.pageFault - f0, childReadCycles: k.metrics.cycles - c1 };
  }
  return { ...out, forkHostMs: Math.round(median(runs) * 10) / 10 };
}

interface Stack {
  Kernel: typeof Kernel;
  freebsdPersonality: typeof freebsdPersonality;
  linuxPersonality: typeof linuxPersonality;
}

/** The kernel, FreeBSD and Linux packages of the checkout at `root`, from their dist/ directories. */
async function loadStack(root: string): Promise<Stack> {
  const at = (pkg: string): string => pathToFileURL(path.join(root, 'packages', pkg, 'dist', 'index.js')).href;
  const kernel = (await import(at('kernel'))) as { Kernel: typeof Kernel };
  const fb = (await import(at('personalities/freebsd'))) as { freebsdPersonality: typeof freebsdPersonality };
  const lx = (await import(at('personalities/linux'))) as { linuxPersonality: typeof linuxPersonality };
  return { Kernel: kernel.Kernel, freebsdPersonality: fb.freebsdPersonality, linuxPersonality: lx.linuxPersonality };
}

/**
 * Two builds side by side in one process (a before/after on a loaded machine, where separate
 * processes differ by 2–3× from run to run): `--side-by-side <old checkout> <new checkout>
 * [freebsd|freebsd-nosuperpages|linux]` loads both builds' packages, runs a fresh kernel's 16,384
 * zero-fill faults per round, alternating the builds, 10 rounds unmeasured then 60 measured, and
 * prints each build's median, p75 and best by CPU time.
 */
/** Zero-fill faults/s by CPU time: 16,384 first writes on kernel `k`'s new process. */
function cpuRate<S, M>(k: Kernel<S, M>, anon: number): number {
  const t = k.createProcess(k.init, 'bench').threads[0]!;
  const n = 16_384;
  const va = k.syscall(t, 'mmap', [0, n * PAGE, 3, anon, -1, 0]).value;
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) k.access(t, va + i * PAGE, ACCESS_WRITE);
  const c = process.cpuUsage(c0);
  return n / ((c.user + c.system) / 1e6);
}

/** Host ms of one fork of a process with 1 GiB resident (pmap_copy on), on stack `s`, by wall clock and by CPU time; also the simulated cycles after it. */
function forkMs(s: Stack, superpages: boolean): { ms: number; cpuMs: number; cycles: number } {
  const pages = 262_144;
  const k = new s.Kernel(s.freebsdPersonality({ superpages, pmapCopy: true }), { frames: pages + 4096, contents: false, seed: 1 });
  const t = k.createProcess(k.init, 'bench').threads[0]!;
  const va = k.syscall(t, 'mmap', [0, pages * PAGE, 3, FB_ANON, -1, 0]).value;
  for (let i = 0; i < pages; i++) k.access(t, va + i * PAGE, ACCESS_WRITE);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const pid = k.syscall(t, 'fork').value;
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  if (pid <= 0) throw new Error('fork failed');
  return { ms, cpuMs: (c.user + c.system) / 1000, cycles: k.metrics.cycles };
}

/**
 * `--side-by-side <old> <new> fork|fork-nosuperpages`: vmspace_fork of 1 GiB resident, a fresh
 * kernel per round, rounds alternated, 12 rounds each, all measured (no warm-up: the bench's own
 * --fork times a new process's first forks, JIT tiers and fresh host memory included). Prints each
 * build's first-round, median and best host ms, by wall clock and by this process's CPU time
 * (which also counts V8's GC and compiler threads), and whether the simulated cycles agree.
 */
async function sideBySideFork(oldRoot: string, newRoot: string, superpages: boolean): Promise<void> {
  const stacks = { old: await loadStack(oldRoot), new: await loadStack(newRoot) };
  const ms: Record<'old' | 'new', number[]> = { old: [], new: [] };
  const cpu: Record<'old' | 'new', number[]> = { old: [], new: [] };
  const cycles = new Set<number>();
  for (let r = 0; r < 12; r++) {
    for (const name of r % 2 === 0 ? (['new', 'old'] as const) : (['old', 'new'] as const)) {
      const x = forkMs(stacks[name], superpages);
      ms[name].push(x.ms);
      cpu[name].push(x.cpuMs);
      cycles.add(x.cycles);
    }
  }
  const round = (x: number): number => Math.round(x * 10) / 10;
  const report = (xs: number[]): { first: number; median: number; best: number } => ({ first: round(xs[0]!), median: round(median(xs)), best: round(Math.min(...xs)) });
  console.log(JSON.stringify({ node: process.version, fork1GiB: superpages ? 'superpages' : 'no superpages', wallMs: { old: report(ms.old), new: report(ms.new) }, cpuMs: { old: report(cpu.old), new: report(cpu.new) }, sameCycles: cycles.size === 1, loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100) }));
}

async function sideBySide(oldRoot: string, newRoot: string, which: string): Promise<void> {
  if (which === 'fork' || which === 'fork-nosuperpages') return sideBySideFork(oldRoot, newRoot, which === 'fork');
  const stacks = { old: await loadStack(oldRoot), new: await loadStack(newRoot) };
  const rates: Record<'old' | 'new', number[]> = { old: [], new: [] };
  for (let r = 0; r < 70; r++) {
    for (const name of r % 2 === 0 ? (['new', 'old'] as const) : (['old', 'new'] as const)) {
      const s = stacks[name];
      const opts = { frames: 20_000, contents: false, seed: 1 };
      const rate = which === 'linux'
        ? cpuRate(new s.Kernel(s.linuxPersonality(), opts), LX_ANON)
        : cpuRate(new s.Kernel(s.freebsdPersonality({ superpages: which !== 'freebsd-nosuperpages' }), opts), FB_ANON);
      if (r >= 10) rates[name].push(rate);
    }
  }
  const at = (xs: number[], q: number): number => Math.round([...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))]!);
  const report = (xs: number[]): { median: number; p75: number; best: number } => ({ median: at(xs, 0.5), p75: at(xs, 0.75), best: at(xs, 1) });
  console.log(JSON.stringify({ node: process.version, kernel: which, old: report(rates.old), new: report(rates.new), loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100) }));
}

const side = process.argv.indexOf('--side-by-side');
const only = process.argv.indexOf('--pairs');
if (side >= 0) {
  await sideBySide(process.argv[side + 1]!, process.argv[side + 2]!, process.argv[side + 3] ?? 'freebsd');
} else if (process.argv.includes('--fork')) {
  const rows = [];
  for (const mib of [16, 1024]) {
    for (const superpages of [false, true]) {
      for (const pmapCopy of [true, false]) rows.push({ mib, superpages, pmapCopy, ...forkPmapCopy(mib, superpages, pmapCopy) });
    }
  }
  console.log(JSON.stringify({ node: process.version, rows }, null, 2));
} else if (process.argv.includes('--zero-fill')) {
  // Only the zero-fill figures (a quick before/after on a busy machine).
  console.log(JSON.stringify({ node: process.version, ...zeroFillReport() }, null, 2));
} else if (only >= 0) {
  const name = process.argv[only + 1]!;
  console.log(JSON.stringify([10, 1000, 10_000].map((n) => ({ personality: name, entries: n, pairsPerSecond: pairs(name, n) }))));
} else {
  const self = fileURLToPath(import.meta.url);
  const pairRows = ['freebsd-14', 'linux-5.15', 'linux-6.x'].flatMap((v) => JSON.parse(execFileSync(process.execPath, [self, '--pairs', v], { encoding: 'utf8' })) as unknown[]);
  const result = {
    node: process.version,
    ...zeroFillReport(),
    // Each depth twice: the first run warms the JIT up; the second is reported.
    shadowDepth: [1, 4, 16].map((d) => { shadowDepth(d); return { depth: d, ...shadowDepth(d) }; }),
    fork1GiBms: fork1GiB(),
    // vm.pmap.pg_ps_enabled=0: pmap_protect write-protects 262,144 PTEs instead of 512 PDEs.
    fork1GiBmsNoSuperpages: fork1GiB(false),
    pairs: pairRows,
  };
  console.log(JSON.stringify(result, null, 2));
}
