/**
 * Import `strace -f` output as a workload: one process per pid, a fork/vfork/clone step holding
 * the child's own steps, each call the simulator can replay as a native step, addresses rewritten
 * as places in the mapping that returned them ("munmap region libc.so.6 offset 0x1000"), so the
 * replay works wherever the simulated kernel puts things (the log was recorded with ASLR on).
 *
 * Streaming: feed lines one at a time (`StraceImporter.line`), then `finish()`. Nothing but the
 * steps themselves is kept, so a log of any length is read in one pass.
 *
 * What is simplified (and said in the report the import returns): calls with no step kind and no
 * implementation in the simulator (fstat, pread64, arch_prctl, futex, ...) are counted and
 * skipped with their reason; an address in the executable, its interpreter or the brk heap is
 * named `[exe]`/`[interp]` + ELF vaddr or `[heap]` + offset (see ImageFacts), and one on the
 * stack, whose place strace never prints, or in no known place is skipped;
 * a file not found in the sysroot is mapped as an anonymous stand-in, with a warning.
 */
import { flagList, lexStraceLine, parseCall, parseFd, parseNumber, parseProt, parseString, structFields, type ParsedCall } from './strace-line.js';

/** A step as a workload file writes it (the loader validates it: see packages/workload/README.md). */
export type ImportedStep = Record<string, unknown>;

export interface ImportedProcess {
  name: string;
  steps: ImportedStep[];
}

export interface ImportedWorkload {
  name: string;
  description: string;
  processes: ImportedProcess[];
}

/** A bad or surprising line, at its place in the log. */
export interface ImportIssue {
  file: string;
  line: number;
  message: string;
}

/** The typed error of the importers: the file and line, and what is wrong there. */
export class StraceError extends Error {
  override name = 'StraceError';
  constructor(readonly file: string, readonly line: number, readonly reason: string) {
    super(`${file}:${line}: ${reason}`);
  }
}

/** What the host returned for the call a step replays, so a replay can be compared with it. */
export interface HostResult {
  file: string;
  line: number;
  call: string;
  ok: boolean;
  /** As strace printed it: "0x7f3a12340000", "3", "-1 ENOMEM (Cannot allocate memory)". */
  result: string;
}

export interface ProcessSummary {
  pid: number;
  name: string;
  parent: number | null;
  /** Calls in the log (complete ones, after joining unfinished/resumed halves). */
  calls: number;
  steps: number;
  skipped: number;
  /** How the process ended in the log: "exited with 0", "killed by SIGSEGV", or "still running". */
  end: string;
}

export interface SkippedCalls {
  call: string;
  reason: string;
  count: number;
  /** The first line it happened on. */
  file: string;
  line: number;
}

export interface StraceImport {
  workload: ImportedWorkload;
  /** For each process (by name), the host's result of each of its steps, in step order. */
  host: Map<string, HostResult[]>;
  processes: ProcessSummary[];
  skipped: SkippedCalls[];
  warnings: ImportIssue[];
  /** Lines that are not strace output, truncated calls, resumes without a start. */
  issues: ImportIssue[];
  lines: number;
  calls: number;
  steps: number;
  signals: number;
  /** True when `limit` stopped the import before the end of the log. */
  limited: boolean;
}

export interface StraceImportOptions {
  /** The workload's name (default "strace"). */
  name?: string;
  /** Refuse the log at its first bad line (a StraceError) instead of reporting and skipping it. */
  strict?: boolean;
  /** Whether a file the program opened or mapped exists in the sysroot; default: every file does. */
  fileExists?: (path: string) => boolean;
  /** Stop after this many calls. */
  limit?: number;
  /** The most issues and warnings kept (each kind); more are counted only. */
  maxIssues?: number;
  /**
   * What an executed program's ELF file says (read from the sysroot by the caller), so addresses in
   * the executable and its interpreter, which execve maps without a call in the log, can be named
   * (see `ImageFacts`); null for a file that is not ELF or cannot be read. Default: nothing known.
   */
  image?: (path: string) => ImageFacts | null;
}

/**
 * An ELF image's layout, enough to name an address inside it: `[exe]` or `[interp]` plus the
 * address's ELF virtual address (address − load bias), which is the same in every run whatever
 * ASLR chose. The host's load bias is not in the log: a non-PIE executable (ET_EXEC) has none; a
 * PIE or the interpreter is found at ld.so's RELRO mprotect, `mprotect(bias + pageDown(relro.vaddr),
 * pageDown(relro.vaddr + relro.memsz) − pageDown(relro.vaddr), PROT_READ)` (glibc
 * elf/dl-reloc.c: _dl_protect_relro), the first such call of that length with an address in no
 * mapping, the executable before the interpreter (the order ld.so protects them in).
 */
