/**
 * The comparison's rows and columns: which metrics fields `polykernel compare` and the
 * visualizer's comparison show, in which order, with which label and unit, and when a column or a
 * step is n/a — one list and one rule, so the two comparisons cannot drift apart.
 */
import { FAULT_KINDS, TRAP_KINDS, type MetricsData } from '@polykernel/core';
import type { MetricPath } from '@polykernel/kernel';
import { nativeSteps, type Workload } from '@polykernel/workload';
import type { Session } from './run.js';

/** One row of the comparison: a metrics field by path, its label, and how to show it. */
export interface CompareRowSpec {
  path: MetricPath | 'seconds';
  label: string;
  /** Bytes or pages: shown with the unit. */
  unit?: 'bytes' | 'pages';
}

/** The rows, in the order the issue lists them: calls, traps, faults, TLB, pages, copies, memory, index, metadata, time. */
export const COMPARE_ROWS: readonly CompareRowSpec[] = [
  { path: 'syscalls', label: 'system calls' },
  ...TRAP_KINDS.map((k): CompareRowSpec => ({ path: `traps.${k}`, label: `traps: ${k}` })),
  ...FAULT_KINDS.map((k): CompareRowSpec => ({ path: `faults.${k}`, label: `faults: ${k}` })),
  { path: 'tlbMisses', label: 'TLB misses' },
  { path: 'tlbShootdowns', label: 'TLB shootdowns' },
  { path: 'pagesZeroed', label: 'pages zeroed', unit: 'pages' },
  { path: 'pagesCopied', label: 'pages copied', unit: 'pages' },
  { path: 'bytesCopiedCrossProcess', label: 'bytes copied across processes', unit: 'bytes' },
  { path: 'peakCommit', label: 'commit (peak)', unit: 'pages' },
  { path: 'peakResident', label: 'resident (peak)', unit: 'pages' },
  { path: 'indexNodesVisited', label: 'index nodes visited' },
  { path: 'metadataBytes', label: 'kernel metadata', unit: 'bytes' },
  { path: 'processesCreated', label: 'processes created' },
  { path: 'contextSwitches', label: 'context switches' },
  { path: 'cycles', label: 'simulated cycles' },
  { path: 'seconds', label: 'simulated time (ms)' },
];

/** A row's value in a metrics snapshot: `seconds` is the cycles at the profile's clock `hz`, in milliseconds. */
export function metricValue(m: MetricsData, path: CompareRowSpec['path'], hz: number): number {
  if (path === 'seconds') return (m.cycles / hz) * 1e3;
  const dot = path.indexOf('.');
  if (dot < 0) return m[path as keyof MetricsData] as number;
  const group = m[path.slice(0, dot) as 'faults' | 'traps'] as Record<string, number>;
  return group[path.slice(dot + 1)] ?? 0;
}

/**
 * Why a personality cannot run the workload at all, so its whole column is n/a (null: it can). A
 * native step belongs to one kernel: on another it is not that kernel failing but a call it does
 * not have, so the column is n/a with the reason, never an error or made-up figures.
 * `personality` is the registered name (linux, freebsd, windows, cygwin ...).
 */
export function foreignStepsNa(w: Workload, personality: string): string | null {
  const foreign = nativeSteps(w).filter((n) => n.personality !== personality);
  const first = foreign[0];
  if (first === undefined) return null;
  return `native steps of ${first.personality} (${first.kind}${foreign.length > 1 ? ` and ${foreign.length - 1} more` : ''}); write them as portable steps`;
}

/** Why a column that ran is n/a after all: its kernel has no portable driver (null: it has one, or is Linux). */
export function noDriverNa(s: Pick<Session, 'k' | 'lp'>, variant: string): string | null {
  return s.k.personality.portable === undefined && s.lp === null ? `${variant} has no portable driver (Personality.portable)` : null;
}

/** A step result that is n/a: a step this kernel cannot do, listed with its reason and left out of the figures. */
export function isNaResult(result: string): boolean {
  return result.startsWith('n/a');
}
