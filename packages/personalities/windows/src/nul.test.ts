/**
 * The NUL device (\\Device\\Null) and the portable /dev/null and /dev/zero on Windows: dd's
 * of=/dev/null is NUL, not a file made in the machine's copy; /dev/zero is not found, as
 * C:\\dev\\zero is not on a Windows volume.
 */
import { PROT_READ } from '@polykernel/core';
import { memoryFileSystem, S_IFDIR } from '@polykernel/kernel';
import { describe, expect, it } from 'vitest';
import { MEM_COMMIT, MEM_RESERVE, PAGE_READONLY, PAGE_READWRITE } from './constants.js';
import { CREATE_ALWAYS, FILE_TYPE_CHAR, FILE_TYPE_DISK, FILE_TYPE_UNKNOWN, GENERIC_READ, GENERIC_WRITE, OPEN_EXISTING } from './files.js';
import { windowsPortable } from './portable.js';
import { bootWindows, type Win } from './testkit.js';

const d = windowsPortable();
const TEXT = new TextEncoder().encode('not the null device\n');

/** A sysroot that is a host's root: its /dev folder holds the host's character devices. */
function boot(): Win {
  const chr = (path: string) => ({ path, bytes: new Uint8Array(0), dev: [0, 5] as [number, number], ino: 3, mode: 0o020666 });
  return bootWindows({
    fs: memoryFileSystem({
      '/data/notes.txt': TEXT,
      '/dev': { path: '/dev', bytes: new Uint8Array(0), dev: [0, 5], ino: 1, mode: S_IFDIR + 0o755 },
      '/dev/null': chr('/dev/null'),
      '/dev/zero': chr('/dev/zero'),
    }),
  });
}

const open = (w: Win, name: string, access: number, disposition = OPEN_EXISTING): number => w.call('CreateFileW', name, access, 3, 0, disposition, 0x80, 0);
const buffer = (w: Win, size: number): number => w.call('VirtualAlloc', 0, size, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);

describe('CreateFileW of NUL: \\\\Device\\\\Null', () => {
  it('opens by NUL and \\\\.\\NUL with any disposition; writes are discarded, reads end at once, GetFileType is FILE_TYPE_CHAR', () => {
    const w = boot();
    const buf = buffer(w, 0x10000);
    for (const name of ['NUL', 'nul', '\\\\.\\NUL']) {
      const h = open(w, name, GENERIC_READ + GENERIC_WRITE, CREATE_ALWAYS);
      expect(h).toBeGreaterThan(0);
      expect(w.call('WriteFile', h, buf, 0x10000)).toBe(1);
      expect(w.record().lpNumberOfBytesWritten).toBe(0x10000);
      expect(w.call('ReadFile', h, buf, 0x1000)).toBe(1);
      expect(w.record().lpNumberOfBytesRead).toBe(0);
      expect(w.call('GetFileSizeEx', h)).toBe(1);
      expect(w.record().lpFileSize).toBe(0);
      expect(w.call('GetFileType', h)).toBe(FILE_TYPE_CHAR);
      expect(w.call('CloseHandle', h)).toBe(1);
    }
    // Nothing was made in the machine's copy.
    expect([...w.k.state.fileNodes.keys()]).toEqual([]);
    const f = open(w, 'C:\\data\\notes.txt', GENERIC_READ);
    expect(w.call('GetFileType', f)).toBe(FILE_TYPE_DISK);
    expect(w.call('GetFileType', 0x7ffc)).toBe(FILE_TYPE_UNKNOWN);
    expect(w.lastError()).toBe('ERROR_INVALID_HANDLE');
  });

  it('a write to NUL reads nothing of the buffer: no page of an untouched buffer is faulted in', () => {
    const w = boot();
    const buf = buffer(w, 0x100000);
    const h = open(w, 'NUL', GENERIC_WRITE);
    const faults = w.k.metrics.snapshot().traps.pageFault;
    expect(w.call('WriteFile', h, buf, 0x100000)).toBe(1);
    expect(w.k.metrics.snapshot().traps.pageFault).toBe(faults);
  });

  it('CreateFileMappingW on NUL fails: MmCreateSection has no section for a device (STATUS_INVALID_FILE_FOR_SECTION → ERROR_BAD_EXE_FORMAT)', () => {
    const w = boot();
    const h = open(w, 'NUL', GENERIC_READ);
    expect(w.call('CreateFileMappingW', h, PAGE_READONLY, 0, 0, 0)).toBe(0);
    expect(w.lastError()).toBe('ERROR_BAD_EXE_FORMAT');
  });

  it('the host\'s /dev is no folder of the volume: C:\\dev\\zero and C:\\dev\\null are ERROR_PATH_NOT_FOUND, even to create', () => {
    const w = boot();
    expect(open(w, '/dev/zero', GENERIC_READ)).toBe(-1);
    expect(w.lastError()).toBe('ERROR_PATH_NOT_FOUND');
    expect(open(w, 'C:\\dev\\null', GENERIC_WRITE, CREATE_ALWAYS)).toBe(-1);
    expect(w.lastError()).toBe('ERROR_PATH_NOT_FOUND');
    expect(open(w, 'C:\\dev', GENERIC_READ)).toBe(-1);
    expect(w.lastError()).toBe('ERROR_FILE_NOT_FOUND');
    expect([...w.k.state.fileNodes.keys()]).toEqual([]);
  });
});

describe('the portable driver: /dev/null is NUL, /dev/zero is not found', () => {
  it('dd if=/dev/zero of=/dev/null: the input fails ERROR_PATH_NOT_FOUND; the output is NUL, whose write takes all 10 MiB and keeps none', () => {
    const w = boot();
    expect(d.open(w.k, w.t, { path: '/dev/zero', write: false })).toEqual({ kind: 'failed', call: 'CreateFileW', error: 'ERROR_PATH_NOT_FOUND', space: 'win32' });
    const out = d.open(w.k, w.t, { path: '/dev/null', write: true, create: true, truncate: true });
    expect(out.kind).toBe('ok');
    if (out.kind !== 'ok') return;
    const obj = w.p.space.handles.get(out.value);
    expect(obj?.kind === 'file' ? obj.file.device : undefined).toBe('null');
    const buf = buffer(w, 10 * 1024 * 1024);
    expect(d.write(w.k, w.t, out.value, buf, 10 * 1024 * 1024)).toEqual({ kind: 'ok', value: 10 * 1024 * 1024 });
    expect(d.read(w.k, w.t, out.value, buf, 4096)).toEqual({ kind: 'ok', value: 0 });
    expect([...w.k.state.fileNodes.keys()]).toEqual([]);
    expect(d.mapFile(w.k, w.t, { path: '/dev/null', prot: PROT_READ, shared: true, length: 4096 })).toMatchObject({ kind: 'failed', call: 'CreateFileMappingW', error: 'ERROR_BAD_EXE_FORMAT' });
  });
});
