/**
 * Replay a lackey trace's references straight through the MMU and TLBs of a machine profile, on
 * the Linux personality: one process whose address space maps each referenced page on its first
 * touch (an anonymous read-write-execute page, MAP_FIXED at the trace's own address), then every
 * reference is an access: instruction fetches through the iTLB, loads through the dTLB, stores and
 * modifies as writes. Nothing is kept per reference: the trace is streamed once and each batch goes
 * to every profile's kernel.
 *
 * `polykernel run --refs TRACE` (runRefs below) and `polykernel import lackey --replay` share the
 * streaming (traceChunks, replayTrace) and the report (refsReport). With a workload as well
 * (`run W.yaml --refs TRACE`) the workload runs first and the trace is replayed in its first
 * process, whose mappings the references use where they fall in them (MAP_FIXED_NOREPLACE leaves
 * them alone); the other pages are mapped on first touch as above.
 */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Kernel, type Process, type Thread } from '@polykernel/kernel';
import { linuxFlags as F, linuxPersonality, type LinuxSpace } from '@polykernel/linux';
import { ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE, profileNames, type Access } from '@polykernel/mmu';
import { LackeyError, LackeyParser, REF_INSTR, REF_LOAD, type LackeyStats, type RefBatch } from '@polykernel/workload';
import { EXIT } from './exit.js';

const PAGE = 4096;

export interface RefsResult {
  profile: string;
  references: number;
  /** References whose page the simulated kernel refused to map (below mmap_min_addr, beyond TASK_SIZE) or that faulted fatally. */
  failed: number;
  /** References beyond the profile's virtual address bits, not replayed. */
  beyondAddressSpace: number;
  pagesMapped: number;
  tlb: { l1Hits: number; l2Hits: number; misses: number };
  walks: number;
  walkRefs: number;
  refills: number;
  faults: Record<string, number>;
  cycles: number;
  /** The cycles at the profile's clock rate. */
  simulatedSeconds: number;
  error: string | null;
}

/** The counters a replay reports, as they were when it started (a workload may have run first). */
interface Baseline { tlbHits: number; tlbMisses: number; l2Hits: number; walks: number; walkRefs: number; refills: number; cycles: number; faults: Record<string, number> }

/** One profile's machine: a kernel, a process, the pages mapped so far. */
export class RefsReplay {
  private readonly k: Kernel<LinuxSpace>;
  private readonly t: Thread;
  /** Attached to a workload's process: leave its mappings alone (MAP_FIXED_NOREPLACE). */
  private readonly attached: boolean;
  private readonly base: Baseline;
  private readonly mapped = new Set<number>();
  private lastPage = -1;
  private references = 0;
  private failed = 0;
  /** References beyond what the profile's page tables can map (a 64-bit program's trace on the 31-bit MIPS32 profile). */
  private beyond = 0;
  private readonly vaLimit: number;
  /** A simulator error that stopped this profile's replay (the other profiles go on). */
  private error: string | null = null;

  /** A fresh machine of `profile` with one empty process; or, given `on`, that kernel's thread (a workload's process). */
  constructor(readonly profile: string, frames = 262144, on?: { kernel: Kernel<LinuxSpace>; thread: Thread }) {
    this.k = on?.kernel ?? new Kernel<LinuxSpace>(linuxPersonality({ variant: 'linux-6.x' }), { profile, frames });
    this.t = on?.thread ?? this.k.createProcess(this.k.init, 'lackey').threads[0]!;
    this.attached = on !== undefined;
    this.vaLimit = 2 ** this.k.mmu.profile.pageTable.vaBits;
    const m = this.k.metrics;
    const st = this.k.mmu.stats;
    this.base = { tlbHits: m.tlbHits, tlbMisses: m.tlbMisses, l2Hits: st.l2Hits, walks: st.walks, walkRefs: m.walkRefs, refills: st.refills, cycles: m.cycles, faults: { ...m.faults } };
  }

