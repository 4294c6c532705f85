/**
 * A workload stepped one step at a time on one personality, for the visualizer.
 *
 * Scheduling is the CLI's (apps/cli/src/run.ts): every process runs one step per round, round-robin
 * in creation order; a thread the kernel put to sleep is skipped until it is woken, then its call is
 * resumed; a child that runs out of steps exits with status 0. The difference is granularity: the
 * CLI runs a whole workload, this runs to the next finished step, so the page can show each moment.
 *
 * Steps take the CLI's code path: a portable step (alloc, free, protect, touch, store, load, fork,
 * spawn, exec, exit, wait, mapFile, open, read, write, close) goes to the personality's own
 * portable driver (`Personality.portable`), which makes that kernel's native calls through the
 * gate — on every personality, Linux included, so `polykernel compare` and this page count the
 * same calls. A native step runs only on the kernel it belongs to (Linux's mmap, munmap, madvise,
 * brk, vfork, kill, syscall and wait options by Linux's encodings from the registry; Windows'
 * VirtualAlloc ... by @polykernel/windows' runner); on another kernel it is "n/a" with the
 * reason, as a step a driver cannot do is. The scheduler itself is a stand-in for the shared
 * workload runner being moved out of apps/cli into a package; it should move there once that lands.
 */
import { formatProt, Rng } from '@polykernel/core';
import {
  describeResult, gate, Kernel, memoryFileSystem, startProcess, type PortableChild, type PortableDriver, type PortableResult, type Process, type SyscallArg,
  type SyscallResult, type Thread,
} from '@polykernel/kernel';
import { ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE, accessName, type Access } from '@polykernel/mmu';
import { childSteps, nativeOf, type Step, type Workload } from '@polykernel/workload';
import type { NativeStepNames, PosixEncoding, ResolvedWebPersonality } from './registry.js';

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
/** What a failed alloc or mmap leaves in the program's pointer: MAP_FAILED, (void *)-1. */
const MAP_FAILED = -1;

/** A step the driver cannot carry out as written: reported at the step, and the run goes on. */
class StepError extends Error {}

interface Region { addr: number; length: number }

