/**
 * Running a workload on a personality: boot a fresh machine, create the workload's processes, run
 * their steps and keep each step's result (the address, 0, or -ERRNO as the kernel returns it, or
 * what a process call produced). The CLI's `run` and `compare` print what this returns; the bench
 * app's workload sweeps take its metrics.
 *
 * Scheduling: every process (the workload's, and each child a fork, vfork or clone step creates
 * with its own steps) runs one step per round, round-robin in creation order, so the output is
 * deterministic. A thread the kernel put to sleep (a vfork parent, a wait for a child that has not
 * exited, a stopped process) is skipped until the kernel wakes it; a wait is then restarted, as
 * the kernel restarts the call. A child that reaches the end of its steps exits with status 0, as
 * returning from main would; the workload's own processes stay alive so their maps can be shown.
 * `Session.next()` runs this schedule to the next finished step (the web visualizer steps it so);
 * the whole-workload run (`runSession`, and `execute` in ./node) is a loop over it: one code path.
 * This file imports nothing from node: — the host's files come through a `RunHost`.
 *
 * Portable steps (alloc, free, protect, spawn, mapFile, and touch/store/load, fork, exec, exit,
 * wait, open/read/write/close) run on any registered personality through its portable driver
 * (`Personality.portable`), which makes that kernel's native calls; a personality without one
 * reports each step as n/a with the reason. Native steps (mmap, brk, clone, kill ...) are Linux's:
 * a workload that has them runs on Linux only, and on Linux the steps it always had keep their
 * Linux code here, where the new portable ones go through Linux's driver. Windows API steps
 * (VirtualAlloc ...) are Windows' own.
 */
import { formatProt, Rng } from '@polykernel/core';
import {
  describeResult, Kernel, startProcess, type FileLookup, type Personality, type RecordValue, type PortableChild, type PortableDriver, type PortableResult, type Process, type Thread, type ViewRow,
} from '@polykernel/kernel';
import {
  CLONE, describeWaitStatus, FAULT_HANDLER, linuxFlags as F, linuxPersonality, RESTART_SYSCALL, SIGNALS,
  type LinuxPersonality, type LinuxSpace,
} from '@polykernel/linux';
import { ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE, type Access } from '@polykernel/mmu';
import { childSteps, EXE_REGION, HEAP_REGION, INTERP_REGION, stepKind, pathString, positionFinder, type Step, type Workload } from '@polykernel/workload';
import { runWindowsStep, WINDOWS_STEP_KINDS, WindowsStepError, type WindowsMachine, type WindowsSpace, type WindowsStepKind, type WindowsStepNames } from '@polykernel/windows';
import { linuxVariant, type ResolvedPersonality } from './registry.js';
import { Trace } from './trace.js';

/** A run's options as the CLI gives them (trace, profile, mapsEachStep, json are the ones a run reads). */
export type RunOptions = Record<string, boolean | string | undefined>;

/** Where a run reports how many steps are done (the CLI's progress line), and that it ended. */
export interface StepProgress {
  tick(done: number): void;
  end(): void;
}

export interface StepResult {
  process: string; pid: number; step: string; result: string;
  /** A native API step's return value, GetLastError name and record (Windows' VirtualQuery MEMORY_BASIC_INFORMATION ...). */
  value?: number; lastError?: string | null; record?: Readonly<Record<string, RecordValue>> | null;
}

/** What a step reports: its line, and for a Windows API step the call's value, error and record. */
interface StepOutcome { result: string; native?: { value: number; lastError: string | null; record: Readonly<Record<string, RecordValue>> | null } }

type Driver = PortableDriver<unknown>;

/** Steps that go through the portable driver on Linux too (the others keep their Linux code below). */
const DRIVEN_ON_LINUX = new Set(['alloc', 'free', 'protect', 'spawn', 'mapFile']);
/** Steps named after the Windows API: windows' native steps. */
const WINDOWS_KINDS: ReadonlySet<string> = new Set(WINDOWS_STEP_KINDS);

const MADVICE: Record<string, number> = { dontneed: 4, willneed: 3, free: 8 };
const WAIT_OPTIONS: Record<string, number> = { nohang: 1, untraced: 2, clone: 0x80000000, all: 0x40000000 };
const OPEN_FLAGS: Record<string, number> = { read: 0, write: 1, rdwr: 2, create: 0x40, trunc: 0x200, directory: 0x10000 };
/** A loop guard: a workload that keeps rescheduling without progress is reported, not spun forever. */
const MAX_ROUNDS = 1_000_000;
/** What a failed mmap leaves in the program's pointer: MAP_FAILED, (void *)-1. */
const MAP_FAILED = -1;

/**
 * The access mode of an open step, as its flags OR together in C (O_RDONLY 0, O_WRONLY 1, O_RDWR 2:
 * the same mode the Linux openat gets): `[write]` and `[read, write]` are O_WRONLY, so a read of the
 * descriptor fails on every kernel. Simplified: O_ACCMODE (`[write, rdwr]`) reaches the drivers as
 * O_RDWR, though Linux opens it for neither direction and FreeBSD's kern_openat refuses it (EINVAL).
 */
function openMode(flags: readonly string[]): { write: boolean; read?: boolean } {
  const mode = flags.reduce((f, x) => f | (x === 'read' || x === 'write' || x === 'rdwr' ? OPEN_FLAGS[x]! : 0), 0);
  return mode === 0 ? { write: false } : mode === 1 ? { write: true, read: false } : { write: true };
}