export interface ImageFacts {
  /** ET_DYN (a PIE or ld.so: placed at a load bias) rather than ET_EXEC (at its own addresses). */
  relocatable: boolean;
  /** Lowest PT_LOAD vaddr and end of the highest (vaddr + memsz). */
  start: number;
  end: number;
  /** PT_GNU_RELRO, or null. */
  relro: { vaddr: number; memsz: number } | null;
  /** PT_INTERP, or null. */
  interpreter: string | null;
}

/** The region names of the places execve and brk make, which no mmap in the log returns. */
export const EXE_REGION = '[exe]';
export const INTERP_REGION = '[interp]';
export const HEAP_REGION = '[heap]';

const PAGE = 4096;
const MAX_ISSUES = 200;

interface Region { name: string; start: number; end: number }

/** The importer's view of one task: the names it can use (the replay copies them at fork). */
interface Task {
  pid: number;
  name: string;
  parent: number | null;
  steps: ImportedStep[];
  host: HostResult[];
  regions: Region[];
  /** Descriptor number → the name an open step gave it (only descriptors an emitted open made). */
  fds: Map<number, { name: string; path: string; inSysroot: boolean }>;
  brk: number | null;
  /** The executable and its interpreter as the last successful execve loaded them; bias null until found. */
  images: { name: string; facts: ImageFacts; bias: number | null }[];
  /** The break where the program's heap starts (the first brk's result after execve), or null. */
  heapStart: number | null;
  calls: number;
  skipped: number;
  end: string;
  /** A child's fork/vfork/clone step, waiting for the child's steps. */
  pending: { head: string; file: string; line: number } | null;
  thread: boolean;
  /**
   * False until the call that made it (the parent's clone) is seen: a child's first calls can be
   * printed before its parent's clone returns, and -ff files come one pid at a time. Its calls
   * wait here, to be translated with the parent's mappings and descriptors.
   */
  ready: boolean;
  waiting: { call: ParsedCall; file: string; line: number }[];
}

const CLONE_NAMES = new Set(['vm', 'fs', 'files', 'sighand', 'pidfd', 'ptrace', 'vfork', 'parent', 'thread', 'newns', 'sysvsem', 'settls',
  'parent_settid', 'child_cleartid', 'detached', 'untraced', 'child_settid', 'newcgroup', 'newuts', 'newipc', 'newuser', 'newpid', 'newnet', 'io']);
/** Signals the workload format and the Linux personality name (x86-64 1..31). */
const SIGNALS = new Set(['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGILL', 'SIGTRAP', 'SIGABRT', 'SIGBUS', 'SIGFPE', 'SIGKILL', 'SIGUSR1', 'SIGSEGV', 'SIGUSR2',
  'SIGPIPE', 'SIGALRM', 'SIGTERM', 'SIGSTKFLT', 'SIGCHLD', 'SIGCONT', 'SIGSTOP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGURG', 'SIGXCPU', 'SIGXFSZ',
  'SIGVTALRM', 'SIGPROF', 'SIGWINCH', 'SIGIO', 'SIGPWR', 'SIGSYS']);
const MAP_FLAGS: Record<string, string | null> = {
  MAP_PRIVATE: 'private', MAP_SHARED: 'shared', MAP_SHARED_VALIDATE: 'shared', MAP_ANONYMOUS: 'anonymous', MAP_FIXED: 'fixed', MAP_FIXED_NOREPLACE: 'fixed-noreplace',
  MAP_POPULATE: 'populate', MAP_NORESERVE: 'noreserve', MAP_GROWSDOWN: 'growsdown',
  // Ignored by the kernel (mm/mmap.c: do_mmap drops MAP_DENYWRITE and MAP_EXECUTABLE; MAP_STACK is a no-op hint).
  MAP_DENYWRITE: null, MAP_EXECUTABLE: null, MAP_STACK: null, MAP_FILE: null,
};
const OPEN_FLAGS: Record<string, string | null> = {
  O_RDONLY: 'read', O_WRONLY: 'write', O_RDWR: 'rdwr', O_CREAT: 'create', O_TRUNC: 'trunc', O_DIRECTORY: 'directory',
  // Flags that do not change what the simulated open does.
  O_CLOEXEC: null, O_NONBLOCK: null, O_LARGEFILE: null, O_NOCTTY: null, O_NOFOLLOW: null, O_NOATIME: null, O_APPEND: null, O_SYNC: null, O_DSYNC: null, O_ASYNC: null, O_EXCL: null,
};
const ADVICE: Record<string, string> = { MADV_DONTNEED: 'dontneed', MADV_WILLNEED: 'willneed', MADV_FREE: 'free' };
const WAIT_OPTIONS: Record<string, string> = { WNOHANG: 'nohang', WUNTRACED: 'untraced', __WCLONE: 'clone', __WALL: 'all' };
/** Calls the simulator implements that take no pointer: replayed as they are. */
const PLAIN_CALLS = new Set(['getpid', 'getppid', 'gettid']);

