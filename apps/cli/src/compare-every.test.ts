/**
 * Issue 16's "compare runs on every personality available": the lecture's fork, with no -p, on
 * every registered variant — each column ran (or says why not), with the kernel's own answers.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCompare } from './compare.js';
import { PERSONALITIES } from './personalities.js';

const FORK = fileURLToPath(new URL('../../../examples/portable/lecture-fork.yaml', import.meta.url));

interface Json { columns: { variant: string; na: string | null; metrics: { pagesCopied: number; bytesCopiedCrossProcess: number } | null; steps: { process: string; result: string }[] }[] }

describe('compare on every registered personality', () => {
  it('without -p: a column per registered variant; fork copies one page by COW, Cygwin copies the parent, Windows has none', async () => {
    let out = '';
    expect(await runCompare(FORK, { json: true }, (s) => (out += s))).toBe(0);
    const j = JSON.parse(out) as Json;
    expect(j.columns.map((c) => c.variant)).toEqual(PERSONALITIES.flatMap((e) => e.variants));
    const col = (v: string): Json['columns'][number] => j.columns.find((c) => c.variant === v)!;
    for (const c of j.columns) expect(c.na, c.variant).toBeNull();
    for (const v of ['linux-6.x', 'linux-5.15', 'freebsd-14', 'freebsd-14-nosuperpages']) {
      expect(col(v).metrics!.pagesCopied, v).toBe(1);
      // The parent still reads 100 after the child wrote 200.
      expect(col(v).steps.filter((s) => s.process === 'parent').at(-1)!.result, v).toBe('value 100');
    }
    expect(col('cygwin').metrics!.bytesCopiedCrossProcess).toBeGreaterThan(100 * 1024);
    expect(col('cygwin').steps.filter((s) => s.process === 'parent').at(-1)!.result).toBe('value 100');
    expect(col('windows-11').steps.find((s) => s.result.startsWith('n/a'))!.result).toMatch(/^n\/a: Win32 has no fork/);
  });
});
