/**
 * Issue 16 on FreeBSD: the portable examples that open, map, exec and spawn run on FreeBSD with
 * no n/a step. spawn is posix_spawn's rfork(RFSPAWN) + execve, so a FreeBSD image (the rollup
 * fixture as /bin/true and /bin/dd in a sysroot) runs and nothing of the shell is copied; the
 * host's /bin/dd, a Linux ELF, is execve's ENOEXEC — a real failure, not an n/a.
 */
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCompare } from './compare.js';

const EX = (p: string): string => fileURLToPath(new URL(`../../../examples/${p}`, import.meta.url));
const FIXTURE = fileURLToPath(new URL('../../../packages/formats/elf/test/fixtures/rollup.freebsd-x64.node', import.meta.url));

interface Column { variant: string; na: string | null; metrics: { syscalls: number; pagesCopied: number; faults: { zeroFill: number } } | null; unsupported: unknown[]; steps: { process: string; step: string; result: string }[] }

const sysroot = mkdtempSync(join(tmpdir(), 'pk-freebsd-sysroot-'));
mkdirSync(join(sysroot, 'bin'));
for (const name of ['true', 'dd']) {
  copyFileSync(FIXTURE, join(sysroot, 'bin', name));
  chmodSync(join(sysroot, 'bin', name), 0o755);
}
afterAll(() => {
  rmSync(sysroot, { recursive: true, force: true });
});

async function columns(file: string, personality: string, extra: Record<string, string> = {}): Promise<Column[]> {
  let out = '';
  expect(await runCompare(EX(file), { personality, json: true, ...extra }, (s) => (out += s))).toBe(0);
  return (JSON.parse(out) as { columns: Column[] }).columns;
}

describe('compare on FreeBSD: files, exec and spawn', () => {
  it('mapfile.yaml: every step runs on both FreeBSD variants', async () => {
    for (const c of await columns('portable/mapfile.yaml', 'freebsd-14,freebsd-14-nosuperpages')) {
      expect(c.na, c.variant).toBeNull();
      expect(c.unsupported, c.variant).toEqual([]);
      expect(c.steps.find((s) => s.step.startsWith('mapFile'))!.result, c.variant).toMatch(/^0x[0-9a-f]+/);
    }
  });

  it('fork-exec-storm.yaml with a FreeBSD /bin/true: eight spawns run, nothing of the 4 MiB shell is copied', async () => {
    for (const c of await columns('portable/fork-exec-storm.yaml', 'freebsd-14,freebsd-14-nosuperpages', { sysroot })) {
      expect(c.unsupported, c.variant).toEqual([]);
      const spawns = c.steps.filter((s) => s.step.startsWith('spawn'));
      expect(spawns, c.variant).toHaveLength(8);
      for (const s of spawns) expect(s.result, c.variant).toContain('/bin/true');
      expect(c.metrics!.pagesCopied, c.variant).toBe(0);
    }
  });

  it('dd.yaml: the host\'s /bin/dd (a Linux ELF) is ENOEXEC; a FreeBSD /bin/dd runs the child\'s steps', async () => {
    const [host] = await columns('portable/dd.yaml', 'freebsd-14');
    expect(host!.unsupported).toEqual([]);
    expect(host!.steps[0]!.result).toBe('ENOEXEC (execve)');
    const [own] = await columns('portable/dd.yaml', 'freebsd-14', { sysroot });
    expect(own!.unsupported).toEqual([]);
    expect(own!.steps.map((s) => s.result)).toEqual([
      'pid 3 (dd) (/bin/dd)', '0x8011f4000', 'fd 0', 'fd 1', '10485760 bytes', '10485760 bytes', '0x0', '0x0', 'exited', 'pid 3 (dd) status 0x0: exit 0',
    ]);
    // rfork + execve + mmap + 2 openat + read + write + 2 close + exit + wait4, and the lesson:
    // reading into the fresh 10 MiB buffer demand-zeroes it, one fault per page.
    expect(own!.metrics!.syscalls).toBe(11);
    expect(own!.metrics!.faults.zeroFill).toBeGreaterThanOrEqual(2560);
  });
});
