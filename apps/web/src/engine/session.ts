/**
 * A workload stepped one step at a time on one personality, for the visualizer.
 *
 * Scheduling is the CLI's (apps/cli/src/run.ts): every process runs one step per round, round-robin
 * in creation order; a thread the kernel put to sleep is skipped until it is woken, then its call is
 * resumed; a child that runs out of steps exits with status 0. The difference is granularity: the
 * CLI runs a whole workload, this runs to the next finished step, so the page can show each moment.
 *
 * This is a minimal stand-in for the shared portable driver being extracted from run.ts; it should
 * move there once that lands. It is personality-neutral: it calls the personality's calls by their
 * POSIX names (mmap, munmap, fork, wait4 ...) through the kernel's call gate, takes numeric flag
 * encodings from the registry, and reports "n/a" for a step the personality (or the browser, which
 * has no files) cannot run. Nothing here knows Linux's types.
 */
import { formatProt, Rng } from '@polykernel/core';
import { Kernel, memoryFileSystem, type Process, type SyscallArg, type SyscallResult, type Thread } from '@polykernel/kernel';
import { ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE, accessName, type Access } from '@polykernel/mmu';
import { childSteps, type Step, type Workload } from '@polykernel/workload';
import type { PosixEncoding, ResolvedWebPersonality } from './registry.js';

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

/** A step the driver cannot carry out as written: reported at the step, and the run goes on. */
class StepError extends Error {}

class Runner {
  pc = 0;
  sleptAt = -1;
  constructor(
    readonly name: string,
    readonly proc: Process,
    readonly thread: Thread,
    readonly steps: readonly Step[],
    readonly regions: Map<string, { addr: number; length: number }>,
    readonly child: boolean,
  ) {}

  get done(): boolean {
    return this.proc.state !== 'running' || this.thread.state === 'dead' || this.pc >= this.steps.length;
  }
}

export interface SessionOptions {
  seed?: number;
  /** Files exec and open find (a dropped program), by absolute path; the browser has no others. */
  files?: Readonly<Record<string, Uint8Array>>;
}

