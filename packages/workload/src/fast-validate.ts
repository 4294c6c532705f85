/**
 * A hand-written validator for the common shapes of a workload (the top level, processes, and
 * the step kinds generated workloads are made of: mmap, munmap, mprotect, touch, madvise, alloc,
 * free, protect) that builds exactly the output the zod schema builds, key for key, several times
 * faster (docs/benchmarks.md, "workload: loading speed"). It never reports an error: anything it does not recognise as plainly valid (an
 * unusual field, a wrong type, a step of another kind) it hands to zod, step by step, and a
 * workload zod refuses is reported by the careful parser with positions. fast-validate.test.ts
 * checks against zod that both give the same result on random workloads, valid and invalid.
 */
import { parseProt } from '@polykernel/core';
import { parseSize, stepSchema, workloadSchema, type Step, type Workload } from './schema.js';

const MMAP_FLAGS = new Set(['private', 'shared', 'anonymous', 'fixed', 'fixed-noreplace', 'populate', 'noreserve', 'growsdown']);
const ACCESS = new Set(['read', 'write', 'exec']);
const PATTERN = new Set(['sequential', 'random', 'stride']);
const ADVICE = new Set(['dontneed', 'willneed', 'free']);

type Fields = Record<string, unknown>;

/**
 * Size strings ("64K") and protections ("rw-") repeat across a generated workload: remember the
 * last few thousand answers instead of running parseSize's regular expressions on every step.
 */
const MEMO_LIMIT = 4096;
const sizeMemo = new Map<string, number | undefined>();
const protMemo = new Map<string, number | undefined>();

function memo(m: Map<string, number | undefined>, key: string, f: (s: string) => number | undefined): number | undefined {
  const hit = m.get(key);
  if (hit !== undefined || m.has(key)) return hit;
  if (m.size >= MEMO_LIMIT) m.clear();
  const v = f(key);
  m.set(key, v);
  return v;
}

function sizeOf(v: unknown): number | undefined {
  return typeof v === 'string' ? memo(sizeMemo, v, parseSize) : parseSize(v);
}

/** A plain mapping (js-yaml's objects) whose keys are all among `allowed`, or null. */
function fieldsOf(v: unknown, allowed: ReadonlySet<string>): Fields | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  // js-yaml's mappings are plain objects with string keys only (no symbols, none inherited).
  for (const k in v) if (!allowed.has(k)) return null;
  return v as Fields;
}