function pageUp(n: number): number {
  return Math.ceil(n / PAGE) * PAGE;
}

function pageDown(n: number): number {
  return Math.floor(n / PAGE) * PAGE;
}

/**
 * How far above the executable's end x86-64 may start the break: arch/x86/kernel/process.c
 * arch_randomize_brk, randomize_page(mm->brk, SZ_1G) for a 64-bit task (SZ_32M before Linux 6.1
 * and for 32-bit tasks; 1 GiB covers both).
 */
const BRK_RANDOM = 0x40000000;

function baseName(path: string): string {
  const b = path.slice(path.lastIndexOf('/') + 1);
  return b === '' ? 'file' : b;
}

/** Why a signal cannot be said (grouped: one reason for every real-time signal). */
function unnamedSignal(sig: string): string {
  return sig.startsWith('SIGRT') ? 'a real-time signal (SIGRTMIN+n), which the workload format does not name' : `signal ${sig} is not one the workload format names`;
}

/** A call the importer does not turn into a step: why. A value returned, not thrown (a skip is common: no exception per call). */
class Skip {
  constructor(readonly reason: string) {}
}

export class StraceImporter {
  private readonly tasks = new Map<number, Task>();
  /** Which task made each child (from the fork/clone's result), with its step. */
  private readonly children = new Map<number, { parent: number; step: Record<string, unknown> }>();
  private readonly order: number[] = [];
  private readonly skips = new Map<string, SkippedCalls>();
  private readonly warnings: ImportIssue[] = [];
  private readonly issues: ImportIssue[] = [];
  private readonly names = new Set<string>([EXE_REGION, INTERP_REGION, HEAP_REGION, '[stack]']);
  private readonly nextSuffix = new Map<string, number>();
  private warningCount = 0;
  private issueCount = 0;
  private lines = 0;
  private calls = 0;
  private signals = 0;
  private limited = false;
  private readonly strict: boolean;
  private readonly fileExists: (path: string) => boolean;
  private readonly maxIssues: number;

  constructor(private readonly opts: StraceImportOptions = {}) {
    this.strict = opts.strict === true;
    this.fileExists = opts.fileExists ?? ((): boolean => true);
    this.maxIssues = opts.maxIssues ?? MAX_ISSUES;
  }

  /** True once `limit` calls have been read: the caller may stop feeding lines. */
  get full(): boolean {
    return this.limited;
  }

  /**
   * One line of the log. `pid` is the pid of an `-ff` file (its name's suffix) or of a log
   * without pid prefixes; lines with a prefix use their own.
   */
  line(text: string, file: string, lineNo: number, pid = 0): void {
    this.lines++;
    if (this.limited) return;
    const l = lexStraceLine(text);
    if (l.kind === 'blank') return;
    if (l.kind === 'garbage') { this.issue(file, lineNo, l.reason); return; }
    const who = l.pid ?? pid;
    if (l.kind === 'strace') return;
    const t = this.task(who);
    if (l.kind === 'signal') {
      this.signals++;
      return;
    }
    if (l.kind === 'exited') {
      t.end = l.code !== null ? `exited with ${l.code}` : l.signal !== null ? `killed by ${l.signal}` : 'replaced by execve in another thread';
      if (t.pending !== null) t.pending = null; // a call the process died in never returns
      return;
    }
    if (l.kind === 'unfinished') {
      if (t.pending !== null) this.issue(t.pending.file, t.pending.line, `pid ${who}: this unfinished call is never resumed (another call of the same pid starts at line ${lineNo})`);
      t.pending = { head: l.text, file, line: lineNo };
      return;
    }
    let full: string;
    let at = { file, line: lineNo };
    if (l.kind === 'resumed') {
      const head = t.pending;
      if (head === null) { this.issue(file, lineNo, `pid ${who}: "<... ${l.name} resumed>" with no unfinished ${l.name} call before it`); return; }
      const headName = head.head.slice(0, head.head.indexOf('('));
      if (headName !== l.name) {
        t.pending = null;
        this.issue(file, lineNo, `pid ${who}: "<... ${l.name} resumed>" but the unfinished call (line ${head.line}) is ${headName}`); return;
      }
      full = head.head + l.text;
      at = { file: head.file, line: head.line };
      t.pending = null;
    } else {
      if (t.pending !== null) {
        this.issue(t.pending.file, t.pending.line, `pid ${who}: this unfinished call is never resumed (another call of the same pid starts at line ${lineNo})`);
        t.pending = null;
      }
      full = l.text;
    }
    const call = parseCall(full);
    if (typeof call === 'string') { this.issue(file, lineNo, call); return; }
    this.calls++;
    t.calls++;
    if (t.ready) this.translate(t, call, at.file, at.line);
    else t.waiting.push({ call, file: at.file, line: at.line });
    if (this.opts.limit !== undefined && this.calls >= this.opts.limit) this.limited = true;
  }

