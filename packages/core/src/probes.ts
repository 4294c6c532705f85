/**
 * A probe bus in the spirit of DTrace: the engine fires typed events at named probes; tools
 * subscribe and aggregate (count, sum, min, max, avg, power-of-two histograms) keyed by any field.
 *
 * Cost when nobody listens: each probe is an object with an `active` flag. Hot code writes
 *
 *     if (probe.active) probe.fire({ ... });
 *
 * so with no subscriber the event object is never built and the cost is one property load and a
 * branch. `publish(event)` does the same check inside for code that already has the event.
 */

/** A map from probe name to event type, e.g. `{ 'syscall:entry': { name: string } }`. */
export type EventMap<E = Record<string, object>> = { [K in keyof E]: object };

export type Listener<T> = (event: T) => void;

/** One named probe. Keep a reference to it in hot code; looking it up by name each time costs a Map lookup. */
export class Probe<T> {
  /** True while at least one listener is attached. Check it before building an event. */
  active = false;
  private listeners: Listener<T>[] = [];

  constructor(readonly name: string) {}

  /** Deliver an event to every listener. Call only when `active` (it is correct, just wasteful, otherwise). */
  fire(event: T): void {
    const ls = this.listeners;
    for (let i = 0; i < ls.length; i++) ls[i]!(event);
  }

  /** Deliver an event if anyone listens. */
  publish(event: T): void {
    if (this.active) this.fire(event);
  }

  /** Attach a listener; returns a function that detaches it. */
  subscribe(listener: Listener<T>): () => void {
    this.listeners = [...this.listeners, listener];
    this.active = true;
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
      this.active = this.listeners.length > 0;
    };
  }

  get listenerCount(): number {
    return this.listeners.length;
  }
}

/** The kinds of aggregating function, named as in DTrace. */
export type AggregatingFunction = 'count' | 'sum' | 'min' | 'max' | 'avg' | 'quantize';

export interface AggregationSpec<T> {
  fn: AggregatingFunction;
  /** Key to aggregate by (`@[key]` in DTrace). Omit for a single un-keyed aggregation. */
  by?: (event: T) => string | number;
  /** The value fed to sum/min/max/avg/quantize. Required for every function but count. */
  value?: (event: T) => number;
  /** Only events for which this returns true are aggregated (a DTrace predicate). */
  where?: (event: T) => boolean;
}

/** One row of an aggregation's result. For quantize, `buckets` maps a power of two to a count. */
export interface AggregationRow {
  key: string | number;
  value: number;
  count: number;
  buckets?: Record<string, number>;
}

interface Cell {
  count: number;
  sum: number;
  min: number;
  max: number;
  buckets: Map<number, number> | undefined;
}

/** Accumulates events of one probe according to a spec. */
export class Aggregation<T> {
  private readonly cells = new Map<string | number, Cell>();
  private detachFn: (() => void) | undefined;

  constructor(private readonly spec: AggregationSpec<T>) {
    if (spec.fn !== 'count' && spec.value === undefined) {
      throw new RangeError(`aggregation ${spec.fn}() needs a value function`);
    }
  }

  /** Feed one event (the bus does this; exposed for replaying recorded events). */
  add(event: T): void {
    const { by, value, where, fn } = this.spec;
    if (where !== undefined && !where(event)) return;
    const key = by === undefined ? '' : by(event);
    let cell = this.cells.get(key);
    if (cell === undefined) {
      cell = { count: 0, sum: 0, min: Infinity, max: -Infinity, buckets: fn === 'quantize' ? new Map() : undefined };
      this.cells.set(key, cell);
    }
    cell.count++;
    if (value === undefined) return;
    const v = value(event);
    cell.sum += v;
    if (v < cell.min) cell.min = v;
    if (v > cell.max) cell.max = v;
    if (cell.buckets !== undefined) {
      const b = quantizeBucket(v);
      cell.buckets.set(b, (cell.buckets.get(b) ?? 0) + 1);
    }
  }

  /** Result rows sorted by value ascending, as DTrace prints them. */
  rows(): AggregationRow[] {
    const out: AggregationRow[] = [];
    for (const [key, cell] of this.cells) {
      const row: AggregationRow = { key, value: this.valueOf(cell), count: cell.count };
      if (cell.buckets !== undefined) {
        const buckets: Record<string, number> = {};
        for (const b of [...cell.buckets.keys()].sort((a, b2) => a - b2)) buckets[String(b)] = cell.buckets.get(b)!;
        row.buckets = buckets;
      }
      out.push(row);
    }
    return out.sort((a, b) => a.value - b.value || String(a.key).localeCompare(String(b.key)));
  }

  /** The value for one key (0 when the key was never seen). */
  get(key: string | number = ''): number {
    const cell = this.cells.get(key);
    return cell === undefined ? 0 : this.valueOf(cell);
  }

  clear(): void {
    this.cells.clear();
  }

  /** Stop receiving events. */
  detach(): void {
    this.detachFn?.();
    this.detachFn = undefined;
  }

  /** @internal used by ProbeBus */
  attach(detach: () => void): void {
    this.detachFn = detach;
  }

  private valueOf(cell: Cell): number {
    switch (this.spec.fn) {
      case 'count':
      case 'quantize':
        return cell.count;
      case 'sum':
        return cell.sum;
      case 'min':
        return cell.min;
      case 'max':
        return cell.max;
      case 'avg':
        return cell.count === 0 ? 0 : cell.sum / cell.count;
    }
  }
}

/** DTrace quantize() bucket: 0 for 0, else the largest power of two <= |v|, signed. */
export function quantizeBucket(v: number): number {
  if (v === 0) return 0;
  const mag = 2 ** Math.floor(Math.log2(Math.abs(v)));
  return v < 0 ? -mag : mag;
}

/** A set of named probes with typed events. */
export class ProbeBus<E extends EventMap<E>> {
  private readonly probes = new Map<keyof E, Probe<E[keyof E]>>();

  /** The probe for `name`, created on first use. Hold on to it in hot code. */
  probe<K extends keyof E & string>(name: K): Probe<E[K]> {
    let p = this.probes.get(name) as Probe<E[K]> | undefined;
    if (p === undefined) {
      p = new Probe<E[K]>(name);
      this.probes.set(name, p as unknown as Probe<E[keyof E]>);
    }
    return p;
  }

  /** Attach a listener to a probe; returns the detach function. */
  subscribe<K extends keyof E & string>(name: K, listener: Listener<E[K]>): () => void {
    return this.probe(name).subscribe(listener);
  }

  /** Start an aggregation over a probe's events. */
  aggregate<K extends keyof E & string>(name: K, spec: AggregationSpec<E[K]>): Aggregation<E[K]> {
    const agg = new Aggregation(spec);
    agg.attach(this.subscribe(name, (e) => {
      agg.add(e);
    }));
    return agg;
  }

  /** Names of the probes created so far. */
  names(): string[] {
    return [...this.probes.keys()].map(String);
  }
}
