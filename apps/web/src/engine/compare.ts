/**
 * The comparison: the same workload on several personalities, one table of the metrics schema
 * with each column's ratio to the first, and the step results side by side. The rows and their
 * rules are `polykernel compare`'s: the row list is @polykernel/runner's COMPARE_ROWS (one list for
 * both); a field the personality does not fill (not in its metricsFilled) shows "—", not a measured
 * zero; a row that is zero everywhere is left out; a step a kernel cannot do is counted and listed,
 * never faked; a kernel that cannot run the workload at all (native steps of another kernel, no
 * portable driver) is an n/a column with the reason — the runner's rules, as `compare` applies them.
 */
import type { MetricsData } from '@polykernel/core';
import { COMPARE_ROWS, foreignStepsNa, isNaResult, metricValue, noDriverNa, type CompareRowSpec as RowSpec } from '@polykernel/runner';
import type { WebSession } from './session.js';

export { COMPARE_ROWS, metricValue } from '@polykernel/runner';

/** Fields every kernel has, whatever its metricsFilled says (the machine's TLB and clock). */
const ALWAYS_MODELLED = new Set(['seconds', 'tlbMisses', 'tlbShootdowns', 'contextSwitches', 'cycles']);

export interface CompareCell {
  /** null: the personality does not model this field ("—"). */
  value: number | null;
  /** Ratio to the first column; null for the first column, or when either side has no value. */
  ratio: number | null;
  text: string;
}

export interface CompareRow {
  path: string;
  label: string;
  cells: CompareCell[];
}

export interface CompareStepRow {
  /** `process  step`, as compare --steps labels it. */
  label: string;
  /** Each column's result, or "(not reached)". */
  results: string[];
}

export interface CompareModel {
  variants: string[];
  /** Per column: null when it ran; else why the column is n/a (its cells and step results are "n/a"). */
  na: (string | null)[];
  rows: CompareRow[];
  /** Per column: the steps that were n/a there, as `process: step -> result`. */
  unsupported: string[][];
  /** Each step's result side by side (the newest `STEP_ROWS`). */
  steps: CompareStepRow[];
}

/** How many step rows a comparison carries (the newest). */
export const STEP_ROWS = 200;

const INTEGER = new Intl.NumberFormat('en-US');
const MILLIS = new Intl.NumberFormat('en-US', { minimumFractionDigits: 3, maximumFractionDigits: 3 });

function format(n: number, unit: RowSpec['unit']): string {
  const s = Number.isInteger(n) ? INTEGER.format(n) : MILLIS.format(n);
  return unit === 'bytes' ? `${s} B` : s;
}

interface Column {
  variant: string;
  na: string | null;
  metrics: MetricsData;
  hz: number;
  filled: readonly string[];
}

const NA: CompareCell = { value: null, ratio: null, text: 'n/a' };

/** `first`: the first column that ran (the ratios' base); undefined when none did. */
function cell(c: Column, row: RowSpec, first: Column | undefined): CompareCell {
  if (c.na !== null) return NA;
  const v = metricValue(c.metrics, row.path, c.hz);
  if (v === 0 && !ALWAYS_MODELLED.has(row.path) && !c.filled.includes(row.path)) return { value: null, ratio: null, text: '—' };
  if (first === undefined || c === first) return { value: v, ratio: null, text: format(v, row.unit) };
  const f = metricValue(first.metrics, row.path, first.hz);
  const ratio = f === 0 ? (v === 0 ? 1 : Infinity) : v / f;
  return { value: v, ratio, text: `${format(v, row.unit)}  ×${Number.isFinite(ratio) ? ratio.toFixed(2) : '∞'}` };
}

/** Each step's result side by side: steps matched by process name and their place in its steps; "n/a" all down an n/a column. */
function stepRows(sessions: readonly WebSession[], na: readonly (string | null)[]): CompareStepRow[] {
  const keys: string[] = [];
  const labels = new Map<string, string>();
  const byCol = sessions.map((s) => {
    const seen = new Map<string, number>();
    const m = new Map<string, string>();
    for (const l of s.log) {
      const n = (seen.get(l.process) ?? 0) + 1;
      seen.set(l.process, n);
      const key = `${l.process}#${n}`;
      if (!labels.has(key)) {
        keys.push(key);
        labels.set(key, `${l.process}  ${l.step}`);
      }
      m.set(key, l.result);
    }
    return m;
  });
  return keys.slice(-STEP_ROWS).map((key) => ({ label: labels.get(key)!, results: byCol.map((m, i) => (na[i] !== null ? 'n/a' : (m.get(key) ?? '(not reached)'))) }));
}

/** The comparison of the sessions as they stand now (after the same number of lock-step steps). */
export function compareModel(sessions: readonly WebSession[]): CompareModel {
  const columns: Column[] = sessions.map((s) => ({
    variant: s.variant, na: columnNa(s), metrics: s.k.metrics.snapshot(), hz: s.k.mmu.profile.hz, filled: s.k.personality.metricsFilled,
  }));
  const first = columns.find((c) => c.na === null);
  const ran = columns.filter((c) => c.na === null);
  const rows = COMPARE_ROWS
    .filter((r) => ran.some((c) => metricValue(c.metrics, r.path, c.hz) !== 0))
    .map((r) => ({ path: r.path, label: r.label, cells: columns.map((c) => cell(c, r, first)) }));
  const na = columns.map((c) => c.na);
  return {
    variants: columns.map((c) => c.variant),
    na,
    rows,
    unsupported: sessions.map((s, i) => (na[i] !== null ? [] : s.unsupported.filter((l) => isNaResult(l.result)).map((l) => `${l.process}: ${l.step} -> ${l.result}`))),
    steps: stepRows(sessions, na),
  };
}

/** Why the session's column is n/a (null: it counts): `polykernel compare`'s rules, from @polykernel/runner. */
function columnNa(s: WebSession): string | null {
  return foreignStepsNa(s.workload, s.personality.entry.name) ?? noDriverNa(s.session, s.variant);
}
