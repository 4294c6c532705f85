/**
 * The workload format: a named list of processes, each a list of steps — native memory calls
 * (mmap, munmap, mprotect, brk, mremap, madvise), memory touches, stores and loads, process calls
 * (fork, vfork, clone with the child's own steps; exec, exit, wait, kill) and file calls (open,
 * read, write, close). Sizes and addresses are numbers or strings ("64K", "2M", "1G",
 * "0x7f0000000000"); protections are "rwx" letters.
 *
 * Steps are portable or native. Portable steps (alloc, free, protect, touch, store, load, fork,
 * spawn, exec, exit, wait, mapFile, open, read, write, close) say what a program wants and run on
 * every personality through its portable driver (@polykernel/kernel's PortableDriver). Native
 * steps (mmap, munmap, mprotect, brk, mremap, madvise, vfork, clone, kill, sigaction, oomScoreAdj,
 * syscall, refs, and wait's options or open's directory flag) are one kernel's own calls: `nativeSteps`
 * lists them with the personality they belong to.
 */
import { parseProt } from '@polykernel/core';
import { z } from 'zod';

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** Parse "64K", "2M", "0x1000", "4096" or a number into a safe non-negative integer. */
export function parseSize(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  if (/^0x[0-9a-f]+$/i.test(s)) {
    const n = Number.parseInt(s.slice(2), 16);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  const m = /^(\d+)\s*([KMGT]?)(?:i?B)?$/i.exec(s);
  if (m === null) return undefined;
  const n = Number(m[1]) * UNITS[m[2]!.toUpperCase()]!;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Why a size is refused: which rule it breaks. */
export function sizeProblem(v: unknown): string {
  const shown = typeof v === 'number' ? String(v) : JSON.stringify(v);
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'must be a number, got .nan';
    if (!Number.isFinite(v)) return `must be finite, got ${shown} (a number too large for a double)`;
    if (!Number.isInteger(v)) return `must be a whole number of bytes, got ${shown}`;
    if (v < 0) return `must not be negative, got ${shown}`;
    return `must be below 2^53 (9007199254740992), got ${shown}`;
  }
  if (typeof v === 'string' && /^(0x[0-9a-f]+|\d+\s*[KMGT]?(i?B)?)$/i.test(v.trim())) {
    return `must be below 2^53 (9007199254740992), got ${shown}`;
  }
  return `expected a size or address such as 4096, "64K", "2M" or "0x7f0000000000", got ${shown}`;
}

const size = z.custom<number | string>((v) => typeof v === 'number' || typeof v === 'string', 'expected a size or address such as 4096, "64K" or "0x7f0000000000"').transform((v, ctx) => {
  const n = parseSize(v);
  if (n === undefined) {
    ctx.addIssue({ code: 'custom', message: sizeProblem(v) });
    return z.NEVER;
  }
  return n;
});

/**
 * A raw system-call argument: a number (negative ones are the two's complement register value the
 * kernel sees), a signed size or hex string ("8K", "-4K", "0x10000"), or any other string, which
 * is passed as a C string (a path). A string that starts like a number but is not one is refused.
 */
const TWO_64 = 2n ** 64n;
const TWO_63 = 2n ** 63n;

/**
 * A decimal or hex register value at or above 2^53 (a string such as "0xffffffffffffffff"): the
 * number the kernel gets, which is its two's complement when the value is at or above 2^63 and the
 * result is exact (0xfffffffffffff000 is -4096); 'inexact' when no safe number holds it, 'too-wide'
 * above 2^64 - 1, undefined when the text is no such integer.
 */
function registerValue(text: string): number | 'inexact' | 'too-wide' | undefined {
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(text)) return undefined;
  const big = BigInt(text);
  if (big >= TWO_64) return 'too-wide';
  const signed = big >= TWO_63 ? big - TWO_64 : big;
  const n = Number(signed);
  return Number.isSafeInteger(n) && BigInt(n) === signed ? n : 'inexact';
}

/**
 * A store's value: an unsigned integer up to 2^64 - 1, exact. A number must be a safe integer (a
 * YAML number above 2^53 has already lost its low bits); a wider value is a decimal or hex string
 * ("0xffffffffffffffff") and becomes a bigint. Each is stored little-endian in `size` bytes.
 */
