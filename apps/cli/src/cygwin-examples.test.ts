import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCompare } from './compare.js';
import { runWorkload } from './run.js';

const example = (name: string): string => fileURLToPath(new URL(`../../../examples/${name}`, import.meta.url));

async function run(file: string, opts: Record<string, boolean | string | undefined> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runWorkload(example(file), { json: true, ...opts }, (s) => (out += s + '\n'), (s) => (err += s + '\n'));
  return { code, out, err };
}

interface Doc { metrics: { cycles: number; pagesCopied: number; syscalls: number }; trace: { syscalls: Record<string, { count: number; cycles: number }> } }

describe('examples/cygwin-*.yaml: Cygwin fork copies, Linux COW', () => {
  it('cygwin-fork: Cygwin\'s fork costs several times Linux\'s, whose only copies are the child\'s 41 COW faults', async () => {
    const cyg = await run('cygwin-fork.yaml', { trace: true });
    expect(cyg.err).toBe('');
    expect(cyg.code).toBe(0);
    const c = JSON.parse(cyg.out) as Doc;
    const lin = await run('cygwin-fork.yaml', { personality: 'linux', trace: true });
    expect(lin.code).toBe(0);
    const l = JSON.parse(lin.out) as Doc;
    expect(l.metrics.pagesCopied).toBeGreaterThanOrEqual(41);
    expect(l.metrics.pagesCopied).toBeLessThan(100);
    // The copies are fork.cc's: ReadProcessMemory/WriteProcessMemory under the fork call.
    const cf = c.trace.syscalls.fork!;
    const lf = l.trace.syscalls.fork!;
    expect(cf.cycles).toBeGreaterThan(5 * lf.cycles);
    expect(c.trace.syscalls.ReadProcessMemory!.count).toBeGreaterThan(0);
  });

  it('cygwin-spawn copies nothing of the shell: far cheaper than its fork', async () => {
    const spawn = JSON.parse((await run('cygwin-spawn.yaml', { trace: true })).out) as Doc;
    const fork = JSON.parse((await run('cygwin-fork.yaml', { trace: true })).out) as Doc;
    expect(spawn.trace.syscalls.spawnve!.cycles).toBeLessThan(fork.trace.syscalls.fork!.cycles / 5);
    expect(spawn.trace.syscalls.ReadProcessMemory).toBeUndefined();
  });

  it('compare runs both on Linux and Cygwin', async () => {
    let out = '';
    let err = '';
    const code = await runCompare(example('cygwin-fork.yaml'), { personality: 'linux-6.x,cygwin' }, (s) => (out += s + '\n'), (s) => (err += s + '\n'));
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(out).toContain('cygwin');
  });
});