function mmapFlags(flags: readonly string[]): number {
  let f = 0;
  for (const x of flags) {
    f |= x === 'private' ? F.MAP_PRIVATE : x === 'shared' ? F.MAP_SHARED : x === 'anonymous' ? F.MAP_ANONYMOUS : x === 'fixed' ? F.MAP_FIXED
      : x === 'fixed-noreplace' ? F.MAP_FIXED_NOREPLACE : x === 'populate' ? F.MAP_POPULATE : x === 'noreserve' ? F.MAP_NORESERVE : F.MAP_GROWSDOWN;
  }
  return f;
}

/** The most accesses one touch step makes (a run is a simulation, not a stress test of the host). */
export const MAX_TOUCH_ACCESSES = 100_000_000;

/** How many accesses a touch step makes. */
export function touchCount(length: number, pattern: string, stride: number, count: number | undefined): number {
  if (count !== undefined) return count;
  if (pattern === 'random') return Math.max(1, Math.ceil(length / 4096));
  return Math.ceil(length / (pattern === 'stride' ? Math.max(stride, 1) : 4096));
}

/** The page addresses a touch step visits, in order, one at a time (never an array of them all). */
export function* touchAddresses(base: number, length: number, pattern: string, stride: number, count: number | undefined, seed: number | string): Generator<number> {
  const pages = Math.max(1, Math.ceil(length / 4096));
  const n = touchCount(length, pattern, stride, count);
  if (pattern === 'random') {
    const rng = new Rng(seed);
    for (let i = 0; i < n; i++) yield base + rng.below(pages) * 4096;
  } else {
    const step = pattern === 'stride' ? Math.max(stride, 1) : 4096;
    const span = pages * 4096;
    for (let i = 0; i < n; i++) yield base + ((i * step) % span);
  }
}

/** A step that cannot be carried out as written (a name no earlier step defined, a store without contents): reported at the step, and the run goes on. */
class StepError extends Error {}

function signalNumber(s: string | number): number {
  if (typeof s === 'number') return s;
  const n = SIGNALS[s.startsWith('SIG') ? s : `SIG${s}`];
  if (n === undefined) throw new StepError(`unknown signal ${s} (known: ${Object.keys(SIGNALS).join(', ')})`);
  return n;
}

/** One process of the workload: its steps, where it is in them, and the names it has given things. */
class Runner {
  pc = 0;
  /** What the parent names this process by in wait: its PID, or the HANDLE a Windows driver gave. */
  ref: number;
  /** The step that went to sleep in its call (it runs again and resumes the call), or -1. */
  sleptAt = -1;
  constructor(
    readonly name: string,
    /** Its process and thread: an exec that continues in another process (Cygwin's) moves them. */
    public proc: Process,
    public thread: Thread,
    readonly steps: StepList,
    readonly regions: Map<string, { addr: number; length: number }>,
    readonly fds: Map<string, number>,
    /** A child made by fork/vfork/clone exits when its steps run out. */
    readonly child: boolean,
    /** Where its steps are in the workload file (processes[0].steps, then a fork step's steps ...). */
    readonly path: readonly PropertyKey[] = [],
  ) {
    this.ref = proc.pid;
  }

  get done(): boolean {
    return this.proc.state !== 'running' || this.thread.state === 'dead' || this.pc >= this.steps.length;
  }
}

/** A process's steps: an array, or a streamed workload's sequence (read when reached). */
export interface StepList {
  readonly length: number;
  at(index: number): Step | undefined;
}

/**
 * Where a run's file names lead: how a step's relative path is made absolute, and the bytes of a
 * file an mmap step maps. The CLI's is the host's file system (`@polykernel/runner/node`); the
 * browser's is the session's own files (`memoryHost`).
 */
export interface RunHost {
  /** `path` made absolute against the workload's directory `dir`. */
  resolve(dir: string, path: string): string;
  /** The file's bytes, or why not (as strerror says it). */
  readFile(path: string): Promise<Uint8Array | string>;
}

