/**
 * `polykernel run`: replay a YAML workload on a personality and report each step's result (the
 * address, 0, or -ERRNO as the kernel returns it, or what a process call produced), the final
 * /proc/<pid>/maps and status memory lines of every live process, and the kernel's metrics.
 *
 * The run itself — booting the machine, the round-robin schedule, native and portable steps — is
 * @polykernel/runner's `execute` (shared with compare and the bench app's workload sweeps). This
 * file reads the workload (streaming a large one), checks the options, and prints: the steps, then
 * the metrics and each process's views — Linux's maps, status and oom_score, or any other
 * personality's native views through the Personality contract.
 */
import type { Kernel, Process } from '@polykernel/kernel';
import { procMaps, procStatusMemory, type LinuxPersonality, type LinuxSpace } from '@polykernel/linux';
import { nativeSteps, parseWorkload, pathString, positionOf, WorkloadError, type Workload } from '@polykernel/workload';
import { openWorkloadStream, type StreamedWorkload } from '@polykernel/workload/node';
import { processViews, registerLinuxStep, type Execution, type RunOptions, type StepResult } from '@polykernel/runner';
import { execute, type Machine } from '@polykernel/runner/node';
import { notRegistered, PERSONALITIES, resolvePersonality, type RegisteredPersonality } from './personalities.js';
import { checkText, hostCheck } from './import.js';
import { readRegular, regularSize, sysrootProblem } from './read.js';
import { runRefsStep } from './refs-step.js';

// The `refs:` step replays a lackey trace, whose reader (xz, gzip, streams) is the CLI's.
registerLinuxStep('refs', ({ k, thread, regions, step, dir }) => ('refs' in step ? runRefsStep(k, thread, regions, step.refs, dir) : Promise.resolve('error: not a refs step')));

// The runner's API, as this module always exported it (compare, refs-run and the tests import it from here).
export {
  describeStep, MAX_TOUCH_ACCESSES, processViews, Session, touchAddresses, touchCount,
  type Execution, type RenderedView, type RunOptions, type StepProgress, type StepResult,
} from '@polykernel/runner';
export { execute, type Machine } from '@polykernel/runner/node';

/** Workloads larger than this get a loading notice on a terminal. */
const LOADING_NOTICE_BYTES = 8 * 1024 ** 2;
/** The largest workload file read (a million one-line steps is about 85 MB). */
const MAX_WORKLOAD_BYTES = 512 * 1024 ** 2;

/** A workload read and checked: its text (for positions) and the parsed workload, or a streamed workload (text ''), or the exit status. */
export interface LoadedWorkload { text: string; w: Workload; streamed?: StreamedWorkload }

/** Workloads from this size up are streamed when the command can take them so (run): their steps are read as they run. */
export const STREAM_BYTES = 1024 ** 2;

export async function loadWorkload(
  file: string, command: string, err: (s: string) => void, options: { stream?: boolean; streamFrom?: number; progress?: boolean } = {},
): Promise<LoadedWorkload | number> {
  // A regular file only (a device or FIFO would never end), of a size a workload can have.
  const size = await regularSize(file, MAX_WORKLOAD_BYTES);
  if (typeof size === 'string') {
    err(`polykernel ${command}: ${file}: ${size}`);
    return 1;
  }
  // A large workload takes seconds to load: say so on a terminal or with --progress (never on a pipe or file otherwise).
  const loading = new Progress(0, progressWriter(options.progress === true), command);
  try {
    if (options.stream === true && size >= (options.streamFrom ?? STREAM_BYTES)) {
      const streamed = openWorkloadStream(file, { progress: (done, total) => { loading.note(`loading the workload: ${Math.floor((100 * done) / total)}% of ${(total / 1024 ** 2).toFixed(0)} MB`); } });
      if (streamed !== null) return { text: '', w: streamed.workload, streamed };
    }
    const bytes = await readRegular(file, MAX_WORKLOAD_BYTES);
    if (typeof bytes === 'string') {
      err(`polykernel ${command}: ${file}: ${bytes}`);
      return 1;
    }
    const text = new TextDecoder().decode(bytes);
    if (bytes.length > LOADING_NOTICE_BYTES) loading.note(`loading ${(bytes.length / 1024 ** 2).toFixed(0)} MB of workload`);
    return { text, w: parseWorkload(text, file) };
  } catch (e) {
    if (e instanceof WorkloadError) {
      err(e.message);
      return 1;
    }
    throw e;
  } finally {
    loading.end();
  }
}

