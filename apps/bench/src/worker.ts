/** A pool worker: runs one sweep point on a fresh machine (the pool's task function). */
import { runPoint, type Point, type PointResult, type SweepSpec } from './sweep.js';

export default function run(task: { spec: SweepSpec; point: Point }): Promise<PointResult> {
  return runPoint(task.spec, task.point);
}
