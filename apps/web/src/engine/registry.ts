/**
 * The personalities the visualizer can boot: @polykernel/runner's registry (the one `polykernel
 * run`, `compare` and the bench read: the same names, variants and factories), each with how the
 * visualizer reads the kernel's own region view into the address map (Linux's /proc/<pid>/maps,
 * FreeBSD's procstat -v, Windows' VirtualQuery walk, Cygwin's /proc/<pid>/maps). Native steps run
 * as the runner runs them (Linux's by Linux's encodings, Windows' API steps by @polykernel/windows).
 */
import type { RecordValue } from '@polykernel/kernel';
import { PERSONALITIES, type RegisteredPersonality } from '@polykernel/runner';
import type { AreaModel } from './snapshot.js';

type Row = Readonly<Record<string, RecordValue>>;

/** Which of the personality's views is its region map, and how one of its rows reads as an area (null: not an area, such as a free range). */
export interface RegionView {
  readonly view: string;
  readonly area: (row: Row) => AreaModel | null;
}

/** A registered personality the visualizer can draw: the runner's entry and its region view. */
export interface WebPersonality extends RegisteredPersonality {
  readonly regions: RegionView;
}

const text = (v: RecordValue | undefined): string => (typeof v === 'string' ? v : '');

/** /proc/<pid>/maps rows (Linux and Cygwin): numeric start and end, perms, pathname. */
const MAPS: RegionView = {
  view: 'maps',
  area: (r) => (typeof r.start === 'number' && typeof r.end === 'number' ? { start: r.start, end: r.end, perms: text(r.perms), label: text(r.pathname) } : null),
};

/** procstat -v rows, as libxo's --json names them: hex kve_start/kve_end, read/write/exec flags, the object type and path. */
const PROCSTAT_V: RegionView = {
  view: 'procstat-v',
  area: (r) => {
    const start = Number.parseInt(text(r.kve_start), 16);
    const end = Number.parseInt(text(r.kve_end), 16);
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end)) return null;
    const perms = `${r.read === true ? 'r' : '-'}${r.write === true ? 'w' : '-'}${r.exec === true ? 'x' : '-'}`;
    return { start, end, perms, label: text(r.kve_path) !== '' ? text(r.kve_path) : text(r.kve_type) };
  },
};

/** PAGE_* protections as the map's three letters (WRITECOPY is writable, copy-on-write). */
const PAGE_LETTERS: Readonly<Record<string, string>> = {
  PAGE_NOACCESS: '---', PAGE_READONLY: 'r--', PAGE_READWRITE: 'rw-', PAGE_WRITECOPY: 'rw-', PAGE_EXECUTE: '--x',
  PAGE_EXECUTE_READ: 'r-x', PAGE_EXECUTE_READWRITE: 'rwx', PAGE_EXECUTE_WRITECOPY: 'rwx',
};

/** The VirtualQuery walk in WinDbg's !address layout: every region but the free ranges (the map shows those as gaps). */
const WINDOWS_ADDRESS: RegionView = {
  view: 'address',
  area: (r) => {
    if (r.State === 'MEM_FREE' || typeof r.BaseAddress !== 'number' || typeof r.EndAddress !== 'number') return null;
    const protect = text(r.Protect);
    const perms = r.State === 'MEM_RESERVE' ? 'reserved' : `${PAGE_LETTERS[protect.split(' | ')[0] ?? ''] ?? protect}${protect.includes('PAGE_GUARD') ? ' guard' : ''}`;
    return { start: r.BaseAddress, end: r.EndAddress, perms, label: `${text(r.Usage)} ${text(r.Type)}`.trim() };
  },
};

/** Each family's region view; a personality without one is not offered (the map could not be drawn). */
const REGION_VIEWS: Readonly<Record<string, RegionView>> = { linux: MAPS, freebsd: PROCSTAT_V, windows: WINDOWS_ADDRESS, cygwin: MAPS };

export const WEB_PERSONALITIES: readonly WebPersonality[] = PERSONALITIES.flatMap((entry) => {
  const regions = REGION_VIEWS[entry.name];
  return regions === undefined ? [] : [{ ...entry, regions }];
});

export interface ResolvedWebPersonality {
  entry: WebPersonality;
  variant: string;
}

/** A registered name (its default variant) or variant; undefined when nothing registers it. */
export function resolveWebPersonality(name: string, registry: readonly WebPersonality[] = WEB_PERSONALITIES): ResolvedWebPersonality | undefined {
  for (const entry of registry) {
    if (entry.name === name) return { entry, variant: entry.defaultVariant };
    if (entry.variants.includes(name)) return { entry, variant: name };
  }
  return undefined;
}

/** Every variant, for the pickers. */
export function allVariants(registry: readonly WebPersonality[] = WEB_PERSONALITIES): string[] {
  return registry.flatMap((e) => [...e.variants]);
}
