/**
 * View models: what the page draws, computed in the worker from the contract alone (the
 * personality's views and metricsFilled, its page table through `pageTableOf`, the MMU's TLBs and
 * frame table, the kernel's probes). Plain data, so it crosses postMessage and is unit-testable.
 *
 * Nothing here changes the machine: the page-table walk reads the pool's arrays as the CLI's
 * explain does, without translating (a translation would fill the TLB and count walk references).
 */
import { COUNTER_KEYS, GAUGE_KEYS } from '@polykernel/core';
import type { Kernel, Process, RecordValue } from '@polykernel/kernel';
import { formatPteFlags, PTE_HUGE, PTE_PRESENT, PTE_WRITE, type PageTable, type Tlb } from '@polykernel/mmu';
import type { RegionView } from './registry.js';
import type { StepLine, WebSession } from './session.js';

export interface AreaModel {
  start: number;
  end: number;
  perms: string;
  label: string;
}

export interface ViewModel {
  name: string;
  title: string;
  text: string | null;
  error: string | null;
}

export interface ProcessModel {
  name: string;
  pid: number;
  state: string;
  views: ViewModel[];
  /** The address space's areas, from a view's rows (start/end fields) or else from the page table's present runs. */
  areas: AreaModel[];
  /** Where the areas came from: a view's name, or 'page table'. */
  areasFrom: string;
}

/** private: one process maps it; shared-cow: several map it and none may write (copy-on-write after fork); shared: several, some writable. */
export type FrameState = 'private' | 'shared-cow' | 'shared';

export interface FrameModel {
  frame: number;
  pids: number[];
  state: FrameState;
}

export interface TlbEntryModel {
  cpu: number;
  tlb: string;
  va: number;
  asid: number;
  frame: number;
  pageSize: number;
  global: boolean;
}

export interface WalkLevel {
  level: number;
  name: string;
  index: number;
  entryAddress: number;
  flags: string;
  present: boolean;
  leaf: boolean;
  /** The next table's frame, or for a leaf the mapped frame. */
  frame: number;
}

export interface WalkModel {
  pid: number;
  va: number;
  levels: WalkLevel[];
  /** Physical address, or null when the walk ends at a not-present entry. */
  pa: number | null;
}

export interface MetricRow {
  path: string;
  value: number;
}

export interface Aggregation {
  key: string;
  count: number;
  cycles: number;
}

export interface Snapshot {
  personality: string;
  /** The registry family (linux, freebsd, windows, cygwin): how the page words a fork. */
  family: string;
  step: number;
  ending: string | null;
  /** The newest step lines. */
  log: StepLine[];
  processes: ProcessModel[];
  frames: FrameModel[];
  /** Frames mapped by user pages in all (the list above is capped). */
  framesTotal: number;
  tlb: TlbEntryModel[];
  metrics: MetricRow[];
  calls: Aggregation[];
  faults: Aggregation[];
  lastFault: WebSession['lastFault'];
  lastFork: WebSession['lastFork'];
}

/** The most frames and TLB entries a snapshot carries (a lecture example has tens). */
export const MAX_FRAMES = 4096;
export const MAX_TLB = 2048;

const LEVEL_NAMES: Record<number, readonly string[]> = {
  2: ['PGD', 'PTE'],
  3: ['L1', 'L2', 'L3'],
  4: ['PML4', 'PDPT', 'PD', 'PT'],
  5: ['PML5', 'PML4', 'PDPT', 'PD', 'PT'],
};

/**
 * Looking must not change what is measured: rendering a view walks the kernel's own structures
 * (a maps view visits the VMA index, which counts index nodes and charges their cycles), so the
 * metrics are put back as they were once the snapshot is taken.
 */
export function observing<T>(k: Kernel<unknown>, look: () => T): T {
  const before = k.metrics.snapshot();
  try {
    return look();
  } finally {
    const m = k.metrics;
    Object.assign(m.traps, before.traps);
    Object.assign(m.faults, before.faults);
    for (const key of COUNTER_KEYS) m[key] = before[key];
    for (const key of GAUGE_KEYS) m[key] = before[key];
  }
}

