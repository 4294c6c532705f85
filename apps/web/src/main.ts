/**
 * The page: controls, keyboard shortcuts, the URL's moment, and one SideView per personality. The
 * engine runs in a worker; the page sends requests and draws the snapshots that come back.
 */
import type { Reply, Request, RunUntil, SideState } from './engine/protocol.js';
import { EXAMPLES } from './examples.js';
import { comparePanel } from './ui/compare.js';
import { h, hex, size, table } from './ui/dom.js';
import { SideView } from './ui/side.js';
import { formatMoment, parseMoment, type Moment } from './url.js';

function $<T extends HTMLElement = HTMLElement>(id: string, kind?: new () => T): T {
  const el = document.getElementById(id);
  if (el === null || (kind !== undefined && !(el instanceof kind))) throw new Error(`the page has no #${id}${kind !== undefined ? ` of kind ${kind.name}` : ''}`);
  return el as T;
}

const worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
const moment: Moment = parseMoment(location.search);
/** A dropped workload: its text and file name (it cannot go in a URL; the URL then names it only). */
let dropped: { name: string; text: string } | null = null;
let views: SideView[] = [];
let last: SideState[] = [];
let busy = false;

const workloadSelect = $('workload', HTMLSelectElement);
const p0 = $('p0', HTMLSelectElement);
const p1 = $('p1', HTMLSelectElement);
const seedInput = $('seed', HTMLInputElement);
const status = $('status', HTMLOutputElement);
const logScale = $('logscale', HTMLInputElement);
const sides = $('sides');
const program = $('program');
const compare = $('compare');

function fillPickers(variants: readonly string[]): void {
  workloadSelect.replaceChildren(...[...EXAMPLES.keys()].sort().map((n) => h('option', { value: n }, n)));
  p0.replaceChildren(...variants.map((v) => h('option', { value: v }, v)));
  p1.replaceChildren(h('option', { value: '' }, '(none)'), ...variants.map((v) => h('option', { value: v }, v)));
}

function post(req: Request): void {
  // A walk is a look, not a run: it leaves the status and the stepping buttons alone.
  if (req.type !== 'walk') {
    busy = true;
    status.value = req.type === 'run' ? 'running…' : 'loading…';
  }
  worker.postMessage(req);
}

function load(step: number): void {
  const personalities = [p0.value, p1.value].filter((v) => v !== '');
  moment.personalities = personalities;
  moment.seed = Number(seedInput.value) || 0;
  let yaml: string | undefined;
  if (dropped !== null && moment.workload === dropped.name) yaml = dropped.text;
  else {
    yaml = EXAMPLES.get(workloadSelect.value);
    moment.workload = workloadSelect.value;
  }
  if (yaml === undefined) {
    status.value = `no example workload "${moment.workload}"`;
    return;
  }
  makeSides(personalities.length);
  post({ type: 'load', yaml, file: `${moment.workload}.yaml`, personalities, seed: moment.seed, step });
}

function run(until: RunUntil): void {
  if (!busy && views.length > 0) post({ type: 'run', until });
}

/** A dropped program's segments (the loader's image model), above the columns. */
function drawProgram(img: Extract<Reply, { type: 'state' }>['binary']): void {
  program.hidden = img === null;
  if (img === null) return;
  program.replaceChildren(h('div', { class: 'panel' },
    h('h2', {}, `${moment.workload}: ${img.format} ${img.bits}-bit ${img.machine} ${img.kind}`),
    h('p', {}, `entry ${img.entry === null ? 'none' : hex(img.entry)}; interpreter ${img.interpreter ?? 'none (static)'}${img.needed.length > 0 ? `; needs ${img.needed.join(', ')}` : ''}`),
    table('Segments', ['name', 'address', 'size in memory', 'file offset', 'size in file', 'prot'],
      img.segments.map((g) => [g.name, hex(g.vaddr), size(g.memsz), hex(g.offset), size(g.filesz), g.prot]), { class: 'segments' }),
    h('p', { class: 'muted' }, 'Each column below execs this file (the first step): only this file exists in the browser, so a dynamic program\'s interpreter is not found.')));
}

function draw(): void {
  last.forEach((s, i) => views[i]?.render(s, logScale.checked));
}

/** Two personalities: the comparison above the columns; one: nothing to compare. */
function drawCompare(r: Extract<Reply, { type: 'state' }>): void {
  compare.hidden = r.compare === null;
  compare.replaceChildren(...(r.compare === null ? [] : [comparePanel(r.compare, r.step)]));
}

