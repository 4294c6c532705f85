/**
 * The compare panel: the same workload on two personalities, after the same number of lock-step
 * steps — `polykernel compare`'s table (each metric with its ratio to the first column, "—" for a
 * field a kernel does not model, "n/a" down a column whose kernel cannot run the workload), the
 * steps each kernel could not do, and each step's result side by side. Drawn from the CompareModel
 * the worker sends with every state.
 */
import type { CompareModel } from '../engine/compare.js';
import { h, table } from './dom.js';

/** The newest step rows shown (the worker sends more). */
const STEP_ROWS = 12;

export function comparePanel(c: CompareModel, step: number): HTMLElement {
  const base = c.variants.find((_, i) => c.na[i] === null);
  const metrics = table(`The same workload on ${c.variants.join(' and ')} after step ${step}; ratios are to ${base ?? 'the first column'}`,
    ['metric', ...c.variants], c.rows.map((r) => [r.label, ...r.cells.map((x) => x.text)]), { class: 'compare-metrics' });
  const notes = c.variants.flatMap((variant, i) => {
    const na = c.na[i] ?? null;
    const lines = c.unsupported[i] ?? [];
    if (na !== null) return [h('p', { class: 'na-note' }, `${variant}: n/a — ${na}`)];
    return lines.length === 0 ? [] : [
      h('p', { class: 'na-note' }, `${variant}: ${lines.length} step${lines.length === 1 ? '' : 's'} n/a (the figures leave them out)`),
      h('ul', { class: 'na-steps' }, lines.map((l) => h('li', {}, h('code', {}, l)))),
    ];
  });
  const rows = c.steps.slice(-STEP_ROWS);
  const steps = table('Each step\'s result side by side (steps matched by process and their place in its steps)', ['step', ...c.variants],
    rows.map((r) => [r.label, ...r.results]), { class: 'compare-steps' });
  return h('div', { class: 'panel' },
    h('h2', {}, 'Compare'),
    h('div', { class: 'compare-pair' }, metrics, h('div', {}, steps, notes)),
    h('p', { class: 'muted' }, '"—": a field the personality does not model (not in its metricsFilled). Rows that are zero on both sides are left out. The same figures as polykernel compare -p ' + c.variants.join(',') + '.'));
}
