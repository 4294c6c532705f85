/**
 * One personality's column: step log, address-space map beside the kernel's own text view,
 * page-table walk, TLB contents, physical frames, metrics (table and chart) and probe aggregations.
 * Everything drawn comes from the snapshot, which the worker built from the contract alone.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Series, SideState } from '../engine/protocol.js';
import type { ProcessModel, Snapshot, WalkModel } from '../engine/snapshot.js';
import { h, hex, size, table } from './dom.js';
import { colourOf, frameLabel, frameSummary, mapRows } from './model.js';

/** What the user picked in this column; kept across redraws. */
export interface SideChoice {
  pid: number | null;
  view: string | null;
  va: number | null;
}

export interface SideHooks {
  /** Ask the worker for the page-table walk of `va` in `pid`. */
  walk(pid: number, va: number): void;
  /** Redraw after a choice changed. */
  redraw(): void;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** uPlot's Axis.Side.Right (a const enum, which isolated modules cannot read). */
// eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- the enum's value, spelled as a number
const AXIS_RIGHT = 1 as uPlot.Axis.Side;

/** The most TLB entries listed (the rest are counted). */
const TLB_ROWS = 64;

export class SideView {
  readonly root: HTMLElement;
  private chart: uPlot | null = null;
  private readonly chartBox = h('div', { class: 'chart', role: 'img' });
  private aggChart: uPlot | null = null;
  private aggKeys: string[] = [];
  private readonly aggBox = h('div', { class: 'chart agg-chart', role: 'img' });
  walkResult: { walk: WalkModel | null; error: string | null } | null = null;

  constructor(readonly index: number, readonly choice: SideChoice, private readonly hooks: SideHooks) {
    this.root = h('section', { class: 'side', 'data-side': index });
  }

  render(state: SideState, logScale: boolean): void {
    const s = state.snapshot;
    const live = s.processes.filter((p) => p.state === 'running');
    if (this.choice.pid === null || !live.some((p) => p.pid === this.choice.pid)) this.choice.pid = live[0]?.pid ?? null;
    const proc = live.find((p) => p.pid === this.choice.pid) ?? null;
    const pids = s.processes.map((p) => p.pid);
    this.root.replaceChildren(...[
      h('h2', {}, s.personality, h('span', { class: 'muted' }, ` — step ${s.step}${s.ending !== null ? ` (${s.ending})` : ''}`)),
      this.stepLog(s),
      this.processPicker(s, pids),
      proc === null ? h('p', {}, 'No live process.') : this.addressSpace(proc, logScale),
      proc === null ? null : this.walkPanel(proc),
      this.framesPanel(s, pids),
      this.tlbPanel(s),
      this.explainPanel(s),
      this.metricsPanel(s, state.series),
    ].filter((el): el is HTMLElement => el !== null));
  }

  private stepLog(s: Snapshot): HTMLElement {
    const rows = s.log.slice(-8).map((l) => h('li', { 'data-kind': l.kind, class: l.result.startsWith('n/a') ? 'na' : undefined },
      h('span', { class: 'who' }, `${l.process}[${l.pid}]`), ' ', h('code', {}, l.step), ' → ', h('strong', { class: 'result' }, l.result),
      l.faults > 0 ? h('span', { class: 'badge' }, ` ${l.faults} fault${l.faults === 1 ? '' : 's'}`) : null));
    return h('div', { class: 'panel log' }, h('h3', {}, 'Steps'), rows.length === 0 ? h('p', { class: 'muted' }, 'Nothing run yet: press Step.') : h('ol', { start: s.log.at(-8)?.index ?? 1 }, rows));
  }

  private processPicker(s: Snapshot, pids: readonly number[]): HTMLElement {
    return h('div', { class: 'procs', role: 'group', 'aria-label': 'Processes' }, s.processes.map((p) => {
      const b = h('button', {
        type: 'button', class: 'proc', 'aria-pressed': p.pid === this.choice.pid ? 'true' : 'false', disabled: p.state !== 'running',
        style: `border-color: ${colourOf(p.pid, pids)}`, 'data-pid': p.pid,
      }, `${p.name}[${p.pid}]${p.state === 'running' ? '' : ` (${p.state})`}`);
      b.addEventListener('click', () => {
        this.choice.pid = p.pid;
        this.walkResult = null;
        this.hooks.redraw();
      });
      return b;
    }));
  }

