import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { parseWorkload, positionOf, WorkloadError } from '../index.js';
import { openWorkloadStream, type StreamedWorkload } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'pk-stream-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
let n = 0;
function file(text: string): string {
  const f = join(dir, `w${n++}.yaml`);
  writeFileSync(f, text);
  return f;
}

function streamed(text: string): { f: string; s: StreamedWorkload | null } {
  const f = file(text);
  return { f, s: openWorkloadStream(f) };
}

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(WorkloadError);
    return (e as Error).message;
  }
  return '(no error)';
}

/** One-line steps, valid and not: the kinds generated workloads use and the other kinds' flow forms. */
const UNCLOSED = 'mmap: { name: A, length: 64K, prot: rw-, flags: [private, anonymous]';
const STEP_LINES = [
  'mmap: { name: A, length: 64K, prot: rw-, flags: [private, anonymous] }',
  'mmap: { name: B, length: 0x2000, prot: r--, flags: [private, anonymous], addr: 0x7f0000000000 }',
  'munmap: { region: A, offset: 0, length: 4K }',
  'mprotect: { region: A, offset: 8K, length: 8K, prot: r-- }',
  'touch: { region: A, offset: 4K, length: 16K, access: write, pattern: stride, stride: 8K }',
  'brk: { delta: 8192 }',
  'brk: { delta: "-4K" }',
  'fork: { as: kid, steps: [ { touch: { region: A, length: 4K } }, { exit: { code: 3 } } ] }',
  'wait: {}',
  'syscall: { name: mmap, args: [0, "8K", 3, 34, -1, 0] }',
  'alloc: { name: C, size: 1M, prot: rw- }',
  'madvise: { region: A, offset: 0, length: 4K, advice: dontneed }',
  'exit: { code: 0 }',
  'kill: { process: self, signal: SIGTERM }',
  // Invalid ones: a bad protection, an unknown kind, a missing field, a YAML error, a bad size.
  'mprotect: { region: A, offset: 8K, length: 8K, prot: rw }',
  'sbrk: { delta: 1 }',
  'munmap: { offset: 0, length: 4K }',
  UNCLOSED,
  'brk: { delta: 1e309 }',
  'touch: { region: A, length: .nan }',
  '"just a string"',
];

function document(lines: readonly string[], indent = 6): string {
  return ['name: gen', 'personality: linux', 'processes:', '  - name: p', '    steps:', ...lines.map((l) => `${' '.repeat(indent)}- ${l}`), ''].join('\n');
}

describe('streamed workloads (issue 21: a million steps in bounded memory)', () => {
  it('give the same steps as parseWorkload, or the same file:line:column error, for random one-line workloads', () => {
    fc.assert(fc.property(fc.array(fc.constantFrom(...STEP_LINES), { minLength: 1, maxLength: 12 }), fc.constantFrom(4, 6), fc.boolean(), (lines, indent, blank) => {
      const text = document(blank ? lines.flatMap((l, i) => (i % 3 === 1 ? ['', `${' '.repeat(indent)}# a comment`, l] : [l])) : lines, indent);
      const whole = errorOf(() => parseWorkload(text, 'w.yaml'));
      const f = file(text);
      const stream = errorOf(() => openWorkloadStream(f)?.close());
      if (whole === '(no error)') {
        const w = parseWorkload(text, 'w.yaml');
        const s = openWorkloadStream(f)!;
        expect(stream).toBe('(no error)');
        expect(s.workload.name).toBe('gen');
        const steps = s.steps[0]!;
        expect(steps.length).toBe(w.processes[0]!.steps.length);
        for (let i = 0; i < steps.length; i++) {
          expect(steps.at(i)).toEqual(w.processes[0]!.steps[i]);
          expect(s.positionOf(['processes', 0, 'steps', i])).toEqual(positionOf(text, ['processes', 0, 'steps', i]));
        }
        s.close();
      } else if (!lines.includes(UNCLOSED)) {
        // The streamed scan reports each bad step on its own; the first line of both is the same mistake.
        expect(stream.replace(f, 'w.yaml').split('\n')[0]).toBe(whole.split('\n')[0]);
      } else {
        // An unclosed flow mapping: the whole-document parser notices it at a later line; the scan at the step's own.
        expect(stream).toMatch(/w\d+\.yaml:\d+:\d+: .*YAML: /);
      }
    }), { numRuns: 150, seed: 21 });
  });

  it("a field's position inside a step line is the one the careful parser gives", () => {
    const text = document(STEP_LINES.slice(0, 8));
    const { s } = streamed(text);
    for (const path of [[0, 'mmap', 'prot'], [1, 'mmap', 'addr'], [4, 'touch', 'stride'], [7, 'fork', 'steps', 1, 'exit', 'code']] as const) {
      const full = ['processes', 0, 'steps', ...path];
      expect(s!.positionOf(full)).toEqual(positionOf(text, full));
    }
    expect(s!.positionOf(['name'])).toEqual(positionOf(text, ['name']));
    expect(s!.positionOf(['processes', 0, 'name'])).toEqual(positionOf(text, ['processes', 0, 'name']));
    s!.close();
  });

  it('list native steps with their paths, children included, and count them', () => {
    const { s } = streamed(document([STEP_LINES[0]!, STEP_LINES[7]!, STEP_LINES[10]!, STEP_LINES[9]!]));
    expect(s!.natives.map((x) => `${x.path.join('.')} ${x.kind}`)).toEqual(['processes.0.steps.0 mmap', 'processes.0.steps.3 syscall']);
    expect(s!.nativeCount).toBe(2);
    s!.close();
  });

  it('several processes, and a process whose steps are written inline', () => {
    const text = ['name: two', 'processes:', '  - name: a', '    steps:', '      - brk: { delta: 4096 }', '      - wait: {}', '  - name: b', '    steps: [ { exit: { code: 1 } } ]', '  - name: c', '    steps:', '    - exit: { code: 2 }', ''].join('\n');
    const w = parseWorkload(text);
    const { s } = streamed(text);
    expect(s!.steps.map((q) => q.length)).toEqual([2, 1, 1]);
    expect(s!.steps.map((q) => q.at(q.length - 1))).toEqual(w.processes.map((p) => p.steps.at(-1)));
    s!.close();
  });

  it('are not streamed when a step spans lines, uses anchors or aliases, or there are several documents: the caller parses them whole', () => {
    const multi = document(['mmap:', '    name: A']).replace('      -     name', '          name');
    for (const text of [
      multi,
      document(['mmap: { name: A,']).replace('A,\n', 'A,\n          length: 4K, prot: rw-, flags: [private, anonymous] }\n'),
      document(['&s brk: { delta: 1 }', '*s']),
      document(['brk: { delta: 1 }']) + '---\nname: second\n',
      document(['brk: &d { delta: 1 }']),
    ]) {
      expect(streamed(text).s).toBeNull();
    }
  });

  it('a steps key with nothing under it is the same error as parseWorkload gives (null is not a list)', () => {
    const text = ['name: e', 'processes:', '  - name: a', '    steps:', ''].join('\n');
    const f = file(text);
    expect(errorOf(() => openWorkloadStream(f))).toBe(errorOf(() => parseWorkload(text, f)));
  });

  it('header mistakes keep their line numbers with the steps blanked', () => {
    const text = document([STEP_LINES[0]!, STEP_LINES[2]!]).replace('personality: linux', 'personality: linux\nmemory: -4K');
    const f = file(text);
    expect(errorOf(() => openWorkloadStream(f))).toBe(errorOf(() => parseWorkload(text, f)));
  });
});