/** Where progress goes: stderr on a terminal (rewritten in place), or as lines with --progress; nowhere otherwise. */
export function progressWriter(forced: boolean): ((s: string) => void) | { line: (s: string) => void } | null {
  const write = (s: string): void => void process.stderr.write(s);
  return process.stderr.isTTY ? write : forced ? { line: write } : null;
}

/** foreignSteps for a streamed workload: the natives its scan found (the first few named, the rest counted). */
function foreignStreamed(s: StreamedWorkload, file: string, family: string, variant: string): string | null {
  const foreign = s.natives.filter((n) => n.personality !== family);
  if (foreign.length === 0) return null;
  const lines = foreign.map((n) => {
    const { line, column } = s.positionOf(n.path);
    return `${file}:${line}:${column}: ${pathString(n.path)}: ${n.kind} is a native step of ${n.personality} (${n.why}); it cannot run on ${variant}: write it as a portable step (alloc, free, protect, spawn, mapFile ...) or run it on ${n.personality}`;
  });
  const more = s.nativeCount - s.natives.length;
  return lines.join('\n') + (more > 0 ? `\n(and ${more.toLocaleString('en-US')} more native steps not listed)` : '');
}

/**
 * Native steps that belong to another personality than the one chosen: one message naming each
 * (file:line:column, the step, whose it is), or null when the workload can run there.
 */
export function foreignSteps(w: Workload, text: string, file: string, family: string, variant: string): string | null {
  const foreign = nativeSteps(w).filter((n) => n.personality !== family);
  if (foreign.length === 0) return null;
  return foreign.map((n) => {
    const { line, column } = positionOf(text, n.path);
    return `${file}:${line}:${column}: ${pathString(n.path)}: ${n.kind} is a native step of ${n.personality} (${n.why}); it cannot run on ${variant}: write it as a portable step (alloc, free, protect, spawn, mapFile ...) or run it on ${n.personality}`;
  }).join('\n');
}

/** The machine options of run and compare, checked: the Machine, or the exit status after the message. */
export function machineOf(w: Workload, opts: RunOptions, file: string, command: string, err: (s: string) => void): Machine | number {
  // Option values are usage errors (2); the workload's own fields are the workload's (1).
  const memory = typeof opts.memory === 'string' ? checkSize('--memory', opts.memory, MEMORY_RANGE) : checkSize('the workload\'s memory field', w.memory ?? 1024 ** 3, MEMORY_RANGE);
  const swap = typeof opts.swap === 'string' ? checkSize('--swap', opts.swap, SWAP_RANGE) : checkSize('the workload\'s swap field', w.swap ?? 0, SWAP_RANGE);
  for (const [v, given] of [[memory, opts.memory], [swap, opts.swap]] as const) {
    if (typeof v === 'string') {
      err(`polykernel ${command}: ${typeof given === 'string' ? '' : `${file}: `}${v}`);
      return typeof given === 'string' ? 2 : 1;
    }
  }
  if (typeof opts.sysroot === 'string') {
    const bad = sysrootProblem(opts.sysroot);
    if (bad !== null) {
      err(`polykernel ${command}: ${bad}`);
      return 2;
    }
  }
  const m: Machine = {
    frames: Math.floor((memory as number) / 4096), swapSlots: Math.floor((swap as number) / 4096),
    contents: opts.contents === true || w.contents === true, sysroot: typeof opts.sysroot === 'string' ? opts.sysroot : '/',
  };
  if (typeof opts.seed === 'string') {
    const seed = Number(opts.seed);
    if (!Number.isSafeInteger(seed) || seed < 0) {
      err(`polykernel ${command}: --seed takes a whole number from 0 to 2^53; got "${opts.seed}"`);
      return 2;
    }
    m.seed = seed;
  }
  return m;
}