  private addressSpace(p: ProcessModel, logScale: boolean): HTMLElement {
    const rows = mapRows(p.areas, logScale);
    // The map is as tall as its rows need, up to the panel's height: one page does not fill a screen.
    const map = h('ol', { class: 'amap', style: `height: ${Math.min(26, Math.max(6, rows.length * 2.4))}rem`, 'aria-label': `Address space of ${p.name}, lowest address first (${logScale ? 'log' : 'proportional'} scale)` }, rows.map((r) => {
      const height = `${(r.share * 100).toFixed(3)}%`;
      if (r.kind === 'gap') return h('li', { class: 'gap', style: `flex-basis: ${height}`, title: `unmapped ${size(r.end - r.start)}` }, h('span', {}, `gap ${size(r.end - r.start)}`));
      const a = r.area!;
      const selected = this.choice.va !== null && this.choice.va >= a.start && this.choice.va < a.end;
      const b = h('button', { type: 'button', class: `area${selected ? ' selected' : ''}`, 'data-start': hex(a.start), title: `${hex(a.start)}-${hex(a.end)} ${a.perms} ${a.label}` },
        `${hex(a.start)} ${a.perms} ${size(a.end - a.start)} ${a.label}`);
      b.addEventListener('click', () => {
        this.choice.va = a.start;
        this.hooks.walk(p.pid, a.start);
      });
      return h('li', { style: `flex-basis: ${height}` }, b);
    }));
    const views = p.views;
    const chosen = views.find((v) => v.name === this.choice.view) ?? views[0];
    const select = h('select', { 'aria-label': 'Kernel view' }, views.map((v) => h('option', { value: v.name, selected: v === chosen }, v.title)));
    select.addEventListener('change', () => {
      this.choice.view = select.value;
      this.hooks.redraw();
    });
    const text = chosen === undefined ? '(this personality has no views)' : chosen.error !== null ? `(the ${chosen.name} view failed: ${chosen.error})` : chosen.text === '' ? '(empty)' : (chosen.text ?? '');
    return h('div', { class: 'panel space' },
      h('h3', {}, `Address space of ${p.name}[${p.pid}]`, h('span', { class: 'muted' }, ` (areas from ${p.areasFrom})`)),
      h('div', { class: 'pair' }, map, h('div', { class: 'kview' }, select, h('pre', { class: 'kernel-view', tabindex: 0 }, text))));
  }

  private walkPanel(p: ProcessModel): HTMLElement {
    const input = h('input', { type: 'text', 'aria-label': 'Virtual address', placeholder: '0x7f...', value: this.choice.va === null ? '' : hex(this.choice.va), size: 18 });
    const form = h('form', { class: 'walkform' }, h('label', {}, 'Walk the page table for ', input), h('button', { type: 'submit' }, 'Walk'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const v = input.value.trim();
      const va = /^0x[0-9a-f]+$/i.test(v) ? Number.parseInt(v.slice(2), 16) : /^\d+$/.test(v) ? Number(v) : NaN;
      if (!Number.isSafeInteger(va)) {
        this.walkResult = { walk: null, error: `"${v}" is not an address (0x... or decimal)` };
        this.hooks.redraw();
        return;
      }
      this.choice.va = va;
      this.hooks.walk(p.pid, va);
    });
    const w = this.walkResult;
    let body: HTMLElement | null = null;
    if (w?.error != null) body = h('p', { class: 'error' }, w.error);
    else if (w?.walk != null) {
      const walk = w.walk;
      body = h('div', {},
        table(`Walk of ${hex(walk.va)} in pid ${walk.pid}`, ['level', 'index', 'entry at', 'flags', 'leads to'],
          walk.levels.map((l) => [l.name, l.index, hex(l.entryAddress), l.flags, !l.present ? 'not present' : l.leaf ? `frame ${l.frame}` : `table in frame ${l.frame}`]), { class: 'walk' }),
        h('p', { class: 'walk-result' }, walk.pa === null ? 'not mapped: an access here faults' : `physical address ${hex(walk.pa)}`));
    }
    return h('div', { class: 'panel' }, h('h3', {}, 'Page-table walk'), form, body);
  }

