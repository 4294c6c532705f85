/**
 * `polykernel exec -p freebsd`: a real FreeBSD ELF's procstat -v, -x and -c (--view), on the amd64
 * and (--profile arm64-a72) arm64 sysvecs; a Linux ELF and another machine's image are ENOEXEC
 * (126); a file without an execute bit is EACCES (exec_check_permissions), before any image
 * activator looks at it.
 */
import { chmodSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runExec } from './exec.js';

/** The fixture is stored mode 0644 (a shared object): an executable copy of it, as an installed program would be. */
const STORED = fileURLToPath(new URL('../../../packages/formats/elf/test/fixtures/rollup.freebsd-x64.node', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pk-freebsd-exec-'));
const NODE = join(dir, 'rollup.freebsd-x64.node');
copyFileSync(STORED, NODE);
chmodSync(NODE, 0o755);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
const STATIC = fileURLToPath(new URL('../../../packages/formats/elf/test/fixtures/static-x86_64.elf', import.meta.url));
const FB = (name: string): string => fileURLToPath(new URL(`../../../packages/personalities/freebsd/test/fixtures/${name}`, import.meta.url));

function run(file: string, opts: Record<string, boolean | string>): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = runExec(file, [], { personality: 'freebsd', ...opts }, (s) => { out += s; }, (s) => { err += s; });
  return { code, out, err };
}

describe('exec -p freebsd', () => {
  it('prints procstat -v of the new image, and procstat -x with --auxv', () => {
    const v = run(NODE, {});
    expect(v.code).toBe(0);
    expect(v.out.split('\n')[0]).toBe('  PID              START                END PRT  RES PRES REF SHD FLAG  TP PATH');
    expect(v.out).toContain('    2          0x1021000          0x11f4000 r-x    0    0   2   0 CN--- vn ');
    expect(v.out).toContain('    2     0x7ffffffff000     0x800000000000 r-x    1    1   2   0 ----- ph \n');
    const x = run(NODE, { auxv: true });
    expect(x.out).toContain(' AT_PS_STRINGS    0x7fffffffefe0\n');
  });

  it('the same image without an execute bit is EACCES, not run', () => {
    chmodSync(NODE, 0o644);
    try {
      const r = run(NODE, {});
      expect(r.code).toBe(126); // as a shell gives "Permission denied"
      expect(r.err).toContain('execve failed: EACCES (13)');
      expect(r.out).toBe('');
    } finally {
      chmodSync(NODE, 0o755);
    }
  });

  it('a Linux ELF is ENOEXEC: exit status 126', () => {
    const r = run(STATIC, {});
    expect(r.code).toBe(126);
    expect(r.err).toContain('ENOEXEC');
  });

  it('--view procstat-c prints the command line; --view procstat-x is --auxv', () => {
    const c = run(NODE, { view: 'procstat-c', argv0: 'rollup' });
    expect(c.code).toBe(0);
    // procstat_args.c: "%5s %-16s %-53s" header; "%5d %-16s" then " arg" each; ki_comm holds MAXCOMLEN (19) bytes.
    expect(c.out).toBe(`  PID COMM             ${'ARGS'.padEnd(53)}\n    2 rollup.freebsd-x64. rollup\n`);
    expect(run(NODE, { view: 'procstat-x' }).out).toBe(run(NODE, { auxv: true }).out);
    const bad = run(NODE, { view: 'procstat-q' });
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("has no view 'procstat-q' (its views: procstat-v, procstat-x, procstat-c)");
  });

  it('--profile arm64-a72 runs an AArch64 FreeBSD program on the arm64 sysvec: the shared page at 2^48', () => {
    const v = run(FB('exit-static-aarch64'), { profile: 'arm64-a72' });
    expect(v.code).toBe(0);
    expect(v.out).toContain('    2     0xfffffffff000    0x1000000000000 r-x    1    1   2   0 ----- ph \n');
    const x = run(FB('exit-static-aarch64'), { profile: 'arm64-a72', auxv: true });
    expect(x.out).toMatch(/ AT_HWCAP +0x[0-9a-f]+\n/);
    // The same file on the default (amd64) profile, and an amd64 one on arm64: ENOEXEC.
    expect(run(FB('exit-static-aarch64'), {}).code).toBe(126);
    expect(run(FB('exit-static-x86_64'), { profile: 'arm64-a72' }).code).toBe(126);
    expect(run(FB('exit-static-x86_64'), {}).code).toBe(0);
  });

  it('--profile and --view are usage errors where they do not apply', () => {
    expect(run(NODE, { profile: 'vax' })).toMatchObject({ code: 2, err: expect.stringContaining("unknown machine profile 'vax'") as unknown });
    expect(runExec(STATIC, [], { personality: 'linux', view: 'procstat-v' }, () => undefined, () => undefined)).toBe(2);
  });
});