  finish(): StraceImport {
    // Processes whose parent the log never shows: top-level processes of their own.
    for (const t of this.tasks.values()) this.ready(t);
    for (const t of this.tasks.values()) {
      if (t.pending !== null) this.warn(t.pending.file, t.pending.line, `pid ${t.pid}: the log ends inside this call (it never returns)`);
    }
    // Each child's steps go into the fork/vfork/clone step that made it; the rest are processes.
    for (const [pid, c] of this.children) {
      const kid = this.tasks.get(pid);
      if (kid === undefined) continue;
      const inner = Object.values(c.step)[0] as { steps: ImportedStep[] };
      inner.steps = kid.steps;
      kid.parent = c.parent;
    }
    const top = this.order.filter((pid) => !this.children.has(pid) || !this.tasks.has(this.children.get(pid)!.parent));
    const processes = top.map((pid) => this.tasks.get(pid)!).map((t) => ({ name: t.name, steps: t.steps }));
    const host = new Map<string, HostResult[]>();
    for (const t of this.tasks.values()) host.set(t.name, t.host);
    const name = this.opts.name ?? 'strace';
    const summaries = this.order.map((pid) => this.tasks.get(pid)!).map((t) => ({ pid: t.pid, name: t.name, parent: t.parent, calls: t.calls, steps: t.steps.length, skipped: t.skipped, end: t.end }));
    if (this.issueCount > this.issues.length) this.issues.push({ file: '', line: 0, message: `... and ${this.issueCount - this.issues.length} more` });
    if (this.warningCount > this.warnings.length) this.warnings.push({ file: '', line: 0, message: `... and ${this.warningCount - this.warnings.length} more` });
    return {
      workload: { name, description: `imported from strace output: ${this.tasks.size} ${this.tasks.size === 1 ? 'process' : 'processes'}, ${this.calls} calls`, processes },
      host, processes: summaries, skipped: [...this.skips.values()].sort((a, b) => b.count - a.count || a.call.localeCompare(b.call)),
      warnings: this.warnings, issues: this.issues, lines: this.lines, calls: this.calls, steps: summaries.reduce((n, s) => n + s.steps, 0), signals: this.signals, limited: this.limited,
    };
  }

  private issue(file: string, line: number, message: string): void {
    if (this.strict) throw new StraceError(file, line, message);
    this.issueCount++;
    if (this.issues.length < this.maxIssues) this.issues.push({ file, line, message });
  }

  private warn(file: string, line: number, message: string): void {
    this.warningCount++;
    if (this.warnings.length < this.maxIssues) this.warnings.push({ file, line, message });
  }

  private task(pid: number): Task {
    let t = this.tasks.get(pid);
    if (t === undefined) {
      t = {
        pid, name: `pid${pid}`, parent: null, steps: [], host: [], regions: [], fds: new Map(), brk: null, images: [], heapStart: null, calls: 0, skipped: 0, end: 'still running',
        pending: null, thread: false, ready: this.order.length === 0, waiting: [],
      };
      this.tasks.set(pid, t);
      this.order.push(pid);
    }
    return t;
  }

  /** Translate the calls a task made before its parent's clone was seen. */
  private ready(t: Task): void {
    if (t.ready) return;
    t.ready = true;
    for (const w of t.waiting) this.translate(t, w.call, w.file, w.line);
    t.waiting = [];
  }

  /** base, base#2, base#3 ...: the next number per base is kept, so a log with thousands of "anon" maps is not quadratic. */
  private unique(base: string): string {
    let i = this.nextSuffix.get(base) ?? 2;
    let name = this.names.has(base) ? `${base}#${i}` : base;
    while (this.names.has(name)) name = `${base}#${++i}`;
    if (name !== base) this.nextSuffix.set(base, i + 1);
    this.names.add(name);
    return name;
  }

  private translate(t: Task, c: ParsedCall, file: string, line: number): void {
    const step = this.stepFor(t, c, file, line);
    if (step instanceof Skip) {
      t.skipped++;
      const key = `${c.name}\0${step.reason}`;
      const s = this.skips.get(key);
      if (s !== undefined) s.count++;
      else this.skips.set(key, { call: c.name, reason: step.reason, count: 1, file, line });
      return;
    }
    t.steps.push(step);
    t.host.push({ file, line, call: c.name, ok: c.errno === null && (c.value === null || c.value >= 0), result: c.resultText });
  }

