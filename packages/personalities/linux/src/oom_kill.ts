/**
 * mm/oom_kill.c: out_of_memory → select_bad_process (oom_badness, tasks.ts) → oom_kill_process,
 * with dump_tasks' table and the kill report in the kernel log.
 */
import type { Kernel, Process, Thread } from '@polykernel/kernel';
import { PAGE_SIZE } from './flags.js';
import type { LinuxMachine, LinuxSpace } from './machine.js';
import { OOM_SKIP, oomBadness, type OomInput } from './tasks.js';

/** totalpages of oom_badness: RAM plus swap, in pages. */
export function totalPages(k: Kernel<LinuxSpace>): number {
  return k.mmu.frames.frameCount + k.vm.swap.slots;
}

/** What oom_badness reads from a process: rss, swap entries, page tables, oom_score_adj, and whether it may be chosen. */
export function oomInput(m: LinuxMachine, p: Process<LinuxSpace>): OomInput {
  const s = p.space;
  const leader = p.threads[0];
  let tables = 0;
  for (let l = 1; l < s.pt.tablesByLevel.length; l++) tables += s.pt.tablesByLevel[l]!;
  return {
    rssPages: s.rss.anon + s.rss.file + s.rss.shmem,
    swapEntries: s.swap.size,
    pgtablesBytes: tables * PAGE_SIZE,
    oomScoreAdj: leader === undefined ? 0 : m.task(leader).oomScoreAdj,
    unkillable: p === m.kernel.init || p.state !== 'running',
    inVfork: leader !== undefined && m.task(leader).vforkParent !== null,
  };
}

/**
 * out_of_memory → select_bad_process → oom_kill_process: the running process with the most
 * oom_badness points is killed with SIGKILL (on equal points the one found later, as
 * oom_evaluate_task's `points < chosen_points` test keeps it), with the kernel's report in dmesg.
 */
export function outOfMemory(m: LinuxMachine, cur: Thread | null): number | null {
  const k = m.kernel;
  const total = totalPages(k);
  const log = m.dmesg;
  const kb = (pages: number): number => pages * (PAGE_SIZE / 1024);
  let chosen: Process<LinuxSpace> | null = null;
  let chosenPoints = OOM_SKIP;
  const rows: string[] = [];
  for (const p of k.processes.values()) {
    const input = oomInput(m, p);
    const points = oomBadness(input, total);
    if (p.state === 'running' && p !== k.init) {
      const s = p.space;
      rows.push(`[${String(p.pid).padStart(7)}] ${String(p.creds.uid).padStart(5)} ${String(p.pid).padStart(5)} ${String(s.mm.totalVm).padStart(8)} ${String(input.rssPages).padStart(8)} ${String(s.rss.anon).padStart(8)} ${String(s.rss.file).padStart(8)} ${String(s.rss.shmem).padStart(9)} ${String(input.pgtablesBytes).padStart(14)} ${String(input.swapEntries).padStart(8)} ${String(input.oomScoreAdj).padStart(13)} ${p.comm}`);
    }
    if (points === OOM_SKIP || points < chosenPoints) continue;
    chosen = p;
    chosenPoints = points;
  }
  const curProc = cur?.process as Process<LinuxSpace> | undefined;
  const adj = cur === null ? 0 : m.task(cur).oomScoreAdj;
  log.push(`${curProc?.comm ?? 'kernel'} invoked oom-killer: gfp_mask=0x140cca(GFP_HIGHUSER_MOVABLE|__GFP_COMP), order=0, oom_score_adj=${adj}`);
  log.push('Tasks state (memory values in pages):');
  log.push('[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents oom_score_adj name');
  log.push(...rows);
  if (chosen === null) {
    log.push('Out of memory and no killable processes...');
    return null;
  }
  const s = chosen.space;
  const input = oomInput(m, chosen);
  log.push(`oom-kill:constraint=CONSTRAINT_NONE,task=${chosen.comm},pid=${chosen.pid},uid=${chosen.creds.uid}`);
  log.push(`Out of memory: Killed process ${chosen.pid} (${chosen.comm}) total-vm:${kb(s.mm.totalVm)}kB, anon-rss:${kb(s.rss.anon)}kB, file-rss:${kb(s.rss.file)}kB, shmem-rss:${kb(s.rss.shmem)}kB, UID:${chosen.creds.uid} pgtables:${input.pgtablesBytes / 1024}kB oom_score_adj:${input.oomScoreAdj}`);
  k.bus.probe('oom:kill').publish({ pid: curProc?.pid ?? 0, victim: chosen.pid, points: chosenPoints, reason: 'out of memory' });
  if (chosen !== curProc) k.signal(chosen, 'SIGKILL', 'oom-kill');
  return chosen.pid;
}
