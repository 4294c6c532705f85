/**
 * A workload stepped one step at a time on one personality, for the visualizer: @polykernel/runner's
 * Session (the same scheduler and step code `polykernel run` and `compare` use, one step per
 * `next()`), booted on a machine whose only files are the ones the page was given, plus what the
 * page shows beside each step: its kind and the page faults it took, the last fault and fork the
 * kernel reported, and the probe aggregations (calls and faults by kind, count and cycles).
 */
import { memoryFileSystem, type Process } from '@polykernel/kernel';
import { accessName } from '@polykernel/mmu';
import { isNaResult, openSession, type Session } from '@polykernel/runner';
import type { Workload } from '@polykernel/workload';
import type { ResolvedWebPersonality } from './registry.js';

/** One finished step, as the step log shows it. */
export interface StepLine {
  /** 1-based position in the interleaved run. */
  index: number;
  process: string;
  pid: number;
  /** The step's kind (mmap, fork, store ...). */
  kind: string;
  step: string;
  result: string;
  /** Page faults this step took. */
  faults: number;
}

/** The largest number of accesses one touch step makes in the browser (the page stays responsive). */
export const MAX_WEB_TOUCH = 1_000_000;
const PAGE = 4096;

export interface SessionOptions {
  seed?: number;
  /** Files exec, open and mmap find (a dropped program), by absolute path; the browser has no others. */
  files?: Readonly<Record<string, Uint8Array>>;
}

export class WebSession {
  /** The runner's session: its kernel, processes and results. */
  readonly session: Session;
  readonly log: StepLine[] = [];
  /** null while steps remain; then 'done' or why it stopped. */
  ending: string | null = null;
  /** The steps that were n/a on this kernel (the comparison leaves them out of its figures). */
  readonly unsupported: StepLine[] = [];
  private faultsNow = 0;
  /** The last fault the kernel reported (for the explain panel). */
  lastFault: { pid: number; va: number; access: 'read' | 'write' | 'exec'; reason: string; resolution: string; cycles: number } | null = null;
  /** The last fork the kernel reported: what it copied and what it cost. */
  lastFork: { pid: number; child: number; vmas: number; ptes: number; tables: number; cycles: number } | null = null;
  /** Probe aggregations: calls by name and faults by resolution, count and simulated cycles. */
  readonly calls = new Map<string, { count: number; cycles: number }>();
  readonly faultKinds = new Map<string, { count: number; cycles: number }>();

  constructor(readonly workload: Workload, readonly personality: ResolvedWebPersonality, opts: SessionOptions = {}) {
    const seed = opts.seed ?? 1;
    // The browser has no sysroot: exec, open and mmap find only the files given (ENOENT otherwise), as the step shows.
    this.session = openSession(workload, personality, {
      frames: Math.floor((workload.memory ?? 1024 ** 3) / PAGE), swapSlots: Math.floor((workload.swap ?? 0) / PAGE), contents: workload.contents === true,
      fs: memoryFileSystem(opts.files ?? {}), seed,
    }, { subscribe: (k) => {
      k.bus.subscribe('fault', (e) => {
        this.faultsNow++;
        this.lastFault = { pid: e.pid, va: e.va, access: accessName(e.access), reason: e.reason, resolution: e.resolution, cycles: e.cycles };
        bump(this.faultKinds, e.resolution, e.cycles);
      });
      k.bus.subscribe('fork', (e) => {
        this.lastFork = { pid: e.pid, child: e.child, vmas: e.vmas, ptes: e.ptes, tables: e.tables, cycles: e.cycles };
      });
      k.bus.subscribe('syscall:return', (e) => {
        if (e.depth === 0 && !e.blocked) bump(this.calls, e.name, e.cycles);
      });
    } });
    this.session.maxTouchAccesses = MAX_WEB_TOUCH;
    this.session.beforeStep = () => {
      this.faultsNow = 0;
    };
  }

  get k(): Session['k'] {
    return this.session.k;
  }

  /** The variant this session runs (linux-6.x, freebsd-14 ...). */
  get variant(): string {
    return this.personality.variant;
  }

  /** The workload's processes and the children its steps made, with their pids and state. */
  processes(): { name: string; pid: number; state: string; proc: Process }[] {
    return this.session.runners.map((r) => ({ name: r.name, pid: r.proc.pid, state: r.proc.state, proc: r.proc }));
  }

  /** Run until one more step has finished; null when the workload has ended (see `ending`). */
  async next(): Promise<StepLine | null> {
    const r = await this.session.next();
    if (r === null) {
      this.ending = this.session.ending?.stalled ?? 'done';
      return null;
    }
    const line: StepLine = { index: this.log.length + 1, process: r.process, pid: r.pid, kind: r.step.split(' ', 1)[0]!, step: r.step, result: r.result, faults: this.faultsNow };
    this.log.push(line);
    if (isNaResult(r.result)) this.unsupported.push(line);
    return line;
  }
}

function bump(m: Map<string, { count: number; cycles: number }>, key: string, cycles: number): void {
  const a = m.get(key) ?? { count: 0, cycles: 0 };
  a.count++;
  a.cycles += cycles;
  m.set(key, a);
}
