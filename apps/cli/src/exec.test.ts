import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync, copyFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveIn } from '@polykernel/kernel/node';
import { describe, expect, it } from 'vitest';
import { missingTools, requires, runHarness } from '../../../tools/test-support/oracle.js';
import { runExec } from './exec.js';

const STATIC = fileURLToPath(new URL('../../../packages/formats/elf/test/fixtures/static-x86_64.elf', import.meta.url));

function exec(file: string, args: string[] = [], opts: Record<string, boolean | string | string[] | undefined> = {}): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = runExec(file, args, opts, (s) => (out += s), (s) => (err += s + '\n'));
  return { code, out, err };
}

/** Null when this host can show its own auxv under setarch -R, else what is missing. */
function hostProblem(): string | null {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `the host is ${process.platform}/${process.arch}, not x86-64 Linux`;
  return missingTools([['env', 'coreutils'], ['setarch', 'util-linux']]);
}

/** The host's LD_SHOW_AUXV output for a program under setarch -R. */
function hostAuxv(program: string, env: string[]): string {
  const out = execFileSync('env', ['-i', ...env, 'setarch', 'x86_64', '-R', program], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  // setarch is a dynamic program too, so its own auxv comes first: keep the last listing.
  return out.slice(out.lastIndexOf('AT_SYSINFO_EHDR:'));
}

describe('polykernel exec', () => {
  const env = ['PATH=/usr/bin:/bin', 'LD_SHOW_AUXV=1'];
  const host = requires('the host auxv oracle (setarch -R, LD_SHOW_AUXV=1)', hostProblem())
    ? runHarness('env -i LD_SHOW_AUXV=1 setarch x86_64 -R /bin/true', () => hostAuxv('/bin/true', env))
    : null;
  if (host !== null) {
    it('--auxv prints what glibc prints for LD_SHOW_AUXV=1 on the host (same addresses, no ASLR)', () => {
      const r = exec('/bin/true', [], { auxv: true, env });
      expect(r.code).toBe(0);
      // The CPU-dependent values are the machine description (defaults: this development host's CPU).
      const cpuFree = (s: string): string[] => s.trimEnd().split('\n').filter((l) => !/^AT_(HWCAP|HWCAP2|MINSIGSTKSZ):/.test(l));
      expect(cpuFree(r.out)).toEqual(cpuFree(host));
    });
  }

  it('maps a static program from a sysroot, following symbolic links inside it', () => {
    const root = mkdtempSync(join(tmpdir(), 'pk-sysroot-'));
    mkdirSync(join(root, 'usr/bin'), { recursive: true });
    copyFileSync(STATIC, join(root, 'usr/bin/hello'));
    chmodSync(join(root, 'usr/bin/hello'), 0o755);
    symlinkSync('usr/bin', join(root, 'bin'));
    symlinkSync('/usr/bin/hello', join(root, 'usr/bin/hi'));
    expect(resolveIn(root, '/bin/hi')).toEqual({ path: '/usr/bin/hello' });
    expect(resolveIn(root, '/bin/hi/x')).toEqual({ errno: 'ENOTDIR' });
    const r = exec('/bin/hi', ['x'], { sysroot: root });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^00400000-00401000 r--p 00000000 [0-9a-f]{2}:[0-9a-f]{2} \d+ +\/usr\/bin\/hello$/m);
    expect(r.out).toContain('[stack]');
    symlinkSync('loop2', join(root, 'loop1'));
    symlinkSync('loop1', join(root, 'loop2'));
    expect(exec('/loop1', [], { sysroot: root }).err).toContain('ELOOP');
  });

  it('--json, --stack and --status views; errors give the exit status a shell would', () => {
    const j = JSON.parse(exec(STATIC, ['a', 'b'], { json: true }).out) as { argv: string[]; maps: string[]; auxv: { name: string }[]; status: Record<string, string> };
    expect(j.argv).toEqual([STATIC, 'a', 'b']);
    expect(j.maps.at(-1)).toContain('[vsyscall]');
    expect(j.auxv.at(-1)!.name).toBe('AT_NULL');
    expect(j.status.Name).toBe('static-x86_64.e');
    const s = exec(STATIC, ['hello'], { stack: true, status: true }).out;
    expect(s).toContain('argc = 2');
    expect(s).toContain('argv[1] -> "hello"');
    expect(s).toMatch(/VmStk:\t +132 kB/);
    expect(exec('/no/such/file').code).toBe(127);
    const dir = mkdtempSync(join(tmpdir(), 'pk-x-'));
    writeFileSync(join(dir, 'junk'), 'not a program');
    chmodSync(join(dir, 'junk'), 0o755);
    const junk = exec(join(dir, 'junk'));
    expect(junk.code).toBe(126);
    expect(junk.err).toContain('ENOEXEC (-8)');
    const unknown = exec('/bin/true', [], { personality: 'plan9' });
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('personality "plan9" is not registered (registered: linux (linux-6.x, linux-5.15), freebsd (freebsd-14, freebsd-14-nosuperpages)');
  });
});