  /** The mapping `addr` is in (the newest one, as a later MAP_FIXED covers an earlier one). */
  private place(t: Task, addr: number, what: string): { region: string; offset: number } | Skip {
    for (let i = t.regions.length - 1; i >= 0; i--) {
      const r = t.regions[i]!;
      if (addr >= r.start && addr < r.end) return { region: r.name, offset: addr - r.start };
    }
    for (const i of t.images) {
      if (i.bias !== null && addr >= i.bias + pageDown(i.facts.start) && addr < i.bias + pageUp(i.facts.end)) return { region: i.name, offset: addr - i.bias };
    }
    if (t.heapStart !== null && addr >= t.heapStart && addr < Math.max(t.brk ?? t.heapStart, t.heapStart)) return { region: HEAP_REGION, offset: addr - t.heapStart };
    return new Skip(`${what} is in no mapping this process's log created, nor in the executable, its interpreter or the brk heap (the stack's place is never in the log)`);
  }

  /** The images an execve of `path` loads: the program and its interpreter, as the sysroot has them. */
  private imagesOf(path: string): Task['images'] {
    const exe = this.opts.image?.(path) ?? null;
    if (exe === null) return [];
    const out: Task['images'] = [{ name: EXE_REGION, facts: exe, bias: exe.relocatable ? null : 0 }];
    const interp = exe.interpreter === null ? null : (this.opts.image?.(exe.interpreter) ?? null);
    if (interp !== null) out.push({ name: INTERP_REGION, facts: interp, bias: interp.relocatable ? null : 0 });
    return out;
  }

  /**
   * ld.so's RELRO mprotect of an image whose load bias is not known yet: the bias it gives (see
   * ImageFacts). A PIE's break starts above its end (within the 1 GiB arch_randomize_brk adds),
   * which rules out a match with the wrong image when the log showed the break first.
   */
  private findBias(t: Task, addr: number, length: number): void {
    for (const i of t.images) {
      const relro = i.facts.relro;
      if (i.bias !== null || relro === null) continue;
      const from = pageDown(relro.vaddr);
      if (length !== pageDown(relro.vaddr + relro.memsz) - from || (addr - from) % PAGE !== 0) continue;
      const bias = addr - from;
      const end = bias + pageUp(i.facts.end);
      if (i.name === EXE_REGION && t.heapStart !== null && (t.heapStart < end || t.heapStart > end + BRK_RANDOM)) continue;
      if (t.regions.some((r) => r.start < end && r.end > bias + pageDown(i.facts.start))) continue;
      i.bias = bias;
      return;
    }
  }

  private stepFor(t: Task, c: ParsedCall, file: string, line: number): ImportedStep | Skip {
    const a = c.args;
    switch (c.name) {
      case 'execve': return this.exec(t, c);
      case 'mmap': return this.mmap(t, c, file, line);
      case 'munmap': case 'mprotect': case 'madvise': return this.ranged(t, c);
      case 'mremap': return this.mremap(t, c);
      case 'brk': return this.brk(t, c);
      case 'clone': case 'clone3': case 'fork': case 'vfork': return this.spawn(t, c);
      case 'wait4': return this.wait(c);
      case 'kill': case 'tgkill': return this.kill(t, c);
      case 'rt_sigaction': return this.sigaction(c);
      case 'exit_group': case 'exit': {
        if (c.name === 'exit' && t.thread) return new Skip('a thread\'s exit: the replay ends a thread when its steps run out');
        const status = parseNumber(a[0] ?? '');
        return status === undefined ? new Skip('its status is not a number') : { exit: Math.min(255, Math.max(0, status % 256)) };
      }
      case 'open': case 'openat': case 'creat': return this.open(t, c);
      case 'close': {
        const fd = parseFd(a[0] ?? '');
        const known = fd === undefined || fd.fd === 'cwd' ? undefined : t.fds.get(fd.fd);
        if (known === undefined) return new Skip('a descriptor no replayed open made (inherited, a pipe, a socket, dup\'d ...)');
        if (c.errno === null) t.fds.delete(fd!.fd as number);
        return { close: { fd: known.name } };
      }
      case 'read': case 'write': {
        const fd = parseFd(a[0] ?? '');
        const known = fd === undefined || fd.fd === 'cwd' ? undefined : t.fds.get(fd.fd);
        if (known === undefined) return new Skip('a descriptor no replayed open made (inherited, a pipe, a socket, dup\'d ...)');
        const addr = parseNumber(a[1] ?? '');
        const length = parseNumber(a[2] ?? '');
        // strace prints the data, not the pointer (an address only with -e raw=read,write).
        if (addr === undefined || length === undefined) return new Skip('strace printed the buffer\'s contents, not its address: the step cannot say where the data goes');
        const at = this.place(t, addr, 'the buffer');
        if (at instanceof Skip) return at;
        return { [c.name]: { fd: known.name, region: at.region, offset: at.offset, length } };
      }
      default:
        if (PLAIN_CALLS.has(c.name)) return { syscall: { name: c.name, args: [] } };
        return new Skip('no step kind, and the simulated kernels do not implement it');
    }
  }