worker.onmessage = (e: MessageEvent<Reply>): void => {
  const r = e.data;
  if (r.type !== 'walk') busy = false;
  if (r.type === 'ready') {
    performance.mark('polykernel:worker-ready');
    start(r.variants);
    return;
  }
  if (r.type === 'error') {
    status.value = `error: ${r.message}`;
    return;
  }
  if (r.type === 'walk') {
    const v = views[r.side];
    if (v !== undefined) v.walkResult = { walk: r.walk, error: r.error };
    draw();
    return;
  }
  last = r.sides;
  drawProgram(r.binary);
  drawCompare(r);
  moment.step = r.step;
  history.replaceState(null, '', formatMoment(moment));
  const ended = r.sides.every((s) => s.snapshot.ending !== null);
  status.value = `${r.workload}: step ${r.step}${ended ? ' — the workload has ended' : ''} (${r.elapsedMs.toFixed(0)} ms in the engine)`;
  document.body.dataset.step = String(r.step);
  draw();
  // For the performance figure (docs/benchmarks.md): milliseconds from navigation to the first drawn moment.
  document.body.dataset.firstRenderMs ??= String(Math.round(performance.now()));
  // A chosen address is walked again at every moment: its entries change as the workload runs.
  views.forEach((v, i) => {
    if (v.choice.va !== null && v.choice.pid !== null) worker.postMessage({ type: 'walk', side: i, pid: v.choice.pid, va: v.choice.va } satisfies Request);
  });
};
worker.onerror = (e): void => {
  status.value = `the engine failed: ${e.message}`;
};

/** A program file rather than a workload: a binary magic number, or a NUL byte near the start. */
function isProgram(bytes: Uint8Array): boolean {
  const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join('');
  return head === '7f454c46' || head.startsWith('4d5a') || ['feedface', 'feedfacf', 'cefaedfe', 'cffaedfe', 'cafebabe'].includes(head)
    || bytes.subarray(0, 512).includes(0);
}

function makeSides(n: number): void {
  views = Array.from({ length: n }, (_, i) => new SideView(i, { pid: null, view: null, va: null }, {
    walk: (pid, va) => { post({ type: 'walk', side: i, pid, va }); },
    redraw: draw,
  }));
  sides.replaceChildren(...views.map((v) => v.root));
  sides.dataset.count = String(views.length);
}

async function readDropped(file: File): Promise<void> {
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (isProgram(bytes)) {
    const personalities = [p0.value, p1.value].filter((v) => v !== '');
    moment.workload = file.name;
    workloadSelect.append(h('option', { value: file.name, selected: true }, `${file.name} (program)`));
    makeSides(personalities.length);
    post({ type: 'binary', name: file.name, bytes, personalities, seed: Number(seedInput.value) || 0 });
    return;
  }
  const name = file.name.replace(/\.ya?ml$/i, '');
  dropped = { name, text: new TextDecoder().decode(bytes) };
  moment.workload = name;
  workloadSelect.append(h('option', { value: name, selected: true }, `${name} (dropped)`));
  load(0);
}

function wire(): void {
  $('load').addEventListener('click', () => { moment.workload = workloadSelect.value; load(0); });
  $('step').addEventListener('click', () => { run('step'); });
  $('event').addEventListener('click', () => { run('event'); });
  $('end').addEventListener('click', () => { run('end'); });
  $('reset').addEventListener('click', () => { load(0); });
  logScale.addEventListener('change', draw);
  // Another kernel at the same moment: the workload replays to the step shown.
  p0.addEventListener('change', () => { load(moment.step); });
  p1.addEventListener('change', () => { load(moment.step); });
  workloadSelect.addEventListener('change', () => { moment.workload = workloadSelect.value; load(0); });
  const fileInput = $('file', HTMLInputElement);
  fileInput.addEventListener('change', () => {
    const f = fileInput.files?.[0];
    if (f !== undefined) void readDropped(f);
  });
  const drop = $('drop');
  document.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  document.addEventListener('dragleave', () => { drop.classList.remove('over'); });
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const f = e.dataTransfer?.files[0];
    if (f !== undefined) void readDropped(f);
  });
  document.addEventListener('keydown', (e) => {
    const t = e.target;
    if (t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement || e.ctrlKey || e.metaKey || e.altKey) return;
    const until: Record<string, RunUntil | 'reset'> = { s: 'step', ArrowRight: 'step', n: 'event', e: 'end', r: 'reset' };
    const what = until[e.key];
    if (what === undefined) return;
    e.preventDefault();
    if (what === 'reset') load(0);
    else run(what);
  });
}

/** The worker is up and says which personalities it can boot: show the URL's moment. */
function start(variants: readonly string[]): void {
  fillPickers(variants);
  if (EXAMPLES.has(moment.workload)) workloadSelect.value = moment.workload;
  p0.value = variants.includes(moment.personalities[0] ?? '') ? moment.personalities[0]! : (variants[0] ?? '');
  p1.value = variants.includes(moment.personalities[1] ?? '') ? moment.personalities[1]! : '';
  seedInput.value = String(moment.seed);
  load(moment.step);
}

wire();
