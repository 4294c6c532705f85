/**
 * Copy-on-write fork on the Linux personality: host time of fork() (dup_mmap + copy_pte_range over
 * every resident page) for a process with 1,024 to 262,144 resident 4 KiB pages, and the simulated
 * cost the model charges (calibrated on host-costs.md: ≈ 112 µs + 118 ns per resident page for
 * fork+exit+wait). Median of 5 forks each (the child exits and is reaped between them).
 *   npx nx run @polykernel/bench-tools:forkcost [-- --json]
 */
import { performance } from 'node:perf_hooks';
import { Kernel } from '@polykernel/kernel';
import { linuxFlags as F, linuxPersonality } from '@polykernel/linux';
import { ACCESS_WRITE } from '@polykernel/mmu';

interface Row { pages: number; hostMsMedian: number; hostMsMin: number; simulatedMs: number; ptes: number; tables: number }

function measure(pages: number): Row {
  const k = new Kernel(linuxPersonality(), { frames: pages * 2 + 65_536, contents: false });
  const p = k.createProcess(k.init, 'parent');
  const t = p.threads[0]!;
  const a = k.syscall(t, 'mmap', [0, pages * 4096, F.PROT_READ | F.PROT_WRITE, F.MAP_PRIVATE | F.MAP_ANONYMOUS, -1, 0]).value;
  for (let i = 0; i < pages; i++) k.access(t, a + i * 4096, ACCESS_WRITE);
  const times: number[] = [];
  let simulated = 0;
  let ptes = 0;
  let tables = 0;
  k.bus.subscribe('fork', (e) => {
    simulated = e.cycles;
    ptes = e.ptes;
    tables = e.tables;
  });
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    const pid = k.syscall(t, 'fork').value;
    times.push(performance.now() - t0);
    const child = k.processes.get(pid)!;
    k.syscall(child.threads[0]!, 'exit_group', [0]);
    k.syscall(t, 'wait4', [pid, 0, 0, 0]);
  }
  times.sort((x, y) => x - y);
  return { pages, hostMsMedian: times[2]!, hostMsMin: times[0]!, simulatedMs: (simulated / k.mmu.profile.hz) * 1e3, ptes, tables };
}

const rows = [1_024, 16_384, 65_536, 262_144].map(measure);
if (process.argv.includes('--json')) console.log(JSON.stringify({ node: process.version, rows }, null, 2));
else {
  console.log(`COW fork, median of 5 (Node ${process.version})\n`);
  console.log('| resident pages | host time (median / min) | simulated fork | PTEs copied | page-table pages |');
  console.log('| ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) console.log(`| ${r.pages.toLocaleString('en-US')} | ${r.hostMsMedian.toFixed(2)} / ${r.hostMsMin.toFixed(2)} ms | ${r.simulatedMs.toFixed(2)} ms | ${r.ptes.toLocaleString('en-US')} | ${r.tables} |`);
}
