/**
 * Running a sweep's points: in this thread (one worker), or on a tinypool worker-thread pool.
 * Results come back in point order whatever order the workers finish in, and a point's numbers
 * do not depend on the worker that ran it (each point is a fresh, seeded machine).
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import Tinypool from 'tinypool';
import { runPoint, type Point, type PointResult, type SweepSpec } from './sweep.js';

/**
 * The worker script: the compiled worker beside this file (dist/worker.js: worker threads load
 * JavaScript), or, when this module runs from the sources (the tests), the one in dist/ — the
 * test target builds the app first, so it is the same code.
 */
function workerFile(): string {
  const beside = new URL('./worker.js', import.meta.url);
  return existsSync(fileURLToPath(beside)) ? beside.href : new URL('../dist/worker.js', import.meta.url).href;
}

/**
 * The parent's Node flags without export conditions: under the tests the parent resolves the
 * workspace packages to their TypeScript sources (`--conditions @polykernel/source`), which a
 * worker running the compiled JavaScript cannot load.
 */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--conditions' || a === '-C') i++;
    else if (!a.startsWith('--conditions=') && !a.startsWith('-C=')) out.push(a);
  }
  return out;
}

/** One worker per core by default. */
export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

export async function runPoints(spec: SweepSpec, points: readonly Point[], workers: number, progress: (done: number, total: number) => void = () => undefined): Promise<PointResult[]> {
  const results: PointResult[] = [];
  if (workers <= 1) {
    for (const p of points) {
      results.push(await runPoint(spec, p));
      progress(results.length, points.length);
    }
    return results;
  }
  const pool = new Tinypool({ filename: workerFile(), minThreads: workers, maxThreads: workers, execArgv: workerExecArgv() });
  try {
    let done = 0;
    const all = await Promise.all(points.map(async (point) => {
      const r = (await pool.run({ spec, point })) as PointResult;
      progress(++done, points.length);
      return r;
    }));
    return all.sort((a, b) => a.index - b.index);
  } finally {
    await pool.destroy();
  }
}
