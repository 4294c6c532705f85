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
 * swapIn, stackGrowth, protection (resolved by a protection change), segv (unresolvable).
 */
export const FAULT_KINDS = [
  'zeroFill', 'zeroPage', 'cow', 'cowReuse', 'file', 'swapIn', 'stackGrowth', 'protection', 'segv', 'guard', 'soft', 'prefault', 'promotion', 'demotion',
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
  indexNodesVisited: number;
  /** Bytes of kernel metadata (page tables, map entries, VM objects) currently allocated. */
  metadataBytes: number;
  /** Simulated cycles elapsed. */
  cycles: number;
  processesCreated: number;
  contextSwitches: number;
  bytesCopiedCrossProcess: number;
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
    };
  }

  toJSON(): MetricsData {
    return this.snapshot();
  }

  /** Reset every counter to zero. */
  reset(): void {
    Object.assign(this, new Metrics());
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
const NUMERIC_KEYS: readonly NumericKey[] = [
  'syscalls', 'tlbHits', 'tlbMisses', 'tlbFlushes', 'tlbShootdowns', 'walkRefs', 'pagesZeroed',
  'pagesPrezeroed', 'pagesCopied', 'indexNodesVisited', 'metadataBytes', 'cycles', 'processesCreated', 'contextSwitches', 'bytesCopiedCrossProcess',
];

/** after - before, field by field (what one operation or phase cost). */
export function metricsDelta(before: MetricsData, after: MetricsData): MetricsData {
  const out = new Metrics().snapshot();
  for (const k of NUMERIC_KEYS) out[k] = after[k] - before[k];
  for (const k of TRAP_KINDS) out.traps[k] = after.traps[k] - before.traps[k];
  for (const k of FAULT_KINDS) out.faults[k] = after.faults[k] - before.faults[k];
  return out;
}

/** Add `from` into `into` (to total several CPUs or processes). */
export function addMetrics(into: MetricsData, from: MetricsData): void {
  for (const k of NUMERIC_KEYS) into[k] += from[k];
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
