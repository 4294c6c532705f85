/**
 * The `refs:` workload step: a valgrind lackey trace replayed inside the process that runs the
 * step, through the machine's MMU and TLBs (RefsReplay attached to the process: a reference inside
 * one of its mappings uses it, with its protection and its pages; any other page is mmap'd on first
 * touch with MAP_FIXED_NOREPLACE).
 *
 * Translation (`map`): a trace carries the addresses of the run it was recorded in (valgrind's
 * own layout: the executable, ld.so, the libraries, the heap and the stack where valgrind put
 * them). Each entry `{ from, length, region, offset }` moves the trace's range [from, from +
 * length) onto a region of the simulated process by name (an alloc/mmap/mapFile's name, or
 * `[exe]`, `[interp]`, `[heap]` after an execve): a reference at A replays at
 * region's address + offset + (A − from). Entries are tried in order; the first that holds A wins.
 * References in no entry replay at their own address (`others: own-address`, the default) or are
 * counted and left out (`others: skip`). A range longer than its region is not cut: the pages past
 * the region's end are mapped on first touch like any other.
 */
import { resolve } from 'node:path';
import type { Kernel, Thread } from '@polykernel/kernel';
import type { LinuxSpace } from '@polykernel/linux';
import type { RefBatch, Step } from '@polykernel/workload';
import { RefsReplay, replayTrace } from './refs.js';

export type RefsStep = Extract<Step, { refs: unknown }>['refs'];

/** One translation entry, resolved to the simulated process's addresses. */
interface Move { from: number; end: number; delta: number }

/** The entries of `map` against the process's regions; the message naming a region no step made. */
export function translation(map: RefsStep['map'], regions: ReadonlyMap<string, { addr: number }>): Move[] | string {
  const moves: Move[] = [];
  for (const m of map) {
    const r = regions.get(m.region);
    if (r === undefined) return `region "${m.region}" was not mapped by an earlier step (map names a region of this process: an alloc, mmap or mapFile's name, or [exe], [interp], [heap] after an execve)`;
    if (r.addr < 0) return `region "${m.region}" has no memory: its mapping failed`;
    moves.push({ from: m.from, end: m.from + m.length, delta: r.addr + m.offset - m.from });
  }
  return moves;
}

/** Counts of what the translation did. */
export interface Translated { moved: number; own: number; skipped: number }

/**
 * Rewrite a batch's addresses in place by `moves`; with `skip`, references in no entry are dropped
 * (the batch is compacted). Returns nothing: `counts` accumulates.
 */
export function translateBatch(b: RefBatch, moves: readonly Move[], skip: boolean, counts: Translated): void {
  const { addr, kind, access, size } = b;
  let out = 0;
  let last = 0;
  for (let i = 0; i < b.count; i++) {
    const a = addr[i]!;
    let hit = -1;
    // References run in streaks: the entry that took the previous one is tried first.
    const lm = moves[last];
    if (lm !== undefined && a >= lm.from && a < lm.end) hit = last;
    else {
      for (let j = 0; j < moves.length; j++) {
        const m = moves[j]!;
        if (a >= m.from && a < m.end) {
          hit = j;
          break;
        }
      }
    }
    if (hit < 0) {
      if (skip) {
        counts.skipped++;
        continue;
      }
      counts.own++;
    } else {
      counts.moved++;
      last = hit;
    }
    addr[out] = hit < 0 ? a : a + moves[hit]!.delta;
    kind[out] = kind[i]!;
    access[out] = access[i]!;
    size[out] = size[i]!;
    out++;
  }
  b.count = out;
}

/** Run a refs step in `thread`'s process; the step's result line. */
export async function runRefsStep(k: Kernel<LinuxSpace>, thread: Thread, regions: ReadonlyMap<string, { addr: number }>, s: RefsStep, dir: string): Promise<string> {
  const moves = translation(s.map, regions);
  if (typeof moves === 'string') return `error: ${moves}`;
  const replay = new RefsReplay(k.mmu.profile.name, undefined, { kernel: k, thread });
  const counts: Translated = { moved: 0, own: 0, skipped: 0 };
  const skip = s.others === 'skip';
  const sink = moves.length === 0 && !skip ? replay.add : (b: RefBatch): void => {
    translateBatch(b, moves, skip, counts);
    replay.add(b);
  };
  const file = resolve(dir, s.trace);
  const run = await replayTrace(file, sink, { strict: false, ...(s.limit !== undefined ? { limit: s.limit } : {}) }, null);
  if (typeof run === 'string') return `error: ${run}`;
  const r = replay.result();
  if (moves.length === 0 && !skip) counts.own = r.references;
  const faults = Object.entries(r.faults).map(([f, n]) => `${f} ${n}`).join(', ') || 'none';
  const n = (x: number): string => x.toLocaleString('en-US');
  const parts = [
    `${n(run.stats.refs)} references (${n(counts.moved)} moved by map, ${n(counts.own)} at their own address${counts.skipped > 0 ? `, ${n(counts.skipped)} skipped` : ''})`,
    `TLB L1 ${n(r.tlb.l1Hits)}, L2 ${n(r.tlb.l2Hits)}, misses ${n(r.tlb.misses)}`, `walks ${n(r.walks)}`, `faults ${faults}`, `${n(r.pagesMapped)} pages mapped on first touch`,
  ];
  if (r.failed > 0) parts.push(`${n(r.failed)} failed`);
  if (run.stats.bad > 0) parts.push(`${n(run.stats.bad)} bad lines skipped`);
  if (r.error !== null) return `error: ${r.error}`;
  return parts.join('; ');
}