  /** The simulated machine (for tests comparing its final state). */
  get kernel(): Kernel<LinuxSpace> {
    return this.k;
  }

  /** The parser's callback: replay a batch. */
  readonly add = (b: RefBatch): void => {
    if (this.error !== null) return;
    try {
      this.replay(b);
    } catch (e) {
      this.error = `stopped after ${this.references.toLocaleString('en-US')} references: ${(e as Error).message}`;
    }
  };

  /**
   * The batch in one pass: Mmu.translateHits takes the run of L1 4 KiB TLB hits inline and stops at
   * the first reference needing more; that one goes through Kernel.access (L2, walk, refill, fault,
   * the personality's handler), after its page is mapped if this is its first touch. A TLB hit
   * needs no first-touch check (the page has a translation, so it is mapped), which is why this is
   * the same replay as replayEach, reference by reference: a property test compares every counter,
   * the page tables and the TLBs. (Kernel.accessBatch does the same without the mapping step.)
   */
  private replay(b: RefBatch): void {
    const k = this.k;
    const mmu = k.mmu;
    const t = this.t;
    const p = t.process as Process<LinuxSpace>;
    const n = b.count;
    const addr = b.addr;
    // The parser wrote each reference's MMU access (ACCESS_OF_REF: the same codes as ACCESS_*).
    const accesses = b.access;
    const limit = this.vaLimit;
    let i = 0;
    while (i < n) {
      // Only a fault or a signal (the slow path below) can change the process's or thread's state.
      if (p.state === 'running' && t.state !== 'suspended') {
        const asid = k.asidOf(p);
        mmu.activate(t.cpu, asid);
        const stop = mmu.translateHits(t.cpu, asid, addr, accesses, i, n, true);
        this.references += stop - i;
        i = stop;
        if (i >= n) break;
      }
      const va = addr[i]!;
      this.references++;
      if (va >= limit) {
        // The Linux personality's TASK_SIZE is x86-64's whatever the profile: an address the profile's page table cannot hold is counted, not mapped.
        this.beyond++;
      } else {
        const page = Math.floor(va / PAGE);
        if (page !== this.lastPage && !this.mapped.has(page)) this.map(page);
        this.lastPage = page;
        if (k.access(t, va, accesses[i]! as Access, true) < 0) this.failed++;
      }
      i++;
    }
  }

  /** The one-by-one replay (one Kernel.access per reference): the reference the batched path is tested against. */
  replayEach(b: RefBatch): void {
    const { k, t, mapped } = this;
    for (let i = 0; i < b.count; i++) {
      const va = b.addr[i]!;
      this.references++;
      if (va >= this.vaLimit) {
        this.beyond++;
        continue;
      }
      const page = Math.floor(va / PAGE);
      if (page !== this.lastPage && !mapped.has(page)) this.map(page);
      this.lastPage = page;
      const kind = b.kind[i];
      const access: Access = kind === REF_INSTR ? ACCESS_EXEC : kind === REF_LOAD ? ACCESS_READ : ACCESS_WRITE;
      if (k.access(t, va, access) < 0) this.failed++;
    }
  }

  /** First touch of a page: map it where the trace has it (mm/mmap.c: MAP_FIXED replaces nothing here, the page was never mapped). */
  private map(page: number): void {
    this.mapped.add(page);
    // In a workload's process a page inside one of its mappings is left to it (EEXIST): the reference uses that mapping.
    const fixed = this.attached ? F.MAP_FIXED_NOREPLACE : F.MAP_FIXED;
    if (this.k.syscall(this.t, 'mmap', [page * PAGE, PAGE, 7, F.MAP_PRIVATE | F.MAP_ANONYMOUS | fixed, -1, 0]).error === null) this.newPages++;
  }

  /** Pages this replay mapped (in a workload's process, those no mapping of the workload held). */
  private newPages = 0;

