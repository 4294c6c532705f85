/**
 * kernel/sys.c do_prlimit for the limits the mm calls honour: RLIMIT_DATA (mmap's may_expand_vm,
 * brk's check_data_rlimit), RLIMIT_STACK (stack growth), RLIMIT_AS (may_expand_vm) and
 * RLIMIT_MEMLOCK (mlock, mlockall, MAP_LOCKED, mlockall(MCL_FUTURE)'s later mappings). The other
 * resources are kept too (getrlimit returns them) but nothing here enforces them.
 */
import { err } from './internal.js';
import type { MmStruct, Rlimit } from './mm.js';

export const RLIMIT_DATA = 2;
export const RLIMIT_STACK = 3;
export const RLIMIT_MEMLOCK = 8;
export const RLIMIT_AS = 9;
/** RLIM_NLIMITS on Linux. */
const RLIM_NLIMITS = 16;

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
 * do_prlimit: the old limit, after setting `next` when given: EINVAL for an unknown resource or
 * a soft limit above the hard one, EPERM for raising the hard limit without CAP_SYS_RESOURCE.
 * Infinity is RLIM_INFINITY.
 */
export function doPrlimit(mm: MmStruct, resource: number, next: Rlimit | null): Rlimit {
  if (!Number.isInteger(resource) || resource < 0 || resource >= RLIM_NLIMITS) throw err('EINVAL', `resource ${resource}`);
  if (next !== null && next.cur > next.max) throw err('EINVAL', 'soft limit above the hard limit');
  const r = slot(mm, resource);
  const old = { ...r };
  if (next !== null) {
    if (next.max > r.max && !mm.privileged) throw err('EPERM', 'raising the hard limit needs CAP_SYS_RESOURCE');
    r.cur = next.cur;
    r.max = next.max;
  }
  return old;
}
