import { describe, expect, it } from 'vitest';
import { parseWorkload } from '../load.js';
import { LackeyParser } from './lackey.js';
import { LackeyWorkloadBuilder } from './lackey-workload.js';
import { workloadYaml } from './yaml.js';

function build(text: string, joinGap = 0): ReturnType<LackeyWorkloadBuilder['finish']> {
  const b = new LackeyWorkloadBuilder({ name: 't', joinGap });
  const p = new LackeyParser(b.add);
  p.push(new TextEncoder().encode(text));
  p.end();
  return b.finish();
}

describe('a lackey trace as a workload', () => {
  const TRACE = 'I  00401000,3\nI  00401004,2\n L 00402ff8,8\n L 00402010,8\n S 7ff000a58,8\n M 7ff000a58,8\nI  00401008,4\n S 00403ffc,8\n';
  const w = build(TRACE);
  const steps = w.workload.processes[0]!.steps;

  it('maps each run of adjacent referenced pages once, and places references in them', () => {
    expect(w.pages).toBe(4);
    expect(steps.slice(0, 2)).toEqual([
      { mmap: { name: 'm401000', length: 0x3000, prot: 'rwx', flags: ['private', 'anonymous'] } },
      { mmap: { name: 'm7ff000000', length: 0x1000, prot: 'rwx', flags: ['private', 'anonymous'] } },
    ]);
  });

  it('replays every reference in order: same page and access collapse into a count, M is a write', () => {
    expect(steps.slice(2)).toEqual([
      { touch: { region: 'm401000', offset: 0, length: 4096, access: 'exec', count: 2 } },
      { touch: { region: 'm401000', offset: 0x1000, length: 4096, access: 'read', count: 2 } },
      { touch: { region: 'm7ff000000', offset: 0, length: 4096, access: 'write', count: 2 } },
      { touch: { region: 'm401000', offset: 0, length: 4096, access: 'exec' } },
      { touch: { region: 'm401000', offset: 0x2000, length: 4096, access: 'write' } },
    ]);
    const total = steps.slice(2).reduce((n, s) => n + ((s.touch as { count?: number }).count ?? 1), 0);
    expect(total).toBe(8);
    expect(w.straddling).toBe(1);
    parseWorkload(workloadYaml(w.workload), 't.yaml');
  });

  it('joinGap joins runs separated by a few untouched pages into one mapping', () => {
    expect(build('I  00401000,1\nI  00404000,1\n', 2).mappings).toBe(1);
    expect(build('I  00401000,1\nI  00404000,1\n', 1).mappings).toBe(2);
  });
});