export async function runWorkload(
  file: string, opts: RunOptions, out: (s: string) => void = (s) => process.stdout.write(s + '\n'), err: (s: string) => void = (s) => process.stderr.write(s + '\n'),
  registry: readonly RegisteredPersonality[] = PERSONALITIES,
): Promise<number> {
  const loaded = await loadWorkload(file, 'run', err, { stream: true, progress: opts.progress === true, ...(typeof opts.streamFrom === 'string' ? { streamFrom: Number(opts.streamFrom) } : {}) });
  if (typeof loaded === 'number') return loaded;
  try {
    return await runLoaded(loaded, file, opts, out, err, registry);
  } finally {
    loaded.streamed?.close();
  }
}

async function runLoaded(
  loaded: LoadedWorkload, file: string, opts: RunOptions, out: (s: string) => void, err: (s: string) => void, registry: readonly RegisteredPersonality[],
): Promise<number> {
  const { text, w, streamed } = loaded;
  const name = (typeof opts.personality === 'string' ? opts.personality : undefined) ?? w.personality ?? 'linux';
  const resolved = resolvePersonality(name, registry);
  if (resolved === undefined) {
    err(`polykernel run: ${notRegistered(name, registry)}`);
    return typeof opts.personality === 'string' ? 2 : 1;
  }
  const foreign = streamed !== undefined ? foreignStreamed(streamed, file, resolved.entry.name, resolved.variant) : foreignSteps(w, text, file, resolved.entry.name, resolved.variant);
  if (foreign !== null) {
    err(foreign);
    return typeof opts.personality === 'string' ? 2 : 1;
  }
  const machine = machineOf(w, opts, file, 'run', err);
  if (typeof machine === 'number') return machine;
  // Options that do not apply are refused, not ignored.
  if (resolved.entry.name !== 'linux') {
    for (const linuxOnly of ['meminfo', 'mapsEachStep'] as const) {
      if (opts[linuxOnly] === true) {
        err(`polykernel run: --${linuxOnly === 'meminfo' ? 'meminfo' : 'maps-each-step'} shows Linux's views; it does not apply to ${resolved.variant}`);
        return 2;
      }
    }
  }
  if (opts.mapsEachStep === true && opts.json === true) {
    err('polykernel run: --maps-each-step prints text between the steps; it does not apply with --json (whose processes[].maps are the final maps)');
    return 2;
  }
  const progress = new Progress(streamed !== undefined ? streamed.steps.reduce((n, q) => n + q.length, 0) : w.processes.reduce((n, p) => n + p.steps.length, 0), progressWriter(opts.progress === true));
  // A streamed workload's results are printed as they come (the first STEP_WIDTH_SAMPLE set the columns), not kept.
  const printer = streamed !== undefined && opts.mapsEachStep !== true ? new StepPrinter(w.name, resolved.variant, opts.json === true, out) : null;
  const run = await execute(w, text, file, resolved, machine, opts, out, progress, streamed !== undefined ? { workload: streamed, emit: printer !== null ? (r) => { printer.add(r); } : null } : undefined);
  const print = printer !== null ? (s: string): void => { printer.finish(s); } : out;
  if (run.lp === null) return printGeneric(w, resolved.variant, run, opts, print);
  return printLinux(w, resolved.variant, run, run.lp, opts, print);
}

/** Results from the first this many steps set the text columns of a streamed run (a shorter run prints as an unstreamed one). */
const STEP_WIDTH_SAMPLE = 4096;

/**
 * A streamed run's step results, printed as they come: text lines once the first
 * STEP_WIDTH_SAMPLE have fixed the columns, or the --json document's "steps" array element by
 * element. `finish` takes what the printer would have printed whole and prints the rest of it.
 */
class StepPrinter {
  private sample: StepResult[] | null = [];
  private widths: [number, number] = [4, 4];
  private held: string | null = null;
  private started = false;
  constructor(private readonly name: string, private readonly variant: string, private readonly json: boolean, private readonly out: (s: string) => void) {}