function name(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/** A size with zod's `size.default(0)`: absent is 0. */
function sizeOr0(f: Fields, key: string): number | undefined {
  return Object.hasOwn(f, key) ? sizeOf(f[key]) : 0;
}

function protOf(v: unknown): number | undefined {
  return typeof v === 'string' ? memo(protMemo, v, parseProt) : undefined;
}

/**
 * The region, offset and length every ranged step has, in the schema's key order. Callers copy
 * the three into an object literal (a spread would give the step an out-of-object property store).
 */
function ranged(f: Fields): { region: string; offset: number; length: number } | undefined {
  const region = name(f.region);
  const offset = sizeOr0(f, 'offset');
  const length = sizeOf(f.length);
  if (region === undefined || offset === undefined || length === undefined) return undefined;
  return { region, offset, length };
}

const MMAP_KEYS = new Set(['name', 'length', 'prot', 'flags', 'addr']);
function mmap(v: unknown): Step | undefined {
  const f = fieldsOf(v, MMAP_KEYS);
  if (f === null) return undefined;
  const nm = name(f.name);
  const length = sizeOf(f.length);
  const prot = protOf(f.prot);
  const flags = f.flags;
  if (nm === undefined || length === undefined || prot === undefined || !Array.isArray(flags) || flags.length === 0) return undefined;
  let priv = false;
  let shared = false;
  for (const flag of flags) {
    if (typeof flag !== 'string' || !MMAP_FLAGS.has(flag)) return undefined;
    if (flag === 'private') priv = true;
    if (flag === 'shared') shared = true;
  }
  if (priv === shared) return undefined;
  // A copy: js-yaml grew its array by pushing, with room for 17 elements.
  if (!Object.hasOwn(f, 'addr')) return { mmap: { name: nm, length, prot, flags: (flags as string[]).slice() } } as Step;
  // Only a plain size here; a { region, offset } address goes to zod.
  const addr = typeof f.addr === 'object' ? undefined : sizeOf(f.addr);
  if (addr === undefined) return undefined;
  return { mmap: { name: nm, length, prot, flags: (flags as string[]).slice(), addr } } as Step;
}

const RANGED_KEYS = new Set(['region', 'offset', 'length']);
function munmap(v: unknown): Step | undefined {
  const f = fieldsOf(v, RANGED_KEYS);
  const r = f === null ? undefined : ranged(f);
  return r === undefined ? undefined : { munmap: r };
}

const MPROTECT_KEYS = new Set(['region', 'offset', 'length', 'prot']);
function mprotect(v: unknown): Step | undefined {
  const f = fieldsOf(v, MPROTECT_KEYS);
  const r = f === null ? undefined : ranged(f);
  const prot = f === null ? undefined : protOf(f.prot);
  return r === undefined || prot === undefined ? undefined : { mprotect: { region: r.region, offset: r.offset, length: r.length, prot } };
}

const MADVISE_KEYS = new Set(['region', 'offset', 'length', 'advice']);
function madvise(v: unknown): Step | undefined {
  const f = fieldsOf(v, MADVISE_KEYS);
  const r = f === null ? undefined : ranged(f);
  if (f === null || r === undefined || typeof f.advice !== 'string' || !ADVICE.has(f.advice)) return undefined;
  return { madvise: { region: r.region, offset: r.offset, length: r.length, advice: f.advice } } as Step;
}

/** touch without stride, count or seed (those go to zod). */
const TOUCH_KEYS = new Set(['region', 'offset', 'length', 'access', 'pattern']);
function touch(v: unknown): Step | undefined {
  const f = fieldsOf(v, TOUCH_KEYS);
  const r = f === null ? undefined : ranged(f);
  if (f === null || r === undefined) return undefined;
  const access = Object.hasOwn(f, 'access') ? f.access : 'read';
  const pattern = Object.hasOwn(f, 'pattern') ? f.pattern : 'sequential';
  if (typeof access !== 'string' || !ACCESS.has(access) || typeof pattern !== 'string' || !PATTERN.has(pattern)) return undefined;
  return { touch: { region: r.region, offset: r.offset, length: r.length, access, pattern } } as Step;
}

const ALLOC_KEYS = new Set(['name', 'size', 'prot']);
function alloc(v: unknown): Step | undefined {
  const f = fieldsOf(v, ALLOC_KEYS);
  if (f === null) return undefined;
  const nm = name(f.name);
  const size = sizeOf(f.size);
  const prot = protOf(f.prot);
  return nm === undefined || size === undefined || prot === undefined ? undefined : { alloc: { name: nm, size, prot } };
}

const REGION_KEYS = new Set(['region']);
function free(v: unknown): Step | undefined {
  const f = fieldsOf(v, REGION_KEYS);
  const region = f === null ? undefined : name(f.region);
  return region === undefined ? undefined : { free: { region } };
}

const PROTECT_KEYS = new Set(['region', 'prot']);
function protect(v: unknown): Step | undefined {
  const f = fieldsOf(v, PROTECT_KEYS);
  if (f === null) return undefined;
  const region = name(f.region);
  const prot = protOf(f.prot);
  return region === undefined || prot === undefined ? undefined : { protect: { region, prot } };
}

const FAST_KINDS: Readonly<Record<string, (v: unknown) => Step | undefined>> = { mmap, munmap, mprotect, madvise, touch, alloc, free, protect };

const FAST_KIND_NAMES = new Set(Object.keys(FAST_KINDS));

/** A step the fast path knows, checked by hand; undefined for anything else. */
export function fastStep(v: unknown): Step | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  let kind: string | undefined;
  for (const k in v) {
    if (kind !== undefined || !FAST_KIND_NAMES.has(k)) return undefined;
    kind = k;
  }
  if (kind === undefined) return undefined;
  return FAST_KINDS[kind]!((v as Fields)[kind]);
}

/** A step: by hand when the fast path knows it, else by zod; undefined when it is invalid. */
function validStep(v: unknown): Step | undefined {
  const fast = fastStep(v);
  if (fast !== undefined) return fast;
  const r = stepSchema.safeParse(v);
  return r.success ? r.data : undefined;
}

const TOP_KEYS = new Set(['name', 'description', 'personality', 'processes']);
const PROCESS_KEYS = new Set(['name', 'steps']);

/**
 * The workload zod would produce from `data`, or undefined when it is not plainly valid (then
 * zod, with positions, says why). Top-level fields beyond name, description, personality and
 * processes send the whole document to zod.
 */
export function fastWorkload(data: unknown): Workload | undefined {
  const top = fieldsOf(data, TOP_KEYS);
  if (top === null) return viaZod(data);
  const nm = name(top.name);
  const procs = top.processes;
  if (nm === undefined || !Array.isArray(procs) || procs.length === 0) return undefined;
  if ((Object.hasOwn(top, 'description') && typeof top.description !== 'string') || (Object.hasOwn(top, 'personality') && typeof top.personality !== 'string')) return undefined;
  const processes: Workload['processes'] = [];
  for (const p of procs as unknown[]) {
    const f = fieldsOf(p, PROCESS_KEYS);
    const pname = f === null ? undefined : name(f.name);
    if (f === null || pname === undefined || !Array.isArray(f.steps)) return undefined;
    const input = f.steps as unknown[];
    // Pushed, not new Array(n): V8 makes a large preallocated array a slow dictionary.
    const steps: Step[] = [];
    for (const item of input) {
      const s = validStep(item);
      if (s === undefined) return undefined;
      steps.push(s);
    }
    processes.push({ name: pname, steps });
  }
  const w: Record<string, unknown> = { name: nm };
  if (Object.hasOwn(top, 'description')) w.description = top.description;
  if (Object.hasOwn(top, 'personality')) w.personality = top.personality;
  w.processes = processes;
  return w as Workload;
}

function viaZod(data: unknown): Workload | undefined {
  const r = workloadSchema.safeParse(data);
  return r.success ? r.data : undefined;
}
