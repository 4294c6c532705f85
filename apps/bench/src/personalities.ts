/**
 * The personalities a sweep can run on: every variant of every registered personality
 * (@polykernel/runner's registry, the one the CLI resolves -p against), a fresh personality object
 * per machine. A personality package that lands joins the bench when it is registered there.
 */
import type { FileLookup, Personality } from '@polykernel/kernel';
import { PERSONALITIES, type DesignChoices, type RegisteredPersonality } from '@polykernel/runner';

export type { DesignChoices } from '@polykernel/runner';

export interface BenchPersonality {
  readonly variant: string;
  /** The registry entry the variant belongs to. */
  readonly entry: RegisteredPersonality;
  /** The design choices this personality can vary (a scenario asking for another is n/a here). */
  readonly choices: readonly (keyof DesignChoices)[];
  create(fs: FileLookup, seed: number, choices?: DesignChoices): Personality<unknown>;
}

function benchOf(entry: RegisteredPersonality, variant: string): BenchPersonality {
  return {
    variant, entry, choices: entry.choices ?? [],
    create: (fs, seed, choices) => entry.create({ variant, fs, seed, ...(choices !== undefined && Object.keys(choices).length > 0 ? { choices } : {}) }),
  };
}

export const BENCH_PERSONALITIES: readonly BenchPersonality[] = PERSONALITIES.flatMap((e) => e.variants.map((v) => benchOf(e, v)));

export function benchPersonality(variant: string): BenchPersonality | undefined {
  return BENCH_PERSONALITIES.find((p) => p.variant === variant);
}
