/**
 * Identifier policies. Which numbers a kernel hands out to processes and threads is the
 * personality's choice (draft 3): the core only asks an `IdPolicy`. Three mechanisms cover the
 * kernels polykernel models:
 *
 * - `PidAllocator`: Linux kernel/pid.c alloc_pid — the next number after the last one handed out,
 *   wrapping at pid_max to RESERVED_PIDS (300), skipping numbers in use. Threads take their TIDs
 *   from the same space; a process's first TID is its PID (`linuxIds`).
 * - `NextFreeIds`: FreeBSD sys/kern/kern_fork.c fork_findpid — lastpid + 1 (plus a random offset
 *   when the `kern.randompid` sysctl is set), wrapping to 2 at pid_max (99999), then the first free
 *   number at or above it (bit_ffc_at). FreeBSD threads take TIDs from a separate range above
 *   NO_PID (100000, sys/kern/kern_thread.c tid_alloc), so `freebsdIds` uses a second NextFreeIds.
 * - `HandleTableIds`: Windows' client-ID table (PspCidTable): process and thread IDs are handle
 *   values of one table, so multiples of 4 from one space; a freed entry goes to the table's
 *   "last free" list and is reused only once the "first free" list runs dry (the delayed-reuse
 *   free lists of HANDLE_TABLE since Windows 8), and an ID is freed only when its object is deleted,
 *   i.e. when the last handle to the process or thread is closed (the core calls free then).
 *
 * Also `AsidAllocator`: address-space IDs with generations (arm64 arch/arm64/mm/context.c: when
 * the ASIDs of a generation run out, start a new generation and flush every TLB).
 */
import { Rng } from '@polykernel/core';

/** What the core asks the personality for whenever a process or thread is born or freed. */
export interface IdPolicy {
  /** A PID for a new process, or -1 when none is free (fork/CreateProcess then fail). */
  allocProcessId(): number;
  /** A TID for a new thread of process `pid` (`first`: its initial thread), or -1. */
  allocThreadId(pid: number, first: boolean): number;
  /** The process object is gone (reaped, or its last handle closed). */
  freeProcessId(pid: number): void;
  /** The thread object of process `pid` is gone. */
  freeThreadId(tid: number, pid: number): void;
  /** IDs of either kind in use now (for leak checks). */
  readonly inUse: number;
}

export class PidAllocator {
  private last = 0;
  private readonly used = new Set<number>();

  constructor(readonly pidMax = 4_194_304, readonly reserved = 300) {}

  /** The next free PID, or -1 when every PID is in use (fork fails with EAGAIN). */
  alloc(): number {
    const range = this.pidMax - 1;
    for (let tries = 0; tries < range; tries++) {
      let pid = this.last + 1;
      if (pid >= this.pidMax) pid = this.reserved;
      this.last = pid;
      if (!this.used.has(pid)) {
        this.used.add(pid);
        return pid;
      }
    }
    return -1;
  }

  free(pid: number): void {
    this.used.delete(pid);
  }

  get inUse(): number {
    return this.used.size;
  }
}

/** Linux: PIDs by alloc_pid; a thread's TID comes from the PID space; the first TID is the PID. */
export function linuxIds(pidMax = 4_194_304): IdPolicy & { readonly pids: PidAllocator } {
  const pids = new PidAllocator(pidMax);
  return {
    pids,
    allocProcessId: () => pids.alloc(),
    allocThreadId: (pid, first) => (first ? pid : pids.alloc()),
    freeProcessId: (pid) => { pids.free(pid); },
    freeThreadId: (tid, pid) => {
      if (tid !== pid) pids.free(tid);
    },
    get inUse() {
      return pids.inUse;
    },
  };
}

export interface NextFreeOptions {
  /** Lowest number ever handed out at boot (the counter starts just below it). */
  first: number;
  /** Numbers are below this (FreeBSD pid_max: 99999). */
  max: number;
  /** Where the search restarts after reaching `max` (FreeBSD 14: 2). */
  wrapTo: number;
  /** kern.randompid: add a random 0..n-1 to each search start (0: off, the default). */
  random?: number;
  seed?: number;
}

/** FreeBSD fork_findpid: lastpid + 1 (+ randompid), wrap to `wrapTo` at `max`, first free at or above. */
export class NextFreeIds {
  private last: number;
  private readonly used = new Set<number>();
  private readonly rng: Rng | null;

  constructor(readonly opts: NextFreeOptions) {
    this.last = opts.first - 1;
    this.rng = (opts.random ?? 0) > 0 ? new Rng(opts.seed ?? 1) : null;
  }

