/**
 * The engine the worker hosts: one WebSession per chosen personality, stepped in lock-step, and
 * the snapshots the page draws. Kept apart from the worker glue so it runs under vitest in Node.
 */
import { loadImage, summarize, type ImageSummary } from '@polykernel/loader';
import { parseWorkload, WorkloadError, type Workload } from '@polykernel/workload';
import { compareModel } from './compare.js';
import type { Reply, Request, RunUntil, Series, SideState } from './protocol.js';
import { resolveWebPersonality, allVariants } from './registry.js';
import { WebSession, type StepLine } from './session.js';
import { snapshot, walkFor } from './snapshot.js';

/** The step log lines a snapshot carries (the newest). */
const LOG_TAIL = 200;
/** Steps that stop "run to next event" (a process made or replaced). */
const EVENT_KINDS = new Set(['fork', 'vfork', 'clone', 'spawn', 'exec']);
/** A run to the end stops here, so a runaway workload cannot hang the worker. */
export const MAX_RUN_STEPS = 1_000_000;

interface Side {
  session: WebSession;
  series: Series;
}

function faultTotal(s: WebSession): number {
  let n = 0;
  for (const a of s.faultKinds.values()) n += a.count;
  return n;
}

export class Engine {
  private sides: Side[] = [];
  private name = '';
  private image: ImageSummary | null = null;

  /** A request's reply (asynchronous: a session's next() is; nothing it awaits leaves the worker, so replies keep the requests' order). */
  async handle(req: Request): Promise<Reply> {
    try {
      if (req.type === 'load') return await this.load(req.yaml, req.file, req.personalities, req.seed, req.step);
      if (req.type === 'run') return await this.run(req.until);
      if (req.type === 'binary') return await this.binary(req.name, req.bytes, req.personalities, req.seed);
      const side = this.sides[req.side];
      const proc = side?.session.processes().find((p) => p.pid === req.pid)?.proc;
      if (side === undefined || proc === undefined) return { type: 'walk', side: req.side, walk: null, error: `no process ${req.pid}` };
      if (proc.state !== 'running') return { type: 'walk', side: req.side, walk: null, error: `process ${req.pid} has exited: it has no page tables` };
      return { type: 'walk', side: req.side, walk: walkFor(side.session.k, proc, req.va), error: null };
    } catch (e) {
      return { type: 'error', message: e instanceof Error ? e.message : String(e) };
    }
  }

  private async load(yaml: string, file: string, personalities: readonly string[], seed: number, step: number): Promise<Reply> {
    let w;
    try {
      w = parseWorkload(yaml, file);
    } catch (e) {
      if (e instanceof WorkloadError) return { type: 'error', message: e.message };
      throw e;
    }
    this.image = null;
    return await this.boot(w, personalities, seed, step, {});
  }

  /**
   * A dropped program: its segments (the loader's image model, as `polykernel inspect --json`),
   * then a one-step workload that execs it on each personality, so its starting address space
   * shows. Only this file exists in the browser: a dynamic program's interpreter is not found.
   */
  private async binary(name: string, bytes: Uint8Array, personalities: readonly string[], seed: number): Promise<Reply> {
    let image: ImageSummary;
    try {
      image = summarize(loadImage(bytes));
    } catch (e) {
      return { type: 'error', message: `${name}: ${e instanceof Error ? e.message : String(e)}` };
    }
    const path = `/${name.replace(/[^\w.+-]/g, '_')}`;
    // JSON is YAML: the workload goes through the same schema as a file would.
    const w = parseWorkload(JSON.stringify({ name, processes: [{ name: path.slice(1), steps: [{ exec: { path, argv: [path] } }] }] }), name);
    this.image = image;
    return await this.boot(w, personalities, seed, 1, { [path]: bytes });
  }

  private async boot(w: Workload, personalities: readonly string[], seed: number, step: number, files: Readonly<Record<string, Uint8Array>>): Promise<Reply> {
    if (personalities.length < 1 || personalities.length > 2) return { type: 'error', message: 'choose one or two personalities' };
    // The time reported includes booting the kernels (1 GiB of frames each, unless the workload says).
    const t0 = performance.now();
    const sides: Side[] = [];
    for (const name of personalities) {
      const r = resolveWebPersonality(name);
      if (r === undefined) return { type: 'error', message: `personality "${name}" is not registered (registered: ${allVariants().join(', ')})` };
      sides.push({ session: new WebSession(w, r, { seed, files }), series: { step: [0], cycles: [0], faults: [0], tlbMisses: [0] } });
    }
    this.sides = sides;
    this.name = w.name;
    await this.advance(step, () => false);
    return this.state(t0);
  }

  private async run(until: RunUntil): Promise<Reply> {
    const t0 = performance.now();
    if (until === 'step') await this.advance(1, () => false);
    else if (until === 'event') await this.advance(MAX_RUN_STEPS, (l) => EVENT_KINDS.has(l.kind) || l.faults > 0);
    else await this.advance(MAX_RUN_STEPS, () => false);
    return this.state(t0);
  }

  /** Step every side `n` times, or until a finished step satisfies `stop` on any side. */
  private async advance(n: number, stop: (l: StepLine) => boolean): Promise<void> {
    for (let i = 0; i < n; i++) {
      let any = false;
      let hit = false;
      for (const side of this.sides) {
        const line = await side.session.next();
        if (line === null) continue;
        any = true;
        this.record(side);
        if (stop(line)) hit = true;
      }
      if (!any || hit) return;
    }
  }

  private record(side: Side): void {
    const s = side.session;
    const m = s.k.metrics;
    side.series.step.push(s.log.length);
    side.series.cycles.push(m.cycles);
    side.series.faults.push(faultTotal(s));
    side.series.tlbMisses.push(m.tlbMisses);
  }

  private state(t0: number): Reply {
    const sides: SideState[] = this.sides.map((side) => ({
      snapshot: snapshot(side.session, side.session.log.slice(-LOG_TAIL)),
      series: side.series,
    }));
    const compare = this.sides.length > 1 ? compareModel(this.sides.map((s) => s.session)) : null;
    return { type: 'state', workload: this.name, binary: this.image, sides, compare, step: Math.max(0, ...this.sides.map((s) => s.session.log.length)), elapsedMs: performance.now() - t0 };
  }
}
