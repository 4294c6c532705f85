/**
 * An imported strace workload in portable steps, so it runs on every personality with a portable
 * driver (FreeBSD, Windows, Cygwin as well as Linux). The importer writes Linux's own calls
 * (mmap, munmap, mprotect, brk, clone ...); here each one with a portable meaning becomes that
 * intent, and every other one is kept as a counted no-op with its reason:
 *
 *   native step                                   portable step
 *   mmap anonymous private (no MAP_FIXED)         alloc { name, size, prot }     (the address hint is dropped)
 *   mmap of a file (no MAP_FIXED)                 mapFile { name, path, prot, shared, length, offset }
 *   munmap of a whole mapping, from its start     free { region }
 *   mprotect of a whole mapping                   protect { region, prot }
 *   fork / vfork / clone without CLONE_VM         fork { as, steps }
 *   ... whose child's first successful step is    spawn { path, argv, as, steps: the child's steps after it }
 *       an execve (fork + exec, posix_spawn's     (the child's calls before the execve are no-ops: a
 *       clone(CLONE_VM|CLONE_VFORK))              spawn has no steps before its program starts)
 *   exec, exit, open, read, write, close          the same step (open with O_DIRECTORY: a no-op)
 *   wait without options                          wait { for }  (wait4(-1): the child the host's call collected)
 *
 * No-ops: MAP_FIXED mappings (ld.so placing segments inside its reservation: a portable alloc
 * cannot choose its address), MAP_GROWSDOWN, MAP_NORESERVE (an alloc commits) and shared
 * anonymous memory, a munmap or mprotect of part of a mapping (RELRO, guard pages), brk, mremap, madvise, kill, rt_sigaction, wait4 with
 * options, getpid and the other raw calls, and threads (clone with CLONE_VM and no CLONE_VFORK)
 * with all of their calls. The host's result of each kept step is kept with it, so `run` still
 * compares the replay with the host.
 */
import type { HostResult, ImportedStep, ImportedWorkload, SkippedCalls } from './strace.js';

/** What `portableWorkload` returns: the workload, the host results of its steps, and the no-ops. */
export interface PortableImport {
  workload: ImportedWorkload;
  host: Map<string, HostResult[]>;
  /** Steps of the native workload with no portable form: by call and reason, most frequent first. */
  noops: SkippedCalls[];
  /** Portable steps written (children's included). */
  steps: number;
}

const PAGE = 4096;
const pageUp = (n: number): number => Math.ceil(n / PAGE) * PAGE;

/** What one process has named so far: mappings (their length) and descriptors (their path). */
interface Names {
  regions: Map<string, number>;
  fds: Map<string, string>;
  /** Descriptors whose open is a no-op: their reads, writes and close are no-ops too. */
  dropped: Set<string>;
}

type Body = Record<string, unknown>;

/** A native step turned portable, or the reason it is a no-op. */
type Translated = { step: ImportedStep; host: HostResult | undefined } | { noop: string; host: HostResult | undefined; nested: Dropped[] };
/** A no-op found inside a dropped step (a thread's calls). */
interface Dropped { reason: string; host: HostResult | undefined }

const NO_PORTABLE: Record<string, string> = {
  brk: 'the program break has no portable step (a heap is alloc\'d memory on the other kernels)',
  mremap: 'mremap has no portable step (resizing a mapping in place is Linux\'s)',
  madvise: 'madvise has no portable step',
  kill: 'signals have no portable step',
  sigaction: 'signal actions have no portable step',
  oomScoreAdj: 'oom_score_adj is Linux\'s',
};

class Translator {
  readonly host = new Map<string, HostResult[]>();
  private readonly noops = new Map<string, SkippedCalls>();
  steps = 0;

  constructor(private readonly native: ReadonlyMap<string, readonly HostResult[]>) {}

  /** A process's steps (hosted under `name`), translated with the names it inherited. */
  process(name: string, steps: readonly ImportedStep[], names: Names): ImportedStep[] {
    const host = this.native.get(name) ?? [];
    const out: ImportedStep[] = [];
    const kept: HostResult[] = [];
    steps.forEach((s, i) => {
      const t = this.step(s, host[i], names);
      if ('step' in t) {
        out.push(t.step);
        if (t.host !== undefined) kept.push(t.host);
        this.steps++;
      } else {
        this.noop(t.noop, t.host);
        for (const d of t.nested) this.noop(d.reason, d.host);
      }
    });
    this.host.set(name, kept);
    return out;
  }

  result(): SkippedCalls[] {
    return [...this.noops.values()].sort((a, b) => b.count - a.count || a.call.localeCompare(b.call));
  }

