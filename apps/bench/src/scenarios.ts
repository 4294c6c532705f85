/**
 * Named scenarios: the questions users ask, each a small program written against the portable
 * driver (`Personality.portable`), so every personality runs it its own native way and the
 * simulated costs are counted as that kernel counts them. A scenario's parameters are strings
 * (sizes such as 16M); the sweep crosses them with the personalities.
 */
import type { MetricsData } from '@polykernel/core';
import type { Kernel, PortableDriver, PortableResult, Thread } from '@polykernel/kernel';
import { ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';
import { superpages } from './scenario-superpages.js';
import { INDEX_KINDS, type IndexKind } from '@polykernel/vm';
import type { DesignChoices } from './personalities.js';

const PAGE = 4096;
const RW = 3;

/** What a scenario's summary reads of each point (a PointResult, without the import cycle). */
export interface SummaryPoint {
  personality: string;
  params: Readonly<Record<string, string>>;
  status: string;
  extra: Extra;
}

export interface ScenarioContext {
  kernel: Kernel<unknown>;
  driver: PortableDriver<unknown>;
  thread: Thread;
}

/** What one run of a scenario measured beyond the machine's metrics (the phase the question is about). */
export type Extra = Record<string, number>;

export interface Scenario {
  name: string;
  /** The question it answers, one line. */
  question: string;
  /** Parameters and their default sweep values. */
  params: Readonly<Record<string, readonly string[]>>;
  /** The parameter the report's chart puts on the x axis. */
  x: string;
  /** The figure the chart plots (a metrics path such as cycles, or an extra's key). */
  y: string;
  /**
   * Machine options a parameter chooses: the MMU profile, and design choices of the personality
   * (a point asking a personality for a choice it cannot vary is n/a there).
   */
  machine?(params: Readonly<Record<string, string>>): { profile?: string; choices?: DesignChoices };
  /** Figures computed over the whole sweep (Markdown lines for the report), such as a crossover point. */
  summary?(results: readonly SummaryPoint[]): string[];
  run(ctx: ScenarioContext, params: Readonly<Record<string, string>>): Extra;
}

/** A step a kernel could not do: the point is n/a with this reason. */
export class NotApplicable extends Error {}

/** A step that failed on this kernel (the native error): the point records it. */
export class StepFailed extends Error {}

function value<T>(what: string, r: PortableResult<T>): T {
  if (r.kind === 'ok') return r.value;
  if (r.kind === 'unsupported') throw new NotApplicable(`${what}: ${r.reason}`);
  if (r.kind === 'failed') throw new StepFailed(`${what}: ${r.error} (${r.call})`);
  throw new StepFailed(`${what}: blocked in ${r.call}`);
}

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/** "16M", "2G", "4096" → bytes. */
export function size(s: string): number {
  const m = /^(\d+)([KMG]?)$/i.exec(s.trim());
  if (m === null) throw new RangeError(`expected a size such as 4096, 16M or 2G, got "${s}"`);
  return Number(m[1]) * UNITS[m[2]!.toUpperCase()]!;
}

function touchAll(ctx: ScenarioContext, addr: number, bytes: number): void {
  for (let off = 0; off < bytes; off += PAGE) ctx.kernel.access(ctx.thread, addr + off, ACCESS_WRITE);
}

/** A parent made resident: `bytes` allocated read-write through the driver and every page written. */
function residentRegion(ctx: ScenarioContext, bytes: number): { addr: number } {
  const region = value('alloc', ctx.driver.alloc(ctx.kernel, ctx.thread, { size: bytes, prot: RW }));
  touchAll(ctx, region.addr, bytes);
  return region;
}

/** Cycles of one phase. */
function timed(k: Kernel<unknown>, fn: () => void): number {
  const before = k.metrics.cycles;
  fn();
  return k.metrics.cycles - before;
}

const forkCost: Scenario = {
  name: 'fork-cost',
  question: 'What does fork cost as the parent\'s resident memory grows (COW fork, Cygwin\'s copy-on-fork; n/a where there is no fork)?',
  params: { size: ['16M', '64M', '256M'] },
  x: 'size',
  y: 'forkCycles',
  run: (ctx, p) => {
    const { kernel: k, driver: d, thread: t } = ctx;
    const region = residentRegion(ctx, size(p.size ?? '16M'));
    let child = null;
    const forkCycles = timed(k, () => {
      child = value('fork', d.fork(k, t));
    });
    const c = child as unknown as { thread: Thread; ref: number };
    // The child writes one page (one COW copy), exits; the parent reaps it.
    k.access(c.thread, region.addr, ACCESS_WRITE);
    value('exit', d.exit(k, c.thread, 0));
    value('wait', d.wait(k, t, c.ref));
    return { forkCycles };
  },
};

const spawnCost: Scenario = {
  name: 'spawn-cost',
  question: 'What does starting a program cost from a parent with this much resident memory (fork+execve, CreateProcess)?',
  params: { size: ['16M', '64M', '256M'], program: ['/bin/true'] },
  x: 'size',
  y: 'spawnCycles',
  run: (ctx, p) => {
    const { kernel: k, driver: d, thread: t } = ctx;
    residentRegion(ctx, size(p.size ?? '16M'));
    const program = p.program ?? '/bin/true';
    let ref = 0;
    let thread: Thread | null = null;
    const spawnCycles = timed(k, () => {
      const c = value('spawn', d.spawn(k, t, { path: program, argv: [program] }));
      ref = c.ref;
      thread = c.thread;
    });
    value('exit', d.exit(k, thread!, 0));
    value('wait', d.wait(k, t, ref));
    return { spawnCycles };
  },
};

const dd: Scenario = {
  name: 'dd',
  question: 'The course\'s dd experiment: how do demand-zero faults inside one read() compare with the system calls (dd if=/dev/zero of=/dev/null bs=N count=1)?',
  params: { bs: ['1M', '10M'] },
  x: 'bs',
  y: 'cycles',
  run: (ctx, p) => {
    const { kernel: k, driver: d, thread: t } = ctx;
    const bs = size(p.bs ?? '10M');
    const buf = value('alloc', d.alloc(k, t, { size: bs, prot: RW }));
    const input = value('open /dev/zero', d.open(k, t, { path: '/dev/zero', write: false }));
    const output = value('open /dev/null', d.open(k, t, { path: '/dev/null', write: true, create: true, truncate: true }));
    const faultsBefore = k.metrics.traps.pageFault;
    const readCycles = timed(k, () => void value('read', d.read(k, t, input, buf.addr, bs)));
    value('write', d.write(k, t, output, buf.addr, bs));
    value('close', d.close(k, t, input));
    value('close', d.close(k, t, output));
    return { readCycles, readFaults: k.metrics.traps.pageFault - faultsBefore };
  },
};

const tlbReach: Scenario = {
  name: 'tlb-reach',
  question: 'How many TLB misses does a random walk over a working set take on each machine profile, as the set outgrows the TLB\'s reach?',
  params: { profile: ['x86-64', 'arm64-a72'], size: ['1M', '4M', '16M'] },
  x: 'size',
  y: 'tlbMisses',
  machine: (p) => ({ profile: p.profile ?? 'x86-64' }),
  run: (ctx, p) => {
    const { kernel: k, thread: t } = ctx;
    const bytes = size(p.size ?? '1M');
    const region = residentRegion(ctx, bytes);
    const pages = bytes / PAGE;
    const missesBefore = k.metrics.tlbMisses;
    // A seeded walk (the machine's own generator), four accesses per page of the set.
    let x = 12345;
    for (let i = 0; i < 4 * pages; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      k.access(t, region.addr + (x % pages) * PAGE, ACCESS_WRITE);
    }
    return { walkMisses: k.metrics.tlbMisses - missesBefore };
  },
};

/** "native" (the kernel's own index) or one of the index kinds, for a design study. */
function indexChoice(p: Readonly<Record<string, string>>): DesignChoices {
  const v = p.index ?? 'native';
  if (v === 'native') return {};
  if (!(INDEX_KINDS as readonly string[]).includes(v)) throw new RangeError(`index takes native or one of ${INDEX_KINDS.join(', ')}; got "${v}"`);
  return { vmaIndex: v as IndexKind };
}

const vmaIndex: Scenario = {
  name: 'vma-index',
  question: 'How does each kernel\'s address-space index (maple/B-tree, red-black tree, splay, AVL) scale as the areas grow: index nodes visited to map them and fault them in — and, with index=list,rbtree,splay,avl,btree on Linux, where does each tree overtake the sorted list?',
  params: { areas: ['100', '1000', '10000'], index: ['native'] },
  x: 'areas',
  y: 'indexNodesVisited',
  machine: (p) => ({ choices: indexChoice(p) }),
  run: (ctx, p) => {
    const { kernel: k, driver: d, thread: t } = ctx;
    const n = Number(p.areas ?? '100');
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`areas takes a whole number, got "${p.areas ?? ''}"`);
    const regions = [];
    const mapBefore = k.metrics.indexNodesVisited;
    // Alternate protections so that neighbours cannot merge: n areas, one page each.
    for (let i = 0; i < n; i++) regions.push(value('alloc', d.alloc(k, t, { size: PAGE, prot: i % 2 === 0 ? RW : 1 })));
    const before = k.metrics.indexNodesVisited;
    for (const r of regions) k.access(t, r.addr, ACCESS_READ);
    const faultIndexNodes = k.metrics.indexNodesVisited - before;
    return { mapIndexNodes: before - mapBefore, faultIndexNodes, nodesPerMap: (before - mapBefore) / n, nodesPerFault: faultIndexNodes / n };
  },
  summary: (results) => crossoverLines(results),
};

