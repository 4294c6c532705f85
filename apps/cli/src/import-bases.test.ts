import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cli } from '../test/run-cli.js';
import { sysrootImages } from './import.js';

const REAL = fileURLToPath(new URL('../../../examples/real/', import.meta.url));

describe('ld.so\'s RELRO mprotects of the executable and the interpreter, named by ELF vaddr', () => {
  it('the sysroot\'s ELF files give the layout: /bin/true is a PIE with PT_GNU_RELRO and PT_INTERP', () => {
    const facts = sysrootImages('/')('/bin/true');
    expect(facts).toMatchObject({ relocatable: true, start: 0 });
    expect(facts!.relro).not.toBeNull();
    expect(facts!.interpreter).toMatch(/ld-linux/);
    expect(sysrootImages('/')('/etc/passwd')).toBeNull();
  });

  it('true.strace: both mprotects become [exe] and [interp] steps, and the replay on Linux protects the same pages (success as on the host)', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'pk-bases-')), 'true.yaml');
    const r = await cli('import', 'strace', join(REAL, 'true.strace'), '-o', out, '--check', '--json');
    expect(r.code, r.err).toBe(0);
    const s = JSON.parse(r.out) as { skipped: { call: string }[]; check: { differences: unknown[]; compared: number; same: number } };
    expect(s.skipped.filter((x) => x.call === 'mprotect')).toEqual([]);
    expect(s.check.differences).toEqual([]);
    const yaml = readFileSync(out, 'utf8');
    expect(yaml).toMatch(/mprotect: \{ region: "\[exe\]", offset: 0x[0-9a-f]+000, length: 0x1000, prot: r-- \}/);
    expect(yaml).toMatch(/mprotect: \{ region: "\[interp\]"/);
    // The replay's mprotect hit a mapped page of the image: a wrong base would be ENOMEM.
    const run = await cli('run', out, '--json');
    const steps = (JSON.parse(run.out) as { steps: { step: string; result: string }[] }).steps.filter((x) => x.step.includes('[exe]') || x.step.includes('[interp]'));
    expect(steps.map((x) => x.result)).toEqual(['0x0', '0x0']);
  });
});