  alloc(): number {
    let trypid = this.last + 1 + (this.rng !== null ? this.rng.below(this.opts.random!) : 0);
    for (let pass = 0; pass < 2; pass++) {
      if (trypid >= this.opts.max) trypid = this.opts.wrapTo;
      for (let id = trypid; id < this.opts.max; id++) {
        if (this.used.has(id)) continue;
        this.used.add(id);
        this.last = id;
        return id;
      }
      trypid = this.opts.max; // ran out above trypid: search again from wrapTo
    }
    return -1;
  }

  free(id: number): void {
    this.used.delete(id);
  }

  get inUse(): number {
    return this.used.size;
  }
}

/** FreeBSD: PIDs by fork_findpid below pid_max; TIDs from NO_PID + 1 (100001) upwards, apart. */
export function freebsdIds(opts: { pidMax?: number; maxThreads?: number; randompid?: number; seed?: number } = {}): IdPolicy {
  const pids = new NextFreeIds({ first: 1, max: opts.pidMax ?? 99_999, wrapTo: 2, random: opts.randompid ?? 0, seed: opts.seed ?? 1 });
  const NO_PID = 100_000;
  const tids = new NextFreeIds({ first: NO_PID + 1, max: NO_PID + 1 + (opts.maxThreads ?? 1_000_000), wrapTo: NO_PID + 1 });
  return {
    allocProcessId: () => pids.alloc(),
    allocThreadId: () => tids.alloc(),
    freeProcessId: (pid) => { pids.free(pid); },
    freeThreadId: (tid) => { tids.free(tid); },
    get inUse() {
      return pids.inUse + tids.inUse;
    },
  };
}

/**
 * A handle table's numbering: values are multiples of 4 (the low two bits of a handle are tag
 * bits), allocated from a "first free" list; freed values go to a "last free" list that becomes
 * the first-free list once that one is empty, so a value is not reused at once.
 */
export class HandleTableIds {
  private next: number;
  private firstFree: number[] = [];
  private lastFree: number[] = [];
  private readonly used = new Set<number>();

  constructor(readonly first = 4, readonly max = 0x3fff_fffc) {
    this.next = first;
  }

  alloc(): number {
    if (this.firstFree.length === 0 && this.lastFree.length > 0) {
      // The table's free lists swap: the older frees are handed out first, in the order freed.
      this.firstFree = this.lastFree.reverse();
      this.lastFree = [];
    }
    const v = this.firstFree.pop() ?? (this.next <= this.max ? (this.next += 4) - 4 : -1);
    if (v >= 0) this.used.add(v);
    return v;
  }

  free(v: number): void {
    if (!this.used.delete(v)) return;
    this.lastFree.push(v);
  }

  get inUse(): number {
    return this.used.size;
  }
}

/** Windows: process and thread IDs from one client-ID table; the first thread's TID is a new value. */
export function windowsIds(): IdPolicy {
  const cids = new HandleTableIds(4);
  return {
    allocProcessId: () => cids.alloc(),
    allocThreadId: () => cids.alloc(),
    freeProcessId: (pid) => { cids.free(pid); },
    freeThreadId: (tid) => { cids.free(tid); },
    get inUse() {
      return cids.inUse;
    },
  };
}

export class AsidAllocator {
  /** Current generation; ASIDs are valid only within one. */
  generation = 1;
  /** How many generation rollovers (each one flushes every TLB). */
  rollovers = 0;
  private next = 1; // ASID 0 is reserved (arm64 uses it for the kernel / unused TTBR0)
  private readonly owners: (object | null)[];
  private readonly assigned = new WeakMap<object, { asid: number; generation: number }>();

  constructor(readonly count: number, private readonly onRollover: () => void) {
    this.owners = new Array<object | null>(count).fill(null);
  }

  /** The ASID for `space` in the current generation, allocating (and maybe rolling over) if needed. */
  asidFor(space: object): number {
    const a = this.assigned.get(space);
    if (a?.generation === this.generation) return a.asid;
    if (this.next >= this.count) {
      this.generation++;
      this.rollovers++;
      this.next = 1;
      this.owners.fill(null);
      this.onRollover();
    }
    const asid = this.next++;
    this.owners[asid] = space;
    this.assigned.set(space, { asid, generation: this.generation });
    return asid;
  }

  release(space: object): void {
    const a = this.assigned.get(space);
    if (a?.generation === this.generation && this.owners[a.asid] === space) this.owners[a.asid] = null;
    this.assigned.delete(space);
  }

  /** ASIDs held by live address spaces in the current generation (for leak checks). */
  get inUse(): number {
    let n = 0;
    for (const o of this.owners) if (o !== null) n++;
    return n;
  }
}
