/**
 * `polykernel import strace LOG... [-o W.yaml]`: turn a real program's `strace -f` log into a
 * workload (packages/workload/src/import/strace.ts does the translation), write it as YAML, and
 * with --check replay it on the Linux personality and list every call whose success or failure
 * differs from the host's.
 */
import { closeSync, createReadStream, existsSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import {
  type ImageFacts, LackeyWorkloadBuilder, portableWorkload, StraceError, type Workload, StraceImporter, workloadYaml, type HostResult, type PortableImport, type RefBatch, type StraceImport,
} from '@polykernel/workload';
import { parseElf, elfConstants } from '@polykernel/elf';
import { refsReport, refsSetup, RefsReplay, replayTrace, traceProgress } from './refs.js';
import { EXIT } from './exit.js';

export type ImportOptions = Record<string, boolean | string | undefined>;

/** How often progress is shown on a terminal, in lines. */
const PROGRESS_EVERY = 50_000;

/** The pid an `strace -ff -o NAME` file carries in its name (NAME.<pid>), else 0. */
export function pidOfFile(file: string): number {
  const m = /\.(\d+)$/.exec(file);
  return m === null ? 0 : Number(m[1]);
}

/**
 * The files a LOG argument stands for: itself, or with -ff the NAME.<pid> files next to it (a
 * NAME that does not exist, whose NAME.<pid> siblings do), lowest pid first (the first process).
 */
export function logFiles(arg: string): string[] {
  if (existsSync(arg)) return [arg];
  const dir = arg.includes('/') ? arg.slice(0, arg.lastIndexOf('/')) || '/' : '.';
  const base = basename(arg);
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => n.startsWith(`${base}.`) && /^\d+$/.test(n.slice(base.length + 1)));
  } catch {
    names = []; // no such directory: no -ff files either
  }
  return names.map((n) => (arg.includes('/') ? join(dir, n) : n)).sort((a, b) => pidOfFile(a) - pidOfFile(b));
}

/** Lines of a text file, streamed (a .gz file is decompressed on the way). */
export function linesOf(file: string): AsyncIterable<string> {
  const raw = createReadStream(file);
  const input = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  return createInterface({ input, crlfDelay: Infinity });
}

/** Does `path` name a regular file in the sysroot? (What the simulated open and mmap will find.) */
export function sysrootHas(sysroot: string): (path: string) => boolean {
  // A log opens the same files again and again (each process's ld.so.cache, libc ...): one stat each.
  const known = new Map<string, boolean>();
  return (path: string): boolean => {
    let yes = known.get(path);
    if (yes === undefined) {
      try {
        yes = statSync(join(sysroot, path)).isFile() || path.startsWith('/dev/');
      } catch {
        yes = false;
      }
      known.set(path, yes);
    }
    return yes;
  };
}

/**
 * The layout of an ELF file in the sysroot (its PT_LOAD span, PT_GNU_RELRO, PT_INTERP), so the
 * importer can name addresses in the executable and its interpreter; null when it is not ELF or
 * cannot be read. Each file is read once.
 */
export function sysrootImages(sysroot: string): (path: string) => ImageFacts | null {
  const cache = new Map<string, ImageFacts | null>();
  return (path: string): ImageFacts | null => {
    if (!cache.has(path)) cache.set(path, imageFacts(join(sysroot, path)));
    return cache.get(path)!;
  };
}

/** The head of a file read for its ELF and program headers (and PT_INTERP): they come first in every linker's output. */
const ELF_HEAD = 64 * 1024;

function imageFacts(file: string): ImageFacts | null {
  try {
    // Only what execve reads (view 'exec'), from the head of the file; the whole file only when a header lies past it.
    let elf;
    try {
      elf = parseElf(readHead(file, ELF_HEAD), { view: 'exec' });
    } catch {
      elf = parseElf(readFileSync(file), { view: 'exec' });
    }
    const loads = elf.loadSegments;
    if (loads.length === 0) return null;
    const relro = elf.programHeaders.find((p) => p.type === elfConstants.PT_GNU_RELRO);
    return {
      relocatable: elf.header.type === elfConstants.ET_DYN,
      start: Math.min(...loads.map((p) => p.vaddr)), end: Math.max(...loads.map((p) => p.vaddr + p.memsz)),
      relro: relro === undefined ? null : { vaddr: relro.vaddr, memsz: relro.memsz }, interpreter: elf.interpreter,
    };
  } catch {
    return null; // not ELF (a script), unreadable, or malformed: its addresses stay unnamed
  }
}

