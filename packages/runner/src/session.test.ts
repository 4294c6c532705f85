import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { memoryFileSystem } from '@polykernel/kernel';
import { parseWorkload } from '@polykernel/workload';
import { describe, expect, it } from 'vitest';
import { COMPARE_ROWS, metricValue, openSession, PERSONALITIES, resolvePath, resolvePersonality, type StepResult } from './index.js';
import { execute } from './node/index.js';

const SRC = fileURLToPath(new URL('.', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../../../examples/portable/', import.meta.url));
const QUIET = { tick: (): void => undefined, end: (): void => undefined };
const VARIANTS = PERSONALITIES.flatMap((e) => e.variants);

/** The workload's steps one at a time (next()) on a machine with no files, and the whole run (execute) with sysroot "/". */
async function bothWays(name: string, variant: string): Promise<{ stepped: StepResult[]; whole: StepResult[]; steppedMetrics: unknown; wholeMetrics: unknown; ending: string | null; stalled: string | null }> {
  const file = join(EXAMPLES, name);
  const text = readFileSync(file, 'utf8');
  const w = parseWorkload(text, file);
  const resolved = resolvePersonality(variant)!;
  const frames = Math.floor((w.memory ?? 1024 ** 3) / 4096);
  const swapSlots = Math.floor((w.swap ?? 0) / 4096);
  const session = openSession(w, resolved, { frames, swapSlots, contents: w.contents === true, fs: memoryFileSystem({}), seed: 1 }, { file, text, dir: dirname(file) });
  const stepped: StepResult[] = [];
  for (let r = await session.next(); r !== null; r = await session.next()) stepped.push(r);
  const run = await execute(w, text, file, resolved, { frames, swapSlots, contents: w.contents === true, sysroot: '/nonexistent-sysroot', seed: 1 }, {}, () => undefined, QUIET);
  return {
    stepped, whole: run.session.results, steppedMetrics: session.k.metrics.snapshot(), wholeMetrics: run.k.metrics.snapshot(),
    ending: session.ending?.stalled ?? null, stalled: run.stalled,
  };
}

describe('Session.next(): one step at a time by the whole run\'s scheduler', () => {
  it.each(VARIANTS)('lecture-fork on %s: the same step results, in the same order, and the same metrics as execute', async (variant) => {
    const r = await bothWays('lecture-fork.yaml', variant);
    expect(r.stepped.length).toBeGreaterThan(0);
    expect(r.stepped).toEqual(r.whole);
    expect(r.steppedMetrics).toEqual(r.wholeMetrics);
    expect(r.ending).toBe(r.stalled);
  });

  it('keeps every result it returned, and returns null for ever after the end', async () => {
    const file = join(EXAMPLES, 'lecture-wait.yaml');
    const text = readFileSync(file, 'utf8');
    const s = openSession(parseWorkload(text, file), resolvePersonality('freebsd-14')!, { frames: 65536, swapSlots: 0, contents: false, fs: memoryFileSystem({}), seed: 1 });
    const seen: StepResult[] = [];
    for (let r = await s.next(); r !== null; r = await s.next()) seen.push(r);
    expect(s.results).toEqual(seen);
    expect(s.done).toBe(seen.length);
    expect(s.ending).not.toBeNull();
    expect(await s.next()).toBeNull();
    expect(s.results.length).toBe(seen.length);
  });
});

describe('the browser-safe entry', () => {
  it('imports nothing from node: (only src/node/ does)', () => {
    const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.startsWith('node'));
    expect(files).toContain('run.ts');
    for (const f of files) expect(readFileSync(join(SRC, f), 'utf8'), f).not.toMatch(/from '(node:|@polykernel\/[a-z]+\/node)/);
  });

  it('resolves a workload-relative path as node:path does', () => {
    for (const [dir, p] of [['/a/b', 'c.bin'], ['/a/b', '../c'], ['/a/b', '/etc/x'], ['/a', './x/../y'], ['/', '..']]) expect(resolvePath(dir!, p!)).toBe(resolve(dir!, p!));
  });

  it('has one row list for compare, with its values from a metrics snapshot', () => {
    expect(COMPARE_ROWS[0]).toEqual({ path: 'syscalls', label: 'system calls' });
    expect(COMPARE_ROWS.at(-1)?.path).toBe('seconds');
    const m = { cycles: 3e9, faults: { zeroFill: 7 }, syscalls: 2 } as unknown as Parameters<typeof metricValue>[0];
    expect(metricValue(m, 'seconds', 3e9)).toBe(1000);
    expect(metricValue(m, 'faults.zeroFill', 1)).toBe(7);
    expect(metricValue(m, 'syscalls', 1)).toBe(2);
  });
});
