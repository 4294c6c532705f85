/**
 * Sweeps: a scenario's parameters crossed with personalities, as a numbered list of points. A
 * point runs on a fresh machine (same seed, memory for all), so its simulated numbers depend on
 * the point alone — never on which worker, shard or order ran it. `--shard i/n` keeps the points
 * whose index is i-1 modulo n (the vitest/Playwright convention, 1-based), and `merge` joins the
 * shards' results back into the sweep's order, checking that every point is there exactly once.
 * A sweep is of a named scenario, or of a workload file (`workload` in the spec: the points run the
 * file at each combination of its `${name}` parameters, workload-sweep.ts).
 */
import type { MetricsData } from '@polykernel/core';
import { Kernel, startProcess } from '@polykernel/kernel';
import { sysrootLookup } from '@polykernel/kernel/node';
import { benchPersonality, BENCH_PERSONALITIES, type DesignChoices } from './personalities.js';
import { NotApplicable, scenario, StepFailed, type Extra, type Scenario } from './scenarios.js';
import { combinations, runWorkloadPoint, type PointStep, type WorkloadRef } from './workload-sweep.js';

export interface SweepSpec {
  /** The scenario's name, or for a workload sweep the name its files take (the file's base name). */
  scenario: string;
  /** A sweep over a workload file rather than a named scenario. */
  workload?: WorkloadRef;
  /** Parameter values to cross (each defaults to the scenario's own). */
  params: Readonly<Record<string, readonly string[]>>;
  personalities: readonly string[];
  seed: number;
  /** Physical memory of each machine, in bytes. */
  memory: number;
  sysroot: string;
}

export interface Point {
  index: number;
  scenario: string;
  personality: string;
  params: Readonly<Record<string, string>>;
}

export interface PointResult extends Point {
  /** ok, n/a (the kernel has no way to do a step) or failed (a native error). */
  status: 'ok' | 'n/a' | 'failed';
  reason: string | null;
  metrics: MetricsData | null;
  extra: Extra;
  /** A workload point's steps and their results. */
  steps?: PointStep[];
}

/** A shard's (or a whole sweep's) results: the spec they come from and the points run. */
export interface SweepResults {
  spec: SweepSpec;
  /** Points in the whole sweep. */
  total: number;
  shard: { index: number; count: number };
  results: PointResult[];
}

/** What a report needs of a sweep: its name, question, parameters and chart (a scenario's, or a workload sweep's). */
export type SweepSubject = Pick<Scenario, 'name' | 'question' | 'params' | 'x' | 'y' | 'summary'>;

/** The scenario a sweep runs, or for a workload sweep the same description made from the spec. */
export function subjectOf(spec: SweepSpec): SweepSubject {
  const w = spec.workload;
  if (w !== undefined) {
    return {
      name: spec.scenario, question: `Workload ${w.name} (${w.file})${w.description !== '' ? `: ${w.description}` : ''}, at each value of ${Object.keys(spec.params).map((p) => `\${${p}}`).join(', ')}.`,
      params: spec.params, x: Object.keys(spec.params)[0] ?? '', y: w.y,
    };
  }
  const s = scenario(spec.scenario);
  if (s === undefined) throw new RangeError(`unknown scenario "${spec.scenario}"`);
  return s;
}

/** Every point of a sweep, in a fixed order: parameters (in the scenario's order, or as given for a workload), then personalities. */
export function expandPoints(spec: SweepSpec): Point[] {
  const s = subjectOf(spec);
  const combos = combinations(Object.fromEntries(Object.keys(s.params).map((name) => [name, spec.params[name] ?? s.params[name]!])));
  const points: Point[] = [];
  for (const params of combos) for (const personality of spec.personalities) points.push({ index: points.length, scenario: s.name, personality, params });
  return points;
}

/** `i/n` with 1 ≤ i ≤ n: the shard, or why the spec is refused. */
export function parseShard(text: string): { index: number; count: number } | string {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  if (m === null) return `--shard takes i/n, e.g. 2/3; got "${text}"`;
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) return `--shard ${text}: n must be at least 1`;
  if (index < 1 || index > count) return `--shard ${text}: i must be between 1 and n (shards are numbered 1 to ${count})`;
  return { index, count };
}

export function shardOf(points: readonly Point[], shard: { index: number; count: number }): Point[] {
  return points.filter((p) => p.index % shard.count === shard.index - 1);
}

