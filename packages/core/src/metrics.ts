/**
 * The metrics record every personality fills, and the simulated cycle clock.
 *
 * One schema for all personalities so apps can put them side by side. Fields are plain numbers
 * on objects of fixed shape: incrementing one in a hot path is a property store, no Map lookup.
 */

/** Kinds of trap (kernel entry other than a call from the syscall instruction's handler counts). */
export const TRAP_KINDS = ['syscall', 'pageFault', 'tlbRefill', 'interrupt', 'ipi'] as const;
export type TrapKind = (typeof TRAP_KINDS)[number];

/**
 * Kinds of page fault, by how the kernel resolved it:
 * zeroFill (new zeroed frame), zeroPage (read mapped the shared zero page), cow (copied),
 * cowReuse (write-protected but sole owner: made writable without a copy), file (page cache),
 * swapIn, stackGrowth, protection (resolved by a protection change), segv (unresolvable), and:
 *
 * - guard: a guard page was touched. Windows: the PTE had PAGE_GUARD, the access raises
 *   STATUS_GUARD_PAGE_VIOLATION once and the guard bit is cleared (how the thread stack grows,
 *   MiCheckForUserStackOverflow); FreeBSD: an access to the guard gap below a MAP_STACK region
 *   (the MAP_ENTRY_STACK_GAP_DN entry vm_map_stack leaves, sysctl security.bsd.stack_guard_page).
 *   Count the fault here whether or not it then grew the stack.
 * - soft: a page still in memory on a transition or standby list was put back without I/O
 *   (Windows "soft fault" / transition fault, MiResolveTransitionFault; Linux minor faults on a
 *   page-cache hit stay `file`).
 * - prefault: pages mapped around the faulting one, ahead of any access to them (FreeBSD
 *   vm_fault_prefault, up to PFFOR/PFBAK pages; Linux fault-around, do_fault_around, 64 KiB by
 *   default). Count each page so mapped, not the fault that triggered it.
 * - promotion: a range of base pages was promoted to a superpage mapping (FreeBSD
 *   vm_reserv / pmap_promote_pde; Linux khugepaged collapse or a THP fault).
 * - demotion: a superpage mapping was broken into base pages (FreeBSD pmap_demote_pde, Linux
 *   split_huge_pmd), e.g. because part of it was unmapped or its protection changed.
 *
 * New kinds are appended, never inserted, so the order of the existing ones is stable.
 */
