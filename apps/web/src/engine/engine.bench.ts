/**
 * The visualizer's interactivity: a 10,000-step workload run to the end in the engine (what the
 * worker does), one step plus the snapshot the page draws, and the snapshot alone.
 */
import { bench, describe } from 'vitest';
import { Engine } from './engine.js';
import type { LoadRequest } from './protocol.js';

/** One process: an mmap of 64 pages, then 9,999 steps touching one page each (a fault on the first touch of each page). */
function tenThousandSteps(): string {
  const steps = ['      - mmap: { name: m, length: 256K, prot: rw-, flags: [private, anonymous] }'];
  for (let i = 1; i < 10_000; i++) steps.push(`      - touch: { region: m, offset: ${(i % 64) * 4096}, length: 4K, access: ${i % 3 === 0 ? 'write' : 'read'} }`);
  return `name: ten-thousand\nprocesses:\n  - name: p\n    steps:\n${steps.join('\n')}\n`;
}

const yaml = tenThousandSteps();
const load: LoadRequest = { type: 'load', yaml, file: 'ten-thousand.yaml', personalities: ['linux-6.x'], seed: 1, step: 0 };

const stepping = new Engine();
await stepping.handle(load);

describe('visualizer engine, 10,000-step workload', () => {
  bench('load + run to the end', async () => {
    const e = new Engine();
    await e.handle(load);
    await e.handle({ type: 'run', until: 'end' });
  }, { iterations: 5, warmupIterations: 1 });

  bench('one step + snapshot (what each keypress costs)', async () => {
    await stepping.handle({ type: 'run', until: 'step' });
  }, { iterations: 500, warmupIterations: 20 });
});

/** The same interactivity on every kernel: a portable alloc of 64 pages, then touches (each kernel's own driver, views and snapshot). */
function portableSteps(n: number): string {
  const steps = ['      - alloc: { name: m, size: 256K, prot: rw- }'];
  for (let i = 1; i < n; i++) steps.push(`      - touch: { region: m, offset: ${(i % 64) * 4096}, length: 4K, access: ${i % 3 === 0 ? 'write' : 'read'} }`);
  return `name: portable-steps\nprocesses:\n  - name: p\n    steps:\n${steps.join('\n')}\n`;
}

const portable = portableSteps(2_000);
const kernels = [['linux-6.x'], ['freebsd-14'], ['windows-11'], ['cygwin'], ['linux-6.x', 'cygwin']];
const engines = await Promise.all(kernels.map(async (personalities) => {
  const e = new Engine();
  await e.handle({ type: 'load', yaml: portable, file: 'portable-steps.yaml', personalities, seed: 1, step: 0 });
  return e;
}));
describe('visualizer engine on every kernel: one step + snapshot', () => {
  for (const [i, personalities] of kernels.entries()) {
    const e = engines[i]!;
    bench(personalities.join(' compared with '), async () => {
      await e.handle({ type: 'run', until: 'step' });
    }, { iterations: 200, warmupIterations: 10 });
  }
});
