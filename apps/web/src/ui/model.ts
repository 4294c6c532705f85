/**
 * Pure layout decisions for the views (unit-tested): how tall an area is in the address map, how
 * frames are labelled, which colour a process gets. The drawing itself is plain DOM.
 */
import type { AreaModel, FrameModel } from '../engine/snapshot.js';

/** A row of the address map: an area, or the gap before it. */
export interface MapRow {
  kind: 'area' | 'gap';
  start: number;
  end: number;
  /** Share of the map's height, 0..1; all rows add up to 1. */
  share: number;
  area?: AreaModel;
}

/** The smallest share an area gets, so a one-page area stays visible beside a 1 GiB heap. */
export const MIN_SHARE = 0.004;
/** Each gap's share: a break in the axis, labelled with its size (a 128 TiB hole would swallow the map). */
export const GAP_SHARE = 0.03;

/**
 * The address map's rows, from the lowest address up: each area and each gap between areas. Areas
 * share the height by bytes (proportional) or by log2 of the bytes (log scale, where a 4 KiB page
 * and a 1 GiB heap are both visible); gaps are axis breaks of a fixed share, labelled with their size.
 */
export function mapRows(areas: readonly AreaModel[], logScale: boolean): MapRow[] {
  const sorted = [...areas].sort((a, b) => a.start - b.start);
  const rows: MapRow[] = [];
  let prev: number | null = null;
  for (const a of sorted) {
    if (prev !== null && a.start > prev) rows.push({ kind: 'gap', start: prev, end: a.start, share: GAP_SHARE });
    rows.push({ kind: 'area', start: a.start, end: a.end, share: 0, area: a });
    prev = a.end;
  }
  const weight = (r: MapRow): number => {
    const bytes = Math.max(r.end - r.start, 1);
    return logScale ? Math.max(Math.log2(bytes), 1) : bytes;
  };
  const areaRows = rows.filter((r) => r.kind === 'area');
  const total = areaRows.reduce((sum, r) => sum + weight(r), 0);
  const room = 1 - GAP_SHARE * (rows.length - areaRows.length);
  for (const r of areaRows) r.share = Math.max((weight(r) / total) * room, MIN_SHARE);
  const sum = rows.reduce((acc, r) => acc + r.share, 0);
  for (const r of rows) r.share /= sum;
  return rows;
}

/**
 * Colours that survive the common colour-vision deficiencies (Okabe & Ito, "Color Universal
 * Design"); every frame also carries a letter, so colour is never the only cue.
 */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#000000'] as const;

export function colourOf(pid: number, pids: readonly number[]): string {
  const i = pids.indexOf(pid);
  return PALETTE[(i < 0 ? pid : i) % PALETTE.length]!;
}

/** A frame cell's letter and description: P private, C shared copy-on-write, S shared writable. */
export function frameLabel(f: FrameModel): { letter: string; text: string } {
  if (f.state === 'shared-cow') return { letter: 'C', text: `frame ${f.frame}: shared copy-on-write by pids ${f.pids.join(', ')}` };
  if (f.state === 'shared') return { letter: 'S', text: `frame ${f.frame}: shared writable by pids ${f.pids.join(', ')}` };
  return { letter: 'P', text: `frame ${f.frame}: private to pid ${f.pids[0] ?? '?'}` };
}

/** The frames view's text alternative: how many frames are private, shared COW, shared. */
export function frameSummary(frames: readonly FrameModel[], total: number): string {
  const n = { private: 0, 'shared-cow': 0, shared: 0 };
  for (const f of frames) n[f.state]++;
  const shown = total > frames.length ? ` (first ${frames.length} shown)` : '';
  return `${total} frames mapped${shown}: ${n.private} private, ${n['shared-cow']} shared copy-on-write, ${n.shared} shared writable`;
}
