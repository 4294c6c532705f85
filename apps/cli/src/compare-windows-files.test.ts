/**
 * Issue 16 on Windows: the portable file steps run natively there (CreateFileW, ReadFile,
 * WriteFile, CloseHandle, CreateFileMappingW + MapViewOfFile) — no n/a in the Windows column.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCompare } from './compare.js';
import { differenceReason } from './import.js';

const MAPFILE = fileURLToPath(new URL('../../../examples/portable/mapfile.yaml', import.meta.url));

interface Json { columns: { variant: string; na: string | null; metrics: { syscalls: number } | null; steps: { step: string; result: string }[]; unsupported: unknown[] }[] }

/** A workload file in a fresh temporary folder: `name` and one process `p` with these step lines. */
function workloadFile(name: string, steps: readonly string[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'pk-winfiles-')), `${name}.yaml`);
  writeFileSync(file, [`name: ${name}`, 'processes:', '  - name: p', '    steps:', ...steps.map((l) => `      - ${l}`), ''].join('\n'));
  return file;
}

async function columns(file: string): Promise<Json['columns']> {
  let out = '';
  expect(await runCompare(file, { personality: 'linux-6.x,windows', json: true }, (s) => (out += s))).toBe(0);
  return (JSON.parse(out) as Json).columns;
}

describe('compare -p linux-6.x,windows: file steps on Windows', () => {
  it('mapfile.yaml: mapFile is CreateFileW + CreateFileMappingW + MapViewOfFile + CloseHandle ×2, nothing n/a', async () => {
    const win = (await columns(MAPFILE)).find((c) => c.variant === 'windows-11')!;
    expect(win.na).toBeNull();
    expect(win.unsupported).toEqual([]);
    expect(win.steps.find((s) => s.step.startsWith('mapFile'))!.result).toMatch(/^0x[0-9a-f]+0000$/);
    // VirtualAlloc, VirtualProtect, the five calls of mapFile, VirtualFree.
    expect(win.metrics!.syscalls).toBe(8);
  });

  it('open/read/write/close: ReadFile into the process\'s memory, a write on a read-only handle ERROR_ACCESS_DENIED, creating a file in the machine\'s copy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pk-winfiles-'));
    const file = workloadFile('files', [
      'alloc: { name: buf, size: 64K, prot: rw- }',
      `open: { path: ${MAPFILE}, as: in }`,
      'read: { fd: in, region: buf, length: 64K }',
      'write: { fd: in, region: buf, length: 16 }',
      'close: { fd: in }',
      `open: { path: ${join(dir, 'new.txt')}, as: out, flags: [write, create, trunc] }`,
    ]);
    const win = (await columns(file)).find((c) => c.variant === 'windows-11')!;
    expect(win.unsupported).toEqual([]);
    const results = win.steps.map((s) => s.result);
    expect(results[2]).toMatch(/^\d+ bytes$/);
    // What the UCRT's _write makes of it (write.cpp _write_nolock): errno EBADF, not EACCES.
    expect(results[3]).toBe('ERROR_ACCESS_DENIED (WriteFile): _write sets errno EBADF');
    // CREATE_ALWAYS makes the file in the machine's own copy (the sysroot is never written).
    expect(results[5]).toMatch(/^fd \d+$/);
  });

  it('dd\'s own steps: of=/dev/null is the NUL device (the write takes 10 MiB, a read of the write-only handle is refused, no section on it); /dev/zero is not on Windows', async () => {
    const file = workloadFile('dd', [
      'alloc: { name: buf, size: 10493952, prot: rw- }',
      'open: { path: /dev/zero, as: in }',
      'open: { path: /dev/null, as: out, flags: [write, create, trunc] }',
      'write: { fd: out, region: buf, length: 10M }',
      'read: { fd: out, region: buf, length: 4K }',
      'mapFile: { path: /dev/null, name: m, length: 4K, prot: r--, shared: true }',
      'close: { fd: out }',
    ]);
    const [linux, win] = await columns(file);
    expect(win!.steps.map((s) => s.result)).toEqual([
      expect.stringMatching(/^0x[0-9a-f]+$/) as unknown,
      'ERROR_PATH_NOT_FOUND (CreateFileW)',
      expect.stringMatching(/^fd \d+$/) as unknown,
      '10485760 bytes',
      // [write, create, trunc] is _O_WRONLY: GENERIC_WRITE alone, so ReadFile is refused (EBADF from _read).
      'ERROR_ACCESS_DENIED (ReadFile): _read sets errno EBADF',
      'ERROR_BAD_EXE_FORMAT (CreateFileMappingW)',
      '0x0',
    ]);
    // Linux: /dev/zero opens; /dev/null has no mmap (ENODEV).
    expect(linux!.steps[1]!.result).toMatch(/^fd \d+$/);
    expect(linux!.steps[5]!.result).toBe('ENODEV (mmap)');
  });
});

describe('import --check: why a Windows file call differs from the host\'s', () => {
  it('names the cause for each Win32 error the file intents give', () => {
    expect(differenceReason('openat', 'ERROR_WRITE_PROTECT (CreateFileW)')).toMatch(/read-only volume/);
    expect(differenceReason('openat', 'ERROR_FILE_NOT_FOUND (CreateFileW)')).toMatch(/not in the sysroot/);
    expect(differenceReason('openat', 'ERROR_ACCESS_DENIED (CreateFileW)')).toMatch(/FILE_FLAG_BACKUP_SEMANTICS/);
    expect(differenceReason('read', 'ERROR_INVALID_HANDLE (ReadFile)')).toMatch(/CreateFileW failed/);
    expect(differenceReason('mmap', 'ERROR_ACCESS_DENIED (MapViewOfFile)')).toMatch(/beyond the section/);
    expect(differenceReason('read', 'ERROR_NOACCESS (ReadFile)')).toBe('');
  });
});