export function snapshot(s: WebSession, log: readonly StepLine[] = s.log): Snapshot {
  return observing(s.k, () => takeSnapshot(s, log));
}

function takeSnapshot(s: WebSession, log: readonly StepLine[]): Snapshot {
  const k = s.k;
  // Read before any view is rendered (observing puts the counters back afterwards).
  const metrics = metricRows(k);
  const live = s.processes().filter((p) => p.state === 'running');
  const frames = frameModels(k, live.map((p) => p.proc));
  return {
    personality: k.personality.name,
    family: s.personality.entry.name,
    step: s.log.length,
    ending: s.ending,
    log: [...log],
    processes: s.processes().map((p) => processModel(s, p.name, p.proc)),
    frames: frames.slice(0, MAX_FRAMES),
    framesTotal: frames.length,
    tlb: tlbModels(k),
    metrics,
    calls: aggregations(s.calls),
    faults: aggregations(s.faultKinds),
    lastFault: s.lastFault,
    lastFork: s.lastFork,
  };
}

function aggregations(m: ReadonlyMap<string, { count: number; cycles: number }>): Aggregation[] {
  return [...m].map(([key, a]) => ({ key, count: a.count, cycles: a.cycles })).sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
}

/** The metrics fields the personality says it fills, by path, with their values now. */
export function metricRows(k: Kernel<unknown>): MetricRow[] {
  const m = k.metrics as unknown as Record<string, number | Record<string, number>>;
  return k.personality.metricsFilled.map((path) => {
    const [head, tail] = path.split('.') as [string, string | undefined];
    const v = m[head];
    const value = tail === undefined ? (typeof v === 'number' ? v : 0) : typeof v === 'object' ? (v[tail] ?? 0) : 0;
    return { path, value };
  });
}

function processModel(s: WebSession, name: string, p: Process): ProcessModel {
  const k = s.k;
  if (p.state !== 'running') return { name, pid: p.pid, state: p.killedBy !== null ? `killed by ${p.killedBy}` : p.state, views: [], areas: [], areasFrom: '' };
  const region = s.personality.entry.regions;
  const views: ViewModel[] = [];
  let areas: AreaModel[] | null = null;
  let areasFrom = '';
  for (const v of k.personality.views) {
    const title = v.title.replace(/<pid>/g, String(p.pid));
    try {
      views.push({ name: v.name, title, text: v.render(k, p), error: null });
      if (v.name === region.view && v.rows !== undefined) {
        areas = areasFromView(v.rows(k, p), region.area);
        areasFrom = v.name;
      }
    } catch (e) {
      views.push({ name: v.name, title, text: null, error: e instanceof Error ? e.message : String(e) });
    }
  }
  // The region view first in the picker: each kernel's own map of the address space.
  views.sort((a, b) => Number(b.name === region.view) - Number(a.name === region.view));
  if (areas === null) {
    areas = areasFromPageTable(k, p);
    areasFrom = 'page table';
  }
  return { name, pid: p.pid, state: p.state, views, areas, areasFrom };
}

/** Areas from the personality's region view, row by row as its registry entry reads them (a free range is no area). */
export function areasFromView(rows: readonly Readonly<Record<string, RecordValue>>[], area: RegionView['area']): AreaModel[] {
  const out: AreaModel[] = [];
  for (const r of rows) {
    const a = area(r);
    if (a !== null) out.push(a);
  }
  return out;
}

/** Runs of present user pages, for a personality whose views have no rows with addresses. */
function areasFromPageTable(k: Kernel<unknown>, p: Process): AreaModel[] {
  const areas: AreaModel[] = [];
  forEachLeaf(k, k.personality.pageTableOf(p.space), (va, _frame, size, flags) => {
    const perms = (flags & PTE_WRITE) !== 0 ? 'rw' : 'r-';
    const last = areas[areas.length - 1];
    if (last?.end === va && last.perms === perms) last.end = va + size;
    else areas.push({ start: va, end: va + size, perms, label: '' });
  });
  return areas;
}

/**
 * Visit every present leaf of a page table, in address order: the page's address, its first frame,
 * size and PTE flags. Reads the pool's arrays directly; no walk references are counted.
 */
