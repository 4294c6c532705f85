/**
 * `polykernel compare W.yaml -p linux-6.x,linux-5.15,...`: the same workload on several
 * personalities or variants — each on a fresh machine with the same seed, memory and swap — and
 * one table of the metrics schema side by side, with each column's ratio to the first. A
 * personality that cannot run the workload (no portable driver, or native steps of another
 * kernel) gets an n/a column with the reason, never made-up zeros; a step a kernel cannot do is
 * counted and listed. `--views` puts each process's final map, in each kernel's own view, side by
 * side; `--steps` the step results; `--json` everything as data. Same seed, same output.
 */
import Table from 'cli-table3';
import type { MetricsData } from '@polykernel/core';
import { COMPARE_ROWS, foreignStepsNa, isNaResult, metricValue, noDriverNa, type CompareRowSpec as RowSpec } from '@polykernel/runner';
import type { Workload } from '@polykernel/workload';
import { notRegistered, PERSONALITIES, resolvePersonality, type RegisteredPersonality, type ResolvedPersonality } from './personalities.js';
import { execute, loadWorkload, machineOf, processViews, Progress, type Execution, type Machine, type RunOptions, type StepResult } from './run.js';

/** The rows, in the order the issue lists them (@polykernel/runner's list, which the web visualizer shows too). */
export const ROWS: readonly RowSpec[] = COMPARE_ROWS;

/** One personality's column: what ran, or why it did not. */
export interface Column {
  /** The -p value as given. */
  name: string;
  variant: string;
  /** null when it ran; the reason for an n/a column. */
  na: string | null;
  metrics: MetricsData | null;
  hz: number;
  /** Metrics fields the personality says it fills (a zero elsewhere is "not modelled", not a measurement). */
  filled: readonly string[];
  steps: StepResult[];
  /** The steps that were n/a on this kernel, with the reason. */
  unsupported: StepResult[];
  stalled: string | null;
  processes: ReturnType<typeof processViews>;
}

/** The personalities to compare: the -p list, or every variant registered. */
function columnsWanted(opts: RunOptions, registry: readonly RegisteredPersonality[]): string[] {
  if (typeof opts.personality === 'string') return opts.personality.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return registry.flatMap((e) => e.variants);
}

async function runColumn(w: Workload, text: string, file: string, name: string, resolved: ResolvedPersonality, machine: Machine, opts: RunOptions): Promise<Column> {
  const base = { name, variant: resolved.variant, metrics: null, hz: 1, filled: [], steps: [], unsupported: [], stalled: null, processes: [] };
  // The n/a rules are @polykernel/runner's, which the web visualizer's comparison follows too.
  const foreign = foreignStepsNa(w, resolved.entry.name);
  if (foreign !== null) return { ...base, na: foreign };
  const run: Execution = await execute(w, text, file, resolved, machine, { trace: false }, () => undefined, new Progress(0, null));
  const noDriver = noDriverNa(run, resolved.variant);
  if (noDriver !== null) return { ...base, na: noDriver };
  const steps = run.session.results;
  return {
    name, variant: resolved.variant, na: null, metrics: run.k.metrics.snapshot(), hz: run.k.mmu.profile.hz, filled: run.k.personality.metricsFilled,
    steps, unsupported: steps.filter((s) => isNaResult(s.result)), stalled: run.stalled, processes: opts.views === true ? processViews(run) : [],
  };
}

// One formatter each: toLocaleString builds a new one per call, a noticeable share of a compare.
const INTEGER = new Intl.NumberFormat('en-US');
const MILLIS = new Intl.NumberFormat('en-US', { minimumFractionDigits: 3, maximumFractionDigits: 3 });

const fmt = (n: number, unit?: RowSpec['unit']): string => {
  const s = Number.isInteger(n) ? INTEGER.format(n) : MILLIS.format(n);
  return unit === 'bytes' ? `${s} B` : s;
};

