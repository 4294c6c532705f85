/**
 * Running a sweep's points: in this thread (one worker), or on a tinypool worker-thread pool.
 * Results come back in point order whatever order the workers finish in, and a point's numbers
 * do not depend on the worker that ran it (each point is a fresh, seeded machine).
 */
import { availableParallelism } from 'node:os';
import Tinypool from 'tinypool';
import { runPoint, type Point, type PointResult, type SweepSpec } from './sweep.js';

/** One worker per core by default. */
export function defaultWorkers(): number {
  return Math.max(1, availableParallelism());
}

export async function runPoints(spec: SweepSpec, points: readonly Point[], workers: number, progress: (done: number, total: number) => void = () => undefined): Promise<PointResult[]> {
  const results: PointResult[] = [];
  if (workers <= 1) {
    for (const p of points) {
      results.push(runPoint(spec, p));
      progress(results.length, points.length);
    }
    return results;
  }
  // The compiled worker beside this file (dist/worker.js): worker threads load JavaScript.
  const pool = new Tinypool({ filename: new URL('./worker.js', import.meta.url).href, minThreads: workers, maxThreads: workers });
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
