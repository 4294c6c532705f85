/**
 * `polykernel run` with windows' native steps (VirtualAlloc, VirtualFree, VirtualProtect,
 * VirtualQuery, their Ex forms, CreateProcessW): the example workload's results as Windows gives
 * them, --json with each step's value, GetLastError name and record, and the steps refused on
 * another personality.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runWorkload } from './run.js';

const EXAMPLE = fileURLToPath(new URL('../../../examples/windows-virtualalloc.yaml', import.meta.url));

async function run(file: string, opts: Record<string, boolean | string | undefined> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runWorkload(file, opts, (s) => (out += s + '\n'), (s) => (err += s + '\n'));
  return { code, out, err };
}

function tmpWorkload(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pk-win-'));
  const f = join(dir, 'w.yaml');
  writeFileSync(f, text);
  return f;
}

describe('polykernel run: Windows API steps', () => {
  it('runs the example with the results Windows gives', async () => {
    const r = await run(EXAMPLE);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/VirtualAlloc size=0x100000 type=MEM_RESERVE protect=PAGE_NOACCESS save=heap\s+-> 0x10000/);
    expect(r.out).toMatch(/VirtualProtect .*\s+-> TRUE \(old PAGE_READWRITE\)/);
    expect(r.out).toMatch(/VirtualQuery .*\s+-> 48 BaseAddress=0x11000 AllocationBase=0x10000 RegionSize=0x1000 State=MEM_COMMIT Protect=PAGE_READONLY \| PAGE_GUARD Type=MEM_PRIVATE/);
    expect(r.out).toMatch(/VirtualQuery .*\s+-> 48 BaseAddress=0x20000 AllocationBase=0x10000 RegionSize=0xf0000 State=MEM_RESERVE Protect=0 Type=MEM_PRIVATE/);
    expect(r.out).toMatch(/VirtualAlloc .*type=MEM_COMMIT .*\s+-> NULL \(ERROR_INVALID_ADDRESS\)/);
    expect(r.out).toMatch(/VirtualFree .*size=0x10000 type=MEM_RELEASE\s+-> FALSE \(ERROR_INVALID_PARAMETER\)/);
    expect(r.out).toMatch(/VirtualFree .*type=MEM_DECOMMIT\s+-> TRUE/);
    expect(r.out).toMatch(/VirtualQuery addr=heap\+0x0\s+-> 48 BaseAddress=0x10000 AllocationBase=0x0 .*State=MEM_FREE/);
  });

  it('--json gives each step\'s value, GetLastError name and record', async () => {
    const r = await run(EXAMPLE, { json: true });
    expect(r.code).toBe(0);
    const steps = (JSON.parse(r.out) as { steps: { step: string; value?: number; lastError?: string | null; record?: Record<string, unknown> | null }[] }).steps;
    expect(steps[0]).toMatchObject({ value: 0x10000, lastError: null });
    expect(steps[3]!.record).toMatchObject({ lpflOldProtect: 4 });
    expect(steps[4]!.record).toMatchObject({ BaseAddress: 0x11000, Protect: 0x102, State: 0x1000 });
    expect(steps[6]).toMatchObject({ value: 0, lastError: 'ERROR_INVALID_ADDRESS' });
  });

  it('Ex forms name their process; an unknown constant or process is a workload error at its line', async () => {
    const f = tmpWorkload([
      'name: ex', 'personality: windows', 'processes:', '  - name: a', '    steps:',
      '      - VirtualAllocEx: { process: b, size: 64K, type: [MEM_RESERVE, MEM_COMMIT], protect: PAGE_READWRITE }',
      '      - VirtualAllocEx: { process: NULL, size: 64K, type: MEM_COMMIT | MEM_RESERVE, protect: PAGE_READWRITE }',
      '      - VirtualAlloc: { size: 4K, type: MEM_COMIT, protect: PAGE_READWRITE }',
      '      - VirtualQueryEx: { process: nobody, addr: 0x10000 }',
      '  - name: b', '    steps:', '      - touch: { region: none, length: 1 }',
    ].join('\n'));
    const r = await run(f);
    expect(r.out).toMatch(/VirtualAllocEx process=b .*\s+-> 0x10000/);
    expect(r.out).toMatch(/VirtualAllocEx process=null .*\s+-> NULL \(ERROR_INVALID_HANDLE\)/);
    expect(r.out).toMatch(/w\.yaml:8:\d+: processes\[0\]\.steps\[2\]: type: unknown constant "MEM_COMIT"/);
    expect(r.out).toMatch(/process "nobody" is not known/);
  });

  it('a Windows step on Linux is refused before the run, naming its line', async () => {
    const f = tmpWorkload(['name: x', 'processes:', '  - name: a', '    steps:', '      - VirtualAlloc: { size: 4K, type: MEM_COMMIT, protect: PAGE_READWRITE }'].join('\n'));
    const r = await run(f, { personality: 'linux' });
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/w\.yaml:5:\d+: .*VirtualAlloc is a native step of windows/);
  });
});
