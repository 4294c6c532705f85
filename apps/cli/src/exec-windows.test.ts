/** `polykernel exec -p windows`: CreateProcess of the PE fixtures from tools/fixtures/windows/sysroot. */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runExec } from './exec.js';

const SYSROOT = fileURLToPath(new URL('../../../tools/fixtures/windows/sysroot', import.meta.url));

function exec(file: string, opts: Record<string, boolean | string | string[] | undefined> = {}): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = runExec(file, [], { personality: 'windows', sysroot: SYSROOT, ...opts }, (s) => (out += s), (s) => (err += s + '\n'));
  return { code, out, err };
}

describe('polykernel exec -p windows', () => {
  it('shows the new process in !address layout and its modules', () => {
    const r = exec('/prog/hello-x86_64.exe');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('+        1`40000000        1`40001000        0`00001000 MEM_IMAGE   MEM_COMMIT  PAGE_READONLY                      Image [hello-x86_64; "/prog/hello-x86_64.exe"]');
    expect(r.out).toMatch(/^hello-x86_64\.exe +base 0x140000000 size 0x11000, 51 IAT slots, 2 TLS callbacks$/m);
    expect(r.out).toMatch(/^greet\.dll +base 0x1c9890000/m);
  });

  it('--suspended: before the loader, only the exe; --json gives the regions', () => {
    const r = exec('/prog/delayed-lld-x86_64.exe', { suspended: true, json: true });
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as { modules: { name: string }[]; regions: { Type: string; Protect: string }[] };
    expect(j.modules.map((m) => m.name)).toEqual(['delayed-lld-x86_64.exe']);
    expect(j.regions.filter((x) => x.Type === 'MEM_IMAGE').map((x) => x.Protect)).toEqual(['PAGE_READONLY', 'PAGE_EXECUTE_READ', 'PAGE_READONLY', 'PAGE_WRITECOPY', 'PAGE_READONLY']);
  });

  it('a missing file is 127, a DLL is 126 (ERROR_BAD_EXE_FORMAT)', () => {
    expect(exec('/prog/none.exe').code).toBe(127);
    const dll = exec('/Windows/System32/greet.dll');
    expect(dll.code).toBe(126);
    expect(dll.err).toContain('ERROR_BAD_EXE_FORMAT (193)');
  });
});

describe('polykernel explain fault -p windows', () => {
  it('tells a demand-zero fault and a guard-page fault; a fork has no story', async () => {
    const { runExplain } = await import('./explain.js');
    const run = (what: string, opts: Record<string, string | boolean>): { code: number; out: string; err: string } => {
      let out = '';
      let err = '';
      const code = runExplain(what, { personality: 'windows', ...opts }, (s) => (out += s + '\n'), (s) => (err += s + '\n'));
      return { code, out, err };
    };
    const dz = run('fault', {});
    expect(dz.code).toBe(0);
    expect(dz.out).toContain('MiResolveDemandZeroFault');
    expect(dz.out).toMatch(/Fault resolutions: zeroFill;/);
    const g = JSON.parse(run('fault', { scenario: 'guard-page', json: true }).out) as { exception: string; protectAfter: string };
    expect(g.exception).toBe('STATUS_GUARD_PAGE_VIOLATION → retry');
    expect(g.protectAfter).toContain('Protect PAGE_READWRITE,');
    const av = JSON.parse(run('fault', { scenario: 'access-violation', json: true }).out) as { exitCode: number };
    expect(av.exitCode).toBe(0xc0000005);
    expect(run('fork', {}).code).toBe(2);
  });
});