  add(r: StepResult): void {
    this.start();
    if (this.json) {
      if (this.held !== null) this.out(`${this.held},`);
      this.held = JSON.stringify(r, null, 2).split('\n').map((l) => `    ${l}`).join('\n');
      return;
    }
    if (this.sample !== null) {
      this.sample.push(r);
      if (this.sample.length >= STEP_WIDTH_SAMPLE) this.flushSample();
      return;
    }
    this.out(stepLine(r, this.widths));
  }

  /** The head the whole printout starts with: the JSON object up to "steps": [, or the title line. */
  private start(): void {
    if (this.started) return;
    this.started = true;
    this.out(this.json ? `{\n  "workload": ${JSON.stringify(this.name)},\n  "personality": ${JSON.stringify(this.variant)},\n  "steps": [` : `workload ${this.name} on ${this.variant}`);
  }

  private flushSample(): void {
    const sample = this.sample ?? [];
    this.widths = stepWidths(sample);
    this.sample = null;
    for (const r of sample) this.out(stepLine(r, this.widths));
  }

  /** One chunk of the final printout (made with no steps): print what the streamed part has not. */
  finish(s: string): void {
    if (this.json) {
      this.start();
      if (this.held !== null) this.out(this.held);
      this.held = null;
      const marker = '\n  "steps": [],\n';
      const at = s.indexOf(marker);
      this.out(`  ],\n${at < 0 ? s : s.slice(at + marker.length)}`);
      return;
    }
    if (!this.started) {
      this.started = true;
      this.out(s);
      return;
    }
    if (this.sample !== null) this.flushSample();
    if (s !== `workload ${this.name} on ${this.variant}`) this.out(s);
  }
}

function printLinux(w: Workload, variant: string, run: Execution, lp: LinuxPersonality, opts: RunOptions, out: (s: string) => void): number {
  const { k, session, stalled, trace } = run;
  const lk = k as Kernel<LinuxSpace>;
  const views = session.runners.filter((r) => !r.child || r.proc.state === 'running').map((r) => {
    const proc = r.proc as Process<LinuxSpace>;
    return {
      process: r.name, pid: proc.pid,
      maps: proc.state === 'running' ? procMaps(proc.space.mm) : '', status: proc.state === 'running' ? procStatusMemory(proc.space) : '',
      killedBy: proc.killedBy, state: proc.state,
      // /proc/<pid>/oom_score and oom_score_adj
      oomScore: proc.state === 'running' ? lp.oomScore(lk, proc).score : 0, oomScoreAdj: lp.task(proc.threads[0]!).oomScoreAdj,
    };
  });
  const metrics = metricsOf(k);
  const dmesg = [...lp.dmesg(lk)];
  const meminfo = lp.meminfo(lk);
  if (opts.json === true) {
    const mem = Object.fromEntries(meminfo.trimEnd().split('\n').map((l) => [l.slice(0, l.indexOf(':')), Number(/(\d+) kB$/.exec(l)?.[1] ?? 0)]));
    out(JSON.stringify({ workload: w.name, personality: variant, steps: session.results, processes: views, metrics, meminfo: mem, trace: trace?.json() ?? null, dmesg, stalled, host: hostCheck(w, session.results, stalled) }, null, 2));
    return 0;
  }
  out(`workload ${w.name} on ${variant}`);
  printSteps(session.results, out);
  if (stalled !== null) out(`\n${stalled}`);
  for (const v of views) {
    if (v.state !== 'running') {
      out(`\n${v.process}[${v.pid}]: ${v.killedBy !== null ? `killed by ${v.killedBy}` : 'exited'}`);
      continue;
    }
    out(`\n/proc/${v.pid}/maps (${v.process})`);
    out((v.maps === '' ? '(no areas: an empty address space)' : v.maps.trimEnd()) + '\n\n' + v.status.trimEnd());
    out(`oom_score ${v.oomScore}, oom_score_adj ${v.oomScoreAdj}`);
  }
  if (dmesg.length > 0) out(`\ndmesg:\n${dmesg.map((l) => `  ${l}`).join('\n')}`);
  if (opts.meminfo === true) out(`\n/proc/meminfo (the lines modelled)\n${meminfo.trimEnd()}`);
  out('\n' + metricsTable(metrics));
  if (trace !== null) out('\n' + trace.text());
  printHostCheck(w, variant, session.results, stalled, out);
  return 0;
}

