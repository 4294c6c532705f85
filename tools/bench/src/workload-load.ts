/**
 * Workload loading speed and memory: generated workloads of one-line mmap/munmap/touch steps
 * (10k, 100k, 1M steps) through parseWorkload, reporting steps per second and heap bytes per step
 * (heap growth from before the parse to after it, the parsed workload kept alive, with gc() both
 * sides). Host time is used only to measure.
 *   node --expose-gc --conditions=@polykernel/source --import @swc-node/register/esm-register \
 *     tools/bench/src/workload-load.ts [10000 100000 1000000] [--stream]
 * (--stream: the streamed loader of @polykernel/workload/node instead of parseWorkload)
 * (or, built, `npx nx run @polykernel/bench-tools:workloadload`). Each size runs in its own
 * process; peakRssBytesPerStep is that process's high-water RSS above its RSS before the parse.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseWorkload } from '@polykernel/workload';
import { openWorkloadStream } from '@polykernel/workload/node';

/** A workload of `n` steps: one-line mmaps, touches and munmaps cycling over 64 regions. */
function generatedWorkload(n: number): string {
  const lines = ['name: generated', 'personality: linux', 'processes:', '  - name: p', '    steps:'];
  for (let i = 0; i < n; i++) {
    const r = `R${i % 64}`;
    switch (i % 3) {
      case 0: lines.push(`      - mmap: { name: ${r}, length: 64K, prot: rw-, flags: [private, anonymous] }`); break;
      case 1: lines.push(`      - touch: { region: ${r}, offset: 4K, length: 16K, access: write }`); break;
      default: lines.push(`      - munmap: { region: ${r}, offset: 0, length: 64K }`);
    }
  }
  return lines.join('\n') + '\n';
}

const gc = (globalThis as { gc?: () => void }).gc;

/**
 * The streamed loader (what `polykernel run` uses from 1 MB up): the scan that validates every
 * step and keeps 8 bytes of index per step, then reading every step back as a run does.
 */
function measureStream(n: number): { steps: number; scanStepsPerSecond: number; scanStepsPerCpuSecond: number; readBackStepsPerSecond: number; bytesPerStep: number; peakRssBytesPerStep: number } {
  const dir = mkdtempSync(join(tmpdir(), 'pk-load-'));
  const file = join(dir, 'generated.yaml');
  writeFileSync(file, generatedWorkload(n));
  try {
    gc?.();
    const before = process.memoryUsage().heapUsed;
    const rssBefore = process.memoryUsage().rss;
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const s = openWorkloadStream(file);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    if (s?.steps[0]?.length !== n) throw new Error('not streamed');
    gc?.();
    const after = process.memoryUsage().heapUsed;
    const t1 = performance.now();
    const steps = s.steps[0];
    for (let i = 0; i < steps.length; i++) if (steps.at(i) === undefined) throw new Error(`step ${i}`);
    const readBack = (performance.now() - t1) / 1000;
    const peak = process.resourceUsage().maxRSS * 1024 - rssBefore;
    s.close();
    return {
      steps: n, scanStepsPerSecond: Math.round(n / seconds), scanStepsPerCpuSecond: Math.round(n / ((cpu.user + cpu.system) / 1e6)), readBackStepsPerSecond: Math.round(n / readBack),
      bytesPerStep: Math.round((after - before) / n), peakRssBytesPerStep: Math.round(peak / n),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function measure(n: number): { steps: number; stepsPerSecond: number; stepsPerCpuSecond: number; bytesPerStep: number; peakRssBytesPerStep: number; seconds: number } {
  const text = generatedWorkload(n);
  gc?.();
  const before = process.memoryUsage().heapUsed;
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const w = parseWorkload(text, 'generated.yaml');
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  // On a shared machine wall time mostly measures the other tenants; CPU time (user + system) is this process's own.
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  gc?.();
  const after = process.memoryUsage().heapUsed;
  // maxRSS is the process's high-water mark (KB): run one size per process for a clean figure.
  const peak = process.resourceUsage().maxRSS * 1024 - rssBefore;
  if (w.processes[0]!.steps.length !== n) throw new Error(`expected ${n} steps, got ${w.processes[0]!.steps.length}`);
  return { steps: n, stepsPerSecond: Math.round(n / seconds), stepsPerCpuSecond: Math.round(n / cpuSeconds), bytesPerStep: Math.round((after - before) / n), peakRssBytesPerStep: Math.round(peak / n), seconds: Number(seconds.toFixed(2)) };
}

/** Each size in its own process, so the high-water RSS is that size's alone. */
function main(): void {
  const sizes = process.argv.slice(2).map(Number).filter((x) => x > 0);
  const stream = process.argv.includes('--stream');
  if (process.argv[2] === '--one') {
    if (gc === undefined) console.error('run with --expose-gc for the memory figures');
    console.log(JSON.stringify(stream ? measureStream(sizes[0]!) : measure(sizes[0]!)));
    return;
  }
  for (const n of sizes.length > 0 ? sizes : [10_000, 100_000, 1_000_000]) {
    process.stdout.write(execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--one', String(n), ...(stream ? ['--stream'] : [])], { encoding: 'utf8' }));
  }
}

main();