  result(): RefsResult {
    const m = this.k.metrics;
    const st = this.k.mmu.stats;
    const b = this.base;
    const l2 = st.l2Hits - b.l2Hits;
    const cycles = m.cycles - b.cycles;
    const faults = Object.entries(m.faults).map(([k, n]) => [k, n - (b.faults[k] ?? 0)] as const).filter(([, n]) => n > 0);
    return {
      profile: this.profile, references: this.references, failed: this.failed, beyondAddressSpace: this.beyond, pagesMapped: this.newPages,
      tlb: { l1Hits: m.tlbHits - b.tlbHits - l2, l2Hits: l2, misses: m.tlbMisses - b.tlbMisses }, walks: st.walks - b.walks, walkRefs: m.walkRefs - b.walkRefs, refills: st.refills - b.refills,
      faults: Object.fromEntries(faults), cycles, simulatedSeconds: cycles / this.k.mmu.profile.hz, error: this.error,
    };
  }
}

/** Bytes read at a time from a plain trace (and the gunzip output chunk). */
const CHUNK = 1 << 20;

/**
 * A plain file's bytes in CHUNK-sized reads into two buffers reused throughout (nothing allocated
 * per chunk): the next read is under way while the consumer parses the previous chunk, which stays
 * valid until the consumer asks for the next one (the parser copies only a straddling line).
 */
