/**
 * The Windows personality through the kernel's gate (kernel32's VirtualAlloc/VirtualFree as
 * library calls over the NtAllocateVirtualMemory/NtFreeVirtualMemory traps):
 *  - VirtualAlloc(NULL, 4 KiB, MEM_RESERVE|MEM_COMMIT, PAGE_READWRITE) + VirtualFree(MEM_RELEASE)
 *    pairs per second with 10, 1,000 and 10,000 VADs already in the process (made by the same
 *    VirtualAlloc(NULL) calls, so they sit bottom-up from 0x10000, 64 KiB apart, as a program's
 *    reservations do); the new allocation's place is found as MiFindEmptyAddressRange finds it:
 *    in the VAD bitmap from its hint (one bit per 64 KiB of the first 2 GiB, WRK vadtree.c), so a
 *    pair costs the tree's insert and remove, not a walk of the VADs;
 *  - demand-zero faults per second: first writes to each page of a committed 256 MiB allocation
 *    (content-less frames), released after each round.
 * Each measurement runs in its own process (3 processes; each: warm-up, then the median of 5
 * rounds); the table shows the median of the processes and their range. Host time only measures.
 *   npx nx run @polykernel/bench-tools:winalloc [-- --json]
 */
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Kernel, type Thread } from '@polykernel/kernel';
import { ACCESS_WRITE } from '@polykernel/mmu';
import { MEM_COMMIT, MEM_RELEASE, MEM_RESERVE, PAGE_READWRITE, windowsPersonality, type WindowsMachine, type WindowsSpace } from '@polykernel/windows';

const PAGE = 4096;
const PROCESSES = 3;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function boot(frames: number): { k: Kernel<WindowsSpace, WindowsMachine>; t: Thread } {
  const k = new Kernel(windowsPersonality(), { frames, contents: false });
  const p = k.createProcess(k.init, 'bench');
  return { k, t: p.threads[0]! };
}

function pairs(vads: number): number {
  const { k, t } = boot(65_536);
  for (let i = 0; i < vads; i++) {
    if (k.syscall(t, 'VirtualAlloc', [0, PAGE, MEM_RESERVE, PAGE_READWRITE]).value === 0) throw new Error('populate failed');
  }
  const round = (n: number): number => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const a = k.syscall(t, 'VirtualAlloc', [0, PAGE, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE]).value;
      if (k.syscall(t, 'VirtualFree', [a, 0, MEM_RELEASE]).value !== 1) throw new Error('VirtualFree failed');
    }
    return n / ((performance.now() - t0) / 1000);
  };
  // The same number of pairs at every size (the search no longer walks the VADs), warmed up first.
  const n = 50_000;
  round(n);
  return median(Array.from({ length: 5 }, () => round(n)));
}

function faults(): number {
  const pages = 65_536;
  const { k, t } = boot(pages * 2);
  const rates: number[] = [];
  for (let r = 0; r < 7; r++) {
    const a = k.syscall(t, 'VirtualAlloc', [0, pages * PAGE, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE]).value;
    const before = k.metrics.faults.zeroFill;
    const t0 = performance.now();
    for (let i = 0; i < pages; i++) k.access(t, a + i * PAGE, ACCESS_WRITE);
    const s = (performance.now() - t0) / 1000;
    if (k.metrics.faults.zeroFill - before !== pages) throw new Error('expected one demand-zero fault per page');
    if (r >= 2) rates.push(pages / s);
    k.syscall(t, 'VirtualFree', [a, 0, MEM_RELEASE]);
  }
  return median(rates);
}

interface Row { what: string; median: number; min: number; max: number }

const only = process.argv.indexOf('--only');
if (only >= 0) {
  const what = process.argv[only + 1]!;
  console.log(JSON.stringify(Math.round(what === 'faults' ? faults() : pairs(Number(what)))));
} else {
  const run = (what: string): number[] => Array.from({ length: PROCESSES }, () => JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--only', what], { encoding: 'utf8' })) as number);
  const rows: Row[] = [];
  for (const what of ['10', '1000', '10000', 'faults']) {
    const xs = run(what);
    rows.push({ what: what === 'faults' ? 'demand-zero faults/s' : `VirtualAlloc+VirtualFree pairs/s, ${Number(what).toLocaleString('en-US')} VADs`, median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });
  }
  if (process.argv.includes('--json')) console.log(JSON.stringify({ node: process.version, rows }, null, 2));
  else {
    console.log(`Windows personality, median of ${PROCESSES} processes (each: the median of 5 rounds after a warm-up), Node ${process.version}\n`);
    console.log('| measurement | median | range |');
    console.log('| --- | ---: | ---: |');
    for (const r of rows) console.log(`| ${r.what} | ${r.median.toLocaleString('en-US')} | ${r.min.toLocaleString('en-US')}–${r.max.toLocaleString('en-US')} |`);
  }
}
