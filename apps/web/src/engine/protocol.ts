/** The messages between the page and the engine worker (plain data only). */
import type { ImageSummary } from '@polykernel/loader';
import type { CompareModel } from './compare.js';
import type { Snapshot, WalkModel } from './snapshot.js';

export interface LoadRequest {
  type: 'load';
  /** The workload's YAML text and the name it is reported under. */
  yaml: string;
  file: string;
  /** One or two personality names or variants (side by side). */
  personalities: string[];
  seed: number;
  /** Run this many steps after loading (a linked moment). */
  step: number;
}

/** How far a run goes: one step, to the next fork/exec/fault, or to the end. */
export type RunUntil = 'step' | 'event' | 'end';

/** A program file the user dropped: its segments, and each personality exec'ing it. */
export interface BinaryRequest {
  type: 'binary';
  name: string;
  bytes: Uint8Array;
  personalities: string[];
  seed: number;
}

export type Request =
  | LoadRequest
  | BinaryRequest
  | { type: 'run'; until: RunUntil }
  | { type: 'walk'; side: number; pid: number; va: number };

/** Metrics after every step, for the chart. */
export interface Series {
  step: number[];
  cycles: number[];
  faults: number[];
  tlbMisses: number[];
}

export interface SideState {
  snapshot: Snapshot;
  series: Series;
}

export type Reply =
  | { type: 'ready'; variants: string[] }
  | { type: 'state'; workload: string; sides: SideState[]; compare: CompareModel | null; step: number; elapsedMs: number; binary: ImageSummary | null }
  | { type: 'walk'; side: number; walk: WalkModel | null; error: string | null }
  | { type: 'error'; message: string };
