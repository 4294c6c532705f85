import fc from 'fast-check';
import { dump } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { fastStep, fastWorkload } from './fast-validate.js';
import { parseWorkload, parseWorkloadWithZod, WorkloadError } from './load.js';
import { stepSchema, workloadSchema } from './schema.js';

/** Field values: valid ones of every field type, and the mistakes people (and fuzzers) make. */
const anyValue = fc.constantFrom<unknown>(
  0, 1, 4096, 65536, 2 ** 53 - 1, 2 ** 53, -1, -4096, 1.5, Number.NaN, Number.POSITIVE_INFINITY,
  '4K', '64K', '2M', '1G', '0x1000', '0x7f0000000000', '12KiB', ' 8K ', '4 K', '1.5K', '-4K', '+8K', 'x', '', 'A', 'R1', 'rw-', 'r-x', 'rwx', '---', 'rw', 'rwxx', 'RW-',
  'read', 'write', 'exec', 'sequential', 'random', 'stride', 'dontneed', 'willneed', 'free', 'sideways',
  ['private', 'anonymous'], ['shared'], ['private', 'shared'], ['anonymous'], [], ['private', 'huge'], ['private', 7], 'private',
  null, true, false, [], {}, { region: 'A' }, { region: 'A', offset: '4K' }, { region: '' },
);

const FIELDS = ['name', 'length', 'prot', 'flags', 'addr', 'region', 'offset', 'access', 'pattern', 'advice', 'size', 'stride', 'count', 'fd', 'file', 'colour'];

/** A plausible step of `kind`: its usual fields with valid values, some changed, dropped or added at random. */
const VALID: Record<string, Record<string, unknown>> = {
  mmap: { name: 'A', length: '64K', prot: 'rw-', flags: ['private', 'anonymous'] },
  munmap: { region: 'A', offset: 0, length: '4K' },
  mprotect: { region: 'A', offset: '8K', length: 8192, prot: 'r--' },
  madvise: { region: 'A', length: '4K', advice: 'dontneed' },
  touch: { region: 'A', offset: '4K', length: '16K', access: 'write', pattern: 'random' },
  alloc: { name: 'B', size: '1M', prot: 'rw-' },
  free: { region: 'B' },
  protect: { region: 'B', prot: 'r--' },
  brk: { delta: '-4K' },
  exit: { code: 0 },
};

const fieldsOf = (kind: string): fc.Arbitrary<Record<string, unknown>> =>
  fc.record({
    drop: fc.subarray(Object.keys(VALID[kind]!)),
    set: fc.dictionary(fc.constantFrom(...FIELDS), anyValue, { maxKeys: 2 }),
    // One step in five is changed, so that whole workloads are often valid too.
    mutate: fc.nat(4).map((n) => n === 0),
  }).map(({ drop, set, mutate }) => {
    if (!mutate) return { ...VALID[kind] };
    const kept = Object.entries(VALID[kind]!).filter(([k]) => !drop.includes(k));
    return { ...Object.fromEntries(kept), ...set };
  });

const step: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 30, arbitrary: fc.constantFrom(...Object.keys(VALID)).chain((kind) => fieldsOf(kind).map((f) => ({ [kind]: f }))) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>(null, 'mmap', [], {}, { mmap: null }, { mmap: {}, munmap: {} }, { sbrk: { delta: 1 } }) },
);

const workload = fc.record({
  name: fc.constantFrom<unknown>('w', 'w', 'w', '', 7),
  extra: fc.dictionary(fc.constantFrom('description', 'personality', 'contents', 'memory', 'swap', 'colour'), fc.oneof(fc.constantFrom<unknown>('linux', '1G'), anyValue), { maxKeys: 1 }),
  processes: fc.array(fc.record({ name: fc.constantFrom<unknown>('p', 'q', 'p', 'q', ''), steps: fc.array(step, { maxLength: 6 }) }), { minLength: 0, maxLength: 2 }),
}).map(({ name, extra, processes }) => ({ name, ...extra, processes }));

function zodOf(data: unknown): unknown {
  const r = workloadSchema.safeParse(data);
  return r.success ? r.data : undefined;
}

function outcome(f: () => unknown): string {
  try {
    return `ok ${JSON.stringify(f())}`;
  } catch (e) {
    if (!(e instanceof WorkloadError)) throw e;
    return `error ${e.message}`;
  }
}

describe('the hand-written fast path gives what zod gives', () => {
  it('on random workloads, valid and invalid: the same data, key for key, or a refusal where zod refuses', () => {
    let valid = 0;
    fc.assert(fc.property(workload, (data) => {
      const expected = zodOf(structuredClone(data));
      const got = fastWorkload(structuredClone(data));
      expect(JSON.stringify(got)).toBe(JSON.stringify(expected));
      expect(got).toEqual(expected);
      if (expected !== undefined) valid++;
    }), { numRuns: 800 });
    expect(valid).toBeGreaterThan(40);
  });

  it('on random steps: what the fast path accepts, zod accepts and turns into the same step', () => {
    let accepted = 0;
    fc.assert(fc.property(step, (s) => {
      const got = fastStep(structuredClone(s));
      if (got === undefined) return;
      accepted++;
      const r = stepSchema.safeParse(structuredClone(s));
      expect(r.success).toBe(true);
      expect(JSON.stringify(got)).toBe(JSON.stringify(r.data));
    }), { numRuns: 2000 });
    // The property must not pass by accepting nothing.
    expect(accepted).toBeGreaterThan(100);
  });

  it('through the whole loader: the same workload or the same file:line:column messages', () => {
    fc.assert(fc.property(workload, (data) => {
      const text = dump(data, { flowLevel: 4 });
      expect(outcome(() => parseWorkload(text, 'w.yaml'))).toBe(outcome(() => parseWorkloadWithZod(text, 'w.yaml')));
    }), { numRuns: 250 });
  });

  it('the generated one-line steps of a large workload take the fast path', () => {
    for (const kind of ['mmap', 'munmap', 'mprotect', 'madvise', 'touch', 'alloc', 'free', 'protect']) expect(fastStep({ [kind]: VALID[kind] })).toBeDefined();
    expect(fastStep({ brk: VALID.brk })).toBeUndefined();
    expect(fastStep({ mmap: { ...VALID.mmap, fd: 3 } })).toBeUndefined();
  });
});