/** The metrics a run reports (text and --json). */
interface RunMetrics {
  syscalls: number;
  traps: Record<string, number>;
  faults: Record<string, number>;
  tlbHits: number;
  tlbMisses: number;
  tlbShootdowns: number;
  pagesZeroed: number;
  pagesCopied: number;
  cycles: number;
  seconds: number;
}

function metricsOf(k: Kernel<unknown>): RunMetrics {
  const m = k.metrics;
  return {
    syscalls: m.syscalls, traps: { ...m.traps }, faults: { ...m.faults }, tlbHits: m.tlbHits, tlbMisses: m.tlbMisses, tlbShootdowns: m.tlbShootdowns,
    pagesZeroed: m.pagesZeroed, pagesCopied: m.pagesCopied, cycles: m.cycles, seconds: m.cycles / k.mmu.profile.hz,
  };
}

/**
 * A run on a personality other than Linux: the steps' results (through its portable driver, or
 * n/a with the reason), then the metrics and each process's native views.
 */
function printGeneric(w: Workload, variant: string, run: Execution, opts: RunOptions, out: (s: string) => void): number {
  const { k, session, stalled, trace } = run;
  const processes = processViews(run);
  const metrics = metricsOf(k);
  if (opts.json === true) {
    out(JSON.stringify({ workload: w.name, personality: variant, steps: session.results, processes, metrics, trace: trace?.json() ?? null, stalled, host: hostCheck(w, session.results, stalled) }, null, 2));
    return 0;
  }
  out(`workload ${w.name} on ${variant}`);
  printSteps(session.results, out);
  if (stalled !== null) out(`\n${stalled}`);
  for (const p of processes) {
    if (p.state !== 'running') {
      out(`\n${p.process}[${p.pid}]: ${p.killedBy !== null ? `killed by ${p.killedBy}` : 'exited'}`);
      continue;
    }
    if (p.views.length === 0) out(`\n${p.process}[${p.pid}]: ${variant} has no views`);
    for (const v of p.views) out(`\n${v.title} (${p.process})\n${v.error !== null ? `(the ${v.name} view failed: ${v.error})` : v.text === '' ? '(empty)' : (v.text ?? '').trimEnd()}`);
  }
  out('\n' + metricsTable(metrics));
  if (trace !== null) out('\n' + trace.text());
  printHostCheck(w, variant, session.results, stalled, out);
  return 0;
}

/** A workload that carries the host's results (an imported strace log): the steps whose outcome differs, after the rest. */
function printHostCheck(w: Workload, variant: string, results: readonly StepResult[], stalled: string | null, out: (s: string) => void): void {
  const check = hostCheck(w, results, stalled);
  if (check === null) return;
  out('');
  checkText(check, out, variant);
}

function printSteps(res: readonly StepResult[], out: (s: string) => void): void {
  const widths = stepWidths(res);
  for (const r of res) out(stepLine(r, widths));
}

function stepWidths(res: readonly StepResult[]): [number, number] {
  let who = 4;
  let width = 4;
  for (const r of res) {
    who = Math.max(who, `${r.process}[${r.pid}]`.length);
    width = Math.max(width, r.step.length);
  }
  return [who, Math.min(width, 90)];
}

function stepLine(r: StepResult, [who, width]: [number, number]): string {
  return `  ${`${r.process}[${r.pid}]`.padEnd(who)}  ${r.step.padEnd(width)}  -> ${r.result}`;
}

/**
 * Progress on stderr: on a terminal one line rewritten in place, at most every half second; with
 * --progress on a pipe or file one line per report, at most every five seconds; otherwise nothing.
 * Never on stdout (so never inside --json).
 */
