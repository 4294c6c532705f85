/**
 * The personalities a sweep can run on: each variant by name, a fresh personality object per
 * machine. A personality package that lands adds its variants here (as in the CLI's registry).
 */
import type { FileLookup, Personality } from '@polykernel/kernel';
import { cygwinPersonality } from '@polykernel/cygwin';
import { freebsdPersonality } from '@polykernel/freebsd';
import { linuxPersonality } from '@polykernel/linux';
import { windowsPersonality } from '@polykernel/windows';

export interface BenchPersonality {
  readonly variant: string;
  create(fs: FileLookup, seed: number): Personality<unknown>;
}

export const BENCH_PERSONALITIES: readonly BenchPersonality[] = [
  { variant: 'linux-6.x', create: (fs, seed) => linuxPersonality({ variant: 'linux-6.x', fs, seed }) },
  { variant: 'linux-5.15', create: (fs, seed) => linuxPersonality({ variant: 'linux-5.15', fs, seed }) },
  { variant: 'freebsd-14', create: (fs, seed) => freebsdPersonality({ variant: 'freebsd-14', fs, seed }) },
  { variant: 'freebsd-14-nosuperpages', create: (fs, seed) => freebsdPersonality({ variant: 'freebsd-14-nosuperpages', fs, seed }) },
  { variant: 'windows-11', create: (fs, seed) => windowsPersonality({ variant: 'windows-11', fs, seed }) },
  { variant: 'cygwin', create: (fs, seed) => cygwinPersonality({ variant: 'cygwin', fs, seed }) },
];

export function benchPersonality(variant: string): BenchPersonality | undefined {
  return BENCH_PERSONALITIES.find((p) => p.variant === variant);
}