class Runner {
  pc = 0;
  sleptAt = -1;
  /** What the parent names this process by in wait: its PID, or the HANDLE a Windows driver gave. */
  ref: number;
  constructor(
    readonly name: string,
    readonly proc: Process,
    readonly thread: Thread,
    readonly steps: readonly Step[],
    readonly regions: Map<string, Region>,
    readonly fds: Map<string, number>,
    readonly child: boolean,
  ) {
    this.ref = proc.pid;
  }

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
  /** The steps that were n/a on this kernel (the comparison leaves them out of its figures). */
  readonly unsupported: StepLine[] = [];
  private readonly runners: Runner[] = [];
  private readonly driver: PortableDriver<unknown> | null;
  private readonly winHandles = new Map<string, number>();
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
    this.driver = this.k.personality.portable ?? null;
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
      // How a top-level process comes to be is the driver's (Cygwin: CreateProcessW and cygwin1.dll's start-up).
      const c = this.driver?.start !== undefined ? this.driver.start(this.k, spec.name) : startProcess(this.k, spec.name);
      const r = new Runner(spec.name, c.process, c.thread, spec.steps, new Map(), new Map(), false);
      r.ref = c.ref;
      this.runners.push(r);
    }
    this.round = [...this.runners];
  }

  /** The variant this session runs (linux-6.x, freebsd-14 ...). */
  get variant(): string {
    return this.personality.variant;
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
        // A child that ran out of steps returns from main: exit(0), the kernel's own way.
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
      result = e.message.startsWith('n/a: ') ? e.message : `error: ${e.message}`;
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
    if (result.startsWith('n/a')) this.unsupported.push(line);
    return line;
  }

  /** The process exits: the driver's exit (exit_group, exit, ExitProcess, _exit), else the kernel ends it as a return from main would. */
  private exit(r: Runner, code: number): void {
    if (this.driver !== null) this.driver.exit(this.k, r.thread, code);
    else this.k.exitProcess(r.proc, code);
  }

  /** A step's result text, or null when the thread went to sleep in its call (it runs again later). */
  private run(r: Runner, step: Step): string | null {
    const native = nativeOf(step);
    if (native === null) return this.portable(r, step);
    const entry = this.personality.entry;
    if (native.personality !== entry.name) {
      throw new StepError(`n/a: ${stepKind(step)} is a native step of ${native.personality} (${native.why}); ${this.variant} cannot run it: write it as a portable step (alloc, free, protect, spawn ...)`);
    }
    if (entry.nativeKinds.has(stepKind(step)) && entry.nativeStep !== undefined) return this.nativeApi(r, step);
    if (entry.posix !== null) return this.posixNative(r, step, entry.posix);
    throw new StepError(`n/a: the visualizer has no runner for ${this.variant}'s native ${stepKind(step)} steps`);
  }

  // ---- portable steps: the personality's driver --------------------------------------------------

  private region(r: Runner, name: string): Region {
    const reg = r.regions.get(name);
    if (reg === undefined) throw new StepError(`region "${name}" was not allocated by an earlier step`);
    return reg;
  }

  private handle(r: Runner, fd: string | number): number {
    if (typeof fd === 'number') return fd;
    const n = r.fds.get(fd);
    if (n === undefined) throw new StepError(`file "${fd}" was not opened by an earlier step`);
    return n;
  }

  /** A portable step: what the program wants, made into its kernel's native calls by the personality's driver. */
  private portable(r: Runner, step: Step): string | null {
    const d = this.driver;
    if (d === null) throw new StepError(`n/a: ${this.variant} has no portable driver (Personality.portable)`);
    const k = this.k;
    const t = r.thread;
    const done = (res: PortableResult<unknown>, text = '0x0'): string => describeResult(res, () => text);
    const keep = (name: string, res: PortableResult<Region>, length: number): string => {
      r.regions.set(name, res.kind === 'ok' ? { ...res.value } : { addr: MAP_FAILED, length });
      return describeResult(res, (v) => `0x${v.addr.toString(16)}`);
    };
    if ('alloc' in step) {
      const a = step.alloc;
      return keep(a.name, d.alloc(k, t, a.addr === undefined ? { size: a.size, prot: a.prot } : { size: a.size, prot: a.prot, addr: a.addr }), a.size);
    }
    if ('mapFile' in step) {
      const m = step.mapFile;
      const req = { path: m.path, prot: m.prot, shared: m.shared, ...(m.length !== undefined ? { length: m.length } : {}), ...(m.offset !== undefined ? { offset: m.offset } : {}) };
      return keep(m.name, d.mapFile(k, t, req), m.length ?? 0);
    }
    if ('free' in step) return done(d.free(k, t, this.region(r, step.free.region)));
    if ('protect' in step) return done(d.protect(k, t, this.region(r, step.protect.region), step.protect.prot));
    if ('touch' in step) {
      const reg = this.region(r, step.touch.region);
      return this.touch(r, step.touch, reg.addr < 0 ? reg.addr : reg.addr + step.touch.offset);
    }
    if ('store' in step || 'load' in step) return this.memory(r, step);
    if ('fork' in step || 'spawn' in step) return this.child(r, step, d);
    if ('exec' in step) {
      const e = step.exec;
      const res = d.exec(k, t, { path: e.path, argv: e.argv ?? [e.path], ...(e.env !== undefined ? { env: e.env } : {}) });
      if (r.proc.state !== 'running') return `${r.proc.killedBy ?? 'killed'} (the exec failed past the point of no return)`;
      // The new program's memory is a different world: names of the old regions mean nothing now.
      if (res.kind === 'ok') r.regions.clear();
      return describeResult(res, (v) => (res.kind === 'ok' && res.detail !== undefined ? '0x0' : `0x0 (${v.path})`));
    }
    if ('exit' in step) return done(d.exit(k, t, typeof step.exit === 'number' ? step.exit : step.exit.code), 'exited');
    if ('wait' in step) return this.wait(r, step.wait.for, d);
    if ('open' in step) {
      const o = step.open;
      const res = d.open(k, t, { path: o.path, write: o.flags.includes('write') || o.flags.includes('rdwr'), create: o.flags.includes('create'), truncate: o.flags.includes('trunc') });
      r.fds.set(o.as, res.kind === 'ok' ? res.value : -1);
      return describeResult(res, (v) => `fd ${v}`);
    }
    if ('read' in step || 'write' in step) {
      const io = 'read' in step ? step.read : step.write;
      const addr = this.region(r, io.region).addr + io.offset;
      const res = 'read' in step ? d.read(k, t, this.handle(r, io.fd), addr, io.length) : d.write(k, t, this.handle(r, io.fd), addr, io.length);
      return describeResult(res, (v) => `${v} bytes`);
    }
    if ('close' in step) return done(d.close(k, t, this.handle(r, step.close.fd)));
    throw new StepError(`n/a: the visualizer has no driver for ${stepKind(step)} steps`);
  }

  /** A child some step made: it runs `steps`, with copies of its parent's names (a spawned program's memory is its own). */
  private addChild(parent: Runner, c: PortableChild, as: string | undefined, steps: Step[], kind: string): Runner {
    const name = as ?? `${parent.name}-child${++this.childCount}`;
    const regions = kind === 'spawn' ? new Map<string, Region>() : new Map(parent.regions);
    const r = new Runner(name, c.process, c.thread, steps, regions, new Map(parent.fds), true);
    r.ref = c.ref;
    this.runners.push(r);
    return r;
  }

  private child(r: Runner, step: Extract<Step, { fork: unknown }> | Extract<Step, { spawn: unknown }>, d: PortableDriver<unknown>): string {
    const res = 'fork' in step ? d.fork(this.k, r.thread) : d.spawn(this.k, r.thread, {
      path: step.spawn.path, argv: step.spawn.argv ?? [step.spawn.path], ...(step.spawn.env !== undefined ? { env: step.spawn.env } : {}),
    });
    const c = 'fork' in step ? step.fork : step.spawn;
    return describeResult(res, (kid) => `pid ${kid.process.pid} (${this.addChild(r, kid, c.as, childSteps(c), 'fork' in step ? 'fork' : 'spawn').name})`);
  }

  private wait(r: Runner, name: string | undefined, d: PortableDriver<unknown>): string | null {
    const target = name === undefined ? null : (this.runners.find((x) => x.name === name)?.ref ?? Number(name));
    const res = d.wait(this.k, r.thread, target);
    if (res.kind === 'blocked') return null;
    return describeResult(res, (w) => {
      const who = (this.runners.find((x) => x.ref === w.ref) ?? this.runners.find((x) => x.proc.pid === w.pid))?.name;
      const how = w.signal !== null ? `killed by ${w.signal}` : `exit ${w.exitCode ?? 0}`;
      return `pid ${w.pid}${who !== undefined ? ` (${who})` : ''} status 0x${w.status.toString(16)}: ${how}`;
    });
  }

  /** A touch: accesses by the machine, the same on every kernel; the personality's fault handler does the rest. */
  private touch(r: Runner, s: Extract<Step, { touch: unknown }>['touch'], base: number): string {
    if (base < 0) throw new StepError('the region has no memory: its allocation failed');
    const access: Access = s.access === 'write' ? ACCESS_WRITE : s.access === 'exec' ? ACCESS_EXEC : ACCESS_READ;
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
    const reg = this.region(r, s.region);
    if (reg.addr < 0) throw new StepError('the region has no memory: its allocation failed');
    const va = reg.addr + s.offset;
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

  // ---- native steps: the kernel's own calls -------------------------------------------------------

  /** A native API step (Windows' VirtualAlloc ...) by the personality package's own runner. */
  private nativeApi(r: Runner, step: Step): string {
    const kind = stepKind(step);
    const key = (name: string): string => `${r.proc.pid}:${name}`;
    const names: NativeStepNames = {
      regions: r.regions,
      processHandle: (name) => {
        const known = this.winHandles.get(key(name));
        if (known !== undefined) return known;
        const other = this.runners.find((x) => x.name === name);
        if (other === undefined) return undefined;
        // PROCESS_ALL_ACCESS, as the CLI opens another of the workload's processes.
        const h = this.k.syscall(r.thread, 'OpenProcess', [0x1f0fff, 0, other.proc.pid]).value;
        this.winHandles.set(key(name), h);
        return h;
      },
      saveProcess: (name, h) => this.winHandles.set(key(name), h),
    };
    const o = this.personality.entry.nativeStep!(this.k, r.thread, kind, (step as Record<string, Readonly<Record<string, unknown>>>)[kind]!, names);
    if ('error' in o) throw new StepError(o.error);
    return o.result;
  }

  private call(r: Runner, name: string, args: readonly SyscallArg[]): SyscallResult {
    if (this.k.callSpec(name) === undefined) throw new StepError(`n/a: ${this.variant} has no ${name} call`);
    return gate(this.k, r.thread, name, args);
  }

  private at(r: Runner, region: string, offset: number): number {
    const reg = r.regions.get(region);
    if (reg === undefined) throw new StepError(`region "${region}" was not mapped by an earlier step`);
    return reg.addr + offset;
  }

  /** Linux's native steps, by Linux's numeric encodings (the registry's). */
  private posixNative(r: Runner, step: Step, enc: PosixEncoding): string | null {
    const res = (v: SyscallResult): string => (v.error !== null ? `-${v.error}` : `0x${v.value.toString(16)}`);
    if ('mmap' in step) {
      const m = step.mmap;
      if (m.file !== undefined || m.fd !== undefined) throw new StepError('n/a: the browser has no files to map');
      const flags = m.flags.reduce((f, x) => f + (enc.mmap[x] ?? 0), 0);
      const addr = m.addr === undefined ? 0 : typeof m.addr === 'number' ? m.addr : this.at(r, m.addr.region, m.addr.offset);
      const v = this.call(r, 'mmap', [addr, m.length, m.prot, flags, -1, m.offset ?? 0]);
      // A failed mmap leaves MAP_FAILED ((void *)-1) in the program's variable.
      r.regions.set(m.name, { addr: v.error === null ? v.value : MAP_FAILED, length: m.length });
      return res(v);
    }
    if ('munmap' in step) return res(this.call(r, 'munmap', [this.at(r, step.munmap.region, step.munmap.offset), step.munmap.length]));
    if ('mprotect' in step) return res(this.call(r, 'mprotect', [this.at(r, step.mprotect.region, step.mprotect.offset), step.mprotect.length, step.mprotect.prot]));
    if ('madvise' in step) {
      const advice = enc.madvise[step.madvise.advice] ?? 0;
      return res(this.call(r, 'madvise', [this.at(r, step.madvise.region, step.madvise.offset), step.madvise.length, advice]));
    }
    if ('brk' in step) {
      if (!('to' in step.brk)) throw new StepError('n/a: brk by a delta needs the personality\'s program break; the visualizer takes brk: { to }');
      return res(this.call(r, 'brk', [step.brk.to]));
    }
    if ('vfork' in step) {
      const v = this.call(r, 'vfork', []);
      if (v.error !== null) return `-${v.error}`;
      const proc = this.k.processes.get(v.value);
      if (proc === undefined) throw new StepError(`the kernel returned pid ${v.value} but has no such process`);
      return `pid ${v.value} (${this.addChild(r, { process: proc, thread: proc.threads[0]!, ref: v.value }, step.vfork.as, childSteps(step.vfork), 'vfork').name})`;
    }
    if ('wait' in step) return this.wait4(r, step.wait, enc);
    if ('kill' in step) {
      const s = step.kill;
      const pid = s.process === 'self' ? r.proc.pid : s.process === 'parent' ? r.proc.ppid : (this.runners.find((x) => x.name === s.process)?.proc.pid ?? Number(s.process));
      const sig = typeof s.signal === 'number' ? s.signal : this.k.personality.signals[s.signal.startsWith('SIG') ? s.signal : `SIG${s.signal}`];
      if (sig === undefined) throw new StepError(`${this.variant} has no signal ${String(s.signal)}`);
      const v = this.call(r, 'kill', [pid, sig]);
      return r.proc.state !== 'running' ? `killed by ${r.proc.killedBy ?? 'a signal'}` : res(v);
    }
    if ('syscall' in step) return res(gate(this.k, r.thread, step.syscall.name, step.syscall.args));
    throw new StepError(`n/a: the visualizer has no runner for ${stepKind(step)} steps (polykernel run has)`);
  }

  /** wait with options: wait4 itself (WNOHANG ...), a Linux native step. */
  private wait4(r: Runner, w: Extract<Step, { wait: unknown }>['wait'], enc: PosixEncoding): string | null {
    const target = w.for === undefined ? -1 : (this.runners.find((x) => x.name === w.for)?.proc.pid ?? Number(w.for));
    const options = w.options.reduce((o, x) => o + (enc.wait[x] ?? 0), 0);
    const v = this.call(r, 'wait4', [target, 0, options, 0]);
    // Asleep in the call (blocked), or woken with the call to be restarted (the value it slept with): run the step again.
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
