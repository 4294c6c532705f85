/**
 * The personalities a sweep can run on: each variant by name, a fresh personality object per
 * machine. A personality package that lands adds its variants here (as in the CLI's registry).
 */
import type { FileLookup, Personality } from '@polykernel/kernel';
import { linuxPersonality } from '@polykernel/linux';

export interface BenchPersonality {
  readonly variant: string;
  create(fs: FileLookup, seed: number): Personality<unknown>;
}

export const BENCH_PERSONALITIES: readonly BenchPersonality[] = [
  { variant: 'linux-6.x', create: (fs, seed) => linuxPersonality({ variant: 'linux-6.x', fs, seed }) },
  { variant: 'linux-5.15', create: (fs, seed) => linuxPersonality({ variant: 'linux-5.15', fs, seed }) },
];

export function benchPersonality(variant: string): BenchPersonality | undefined {
  return BENCH_PERSONALITIES.find((p) => p.variant === variant);
}