/** `path` against `dir`, POSIX rules ('.' and '..' folded), without node:path. */
export function resolvePath(dir: string, path: string): string {
  const parts: string[] = [];
  for (const part of `${path.startsWith('/') ? '' : `${dir}/`}${path}`.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

/** A host whose files are a file system's (the browser's dropped files): what exec and open find, mmap finds too. */
export function memoryHost(fs: FileLookup): RunHost {
  return {
    resolve: resolvePath,
    readFile: (path) => {
      const f = fs(path);
      return Promise.resolve(typeof f === 'string' ? (f === 'ENOENT' ? 'No such file' : f) : f.bytes);
    },
  };
}

/** What a Linux step handler registered by an application is given: the process's thread and its region names. */
export interface LinuxStepContext {
  k: Kernel<LinuxSpace>;
  thread: Thread;
  regions: Map<string, { addr: number; length: number }>;
  step: Step;
  /** The workload file's directory (relative paths in the step). */
  dir: string;
}

/** A native Linux step whose code lives in an application (the CLI's `refs:` replay, which needs its trace reader): returns the step's printed result. */
export type LinuxStepHandler = (c: LinuxStepContext) => Promise<string>;

const LINUX_STEP_HOOKS = new Map<string, LinuxStepHandler>();

/**
 * Give the runner the code of a native Linux step kind it has none for. The CLI registers `refs`
 * (a lackey trace replayed in the process); a run without it reports the step as having no code.
 */
export function registerLinuxStep(kind: string, handler: LinuxStepHandler): void {
  LINUX_STEP_HOOKS.set(kind, handler);
}

export class Session {
  readonly runners: Runner[] = [];
  /** Every step's result, unless `emit` takes them one by one (a streamed workload: memory stays bounded). */
  readonly results: StepResult[] = [];
  emit: ((r: StepResult) => void) | null = null;
  /**
   * The simulated cycles of each step, in the order of `results`, when asked for (an array), else
   * null: the cycles from the start of the attempt that completed the step to its end (a step that
   * slept and ran again counts its last attempt; another process's steps in between do not count).
   */
  stepCycles: number[] | null = null;
  /** Steps done so far. */
  done = 0;
  /** Where a field of the workload is (file order); by default the text's own parse, done once. */
  locate: ((path: readonly PropertyKey[]) => { line: number; column: number }) | null = null;
  private childCount = 0;
  constructor(
    readonly k: Kernel<unknown>,
    /** The Linux personality, when the run is on Linux: its native steps and views. */
    readonly lp: LinuxPersonality | null,
    readonly driver: Driver | null,
    readonly variant: string,
    readonly dir: string,
    readonly file = '',
    readonly text = '',
    readonly host: RunHost = memoryHost(() => 'ENOENT'),
  ) {}

  /** The probe aggregations of --trace, when asked for (subscribed before the first process starts). */
  trace: Trace | null = null;
  /** The most accesses one touch step makes (a browser page keeps it lower, to stay responsive). */
  maxTouchAccesses = MAX_TOUCH_ACCESSES;
  /** Called just before each step runs (the visualizer counts the step's faults from here). */
  beforeStep: (() => void) | null = null;
  /** The process whose step next() returned last. */
  lastProcess: Process | null = null;
  /** How the run ended: null while steps remain (see next()). */
  ending: Ending | null = null;
  private round: Runner[] = [];
  private cursor = 0;
  private rounds = 0;
  private limit = 0;
  private started = false;
  private pendingInRound = false;
  private progressedInRound = false;

  /**
   * Run until one more step has finished and return its result (also recorded in `results`, or
   * handed to `emit`); null once the workload has ended (`ending` says how). The schedule is the
   * whole-workload run's, one step at a time: every process runs one step per round, round-robin
   * in creation order (the round is the processes that existed when it began); a sleeping thread is
   * skipped until the kernel wakes it; a child whose steps ran out exits with status 0.
   */
  async next(): Promise<StepResult | null> {
    if (!this.started) this.start();
    while (this.ending === null) {
      if (this.cursor >= this.round.length) {
        this.endRound();
        continue;
      }
      const line = await this.visit(this.round[this.cursor++]!);
      if (line !== null) return line;
    }
    return null;
  }

  private start(): void {
    this.started = true;
    // Each round that makes progress runs a step or resumes a call: a workload of N steps needs about N rounds.
    this.limit = MAX_ROUNDS + 4 * this.runners.reduce((n, r) => n + r.steps.length, 0);
    this.round = [...this.runners];
  }

  /** A round is over: the run ends (every step done, a stall, the round limit) or the next round begins. */
  private endRound(): void {
    if (!this.pendingInRound) this.ending = { stalled: null };
    else if (!this.progressedInRound) {
      // Sleeping threads (blocked) and stopped ones (suspended: SIGSTOP, SuspendThread) are what holds the run.
      const held = this.runners.filter((r) => r.proc.state === 'running' && (r.thread.state === 'blocked' || r.thread.state === 'suspended'))
        .map((r) => `${r.name}[${r.proc.pid}] (${r.thread.state}) at ${r.pc < r.steps.length ? `step ${r.pc + 1}` : 'the end of its steps'}`);
      this.ending = { stalled: `stalled: no process can run — ${held.join(', ')} (a wait for a child that never exits, or a stopped process nobody continues)` };
    } else if (++this.rounds >= this.limit) this.ending = { stalled: `stopped after ${this.limit} rounds` };
    else {
      this.round = [...this.runners];
      this.cursor = 0;
      this.pendingInRound = false;
      this.progressedInRound = false;
    }
  }

  /** One process's turn in the round: a call that slept resumes, a finished child exits, then at most one step (its result). */
  private async visit(r: Runner): Promise<StepResult | null> {
    // A call that slept in an earlier, finished step (vfork) returns before the thread goes on;
    // a step that slept itself resumes its own call when it runs again.
    if (r.thread.pending !== null && r.thread.state === 'runnable' && r.sleptAt !== r.pc) {
      this.k.resume(r.thread);
      this.progressedInRound = true;
    }
    if (r.done) {
      // A child that ran out of steps returns from main: exit(0).
      if (r.child && r.proc.state === 'running' && r.thread.state !== 'dead' && r.pc >= r.steps.length) {
        // (A stopped child cannot return from main until someone continues it.)
        if (r.thread.state !== 'runnable') {
          this.pendingInRound = true;
          return null;
        }
        this.exitChild(r);
        this.progressedInRound = true;
      }
      return null;
    }
    this.pendingInRound = true;
    if (r.thread.state !== 'runnable') return null;
    const step = r.steps.at(r.pc)!;
    let outcome;
    this.beforeStep?.();
    const before = this.k.metrics.cycles;
    try {
      outcome = await this.step(r, step);
    } catch (e) {
      if (!(e instanceof StepError)) throw e;
      outcome = { result: `error: ${this.where(r)}${e.message}` };
    }
    this.progressedInRound = true;
    if (outcome === null) {
      r.sleptAt = r.pc; // slept: the same step runs again (and resumes its call) once the kernel wakes the thread
      return null;
    }
    r.sleptAt = -1;
    r.pc++;
    const line: StepResult = { process: r.name, pid: r.proc.pid, step: describeStep(step), result: outcome.result, ...(outcome.native ?? {}) };
    this.stepCycles?.push(this.k.metrics.cycles - before);
    this.lastProcess = r.proc;
    this.record(line);
    return line;
  }

  /** `file:line:column: processes[0].steps[3]: ` for a step of `r`, to report an error found while running it. */
  where(r: Runner): string {
    if (this.text === '' && this.locate === null) return '';
    const path = [...r.path, r.pc];
    // One parse for every error of a run (an error per step must not parse the workload per step).
    this.locate ??= positionFinder(this.text);
    const { line, column } = this.locate(path);
    return `${this.file}:${line}:${column}: ${pathString(path)}: `;
  }

  byName(name: string): Runner | undefined {
    return this.runners.find((r) => r.name === name);
  }

  spawnRunner(parent: Runner, pid: number, as: string | undefined, steps: Step[], thread?: Thread): Runner {
    const proc = this.k.processes.get(pid) ?? parent.proc;
    return this.addChild(parent, { process: proc, thread: thread ?? proc.threads[0]!, ref: pid }, as, steps);
  }

  /** A child process (or thread) some step made: it runs `steps`, with copies of its parent's names for regions and files. */
  addChild(parent: Runner, child: PortableChild, as: string | undefined, steps: Step[]): Runner {
    const name = as ?? `${parent.name}-child${++this.childCount}`;
    const kind = Object.keys(parent.steps.at(parent.pc) ?? {})[0] ?? 'fork';
    // A spawned program's memory is its own: the parent's region names mean nothing in it.
    const regions = kind === 'spawn' ? new Map<string, { addr: number; length: number }>() : new Map(parent.regions);
    const r = new Runner(name, child.process, child.thread, steps, regions, new Map(parent.fds), true, [...parent.path, parent.pc, kind, 'steps']);
    r.ref = child.ref;
    this.runners.push(r);
    return r;
  }

  /** A child whose steps ran out returns from main: exit(0), the kernel's native way. */
  exitChild(r: Runner): void {
    if (this.lp !== null) this.k.syscall(r.thread, r.proc.threads.length > 1 && r.thread !== r.proc.threads[0] ? 'exit' : 'exit_group', [0]);
    else this.driver?.exit(this.k, r.thread, 0);
  }

  /** A step's result: kept, or handed on. */
  record(line: StepResult): void {
    this.done++;
    if (this.emit !== null) this.emit(line);
    else this.results.push(line);
  }

  /** Run one step of `r`. Returns null when the step must be tried again later (the thread slept). */
  async step(r: Runner, step: Step): Promise<StepOutcome | null> {
    if (WINDOWS_KINDS.has(stepKind(step))) return this.windowsStep(r, step);
    if (this.lp !== null && !DRIVEN_ON_LINUX.has(stepKind(step))) return this.linuxStep(r, step, this.lp);
    return this.portableStep(r, step);
  }

  /** Process handles a Windows step named (`as` of CreateProcessW, or another runner opened by name), per process. */
  private readonly winHandles = new Map<string, number>();

  /** A Windows API step (VirtualAlloc ...): the kernel32 call itself (@polykernel/windows runWindowsStep). */
  private windowsStep(r: Runner, step: Step): StepOutcome {
    if (!this.k.personality.version.startsWith('windows')) throw new StepError(`${stepKind(step)} is a native step of windows; ${this.variant} cannot run it`);
    const k = this.k as unknown as Kernel<WindowsSpace, WindowsMachine>;
    const key = (name: string): string => `${String(r.proc.pid)}:${name}`;
    const names: WindowsStepNames = {
      regions: r.regions,
      processHandle: (name) => {
        const known = this.winHandles.get(key(name));
        if (known !== undefined) return known;
        const other = this.byName(name);
        if (other === undefined) return undefined;
        const h = k.syscall(r.thread, 'OpenProcess', [0x1f0fff, 0, other.proc.pid]).value;
        this.winHandles.set(key(name), h);
        return h;
      },
      saveProcess: (name, h) => this.winHandles.set(key(name), h),
    };
    const kind = stepKind(step) as WindowsStepKind;
    try {
      const o = runWindowsStep(k, r.thread, kind, (step as Record<string, Readonly<Record<string, unknown>>>)[kind]!, names);
      return { result: o.result, native: { value: o.value, lastError: o.lastError, record: o.record } };
    } catch (e) {
      if (e instanceof WindowsStepError) throw new StepError(e.message);
      throw e;
    }
  }

  /** A step on Linux, with the Linux calls a program makes for it. */
  private async linuxStep(r: Runner, step: Step, lp: LinuxPersonality): Promise<{ result: string } | null> {
    const k = this.k;
    const t = r.thread;
    const p = r.proc as Process<LinuxSpace>;
    const at = (name: string, offset: number): number => {
      const reg = r.regions.get(name);
      if (reg === undefined) throw new StepError(`region "${name}" was not mapped by an earlier step`);
      // A region whose mmap failed holds MAP_FAILED ((void *)-1), as the program's variable would:
      // the kernel sees that register value, plus the offset.
      return reg.addr + offset;
    };
    const res = (v: number): string => (v < 0 ? `-${t.lastError ?? v}` : `0x${v.toString(16)}`);
    const fdOf = (fd: string | number): number => {
      if (typeof fd === 'number') return fd;
      const n = r.fds.get(fd);
      if (n === undefined) throw new StepError(`file "${fd}" was not opened by an earlier step`);
      // An open that failed left -1 in the program's variable: the call gets EBADF.
      return n;
    };
    // A call the thread sleeps in (wait4, vfork) is finished first: the kernel resumes it.
    const sys = (name: string, args: (number | string | readonly string[])[]): number => {
      const sleeping = t.pending?.spec.name;
      if (sleeping !== undefined) {
        const v = k.resume(t).value;
        if (sleeping === name) return v;
      }
      return k.syscall(t, name, args).value;
    };
    if ('mmap' in step) {
      const m = step.mmap;
      let fd = m.fd === undefined ? -1 : fdOf(m.fd);
      let temporary = false;
      if (m.file !== undefined) {
        const path = this.host.resolve(this.dir, m.file);
        const bytes = await this.host.readFile(path);
        if (typeof bytes === 'string') throw new StepError(`file ${m.file}: ${bytes} (a mapped file must be a regular file; /dev/zero is anonymous memory)`);
        fd = p.installFile({ path, bytes, readable: true, writable: true });
        temporary = true;
      }
      const addr = m.addr === undefined ? 0 : typeof m.addr === 'number' ? m.addr : at(m.addr.region, m.addr.offset);
      const v = sys('mmap', [addr, m.length, m.prot, mmapFlags(m.flags), fd, m.offset ?? 0]);
      if (temporary) p.files[fd] = null;
      r.regions.set(m.name, { addr: v >= 0 ? v : MAP_FAILED, length: m.length });
      return { result: res(v) };
    }
    if ('munmap' in step) return { result: res(sys('munmap', [at(step.munmap.region, step.munmap.offset), step.munmap.length])) };
    if ('mprotect' in step) return { result: res(sys('mprotect', [at(step.mprotect.region, step.mprotect.offset), step.mprotect.length, step.mprotect.prot])) };
    if ('brk' in step) return { result: res(sys('brk', ['to' in step.brk ? step.brk.to : p.space.mm.brk + step.brk.delta])) };
    if ('mremap' in step) {
      const s = step.mremap;
      const reg = r.regions.get(s.region);
      if (reg === undefined) throw new StepError(`region "${s.region}" was not mapped by an earlier step`);
      const v = sys('mremap', [reg.addr, reg.length, s.newLength, s.mayMove ? F.MREMAP_MAYMOVE : 0]);
      if (v >= 0) r.regions.set(s.region, { addr: v, length: s.newLength });
      return { result: res(v) };
    }
    if ('madvise' in step) return { result: res(sys('madvise', [at(step.madvise.region, step.madvise.offset), step.madvise.length, MADVICE[step.madvise.advice]!])) };
    if ('touch' in step) return { result: this.touch(r, step.touch, at(step.touch.region, step.touch.offset)) };
    if ('store' in step || 'load' in step) return { result: this.memory(r, step) };
    if ('fork' in step || 'vfork' in step || 'clone' in step) return { result: this.spawn(r, step) };
    if ('exec' in step) {
      const e = step.exec;
      const v = sys('execve', [e.path, e.argv ?? [e.path], e.env ?? ['PATH=/usr/bin:/bin']]);
      if (p.state !== 'running') return { result: `${p.killedBy ?? 'killed'} (execve failed past the point of no return)` };
      if (v === 0) {
        // The new program's memory is a different world: names of the old regions mean nothing now.
        r.regions.clear();
        const img = p.space.image!;
        // The places execve and brk make, by the names an imported strace log uses for them: an
        // address in the executable or its interpreter is its ELF vaddr past the load bias.
        r.regions.set(EXE_REGION, { addr: img.loadBias, length: 0 });
        if (img.interpreter !== null) r.regions.set(INTERP_REGION, { addr: img.interpBase, length: 0 });
        r.regions.set(HEAP_REGION, { addr: p.space.mm.startBrk, length: 0 });
        return { result: `0x0 (${img.path}${img.interpreter !== null ? ` + ${img.interpreter}` : ''})` };
      }
      return { result: res(v) };
    }
    if ('exit' in step) {
      sys('exit_group', [typeof step.exit === 'number' ? step.exit : step.exit.code]);
      return { result: 'exited' };
    }
    if ('wait' in step) {
      const w = step.wait;
      const target = w.for === undefined ? -1 : (this.byName(w.for)?.proc.pid ?? Number(w.for));
      const options = w.options.reduce((o, x) => o | WAIT_OPTIONS[x]!, 0);
      const v = sys('wait4', [target, 0, options >>> 0, 0]);
      if (v === RESTART_SYSCALL) return null;
      if (v <= 0) return { result: v === 0 ? '0 (no child has changed state)' : res(v) };
      const status = lp.task(t).lastWait?.status ?? 0;
      const who = this.runners.find((x) => x.proc.pid === v)?.name;
      return { result: `pid ${v}${who !== undefined ? ` (${who})` : ''} status 0x${status.toString(16)} ${describeWaitStatus(status)}` };
    }
    if ('kill' in step) {
      const s = step.kill;
      const pid = s.process === 'self' ? p.pid : s.process === 'parent' ? p.ppid : (this.byName(s.process)?.proc.pid ?? Number(s.process));
      const v = sys('kill', [pid, signalNumber(s.signal)]);
      if (p.state !== 'running') return { result: `killed by ${p.killedBy ?? 'a signal'}` };
      return { result: res(v) };
    }
    if ('sigaction' in step) {
      const sa = step.sigaction;
      // A "handler" stands for a user function's address (the simulation runs no user code): the
      // address says what it does on a fault (FAULT_HANDLER: resume past the access, or mprotect and retry).
      const handler = sa.action === 'default' ? 0 : sa.action === 'ignore' ? 1 : FAULT_HANDLER[sa.onFault];
      return { result: res(sys('rt_sigaction', [signalNumber(sa.signal), handler, 0, 8])) };
    }
    if ('oomScoreAdj' in step) {
      lp.task(t).oomScoreAdj = step.oomScoreAdj;
      return { result: 'ok' };
    }
    if ('open' in step) {
      const o = step.open;
      const v = sys('openat', [-100, o.path, o.flags.reduce((f, x) => f | OPEN_FLAGS[x]!, 0), 0o666]);
      r.fds.set(o.as, v >= 0 ? v : -1);
      return { result: v >= 0 ? `fd ${v}` : res(v) };
    }
    if ('read' in step || 'write' in step) {
      const io = 'read' in step ? step.read : step.write;
      const v = sys('read' in step ? 'read' : 'write', [fdOf(io.fd), at(io.region, io.offset), io.length]);
      return { result: v >= 0 ? `${v} bytes` : res(v) };
    }
    if ('close' in step) return { result: res(sys('close', [fdOf(step.close.fd)])) };
    if ('syscall' in step) return { result: res(sys(step.syscall.name, step.syscall.args)) };
    const hook = LINUX_STEP_HOOKS.get(stepKind(step));
    if (hook !== undefined) return { result: await hook({ k: k as Kernel<LinuxSpace>, thread: t, regions: r.regions, step, dir: this.dir }) };
    throw new StepError(`${stepKind(step)} has no Linux code here (a portable step goes through the driver)`);
  }

  /**
   * A touch: accesses by the machine, the same on every kernel. An access that faults into a
   * handler which resumes past it (onFault: continue) leaves the process running: the touch goes
   * on, and the result counts those accesses.
   */
  private touch(r: Runner, s: Extract<Step, { touch: unknown }>['touch'], base: number): string {
    const access: Access = s.access === 'write' ? ACCESS_WRITE : s.access === 'exec' ? ACCESS_EXEC : ACCESS_READ;
    const p = r.proc;
    let skipped = 0;
    const n = touchCount(s.length, s.pattern, s.stride ?? 4096, s.count);
    if (n > this.maxTouchAccesses) throw new StepError(`a touch makes at most ${this.maxTouchAccesses.toLocaleString('en-US')} accesses; this one would make ${n.toLocaleString('en-US')} (give a count, or touch less)`);
    if (base < 0) return this.segvAtMapFailed(r);
    for (const va of touchAddresses(base, s.length, s.pattern, s.stride ?? 4096, s.count, s.seed ?? 1)) {
      if (this.k.access(r.thread, va, access) >= 0) continue;
      if (p.state !== 'running') return `${p.killedBy ?? 'signal'} at 0x${va.toString(16)}`;
      skipped++;
    }
    return skipped === 0 ? '0x0' : `0x0 (${skipped} ${skipped === 1 ? 'access' : 'accesses'} skipped by a signal handler)`;
  }

  /** A portable step: the personality's driver makes its kernel's native calls for it. */
  private portableStep(r: Runner, step: Step): { result: string } | null {
    const d = this.driver;
    if (d === null) return { result: `n/a: ${this.variant} has no portable driver (Personality.portable)` };
    const k = this.k;
    const t = r.thread;
    const region = (name: string): { addr: number; length: number } => {
      const reg = r.regions.get(name);
      if (reg === undefined) throw new StepError(`region "${name}" was not allocated by an earlier step`);
      return reg;
    };
    const handle = (fd: string | number): number => {
      if (typeof fd === 'number') return fd;
      const n = r.fds.get(fd);
      if (n === undefined) throw new StepError(`file "${fd}" was not opened by an earlier step`);
      return n;
    };
    const done = (res: PortableResult<unknown>, text = '0x0'): { result: string } => ({ result: describeResult(res, () => text) });
    if ('alloc' in step) {
      const a = step.alloc;
      const res = d.alloc(k, t, a.addr === undefined ? { size: a.size, prot: a.prot } : { size: a.size, prot: a.prot, addr: a.addr });
      r.regions.set(a.name, res.kind === 'ok' ? { ...res.value } : { addr: MAP_FAILED, length: a.size });
      return { result: describeResult(res, (v) => `0x${v.addr.toString(16)}`) };
    }
    if ('mapFile' in step) {
      const m = step.mapFile;
      const req = { path: this.host.resolve(this.dir, m.path), prot: m.prot, shared: m.shared, ...(m.length !== undefined ? { length: m.length } : {}), ...(m.offset !== undefined ? { offset: m.offset } : {}) };
      const res = d.mapFile(k, t, req);
      r.regions.set(m.name, res.kind === 'ok' ? { ...res.value } : { addr: MAP_FAILED, length: m.length ?? 0 });
      return { result: describeResult(res, (v) => `0x${v.addr.toString(16)}`) };
    }
    if ('free' in step) return done(d.free(k, t, region(step.free.region)));
    if ('protect' in step) return done(d.protect(k, t, region(step.protect.region), step.protect.prot));
    if ('touch' in step) {
      const reg = region(step.touch.region);
      return { result: this.touch(r, step.touch, reg.addr < 0 ? reg.addr : reg.addr + step.touch.offset) };
    }
    if ('store' in step || 'load' in step) return { result: this.memory(r, step) };
    if ('fork' in step || 'spawn' in step) return { result: this.portableChild(r, step, d) };
    if ('exec' in step) {
      const e = step.exec;
      const res = d.exec(k, t, { path: e.path, argv: e.argv ?? [e.path], ...(e.env !== undefined ? { env: e.env } : {}) });
      if (r.proc.state !== 'running') return { result: `${r.proc.killedBy ?? 'killed'} (the exec failed past the point of no return)` };
      if (res.kind === 'ok') {
        r.regions.clear();
        if (res.value.continuesIn !== undefined) ({ process: r.proc, thread: r.thread } = res.value.continuesIn);
      }
      return { result: describeResult(res, (v) => `0x0 (${v.path})`) };
    }
    if ('exit' in step) return done(d.exit(k, t, typeof step.exit === 'number' ? step.exit : step.exit.code), 'exited');
    if ('wait' in step) return this.portableWait(r, step.wait.for, d);
    if ('open' in step) {
      const o = step.open;
      const res = d.open(k, t, { path: o.path, ...openMode(o.flags), create: o.flags.includes('create'), truncate: o.flags.includes('trunc') });
      r.fds.set(o.as, res.kind === 'ok' ? res.value : -1);
      return { result: describeResult(res, (v) => `fd ${v}`) };
    }
    if ('read' in step || 'write' in step) {
      const io = 'read' in step ? step.read : step.write;
      const addr = region(io.region).addr + io.offset;
      const res = 'read' in step ? d.read(k, t, handle(io.fd), addr, io.length) : d.write(k, t, handle(io.fd), addr, io.length);
      return { result: describeResult(res, (v) => `${v} bytes`) };
    }
    if ('close' in step) return done(d.close(k, t, handle(step.close.fd)));
    throw new StepError(`${stepKind(step)} is a native step of linux; ${this.variant} runs portable steps only`);
  }

  private portableChild(r: Runner, step: Extract<Step, { fork: unknown }> | Extract<Step, { spawn: unknown }>, d: Driver): string {
    const res = 'fork' in step ? d.fork(this.k, r.thread) : d.spawn(this.k, r.thread, {
      path: step.spawn.path, argv: step.spawn.argv ?? [step.spawn.path], ...(step.spawn.env !== undefined ? { env: step.spawn.env } : {}),
    });
    const c = 'fork' in step ? step.fork : step.spawn;
    return describeResult(res, (child) => {
      const kid = this.addChild(r, child, c.as, childSteps(c));
      return `pid ${child.process.pid} (${kid.name})`;
    });
  }

  private portableWait(r: Runner, name: string | undefined, d: Driver): { result: string } | null {
    const target = name === undefined ? null : (this.byName(name)?.ref ?? Number(name));
    const res = d.wait(this.k, r.thread, target);
    if (res.kind === 'blocked') return null;
    return {
      result: describeResult(res, (w) => {
        // By the reference the wait returned first (a Cygwin child's pid is not its Windows process's).
        const who = (this.runners.find((x) => x.ref === w.ref) ?? this.runners.find((x) => x.proc.pid === w.pid))?.name;
        const how = w.signal !== null ? `killed by ${w.signal}` : `exit ${w.exitCode ?? 0}`;
        return `pid ${w.pid}${who !== undefined ? ` (${who})` : ''} status 0x${w.status.toString(16)}: ${how}`;
      }),
    };
  }

  private memory(r: Runner, step: Step): string {
    const k = this.k;
    const s = 'store' in step ? step.store : 'load' in step ? step.load : null;
    if (s === null) return '';
    const write = 'store' in step;
    if (!k.mmu.frames.contentsEnabled) throw new StepError(`${write ? 'store' : 'load'} needs page contents: run with --contents or set "contents: true" in the workload`);
    const reg = r.regions.get(s.region);
    if (reg === undefined) throw new StepError(`region "${s.region}" was not mapped by an earlier step`);
    if (reg.addr < 0) return this.segvAtMapFailed(r);
    const va = reg.addr + s.offset;
    const bytes = new Uint8Array(s.size);
    for (let i = 0; i < s.size; i++) {
      const pa = k.access(r.thread, va + i, write ? ACCESS_WRITE : ACCESS_READ);
      if (pa < 0) return `${r.proc.killedBy ?? 'signal'} at 0x${(va + i).toString(16)}`;
      if (write) k.mmu.frames.write(pa, Uint8Array.of(Number((BigInt(step.store.value) >> BigInt(8 * i)) & 0xffn)));
      else bytes[i] = k.mmu.frames.read(pa, 1)[0]!;
    }
    if (write) return 'ok';
    let v = 0n;
    for (let i = s.size - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
    return `value ${v}`;
  }

  /**
   * A touch, store or load of a region whose mmap failed: the program dereferences MAP_FAILED
   * (0xffffffffffffffff), beyond TASK_SIZE, and the kernel sends SIGSEGV (SEGV_MAPERR); the
   * process dies of it unless a handler resumes past the access.
   */
  private segvAtMapFailed(r: Runner): string {
    if (this.lp === null) throw new StepError('the region has no memory: its alloc failed');
    const va = (r.proc as Process<LinuxSpace>).space.mm.taskSize; // the first address no user mapping can hold
    if (this.k.access(r.thread, va, ACCESS_READ) >= 0) return '0x0';
    return r.proc.state !== 'running' ? `${r.proc.killedBy ?? 'signal'} at 0xffffffffffffffff (MAP_FAILED: the region's mmap failed)` : '0x0 (1 access skipped by a signal handler)';
  }

  private spawn(r: Runner, step: Step): string {
    const c = 'fork' in step ? step.fork : 'vfork' in step ? step.vfork : 'clone' in step ? step.clone : null;
    if (c === null) return '';
    const t = r.thread;
    let v: number;
    if ('fork' in step) v = this.k.syscall(t, 'fork').value;
    else if ('vfork' in step) v = this.k.syscall(t, 'vfork').value;
    else if ('clone' in step) {
      const cl = step.clone;
      const names = typeof cl.flags === 'number' ? cl.flags : cl.flags.reduce((f: number, x: string) => f | CLONE[x.toUpperCase() as keyof typeof CLONE], 0);
      v = this.k.syscall(t, 'clone', [(names | (cl.signal === undefined ? 0 : signalNumber(cl.signal))) >>> 0, 0, 0, 0, 0]).value;
    } else return '';
    if (v < 0) return `-${t.lastError ?? v}`;
    const thread = r.proc.threads.find((th) => th.tid === v);
    const kid = this.spawnRunner(r, v, c.as, childSteps(c), thread);
    return `${thread !== undefined ? 'tid' : 'pid'} ${v} (${kid.name})`;
  }
}

export function describeStep(step: Step): string {
  const [op, args] = Object.entries(step)[0] as [string, unknown];
  if (typeof args !== 'object' || args === null) return `${op} ${String(args)}`;
  const show = (key: string, v: unknown): string => (key === 'prot' && typeof v === 'number' ? formatProt(v)
    : key === 'steps' && Array.isArray(v) ? `[${v.length} steps]`
      : key === 'map' && Array.isArray(v) ? `[${v.length} ${v.length === 1 ? 'range' : 'ranges'}]`
      : typeof v === 'object' && v !== null && 'region' in v && 'offset' in v ? `${String(v.region)}+0x${Number(v.offset).toString(16)}`
      : typeof v === 'number' && v >= 4096 ? `0x${v.toString(16)}` : Array.isArray(v) ? `[${v.join(',')}]`
        : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));
  return `${op} ${Object.entries(args).map(([key, v]) => `${key}=${show(key, v)}`).join(' ')}`.trimEnd();
}

/** The simulated machine a session gets: physical memory and swap in pages, page contents, where files come from, the seed. */
export interface SessionMachine {
  frames: number;
  swapSlots: number;
  contents: boolean;
  /** Where exec and open find files. */
  fs: FileLookup;
  seed?: number;
  /** A machine profile by name (run --profile). */
  profile?: string;
}

/** Where a session's workload came from and how its files are found (all optional in a browser). */
export interface SessionSource {
  /** The workload file (error positions name it) and its text (parsed for positions only when an error needs one). */
  file?: string;
  text?: string;
  /** The directory relative file names in steps are resolved against. */
  dir?: string;
  host?: RunHost;
  /** The steps of each workload process, instead of `processes[i].steps` (a streamed workload's sequences). */
  steps?: readonly (StepList | undefined)[];
  /** Subscribe --trace's probe aggregations before the first process starts. */
  trace?: boolean;
  /** Called with the kernel before the first process starts (a probe that must see every call). */
  subscribe?: (k: Kernel<unknown>) => void;
}

/** Boot `resolved` on a fresh machine and create the workload's processes: a session ready to step (next()). */
export function openSession(w: Workload, resolved: ResolvedPersonality, machine: SessionMachine, source: SessionSource = {}): Session {
  const { fs } = machine;
  const seed = machine.seed !== undefined ? { seed: machine.seed } : {};
  const lp = resolved.entry.name === 'linux' ? linuxPersonality({ variant: linuxVariant(resolved.variant), fs, ...seed }) : null;
  const personality: Personality<unknown> = lp ?? resolved.entry.create({ variant: resolved.variant, fs, ...seed });
  // run W.yaml --refs TRACE --profile P: the workload runs on that machine profile (refs-run.ts).
  const profile = machine.profile !== undefined ? { profile: machine.profile } : {};
  const k = new Kernel<unknown>(personality, { frames: machine.frames, swapSlots: machine.swapSlots, contents: machine.contents, ...seed, ...profile });
  const trace = source.trace === true ? new Trace(k) : null;
  source.subscribe?.(k);
  const driver: Driver | null = k.personality.portable ?? null;
  const session = new Session(k, lp, driver, resolved.variant, source.dir ?? '/', source.file ?? '', source.text ?? '', source.host ?? memoryHost(fs));
  session.trace = trace;
  for (const [i, spec] of w.processes.entries()) {
    const c = lp === null && driver?.start !== undefined ? driver.start(k, spec.name) : startProcess(k, spec.name);
    const r = new Runner(spec.name, c.process, c.thread, source.steps?.[i] ?? spec.steps, new Map(), new Map(), false, ['processes', session.runners.length, 'steps']);
    r.ref = c.ref;
    session.runners.push(r);
  }
  return session;
}

/** Where a run reports each step: `polykernel run --maps-each-step` prints the map after it. */
export type AfterStep = (session: Session, r: StepResult) => void;

/** Run every remaining step of `session` (a loop over next()): how it ended. */
export async function runSession(session: Session, progress: StepProgress, after?: AfterStep): Promise<Ending> {
  try {
    for (let line = await session.next(); line !== null; line = await session.next()) {
      progress.tick(session.done);
      after?.(session, line);
    }
    return session.ending!;
  } finally {
    progress.end();
  }
}

/** A workload run on one personality: the kernel afterwards, the session's results, how it ended. */
export interface Execution {
  k: Kernel<unknown>;
  lp: LinuxPersonality | null;
  session: Session;
  stalled: string | null;
  trace: Trace | null;
}

/** One native view of one process, rendered through the contract (or why it could not be). */
export interface RenderedView {
  name: string;
  title: string;
  text: string | null;
  rows?: readonly ViewRow[];
  error: string | null;
}

function renderViews(k: Kernel<unknown>, p: Process): RenderedView[] {
  return k.personality.views.map((v) => {
    const title = v.title.replace(/<pid>/g, String(p.pid));
    try {
      const view: RenderedView = { name: v.name, title, text: v.render(k, p), error: null };
      if (v.rows !== undefined) view.rows = v.rows(k, p);
      return view;
    } catch (e) {
      return { name: v.name, title, text: null, error: (e as Error).message };
    }
  });
}

/** The live processes of a run (and the children that did not exit), each with its native views. */
export function processViews(run: Execution): { process: string; pid: number; state: string; killedBy: string | null; views: RenderedView[] }[] {
  return run.session.runners.filter((r) => !r.child || r.proc.state === 'running').map((r) => ({
    process: r.name, pid: r.proc.pid, state: r.proc.state, killedBy: r.proc.killedBy,
    views: r.proc.state === 'running' ? renderViews(run.k, r.proc) : [],
  }));
}

/** How a schedule ended: every step done (null), a stall or round limit (its message). */
export interface Ending { stalled: string | null }