/**
 * Where each tree overtakes the list: per personality and tree kind, the smallest number of areas
 * from which on the tree visits fewer nodes per operation (`figure`: nodesPerFault or nodesPerMap)
 * than the list (with its one-entry cache) at every larger swept size. Computed from the sweep's
 * points; null when the list stays cheaper at the largest size.
 */
export function crossovers(results: readonly SummaryPoint[], figure: 'nodesPerFault' | 'nodesPerMap'): { personality: string; index: string; areas: number | null }[] {
  const ok = results.filter((r) => r.status === 'ok' && r.params.index !== undefined && r.params.index !== 'native');
  const out: { personality: string; index: string; areas: number | null }[] = [];
  for (const personality of [...new Set(ok.map((r) => r.personality))]) {
    const mine = ok.filter((r) => r.personality === personality);
    const perFault = (kind: string): Map<number, number> => new Map(mine.filter((r) => r.params.index === kind).map((r) => [Number(r.params.areas), r.extra[figure] ?? Number.NaN]));
    const list = perFault('list');
    if (list.size === 0) continue;
    for (const kind of INDEX_KINDS) {
      if (kind === 'list') continue;
      const tree = perFault(kind);
      const sizes = [...list.keys()].filter((a) => tree.has(a)).sort((a, b) => a - b);
      if (sizes.length === 0) continue;
      let from: number | null = null;
      for (const a of sizes) {
        if (tree.get(a)! < list.get(a)!) from ??= a;
        else from = null;
      }
      out.push({ personality, index: kind, areas: from });
    }
  }
  return out;
}