export function forEachLeaf(k: Kernel<unknown>, pt: PageTable, visit: (va: number, frame: number, size: number, flags: number) => void): void {
  const pool = k.mmu.pool;
  const geo = k.mmu.geometry;
  const E = pool.entries;
  const walk = (table: number, level: number, base: number): void => {
    const span = geo.entrySpan[level]!;
    for (let i = 0; i < E; i++) {
      const slot = table * E + i;
      const f = pool.flags[slot]!;
      if ((f & PTE_PRESENT) === 0) continue;
      const va = base + i * span;
      if (level === geo.levels - 1 || (f & PTE_HUGE) !== 0) visit(va, pool.next[slot]!, span, f);
      else walk(pool.next[slot]!, level + 1, va);
    }
  };
  walk(pt.root, 0, 0);
}

/** Every frame mapped by a user page of a live process, with who maps it and whether it is shared. */
export function frameModels(k: Kernel<unknown>, procs: readonly Process[]): FrameModel[] {
  const byFrame = new Map<number, { pids: number[]; writable: boolean }>();
  const seen = new Set<PageTable>();
  for (const p of procs) {
    const pt = k.personality.pageTableOf(p.space);
    // A space shared by several processes (vfork) is one set of mappings: count it once.
    if (seen.has(pt)) continue;
    seen.add(pt);
    forEachLeaf(k, pt, (_va, frame, size, flags) => {
      for (let f = frame; f < frame + size / 4096; f++) {
        const e = byFrame.get(f) ?? { pids: [], writable: false };
        if (!e.pids.includes(p.pid)) e.pids.push(p.pid);
        if ((flags & PTE_WRITE) !== 0) e.writable = true;
        byFrame.set(f, e);
      }
    });
  }
  return [...byFrame].sort((a, b) => a[0] - b[0]).map(([frame, e]) => ({
    frame, pids: e.pids, state: e.pids.length < 2 ? 'private' : e.writable ? 'shared' : 'shared-cow',
  }));
}

/** The valid entries of every TLB of every CPU. */
export function tlbModels(k: Kernel<unknown>): TlbEntryModel[] {
  const out: TlbEntryModel[] = [];
  const add = (cpu: number, t: Tlb | null): void => {
    if (t === null) return;
    for (let slot = 0; slot < t.totalEntries && out.length < MAX_TLB; slot++) {
      if (t.tag[slot] === -1) continue;
      out.push({ cpu, tlb: t.name, va: t.entryVa(slot), asid: t.asid[slot]!, frame: t.frame[slot]!, pageSize: t.entryPageSize(slot), global: t.global[slot] === 1 });
    }
  };
  for (const c of k.mmu.cpus) {
    add(c.id, c.l1d);
    add(c.id, c.l1i);
    add(c.id, c.l2);
  }
  return out;
}

/** The page-table walk for `va` in process `pid`'s tables: each level's entry, its flags and where it leads. */
export function walkFor(k: Kernel<unknown>, p: Process, va: number): WalkModel {
  const pool = k.mmu.pool;
  const geo = k.mmu.geometry;
  const names = LEVEL_NAMES[geo.levels] ?? Array.from({ length: geo.levels }, (_, i) => `L${i}`);
  const levels: WalkLevel[] = [];
  let t = k.personality.pageTableOf(p.space).root;
  let pa: number | null = null;
  for (let l = 0; l < geo.levels; l++) {
    const index = geo.index(va, l);
    const slot = t * pool.entries + index;
    const f = pool.flags[slot]!;
    const present = (f & PTE_PRESENT) !== 0;
    const leaf = present && (l === geo.levels - 1 || (f & PTE_HUGE) !== 0);
    const next = pool.next[slot]!;
    levels.push({ level: l, name: names[l] ?? `L${l}`, index, entryAddress: pool.tableFrame[t]! * 4096 + index * geo.format.entryBytes, flags: formatPteFlags(f), present, leaf, frame: present ? next : -1 });
    if (!present) break;
    if (leaf) {
      pa = next * 4096 + (va % geo.entrySpan[l]!);
      break;
    }
    t = next;
  }
  return { pid: p.pid, va, levels, pa };
}
