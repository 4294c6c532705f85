/**
 * The personalities the visualizer can boot. This is the only file of the app that names a
 * personality package: everything else sees the Personality contract (views, metrics, probes,
 * page tables, the portable driver). It mirrors apps/cli/src/personalities.ts (the same names and
 * variants); when the shared workload runner lands in a package, both should read one registry.
 *
 * Each entry also says how the visualizer reads the kernel's own region view into the address
 * map (Linux's /proc/<pid>/maps, FreeBSD's procstat -v, Windows' VirtualQuery walk, Cygwin's
 * /proc/<pid>/maps), and how to run the native steps of its own kernel: Linux's POSIX-shaped
 * native steps (mmap with MAP_PRIVATE, wait with WNOHANG) need Linux's numeric encodings, and
 * Windows' API steps (VirtualAlloc ...) go to @polykernel/windows' runWindowsStep.
 */
import type { FileLookup, Kernel, Personality, RecordValue, Thread } from '@polykernel/kernel';
import { cygwinPersonality } from '@polykernel/cygwin';
import { FREEBSD_VARIANTS, freebsdPersonality } from '@polykernel/freebsd';
import { linuxFlags, linuxPersonality } from '@polykernel/linux';
import { runWindowsStep, WINDOWS_STEP_KINDS, WindowsStepError, windowsPersonality, type WindowsMachine, type WindowsSpace, type WindowsStepKind } from '@polykernel/windows';
import type { AreaModel } from './snapshot.js';

/** The numbers Linux's native calls take for the workload's symbolic flags. */
export interface PosixEncoding {
  /** mmap flags by the workload's names (private, shared, anonymous, fixed ...). */
  readonly mmap: Readonly<Record<string, number>>;
  /** madvise advice by name (dontneed, willneed, free). */
  readonly madvise: Readonly<Record<string, number>>;
  /** wait options by name (nohang, untraced ...). */
  readonly wait: Readonly<Record<string, number>>;
}

export interface WebPersonalityOptions {
  variant: string;
  fs: FileLookup;
  seed: number;
}

type Row = Readonly<Record<string, RecordValue>>;

/** Which of the personality's views is its region map, and how one of its rows reads as an area (null: not an area, such as a free range). */
export interface RegionView {
  readonly view: string;
  readonly area: (row: Row) => AreaModel | null;
}

/** What a native step of a non-POSIX kernel needs from the session: the names the workload gave regions and processes. */
export interface NativeStepNames {
  regions: Map<string, { addr: number; length: number }>;
  processHandle(name: string): number | undefined;
  saveProcess(name: string, handle: number, pid: number): void;
}

/** A native step's outcome: its result line, or why it could not be carried out as written. */
export type NativeOutcome = { result: string } | { error: string };

export interface WebPersonality {
  /** The family, as native steps name their owner (linux, windows ...). */
  readonly name: string;
  readonly description: string;
  readonly variants: readonly string[];
  readonly defaultVariant: string;
  create(opts: WebPersonalityOptions): Personality<unknown>;
  readonly regions: RegionView;
  /** Linux's encodings for its native steps (mmap, munmap, madvise, brk, wait options ...); null elsewhere. */
  readonly posix: PosixEncoding | null;
  /** The native steps of this kernel the visualizer runs by their own API (Windows' VirtualAlloc ...). */
  readonly nativeKinds: ReadonlySet<string>;
  nativeStep?(k: Kernel<unknown>, t: Thread, kind: string, args: Readonly<Record<string, unknown>>, names: NativeStepNames): NativeOutcome;
}

const LINUX_POSIX: PosixEncoding = {
  mmap: {
    private: linuxFlags.MAP_PRIVATE, shared: linuxFlags.MAP_SHARED, anonymous: linuxFlags.MAP_ANONYMOUS, fixed: linuxFlags.MAP_FIXED,
    'fixed-noreplace': linuxFlags.MAP_FIXED_NOREPLACE, populate: linuxFlags.MAP_POPULATE, noreserve: linuxFlags.MAP_NORESERVE,
    growsdown: linuxFlags.MAP_GROWSDOWN,
  },
  // include/uapi/asm-generic/mman-common.h: MADV_WILLNEED 3, MADV_DONTNEED 4, MADV_FREE 8
  madvise: { dontneed: 4, willneed: 3, free: 8 },
  // include/uapi/linux/wait.h: WNOHANG 1, WUNTRACED 2, __WALL 0x40000000, __WCLONE 0x80000000
  wait: { nohang: 1, untraced: 2, clone: 0x80000000, all: 0x40000000 },
};

function linuxVariant(variant: string): 'linux-6.x' | 'linux-5.15' {
  if (variant === 'linux-6.x' || variant === 'linux-5.15') return variant;
  throw new RangeError(`linux has no variant "${variant}" (linux-6.x, linux-5.15)`);
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

const WINDOWS_KINDS: ReadonlySet<string> = new Set(WINDOWS_STEP_KINDS);

/** A Windows API step (VirtualAlloc ...) by @polykernel/windows' own runner, the same as `polykernel run`. */
function windowsStep(k: Kernel<unknown>, t: Thread, kind: string, args: Readonly<Record<string, unknown>>, names: NativeStepNames): NativeOutcome {
  try {
    return { result: runWindowsStep(k as unknown as Kernel<WindowsSpace, WindowsMachine>, t, kind as WindowsStepKind, args, names).result };
  } catch (e) {
    if (e instanceof WindowsStepError) return { error: e.message };
    throw e;
  }
}

export const WEB_PERSONALITIES: readonly WebPersonality[] = [
  {
    name: 'linux',
    description: 'Linux: mm_struct and VMAs, fork with copy-on-write, /proc views',
    variants: ['linux-6.x', 'linux-5.15'],
    defaultVariant: 'linux-6.x',
    create: ({ variant, fs, seed }) => linuxPersonality({ variant: linuxVariant(variant), fs, seed }),
    regions: MAPS,
    posix: LINUX_POSIX,
    nativeKinds: new Set(),
  },
  {
    name: 'freebsd',
    description: 'FreeBSD 14: vm_map over VM objects, vm_fault, vmspace_fork, procstat',
    variants: [...FREEBSD_VARIANTS],
    defaultVariant: 'freebsd-14',
    create: ({ variant, fs, seed }) => freebsdPersonality({ variant, fs, seed }),
    regions: PROCSTAT_V,
    posix: null,
    nativeKinds: new Set(),
  },
  {
    name: 'windows',
    description: 'Windows 11 x64: VADs, VirtualAlloc reserve and commit, CreateProcess, a VirtualQuery walk',
    variants: ['windows-11'],
    defaultVariant: 'windows-11',
    create: (opts) => windowsPersonality(opts),
    regions: WINDOWS_ADDRESS,
    posix: null,
    nativeKinds: WINDOWS_KINDS,
    nativeStep: windowsStep,
  },
  {
    name: 'cygwin',
    description: 'Cygwin 3.5: POSIX over the Windows personality, fork emulated by CreateProcess and copies',
    variants: ['cygwin'],
    defaultVariant: 'cygwin',
    create: (opts) => cygwinPersonality(opts),
    regions: MAPS,
    posix: null,
    nativeKinds: new Set(),
  },
];

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