  private framesPanel(s: Snapshot, pids: readonly number[]): HTMLElement {
    const grid = h('ul', { class: 'frames', 'aria-label': 'Physical frames mapped by user pages' }, s.frames.map((f) => {
      const { letter, text } = frameLabel(f);
      const colour = f.state === 'private' ? colourOf(f.pids[0] ?? 0, pids) : '#777';
      return h('li', { class: `frame ${f.state}`, style: `--c: ${colour}`, title: text, 'aria-label': text, 'data-frame': f.frame, 'data-state': f.state }, letter);
    }));
    const legend = h('p', { class: 'legend' },
      s.processes.map((p) => h('span', { class: 'key', style: `--c: ${colourOf(p.pid, pids)}` }, `P ${p.name}[${p.pid}]`)),
      h('span', { class: 'key shared-cow' }, 'C shared copy-on-write'), h('span', { class: 'key shared' }, 'S shared writable'));
    return h('div', { class: 'panel' }, h('h3', {}, 'Physical frames'), h('p', { class: 'frame-summary' }, frameSummary(s.frames, s.framesTotal)), legend, grid);
  }

  private tlbPanel(s: Snapshot): HTMLElement {
    const rows = s.tlb.slice(0, TLB_ROWS).map((e) => [`cpu${e.cpu} ${e.tlb}`, e.asid, hex(e.va), size(e.pageSize), e.frame, e.global ? 'global' : '']);
    const more = s.tlb.length > TLB_ROWS ? h('p', { class: 'muted' }, `… and ${s.tlb.length - TLB_ROWS} more`) : null;
    return h('div', { class: 'panel' }, h('h3', {}, `TLB contents (${s.tlb.length} valid entries)`),
      rows.length === 0 ? h('p', { class: 'muted' }, 'empty') : table('Valid TLB entries by CPU and level, with ASIDs', ['TLB', 'ASID', 'page', 'size', 'frame', ''], rows, { class: 'tlb' }), more);
  }

  private explainPanel(s: Snapshot): HTMLElement {
    const f = s.lastFault;
    const text = f === null ? 'No page fault yet.'
      : `The last page fault: a ${f.access} of ${hex(f.va)} by pid ${f.pid} found the page ${f.reason.replace(/-/g, ' ')}; the kernel resolved it as ${f.resolution} in ${f.cycles.toLocaleString('en-US')} simulated cycles.`;
    const k = s.lastFork;
    const fork = k === null ? null
      : s.family === 'cygwin'
        // Cygwin's fork probe counts the pages fork.cc copied into the new Windows process (its ptes field).
        ? `The last fork: pid ${k.pid} made a new Windows process (pid ${k.child}) of the same program and copied ${plural(k.ptes, 'page')} of ${plural(k.vmas, 'mapping')} into it with ReadProcessMemory/WriteProcessMemory, in ${k.cycles.toLocaleString('en-US')} simulated cycles. Nothing is shared copy-on-write: the child has its own copy before fork returns.`
        : `The last fork: pid ${k.pid} made pid ${k.child}, copying ${plural(k.vmas, 'area')} and ${plural(k.ptes, 'page-table entry', 'page-table entries')} (${plural(k.tables, 'table page')}), in ${k.cycles.toLocaleString('en-US')} simulated cycles. Private writable pages are now shared and write-protected: the first write to one faults and copies it.`;
    return h('div', { class: 'panel' }, h('h3', {}, 'Explain'), h('p', { class: 'explain' }, text), fork === null ? null : h('p', { class: 'explain-fork' }, fork));
  }

