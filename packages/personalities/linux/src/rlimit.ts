/**
 * kernel/sys.c do_prlimit and the calls over it — getrlimit(2), setrlimit(2), prlimit64(2) with
 * struct rlimit / struct rlimit64 in user memory — for the limits the mm calls honour: RLIMIT_DATA
 * (mmap's may_expand_vm, brk's check_data_rlimit), RLIMIT_STACK (stack growth), RLIMIT_AS
 * (may_expand_vm) and RLIMIT_MEMLOCK (mlock, mlockall, MAP_LOCKED, mlockall(MCL_FUTURE)'s later
 * mappings). The other resources are kept too (getrlimit returns them) but nothing here enforces
 * them. The limits are the task's (signal->rlim), kept with its mm here: fork and exec carry them.
 *
 * A limit is a u64 (RLIM_INFINITY is ~0UL on x86-64). The mm compares byte counts against
 * `Rlimit`'s numbers (Infinity for RLIM_INFINITY); a value at or above 2^53 is far beyond any
 * address space, so the rounded number answers those comparisons exactly, and the exact value is
 * kept beside it for getrlimit and for do_prlimit's own soft/hard comparisons.
 */
import type { SyscallArg, SyscallContext } from '@polykernel/kernel';
import { err } from './internal.js';
import type { LinuxSpace } from './machine.js';
import type { MmStruct, Rlimit } from './mm.js';
import { call, int, uint, ulong } from './syscall-args.js';
import { copyIn, copyOut } from './uaccess.js';

export const RLIMIT_DATA = 2;
export const RLIMIT_STACK = 3;
export const RLIMIT_NOFILE = 7;
export const RLIMIT_MEMLOCK = 8;
export const RLIMIT_AS = 9;
/** RLIM_NLIMITS on Linux. */
const RLIM_NLIMITS = 16;
/** RLIM_INFINITY (and RLIM64_INFINITY): ~0UL. */
export const RLIM_INFINITY = 0xffffffffffffffffn;
/** fs/file.c sysctl_nr_open's default (1024 * 1024): RLIMIT_NOFILE's hard limit may not pass it. */
const NR_OPEN = 1048576n;
/** sizeof (struct rlimit) and (struct rlimit64) on x86-64: two u64. */
const RLIMIT_SIZE = 16;

/** A limit as the kernel holds it: two u64. */
export interface ExactRlimit { cur: bigint; max: bigint }

const exact = new WeakMap<Rlimit, ExactRlimit>();
const toNumber = (v: bigint): number => (v === RLIM_INFINITY ? Infinity : Number(v));
const toBig = (v: number): bigint => (v === Infinity ? RLIM_INFINITY : BigInt(v));

/** The exact value of a limit: the one stored, unless its numbers were changed directly since. */
export function exactRlimit(r: Rlimit): ExactRlimit {
  const e = exact.get(r);
  if (e !== undefined && toNumber(e.cur) === r.cur && toNumber(e.max) === r.max) return { ...e };
  return { cur: toBig(r.cur), max: toBig(r.max) };
}

function store(r: Rlimit, v: ExactRlimit): void {
  r.cur = toNumber(v.cur);
  r.max = toNumber(v.max);
  exact.set(r, { ...v });
}

/** The record for a resource: the four the mm uses, or the mm's table of the others. */
function slot(mm: MmStruct, resource: number): Rlimit {
  switch (resource) {
    case RLIMIT_DATA:
      return mm.rlimit.data;
    case RLIMIT_STACK:
      return mm.rlimit.stack;
    case RLIMIT_MEMLOCK:
      return mm.rlimit.memlock;
    case RLIMIT_AS:
      return mm.rlimit.as;
    default: {
      let r = mm.otherRlimits.get(resource);
      if (r === undefined) mm.otherRlimits.set(resource, (r = { cur: Infinity, max: Infinity }));
      return r;
    }
  }
}

/**
 * do_prlimit on exact values: the old limit, after setting `next` when given — EINVAL for an
 * unknown resource or a soft limit above the hard one, EPERM for RLIMIT_NOFILE's hard limit above
 * nr_open or for raising a hard limit without CAP_SYS_RESOURCE (nothing changes then).
 */
