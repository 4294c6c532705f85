import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runWorkload } from './run.js';

const EXAMPLE = fileURLToPath(new URL('../../../packages/workload/examples/three-munmaps.yaml', import.meta.url));

async function run(file: string, opts: Record<string, boolean | string | undefined> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runWorkload(file, opts, (s) => (out += s + '\n'), (s) => (err += s + '\n'));
  return { code, out, err };
}

function tmpWorkload(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pk-run-'));
  const f = join(dir, 'w.yaml');
  writeFileSync(f, text);
  return f;
}

describe('polykernel run', () => {
  it('replays the example: the three munmap cases leave two areas plus B, with Linux results', async () => {
    const r = await run(EXAMPLE);
    expect(r.code).toBe(0);
    expect(r.out).toContain('workload three-munmaps on linux-6.x');
    expect(r.out).toMatch(/mmap name=A .* -> 0x7ffff7fef000/);
    expect(r.out).toContain('7ffff7ff0000-7ffff7ff6000 rw-p 00000000 00:00 0');
    expect(r.out).toContain('7ffff7ff8000-7ffff7ffe000 rw-p 00000000 00:00 0');
    expect(r.out).toContain('10000000-10002000 rw-p 00000000 00:00 0');
    expect(r.out).toContain('faults: zeroFill 16');
    expect(r.out).toMatch(/VmRSS:\t +48 kB/);
  });

  it('--json carries steps, views and metrics', async () => {
    const r = await run(EXAMPLE, { json: true, personality: 'linux-5.15' });
    const j = JSON.parse(r.out) as { personality: string; steps: { result: string }[]; metrics: { faults: Record<string, number> } };
    expect(j.personality).toBe('linux-5.15');
    expect(j.steps).toHaveLength(10);
    expect(j.metrics.faults.zeroFill).toBe(16);
  });

  it('reports errno results, signals, and workload mistakes with file:line:column', async () => {
    const ok = await run(tmpWorkload(`name: errs
processes:
  - name: p
    steps:
      - mmap: { name: A, addr: 0x10000000, length: 8K, prot: r--, flags: [private, anonymous, fixed] }
      - mmap: { name: C, addr: 0x10000000, length: 4K, prot: rw-, flags: [private, anonymous, fixed-noreplace] }
      - touch: { region: A, length: 4K, access: write }
`));
    expect(ok.out).toMatch(/-> -EEXIST/);
    expect(ok.out).toMatch(/-> SIGSEGV at 0x10000000/);
    expect(ok.out).toContain('killed by SIGSEGV');
    const bad = await run(tmpWorkload('name: bad\nprocesses:\n  - name: p\n    steps:\n      - mmap: { name: A, length: 12Q, prot: rw-, flags: [private] }\n'));
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/w\.yaml:5:\d+: .*length/);
    const unknown = await run(EXAMPLE, { personality: 'freebsd' });
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('personality "freebsd" is not built yet');
  });
});