function crossoverLines(results: readonly SummaryPoint[]): string[] {
  const faults = crossovers(results, 'nodesPerFault');
  const maps = crossovers(results, 'nodesPerMap');
  if (faults.length === 0) return [];
  const cell = (a: number | null | undefined): string => (a === null || a === undefined ? 'not reached in this sweep' : `${a.toLocaleString('en-US')} areas`);
  return [
    '## Crossover: where each tree overtakes the sorted list', '',
    'The smallest swept number of areas from which the tree visits fewer index nodes per operation than the list (Linux 2.4\'s `mm->mmap` with its one-entry `mmap_cache`) at every larger swept size: for the fault\'s lookup (find_vma) and for mapping (the gap search and the insert). Node visits are not weighted: a list node is one cache line on a predictable path, a tree node a dependent load, which is why Linux 2.2–2.4.9 kept the list until a process had 32 areas (AVL_MIN_MAP_COUNT).', '',
    '| personality | index | fault lookups: list overtaken from | mapping: list overtaken from |', '| --- | --- | --- | --- |',
    ...faults.map((r) => `| ${r.personality} | ${r.index} | ${cell(r.areas)} | ${cell(maps.find((m) => m.personality === r.personality && m.index === r.index)?.areas)} |`), '',
  ];
}

export const SCENARIOS: readonly Scenario[] = [forkCost, spawnCost, dd, tlbReach, vmaIndex, superpages];

export function scenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}

/** A figure of a result by name: an extra's key, or a metrics path (cycles, faults.zeroFill, traps.pageFault). */
export function figure(metrics: MetricsData, extra: Extra, name: string): number | null {
  if (name in extra) return extra[name]!;
  const [group, key] = name.split('.');
  const top = (metrics as unknown as Record<string, unknown>)[group!];
  if (key === undefined) return typeof top === 'number' ? top : null;
  const v = (top as Record<string, unknown> | undefined)?.[key];
  return typeof v === 'number' ? v : null;
}