  private metricsPanel(s: Snapshot, series: Series): HTMLElement {
    const metrics = table('Metrics the personality fills', ['metric', 'value'], s.metrics.map((m) => [m.path, m.value.toLocaleString('en-US')]), { class: 'metrics' });
    const aggs = table('Probe aggregations: system calls and faults by kind', ['probe', 'count', 'cycles'],
      [...s.calls.map((a) => [`syscall ${a.key}`, a.count, a.cycles.toLocaleString('en-US')]), ...s.faults.map((a) => [`fault ${a.key}`, a.count, a.cycles.toLocaleString('en-US')])], { class: 'aggs' });
    const last = series.step.length - 1;
    const alt = `Chart: after step ${series.step[last] ?? 0}, ${(series.cycles[last] ?? 0).toLocaleString('en-US')} simulated cycles, ${series.faults[last] ?? 0} page faults, ${series.tlbMisses[last] ?? 0} TLB misses.`;
    this.chartBox.setAttribute('aria-label', alt);
    this.drawChart(series);
    const probes = [...s.calls.map((a) => ({ key: a.key, cycles: a.cycles })), ...s.faults.map((a) => ({ key: `fault ${a.key}`, cycles: a.cycles }))];
    this.aggBox.setAttribute('aria-label', `Bar chart of simulated cycles by probe; the table below has the same numbers.`);
    this.drawAggregations(probes);
    return h('div', { class: 'panel' }, h('h3', {}, 'Metrics'), this.chartBox, h('p', { class: 'chart-alt' }, alt), metrics,
      h('h3', {}, 'Probe aggregations'), this.aggBox, aggs);
  }

  /** Simulated cycles by system call and fault kind, as bars (the table beside it is the text alternative). */
  private drawAggregations(probes: readonly { key: string; cycles: number }[]): void {
    const keys = probes.map((p) => p.key);
    const data: uPlot.AlignedData = [keys.map((_, i) => i), probes.map((p) => p.cycles)];
    const same = keys.length === this.aggKeys.length && keys.every((k, i) => k === this.aggKeys[i]);
    this.aggKeys = keys;
    if (this.aggChart !== null && same) {
      this.aggChart.setData(data);
      return;
    }
    this.aggChart?.destroy();
    const bars = uPlot.paths.bars?.({ size: [0.6, 40] });
    this.aggChart = new uPlot({
      width: 420, height: 160,
      scales: { x: { time: false, range: [-0.5, Math.max(keys.length - 0.5, 0.5)] } },
      axes: [
        { splits: () => keys.map((_, i) => i), values: (_u, splits) => splits.map((i) => keys[i] ?? ''), size: 30 },
        { label: 'cycles', size: 70 },
      ],
      series: [{ label: 'probe' }, { label: 'cycles', fill: '#56B4E9', stroke: '#0072B2', ...(bars !== undefined ? { paths: bars } : {}), points: { show: false } }],
      legend: { show: false },
    }, data, this.aggBox);
  }

  private drawChart(series: Series): void {
    const data: uPlot.AlignedData = [series.step, series.cycles, series.faults, series.tlbMisses];
    if (this.chart !== null) {
      this.chart.setData(data);
      return;
    }
    this.chart = new uPlot({
      width: 420, height: 180,
      scales: { x: { time: false }, cycles: {}, count: {} },
      axes: [{ label: 'step' }, { scale: 'cycles', label: 'cycles', size: 70 }, { scale: 'count', side: AXIS_RIGHT, label: 'count', grid: { show: false } }],
      series: [
        { label: 'step' },
        { label: 'cycles', scale: 'cycles', stroke: '#0072B2', width: 2 },
        { label: 'faults', scale: 'count', stroke: '#D55E00', width: 2, dash: [6, 3] },
        { label: 'TLB misses', scale: 'count', stroke: '#009E73', width: 2, dash: [2, 2] },
      ],
    }, data, this.chartBox);
  }
}