export function doPrlimitExact(mm: MmStruct, resource: number, next: ExactRlimit | null): ExactRlimit {
  if (!Number.isInteger(resource) || resource < 0 || resource >= RLIM_NLIMITS) throw err('EINVAL', `resource ${resource}`);
  if (next !== null) {
    if (next.cur > next.max) throw err('EINVAL', 'soft limit above the hard limit');
    if (resource === RLIMIT_NOFILE && next.max > NR_OPEN) throw err('EPERM', 'RLIMIT_NOFILE above fs.nr_open');
  }
  const r = slot(mm, resource);
  const old = exactRlimit(r);
  if (next !== null) {
    if (next.max > old.max && !mm.privileged) throw err('EPERM', 'raising the hard limit needs CAP_SYS_RESOURCE');
    store(r, next);
  }
  return old;
}

/** do_prlimit with the mm's numbers (Infinity for RLIM_INFINITY). */
export function doPrlimit(mm: MmStruct, resource: number, next: Rlimit | null): Rlimit {
  const old = doPrlimitExact(mm, resource, next === null ? null : { cur: toBig(next.cur), max: toBig(next.max) });
  return { cur: toNumber(old.cur), max: toNumber(old.max) };
}

/** The limits a new mm takes over from the task's old one (copy_signal at fork; exec keeps them). */
export function copyRlimits(dst: MmStruct, src: MmStruct): void {
  for (const k of ['data', 'as', 'stack', 'memlock'] as const) store(dst.rlimit[k], exactRlimit(src.rlimit[k]));
  for (const [res, l] of src.otherRlimits) {
    const r = { cur: 0, max: 0 };
    store(r, exactRlimit(l));
    dst.otherRlimits.set(res, r);
  }
}

/** A struct rlimit read from user memory (copy_from_user); null: EFAULT. */
function readRlimit(ctx: SyscallContext<LinuxSpace>, va: number): ExactRlimit | null {
  const b = copyIn(ctx, va, RLIMIT_SIZE);
  if (b === null) return null;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { cur: v.getBigUint64(0, true), max: v.getBigUint64(8, true) };
}

/** A struct rlimit written to user memory (copy_to_user); false: EFAULT. */
function writeRlimit(ctx: SyscallContext<LinuxSpace>, va: number, r: ExactRlimit): boolean {
  const b = new Uint8Array(RLIMIT_SIZE);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, r.cur, true);
  v.setBigUint64(8, r.max, true);
  return copyOut(ctx, va, RLIMIT_SIZE, b);
}

/** getrlimit(2): do_prlimit's read, then copy_to_user. */
export function sysGetrlimit(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  const [resource, rlim] = [uint(a[0]), ulong(a[1])];
  return call(ctx, () => {
    const old = doPrlimitExact(ctx.process.space.mm, resource, null);
    if (!writeRlimit(ctx, rlim, old)) throw err('EFAULT', 'rlimit buffer not writable');
    return 0;
  });
}

/** setrlimit(2): copy_from_user first (EFAULT before any other check), then do_prlimit. */
export function sysSetrlimit(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  const [resource, rlim] = [uint(a[0]), ulong(a[1])];
  const next = readRlimit(ctx, rlim);
  if (next === null) return ctx.fail('EFAULT', 'rlimit buffer not readable');
  return call(ctx, () => {
    doPrlimitExact(ctx.process.space.mm, resource, next);
    return 0;
  });
}

/**
 * prlimit64(2): the new limit is read first (EFAULT), then the task found (ESRCH), do_prlimit, and
 * only then the old limit written — so a bad old_rlim sets the new limit and still says EFAULT.
 * Another process's limits need the caller's uid and gid to match its (check_prlimit_permission)
 * or CAP_SYS_RESOURCE.
 */
export function sysPrlimit64(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  const [pid, resource, newLim, oldLim] = [int(a[0]), uint(a[1]), ulong(a[2] ?? 0), ulong(a[3] ?? 0)];
  let next: ExactRlimit | null = null;
  if (newLim !== 0) {
    next = readRlimit(ctx, newLim);
    if (next === null) return ctx.fail('EFAULT', 'new rlimit not readable');
  }
  const task = pid === 0 ? ctx.process : ctx.kernel.processes.get(pid);
  if (task === undefined) return ctx.fail('ESRCH', `no process ${pid}`);
  const me = ctx.process.creds;
  const them = task.creds;
  if (task !== ctx.process && !ctx.process.space.mm.privileged && (me.uid !== them.uid || me.uid !== them.euid || me.gid !== them.gid || me.gid !== them.egid)) {
    return ctx.fail('EPERM', 'another user\'s process');
  }
  return call(ctx, () => {
    const old = doPrlimitExact(task.space.mm, resource, next);
    if (oldLim !== 0 && !writeRlimit(ctx, oldLim, old)) throw err('EFAULT', 'old rlimit not writable');
    return 0;
  });
}
