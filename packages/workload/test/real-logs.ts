/** The strace logs recorded on this machine (examples/real/record.sh), for the import tests. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ImportedStep } from '../src/import/strace.js';

export const REAL = fileURLToPath(new URL('../../../examples/real/', import.meta.url));

/** One recorded log's text. */
export const real = (name: string): string => readFileSync(REAL + name, 'utf8');

/** The steps of a workload's processes and every child, flattened, with their kind. */
export function allSteps(steps: readonly ImportedStep[]): ImportedStep[] {
  return steps.flatMap((s) => {
    const body = Object.values(s)[0] as { steps?: ImportedStep[] } | number | null;
    return [s, ...(typeof body === 'object' && body !== null && Array.isArray(body.steps) ? allSteps(body.steps) : [])];
  });
}

/** A step's kind: its one key. */
export const kind = (s: ImportedStep): string => Object.keys(s)[0]!;
