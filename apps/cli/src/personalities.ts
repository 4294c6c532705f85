/**
 * The personalities this CLI knows. `run`, `exec` and `explain` resolve -p/--personality here (a
 * registered name, which means its default variant, or one of its variants), and
 * `polykernel personalities` lists them. `npx nx g @polykernel/tools:personality <name>` adds a
 * new personality's import and entry before the marker comments below.
 */
import type { FileLookup, Personality } from '@polykernel/kernel';
import { linuxPersonality } from '@polykernel/linux';
import { FREEBSD_VARIANTS, freebsdPersonality } from '@polykernel/freebsd';
import { windowsPersonality } from '@polykernel/windows';
import { cygwinPersonality } from '@polykernel/cygwin';
// @polykernel/tools:personality inserts imports above this line

/** What the CLI hands a personality's factory. */
export interface PersonalityOptions {
  /** One of the entry's variants. */
  variant: string;
  /** Where exec and open find files (the host's files under --sysroot). */
  fs: FileLookup;
  /** Seed of the kernel's own randomness, when the user gives one. */
  seed?: number;
}

export interface RegisteredPersonality {
  /** What -p takes for the default variant, and what `polykernel personalities` lists. */
  readonly name: string;
  /** One line: what it models. */
  readonly description: string;
  /** The kernel versions it models; -p takes each of them too. */
  readonly variants: readonly string[];
  readonly defaultVariant: string;
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
    create: ({ variant, fs, seed }) => linuxPersonality({ variant: linuxVariant(variant), fs, ...(seed !== undefined ? { seed } : {}) }),
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

/** Which commands can drive a personality, and how far. */
export interface CommandSupport {
  command: string;
  support: string;
}

/** The commands with a driver for each personality; `run` and `compare` boot any registered one. */
export function commandsFor(entry: RegisteredPersonality): CommandSupport[] {
  const portable = entry.create({ variant: entry.defaultVariant, fs: () => 'ENOENT' }).portable !== undefined;
  const driven = portable ? 'portable steps through its portable driver' : 'portable steps are n/a (it has no portable driver)';
  if (entry.name === 'linux') {
    return [
      { command: 'run', support: 'every workload step: native (Linux\'s own calls) and portable' },
      { command: 'compare', support: 'native and portable steps, beside any other personality on portable ones' },
      { command: 'exec', support: 'ELF programs and #! scripts' },
      { command: 'explain', support: 'fault and fork stories' },
    ];
  }
  const common: CommandSupport[] = [
    { command: 'run', support: `boots it and creates the workload's processes; ${driven}` },
    { command: 'compare', support: driven },
  ];
  if (entry.name === 'windows') return [...common, { command: 'exec', support: 'PE images (CreateProcess; --suspended)' }, { command: 'explain', support: 'demand-zero, guard-page and access-violation faults' }];
  if (entry.name === 'freebsd') return [...common, { command: 'exec', support: 'FreeBSD-branded ELF files (procstat -v; --auxv procstat -x)' }];
  return common;
}