export class Progress {
  private last = Date.now();
  private shown = false;
  private readonly sink: ((s: string) => void) | null;
  private readonly tty: boolean;
  constructor(private readonly total: number, write: ((s: string) => void) | null | { line: (s: string) => void }, private readonly command = 'run') {
    this.tty = typeof write === 'function';
    this.sink = write === null ? null : typeof write === 'function' ? write : write.line;
  }

  tick(done: number): void {
    if (this.sink === null || done % 1024 !== 0) return;
    const now = Date.now();
    if (now - this.last < (this.tty ? 500 : 5000)) return;
    this.last = now;
    this.show(`${done.toLocaleString('en-US')} steps done${this.total > 0 ? ` (${this.total.toLocaleString('en-US')} in the workload's processes)` : ''}`);
  }

  /** A one-off line (a long load), replaced by the next tick or cleared by end. */
  note(s: string): void {
    this.show(s);
  }

  private show(s: string): void {
    if (this.sink === null) return;
    this.shown = true;
    this.sink(this.tty ? `\rpolykernel ${this.command}: ${s}\x1b[K` : `polykernel ${this.command}: ${s}\n`);
  }

  end(): void {
    if (this.shown && this.tty && this.sink !== null) this.sink('\r\x1b[K');
  }
}

function metricsTable(m: RunMetrics): string {
  const rows: [string, string][] = [
    ['system calls', m.syscalls.toLocaleString('en-US')],
    ['traps', Object.entries(m.traps).filter(([, n]) => n > 0).map(([kind, n]) => `${kind} ${n.toLocaleString('en-US')}`).join(', ') || 'none'],
    ['page faults', Object.entries(m.faults).filter(([, n]) => n > 0).map(([kind, n]) => `${kind} ${n.toLocaleString('en-US')}`).join(', ') || 'none'],
    ['TLB', `${m.tlbHits.toLocaleString('en-US')} hits, ${m.tlbMisses.toLocaleString('en-US')} misses, ${m.tlbShootdowns.toLocaleString('en-US')} shootdowns`],
    ['pages', `${m.pagesZeroed.toLocaleString('en-US')} zeroed, ${m.pagesCopied.toLocaleString('en-US')} copied`],
    ['simulated time', `${m.cycles.toLocaleString('en-US')} cycles = ${(m.seconds * 1e3).toFixed(3)} ms`],
  ];
  const w = Math.max(...rows.map(([key]) => key.length));
  return ['metrics', ...rows.map(([key, v]) => `  ${key.padEnd(w)}  ${v}`)].join('\n');
}

/** The physical memory a run accepts: enough frames to boot (the zero page, page tables, a few pages), and what the host can hold: 16G with every page resident measured 3.9 s and 500 MB of host memory. */
export const MEMORY_RANGE = { min: 64 * 1024, max: 16 * 1024 ** 3 } as const;
/** The swap device a run accepts. */
export const SWAP_RANGE = { min: 0, max: 16 * 1024 ** 3 } as const;

const UNIT: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** A size option or field, checked against its range: the byte count, or the one-line reason it is refused. */
export function checkSize(what: string, v: string | number, range: { min: number; max: number }): number | string {
  const stated = `${what} takes ${range.min === 0 ? '0' : fmtSize(range.min)} to ${fmtSize(range.max)}`;
  let n: number;
  if (typeof v === 'number') n = v;
  else {
    const m = /^(\d+)([KMGT]?)(?:i?B)?$/i.exec(v.trim());
    if (m === null) return `${stated}, as a size such as 512M or 4G; got "${v}"`;
    n = Number(m[1]) * UNIT[m[2]!.toUpperCase()]!;
  }
  if (!Number.isSafeInteger(n) || n < range.min || n > range.max) {
    return `${stated}; got ${typeof v === 'string' ? `"${v}"` : String(v)}${n > 0 && n < range.min && what.includes('memory') ? ' (too small to boot)' : ''}`;
  }
  return n;
}

function fmtSize(n: number): string {
  for (const [u, f] of [['T', 1024 ** 4], ['G', 1024 ** 3], ['M', 1024 ** 2], ['K', 1024]] as const) if (n % f === 0) return `${n / f}${u}`;
  return String(n);
}
