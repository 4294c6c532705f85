/**
 * polykernel run on a workload that carries the host's results (its host field, written by import
 * strace): every step whose success, failure or errno differs from the host's is listed, as text
 * and in --json; a workload without the field has none of this.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cli } from '../test/run-cli.js';
import type { CheckReport } from './import.js';

const REAL = fileURLToPath(new URL('../../../examples/real/', import.meta.url));

const tmp = (): string => mkdtempSync(join(tmpdir(), 'pk-host-'));

describe('polykernel run: the replay against the host\'s results', () => {
  it('an imported log of ls: every step compared, all with the host\'s outcome, in text and JSON', async () => {
    const w = join(tmp(), 'ls.yaml');
    expect((await cli('import', 'strace', join(REAL, 'ls.strace'), '-o', w)).code).toBe(0);
    const json = await cli('run', w, '--json');
    const host = (JSON.parse(json.out) as { host: CheckReport }).host;
    expect(host).toMatchObject({ compared: 110, same: 110, differences: [], notReplayed: 0 });
    const text = await cli('run', w);
    expect(text.out).toContain('replay on linux-6.x against the host: 110 steps compared, 110 with the host\'s outcome, 0 different');
  });

  it('lists a step that failed where the host\'s succeeded, and one that failed with another errno', async () => {
    const dir = tmp();
    const w = join(dir, 'w.yaml');
    writeFileSync(w, [
      'name: w', 'processes:', '  - name: main', '    steps:',
      '      - open: { path: /no/such/file, as: f1, flags: [read] }',
      '      - open: { path: /no/such/other, as: f2, flags: [read] }',
      '      - mmap: { name: a, length: 4K, prot: rw-, flags: [private, anonymous] }',
      'host:', '  main:',
      '    - { at: "x.strace:1", call: openat, result: "3", ok: true }',
      '    - { at: "x.strace:2", call: openat, result: "-1 EACCES (Permission denied)", ok: false }',
      '    - { at: "x.strace:3", call: mmap, result: "0x7f0000000000", ok: true }', '',
    ].join('\n'));
    const r = await cli('run', w, '--json');
    expect(r.code).toBe(0);
    const host = (JSON.parse(r.out) as { host: CheckReport }).host;
    expect(host.compared).toBe(3);
    expect(host.same).toBe(1);
    expect(host.differences).toMatchObject([
      { process: 'main', step: 1, file: 'x.strace', line: 1, call: 'openat', host: '3', replay: '-ENOENT' },
      { process: 'main', step: 2, line: 2, host: '-1 EACCES (Permission denied)', replay: '-ENOENT', reason: 'failed with ENOENT where the host\'s failed with EACCES' },
    ]);
    const text = await cli('run', w);
    expect(text.out).toContain('main step 2 (x.strace:2 openat): host -1 EACCES (Permission denied), replay -ENOENT — failed with ENOENT where the host\'s failed with EACCES');
  });

  it('a workload without the host field reports nothing of it', async () => {
    const w = join(tmp(), 'w.yaml');
    writeFileSync(w, 'name: w\nprocesses:\n  - name: main\n    steps:\n      - alloc: { name: a, size: 4K, prot: rw- }\n');
    const r = await cli('run', w, '--json');
    expect((JSON.parse(r.out) as { host: unknown }).host).toBeNull();
    expect((await cli('run', w)).out).not.toContain('against the host');
    expect(readFileSync(w, 'utf8')).not.toContain('host');
  });
});
