/**
 * Issue 16's "the bench scenarios run on every personality available": each scenario at a small
 * size on every registered variant gives a point that ran (ok), a step the kernel has no way to do
 * (n/a, with the reason), or the kernel's own error (failed, naming the call) — never a crash.
 */
import { describe, expect, it } from 'vitest';
import { BENCH_PERSONALITIES } from './personalities.js';
import { runPoints } from './pool.js';
import { SCENARIOS } from './scenarios.js';
import { expandPoints, type SweepSpec } from './sweep.js';

const SMALL: Record<string, Record<string, string[]>> = {
  'fork-cost': { size: ['1M'] },
  'spawn-cost': { size: ['1M'] },
  dd: { bs: ['64K'] },
  'tlb-reach': { profile: ['x86-64'], size: ['256K'] },
  'vma-index': { areas: ['10'] },
  superpages: { size: ['4M'], pattern: ['sequential'] },
};

describe('every scenario on every registered variant', () => {
  it('ok, n/a with the reason, or the kernel\'s error', async () => {
    expect(Object.keys(SMALL).sort()).toEqual(SCENARIOS.map((s) => s.name).sort());
    const variants = BENCH_PERSONALITIES.map((p) => p.variant);
    const table: Record<string, string> = {};
    for (const name of Object.keys(SMALL)) {
      const spec: SweepSpec = { scenario: name, params: SMALL[name]!, personalities: variants, seed: 1, memory: 256 * 1024 ** 2, sysroot: '/' };
      for (const r of await runPoints(spec, expandPoints(spec), 1)) {
        table[`${name} ${r.personality}`] = r.status === 'ok' ? 'ok' : `${r.status}: ${r.reason ?? ''}`;
        if (r.status === 'ok') expect(r.metrics!.cycles, `${name} ${r.personality}`).toBeGreaterThan(0);
      }
    }
    const notOk = Object.entries(table).filter(([, v]) => v !== 'ok').map(([k, v]) => `${k}: ${v.slice(0, 60)}`);
    expect(notOk).toEqual([
      'fork-cost windows-11: n/a: fork: Win32 has no fork: a process is made from an imag',
      // /bin/true is a Linux ELF file: FreeBSD's execve refuses it (no FreeBSD brand), CreateProcessW
      // refuses it as Windows does, and Cygwin's spawnve with it.
      'spawn-cost freebsd-14: failed: spawn: ENOEXEC (execve)',
      'spawn-cost freebsd-14-nosuperpages: failed: spawn: ENOEXEC (execve)',
      'spawn-cost windows-11: failed: spawn: ERROR_BAD_EXE_FORMAT (CreateProcessW)',
      'spawn-cost cygwin: failed: spawn: ENOEXEC (spawnve)',
      // Windows has no /dev/zero: C:\dev\zero is not there (its /dev/null is the NUL device).
      'dd windows-11: failed: open /dev/zero: ERROR_PATH_NOT_FOUND (CreateFileW)',
    ]);
    expect(Object.keys(table)).toHaveLength(6 * variants.length);
  });
});
