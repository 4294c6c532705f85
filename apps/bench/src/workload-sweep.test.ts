/**
 * Sweeps over a workload file: `${name}` parameters, each point a run of the workload as
 * `polykernel run` runs it, the same results however the sweep is split into shards or workers.
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main, type Io } from './main.js';
import type { SweepResults } from './sweep.js';
import { prepareWorkload, runWorkloadPoint } from './workload-sweep.js';

const FORK = `# a parent with \${size} resident forks
name: fork-\${size}
processes:
  - name: parent
    steps:
      - alloc: { name: heap, size: \${size}, prot: rw- }
      - touch: { region: heap, length: \${size}, access: write }
      - fork:
          as: child
          steps:
            - touch: { region: heap, length: 4K, access: write }
            - exit: 0
      - wait: { for: child }
`;

function io(): Io & { text: () => string; errors: () => string } {
  let out = '';
  let err = '';
  return { out: (s) => (out += s + '\n'), err: (s) => (err += s + '\n'), progress: null, text: () => out, errors: () => err };
}

function workload(text: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'pk-sweep-'));
  const file = join(dir, 'fork.yaml');
  writeFileSync(file, text);
  return { dir, file };
}

describe('polykernel-bench sweep', () => {
  it('as 1 shard, as 3 shards merged, and on 2 workers: identical results, CSV and chart', async () => {
    const { dir, file } = workload(FORK);
    const args = ['node', 'bench', 'sweep', file, '--param', 'size=1M,4M', '-p', 'linux-6.x,freebsd,windows,cygwin', '--chart', 'parent.fork', '--memory', '256M'];
    const whole = io();
    expect(await main([...args, '--workers', '1', '--out', join(dir, 'whole')], whole)).toBe(0);
    expect(whole.text()).toContain('8 of 8 points');
    expect(readdirSync(join(dir, 'whole')).sort()).toEqual(['fork.csv', 'fork.json', 'fork.md', 'fork.svg']);
    for (const i of [1, 2, 3]) expect(await main([...args, '--workers', '1', '--shard', `${i}/3`, '--out', join(dir, 'shards')], io())).toBe(0);
    const shard = (i: number): string => join(dir, 'shards', `fork.shard-${i}-of-3.json`);
    const m = io();
    expect(await main(['node', 'bench', 'merge', shard(2), shard(3), shard(1), '--out', join(dir, 'merged')], m)).toBe(0);
    expect(m.text()).toContain('8 points merged from 3 shards');
    expect(await main([...args, '--workers', '2', '--out', join(dir, 'pooled')], io())).toBe(0);
    const read = (sub: string, ext: string): string => readFileSync(join(dir, sub, `fork.${ext}`), 'utf8');
    for (const sub of ['merged', 'pooled']) {
      expect(read(sub, 'json'), sub).toBe(read('whole', 'json'));
      expect(read(sub, 'csv'), sub).toBe(read('whole', 'csv'));
      expect(read(sub, 'svg'), sub).toBe(read('whole', 'svg'));
      expect(read(sub, 'md'), sub).toBe(read('whole', 'md').replace(join(dir, 'whole'), join(dir, sub)));
    }
    const r = JSON.parse(read('whole', 'json')) as SweepResults;
    expect(r.spec.personalities).toEqual(['linux-6.x', 'freebsd-14', 'windows-11', 'cygwin']);
    expect(r.results.map((x) => `${x.params.size} ${x.personality} ${x.status}`)).toEqual([
      '1M linux-6.x ok', '1M freebsd-14 ok', '1M windows-11 n/a', '1M cygwin ok', '4M linux-6.x ok', '4M freebsd-14 ok', '4M windows-11 n/a', '4M cygwin ok',
    ]);
    const at = (size: string, p: string) => r.results.find((x) => x.params.size === size && x.personality === p)!;
    // Linux's fork copies the page tables; Cygwin's copies the memory itself, 4 times more at 4M than at 1M.
    expect(at('4M', 'linux-6.x').extra['parent.fork']!).toBeGreaterThan(at('1M', 'linux-6.x').extra['parent.fork']!);
    const growth = (p: string): number => at('4M', p).extra['parent.fork']! - at('1M', p).extra['parent.fork']!;
    expect(growth('cygwin')).toBeGreaterThan(4 * growth('linux-6.x'));
    expect(at('4M', 'linux-6.x').metrics!.faults.zeroFill).toBeGreaterThanOrEqual(1024);
    expect(at('1M', 'windows-11').reason).toMatch(/^1 step n\/a, first parent: fork .* -> n\/a: /);
    expect(at('1M', 'linux-6.x').steps!.map((s) => s.result)).toEqual([expect.stringMatching(/^0x/), '0x0', expect.stringMatching(/^pid \d+ \(child\)$/), '0x0', 'exited', expect.stringMatching(/^pid \d+ \(child\) status 0x0/)]);
    expect(read('whole', 'md')).toContain(`polykernel-bench sweep ${file} --param size=1M,4M --chart parent.fork -p linux-6.x,freebsd-14,windows-11,cygwin --seed 1 --memory 256M`);
    expect(read('whole', 'md')).toContain('![fork: parent.fork by size](fork.svg)');
  });

  it('a parameter with no value, a value for no parameter and a value the workload refuses are errors at the file and line', async () => {
    const { file } = workload(FORK);
    const a = io();
    expect(await main(['node', 'bench', 'sweep', file, '--param', 'n=1'], a)).toBe(1);
    expect(a.errors()).toBe([
      `${file}:1:17: parameter \${size} has no value (give it with --param size=v1,v2,...)`,
      `${file}:2:12: parameter \${size} has no value (give it with --param size=v1,v2,...)`,
      `${file}:6:36: parameter \${size} has no value (give it with --param size=v1,v2,...)`,
      `${file}:7:40: parameter \${size} has no value (give it with --param size=v1,v2,...)`,
      `${file}:1:1: --param n: the workload has no parameter \${n} (it uses: size)`,
    ].join('\n') + '\n');
    const b = io();
    expect(await main(['node', 'bench', 'sweep', file, '--param', 'size=1M,lots'], b)).toBe(1);
    expect(b.errors()).toMatch(new RegExp(`^${file.replace(/[.]/g, '\\.')}:6:\\d+: processes\\[0\\]\\.steps\\[0\\]\\.alloc\\.size: `));
    const c = io();
    expect(await main(['node', 'bench', 'sweep', file], c)).toBe(1);
    expect(c.errors()).toBe(`${file}: a sweep needs at least one --param name=v1,v2,... (it uses: size)\n`);
    const d = io();
    expect(await main(['node', 'bench', 'sweep', file, '--param', 'size=1M', '-p', 'plan9'], d)).toBe(2);
    expect(d.errors()).toMatch(/^polykernel-bench: personality "plan9" is not registered \(registered: linux-6\.x, linux-5\.15, freebsd-14, /);
    const l = io();
    expect(await main(['node', 'bench', 'list'], l)).toBe(0);
    expect(l.text()).toContain('any workload file: polykernel-bench sweep W.yaml --param name=v1,v2');
    const e = io();
    expect(await main(['node', 'bench', 'sweep', join(file, '..', 'nope.yaml'), '--param', 'size=1M'], e)).toBe(1);
    expect(e.errors()).toContain('nope.yaml: No such file');
  });

  it('native steps of another kernel are n/a there with the reason; a changed file is refused', async () => {
    const text = 'name: native\nprocesses:\n  - name: p\n    steps:\n      - mmap: { name: m, length: ${len}, prot: rw-, flags: [private, anonymous] }\n';
    const { file } = workload(text);
    const ref = prepareWorkload(file, text, { len: ['8K'] });
    if (typeof ref === 'string') throw new Error(ref);
    const opts = { seed: 1, memory: 64 * 1024 ** 2, sysroot: '/' };
    expect(await runWorkloadPoint(ref, { len: '8K' }, 'freebsd-14', opts)).toMatchObject({ status: 'n/a', reason: 'native steps of linux (mmap); write them as portable steps' });
    expect(await runWorkloadPoint(ref, { len: '8K' }, 'linux-5.15', opts)).toMatchObject({ status: 'ok', steps: [{ process: 'p', result: expect.stringMatching(/^0x/) as unknown }] });
    await expect(runWorkloadPoint({ ...ref, sha256: '0'.repeat(64) }, { len: '8K' }, 'linux-5.15', opts)).rejects.toThrow('is not the file this sweep was started on');
  });
});
