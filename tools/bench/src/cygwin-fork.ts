/**
 * Cygwin's copy-on-fork against Linux's copy-on-write fork, for a process with N resident 4 KiB
 * pages in one private anonymous mapping (1 MiB … 2 GiB with --max 524288): simulated time of the fork call, host
 * time to simulate it, bytes copied across processes, commit charged to the child, and Cygwin's
 * spawnve of /usr/bin/true.exe as the cheap path. Content-less machines (copies are counted and
 * charged, not performed). Median of `--runs` (default 3) forks; the child exits and is reaped
 * between them.
 *   npx nx run @polykernel/bench-tools:build && node tools/bench/dist/cygwin-fork.js [--runs 3] [--max 262144] [--json]
 */
import { Kernel } from '@polykernel/kernel';
import { cygwinPersonality, MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from '@polykernel/cygwin';
import { linuxFlags as F, linuxPersonality } from '@polykernel/linux';
import { ACCESS_WRITE } from '@polykernel/mmu';

interface Row {
  pages: number;
  linuxSimMs: number; linuxHostMs: number;
  cygSimMs: number; cygHostMs: number; cygBytesCopied: number; cygChildCommitPages: number; cygCalls: number; cygTraps: number;
  spawnSimMs: number;
}

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i < 0 ? dflt : Number(process.argv[i + 1]);
};
const RUNS = arg('--runs', 3);
/** CPU milliseconds of this process (user + system): wall time is meaningless on a shared, loaded machine. */
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function linux(pages: number): { sim: number; host: number } {
  const k = new Kernel(linuxPersonality(), { frames: pages * 2 + 65_536, contents: false });
  const p = k.createProcess(k.init, 'parent');
  const t = p.threads[0]!;
  const a = k.syscall(t, 'mmap', [0, pages * 4096, F.PROT_READ | F.PROT_WRITE, F.MAP_PRIVATE | F.MAP_ANONYMOUS, -1, 0]).value;
  for (let i = 0; i < pages; i++) k.access(t, a + i * 4096, ACCESS_WRITE);
  const sims: number[] = [];
  const hosts: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const c0 = k.metrics.cycles;
    const t0 = cpuMs();
    const pid = k.syscall(t, 'fork').value;
    hosts.push(cpuMs() - t0);
    sims.push(((k.metrics.cycles - c0) / k.mmu.profile.hz) * 1e3);
    k.syscall(k.processes.get(pid)!.threads[0]!, 'exit_group', [0]);
    k.syscall(t, 'wait4', [pid, 0, 0, 0]);
  }
  return { sim: median(sims), host: median(hosts) };
}

function cygwin(pages: number): Omit<Row, 'pages' | 'linuxSimMs' | 'linuxHostMs'> {
  const k = new Kernel(cygwinPersonality(), { frames: pages * 2 + 65_536, contents: false });
  const parent = k.personality.portable!.start!(k, 'bash');
  const t = parent.thread;
  const a = k.syscall(t, 'mmap', [0, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]).value;
  if (a < 0) throw new Error(`mmap of ${String(pages)} pages failed`);
  for (let i = 0; i < pages; i++) k.access(t, a + i * 4096, ACCESS_WRITE);
  const sims: number[] = [];
  const hosts: number[] = [];
  let bytes = 0;
  let commit = 0;
  let calls = 0;
  let traps = 0;
  for (let r = 0; r < RUNS; r++) {
    const c0 = k.metrics.cycles;
    const b0 = k.metrics.bytesCopiedCrossProcess;
    const s0 = k.metrics.syscalls;
    const tr0 = k.metrics.traps.syscall;
    const t0 = cpuMs();
    const pid = k.syscall(t, 'fork').value;
    hosts.push(cpuMs() - t0);
    if (pid < 0) throw new Error(`fork failed: ${String(t.errors.cygwin?.name)}`);
    sims.push(((k.metrics.cycles - c0) / k.mmu.profile.hz) * 1e3);
    bytes = k.metrics.bytesCopiedCrossProcess - b0;
    calls = k.metrics.syscalls - s0;
    traps = k.metrics.traps.syscall - tr0;
    const child = k.processes.get(k.state.cygwin.byPid.get(pid)!.winpid)!;
    commit = child.space.commitCharge;
    k.syscall(child.threads[0]!, '_exit', [0]);
    k.syscall(t, 'waitpid', [pid, 0]);
  }
  const c0 = k.metrics.cycles;
  const pid = k.syscall(t, 'spawnve', [1, '/usr/bin/true.exe']).value;
  const spawnSimMs = ((k.metrics.cycles - c0) / k.mmu.profile.hz) * 1e3;
  k.syscall(k.processes.get(k.state.cygwin.byPid.get(pid)!.winpid)!.threads[0]!, '_exit', [0]);
  return { cygSimMs: median(sims), cygHostMs: median(hosts), cygBytesCopied: bytes, cygChildCommitPages: commit, cygCalls: calls, cygTraps: traps, spawnSimMs };
}

const sizes = [256, 4_096, 65_536, 262_144, 524_288].filter((n) => n <= arg('--max', 262_144));
const rows: Row[] = sizes.map((pages) => {
  const l = linux(pages);
  return { pages, linuxSimMs: l.sim, linuxHostMs: l.host, ...cygwin(pages) };
});
if (process.argv.includes('--json')) console.log(JSON.stringify({ node: process.version, runs: RUNS, rows }, null, 2));
else {
  console.log(`Cygwin copy-on-fork vs Linux COW fork, content-less, median of ${String(RUNS)} (Node ${process.version})\n`);
  console.log('| resident | Linux fork: simulated / host CPU | Cygwin fork: simulated / host CPU | Cygwin ÷ Linux (simulated) | bytes copied across processes | child commit (pages) | calls (traps) in Cygwin fork | Cygwin spawnve true.exe: simulated |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    console.log(`| ${(r.pages * 4096 / 2 ** 20).toLocaleString('en-US')} MiB | ${r.linuxSimMs.toFixed(3)} ms / ${r.linuxHostMs.toFixed(1)} ms | ${r.cygSimMs.toFixed(3)} ms / ${r.cygHostMs.toFixed(1)} ms | ${(r.cygSimMs / r.linuxSimMs).toFixed(1)}× | ${r.cygBytesCopied.toLocaleString('en-US')} | ${r.cygChildCommitPages.toLocaleString('en-US')} | ${r.cygCalls.toLocaleString('en-US')} (${r.cygTraps.toLocaleString('en-US')}) | ${r.spawnSimMs.toFixed(3)} ms |`);
  }
}
