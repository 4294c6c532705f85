/**
 * The registered personalities. The CLI's `run`, `compare`, `exec` and `explain` resolve
 * -p/--personality here (a registered name, which means its default variant, or one of its
 * variants), `polykernel personalities` lists them, and the bench app sweeps over their variants.
 * `npx nx g @polykernel/tools:personality <name>` adds a new personality's import and entry before
 * the marker comments below.
 */
import type { FileLookup, Personality } from '@polykernel/kernel';
import type { IndexKind } from '@polykernel/vm';
import { linuxPersonality } from '@polykernel/linux';
import { FREEBSD_VARIANTS, freebsdPersonality } from '@polykernel/freebsd';
import { windowsPersonality } from '@polykernel/windows';
import { cygwinPersonality } from '@polykernel/cygwin';
// @polykernel/tools:personality inserts imports above this line

/** Design choices a personality may let a run vary (the bench's design studies). */
export interface DesignChoices {
  /** The address-space index instead of the kernel's own (Linux's VMA index). */
  vmaIndex?: IndexKind;
}

/** What a personality's factory is handed. */
export interface PersonalityOptions {
  /** One of the entry's variants. */
  variant: string;
  /** Where exec and open find files (the host's files under --sysroot). */
  fs: FileLookup;
  /** Seed of the kernel's own randomness, when the user gives one. */
  seed?: number;
  /** Design choices, only those the entry lists in `choices`. */
  choices?: DesignChoices;
}

export interface RegisteredPersonality {
  /** What -p takes for the default variant, and what `polykernel personalities` lists. */
  readonly name: string;
  /** One line: what it models. */
  readonly description: string;
  /** The kernel versions it models; -p takes each of them too. */
  readonly variants: readonly string[];
  readonly defaultVariant: string;
  /** The design choices its factory can vary (none when absent). */
  readonly choices?: readonly (keyof DesignChoices)[];
  /** A fresh personality object for one variant (a factory: each Kernel gets its own state). */
  create(opts: PersonalityOptions): Personality<unknown>;
}

/** The Linux personality's variants: `linux` alone is the newest. */
export type LinuxVariant = 'linux-6.x' | 'linux-5.15';

export function linuxVariant(variant: string): LinuxVariant {
  if (variant === 'linux-6.x' || variant === 'linux-5.15') return variant;
  throw new RangeError(`linux has no variant "${variant}" (linux-6.x, linux-5.15)`);
}

export const PERSONALITIES: readonly RegisteredPersonality[] = [
  {
    name: 'linux',
    description: 'Linux: mm_struct and VMAs (a B-tree standing in for the maple tree in 6.x, the red-black tree in 5.15), mmap and friends as mm/mmap.c decides, fork/vfork/clone, execve of real ELF programs, signals, wait, OOM and swap, /proc views.',
    variants: ['linux-6.x', 'linux-5.15'],
    defaultVariant: 'linux-6.x',
    choices: ['vmaIndex'],
    create: ({ variant, fs, seed, choices }) => linuxPersonality({
      variant: linuxVariant(variant), fs, ...(seed !== undefined ? { seed } : {}), ...(choices?.vmaIndex !== undefined ? { mm: { vmaIndex: choices.vmaIndex } } : {}),
    }),
  },
  {
    name: 'freebsd',
    description: 'FreeBSD 14: vm_map over VM objects, vm_fault, vmspace_fork, procstat',
    variants: [...FREEBSD_VARIANTS],
    defaultVariant: 'freebsd-14',
    create: ({ variant, fs, seed }) => freebsdPersonality({ variant, fs, ...(seed !== undefined ? { seed } : {}) }),
  },
  {
    name: 'windows',
    description: 'Windows 11 x64: VADs on an AVL tree, NT memory services under kernel32\'s VirtualAlloc/Free/Protect/Query, commit charge, guard pages, PE images, a VirtualQuery walk in WinDbg !address layout',
    variants: ['windows-11'],
    defaultVariant: 'windows-11',
    create: (opts) => windowsPersonality(opts),
  },
  {
    name: 'cygwin',
    description: 'Cygwin 3.5: POSIX in cygwin1.dll over the Windows personality, fork emulated by CreateProcess and cross-process copies, Cygwin\'s /proc/<pid>/maps',
    variants: ['cygwin'],
    defaultVariant: 'cygwin',
    create: (opts) => cygwinPersonality(opts),
  },
  // @polykernel/tools:personality inserts entries above this line
];

/** A -p value resolved: the registry entry and the variant to run. */
export interface ResolvedPersonality {
  entry: RegisteredPersonality;
  variant: string;
}

/** A registered name (its default variant) or one of the registered variants; undefined otherwise. */
export function resolvePersonality(name: string, registry: readonly RegisteredPersonality[] = PERSONALITIES): ResolvedPersonality | undefined {
  for (const entry of registry) {
    if (entry.name === name) return { entry, variant: entry.defaultVariant };
    if (entry.variants.includes(name)) return { entry, variant: name };
  }
  return undefined;
}

/** What is registered, for error messages: `linux (linux-6.x, linux-5.15), freebsd (freebsd-14)`. */
export function registeredList(registry: readonly RegisteredPersonality[] = PERSONALITIES): string {
  return registry.map((e) => `${e.name} (${e.variants.join(', ')})`).join(', ');
}

/** The error for a -p value nothing registers. */
export function notRegistered(name: string, registry: readonly RegisteredPersonality[] = PERSONALITIES): string {
  return `personality "${name}" is not registered (registered: ${registeredList(registry)}; see polykernel personalities)`;
}