function readHead(file: string, n: number): Uint8Array {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(n);
    return buf.subarray(0, readSync(fd, buf, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

function positiveInt(v: string | boolean | undefined, what: string): number | undefined | string {
  if (typeof v !== 'string') return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1 || !Number.isSafeInteger(Number(v))) return `${what} takes a positive whole number, got "${v}"`;
  return Number(v);
}

/** Read the logs into an importer; a StraceError (strict) or a read error becomes the message. */
async function readLogs(files: readonly string[], imp: StraceImporter, progress: ((n: number) => void) | null): Promise<string | null> {
  let total = 0;
  for (const file of files) {
    const pid = pidOfFile(file);
    let n = 0;
    try {
      for await (const line of linesOf(file)) {
        imp.line(line, file, ++n, pid);
        if (progress !== null && ++total % PROGRESS_EVERY === 0) progress(total);
        if (imp.full) return null;
      }
    } catch (e) {
      if (e instanceof StraceError) return e.message;
      return `${file}: ${(e as Error).message}`;
    }
  }
  return null;
}

/**
 * A replayed step's result: did the call succeed? ("0x7f..", "fd 3", "pid 12 (...)", "exited" yes;
 * "-ENOMEM", "error: ...", "SIGSEGV at ...", "n/a: ..." no, nor a portable driver's failure, which
 * names its error and the native call: "ENOENT (open)", "ERROR_FILE_NOT_FOUND (CreateFileW)".)
 */
export function replaySucceeded(result: string): boolean {
  return !/^-|^error:|^SIG|killed|^n\/a|^blocked in |^[A-Z][A-Z0-9_]* \(/.test(result);
}

/** The errno a failed replayed step names: "-ENOENT" (a native step) or "ENOENT (open)" (a portable driver's), else undefined. */
function replayErrno(replay: string): string | undefined {
  return /^-?(E[A-Z0-9]+)(\b|$)/.exec(replay)?.[1];
}

export interface Difference {
  process: string;
  step: number;
  file: string;
  line: number;
  call: string;
  host: string;
  replay: string;
  /** Why, where the replay's error says it ("" when it does not). */
  reason: string;
}

/** The usual reasons a replayed call fails where the host's succeeded. */
export function differenceReason(call: string, replay: string): string {
  const errno = replayErrno(replay);
  if (errno === 'EROFS') return 'the simulated file system (the sysroot) is read-only: the program created or truncated this file';
  if (errno === 'EBADF') return 'the descriptor\'s open failed in the replay';
  if (errno === 'ENOENT' && call.includes('open')) return 'not in the sysroot (a file the program created earlier in the run, or one only the host has)';
  if (errno === 'ENOEXEC' || replay.startsWith('ERROR_BAD_EXE_FORMAT')) return 'the program is a Linux ELF executable, which this kernel does not load';
  if (errno === 'ECHILD' || (call === 'wait4' && replay.startsWith('ERROR_INVALID_HANDLE'))) return 'no such child in the replay: its fork or spawn failed or was n/a';
  if (call === 'munmap' && (errno === 'EINVAL' || replay.startsWith('ERROR_INVALID_PARAMETER'))) return 'the region was never mapped in the replay: its alloc or mapFile failed or was n/a';
  // Windows' file calls (the Windows portable driver): the same causes in Win32 errors.
  if (replay.startsWith('ERROR_WRITE_PROTECT')) return 'the simulated file system (the sysroot) is a read-only volume: the program created or truncated this file';
  if (replay.startsWith('ERROR_INVALID_HANDLE') && call !== 'wait4') return 'the handle\'s CreateFileW failed in the replay';
  if ((replay.startsWith('ERROR_FILE_NOT_FOUND') || replay.startsWith('ERROR_PATH_NOT_FOUND')) && call.includes('open')) return 'not in the sysroot (a file the program created earlier in the run, or one only the host has)';
  if (replay.startsWith('ERROR_ACCESS_DENIED (CreateFileW)')) return 'a folder, or a file this volume denies: CreateFileW opens a folder only with FILE_FLAG_BACKUP_SEMANTICS, which _open does not pass';
  if (replay.startsWith('ERROR_ACCESS_DENIED (MapViewOfFile)')) return 'the mapping runs past the end of this machine\'s copy of the file: MapViewOfFile refuses a view beyond the section, where mmap maps it';
  if (replay.startsWith('error: ')) return replay.slice(7);
  if (replay.startsWith('n/a: ')) return `no portable form on this personality: ${replay.slice(5)}`;
  return '';
}

/** Both failed: null when with the same errno (or either has none), else why they differ. */
export function errnoDifference(host: string, replay: string): string | null {
  const h = /^-1 (E[A-Z0-9]+)/.exec(host)?.[1];
  const r = replayErrno(replay);
  return h !== undefined && r !== undefined && h !== r ? `failed with ${r} where the host's failed with ${h}` : null;
}

/**
 * The replay of a workload with a host field (an imported strace log) against it: every step
 * whose success, failure or errno differs. Null for a workload without one.
 */
export function hostCheck(w: Workload, steps: readonly { process: string; result: string }[], stalled: string | null): CheckReport | null {
  if (w.host === undefined) return null;
  const host = new Map(Object.entries(w.host).map(([name, list]) => [name, list.map((h): HostResult => {
    const at = /^(.*):(\d+)$/.exec(h.at);
    return { file: at?.[1] ?? h.at, line: Number(at?.[2] ?? 0), call: h.call, ok: h.ok, result: h.result };
  })]));
  return compareWithHost(host, steps, stalled);
}

export interface CheckReport {
  compared: number;
  same: number;
  differences: Difference[];
  /** Steps the replay never reached (a process that was killed or stalled first). */
  notReplayed: number;
  stalled: string | null;
}

/** Compare the replay's step results with the host's, process by process, step by step. */
export function compareWithHost(host: ReadonlyMap<string, readonly HostResult[]>, steps: readonly { process: string; result: string }[], stalled: string | null): CheckReport {
  const byProcess = new Map<string, string[]>();
  for (const s of steps) {
    const list = byProcess.get(s.process) ?? [];
    list.push(s.result);
    byProcess.set(s.process, list);
  }
  const report: CheckReport = { compared: 0, same: 0, differences: [], notReplayed: 0, stalled };
  for (const [name, results] of host) {
    const replayed = byProcess.get(name) ?? [];
    results.forEach((h, i) => {
      const r = replayed[i];
      if (r === undefined) {
        report.notReplayed++;
        return;
      }
      report.compared++;
      const why = replaySucceeded(r) !== h.ok ? differenceReason(h.call, r) : errnoDifference(h.result, r);
      if (why === null) report.same++;
      else report.differences.push({ process: name, step: i + 1, file: h.file, line: h.line, call: h.call, host: h.result, replay: r, reason: why });
    });
  }
  return report;
}

interface RunJson { steps: { process: string; result: string }[]; stalled: string | null }

/** One personality's replay of the imported workload: what ran, what succeeded, what was n/a and why, and the host comparison. */
export interface ReplayReport {
  personality: string;
  /** Steps the replay reached. */
  ran: number;
  succeeded: number;
  failed: number;
  /** Steps the personality cannot do (its driver's reason), by reason. */
  na: { reason: string; count: number }[];
  host: CheckReport;
}

/** Tally a replay's step results: succeeded, failed, n/a by reason. */
export function tallyReplay(personality: string, steps: readonly { result: string }[], host: CheckReport): ReplayReport {
  const na = new Map<string, number>();
  let succeeded = 0;
  for (const s of steps) {
    if (s.result.startsWith('n/a')) {
      const reason = s.result.replace(/^n\/a:?\s*/, '');
      na.set(reason, (na.get(reason) ?? 0) + 1);
    } else if (replaySucceeded(s.result)) succeeded++;
  }
  const naCount = [...na.values()].reduce((n, c) => n + c, 0);
  return {
    personality, ran: steps.length, succeeded, failed: steps.length - succeeded - naCount,
    na: [...na].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count), host,
  };
}

/** Replay the workload file on a personality (polykernel run --json) and compare with the host. */
async function check(file: string, host: ReadonlyMap<string, readonly HostResult[]>, sysroot: string, personality = 'linux'): Promise<ReplayReport | string> {
  const { runWorkload } = await import('./run.js');
  let json = '';
  let errors = '';
  const code = await runWorkload(file, { json: true, sysroot, personality }, (s) => (json += s), (s) => (errors += s + '\n'));
  if (code !== 0) return `the replay on ${personality} failed: ${errors.trim()}`;
  const run = JSON.parse(json) as RunJson;
  return tallyReplay(personality, run.steps, compareWithHost(host, run.steps, run.stalled));
}

function summaryText(r: StraceImport, files: readonly string[], output: string | null, out: (s: string) => void): void {
  out(`imported ${files.length === 1 ? files[0]! : `${files.length} files (${files[0]!} ...)`}: ${r.lines.toLocaleString('en-US')} lines, ${r.calls.toLocaleString('en-US')} calls, ${r.processes.length} ${r.processes.length === 1 ? 'process' : 'processes'}${r.limited ? ' (stopped at --limit)' : ''}`);
  out(`  ${r.steps.toLocaleString('en-US')} steps${output !== null ? ` written to ${output}` : ''}; ${(r.calls - r.steps).toLocaleString('en-US')} calls skipped; ${r.signals} signal${r.signals === 1 ? '' : 's'} seen`);
  for (const p of r.processes) out(`  ${p.name}${p.parent !== null ? ` (child of pid${p.parent})` : ''}: ${p.calls} calls, ${p.steps} steps, ${p.skipped} skipped, ${p.end}`);
  if (r.skipped.length > 0) {
    out('skipped calls (count, call: reason, first at):');
    for (const s of r.skipped) out(`  ${String(s.count).padStart(6)} ${s.call}: ${s.reason} (${s.file}:${s.line})`);
  }
  if (r.warnings.length > 0) {
    out('warnings:');
    for (const w of r.warnings) out(`  ${w.file === '' ? '' : `${w.file}:${w.line}: `}${w.message}`);
  }
  if (r.issues.length > 0) {
    out('lines skipped (--strict refuses the log at the first):');
    for (const i of r.issues) out(`  ${i.file === '' ? '' : `${i.file}:${i.line}: `}${i.message}`);
  }
}

export function checkText(c: CheckReport, out: (s: string) => void, on = 'linux'): void {
  out(`replay on ${on} against the host: ${c.compared} steps compared, ${c.same} with the host's outcome, ${c.differences.length} different${c.notReplayed > 0 ? `, ${c.notReplayed} not reached (their process was never created, or ended first: a thread joined with futex, which no step can say, is killed by its process's exit)` : ''}`);
  if (c.stalled !== null) out(`  ${c.stalled}`);
  for (const d of c.differences) out(`  ${d.process} step ${d.step} (${d.file}:${d.line} ${d.call}): host ${d.host}, replay ${d.replay}${d.reason === '' ? '' : ` — ${d.reason}`}`);
}

export async function runImportStrace(logs: readonly string[], opts: ImportOptions, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const limit = positiveInt(opts.limit, '--limit');
  if (typeof limit === 'string') {
    err(`polykernel import strace: ${limit}`);
    return EXIT.usage;
  }
  const files = logs.flatMap(logFiles);
  const missing = logs.filter((l) => logFiles(l).length === 0);
  if (missing.length > 0) {
    err(`polykernel import strace: ${missing[0]!}: No such file (nor ${missing[0]!}.<pid> files from strace -ff)`);
    return EXIT.failure;
  }
  for (const f of files) {
    if (!statSync(f).isFile()) {
      err(`polykernel import strace: ${f}: is not an ordinary file`);
      return EXIT.failure;
    }
  }
  const sysroot = typeof opts.sysroot === 'string' ? opts.sysroot : '/';
  const name = typeof opts.name === 'string' ? opts.name : basename(files[0]!).replace(/\.(strace|log|txt)(\.\d+)?$/, '');
  const imp = new StraceImporter({ name, strict: opts.strict === true, fileExists: sysrootHas(sysroot), image: sysrootImages(sysroot), ...(limit !== undefined ? { limit } : {}) });
  const tty = process.stderr.isTTY ? (n: number): void => void process.stderr.write(`\rpolykernel import: ${n.toLocaleString('en-US')} lines\x1b[K`) : null;
  const failure = await readLogs(files, imp, tty);
  if (tty !== null) process.stderr.write('\r\x1b[K');
  if (failure !== null) {
    err(`polykernel import strace: ${failure}`);
    return EXIT.failure;
  }
  const result = imp.finish();
  const portable = opts.portable === true ? portableWorkload(result.workload, result.host) : null;
  const host = portable?.host ?? result.host;
  const yaml = workloadYaml(portable?.workload ?? result.workload, host, [
    `Imported by polykernel import strace${portable !== null ? ' --portable' : ''} from ${files.join(', ')}.`,
    'Each step\'s comment is its line in the log and the host\'s result. Calls with no step are skipped (see the import summary).',
    ...(portable !== null ? ['Portable steps only: the calls with no portable form are no-ops, counted with their reason in the summary.'] : []),
  ]);
  const output = typeof opts.output === 'string' && opts.output !== '-' ? opts.output : null;
  const on = typeof opts.personality === 'string' ? opts.personality.split(',').map((x) => x.trim()).filter((x) => x !== '') : ['linux'];
  const replays: ReplayReport[] = [];
  if (output !== null) await writeFile(output, yaml);
  if (opts.check === true) {
    const dir = output === null ? await mkdtemp(join(tmpdir(), 'polykernel-import-')) : null;
    const file = output ?? join(dir!, `${name}.yaml`);
    if (dir !== null) await writeFile(file, yaml);
    try {
      for (const personality of on) {
        const r = await check(file, host, sysroot, personality);
        if (typeof r === 'string') {
          err(`polykernel import strace: ${r}`);
          return EXIT.failure;
        }
        replays.push(r);
      }
    } finally {
      if (dir !== null) await rm(dir, { recursive: true, force: true });
    }
  }
  if (opts.json === true) {
    out(JSON.stringify({
      workload: result.workload.name, files, output, lines: result.lines, calls: result.calls, steps: result.steps, signals: result.signals, limited: result.limited,
      processes: result.processes, skipped: result.skipped, warnings: result.warnings, issues: result.issues,
      portable: portable === null ? null : { steps: portable.steps, noops: portable.noops },
      check: replays[0]?.host ?? null, replays: opts.check === true ? replays : null,
    }, null, 2));
    return EXIT.ok;
  }
  // Without -o the workload is the output; the summary goes to stderr so the YAML can be piped.
  if (output === null) out(yaml.trimEnd());
  const summary = output === null ? err : out;
  summaryText(result, files, output, summary);
  if (portable !== null) portableText(portable, summary);
  for (const r of replays) replayText(r, summary, replays.length > 1 || portable !== null);
  return EXIT.ok;
}

function portableText(p: PortableImport, out: (s: string) => void): void {
  const noops = p.noops.reduce((n, s) => n + s.count, 0);
  out(`portable: ${p.steps.toLocaleString('en-US')} portable steps written; ${noops.toLocaleString('en-US')} steps with no portable form are no-ops:`);
  for (const s of p.noops) out(`  ${String(s.count).padStart(6)} ${s.call}: ${s.reason} (${s.file}:${s.line})`);
}

/** A replay's tally (with `tally`) and its comparison with the host. */
function replayText(r: ReplayReport, out: (s: string) => void, tally: boolean): void {
  if (!tally) {
    checkText(r.host, out, r.personality);
    return;
  }
  out(`${r.personality}: ${r.ran} steps ran, ${r.succeeded} succeeded, ${r.failed} failed, ${r.na.reduce((n, x) => n + x.count, 0)} n/a`);
  for (const x of r.na) out(`  ${String(x.count).padStart(6)} n/a: ${x.reason}`);
  // The n/a steps are counted above with their reason; the other differences are listed.
  const na = r.host.differences.filter((d) => d.replay.startsWith('n/a'));
  checkText({ ...r.host, differences: r.host.differences.filter((d) => !d.replay.startsWith('n/a')) }, out, r.personality);
  if (na.length > 0) out(`  (and the ${na.length} n/a steps above, which succeeded or failed on the host)`);
}

/** The bytes of a trace, streamed (plain, .gz, .xz): see refs.ts. */
export { traceChunks as traceStream } from './refs.js';

export async function runImportLackey(trace: string, opts: ImportOptions, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const limit = positiveInt(opts.limit, '--limit');
  if (typeof limit === 'string') {
    err(`polykernel import lackey: ${limit}`);
    return EXIT.usage;
  }
  if (!existsSync(trace) || !statSync(trace).isFile()) {
    err(`polykernel import lackey: ${trace}: ${existsSync(trace) ? 'is not an ordinary file' : 'No such file'}`);
    return EXIT.failure;
  }
  const name = typeof opts.name === 'string' ? opts.name : basename(trace).replace(/(\.lackey)?(\.(txt|log))?(\.(gz|xz))?$/, '');
  const replaying = typeof opts.profile === 'string' || opts.replay === true;
  const setup = refsSetup(trace, opts, 'import lackey');
  if ('message' in setup) {
    err(setup.message);
    return setup.code;
  }
  const builder = replaying ? null : new LackeyWorkloadBuilder({ name });
  const replays = replaying ? setup.profiles.map((x) => new RefsReplay(x)) : [];
  const sink = builder !== null ? builder.add : (b: RefBatch): void => {
    for (const r of replays) r.add(b);
  };
  const progress = traceProgress('import');
  const run = await replayTrace(trace, sink, { strict: opts.strict === true, ...(setup.limit !== undefined ? { limit: setup.limit } : {}) }, progress.tick);
  progress.clear();
  if (typeof run === 'string') {
    err(`polykernel import lackey: ${run}`);
    return EXIT.failure;
  }
  const { stats } = run;
  if (builder === null) {
    const json = refsReport(trace, run, replays.map((r) => r.result()), opts.json === true, out);
    if (json !== null) out(JSON.stringify(json, null, 2));
    return EXIT.ok;
  }
  const w = builder.finish();
  const yaml = workloadYaml(w.workload, new Map(), [
    `Imported by polykernel import lackey from ${trace}: ${stats.refs} references (I ${stats.byKind[0]}, L ${stats.byKind[1]}, S ${stats.byKind[2]}, M ${stats.byKind[3]}).`,
    'Every referenced page is mapped (anonymous rwx); consecutive references to one page with one access are one touch with a count.',
  ]);
  const output = typeof opts.output === 'string' && opts.output !== '-' ? opts.output : null;
  if (output !== null) await writeFile(output, yaml);
  const summary = {
    workload: w.workload.name, file: trace, output, lines: stats.lines, references: stats.refs,
    byKind: { instr: stats.byKind[0], load: stats.byKind[1], store: stats.byKind[2], modify: stats.byKind[3] },
    pages: w.pages, mappings: w.mappings, touches: w.touches, straddling: w.straddling, badLines: stats.bad, issues: stats.issues, limited: stats.limited,
  };
  if (opts.json === true) {
    out(JSON.stringify(summary, null, 2));
    return EXIT.ok;
  }
  if (output === null) out(yaml.trimEnd());
  const say = output === null ? err : out;
  say(`imported ${trace}: ${stats.refs.toLocaleString('en-US')} references (${stats.byKind[0].toLocaleString('en-US')} instruction fetches, ${stats.byKind[1].toLocaleString('en-US')} loads, ${stats.byKind[2].toLocaleString('en-US')} stores, ${stats.byKind[3].toLocaleString('en-US')} modifies)${stats.limited ? ' (stopped at --limit)' : ''}`);
  say(`  ${w.pages.toLocaleString('en-US')} pages in ${w.mappings} mappings; ${w.touches.toLocaleString('en-US')} touch steps${output !== null ? ` written to ${output}` : ''}; ${w.straddling} references straddle a page boundary (replayed on their first page)`);
  if (stats.bad > 0) {
    say(`lines skipped: ${stats.bad} (--strict refuses the trace at the first):`);
    for (const i of stats.issues) say(`  ${i.line === 0 ? '' : `${i.file}:${i.line}: `}${i.message}`);
  }
  return EXIT.ok;
}
