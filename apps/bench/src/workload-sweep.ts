/**
 * Sweeps over a workload file: `polykernel-bench sweep W.yaml --param size=16M,256M,2G`. The file
 * uses `${size}` where a value goes (@polykernel/workload's parameter syntax); each combination of
 * values on each personality is a point, run by @polykernel/runner exactly as `polykernel run`
 * and `compare` run a workload — a fresh machine with the sweep's seed, the same steps — and
 * reported with its metrics and every step's result. The file's SHA-256 is part of the sweep's
 * spec: a worker, a shard or a merge that sees another file refuses it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { MetricsData } from '@polykernel/core';
import { resolvePersonality, type StepProgress } from '@polykernel/runner';
import { execute, type Machine } from '@polykernel/runner/node';
import { checkParams, nativeSteps, parseWorkload, substituteParams, WorkloadError, workloadParams } from '@polykernel/workload';

/** The workload a sweep runs: the file as given, what it says it is, its digest, and the figure charted. */
export interface WorkloadRef {
  file: string;
  name: string;
  description: string;
  sha256: string;
  /** The figure the chart plots: a metrics path (cycles, faults.zeroFill, pagesCopied ...). */
  y: string;
}

/** One step's outcome at a point (as `polykernel run` prints it). */
export interface PointStep {
  process: string;
  step: string;
  result: string;
  /** The simulated cycles the step took. */
  cycles: number;
}

/** What a workload point adds to a scenario point: the status, reason and metrics, its steps, and their cycles by process and kind. */
export interface WorkloadOutcome {
  status: 'ok' | 'n/a' | 'failed';
  reason: string | null;
  metrics: MetricsData | null;
  steps: PointStep[];
  /** `<process>.<step kind>` → the cycles of those steps together (parent.fork, child.touch ...): what --chart can plot besides the metrics. */
  extra: Record<string, number>;
}

/** The cycles of each process's steps of each kind: `parent.fork`, `child.touch`. */
function cyclesByStep(steps: readonly PointStep[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of steps) {
    const key = `${s.process}.${s.step.split(' ', 1)[0]!}`;
    out[key] = (out[key] ?? 0) + s.cycles;
  }
  return out;
}

/** The physical memory a machine may have (as `polykernel run` accepts it). */
const MEMORY = { min: 64 * 1024, max: 16 * 1024 ** 3 };
const QUIET: StepProgress = { tick: () => undefined, end: () => undefined };

const texts = new Map<string, string>();

const digest = (text: string): string => createHash('sha256').update(text).digest('hex');

/** The sweep's workload text, read once per thread and checked against the spec's digest. */
function workloadText(ref: WorkloadRef): string {
  let text = texts.get(ref.file);
  if (text === undefined) {
    text = readFileSync(ref.file, 'utf8');
    texts.set(ref.file, text);
  }
  if (digest(text) !== ref.sha256) throw new Error(`${ref.file} is not the file this sweep was started on (its SHA-256 differs): run the sweep again`);
  return text;
}

/** Every combination of the parameters' values, in the order the parameters were given. */
export function combinations(params: Readonly<Record<string, readonly string[]>>): Record<string, string>[] {
  let combos: Record<string, string>[] = [{}];
  for (const [name, values] of Object.entries(params)) combos = combos.flatMap((c) => values.map((v) => ({ ...c, [name]: v })));
  return combos;
}

/**
 * Read and check a workload file for a sweep over `params`: every `${name}` has values and every
 * value a `${name}`, and the workload is valid at every combination. The reference, or the
 * problem (file:line:column: ... for the workload's own mistakes).
 */
export function prepareWorkload(file: string, text: string, params: Readonly<Record<string, readonly string[]>>, y = 'cycles'): WorkloadRef | string {
  try {
    if (Object.keys(params).length === 0) {
      const used = workloadParams(text, file).map((u) => u.name);
      return `${file}: a sweep needs at least one --param name=v1,v2,... (${used.length === 0 ? 'the workload uses no ${name} parameter; polykernel compare runs it on several personalities' : `it uses: ${used.join(', ')}`})`;
    }
    checkParams(text, Object.keys(params), file);
    for (const [name, values] of Object.entries(params)) if (values.length === 0) return `--param ${name} has no values`;
    let first: { name: string; description?: string | undefined } | null = null;
    for (const c of combinations(params)) {
      const w = parseWorkload(substituteParams(text, c, file), file);
      first ??= w;
    }
    return { file, name: first!.name, description: first!.description ?? '', sha256: digest(text), y };
  } catch (e) {
    if (e instanceof WorkloadError) return e.message;
    throw e;
  }
}

/** The name a sweep's files take: the workload file's base name. */
export function sweepName(file: string): string {
  return basename(file, extname(file));
}

/** Run the workload at one combination of values on one personality, on a fresh machine. */
export async function runWorkloadPoint(ref: WorkloadRef, params: Readonly<Record<string, string>>, personality: string, opts: { seed: number; memory: number; sysroot: string }): Promise<WorkloadOutcome> {
  const none = { metrics: null, steps: [], extra: {} };
  const text = substituteParams(workloadText(ref), params, ref.file);
  let w;
  try {
    w = parseWorkload(text, ref.file);
  } catch (e) {
    if (e instanceof WorkloadError) return { ...none, status: 'failed', reason: e.message };
    throw e;
  }
  const resolved = resolvePersonality(personality);
  if (resolved === undefined) throw new RangeError(`personality "${personality}" is not registered`);
  const foreign = nativeSteps(w).filter((n) => n.personality !== resolved.entry.name);
  if (foreign.length > 0) {
    const f = foreign[0]!;
    return { ...none, status: 'n/a', reason: `native steps of ${f.personality} (${f.kind}${foreign.length > 1 ? ` and ${foreign.length - 1} more` : ''}); write them as portable steps` };
  }
  const memory = w.memory ?? opts.memory;
  if (!Number.isSafeInteger(memory) || memory < MEMORY.min || memory > MEMORY.max) {
    return { ...none, status: 'failed', reason: `the workload's memory field takes 64K to 16G; got ${memory}` };
  }
  const machine: Machine = { frames: Math.floor(memory / 4096), swapSlots: Math.floor((w.swap ?? 0) / 4096), contents: w.contents === true, sysroot: opts.sysroot, seed: opts.seed };
  const run = await execute(w, text, ref.file, resolved, machine, {}, () => undefined, QUIET, undefined, { stepCycles: true });
  if (run.k.personality.portable === undefined && run.lp === null) return { ...none, status: 'n/a', reason: `${resolved.variant} has no portable driver (Personality.portable)` };
  const cycles = run.session.stepCycles ?? [];
  const steps = run.session.results.map((s, i) => ({ process: s.process, step: s.step, result: s.result, cycles: cycles[i] ?? 0 }));
  const metrics = run.k.metrics.snapshot();
  const extra = cyclesByStep(steps);
  const line = (s: PointStep): string => `${s.process}: ${s.step} -> ${s.result}`;
  if (run.stalled !== null) return { status: 'failed', reason: run.stalled, metrics, steps, extra };
  const errors = steps.filter((s) => s.result.startsWith('error:'));
  if (errors.length > 0) return { status: 'failed', reason: line(errors[0]!), metrics, steps, extra };
  const na = steps.filter((s) => s.result.startsWith('n/a'));
  if (na.length > 0) return { status: 'n/a', reason: `${na.length} step${na.length === 1 ? '' : 's'} n/a, first ${line(na[0]!)}`, metrics, steps, extra };
  return { status: 'ok', reason: null, metrics, steps, extra };
}
