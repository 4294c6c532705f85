/**
 * `explain fork` for Cygwin: one fork of a Cygwin program with `pages` resident pages in a private
 * mapping, told step by step as fork.cc runs it — which side runs each step, what it does, the
 * simulated time it took and the bytes it copied across processes — beside the totals Linux's
 * COW fork would not pay (every resident page copied, the child's commit).
 */
import { Kernel } from '@polykernel/kernel';
import { ACCESS_WRITE } from '@polykernel/mmu';
import type { WindowsSpace } from '@polykernel/windows';
import { cygwinPersonality } from './personality.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from './posix.js';
import type { CygwinMachine, ForkStep } from './types.js';

export interface CygwinForkStory {
  lines: string[];
  steps: (ForkStep & { us: number; bytes: number })[];
  totals: { us: number; bytesCopied: number; childCommitPages: number; parentCommitPages: number };
}

export function explainCygwinFork(pages = 256): CygwinForkStory {
  const k = new Kernel<WindowsSpace, CygwinMachine>(cygwinPersonality(), { frames: pages * 2 + 65_536, contents: false });
  const parent = k.personality.portable!.start!(k, 'bash');
  const t = parent.thread;
  const a = k.syscall(t, 'mmap', [0, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]).value;
  for (let i = 0; i < pages; i++) k.access(t, a + i * 4096, ACCESS_WRITE);
  const c0 = k.metrics.cycles;
  const b0 = k.metrics.bytesCopiedCrossProcess;
  const pid = k.syscall(t, 'fork').value;
  const end = { cycles: k.metrics.cycles, bytesCopied: k.metrics.bytesCopiedCrossProcess };
  const raw = k.state.cygwin.forkSteps;
  const perUs = 1e6 / k.mmu.profile.hz;
  const steps = raw.map((s, i) => {
    const next = raw[i + 1] ?? end;
    return { ...s, us: (next.cycles - s.cycles) * perUs, bytes: next.bytesCopied - s.bytesCopied };
  });
  const child = k.processes.get(k.state.cygwin.byPid.get(pid)!.winpid)!;
  const totals = { us: (end.cycles - c0) * perUs, bytesCopied: end.bytesCopied - b0, childCommitPages: child.space.commitCharge, parentCommitPages: parent.process.space.commitCharge };
  const lines = [
    `Cygwin fork() of bash with ${String(pages)} resident pages (${String((pages * 4096) / 1024)} KiB) in a private mapping`,
    '',
    ...steps.map((s) => `  ${s.side.padEnd(6)} ${(s.step + (s.detail === '' ? '' : ` (${s.detail})`)).padEnd(78)} ${s.us.toFixed(1).padStart(9)} µs ${s.bytes > 0 ? `${s.bytes.toLocaleString('en-US')} bytes copied` : ''}`.trimEnd()),
    '',
    `  fork took ${totals.us.toFixed(1)} µs simulated and copied ${totals.bytesCopied.toLocaleString('en-US')} bytes across processes;`,
    `  the child is charged ${String(totals.childCommitPages)} pages of commit (the parent ${String(totals.parentCommitPages)}): copy-on-fork, not copy-on-write.`,
  ];
  return { lines, steps, totals };
}