export class WebSession {
  readonly k: Kernel<unknown>;
  readonly log: StepLine[] = [];
  /** null while steps remain; then 'done' or why it stopped. */
  ending: string | null = null;
  private readonly runners: Runner[] = [];
  private readonly posix: PosixEncoding | null;
  private round: Runner[] = [];
  private cursor = 0;
  private pendingInRound = false;
  private progressedInRound = false;
  private childCount = 0;
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
    // The browser has no sysroot: exec and open find only the files given (ENOENT otherwise), as the step shows.
    const p = personality.entry.create({ variant: personality.variant, fs: memoryFileSystem(opts.files ?? {}), seed });
    this.k = new Kernel(p, { frames: Math.floor((workload.memory ?? 1024 ** 3) / PAGE), swapSlots: Math.floor((workload.swap ?? 0) / PAGE), contents: workload.contents === true, seed });
    this.posix = personality.entry.posix;
    this.k.bus.subscribe('fault', (e) => {
      this.faultsNow++;
      this.lastFault = { pid: e.pid, va: e.va, access: accessName(e.access), reason: e.reason, resolution: e.resolution, cycles: e.cycles };
      bump(this.faultKinds, e.resolution, e.cycles);
    });
    this.k.bus.subscribe('fork', (e) => {
      this.lastFork = { pid: e.pid, child: e.child, vmas: e.vmas, ptes: e.ptes, tables: e.tables, cycles: e.cycles };
    });
    this.k.bus.subscribe('syscall:return', (e) => {
      if (e.depth === 0 && !e.blocked) bump(this.calls, e.name, e.cycles);
    });
    for (const spec of workload.processes) {
      const proc = this.k.createProcess(this.k.init, spec.name);
      this.runners.push(new Runner(spec.name, proc, proc.threads[0]!, spec.steps, new Map(), false));
    }
    this.round = [...this.runners];
  }

  /** The workload's processes and the children its steps made, with their pids and state. */
  processes(): { name: string; pid: number; state: string; proc: Process }[] {
    return this.runners.map((r) => ({ name: r.name, pid: r.proc.pid, state: r.proc.state, proc: r.proc }));
  }

  /** Run until one more step has finished; null when the workload has ended (see `ending`). */
  next(): StepLine | null {
    while (this.ending === null) {
      if (this.cursor >= this.round.length) {
        this.endRound();
        continue;
      }
      const r = this.round[this.cursor++]!;
      const line = this.visit(r);
      if (line !== null) return line;
    }
    return null;
  }

  private endRound(): void {
    if (!this.pendingInRound) {
      this.ending = 'done';
      return;
    }
    // A whole round in which nothing ran: every remaining process sleeps (as run.ts decides it).
    if (!this.progressedInRound) {
      const blocked = this.runners.filter((r) => r.proc.state === 'running' && r.thread.state === 'blocked').map((r) => `${r.name}[${r.proc.pid}]`);
      this.ending = `stalled: no process can run (${blocked.join(', ') || 'none runnable'})`;
      return;
    }
    this.round = [...this.runners];
    this.cursor = 0;
    this.pendingInRound = false;
    this.progressedInRound = false;
  }

  /** One process's turn in the round: housekeeping, then at most one step (its line). */
  private visit(r: Runner): StepLine | null {
    const k = this.k;
    if (r.thread.pending !== null && r.thread.state === 'runnable' && r.sleptAt !== r.pc) {
      k.resume(r.thread);
      this.progressedInRound = true;
    }
    if (r.done) {
      if (r.child && r.proc.state === 'running' && r.thread.state !== 'dead' && r.pc >= r.steps.length) {
        if (r.thread.state !== 'runnable') {
          this.pendingInRound = true;
          return null;
        }
        // A child that ran out of steps returns from main: exit(0).
        this.exit(r, 0);
        this.progressedInRound = true;
      }
      return null;
    }
    this.pendingInRound = true;
    if (r.thread.state !== 'runnable') return null;
    const step = r.steps[r.pc]!;
    this.faultsNow = 0;
    let result: string | null;
    try {
      result = this.run(r, step);
    } catch (e) {
      if (!(e instanceof StepError)) throw e;
      result = `error: ${e.message}`;
    }
    this.progressedInRound = true;
    if (result === null) {
      r.sleptAt = r.pc;
      return null;
    }
    r.sleptAt = -1;
    r.pc++;
    const line: StepLine = { index: this.log.length + 1, process: r.name, pid: r.proc.pid, kind: stepKind(step), step: describeStep(step), result, faults: this.faultsNow };
    this.log.push(line);
    return line;
  }

  /**
   * Make a call by its POSIX name. A personality without a call of that name (a kernel whose
   * calls are named otherwise) gets "n/a" for the step: nothing is run or made up. A raw
   * `syscall` step goes through the gate instead, where an unknown call fails as the kernel says.
   */
  private call(r: Runner, name: string, args: readonly SyscallArg[]): SyscallResult {
    if (this.k.callSpec(name) === undefined) throw new StepError(`n/a: ${this.personality.variant} has no ${name} call`);
    return this.gate(r, name, args);
  }

  private gate(r: Runner, name: string, args: readonly SyscallArg[]): SyscallResult {
    const t = r.thread;
    const sleeping = t.pending?.spec.name;
    if (sleeping !== undefined) {
      const v = this.k.resume(t);
      if (sleeping === name) return v;
    }
    return this.k.syscall(t, name, args);
  }

  /** The process exits: exit_group (Linux) or exit (POSIX), else the kernel ends it as a return from main would. */
  private exit(r: Runner, code: number): void {
    const name = ['exit_group', 'exit'].find((n) => this.k.callSpec(n) !== undefined);
    if (name !== undefined) this.gate(r, name, [code]);
    else this.k.exitProcess(r.proc, code);
  }

  private encoding(what: string): PosixEncoding {
    if (this.posix === null) throw new StepError(`n/a: ${this.personality.variant} has no encoding for ${what} in the visualizer's registry`);
    return this.posix;
  }

  private at(r: Runner, region: string, offset: number): number {
    const reg = r.regions.get(region);
    if (reg === undefined) throw new StepError(`region "${region}" was not mapped by an earlier step`);
    return reg.addr + offset;
  }

  /** A step's result text, or null when the thread went to sleep in its call (it runs again later). */
  private run(r: Runner, step: Step): string | null {
    const res = (v: SyscallResult): string => (v.error !== null ? `-${v.error}` : `0x${v.value.toString(16)}`);
    if ('mmap' in step) {
      const m = step.mmap;
      if (m.file !== undefined || m.fd !== undefined) throw new StepError('n/a: the browser has no files to map');
      const enc = this.encoding('mmap flags');
      const flags = m.flags.reduce((f, x) => f | (enc.mmap[x] ?? 0), 0);
      const addr = m.addr === undefined ? 0 : typeof m.addr === 'number' ? m.addr : this.at(r, m.addr.region, m.addr.offset);
      const v = this.call(r, 'mmap', [addr, m.length, m.prot, flags, -1, m.offset ?? 0]);
      // A failed mmap leaves MAP_FAILED ((void *)-1) in the program's variable.
      r.regions.set(m.name, { addr: v.error === null ? v.value : -1, length: m.length });
      return res(v);
    }
    if ('munmap' in step) return res(this.call(r, 'munmap', [this.at(r, step.munmap.region, step.munmap.offset), step.munmap.length]));
    if ('mprotect' in step) return res(this.call(r, 'mprotect', [this.at(r, step.mprotect.region, step.mprotect.offset), step.mprotect.length, step.mprotect.prot]));
    if ('madvise' in step) {
      const advice = this.encoding('madvise').madvise[step.madvise.advice] ?? 0;
      return res(this.call(r, 'madvise', [this.at(r, step.madvise.region, step.madvise.offset), step.madvise.length, advice]));
    }
    if ('brk' in step) {
      if (!('to' in step.brk)) throw new StepError('n/a: brk by a delta needs the personality\'s program break; the visualizer takes brk: { to }');
      return res(this.call(r, 'brk', [step.brk.to]));
    }
    if ('touch' in step) return this.touch(r, step.touch);
    if ('store' in step || 'load' in step) return this.memory(r, step);
    if ('fork' in step || 'vfork' in step) return this.spawn(r, step);
    if ('exit' in step) {
      this.exit(r, typeof step.exit === 'number' ? step.exit : step.exit.code);
      return 'exited';
    }
    if ('wait' in step) return this.wait(r, step.wait);
    if ('kill' in step) {
      const s = step.kill;
      const pid = s.process === 'self' ? r.proc.pid : s.process === 'parent' ? r.proc.ppid : (this.runners.find((x) => x.name === s.process)?.proc.pid ?? Number(s.process));
      const sig = typeof s.signal === 'number' ? s.signal : this.k.personality.signals[s.signal.startsWith('SIG') ? s.signal : `SIG${s.signal}`];
      if (sig === undefined) throw new StepError(`${this.personality.variant} has no signal ${String(s.signal)}`);
      const v = this.call(r, 'kill', [pid, sig]);
      return r.proc.state !== 'running' ? `killed by ${r.proc.killedBy ?? 'a signal'}` : res(v);
    }
    if ('syscall' in step) return res(this.gate(r, step.syscall.name, step.syscall.args));
    if ('exec' in step) {
      const v = this.call(r, 'execve', [step.exec.path, step.exec.argv ?? [step.exec.path], step.exec.env ?? []]);
      if (v.error === null) r.regions.clear();
      return res(v);
    }
    throw new StepError(`n/a: the visualizer has no driver for ${stepKind(step)} steps yet (the shared portable driver will bring them)`);
  }

  private touch(r: Runner, s: Extract<Step, { touch: unknown }>['touch']): string {
    const access: Access = s.access === 'write' ? ACCESS_WRITE : s.access === 'exec' ? ACCESS_EXEC : ACCESS_READ;
    const base = this.at(r, s.region, s.offset);
    const pages = Math.max(1, Math.ceil(s.length / PAGE));
    const stride = s.pattern === 'stride' ? Math.max(s.stride ?? PAGE, 1) : PAGE;
    const n = s.count ?? (s.pattern === 'random' ? pages : Math.ceil(s.length / stride));
    if (n > MAX_WEB_TOUCH) throw new StepError(`a touch makes at most ${MAX_WEB_TOUCH} accesses in the browser; this one would make ${n}`);
    const rng = s.pattern === 'random' ? new Rng(s.seed ?? 1) : null;
    const span = pages * PAGE;
    let skipped = 0;
    for (let i = 0; i < n; i++) {
      const va = rng !== null ? base + rng.below(pages) * PAGE : base + ((i * stride) % span);
      if (this.k.access(r.thread, va, access) >= 0) continue;
      if (r.proc.state !== 'running') return `${r.proc.killedBy ?? 'signal'} at 0x${va.toString(16)}`;
      skipped++;
    }
    return skipped === 0 ? '0x0' : `0x0 (${skipped} accesses skipped by a signal handler)`;
  }

  private memory(r: Runner, step: Step): string {
    const s = 'store' in step ? step.store : 'load' in step ? step.load : null;
    if (s === null) return '';
    const write = 'store' in step;
    const frames = this.k.mmu.frames;
    if (!frames.contentsEnabled) throw new StepError(`${write ? 'store' : 'load'} needs page contents: set "contents: true" in the workload`);
    const va = this.at(r, s.region, s.offset);
    const bytes = new Uint8Array(s.size);
    let value = write ? BigInt(step.store.value) : 0n;
    for (let i = 0; i < s.size; i++) {
      const pa = this.k.access(r.thread, va + i, write ? ACCESS_WRITE : ACCESS_READ);
      if (pa < 0) return `${r.proc.killedBy ?? 'signal'} at 0x${(va + i).toString(16)}`;
      if (write) {
        frames.write(pa, Uint8Array.of(Number(value % 256n)));
        value /= 256n;
      } else bytes[i] = frames.read(pa, 1)[0]!;
    }
    if (write) return 'ok';
    let v = 0n;
    for (let i = s.size - 1; i >= 0; i--) v = v * 256n + BigInt(bytes[i]!);
    return `value ${v}`;
  }

  private spawn(r: Runner, step: Step): string {
    const c = 'fork' in step ? step.fork : 'vfork' in step ? step.vfork : null;
    if (c === null) return '';
    const v = this.call(r, 'fork' in step ? 'fork' : 'vfork', []);
    if (v.error !== null) return `-${v.error}`;
    const proc = this.k.processes.get(v.value);
    if (proc === undefined) throw new StepError(`the kernel returned pid ${v.value} but has no such process`);
    const name = c.as ?? `${r.name}-child${++this.childCount}`;
    this.runners.push(new Runner(name, proc, proc.threads[0]!, childSteps(c), new Map(r.regions), true));
    return `pid ${v.value} (${name})`;
  }

  private wait(r: Runner, w: Extract<Step, { wait: unknown }>['wait']): string | null {
    const target = w.for === undefined ? -1 : (this.runners.find((x) => x.name === w.for)?.proc.pid ?? Number(w.for));
    const enc = this.encoding('wait options');
    const options = w.options.reduce((o, x) => o + (enc.wait[x] ?? 0), 0);
    const v = this.call(r, 'wait4', [target, 0, options, 0]);
    // Asleep in the call (blocked), or woken with the call to be restarted (the value it slept with):
    // run the step again.
    if (v.blocked === true || r.thread.pending !== null) return null;
    if (v.error !== null) return v.error.startsWith('ERESTART') ? null : `-${v.error}`;
    if (v.value === 0) return '0 (no child has changed state)';
    if (v.value < 0) return null;
    const who = this.runners.find((x) => x.proc.pid === v.value)?.name;
    return `pid ${v.value}${who !== undefined ? ` (${who})` : ''}`;
  }
}

function bump(m: Map<string, { count: number; cycles: number }>, key: string, cycles: number): void {
  const a = m.get(key) ?? { count: 0, cycles: 0 };
  a.count++;
  a.cycles += cycles;
  m.set(key, a);
}

export function stepKind(step: Step): string {
  return Object.keys(step)[0] ?? '?';
}

/** One line for a step, as the CLI prints it (mmap name=data length=0x1000 ...). */
export function describeStep(step: Step): string {
  const [op, args] = Object.entries(step)[0] as [string, unknown];
  if (typeof args !== 'object' || args === null) return `${op} ${String(args)}`;
  const show = (key: string, v: unknown): string => (key === 'prot' && typeof v === 'number' ? formatProt(v)
    : key === 'steps' && Array.isArray(v) ? `[${v.length} steps]`
    : typeof v === 'number' && v >= 4096 ? `0x${v.toString(16)}`
      : Array.isArray(v) ? `[${v.join(',')}]`
        : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));
  return `${op} ${Object.entries(args).map(([key, v]) => `${key}=${show(key, v)}`).join(' ')}`.trimEnd();
}
