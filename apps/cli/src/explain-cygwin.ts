/**
 * `polykernel explain fork -p cygwin`: one fork on the Cygwin personality, told step by step as
 * winsup/cygwin/fork.cc runs it (the package's explainCygwinFork: each step's side, what Cygwin's
 * source does there, its simulated time and the bytes it copied across processes), then the same
 * process forked on Linux for the comparison: copy_process write-protects PTEs and copies none of
 * the pages that Cygwin copies one by one. `--scenario` makes the fork fail the ways it really
 * fails (dll-collision, died-dll-loading, commit-limit) or shows the fix (rebaseall).
 */
import { Kernel } from '@polykernel/kernel';
import { CYGWIN_FORK_SCENARIOS, explainCygwinFork, type CygwinForkScenario } from '@polykernel/cygwin';
import { linuxFlags as F, linuxPersonality, type LinuxSpace } from '@polykernel/linux';
import { ACCESS_WRITE } from '@polykernel/mmu';

const PAGES = 256;

/** Linux's COW fork of a process with the same resident private pages (a bare process: no exec needed). */
function linuxFork(pages: number): { us: number; ptes: number; writeProtected: number; pagesCopied: number } {
  const lp = linuxPersonality();
  const k = new Kernel<LinuxSpace>(lp, { frames: pages * 2 + 65_536, contents: false });
  const p = k.createProcess(k.init, 'bash');
  const t = p.threads[0]!;
  const a = k.syscall(t, 'mmap', [0, pages * 4096, F.PROT_READ | F.PROT_WRITE, F.MAP_PRIVATE | F.MAP_ANONYMOUS, -1, 0]).value;
  for (let i = 0; i < pages; i++) k.access(t, a + i * 4096, ACCESS_WRITE);
  const c0 = k.metrics.cycles;
  const copied0 = k.metrics.pagesCopied;
  k.syscall(t, 'fork');
  const rep = lp.lastFork(k);
  return {
    us: ((k.metrics.cycles - c0) / k.mmu.profile.hz) * 1e6,
    ptes: rep?.ptes ?? 0,
    writeProtected: rep?.areas.reduce((n, x) => n + x.writeProtected, 0) ?? 0,
    pagesCopied: k.metrics.pagesCopied - copied0,
  };
}

export function explainCygwin(what: string, opts: Record<string, boolean | string | undefined>, out: (s: string) => void, err: (s: string) => void): number {
  if (what !== 'fork') {
    err('polykernel explain: -p cygwin tells the fork story; a fault is Windows\' own: polykernel explain fault -p windows');
    return 2;
  }
  const scenario = typeof opts.scenario === 'string' ? opts.scenario : 'copy';
  if (!(CYGWIN_FORK_SCENARIOS as readonly string[]).includes(scenario)) {
    err(`polykernel explain: fork -p cygwin tells the ${CYGWIN_FORK_SCENARIOS.join(', ')} scenarios, not "${scenario}"`);
    return 2;
  }
  const story = explainCygwinFork({ pages: PAGES, scenario: scenario as CygwinForkScenario });
  const linux = scenario === 'copy' ? linuxFork(PAGES) : null;
  if (opts.json === true) {
    out(JSON.stringify({ what: 'fork', personality: 'cygwin', scenario, result: story.result, console: story.console, steps: story.steps, totals: story.totals, linux }, null, 2));
    return 0;
  }
  for (const l of story.lines) out(l);
  if (linux !== null) {
    out('');
    out(`Linux's fork of the same process (copy_process → dup_mmap): ${linux.us.toFixed(1)} µs simulated, ${String(linux.ptes)} PTEs copied, ${String(linux.writeProtected)} of them write-protected, ${String(linux.pagesCopied)} pages copied.`);
    out(`Cygwin's fork took ${(story.totals.us / linux.us).toFixed(1)}× as long: Windows has no fork, so every resident page is copied now instead of on the first write.`);
    out('Try the failures: --scenario dll-collision, rebaseall, dlopen-collision, died-dll-loading, commit-limit.');
  }
  return 0;
}