export const FAULT_KINDS = [
  'zeroFill', 'zeroPage', 'cow', 'cowReuse', 'file', 'swapIn', 'stackGrowth', 'protection', 'segv',
  'guard', 'soft', 'prefault', 'promotion', 'demotion',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export type TrapCounts = Record<TrapKind, number>;
export type FaultCounts = Record<FaultKind, number>;

/** Plain-data form of the metrics (what `--json` prints). */
export interface MetricsData {
  syscalls: number;
  traps: TrapCounts;
  faults: FaultCounts;
  tlbHits: number;
  tlbMisses: number;
  tlbFlushes: number;
  tlbShootdowns: number;
  walkRefs: number;
  pagesZeroed: number;
  /** Pages taken from a pre-zeroed pool (zeroed in the background, not on the fault path). */
  pagesPrezeroed: number;
  pagesCopied: number;
  /** Address-space index nodes touched (find_vma descents, inserts, removals, gap searches). */
  indexNodesVisited: number;
  /**
   * Bytes of kernel metadata (page tables, map entries, VM objects) currently allocated. A level
   * rather than an event count, but it behaves as a counter: a delta is the net allocation of a
   * phase, and totals over processes add up.
   */
  metadataBytes: number;
  /** Simulated cycles elapsed. */
  cycles: number;
  /** Processes created (fork, vfork, a clone that makes a process rather than a thread, CreateProcess, posix_spawn). */
  processesCreated: number;
  /** Switches of the running thread on a CPU (the scheduler picked a different thread). */
  contextSwitches: number;
  /**
   * Bytes copied between two address spaces by the kernel on a process's behalf
   * (process_vm_readv/writev, ReadProcessMemory/WriteProcessMemory, ptrace PEEK/POKE).
   */
  bytesCopiedCrossProcess: number;
  /** Gauge: the most pages resident at once (high-water mark, like Linux VmHWM or Windows PeakWorkingSetSize). */
  peakResident: number;
  /** Gauge: the most pages committed at once (high-water mark, like Windows' CommitPeak from GetPerformanceInfo). */
  peakCommit: number;
}

function zeroRecord<K extends string>(keys: readonly K[]): Record<K, number> {
  const r = {} as Record<K, number>;
  for (const k of keys) r[k] = 0;
  return r;
}

/** A mutable metrics record. */
export class Metrics implements MetricsData {
  syscalls = 0;
  traps: TrapCounts = zeroRecord(TRAP_KINDS);
  faults: FaultCounts = zeroRecord(FAULT_KINDS);
  tlbHits = 0;
  tlbMisses = 0;
  tlbFlushes = 0;
  tlbShootdowns = 0;
  walkRefs = 0;
  pagesZeroed = 0;
  pagesPrezeroed = 0;
  pagesCopied = 0;
  indexNodesVisited = 0;
  metadataBytes = 0;
  cycles = 0;
  processesCreated = 0;
  contextSwitches = 0;
  bytesCopiedCrossProcess = 0;
  peakResident = 0;
  peakCommit = 0;
  /**
   * Not a measurement: the cycles an address-space index visit costs on this machine (the
   * profile's `indexNode`), which an index reporting to these metrics adds to `cycles` per node.
   * 0 (the default): visits are counted, not charged. Non-enumerable, so snapshots, JSON and key
   * lists hold measurements only.
   */
  declare indexNodeCycles: number;

  constructor() {
    Object.defineProperty(this, 'indexNodeCycles', { value: 0, writable: true, enumerable: false });
  }

  /** A deep copy as plain data. */
  snapshot(): MetricsData {
    return {
      syscalls: this.syscalls,
      traps: { ...this.traps },
      faults: { ...this.faults },
      tlbHits: this.tlbHits,
      tlbMisses: this.tlbMisses,
      tlbFlushes: this.tlbFlushes,
      tlbShootdowns: this.tlbShootdowns,
      walkRefs: this.walkRefs,
      pagesZeroed: this.pagesZeroed,
      pagesPrezeroed: this.pagesPrezeroed,
      pagesCopied: this.pagesCopied,
      indexNodesVisited: this.indexNodesVisited,
      metadataBytes: this.metadataBytes,
      cycles: this.cycles,
      processesCreated: this.processesCreated,
      contextSwitches: this.contextSwitches,
      bytesCopiedCrossProcess: this.bytesCopiedCrossProcess,
      peakResident: this.peakResident,
      peakCommit: this.peakCommit,
    };
  }

  toJSON(): MetricsData {
    return this.snapshot();
  }

  /** Reset every counter and gauge to zero. */
  reset(): void {
    Object.assign(this, new Metrics());
  }

  /**
   * Record that `pages` are resident now: raises peakResident if this is a new high. One compare
   * and at most one store, so the kernel can call it on every change of its resident count.
   */
  noteResident(pages: number): void {
    if (pages > this.peakResident) this.peakResident = pages;
  }

  /** Record that `pages` are committed now: raises peakCommit if this is a new high. */
  noteCommit(pages: number): void {
    if (pages > this.peakCommit) this.peakCommit = pages;
  }

  /** Total traps of all kinds. */
  get totalTraps(): number {
    let n = 0;
    for (const k of TRAP_KINDS) n += this.traps[k];
    return n;
  }

  /** Total faults of all kinds. */
  get totalFaults(): number {
    let n = 0;
    for (const k of FAULT_KINDS) n += this.faults[k];
    return n;
  }
}

type NumericKey = Exclude<keyof MetricsData, 'traps' | 'faults'>;
/** Gauges: high-water marks, not counts of events. */
export type GaugeKey = 'peakResident' | 'peakCommit';
/** Counters: event counts and amounts that only add up (metadataBytes is a level, but it sums across processes). */
export type CounterKey = Exclude<NumericKey, GaugeKey>;

/** The counter fields, in a fixed order. */
export const COUNTER_KEYS: readonly CounterKey[] = [
  'syscalls', 'tlbHits', 'tlbMisses', 'tlbFlushes', 'tlbShootdowns', 'walkRefs', 'pagesZeroed',
  'pagesPrezeroed', 'pagesCopied', 'indexNodesVisited', 'metadataBytes', 'cycles',
  'processesCreated', 'contextSwitches', 'bytesCopiedCrossProcess',
];

/** The gauge fields (high-water marks). */
export const GAUGE_KEYS: readonly GaugeKey[] = ['peakResident', 'peakCommit'];

/** Every plain-number field: counters then gauges. */
export const NUMERIC_KEYS: readonly NumericKey[] = [...COUNTER_KEYS, ...GAUGE_KEYS];

/**
 * What one operation or phase cost: `after - before` for every counter. A gauge is a high-water
 * mark, and the difference of two peaks means nothing (a phase that stayed below the earlier peak
 * would show 0, not its own usage), so a gauge in the result is `after`'s value: the peak as of the
 * end of the phase.
 */
export function metricsDelta(before: MetricsData, after: MetricsData): MetricsData {
  const out = new Metrics().snapshot();
  for (const k of COUNTER_KEYS) out[k] = after[k] - before[k];
  for (const k of GAUGE_KEYS) out[k] = after[k];
  for (const k of TRAP_KINDS) out.traps[k] = after.traps[k] - before.traps[k];
  for (const k of FAULT_KINDS) out.faults[k] = after.faults[k] - before.faults[k];
  return out;
}

/**
 * Add `from` into `into` (to total several CPUs or processes). Counters add; a gauge takes the
 * larger of the two, because peaks reached at different times do not add up (the sum of two
 * processes' peak resident sets overstates the most memory that was ever resident at once).
 */
export function addMetrics(into: MetricsData, from: MetricsData): void {
  for (const k of COUNTER_KEYS) into[k] += from[k];
  for (const k of GAUGE_KEYS) if (from[k] > into[k]) into[k] = from[k];
  for (const k of TRAP_KINDS) into.traps[k] += from.traps[k];
  for (const k of FAULT_KINDS) into.faults[k] += from.faults[k];
}

/**
 * The simulated clock: time inside the simulation is cycles, never host time. The frequency only
 * converts cycles to seconds for display ("5,185 traps took 381 ms").
 */
export class CycleClock {
  constructor(
    readonly metrics: Metrics,
    /** Simulated CPU frequency in Hz. */
    readonly hz = 3_000_000_000,
  ) {
    if (!(hz > 0)) throw new RangeError('CycleClock frequency must be positive');
  }

  /** Cycles elapsed so far. */
  get now(): number {
    return this.metrics.cycles;
  }

  /** Advance by `cycles` (>= 0). */
  advance(cycles: number): void {
    this.metrics.cycles += cycles;
  }

  /** Convert a cycle count to seconds at this clock's frequency. */
  seconds(cycles: number = this.metrics.cycles): number {
    return cycles / this.hz;
  }

  /** Convert nanoseconds (e.g. a measured host cost) to cycles at this frequency. */
  cyclesFromNanoseconds(ns: number): number {
    return Math.round((ns * this.hz) / 1e9);
  }
}
