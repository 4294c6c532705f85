/**
 * Results as files: JSON (everything), CSV (one row per point: parameters, personality, status and
 * the figures), and a Markdown report with a table and an SVG chart per scenario, rendered
 * headlessly by vega-lite and vega (no browser). The report prints the command that reproduces it.
 */
import { stringify } from 'csv-stringify/sync';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { figure } from './scenarios.js';
import { subjectOf, type PointResult, type SweepResults } from './sweep.js';

/** The figures every CSV row carries (metrics paths), after the scenario's own extras. */
const CSV_FIGURES = ['cycles', 'syscalls', 'traps.pageFault', 'faults.zeroFill', 'faults.cow', 'pagesZeroed', 'pagesCopied', 'tlbMisses', 'bytesCopiedCrossProcess', 'peakResident', 'indexNodesVisited', 'peakCommit'];

function extrasOf(results: readonly PointResult[]): string[] {
  const keys = new Set<string>();
  for (const r of results) for (const k of Object.keys(r.extra)) keys.add(k);
  return [...keys].sort();
}

export function toCsv(s: SweepResults): string {
  const params = Object.keys(s.results[0]?.params ?? {});
  const extras = extrasOf(s.results);
  const header = ['index', 'scenario', 'personality', ...params, 'status', 'reason', ...extras, ...CSV_FIGURES];
  const rows = s.results.map((r) => [
    r.index, r.scenario, r.personality, ...params.map((p) => r.params[p] ?? ''), r.status, r.reason ?? '',
    ...extras.map((e) => r.extra[e] ?? ''), ...CSV_FIGURES.map((f) => (r.metrics === null ? '' : (figure(r.metrics, {}, f) ?? ''))),
  ]);
  return stringify([header, ...rows]);
}

/** The chart: the scenario's figure against its x parameter, one line per personality. */
export async function chartSvg(s: SweepResults): Promise<string> {
  const sc = subjectOf(s.spec);
  // One line per personality and value of the other parameters (tlb-reach: per machine profile).
  const others = Object.keys(sc.params).filter((p) => p !== sc.x && new Set(s.results.map((r) => r.params[p])).size > 1);
  // A metrics path such as faults.zeroFill is one field here (vega-lite reads a dot as a nested field).
  const yField = sc.y.replace(/\./g, '_');
  const values = s.results.filter((r) => r.status === 'ok' && r.metrics !== null).map((r) => ({
    [sc.x]: r.params[sc.x], series: [r.personality, ...others.map((p) => r.params[p] ?? '')].join(' '), [yField]: figure(r.metrics!, r.extra, sc.y),
  }));
  const order = [...new Set(s.results.map((r) => r.params[sc.x] ?? ''))];
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${sc.name}: ${sc.y} by ${sc.x}`,
    width: 480, height: 280,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: sc.x, type: 'ordinal', sort: order },
      y: { field: yField, type: 'quantitative', title: `${sc.y} (simulated)` },
      color: { field: 'series', type: 'nominal', title: ['personality', ...others].join(' ') },
    },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const num = (n: number | null): string => (n === null ? '' : n.toLocaleString('en-US'));

/** The Markdown report: the command, the question, a table of the figures and the chart (by file name). */
export function markdown(s: SweepResults, command: string, svgFile: string): string {
  const sc = subjectOf(s.spec);
  const params = Object.keys(sc.params);
  const extras = extrasOf(s.results);
  const cols = [...params, 'personality', ...extras, 'cycles', 'syscalls', 'page faults', 'pages zeroed', 'pages copied', 'bytes copied across processes', 'commit (peak)', 'resident (peak)', 'status'];
  const lines = [
    `# ${sc.name}`, '', sc.question, '', 'Reproduce with:', '', '```sh', command, '```', '',
    `Seed ${s.spec.seed}, ${s.spec.memory / 1024 ** 2} MiB per machine, ${s.total} points; every figure is simulated (cycles of the machine profile), so the same command prints the same numbers on any host and with any number of workers or shards.`, '',
    `| ${cols.join(' | ')} |`, `| ${cols.map(() => '---').join(' | ')} |`,
  ];
  for (const r of s.results) {
    const m = r.metrics;
    const cells = [
      ...params.map((p) => r.params[p] ?? ''), r.personality, ...extras.map((e) => num(r.extra[e] ?? null)),
      m === null ? '' : num(m.cycles), m === null ? '' : num(m.syscalls), m === null ? '' : num(m.traps.pageFault), m === null ? '' : num(m.pagesZeroed),
      m === null ? '' : num(m.pagesCopied), m === null ? '' : num(m.bytesCopiedCrossProcess), m === null ? '' : num(m.peakCommit),
      m === null ? '' : num(m.peakResident), r.status === 'ok' ? 'ok' : `${r.status}: ${r.reason ?? ''}`,
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  lines.push('', `![${sc.name}: ${sc.y} by ${sc.x}](${svgFile})`, '');
  if (sc.summary !== undefined) lines.push(...sc.summary(s.results));
  return lines.join('\n');
}
