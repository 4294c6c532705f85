import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolvePersonality } from '@polykernel/runner';
import { execute } from '@polykernel/runner/node';
import { parseWorkload } from '@polykernel/workload';
import { describe, expect, it } from 'vitest';
import { allVariants, resolveWebPersonality } from './registry.js';
import { WebSession } from './session.js';

const FILE = fileURLToPath(new URL('../../../../examples/portable/lecture-fork.yaml', import.meta.url));
const TEXT = readFileSync(FILE, 'utf8');
const QUIET = { tick: (): void => undefined, end: (): void => undefined };

describe('the visualizer steps the runner\'s session: what polykernel run computes, one step at a time', () => {
  it('offers every variant the runner registers', () => {
    expect(allVariants().length).toBeGreaterThan(1);
  });

  for (const variant of allVariants()) {
    it(`portable lecture-fork on ${variant}: the same step results and metrics as the whole-workload run`, async () => {
      const w = parseWorkload(TEXT, FILE);
      const web = new WebSession(w, resolveWebPersonality(variant)!, { seed: 1 });
      while (await web.next() !== null);
      const run = await execute(w, TEXT, FILE, resolvePersonality(variant)!, {
        frames: Math.floor((w.memory ?? 1024 ** 3) / 4096), swapSlots: Math.floor((w.swap ?? 0) / 4096), contents: w.contents === true, sysroot: '/nonexistent-sysroot', seed: 1,
      }, {}, () => undefined, QUIET);
      expect(web.log.length).toBeGreaterThan(3);
      expect(web.log.map((l) => ({ process: l.process, pid: l.pid, step: l.step, result: l.result }))).toEqual(run.session.results);
      expect(web.k.metrics.snapshot()).toEqual(run.k.metrics.snapshot());
      expect(web.ending).toBe(run.stalled ?? 'done');
    });
  }
});
