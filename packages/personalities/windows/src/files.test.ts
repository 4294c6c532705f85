/**
 * File objects (CreateFileW over the sysroot, ReadFile, GetFileSizeEx) and file-backed sections:
 * CreateFileMappingW on a file handle (data files: the file's bytes in every view, COW views
 * private, access rules of CreateFileMapping's flProtect table) and SEC_IMAGE mapping.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { memoryFileSystem } from '@polykernel/kernel';
import { parsePe } from '@polykernel/pe';
import { describe, expect, it } from 'vitest';
import {
  MEM_COMMIT, MEM_IMAGE, MEM_MAPPED, MEM_RESERVE, PAGE_EXECUTE_READ, PAGE_READONLY, PAGE_READWRITE, PAGE_WRITECOPY,
} from './constants.js';
import { CREATE_ALWAYS, CREATE_NEW, GENERIC_EXECUTE, GENERIC_READ, GENERIC_WRITE, OPEN_ALWAYS, OPEN_EXISTING, TRUNCATE_EXISTING } from './files.js';
import { FILE_MAP_COPY, FILE_MAP_READ, FILE_MAP_WRITE, SEC_IMAGE, STATUS_IMAGE_NOT_AT_BASE } from './sections.js';
import { bootWindows, harness, type Win } from './testkit.js';

const GREET = new Uint8Array(readFileSync(fileURLToPath(new URL('../../../formats/pe/test/fixtures/greet-x86_64.dll', import.meta.url))));
const TEXT = new TextEncoder().encode('hello from a data file\n'.repeat(300)); // 6,900 bytes: two pages

function boot(): Win {
  return bootWindows({ fs: memoryFileSystem({ '/data/notes.txt': TEXT, '/data/empty.bin': new Uint8Array(0), '/Windows/System32/greet.dll': GREET }) });
}

const open = (w: Win, path: string, access = GENERIC_READ, disposition = OPEN_EXISTING): number => w.call('CreateFileW', path, access, 1, 0, disposition, 0, 0);

describe('CreateFileW (Wine file.c test_CreateFileW)', () => {
  it('a file too large to simulate (only its head was read) fails with ERROR_FILE_TOO_LARGE, as an image for CreateProcessW', () => {
    const big = (path: string, bytes: Uint8Array) => ({ path, bytes, dev: [0, 1] as [number, number], ino: 9, mode: 0o100755, partial: { size: 100 * 1024 ** 3 } });
    const w = bootWindows({ fs: memoryFileSystem({ '/data/big.bin': big('/data/big.bin', new Uint8Array(4096)), '/big.exe': big('/big.exe', GREET.slice(0, 4096)) }) });
    expect(open(w, '/data/big.bin')).toBe(-1);
    expect(w.lastError()).toBe('ERROR_FILE_TOO_LARGE');
    expect(w.call('CreateProcessW', '/big.exe', 0)).toBe(0);
    expect(w.lastError()).toBe('ERROR_FILE_TOO_LARGE');
  });


  it('opens sysroot files; missing files and folders fail with ERROR_FILE_NOT_FOUND / ERROR_PATH_NOT_FOUND and INVALID_HANDLE_VALUE', () => {
    const w = boot();
    const h = open(w, 'C:\\data\\notes.txt');
    expect(h).toBeGreaterThan(0);
    expect(h % 4).toBe(0);
    expect(w.call('GetFileSizeEx', h)).toBe(1);
    expect(w.record().lpFileSize).toBe(TEXT.length);
    expect(open(w, '/data/missing.txt')).toBe(-1);
    expect(w.lastError()).toBe('ERROR_FILE_NOT_FOUND');
    expect(open(w, '/nowhere/missing.txt')).toBe(-1);
    expect(w.lastError()).toBe('ERROR_PATH_NOT_FOUND');
    expect(open(w, '/data')).toBe(-1);
    expect(w.lastError()).toBe('ERROR_ACCESS_DENIED');
    expect(open(w, '/data/notes.txt', GENERIC_READ, CREATE_NEW)).toBe(-1);
    expect(w.lastError()).toBe('ERROR_FILE_EXISTS');
    expect(open(w, '/data/notes.txt', GENERIC_READ, OPEN_ALWAYS)).toBeGreaterThan(0);
    expect(w.lastError()).toBe('ERROR_ALREADY_EXISTS');
    expect(w.call('CloseHandle', h)).toBe(1);
  });

  it('creates a file on the machine alone (CREATE_NEW, OPEN_ALWAYS, CREATE_ALWAYS); CREATE_ALWAYS and TRUNCATE_EXISTING empty an existing one', () => {
    const w = boot();
    const buf = w.call('VirtualAlloc', 0, 0x1000, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    w.k.copyToUser(w.t, buf, TEXT.subarray(0, 5));
    const h = open(w, '/data/new.txt', GENERIC_READ + GENERIC_WRITE, CREATE_NEW);
    expect(h).toBeGreaterThan(0);
    expect(w.lastError()).toBe('ERROR_SUCCESS');
    expect(w.call('WriteFile', h, buf, 5)).toBe(1);
    // Another handle on the name sees the new file; OPEN_ALWAYS finds it (ERROR_ALREADY_EXISTS), CREATE_NEW collides.
    const again = open(w, '/data/new.txt', GENERIC_READ, OPEN_ALWAYS);
    expect(w.lastError()).toBe('ERROR_ALREADY_EXISTS');
    expect(w.call('GetFileSizeEx', again)).toBe(1);
    expect(w.record().lpFileSize).toBe(5);
    expect(open(w, '/data/new.txt', GENERIC_READ, CREATE_NEW)).toBe(-1);
    expect(w.lastError()).toBe('ERROR_FILE_EXISTS');
    // OPEN_ALWAYS on a missing name creates it, and says nothing existed.
    expect(open(w, '/data/other.txt', GENERIC_WRITE, OPEN_ALWAYS)).toBeGreaterThan(0);
    expect(w.lastError()).toBe('ERROR_SUCCESS');
    // CREATE_ALWAYS over a sysroot file empties the machine's copy; the sysroot keeps its bytes.
    const over = open(w, '/data/notes.txt', GENERIC_WRITE, CREATE_ALWAYS);
    expect(w.lastError()).toBe('ERROR_ALREADY_EXISTS');
    expect(w.call('GetFileSizeEx', over)).toBe(1);
    expect(w.record().lpFileSize).toBe(0);
    expect(w.k.state.fs('/data/notes.txt')).toMatchObject({ bytes: TEXT });
    expect(open(w, '/data/new.txt', GENERIC_WRITE, TRUNCATE_EXISTING)).toBeGreaterThan(0);
    expect(w.call('GetFileSizeEx', again)).toBe(1);
    expect(w.record().lpFileSize).toBe(0);
    // No folder: still ERROR_PATH_NOT_FOUND; a missing name with OPEN_EXISTING still ERROR_FILE_NOT_FOUND.
    expect(open(w, '/nowhere/new.txt', GENERIC_WRITE, CREATE_ALWAYS)).toBe(-1);
    expect(w.lastError()).toBe('ERROR_PATH_NOT_FOUND');
    expect(open(w, '/data/absent.txt', GENERIC_WRITE, TRUNCATE_EXISTING)).toBe(-1);
    expect(w.lastError()).toBe('ERROR_FILE_NOT_FOUND');
  });

  it('ReadFile copies into the caller\'s memory and advances the file pointer; it needs read access', () => {
    const w = boot();
    const h = open(w, '/data/notes.txt');
    const buf = w.call('VirtualAlloc', 0, 0x1000, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    expect(w.call('ReadFile', h, buf, 5)).toBe(1);
    expect(w.record().lpNumberOfBytesRead).toBe(5);
    expect(w.call('ReadFile', h, buf + 5, 6)).toBe(1);
    expect(new TextDecoder().decode(w.k.copyFromUser(w.t, buf, 11))).toBe('hello from ');
    const wo = open(w, '/data/notes.txt', GENERIC_WRITE);
    expect(w.call('ReadFile', wo, buf, 5)).toBe(0);
    expect(w.lastError()).toBe('ERROR_ACCESS_DENIED');
  });
});

describe('WriteFile, NtSetInformationFile, SetEndOfFile (the machine\'s own copy of the file)', () => {
  it('writes at the file pointer into a copy every handle on the path sees; the sysroot\'s bytes stay as they were', () => {
    const w = boot();
    const h = open(w, '/data/notes.txt', GENERIC_READ + GENERIC_WRITE);
    const buf = w.call('VirtualAlloc', 0, 0x1000, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    w.k.copyToUser(w.t, buf, new TextEncoder().encode('HELLO'));
    expect(w.call('WriteFile', h, buf, 5)).toBe(1);
    expect(w.record().lpNumberOfBytesWritten).toBe(5);
    // Another handle (a new file object) reads the written bytes; the size is unchanged.
    const r = open(w, '/data/notes.txt');
    expect(w.call('ReadFile', r, buf + 0x100, 10)).toBe(1);
    expect(new TextDecoder().decode(w.k.copyFromUser(w.t, buf + 0x100, 10))).toBe('HELLO from');
    expect(w.call('GetFileSizeEx', r)).toBe(1);
    expect(w.record().lpFileSize).toBe(TEXT.length);
    // The lookup the machine was given is untouched (writes never leave the simulation).
    const f = w.k.state.fs('/data/notes.txt');
    expect(typeof f !== 'string' && new TextDecoder().decode(f.bytes.subarray(0, 5))).toBe('hello');
    // Past the end: the file grows, zero-filled up to the write.
    expect(w.call('NtSetInformationFile', h, 14, TEXT.length + 3)).toBe(0);
    expect(w.call('WriteFile', h, buf, 2)).toBe(1);
    expect(w.call('GetFileSizeEx', r)).toBe(1);
    expect(w.record().lpFileSize).toBe(TEXT.length + 5);
    // SetEndOfFile at the pointer cuts it.
    expect(w.call('NtSetInformationFile', h, 14, 4)).toBe(0);
    expect(w.call('SetEndOfFile', h)).toBe(1);
    expect(w.call('GetFileSizeEx', r)).toBe(1);
    expect(w.record().lpFileSize).toBe(4);
  });

  it('fails as Windows does: no write access, a bad handle, an unreadable buffer, a negative position, an unknown class', () => {
    const w = boot();
    const ro = open(w, '/data/notes.txt');
    const buf = w.call('VirtualAlloc', 0, 0x1000, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
    expect(w.call('WriteFile', ro, buf, 5)).toBe(0);
    expect(w.lastError()).toBe('ERROR_ACCESS_DENIED');
    expect(w.call('SetEndOfFile', ro)).toBe(0);
    expect(w.lastError()).toBe('ERROR_ACCESS_DENIED');
    expect(w.call('WriteFile', 0x7ff8, buf, 5)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_HANDLE');
    const rw = open(w, '/data/notes.txt', GENERIC_WRITE);
    expect(w.call('WriteFile', rw, buf + 0x1000, 5)).toBe(0);
    expect(w.lastError()).toBe('ERROR_NOACCESS');
    expect(w.call('NtWriteFile', rw, buf + 0x1000, 5)).toBe(0xc0000005);
    expect(w.call('NtSetInformationFile', rw, 14, -1)).toBe(0xc000000d);
    expect(w.call('NtSetInformationFile', rw, 4, 0)).toBe(0xc0000003);
    // Nothing was written by the failures.
    const f = w.k.state.fileNodes.get('/data/notes.txt');
    expect(f?.owned).toBe(false);
  });
});

describe('file-backed sections (Wine virtual.c test_CreateFileMapping, test_MapViewOfFile)', () => {
  it('a view shows the file\'s bytes, read in at first touch, not charged to the commit', () => {
    const w = boot();
    const h = open(w, '/data/notes.txt');
    const m = w.call('CreateFileMappingW', h, PAGE_READONLY, 0, '');
    expect(m).not.toBe(0);
    const v = w.call('MapViewOfFile', m, FILE_MAP_READ, 0, 0);
    w.call('VirtualQuery', v);
    expect(w.record()).toMatchObject({ Type: MEM_MAPPED, State: MEM_COMMIT, Protect: PAGE_READONLY, RegionSize: 0x2000 });
    expect(w.k.state.commitCharge).toBe(0);
    const before = w.k.metrics.faults.file;
    expect(new TextDecoder().decode(w.k.copyFromUser(w.t, v + 0x1000, 10))).toBe(new TextDecoder().decode(TEXT.subarray(0x1000, 0x100a)));
    expect(w.k.metrics.faults.file).toBe(before + 1);
  });

  it('two processes\' views of one section share its pages; a FILE_MAP_COPY view keeps its writes and is charged', () => {
    const a = boot();
    const b = harness(a.k, a.k.createProcess(a.k.init, 'b'));
    const h = open(a, '/data/notes.txt', GENERIC_READ + GENERIC_WRITE);
    const m = a.call('CreateFileMappingW', h, PAGE_READWRITE, 0, 'Local\\notes');
    const va = a.call('MapViewOfFile', m, FILE_MAP_WRITE, 0, 0);
    expect(a.k.copyToUser(a.t, va, new TextEncoder().encode('HELLO'))).toBe(5);
    const mb = b.call('OpenFileMappingW', FILE_MAP_WRITE, 0, 'Local\\notes');
    const vb = b.call('MapViewOfFile', mb, FILE_MAP_READ, 0, 0);
    expect(new TextDecoder().decode(b.k.copyFromUser(b.t, vb, 5))).toBe('HELLO');
    const vc = b.call('MapViewOfFile', mb, FILE_MAP_COPY, 0, 0);
    b.call('VirtualQuery', vc);
    expect(b.record().Protect).toBe(PAGE_WRITECOPY);
    expect(b.p.space.commitCharge).toBe(2);
    expect(b.k.copyToUser(b.t, vc, new TextEncoder().encode('xx'))).toBe(2);
    expect(new TextDecoder().decode(a.k.copyFromUser(a.t, va, 5))).toBe('HELLO');
  });

  it('VirtualProtect(PAGE_WRITECOPY) on a view page already copied makes it plain writable (MiSetProtectionOnSection)', () => {
    const w = boot();
    const m = w.call('CreateFileMappingW', open(w, '/data/notes.txt'), PAGE_WRITECOPY, 0, '');
    const v = w.call('MapViewOfFile', m, FILE_MAP_COPY, 0, 0);
    w.k.copyToUser(w.t, v, Uint8Array.of(1));
    expect(w.call('VirtualProtect', v, 0x2000, PAGE_WRITECOPY)).toBe(1);
    expect(w.call('VirtualQuery', v)).toBeGreaterThan(0);
    expect(w.record().Protect).toBe(PAGE_READWRITE);
    expect(w.k.copyToUser(w.t, v, Uint8Array.of(2))).toBe(1);
    expect(w.call('VirtualQuery', v + 0x1000)).toBeGreaterThan(0);
    expect(w.record().Protect).toBe(PAGE_WRITECOPY);
    expect(w.k.copyToUser(w.t, v + 0x1000, Uint8Array.of(3))).toBe(1);
  });

  it('checks the file handle\'s access, an empty file, a size past the end, and the handle\'s type', () => {
    const w = boot();
    const ro = open(w, '/data/notes.txt');
    expect(w.call('CreateFileMappingW', ro, PAGE_READWRITE, 0, '')).toBe(0);
    expect(w.lastError()).toBe('ERROR_ACCESS_DENIED');
    expect(w.call('CreateFileMappingW', ro, PAGE_EXECUTE_READ, 0, '')).toBe(0);
    expect(w.lastError()).toBe('ERROR_ACCESS_DENIED');
    expect(w.call('CreateFileMappingW', open(w, '/data/notes.txt', GENERIC_READ + GENERIC_EXECUTE), PAGE_EXECUTE_READ, 0, '')).not.toBe(0);
    expect(w.call('CreateFileMappingW', ro, PAGE_WRITECOPY, 0, '')).not.toBe(0);
    expect(w.call('CreateFileMappingW', ro, PAGE_READONLY, 0x10000, '')).toBe(0);
    expect(w.lastError()).toBe('ERROR_NOT_ENOUGH_MEMORY');
    expect(w.call('CreateFileMappingW', open(w, '/data/empty.bin'), PAGE_READONLY, 0, '')).toBe(0);
    expect(w.lastError()).toBe('ERROR_FILE_INVALID');
    // A writable section may be larger than the file (the file would grow): the tail reads as zeros.
    const rw = open(w, '/data/notes.txt', GENERIC_READ + GENERIC_WRITE);
    const big = w.call('CreateFileMappingW', rw, PAGE_READWRITE, 0x10000, '');
    const v = w.call('MapViewOfFile', big, FILE_MAP_READ, 0, 0);
    expect([...w.k.copyFromUser(w.t, v + 0x8000, 4)]).toEqual([0, 0, 0, 0]);
    const ev = w.call('CreateEventW', 0, 1, 0, '');
    expect(w.call('CreateFileMappingW', ev, PAGE_READONLY, 0, '')).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_HANDLE');
  });
});

describe('SEC_IMAGE', () => {
  it('maps a PE file as an image: its ImageBase, per-section protections; relocated when the base is taken', () => {
    const w = boot();
    const base = parsePe(GREET).optional!.imageBase;
    const h = open(w, '/Windows/System32/greet.dll');
    const m = w.call('CreateFileMappingW', h, PAGE_READONLY + SEC_IMAGE, 0, '');
    expect(m).not.toBe(0);
    expect(w.call('MapViewOfFile', m, FILE_MAP_READ, 0, 0)).toBe(base);
    w.call('VirtualQuery', base);
    expect(w.record()).toMatchObject({ Type: MEM_IMAGE, Protect: PAGE_READONLY, AllocationBase: base });
    // A second view: the base is taken, the image is relocated (STATUS_IMAGE_NOT_AT_BASE, a success).
    expect(w.call('NtMapViewOfSection', m, -1, 0, 0, PAGE_READONLY, 0)).toBe(STATUS_IMAGE_NOT_AT_BASE);
    const moved = w.record().BaseAddress as number;
    expect(moved).not.toBe(base);
    w.call('VirtualQuery', moved);
    expect(w.record().Type).toBe(MEM_IMAGE);
    expect(w.call('UnmapViewOfFile', moved)).toBe(1);
    // A file that is not an image.
    expect(w.call('CreateFileMappingW', open(w, '/data/notes.txt'), PAGE_READONLY + SEC_IMAGE, 0, '')).toBe(0);
    expect(w.lastError()).toBe('ERROR_BAD_EXE_FORMAT');
    expect(w.call('VirtualAlloc', 0, 0x1000, MEM_RESERVE, PAGE_READWRITE)).not.toBe(0);
  });
});