/** Run one point on a fresh machine. */
export async function runPoint(spec: SweepSpec, point: Point): Promise<PointResult> {
  if (spec.workload !== undefined) {
    const o = await runWorkloadPoint(spec.workload, point.params, point.personality, spec);
    return { ...point, status: o.status, reason: o.reason, metrics: o.metrics, extra: o.extra, steps: o.steps };
  }
  return runScenarioPoint(spec, point);
}

function runScenarioPoint(spec: SweepSpec, point: Point): PointResult {
  const s = scenario(point.scenario);
  const entry = benchPersonality(point.personality);
  if (s === undefined || entry === undefined) throw new RangeError(`point ${point.index}: unknown scenario or personality`);
  let machine: { profile?: string; choices?: DesignChoices };
  try {
    machine = s.machine?.(point.params) ?? {};
  } catch (e) {
    if (e instanceof RangeError) return { ...point, status: 'failed', reason: e.message, metrics: null, extra: {} };
    throw e;
  }
  const choices = machine.choices ?? {};
  const refused = (Object.keys(choices) as (keyof DesignChoices)[]).find((c) => !entry.choices.includes(c));
  if (refused !== undefined) return { ...point, status: 'n/a', reason: `${point.personality} cannot vary ${refused} (it offers: ${entry.choices.join(', ') || 'nothing'})`, metrics: null, extra: {} };
  const personality = entry.create(sysrootLookup(spec.sysroot), spec.seed, choices);
  const profile = machine.profile;
  const kernel = new Kernel<unknown>(personality, { frames: Math.floor(spec.memory / 4096), seed: spec.seed, ...(profile !== undefined ? { profile } : {}) });
  const driver = kernel.personality.portable;
  if (driver === undefined) return { ...point, status: 'n/a', reason: `${point.personality} has no portable driver`, metrics: null, extra: {} };
  const start = driver.start !== undefined ? driver.start(kernel, 'bench') : startProcess(kernel, 'bench');
  try {
    const extra = s.run({ kernel, driver, thread: start.thread }, point.params);
    return { ...point, status: 'ok', reason: null, metrics: kernel.metrics.snapshot(), extra };
  } catch (e) {
    if (e instanceof NotApplicable) return { ...point, status: 'n/a', reason: e.message, metrics: null, extra: {} };
    if (e instanceof StepFailed) return { ...point, status: 'failed', reason: e.message, metrics: kernel.metrics.snapshot(), extra: {} };
    throw e;
  }
}

/** Check a sweep spec before running: known scenario, parameters and personalities. */
export function specProblem(spec: SweepSpec): string | null {
  const s = spec.workload !== undefined ? subjectOf(spec) : scenario(spec.scenario);
  if (s === undefined) return `unknown scenario "${spec.scenario}"`;
  for (const name of Object.keys(spec.params)) if (!(name in s.params)) return `${s.name} has no parameter "${name}" (it has: ${Object.keys(s.params).join(', ')})`;
  for (const p of spec.personalities) {
    if (benchPersonality(p) === undefined) return `personality "${p}" is not registered (registered: ${BENCH_PERSONALITIES.map((b) => b.variant).join(', ')})`;
  }
  return null;
}

/** Join shards into one result set in the sweep's order: the same spec, every point exactly once. */
export function merge(shards: readonly SweepResults[]): SweepResults {
  if (shards.length === 0) throw new RangeError('merge needs at least one shard');
  const first = shards[0]!;
  const spec = JSON.stringify(first.spec);
  const byIndex = new Map<number, PointResult>();
  for (const s of shards) {
    if (JSON.stringify(s.spec) !== spec) throw new RangeError('the shards come from different sweeps (their specs differ)');
    for (const r of s.results) {
      if (byIndex.has(r.index)) throw new RangeError(`point ${r.index} is in two shards`);
      byIndex.set(r.index, r);
    }
  }
  const missing: number[] = [];
  for (let i = 0; i < first.total; i++) if (!byIndex.has(i)) missing.push(i);
  if (missing.length > 0) throw new RangeError(`points missing from the shards: ${missing.slice(0, 10).join(', ')}${missing.length > 10 ? ' ...' : ''}`);
  return { spec: first.spec, total: first.total, shard: { index: 1, count: 1 }, results: [...byIndex.values()].sort((a, b) => a.index - b.index) };
}