  /** munmap, mprotect, madvise: an address range, as a place in a mapping and a length. */
  private ranged(t: Task, c: ParsedCall): ImportedStep | Skip {
    const addr = parseNumber(c.args[0] ?? '');
    const length = parseNumber(c.args[1] ?? '');
    if (addr === undefined || length === undefined) return new Skip('an argument is not a number');
    let extra: Record<string, string>;
    if (c.name === 'mprotect') {
      const prot = parseProt(c.args[2] ?? '');
      if (prot === undefined) return new Skip(`protection ${c.args[2] ?? '(none)'} has bits the workload format cannot say (only PROT_READ, PROT_WRITE, PROT_EXEC)`);
      extra = { prot };
    } else if (c.name === 'madvise') {
      const advice = ADVICE[(c.args[2] ?? '').trim()];
      if (advice === undefined) return new Skip(`advice ${(c.args[2] ?? '').trim()} has no step (only MADV_DONTNEED, MADV_WILLNEED, MADV_FREE)`);
      extra = { advice };
    } else extra = {};
    if (c.name === 'mprotect' && extra.prot === 'r--' && c.errno === null) {
      if (this.place(t, addr, '') instanceof Skip) this.findBias(t, addr, length);
    }
    const at = this.place(t, addr, 'the address');
    if (at instanceof Skip) return at;
    if (c.name === 'munmap' && c.errno === null) t.regions = t.regions.filter((r) => r.start < addr || r.end > addr + pageUp(length));
    return { [c.name]: { region: at.region, offset: at.offset, length, ...extra } };
  }

  private exec(t: Task, c: ParsedCall): ImportedStep | Skip {
    const path = parseString(c.args[0] ?? '');
    if (path === undefined || path === '') return new Skip('the path is not a string strace printed whole');
    const argv = /^\[(.*)\]$/.exec((c.args[1] ?? '').trim());
    const args = argv === null ? undefined : splitList(argv[1]!).map(parseString);
    const step: Record<string, unknown> = { path };
    if (args?.every((x): x is string => x !== undefined)) step.argv = args;
    if (c.errno === null) {
      // A new program: the old mappings and the heap are gone (descriptors survive unless O_CLOEXEC, which the simulation does not track).
      t.regions = [];
      t.brk = null;
      t.heapStart = null;
      t.images = this.imagesOf(path);
    }
    return { exec: step };
  }

  private mmap(t: Task, c: ParsedCall, file: string, line: number): ImportedStep | Skip {
    const a = c.args;
    const addr = parseNumber(a[0] ?? '');
    const length = parseNumber(a[1] ?? '');
    const prot = parseProt(a[2] ?? '');
    const offset = parseNumber(a[5] ?? '0');
    if (addr === undefined || length === undefined || offset === undefined) return new Skip('an argument is not a number');
    if (prot === undefined) return new Skip(`protection ${a[2] ?? ''} has bits the workload format cannot say`);
    const flags: string[] = [];
    for (const f of flagList(a[3] ?? '')) {
      const w = MAP_FLAGS[f];
      if (w === undefined) return new Skip(`flag ${f} has no equivalent in the workload format`);
      if (w !== null && !flags.includes(w)) flags.push(w);
    }
    if (flags.includes('private') === flags.includes('shared')) return new Skip('neither MAP_PRIVATE nor MAP_SHARED (or both)');
    const step: Record<string, unknown> = {};
    let base = 'anon';
    if (!flags.includes('anonymous')) {
      const fd = parseFd(a[4] ?? '');
      const known = fd === undefined || fd.fd === 'cwd' ? undefined : t.fds.get(fd.fd);
      const path = known?.path ?? fd?.path ?? null;
      base = path === null ? 'file' : baseName(path);
      if (known?.inSysroot === true) step.fd = known.name;
      else {
        // Stand-in: anonymous memory of the same size and protection, so the address space has the same shape.
        this.warn(file, line, `${path ?? `descriptor ${a[4] ?? '?'}`}: ${known === undefined ? 'not opened by a replayed open' : 'not in the sysroot'}; mapped as anonymous memory instead`);
        flags.push('anonymous');
        base = `${base}-standin`;
      }
    }
    const fixed = flags.includes('fixed') || flags.includes('fixed-noreplace');
    const name = this.unique(base);
    const ordered: Record<string, unknown> = { name, length, prot, flags };
    if (addr !== 0) {
      const at = this.place(t, addr, 'the fixed address');
      // A hint outside every known mapping is only a hint: the kernel may place it anywhere.
      if (!(at instanceof Skip)) ordered.addr = at;
      else if (fixed) return at;
    }
    Object.assign(ordered, step);
    if (step.fd !== undefined && offset !== 0) ordered.offset = offset;
    if (c.errno === null && c.value !== null) t.regions.push({ name, start: c.value, end: c.value + pageUp(length) });
    return { mmap: ordered };
  }