  private noop(reason: string, h: HostResult | undefined): void {
    const call = h?.call ?? '?';
    const key = `${call}\0${reason}`;
    const s = this.noops.get(key);
    if (s !== undefined) s.count++;
    else this.noops.set(key, { call, reason, count: 1, file: h?.file ?? '', line: h?.line ?? 0 });
  }

  private step(s: ImportedStep, h: HostResult | undefined, names: Names): Translated {
    const [kind, raw] = Object.entries(s)[0]!;
    const b = (typeof raw === 'object' && raw !== null ? raw : {}) as Body;
    const keep = (step: ImportedStep): Translated => ({ step, host: h });
    const noop = (reason: string, nested: Dropped[] = []): Translated => ({ noop: reason, host: h, nested });
    const hostOk = h?.ok !== false;
    switch (kind) {
      case 'exec':
        if (hostOk) names.regions.clear();
        return keep(s);
      case 'exit':
        return keep(s);
      case 'read': case 'write': case 'close':
        if (names.dropped.has(String(b.fd))) return noop('its descriptor\'s open has no portable form');
        return keep(s);
      case 'open': {
        const flags = b.flags as string[];
        if (flags.includes('directory')) {
          names.dropped.add(b.as as string);
          return noop('O_DIRECTORY (reading a directory) has no portable open');
        }
        names.dropped.delete(b.as as string);
        if (hostOk) names.fds.set(b.as as string, b.path as string);
        return keep(s);
      }
      case 'mmap': return this.mmap(b, h, names);
      case 'munmap': case 'mprotect': {
        const length = names.regions.get(b.region as string);
        if (length === undefined) return noop('the mapping it changes has no portable step (a MAP_FIXED segment, or one made by a call with none)');
        const whole = b.offset === 0 && pageUp(b.length as number) >= length;
        if (!whole) return noop(`${kind === 'munmap' ? 'unmaps' : 'protects'} part of a mapping (RELRO, a guard page, a trimmed reservation): ${kind === 'munmap' ? 'free' : 'protect'} takes a whole region`);
        if (kind === 'mprotect') return keep({ protect: { region: b.region, prot: b.prot } });
        if (hostOk) names.regions.delete(b.region as string);
        return keep({ free: { region: b.region } });
      }
      case 'wait': {
        const options = (b.options as string[] | undefined) ?? [];
        if (options.length > 0) return noop(`wait4's options (${options.join(', ')}) have no portable form`);
        // wait4(-1): the child the host's call collected, by name (a Win32 wait needs the child's handle).
        const got = h?.ok === true && b.for === undefined ? /^(\d+)/.exec(h.result)?.[1] : undefined;
        if (got !== undefined && this.native.has(`pid${got}`)) return keep({ wait: { for: `pid${got}` } });
        return keep(s);
      }
      case 'fork': case 'vfork': case 'clone': return this.child(kind, b, h, names);
      case 'syscall':
        return noop(`a raw Linux system call (${String(b.name)}): no portable step`);
      default:
        return noop(NO_PORTABLE[kind] ?? `${kind} has no portable step`);
    }
  }

  private mmap(b: Body, h: HostResult | undefined, names: Names): Translated {
    const flags = b.flags as string[];
    const noop = (reason: string): Translated => ({ noop: reason, host: h, nested: [] });
    if (flags.includes('fixed') || flags.includes('fixed-noreplace')) return noop('MAP_FIXED (ld.so placing a segment inside its reservation): a portable alloc or mapFile cannot choose its address');
    if (flags.includes('growsdown')) return noop('MAP_GROWSDOWN (a stack that grows) has no portable step');
    // An alloc commits what it maps (VirtualAlloc MEM_COMMIT; mmap without MAP_NORESERVE is charged to the commit limit).
    if (flags.includes('noreserve')) return noop('MAP_NORESERVE (address space reserved without commit charge) has no portable step: an alloc commits its memory');
    const shared = flags.includes('shared');
    const name = b.name as string;
    const length = b.length as number;
    let step: ImportedStep;
    if (flags.includes('anonymous')) {
      if (shared) return noop('shared anonymous memory has no portable step (alloc is private)');
      step = { alloc: { name, size: length, prot: b.prot } };
    } else {
      const path = names.fds.get(b.fd as string);
      if (path === undefined) return noop('a file whose open has no portable step');
      step = { mapFile: { name, path, prot: b.prot, shared, length, ...(typeof b.offset === 'number' && b.offset !== 0 ? { offset: b.offset } : {}) } };
    }
    if (h?.ok !== false) names.regions.set(name, pageUp(length));
    return { step, host: h };
  }

