/**
 * The personalities a sweep can run on: each variant by name, a fresh personality object per
 * machine. A personality package that lands adds its variants here (as in the CLI's registry).
 */
import type { FileLookup, Personality } from '@polykernel/kernel';
import type { IndexKind } from '@polykernel/vm';
import { cygwinPersonality } from '@polykernel/cygwin';
import { freebsdPersonality } from '@polykernel/freebsd';
import { linuxPersonality } from '@polykernel/linux';
import { windowsPersonality } from '@polykernel/windows';

/** Design choices a scenario may vary on a personality that offers them. */
export interface DesignChoices {
  /** The address-space index instead of the kernel's own (Linux's VMA index). */
  vmaIndex?: IndexKind;
}

export interface BenchPersonality {
  readonly variant: string;
  /** The design choices this personality can vary (a scenario asking for another is n/a here). */
  readonly choices: readonly (keyof DesignChoices)[];
  create(fs: FileLookup, seed: number, choices?: DesignChoices): Personality<unknown>;
}

const linux = (variant: 'linux-6.x' | 'linux-5.15'): BenchPersonality => ({
  variant, choices: ['vmaIndex'],
  create: (fs, seed, c = {}) => linuxPersonality({ variant, fs, seed, ...(c.vmaIndex !== undefined ? { mm: { vmaIndex: c.vmaIndex } } : {}) }),
});

export const BENCH_PERSONALITIES: readonly BenchPersonality[] = [
  linux('linux-6.x'),
  linux('linux-5.15'),
  { variant: 'freebsd-14', choices: [], create: (fs, seed) => freebsdPersonality({ variant: 'freebsd-14', fs, seed }) },
  { variant: 'freebsd-14-nosuperpages', choices: [], create: (fs, seed) => freebsdPersonality({ variant: 'freebsd-14-nosuperpages', fs, seed }) },
  { variant: 'windows-11', choices: [], create: (fs, seed) => windowsPersonality({ variant: 'windows-11', fs, seed }) },
  { variant: 'cygwin', choices: [], create: (fs, seed) => cygwinPersonality({ variant: 'cygwin', fs, seed }) },
];

export function benchPersonality(variant: string): BenchPersonality | undefined {
  return BENCH_PERSONALITIES.find((p) => p.variant === variant);
}