  private mremap(t: Task, c: ParsedCall): ImportedStep | Skip {
    const old = parseNumber(c.args[0] ?? '');
    const oldLength = parseNumber(c.args[1] ?? '');
    const newLength = parseNumber(c.args[2] ?? '');
    if (old === undefined || oldLength === undefined || newLength === undefined) return new Skip('an argument is not a number');
    const flags = flagList(c.args[3] ?? '');
    if (flags.some((f) => f !== 'MREMAP_MAYMOVE')) return new Skip(`flags ${flags.join('|')}: the mremap step has only MREMAP_MAYMOVE`);
    const r = [...t.regions].reverse().find((x) => x.start === old);
    if (r === undefined || pageUp(oldLength) !== r.end - r.start) return new Skip('it does not resize a whole mapping the log created (the mremap step resizes a named mapping from its start)');
    if (c.errno === null && c.value !== null) {
      r.start = c.value;
      r.end = c.value + pageUp(newLength);
    }
    return { mremap: { region: r.name, newLength, mayMove: flags.includes('MREMAP_MAYMOVE') } };
  }

  private brk(t: Task, c: ParsedCall): ImportedStep | Skip {
    const to = parseNumber(c.args[0] ?? '');
    if (to === undefined) return new Skip('the address is not a number');
    const now = t.brk;
    if (c.value !== null) t.brk = c.value;
    // The first break a program sees is where its heap starts (mm->start_brk).
    if (now === null && to === 0 && c.value !== null) t.heapStart = c.value;
    // brk(NULL) asks for the current break; brk(addr) moves it: relative to where it was, as the heap's start differs per run.
    if (to === 0) return { syscall: { name: 'brk', args: [0] } };
    if (now === null) return new Skip('it moves the break before the log shows where the break is (no brk(NULL) first)');
    return { brk: { delta: to - now } };
  }

  private spawn(t: Task, c: ParsedCall): ImportedStep | Skip {
    let kind = c.name === 'clone3' ? 'clone' : c.name;
    let flags: string[] = [];
    let signal: string | undefined;
    if (c.name === 'clone' || c.name === 'clone3') {
      const fields = c.name === 'clone3' ? structFields(c.args[0] ?? '') : new Map(c.args.map((x) => [x.slice(0, x.indexOf('=')), x.slice(x.indexOf('=') + 1)]));
      for (const f of flagList(fields.get('flags') ?? '')) {
        if (f.startsWith('SIG')) signal = f;
        else if (f.startsWith('CLONE_') && CLONE_NAMES.has(f.slice(6).toLowerCase())) flags.push(f.slice(6).toLowerCase());
        else return new Skip(`clone flag ${f} has no equivalent in the workload format`);
      }
      const exitSignal = fields.get('exit_signal');
      if (exitSignal !== undefined && exitSignal !== '0') signal = exitSignal;
      // glibc's fork() is clone(SIGCHLD | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID): a fork as the workload says it.
      if (flags.every((f) => f === 'child_settid' || f === 'child_cleartid') && signal === 'SIGCHLD') {
        kind = 'fork';
        flags = [];
      }
    }
    if (signal !== undefined && !SIGNALS.has(signal)) return new Skip(unnamedSignal(signal));
    const inner: Record<string, unknown> = {};
    if (kind === 'clone') {
      inner.flags = flags;
      if (signal !== undefined) inner.signal = signal;
    }
    const step: Record<string, unknown> = { [kind]: inner };
    if (c.errno === null && c.value !== null && c.value > 0) {
      const kid = this.task(c.value);
      inner.as = kid.name;
      if (!kid.ready) {
        kid.regions = t.regions.map((r) => ({ ...r }));
        kid.fds = new Map(t.fds);
        kid.brk = t.brk;
        kid.images = t.images.map((i) => ({ ...i }));
        kid.heapStart = t.heapStart;
        kid.thread = flags.includes('thread');
        this.children.set(c.value, { parent: t.pid, step });
        this.ready(kid);
      }
    }
    inner.steps = [];
    return step;
  }