  /**
   * A fork, vfork or clone: a fork with the child's portable steps, or, when the child's first
   * successful call that becomes a step is an execve, a spawn of that program.
   */
  private child(kind: string, b: Body, h: HostResult | undefined, names: Names): Translated {
    const flags = kind === 'clone' && Array.isArray(b.flags) ? (b.flags as string[]) : [];
    const as = b.as as string | undefined;
    const native = (b.steps as ImportedStep[] | undefined) ?? [];
    const kidHost = as === undefined ? [] : (this.native.get(as) ?? []);
    const vm = flags.includes('vm');
    if (vm && !flags.includes('vfork')) {
      const why = 'in a thread (clone with CLONE_VM): the portable steps have no threads';
      if (as !== undefined) this.host.set(as, []);
      return { noop: 'a thread (clone with CLONE_VM, no CLONE_VFORK): the portable steps have no threads', host: h, nested: dropAll(native, kidHost, why, this.native) };
    }
    // A child the log shows (a failed fork has none): its first successful execve, if any.
    const exec = as === undefined ? -1 : native.findIndex((s, i) => 'exec' in s && kidHost[i]?.ok !== false);
    if (as === undefined || exec < 0) {
      if (vm) return { noop: 'clone(CLONE_VM|CLONE_VFORK) with no execve after it: a child sharing its parent\'s memory has no portable step', host: h, nested: dropAll(native, kidHost, 'in a child sharing its parent\'s memory', this.native) };
      const kid: Names = { regions: new Map(names.regions), fds: new Map(names.fds), dropped: new Set(names.dropped) };
      return { step: { fork: as === undefined ? { steps: [] } : { as, steps: this.process(as, native, kid) } }, host: h };
    }
    // fork + execve (or posix_spawn): one spawn; what the child did before its execve has no step.
    const before = native.slice(0, exec);
    const e = (native[exec] as { exec: { path: string; argv?: string[] } }).exec;
    const after = native.slice(exec + 1);
    const afterHost = kidHost.slice(exec + 1);
    // The child's steps after its execve, hosted under its name from their own first step on.
    const sub = new Translator(new Map([...this.native, [as, afterHost]]));
    const steps = sub.process(as, after, { regions: new Map(), fds: new Map(names.fds), dropped: new Set(names.dropped) });
    this.adopt(sub);
    const inner: Body = { path: e.path };
    if (e.argv !== undefined) inner.argv = e.argv;
    inner.as = as;
    inner.steps = steps;
    const dropped: Dropped[] = [
      ...dropAll(before, kidHost.slice(0, exec), 'done in the child before its execve: a spawn has no steps before its program starts', this.native),
      { reason: 'the execve a spawn makes (its result is the spawn\'s)', host: kidHost[exec] },
    ];
    // Recorded as one no-op per dropped step of the child; the fork itself becomes the spawn.
    for (const d of dropped) this.noop(d.reason, d.host);
    return { step: { spawn: inner }, host: h };
  }

  /** Take a child translator's results: its steps, host lists and no-ops. */
  private adopt(sub: Translator): void {
    this.steps += sub.steps;
    for (const [name, list] of sub.host) this.host.set(name, list);
    for (const n of sub.noops.values()) {
      const key = `${n.call}\0${n.reason}`;
      const mine = this.noops.get(key);
      if (mine !== undefined) mine.count += n.count;
      else this.noops.set(key, { ...n });
    }
  }
}

/** Every step of a dropped child (and its own children), as no-ops with one reason. */
function dropAll(steps: readonly ImportedStep[], host: readonly HostResult[], reason: string, all: ReadonlyMap<string, readonly HostResult[]>): Dropped[] {
  return steps.flatMap((s, i) => {
    const body = Object.values(s)[0] as { steps?: ImportedStep[]; as?: string } | null;
    const nested = typeof body === 'object' && body !== null && Array.isArray(body.steps) ? dropAll(body.steps, all.get(body.as ?? '') ?? [], reason, all) : [];
    return [{ reason, host: host[i] }, ...nested];
  });
}

/**
 * The portable form of an imported workload (see the table above). `host` is the importer's:
 * each process's host results in step order; the result keeps the entries of the kept steps.
 */
export function portableWorkload(w: ImportedWorkload, host: ReadonlyMap<string, readonly HostResult[]>): PortableImport {
  const t = new Translator(host);
  const processes = w.processes.map((p) => ({ name: p.name, steps: t.process(p.name, p.steps, { regions: new Map(), fds: new Map(), dropped: new Set() }) }));
  return {
    workload: { name: w.name, description: `${w.description}; portable steps only (polykernel import strace --portable)`, processes },
    host: t.host, noops: t.result(), steps: t.steps,
  };
}