/** A cell: the value and its ratio to the first column, "—" for a field the personality does not model, "n/a" for an n/a column. */
function cell(c: Column, row: RowSpec, first: Column | undefined): string {
  if (c.metrics === null) return 'n/a';
  const v = metricValue(c.metrics, row.path, c.hz);
  const modelled = row.path === 'seconds' || row.path === 'tlbMisses' || row.path === 'tlbShootdowns' || row.path === 'contextSwitches' || c.filled.includes(row.path);
  if (v === 0 && !modelled) return '—';
  if (first === undefined || first === c || first.metrics === null) return fmt(v, row.unit);
  const f = metricValue(first.metrics, row.path, first.hz);
  const ratio = f === 0 ? (v === 0 ? '×1.00' : '×∞') : `×${(v / f).toFixed(2)}`;
  return `${fmt(v, row.unit)}  ${ratio}`;
}

function borderless(head: string[], colAligns: ('left' | 'right')[]): Table.Table {
  return new Table({
    head, colAligns,
    chars: { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ' },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
  });
}

/** The rows shown: every row with a value somewhere (all of them with --all). */
function visibleRows(columns: readonly Column[], all: boolean): RowSpec[] {
  return ROWS.filter((r) => all || columns.some((c) => c.metrics !== null && metricValue(c.metrics, r.path, c.hz) !== 0));
}

export function metricsTable(columns: readonly Column[], all = false): string {
  const first = columns.find((c) => c.metrics !== null);
  const t = borderless(['metric', ...columns.map((c) => c.variant)], ['left', ...columns.map((): 'right' => 'right')]);
  for (const row of visibleRows(columns, all)) t.push([row.label, ...columns.map((c) => cell(c, row, first))]);
  return t.toString().split('\n').map((l) => l.trimEnd()).join('\n');
}

/** Each step's result side by side (steps matched by process name and their place in its steps). */
export function stepsTable(columns: readonly Column[]): string {
  const keys: string[] = [];
  const labels = new Map<string, string>();
  const byCol = columns.map((c) => {
    const seen = new Map<string, number>();
    const m = new Map<string, string>();
    for (const s of c.steps) {
      const n = (seen.get(s.process) ?? 0) + 1;
      seen.set(s.process, n);
      const key = `${s.process}#${n}`;
      if (!labels.has(key)) {
        keys.push(key);
        labels.set(key, `${s.process}  ${s.step.length > 60 ? `${s.step.slice(0, 57)}...` : s.step}`);
      }
      m.set(key, s.result);
    }
    return m;
  });
  const t = borderless(['step', ...columns.map((c) => c.variant)], ['left', ...columns.map((): 'left' => 'left')]);
  for (const key of keys) t.push([labels.get(key)!, ...columns.map((c, i) => (c.na !== null ? 'n/a' : (byCol[i]!.get(key) ?? '(not reached)')))]);
  return t.toString().split('\n').map((l) => l.trimEnd()).join('\n');
}

/** Each process's map in each kernel's own view (its first view), side by side. */
export function viewsSideBySide(columns: readonly Column[]): string {
  const names: string[] = [];
  for (const c of columns) for (const p of c.processes) if (!names.includes(p.process)) names.push(p.process);
  const blocks: string[] = [];
  for (const name of names) {
    const texts = columns.map((c) => {
      if (c.na !== null) return [`${c.variant}: n/a`];
      const p = c.processes.find((x) => x.process === name);
      if (p === undefined) return [`${c.variant}: no process ${name}`];
      if (p.state !== 'running') return [`${c.variant}: ${name}[${p.pid}] ${p.killedBy !== null ? `killed by ${p.killedBy}` : 'exited'}`];
      const v = p.views[0];
      if (v === undefined) return [`${c.variant}: no views`];
      return [`${c.variant}: ${v.title}`, ...(v.error !== null ? [`(failed: ${v.error})`] : (v.text ?? '').trimEnd().split('\n'))];
    });
    const widths = texts.map((lines) => Math.max(...lines.map((l) => l.length)));
    const height = Math.max(...texts.map((l) => l.length));
    const lines = [`== ${name}`];
    for (let i = 0; i < height; i++) lines.push(texts.map((t, j) => (t[i] ?? '').padEnd(widths[j]!)).join('  |  ').trimEnd());
    blocks.push(lines.join('\n'));
  }
  return blocks.join('\n\n');
}

export async function runCompare(
  file: string, opts: RunOptions, out: (s: string) => void = (s) => process.stdout.write(s + '\n'), err: (s: string) => void = (s) => process.stderr.write(s + '\n'),
  registry: readonly RegisteredPersonality[] = PERSONALITIES,
): Promise<number> {
  const loaded = await loadWorkload(file, 'compare', err);
  if (typeof loaded === 'number') return loaded;
  const { text, w } = loaded;
  const names = columnsWanted(opts, registry);
  if (names.length === 0) {
    err('polykernel compare: -p takes a comma-separated list of personalities, e.g. -p linux-6.x,linux-5.15');
    return 2;
  }
  const resolved: ResolvedPersonality[] = [];
  for (const name of names) {
    const r = resolvePersonality(name, registry);
    if (r === undefined) {
      err(`polykernel compare: ${notRegistered(name, registry)}`);
      return 2;
    }
    resolved.push(r);
  }
  const machine = machineOf(w, { ...opts, seed: typeof opts.seed === 'string' ? opts.seed : '1' }, file, 'compare', err);
  if (typeof machine === 'number') return machine;
  const columns: Column[] = [];
  for (const [i, r] of resolved.entries()) columns.push(await runColumn(w, text, file, names[i]!, r, machine, opts));
  if (opts.json === true) {
    const first = columns.find((c) => c.metrics !== null);
    const rows = ROWS.map((row) => ({
      metric: row.path, label: row.label,
      values: columns.map((c) => (c.metrics === null ? null : metricValue(c.metrics, row.path, c.hz))),
      ratios: columns.map((c) => {
        if (c.metrics === null || first?.metrics == null) return null;
        const f = metricValue(first.metrics, row.path, first.hz);
        return f === 0 ? null : metricValue(c.metrics, row.path, c.hz) / f;
      }),
    }));
    out(JSON.stringify({
      workload: w.name, seed: machine.seed, memory: machine.frames * 4096, swap: machine.swapSlots * 4096,
      columns: columns.map((c) => ({ personality: c.name, variant: c.variant, na: c.na, metrics: c.metrics, steps: c.steps, unsupported: c.unsupported, stalled: c.stalled, ...(opts.views === true ? { processes: c.processes } : {}) })),
      rows,
    }, null, 2));
    return 0;
  }
  out(`workload ${w.name} on ${columns.map((c) => c.variant).join(', ')} (seed ${machine.seed ?? 1}, memory ${fmt(machine.frames * 4096)} B, swap ${fmt(machine.swapSlots * 4096)} B)`);
  out('');
  out(metricsTable(columns, opts.all === true));
  const notes: string[] = [];
  for (const c of columns) {
    if (c.na !== null) notes.push(`${c.variant}: n/a — ${c.na}`);
    else if (c.unsupported.length > 0) {
      notes.push(`${c.variant}: ${c.unsupported.length} step${c.unsupported.length === 1 ? '' : 's'} n/a (the other figures leave them out):`);
      for (const s of c.unsupported) notes.push(`  ${s.process}: ${s.step} -> ${s.result}`);
    }
    if (c.stalled !== null) notes.push(`${c.variant}: ${c.stalled}`);
  }
  const first = columns.find((c) => c.metrics !== null);
  out(`\nRatios are to ${first?.variant ?? 'the first column'}; "—" is a field the personality does not model (not in its metricsFilled); rows that are zero everywhere are left out (--all shows them).`);
  if (notes.length > 0) out('\n' + notes.join('\n'));
  if (opts.steps === true) out('\nsteps\n' + stepsTable(columns));
  if (opts.views === true) out('\n' + viewsSideBySide(columns));
  return 0;
}
