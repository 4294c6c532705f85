import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WorkloadError } from './load.js';
import { checkParams, parseWorkload, substituteParams, workloadParams } from './index.js';

const W = `name: sweep-\${size}
processes:
  - name: p
    steps:
      - alloc: { name: buf, size: \${size}, prot: rw- }
      - touch: { region: buf, length: \${size}, access: write, count: \${n} }
# cost: $$5, and a lone $ stays
`;

function issues(f: () => unknown): string[] {
  try {
    f();
  } catch (e) {
    if (e instanceof WorkloadError) return e.message.split('\n');
    throw e;
  }
  return [];
}

describe('workload parameters', () => {
  it('lists the parameters used, each once, where it first appears', () => {
    expect(workloadParams(W, 'w.yaml')).toEqual([{ name: 'size', line: 1, column: 13 }, { name: 'n', line: 6, column: 70 }]);
  });

  it('substitutes every use, keeps $$ as $ and the lines where they were', () => {
    const text = substituteParams(W, { size: '16M', n: '8' }, 'w.yaml');
    expect(text.split('\n')).toHaveLength(W.split('\n').length);
    expect(text).toContain('length: 16M, access: write, count: 8 }');
    expect(text).toContain('# cost: $5, and a lone $ stays');
    const w = parseWorkload(text, 'w.yaml');
    expect(w.name).toBe('sweep-16M');
    expect(w.processes[0]!.steps[0]).toEqual({ alloc: { name: 'buf', size: 16 * 1024 ** 2, prot: 3 } });
  });

  it('a parameter with no value is an error at each use; a value for no parameter names the file', () => {
    expect(issues(() => { checkParams(W, ['size'], 'w.yaml'); })).toEqual(['w.yaml:6:70: parameter ${n} has no value (give it with --param n=v1,v2,...)']);
    expect(issues(() => { checkParams(W, ['size', 'n', 'bs'], 'w.yaml'); })).toEqual(['w.yaml:1:1: --param bs: the workload has no parameter ${bs} (it uses: size, n)']);
    expect(issues(() => substituteParams('name: x\n', { a: '1' }, 'x.yaml'))).toEqual(['x.yaml:1:1: --param a: the workload has no parameter ${a} (it uses none)']);
  });

  it('a malformed reference is refused at its line; a value is one line', () => {
    expect(issues(() => workloadParams('name: a\nsize: ${1x}\nb: ${open\n', 'm.yaml'))).toEqual([
      'm.yaml:2:7: ${1x} is not a parameter reference: write ${name} (a letter or _, then letters, digits or _), or $$ for a literal $',
      'm.yaml:3:4: ${open is not a parameter reference: write ${name} (a letter or _, then letters, digits or _), or $$ for a literal $',
    ]);
    expect(issues(() => substituteParams('a: ${v}\n', { v: '1\n2' }, 'v.yaml'))).toEqual(['v.yaml:1:1: --param v: a value is one line; got "1\\n2"']);
  });

  it('a value the schema refuses is reported at the line of its ${name}', () => {
    const text = substituteParams(W, { size: 'lots', n: '8' }, 'w.yaml');
    expect(issues(() => parseWorkload(text, 'w.yaml'))[0]).toMatch(/^w\.yaml:5:\d+: processes\[0\]\.steps\[0\]\.alloc\.size: /);
  });

  it('property: substitution is the text with each reference replaced (one-line values without $)', () => {
    const piece = fc.oneof(fc.stringMatching(/^[a-z :\n-]{0,8}$/), fc.constantFrom('${a}', '${b_2}', '$$'));
    const value = fc.stringMatching(/^[A-Za-z0-9.,/ -]{0,6}$/);
    fc.assert(fc.property(fc.array(piece, { maxLength: 12 }), value, value, (pieces, a, b) => {
      const text = pieces.join('');
      const used = [...new Set(pieces.filter((p) => p.startsWith('${')).map((p) => p.slice(2, -1)))];
      const values: Record<string, string> = Object.fromEntries(used.map((n) => [n, n === 'a' ? a : b]));
      const want = pieces.map((p) => (p === '$$' ? '$' : p.startsWith('${') ? values[p.slice(2, -1)]! : p)).join('');
      expect(substituteParams(text, values)).toBe(want);
      expect(workloadParams(text).map((u) => u.name)).toEqual(used);
    }));
  });
});