  private wait(c: ParsedCall): ImportedStep | Skip {
    const pid = parseNumber(c.args[0] ?? '');
    if (pid === undefined) return new Skip('the pid is not a number');
    const options: string[] = [];
    for (const o of flagList(c.args[2] ?? '')) {
      const w = WAIT_OPTIONS[o];
      if (w === undefined) return new Skip(`option ${o} has no equivalent in the workload format`);
      options.push(w);
    }
    const wait: Record<string, unknown> = {};
    if (pid > 0) {
      if (!this.tasks.has(pid)) return new Skip(`it waits for pid ${pid}, which the log does not show`);
      wait.for = this.tasks.get(pid)!.name;
    } else if (pid !== -1) return new Skip('it waits for a process group, which the workload format cannot say');
    if (options.length > 0) wait.options = options;
    return { wait };
  }

  private kill(t: Task, c: ParsedCall): ImportedStep | Skip {
    const tg = c.name === 'tgkill';
    const pid = parseNumber(c.args[0] ?? '');
    const signal = (c.args[tg ? 2 : 1] ?? '').trim();
    if (pid === undefined || pid <= 0) return new Skip('it signals a process group or every process, which the workload format cannot say');
    // tgkill(tgid, tid, sig) with tid == tgid is raise() in a single-threaded process: a kill of itself.
    if (tg && parseNumber(c.args[1] ?? '') !== pid) return new Skip('it signals one thread of a process, which the workload format cannot say');
    if (!SIGNALS.has(signal) && signal !== '0') return new Skip(unnamedSignal(signal));
    const process = pid === t.pid ? 'self' : this.tasks.get(pid)?.name;
    if (process === undefined) return new Skip(`pid ${pid} is not in the log`);
    return { kill: { process, signal: signal === '0' ? 0 : signal } };
  }

  private sigaction(c: ParsedCall): ImportedStep | Skip {
    const signal = (c.args[0] ?? '').trim();
    if (!SIGNALS.has(signal)) return new Skip(unnamedSignal(signal));
    const act = (c.args[1] ?? '').trim();
    if (act === 'NULL') return new Skip('it only reads the action (act is NULL): nothing to replay');
    const handler = structFields(act).get('sa_handler');
    if (handler === undefined) return new Skip('the new action is not printed (a pointer strace could not read)');
    return { sigaction: { signal, action: handler === 'SIG_DFL' ? 'default' : handler === 'SIG_IGN' ? 'ignore' : 'handle' } };
  }

  private open(t: Task, c: ParsedCall): ImportedStep | Skip {
    const at = c.name === 'openat';
    let path = parseString(c.args[at ? 1 : 0] ?? '');
    if (path === undefined || path === '') return new Skip('the path is not a string strace printed whole');
    if (at) {
      const dir = parseFd(c.args[0] ?? '');
      if (dir?.fd !== 'cwd' && !path.startsWith('/')) return new Skip('a path relative to a directory descriptor, which the open step cannot say');
      // -y shows the working directory: "AT_FDCWD</home/me>".
      if (!path.startsWith('/') && dir?.path != null) path = `${dir.path.replace(/\/$/, '')}/${path}`;
    }
    const flagText = c.name === 'creat' ? 'O_WRONLY|O_CREAT|O_TRUNC' : (c.args[at ? 2 : 1] ?? 'O_RDONLY');
    const flags: string[] = [];
    for (const f of flagList(flagText)) {
      const w = OPEN_FLAGS[f];
      if (w === undefined) return new Skip(`flag ${f} has no equivalent in the open step`);
      if (w !== null) flags.push(w);
    }
    if (!flags.some((f) => f === 'read' || f === 'write' || f === 'rdwr')) flags.unshift('read');
    const ok = c.errno === null && c.value !== null && c.value >= 0;
    const inSysroot = this.fileExists(path);
    const name = ok ? `fd${c.value!}` : 'failed-open';
    if (ok) t.fds.set(c.value!, { name, path: c.path ?? path, inSysroot });
    return { open: { path, as: name, flags } };
  }
}

/** The elements of a printed array's inside ("a", "b"), split at top-level commas; strace's "..." for a cut array is dropped. */
function splitList(s: string): string[] {
  if (s.trim() === '') return [];
  const out: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === '"') {
      for (i++; i < s.length && s[i] !== '"'; i++) if (s[i] === '\\') i++;
      continue;
    }
    if (ch === '[' || ch === '{' || ch === '(') depth++;
    else if (ch === ']' || ch === '}' || ch === ')') depth--;
    else if (ch === ',' && depth === 0) {
      out.push(s.slice(from, i).trim());
      from = i + 1;
    }
  }
  out.push(s.slice(from).trim());
  return out.filter((x) => x !== '...');
}

/** Import a whole log held in memory (tests, small files). `file` names it in messages. */
export function importStraceText(text: string, file = '<strace>', opts: StraceImportOptions = {}, pid = 0): StraceImport {
  const imp = new StraceImporter(opts);
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (let i = 0; i < lines.length && !imp.full; i++) imp.line(lines[i]!, file, i + 1, pid);
  return imp.finish();
}