export const storeValue = z.custom<number | string>((v) => typeof v === 'number' || typeof v === 'string', 'expected a number or a decimal or hex string').transform((v, ctx): number | bigint => {
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v) && v >= 0) return v;
    ctx.addIssue({ code: 'custom', message: v < 0 ? `a stored value is unsigned, got ${String(v)}` : `${String(v)} is not exact as a number (above 2^53 or not whole): write it as a string, such as "0xffffffffffffffff"` });
    return z.NEVER;
  }
  const t = v.trim();
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(t)) {
    ctx.addIssue({ code: 'custom', message: `expected an unsigned decimal or hex value such as "0xffffffffffffffff", got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  const big = BigInt(t);
  if (big >= TWO_64) {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} does not fit in 64 bits` });
    return z.NEVER;
  }
  return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
});

export const syscallArg = z.custom<number | string>((v) => typeof v === 'number' || typeof v === 'string', 'expected a number or a string').transform((v, ctx): number | string => {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) {
      ctx.addIssue({ code: 'custom', message: `a register holds a whole number between -2^53 and 2^53, got ${String(v)}` });
      return z.NEVER;
    }
    return v;
  }
  const m = /^\s*([+-]?)\s*(.+?)\s*$/.exec(v);
  const n = m === null ? undefined : parseSize(m[2]!);
  if (m !== null && n !== undefined) return m[1] === '-' ? -n : n;
  const wide = m === null || m[1] === '-' ? null : registerValue(m[2]!);
  if (typeof wide === 'number') return wide;
  if (wide === 'inexact') {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} cannot be passed exactly: a register value is held as a number below 2^53, or (its two's complement, as -1 is 0xffffffffffffffff) at or above 2^64 - 2^53; values between are not expressible yet` });
    return z.NEVER;
  }
  if (wide === 'too-wide') {
    ctx.addIssue({ code: 'custom', message: `${JSON.stringify(v)} does not fit in a 64-bit register` });
    return z.NEVER;
  }
  if (/^\s*[+-]?\s*(\d|0x)/i.test(v)) {
    ctx.addIssue({ code: 'custom', message: `expected a number, a size such as "8K" or "-4K", or a hex value such as "0x10000", got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return v;
});

const prot = z.string().transform((v, ctx) => {
  const p = parseProt(v);
  if (p === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected three protection letters like "rw-" or "r-x", got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return p;
});

/** A signed size for brk deltas: 8192, "+8K", "-4K". */
const signedSize = z.union([z.number().int(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const m = /^\s*([+-]?)\s*(.+)$/.exec(v);
  const n = m === null ? undefined : parseSize(m[2]!);
  if (m === null || n === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a signed size such as 8192, "+8K" or "-4K", got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return m[1] === '-' ? -n : n;
});

const MMAP_FLAGS = ['private', 'shared', 'anonymous', 'fixed', 'fixed-noreplace', 'populate', 'noreserve', 'growsdown'] as const;

const region = z.string().min(1);

/** An address: a number/size string, or a place in a region mapped earlier. */
const address = z.union([size, z.strictObject({ region: z.string().min(1), offset: size.default(0) })]);

const mmap = z.strictObject({
  name: region,
  length: size,
  prot,
  flags: z.array(z.enum(MMAP_FLAGS)).min(1),
  addr: address.optional(),
  file: z.string().optional(),
  /** A file opened by an earlier open step (by its name), instead of `file`. */
  fd: z.union([z.string().min(1), z.number().int().min(0)]).optional(),
  offset: size.optional(),
}).refine((m) => m.flags.includes('private') !== m.flags.includes('shared'), { message: 'exactly one of private and shared is required', path: ['flags'] });

const ranged = { region, offset: size.default(0), length: size };

const CLONE_FLAG_NAMES = ['vm', 'fs', 'files', 'sighand', 'pidfd', 'ptrace', 'vfork', 'parent', 'thread', 'newns', 'sysvsem', 'settls',
  'parent_settid', 'child_cleartid', 'detached', 'untraced', 'child_settid', 'newcgroup', 'newuts', 'newipc', 'newuser', 'newpid', 'newnet', 'io'] as const;

/** A signal by name ("SIGTERM", "TERM") or number. */
const signal = z.union([z.number().int().min(0).max(64), z.string().regex(/^(SIG)?[A-Z0-9]+$/, 'expected a signal name such as SIGTERM or a number')]);

/** A child's own steps (fork, vfork, clone): the same step kinds, recursively. */
const child = {
  /** The name the child is known by in later steps (wait, kill) and in the output. */
  as: z.string().min(1).optional(),
  // Typed loosely to break the type-level cycle; `childSteps` gives them back their Step type.
  steps: z.array(z.lazy((): z.ZodType => stepSchema)),
};

const fd = z.union([z.string().min(1), z.number().int().min(0)]);

/** A Windows flags parameter: a constant's name, several (a list or "A | B"), or a number. */
const winFlags = z.union([z.number().int().min(0), z.string().min(1), z.array(z.union([z.string().min(1), z.number().int().min(0)])).min(1)]);

/** VirtualAlloc/Free/Protect/Query and their Ex forms (with `process`), and CreateProcessW. */
function windowsSteps() {
  // YAML reads a bare NULL as null: the NULL handle.
  const ex = { process: z.union([z.string().min(1), z.null()]) };
  const alloc = { addr: address.optional(), size, type: winFlags, protect: winFlags, save: region.optional() };
  const free = { addr: address, size: size.default(0), type: winFlags };
  const protect = { addr: address, size, protect: winFlags };
  const query = { addr: address };
  return [
    z.strictObject({ VirtualAlloc: z.strictObject(alloc) }),
    z.strictObject({ VirtualAllocEx: z.strictObject({ ...ex, ...alloc }) }),
    z.strictObject({ VirtualFree: z.strictObject(free) }),
    z.strictObject({ VirtualFreeEx: z.strictObject({ ...ex, ...free }) }),
    z.strictObject({ VirtualProtect: z.strictObject(protect) }),
    z.strictObject({ VirtualProtectEx: z.strictObject({ ...ex, ...protect }) }),
    z.strictObject({ VirtualQuery: z.strictObject(query) }),
    z.strictObject({ VirtualQueryEx: z.strictObject({ ...ex, ...query }) }),
    z.strictObject({ CreateProcessW: z.strictObject({ path: z.string().min(1), flags: winFlags.optional(), as: z.string().min(1).optional(), inheritHandles: z.boolean().default(false) }) }),
  ] as const;
}

export const stepKinds = [
  z.strictObject({ mmap }),
  z.strictObject({ munmap: z.strictObject(ranged) }),
  z.strictObject({ mprotect: z.strictObject({ ...ranged, prot }) }),
  z.strictObject({ brk: z.union([z.strictObject({ delta: signedSize }), z.strictObject({ to: size })]) }),
  z.strictObject({ mremap: z.strictObject({ region, newLength: size, mayMove: z.boolean().default(false) }) }),
  z.strictObject({ madvise: z.strictObject({ ...ranged, advice: z.enum(['dontneed', 'willneed', 'free']) }) }),
  z.strictObject({
    touch: z.strictObject({
      ...ranged,
      access: z.enum(['read', 'write', 'exec']).default('read'),
      pattern: z.enum(['sequential', 'random', 'stride']).default('sequential'),
      stride: size.optional(),
      count: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
      seed: z.union([z.number(), z.string()]).optional(),
    }),
  }),
  // Memory contents (machines with contents): store a little-endian integer, load one back.
  z.strictObject({ store: z.strictObject({ region, offset: size.default(0), value: storeValue, size: z.union([z.literal(1), z.literal(2), z.literal(4), z.literal(8)]).default(4) }) }),
  z.strictObject({ load: z.strictObject({ region, offset: size.default(0), size: z.union([z.literal(1), z.literal(2), z.literal(4), z.literal(8)]).default(4) }) }),
  // Processes.
  z.strictObject({ fork: z.strictObject(child) }),
  z.strictObject({ vfork: z.strictObject(child) }),
  z.strictObject({ clone: z.strictObject({ ...child, flags: z.union([z.number().int().min(0), z.array(z.enum(CLONE_FLAG_NAMES))]), signal: signal.optional() }) }),
  z.strictObject({ exec: z.strictObject({ path: z.string().min(1), argv: z.array(z.string()).optional(), env: z.array(z.string()).optional() }) }),
  z.strictObject({ exit: z.union([z.number().int().min(0).max(255), z.strictObject({ code: z.number().int().min(0).max(255).default(0) })]) }),
  z.strictObject({ wait: z.strictObject({ for: z.string().min(1).optional(), options: z.array(z.enum(['nohang', 'untraced', 'clone', 'all'])).default([]) }) }),
  z.strictObject({ kill: z.strictObject({ process: z.string().min(1), signal }) }),
  z.strictObject({ oomScoreAdj: z.number().int().min(-1000).max(1000) }),
  // rt_sigaction: what the process does with a signal from now on. A handler runs no user code in
  // the simulation; `onFault` says what it does when the signal comes from a fault: `continue`
  // counts the delivery and resumes past the faulting access (siglongjmp), `mprotect` makes the
  // faulting page readable and writable and returns, so the access is retried (a GC write barrier).
  z.strictObject({ sigaction: z.strictObject({ signal, action: z.enum(['default', 'ignore', 'handle']), onFault: z.enum(['continue', 'mprotect']).default('continue') }) }),
  // Files.
  z.strictObject({ open: z.strictObject({ path: z.string().min(1), as: z.string().min(1), flags: z.array(z.enum(['read', 'write', 'rdwr', 'create', 'trunc', 'directory'])).default(['read']) }) }),
  z.strictObject({ read: z.strictObject({ fd, region, offset: size.default(0), length: size }) }),
  z.strictObject({ write: z.strictObject({ fd, region, offset: size.default(0), length: size }) }),
  z.strictObject({ close: z.strictObject({ fd }) }),
  // Portable intents (each personality's driver makes its native calls for them).
  z.strictObject({ alloc: z.strictObject({ name: region, size, prot, addr: size.optional() }) }),
  z.strictObject({ free: z.strictObject({ region }) }),
  z.strictObject({ protect: z.strictObject({ region, prot }) }),
  z.strictObject({
    spawn: z.strictObject({
      path: z.string().min(1), argv: z.array(z.string()).optional(), env: z.array(z.string()).optional(),
      /** The child's name for later steps (wait), and what its program does once loaded. */
      as: child.as, steps: child.steps.default([]),
    }),
  }),
  z.strictObject({
    mapFile: z.strictObject({ name: region, path: z.string().min(1), prot, shared: z.boolean().default(false), length: size.optional(), offset: size.optional() }),
  }),
  // The Windows API with its parameter names (windows' native steps): flags as constant names
  // (MEM_COMMIT, PAGE_READWRITE ...), lists of them or numbers; `process` names the target of an
  // Ex form (current, NULL, a CreateProcessW step's `as`, or a process of the workload).
  ...windowsSteps(),
  // A valgrind lackey trace replayed in this process (Linux: pages no mapping holds are mmap'd on
  // first touch). `map` moves the trace's addresses onto the process's regions: a reference at A
  // with from <= A < from + length replays at region + offset + (A - from), the first entry that
  // holds A winning; `others` says what the rest do (own-address: replayed where the trace has
  // them; skip: counted, not replayed).
  z.strictObject({
    refs: z.strictObject({
      trace: z.string().min(1),
      limit: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
      map: z.array(z.strictObject({ from: size, length: size, region, offset: size.default(0) })).default([]),
      others: z.enum(['own-address', 'skip']).default('own-address'),
    }),
  }),
  // Any other system call by name, with numeric or string arguments.
  z.strictObject({ syscall: z.strictObject({ name: z.string().min(1), args: z.array(syscallArg).max(6, 'a system call takes at most six register arguments').default([]) }) }),
] as const;

export const stepSchema = z.union(stepKinds);

export const workloadSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  personality: z.string().optional(),
  /** Keep page contents (needed for store/load and to see data survive fork and COW). */
  contents: z.boolean().optional(),
  /** Physical memory of the simulated machine (the command line's --memory wins). */
  memory: size.optional(),
  /** Size of the swap device (default none; the command line's --swap wins). */
  swap: size.optional(),
  processes: z.array(z.strictObject({
    name: z.string().min(1),
    steps: z.array(stepSchema),
  })).min(1),
  /**
   * What each step's call returned on the host it was recorded on (polykernel import strace writes
   * it): by process name (a child's is its fork/clone step's `as`), one entry per step in order —
   * where in the log (`at`), the call, its result as strace printed it, and whether it succeeded.
   * polykernel run lists every step whose success, failure or errno differs in the replay.
   */
  host: z.record(z.string(), z.array(z.strictObject({ at: z.string(), call: z.string(), result: z.string(), ok: z.boolean() }))).optional(),
});

export type Workload = z.output<typeof workloadSchema>;
export type Step = z.output<typeof stepSchema>;

/** A fork/vfork/clone step's own steps, with their type (the schema validated them as steps). */
export function childSteps(c: { steps: unknown[] }): Step[] {
  return c.steps as Step[];
}

/** The step kinds every personality with a portable driver runs. */
export const PORTABLE_STEP_KINDS = ['alloc', 'free', 'protect', 'touch', 'store', 'load', 'fork', 'spawn', 'exec', 'exit', 'wait', 'mapFile', 'open', 'read', 'write', 'close'] as const;

/** Native step kinds, and the personality whose calls they are. */
export const NATIVE_STEP_KINDS: Readonly<Record<string, string>> = {
  mmap: 'linux', munmap: 'linux', mprotect: 'linux', brk: 'linux', mremap: 'linux', madvise: 'linux', vfork: 'linux', clone: 'linux',
  kill: 'linux', sigaction: 'linux', oomScoreAdj: 'linux', syscall: 'linux', refs: 'linux',
  VirtualAlloc: 'windows', VirtualAllocEx: 'windows', VirtualFree: 'windows', VirtualFreeEx: 'windows', VirtualProtect: 'windows',
  VirtualProtectEx: 'windows', VirtualQuery: 'windows', VirtualQueryEx: 'windows', CreateProcessW: 'windows',
};

/** A step's kind: its one key (mmap, alloc, fork ...). */
export function stepKind(step: Step): string {
  return Object.keys(step)[0]!;
}

/** Whether a step is native to one personality: the personality and why, or null for a portable step. */
export function nativeOf(step: Step): { personality: string; why: string } | null {
  const kind = stepKind(step);
  const owner = NATIVE_STEP_KINDS[kind];
  if (owner !== undefined) return { personality: owner, why: `${owner}'s ${kind} call` };
  if ('wait' in step && step.wait.options.length > 0) return { personality: 'linux', why: `wait's options (${step.wait.options.join(', ')}) are wait4's` };
  if ('open' in step && step.open.flags.includes('directory')) return { personality: 'linux', why: 'the directory flag is O_DIRECTORY' };
  return null;
}

/** A native step found in a workload: where it is (processes[0].steps[3] ...) and whose it is. */
export interface NativeStep {
  path: (string | number)[];
  kind: string;
  personality: string;
  why: string;
}

/** Every native step of a workload, children's steps included, in file order. */
export function nativeSteps(w: Workload): NativeStep[] {
  const found: NativeStep[] = [];
  const visit = (steps: readonly Step[], path: (string | number)[]): void => {
    steps.forEach((step, i) => {
      const n = nativeOf(step);
      const kind = stepKind(step);
      if (n !== null) found.push({ path: [...path, i], kind, ...n });
      const inner = (step as Record<string, unknown>)[kind];
      if (typeof inner === 'object' && inner !== null && 'steps' in inner && Array.isArray(inner.steps)) visit(childSteps(inner as { steps: unknown[] }), [...path, i, kind, 'steps']);
    });
  };
  w.processes.forEach((p, i) => {
    visit(p.steps, ['processes', i, 'steps']);
  });
  return found;
}
