/**
 * The personalities the visualizer can boot. This is the only file of the app that names a
 * personality package: everything else sees the Personality contract (views, metrics, probes,
 * page tables). It mirrors apps/cli/src/personalities.ts; when the shared portable driver lands,
 * both should read one registry.
 *
 * A workload's steps are POSIX-shaped (mmap with MAP_PRIVATE, wait with WNOHANG). Their numeric
 * encodings differ between kernels (MAP_ANONYMOUS is 0x20 on Linux, 0x1000 on FreeBSD), so each
 * entry gives its own; a personality without an encoding gets "n/a" for the steps that need it.
 */
import type { FileLookup, Personality } from '@polykernel/kernel';
import { linuxFlags, linuxPersonality } from '@polykernel/linux';

/** The numbers a personality's calls take for the workload's symbolic flags. */
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

export interface WebPersonality {
  readonly name: string;
  readonly description: string;
  readonly variants: readonly string[];
  readonly defaultVariant: string;
  create(opts: WebPersonalityOptions): Personality<unknown>;
  readonly posix: PosixEncoding | null;
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

export const WEB_PERSONALITIES: readonly WebPersonality[] = [
  {
    name: 'linux',
    description: 'Linux: mm_struct and VMAs, fork with copy-on-write, /proc views',
    variants: ['linux-6.x', 'linux-5.15'],
    defaultVariant: 'linux-6.x',
    create: ({ variant, fs, seed }) => linuxPersonality({ variant: linuxVariant(variant), fs, seed }),
    posix: LINUX_POSIX,
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
