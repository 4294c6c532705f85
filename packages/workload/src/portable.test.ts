import { describe, expect, it } from 'vitest';
import { nativeSteps, parseWorkload, WorkloadError } from './index.js';

const PORTABLE = `name: portable
processes:
  - name: shell
    steps:
      - alloc: { name: heap, size: 4M, prot: rw- }
      - touch: { region: heap, length: 4M, access: write }
      - protect: { region: heap, prot: r-- }
      - mapFile: { name: lib, path: /etc/hostname, prot: r-- }
      - spawn: { path: /bin/true, argv: ["true"], as: t }
      - fork: { as: kid, steps: [ { exit: 3 } ] }
      - wait: { for: kid }
      - free: { region: heap }
`;

describe('portable steps', () => {
  it('parse with sizes and protections normalised and defaults filled', () => {
    const steps = parseWorkload(PORTABLE, 'p.yaml').processes[0]!.steps;
    expect(steps[0]).toEqual({ alloc: { name: 'heap', size: 4 * 1024 ** 2, prot: 3 } });
    expect(steps[2]).toEqual({ protect: { region: 'heap', prot: 1 } });
    expect(steps[3]).toEqual({ mapFile: { name: 'lib', path: '/etc/hostname', prot: 1, shared: false } });
    expect(steps[4]).toEqual({ spawn: { path: '/bin/true', argv: ['true'], as: 't', steps: [] } });
  });

  it('a portable workload has no native step', () => {
    expect(nativeSteps(parseWorkload(PORTABLE, 'p.yaml'))).toEqual([]);
  });

  it('native steps are found at any depth, with the personality they belong to and why', () => {
    const w = parseWorkload(`name: mixed
processes:
  - name: a
    steps:
      - alloc: { name: x, size: 4K, prot: rw- }
      - fork:
          steps:
            - spawn: { path: /bin/true, steps: [ { brk: { delta: 4K } } ] }
            - wait: { options: [nohang] }
      - open: { path: /, as: d, flags: [directory] }
`, 'm.yaml');
    expect(nativeSteps(w)).toEqual([
      { path: ['processes', 0, 'steps', 1, 'fork', 'steps', 0, 'spawn', 'steps', 0], kind: 'brk', personality: 'linux', why: "linux's brk call" },
      { path: ['processes', 0, 'steps', 1, 'fork', 'steps', 1], kind: 'wait', personality: 'linux', why: "wait's options (nohang) are wait4's" },
      { path: ['processes', 0, 'steps', 2], kind: 'open', personality: 'linux', why: 'the directory flag is O_DIRECTORY' },
    ]);
  });

  it('a bad portable step is reported at its field', () => {
    try {
      parseWorkload('name: b\nprocesses:\n  - name: a\n    steps:\n      - alloc: { name: x, size: 4Q, prot: rw- }\n', 'b.yaml');
      expect.unreachable();
    } catch (e) {
      expect((e as WorkloadError).message).toMatch(/^b\.yaml:5:33: processes\[0\]\.steps\[0\]\.alloc\.size: expected a size/);
    }
  });
});
