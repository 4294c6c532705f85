/**
 * The workload format: a named list of processes, each a list of steps — native memory calls
 * (mmap, munmap, mprotect, brk, mremap, madvise) and memory touches. Sizes and addresses are
 * numbers or strings ("64K", "2M", "1G", "0x7f0000000000"); protections are "rwx" letters.
 */
import { parseProt } from '@polykernel/core';
import { z } from 'zod';

const UNITS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** Parse "64K", "2M", "0x1000", "4096" or a number into a safe non-negative integer. */
export function parseSize(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  if (/^0x[0-9a-f]+$/i.test(s)) {
    const n = Number.parseInt(s.slice(2), 16);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  const m = /^(\d+)\s*([KMGT]?)(?:i?B)?$/i.exec(s);
  if (m === null) return undefined;
  const n = Number(m[1]) * UNITS[m[2]!.toUpperCase()]!;
  return Number.isSafeInteger(n) ? n : undefined;
}

const size = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const n = parseSize(v);
  if (n === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a size or address such as 4096, "64K", "2M" or "0x7f0000000000", got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return n;
});

const prot = z.string().transform((v, ctx) => {
  const p = parseProt(v);
  if (p === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected three protection letters like "rw-" or "r-x", got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return p;
});

/** A signed size for brk deltas: 8192, "+8K", "-4K". */
const signedSize = z.union([z.number().int(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'number') return v;
  const m = /^\s*([+-]?)\s*(.+)$/.exec(v);
  const n = m === null ? undefined : parseSize(m[2]!);
  if (m === null || n === undefined) {
    ctx.addIssue({ code: 'custom', message: `expected a signed size such as 8192, "+8K" or "-4K", got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return m[1] === '-' ? -n : n;
});

const MMAP_FLAGS = ['private', 'shared', 'anonymous', 'fixed', 'fixed-noreplace', 'populate', 'noreserve', 'growsdown'] as const;

const region = z.string().min(1);

const mmap = z.strictObject({
  name: region,
  length: size,
  prot,
  flags: z.array(z.enum(MMAP_FLAGS)).min(1),
  addr: size.optional(),
  file: z.string().optional(),
  offset: size.optional(),
}).refine((m) => m.flags.includes('private') !== m.flags.includes('shared'), { message: 'exactly one of private and shared is required', path: ['flags'] });

const ranged = { region, offset: size.default(0), length: size };

export const stepSchema = z.union([
  z.strictObject({ mmap }),
  z.strictObject({ munmap: z.strictObject(ranged) }),
  z.strictObject({ mprotect: z.strictObject({ ...ranged, prot }) }),
  z.strictObject({ brk: z.union([z.strictObject({ delta: signedSize }), z.strictObject({ to: size })]) }),
  z.strictObject({ mremap: z.strictObject({ region, newLength: size, mayMove: z.boolean().default(false) }) }),
  z.strictObject({ madvise: z.strictObject({ ...ranged, advice: z.enum(['dontneed', 'willneed', 'free']) }) }),
  z.strictObject({
    touch: z.strictObject({
      ...ranged,
      access: z.enum(['read', 'write', 'exec']).default('read'),
      pattern: z.enum(['sequential', 'random', 'stride']).default('sequential'),
      stride: size.optional(),
      count: z.number().int().positive().optional(),
      seed: z.union([z.number(), z.string()]).optional(),
    }),
  }),
]);

export const workloadSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  personality: z.string().optional(),
  processes: z.array(z.strictObject({
    name: z.string().min(1),
    steps: z.array(stepSchema),
  })).min(1),
});

export type Workload = z.output<typeof workloadSchema>;
export type Step = z.output<typeof stepSchema>;
