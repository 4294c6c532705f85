/**
 * The comparison's rows: which metrics fields `polykernel compare` and the visualizer's comparison
 * show, in which order, with which label and unit — one list, so the two tables cannot drift apart.
 */
import { FAULT_KINDS, TRAP_KINDS, type MetricsData } from '@polykernel/core';
import type { MetricPath } from '@polykernel/kernel';

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