async function* fileChunks(file: string): AsyncGenerator<Uint8Array> {
  const fh = await open(file, 'r');
  try {
    const bufs = [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
    let which = 0;
    let pending = fh.read(bufs[0]!, 0, CHUNK, null);
    for (;;) {
      const { bytesRead, buffer } = await pending;
      if (bytesRead === 0) return;
      which ^= 1;
      pending = fh.read(bufs[which]!, 0, CHUNK, null);
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}

/** The bytes of a trace, streamed: plain, .gz (zlib) or .xz (the xz program, as a pipe). */
export function traceChunks(file: string): AsyncIterable<Uint8Array> {
  if (file.endsWith('.xz')) {
    const xz = spawn('xz', ['-dc', '--', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = new PassThrough({ highWaterMark: CHUNK });
    let why = '';
    xz.stderr.on('data', (d: Buffer) => (why += d.toString()));
    // No xz on the host, or a damaged file: the stream ends in an error, never in a short trace.
    xz.on('error', (e) => out.destroy(new Error(`cannot run xz to decompress it (${(e as NodeJS.ErrnoException).code ?? e.message}): install xz-utils, or decompress it first`)));
    xz.stdout.pipe(out, { end: false });
    xz.on('close', (code) => {
      if (code === 0) out.end();
      else if (code !== null) out.destroy(new Error(`xz -dc failed: ${why.trim() || `exit status ${code}`}`));
    });
    return out;
  }
  if (file.endsWith('.gz')) {
    return createReadStream(file, { highWaterMark: CHUNK }).pipe(createGunzip({ chunkSize: CHUNK }));
  }
  return fileChunks(file);
}

export type RefsOptions = Record<string, boolean | string | undefined>;

export interface TraceReplay {
  stats: LackeyStats;
  /** Host time from the first byte read to the last reference replayed (wall clock, and this process's CPU time). */
  seconds: number;
  cpuSeconds: number;
}

/**
 * Stream `trace` through a LackeyParser into `sink` (each profile's replay, or a workload
 * builder). Returns the parser's statistics and the host time, or the error that stopped it (a
 * LackeyError in strict mode, a read or decompression error).
 */
export async function replayTrace(trace: string, sink: (b: RefBatch) => void, opts: { strict: boolean; limit?: number }, progress: ((bytes: number) => void) | null): Promise<TraceReplay | string> {
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  const parser = new LackeyParser(sink, { file: trace, strict: opts.strict, ...(opts.limit !== undefined ? { limit: opts.limit } : {}) });
  let bytes = 0;
  let shown = 0;
  try {
    for await (const chunk of traceChunks(trace)) {
      parser.push(chunk);
      bytes += chunk.length;
      if (progress !== null && bytes - shown > 64 * 1024 ** 2) {
        shown = bytes;
        progress(bytes);
      }
      if (parser.done) break;
    }
  } catch (e) {
    return e instanceof LackeyError ? e.message : `${trace}: ${(e as Error).message}`;
  }
  const stats = parser.end();
  const cpu = process.cpuUsage(cpu0);
  return { stats, seconds: (performance.now() - started) / 1000, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

const n = (x: number): string => x.toLocaleString('en-US');

/** Simulated seconds in the unit that reads best (s, ms, µs). */
export function simulatedTime(s: number): string {
  if (s >= 1) return `${s.toFixed(3)} s`;
  if (s >= 1e-3) return `${(s * 1e3).toFixed(3)} ms`;
  return `${(s * 1e6).toFixed(3)} µs`;
}

/** The replay's report: a table of the profiles side by side, or JSON. */
export function refsReport(trace: string, run: TraceReplay, results: readonly RefsResult[], json: boolean, out: (s: string) => void): Record<string, unknown> | null {
  const { stats } = run;
  const speed = { hostSeconds: run.seconds, hostCpuSeconds: run.cpuSeconds, refsPerSecond: stats.refs / run.seconds, refsPerCpuSecond: stats.refs / run.cpuSeconds };
  if (json) {
    return {
      file: trace, references: stats.refs, lines: stats.lines, byKind: { instr: stats.byKind[0], load: stats.byKind[1], store: stats.byKind[2], modify: stats.byKind[3] },
      badLines: stats.bad, issues: stats.issues, limited: stats.limited, ...speed, profiles: results,
    };
  }
  out(`replayed ${trace}: ${n(stats.refs)} references (I ${n(stats.byKind[0])}, L ${n(stats.byKind[1])}, S ${n(stats.byKind[2])}, M ${n(stats.byKind[3])})${stats.limited ? ' (stopped at --limit)' : ''}`);
  out(`  host: ${run.seconds.toFixed(2)} s (${(speed.refsPerSecond / 1e6).toFixed(2)} M references/s), CPU ${run.cpuSeconds.toFixed(2)} s (${(speed.refsPerCpuSecond / 1e6).toFixed(2)} M/s) for ${results.length} ${results.length === 1 ? 'profile' : 'profiles'}, reading and parsing included`);
  const rows: [string, (r: RefsResult) => string][] = [
    ['pages mapped on first touch', (r) => n(r.pagesMapped)],
    ['TLB L1 hits (iTLB + dTLB)', (r) => n(r.tlb.l1Hits)],
    ['TLB L2 hits', (r) => n(r.tlb.l2Hits)],
    ['TLB misses', (r) => n(r.tlb.misses)],
    ['page walks (walk references)', (r) => `${n(r.walks)} (${n(r.walkRefs)})`],
    ['software refills', (r) => n(r.refills)],
    ['page faults', (r) => Object.entries(r.faults).map(([k, v]) => `${k} ${n(v)}`).join(', ') || 'none'],
    ['failed accesses', (r) => n(r.failed)],
    ['beyond the address space', (r) => n(r.beyondAddressSpace)],
    ['simulated cycles', (r) => n(r.cycles)],
    ['simulated time', (r) => simulatedTime(r.simulatedSeconds)],
  ];
  const w0 = Math.max(...rows.map(([k]) => k.length));
  const cols = results.map((r) => Math.max(r.profile.length, ...rows.map(([, f]) => f(r).length)));
  out(`${''.padEnd(w0)}  ${results.map((r, i) => r.profile.padStart(cols[i]!)).join('  ')}`);
  for (const [k, f] of rows) out(`${k.padEnd(w0)}  ${results.map((r, i) => f(r).padStart(cols[i]!)).join('  ')}`);
  for (const r of results) if (r.error !== null) out(`${r.profile}: ${r.error}`);
  if (stats.bad > 0) {
    out(`lines skipped: ${n(stats.bad)} (--strict refuses the trace at the first):`);
    for (const i of stats.issues) out(`  ${i.line === 0 ? '' : `${i.file}:${i.line}: `}${i.message}`);
  }
  return null;
}

/** A positive whole number option, undefined when absent, or the message refusing it. */
export function positiveOption(v: string | boolean | undefined, what: string): number | undefined | string {
  if (typeof v !== 'string') return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1 || !Number.isSafeInteger(Number(v))) return `${what} takes a positive whole number, got "${v}"`;
  return Number(v);
}

/** --profile: the machine profiles, checked against the registered ones; or the message refusing one. */
export function profilesOption(v: string | boolean | undefined): string[] | string {
  const profiles = typeof v === 'string' ? v.split(',').map((x) => x.trim()) : ['x86-64'];
  const known = profileNames();
  const unknown = profiles.find((x) => !known.includes(x));
  return unknown === undefined ? profiles : `unknown machine profile "${unknown}" (known: ${known.join(', ')})`;
}

/** Is `trace` a file the replay can read? The message when not. */
export function traceProblem(trace: string): string | null {
  if (!existsSync(trace)) return `${trace}: No such file`;
  return statSync(trace).isFile() ? null : `${trace}: is not an ordinary file`;
}

/** What a replay needs from the command line, checked; or the usage message and exit status. */
export function refsSetup(trace: string, opts: RefsOptions, command: string): { profiles: string[]; limit: number | undefined } | { message: string; code: number } {
  const limit = positiveOption(opts.limit, '--limit');
  if (typeof limit === 'string') return { message: `polykernel ${command}: ${limit}`, code: EXIT.usage };
  const profiles = profilesOption(opts.profile);
  if (typeof profiles === 'string') return { message: `polykernel ${command}: ${profiles}`, code: EXIT.usage };
  const problem = traceProblem(trace);
  if (problem !== null) return { message: `polykernel ${command}: ${problem}`, code: EXIT.failure };
  return { profiles, limit };
}

/** Progress on a terminal (stderr), never on a pipe or file. */
export function traceProgress(command: string): { tick: ((bytes: number) => void) | null; clear: () => void } {
  if (!process.stderr.isTTY) return { tick: null, clear: () => undefined };
  let shown = false;
  return {
    tick: (bytes) => {
      shown = true;
      process.stderr.write(`\rpolykernel ${command}: ${(bytes / 1024 ** 2).toFixed(0)} MB of trace read\x1b[K`);
    },
    clear: () => {
      if (shown) process.stderr.write('\r\x1b[K');
    },
  };
}

/**
 * `polykernel run --refs TRACE [--profile a,b,c]`: the trace through a fresh machine of each
 * profile (one Linux process, pages mapped on first touch), the profiles side by side.
 */
export async function runRefs(trace: string, opts: RefsOptions, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const setup = refsSetup(trace, opts, 'run --refs');
  if ('message' in setup) {
    err(setup.message);
    return setup.code;
  }
  const replays = setup.profiles.map((p) => new RefsReplay(p));
  const progress = traceProgress('run --refs');
  const run = await replayTrace(trace, (b) => {
    for (const r of replays) r.add(b);
  }, { strict: opts.strict === true, ...(setup.limit !== undefined ? { limit: setup.limit } : {}) }, progress.tick);
  progress.clear();
  if (typeof run === 'string') {
    err(`polykernel run --refs: ${run}`);
    return EXIT.failure;
  }
  const json = refsReport(trace, run, replays.map((r) => r.result()), opts.json === true, out);
  if (json !== null) out(JSON.stringify(json, null, 2));
  return EXIT.ok;
}
