/**
 * The Windows portable driver's file intents: open/read/write/close as the UCRT's _open/_read/
 * _write/_close make them (CreateFileW, ReadFile, WriteFile, CloseHandle) and mapFile as
 * CreateFileW + CreateFileMappingW + MapViewOfFile + CloseHandle ×2, each with the Win32 error the
 * real call sets.
 */
import { PROT_EXEC, PROT_READ, PROT_WRITE } from '@polykernel/core';
import { memoryFileSystem } from '@polykernel/kernel';
import { describe, expect, it } from 'vitest';
import {
  MEM_COMMIT, MEM_MAPPED, MEM_RESERVE, PAGE_EXECUTE_READ, PAGE_EXECUTE_WRITECOPY, PAGE_READONLY, PAGE_READWRITE, PAGE_WRITECOPY,
} from './constants.js';
import { CREATE_ALWAYS, GENERIC_EXECUTE, GENERIC_READ, GENERIC_WRITE, OPEN_ALWAYS, OPEN_EXISTING, TRUNCATE_EXISTING } from './files.js';
import { mappingProtection, openDisposition } from './portable-files.js';
import { windowsPortable } from './portable.js';
import { FILE_MAP_COPY, FILE_MAP_EXECUTE, FILE_MAP_READ, FILE_MAP_WRITE } from './sections.js';
import { bootWindows, type Win } from './testkit.js';

const TEXT = new TextEncoder().encode('0123456789abcdef'.repeat(512)); // 8,192 bytes: two pages
const d = windowsPortable();

function boot(): Win {
  return bootWindows({ fs: memoryFileSystem({ '/data/notes.txt': TEXT, '/data/empty.bin': new Uint8Array(0) }) });
}

/** A read-write buffer of `size` bytes in the test process. */
const buffer = (w: Win, size = 0x4000): number => w.call('VirtualAlloc', 0, size, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE);
const text = (w: Win, addr: number, n: number): string => new TextDecoder().decode(w.k.copyFromUser(w.t, addr, n));
const handles = (w: Win): number => w.p.space.handles.size;

describe('open: the UCRT _open flag mapping (lowio/open.cpp decode_access_flags, decode_open_create_flags)', () => {
  it('O_WRONLY → GENERIC_WRITE alone (no _O_APPEND with a Unicode text mode, so no GENERIC_READ for the BOM)', () => {
    expect(openDisposition({ path: 'x', write: true, read: false, create: true, truncate: true })).toEqual({ access: GENERIC_WRITE, disposition: CREATE_ALWAYS });
    expect(openDisposition({ path: 'x', write: true, read: false }).access).toBe(GENERIC_WRITE);
  });

  it('O_RDONLY → GENERIC_READ/OPEN_EXISTING; O_RDWR → GENERIC_READ|GENERIC_WRITE; O_CREAT → OPEN_ALWAYS; O_TRUNC → TRUNCATE_EXISTING; both → CREATE_ALWAYS', () => {
    expect(openDisposition({ path: 'x', write: false })).toEqual({ access: GENERIC_READ, disposition: OPEN_EXISTING });
    expect(openDisposition({ path: 'x', write: true })).toEqual({ access: GENERIC_READ + GENERIC_WRITE, disposition: OPEN_EXISTING });
    expect(openDisposition({ path: 'x', write: true, create: true }).disposition).toBe(OPEN_ALWAYS);
    expect(openDisposition({ path: 'x', write: true, truncate: true }).disposition).toBe(TRUNCATE_EXISTING);
    expect(openDisposition({ path: 'x', write: true, create: true, truncate: true }).disposition).toBe(CREATE_ALWAYS);
  });

  it('opens an existing file read-only: a HANDLE (a multiple of 4) through one CreateFileW trap', () => {
    const w = boot();
    const before = w.k.metrics.snapshot().syscalls;
    const r = d.open(w.k, w.t, { path: '/data/notes.txt', write: false });
    expect(r.kind).toBe('ok');
    if (r.kind !== 'ok') return;
    expect(r.value % 4).toBe(0);
    expect(w.p.space.handles.get(r.value)?.kind).toBe('file');
    expect(w.k.metrics.snapshot().syscalls).toBe(before + 1);
    expect(d.close(w.k, w.t, r.value)).toEqual({ kind: 'ok', value: 1 });
  });

  it('fails as CreateFileW does: ERROR_FILE_NOT_FOUND, ERROR_PATH_NOT_FOUND, ERROR_ACCESS_DENIED (a folder); create and truncate work on the machine\'s own copy', () => {
    const w = boot();
    const fail = (error: string) => ({ kind: 'failed', call: 'CreateFileW', error, space: 'win32' });
    expect(d.open(w.k, w.t, { path: '/data/missing.txt', write: false })).toEqual(fail('ERROR_FILE_NOT_FOUND'));
    expect(d.open(w.k, w.t, { path: '/nowhere/x.txt', write: false })).toEqual(fail('ERROR_PATH_NOT_FOUND'));
    expect(d.open(w.k, w.t, { path: '/data', write: false })).toEqual(fail('ERROR_ACCESS_DENIED'));
    // CREATE_ALWAYS makes the file in the machine's own copy (the sysroot is never written), so a
    // later OPEN_EXISTING finds it; TRUNCATE_EXISTING empties the machine's copy of an existing one.
    expect(d.open(w.k, w.t, { path: '/data/new.txt', write: true, create: true, truncate: true }).kind).toBe('ok');
    expect(d.open(w.k, w.t, { path: '/data/new.txt', write: false }).kind).toBe('ok');
    expect(d.open(w.k, w.t, { path: '/data/notes.txt', write: true, truncate: true }).kind).toBe('ok');
    // O_CREAT alone on an existing file is OPEN_ALWAYS: it opens it.
    expect(d.open(w.k, w.t, { path: '/data/notes.txt', write: true, create: true }).kind).toBe('ok');
  });
});

describe('read, write, close: ReadFile, WriteFile, CloseHandle into and out of the process\'s memory', () => {
  it('read copies from the file pointer (short at the end of the file); write goes to the machine\'s copy every handle sees', () => {
    const w = boot();
    const buf = buffer(w);
    const h = d.open(w.k, w.t, { path: '/data/notes.txt', write: true });
    if (h.kind !== 'ok') throw new Error('open failed');
    expect(d.read(w.k, w.t, h.value, buf, 10)).toEqual({ kind: 'ok', value: 10 });
    expect(text(w, buf, 10)).toBe('0123456789');
    expect(d.read(w.k, w.t, h.value, buf, 0x4000)).toEqual({ kind: 'ok', value: TEXT.length - 10 });
    expect(d.read(w.k, w.t, h.value, buf, 16)).toEqual({ kind: 'ok', value: 0 });
    w.k.copyToUser(w.t, buf, new TextEncoder().encode('HELLO'));
    expect(d.write(w.k, w.t, h.value, buf, 5)).toEqual({ kind: 'ok', value: 5 });
    expect(d.close(w.k, w.t, h.value)).toEqual({ kind: 'ok', value: 1 });
    const again = d.open(w.k, w.t, { path: '/data/notes.txt', write: false });
    if (again.kind !== 'ok') throw new Error('open failed');
    expect(d.read(w.k, w.t, again.value, buf + 0x100, 21)).toEqual({ kind: 'ok', value: 21 });
    // The write went after the 8,192 bytes read: the file grew by five.
    expect(text(w, buf + 0x100, 5)).toBe('01234');
    expect(w.k.state.fileNodes.get('/data/notes.txt')!.bytes.length).toBe(TEXT.length + 5);
  });

  it('fails with the Win32 errors: a write on a read-only handle ERROR_ACCESS_DENIED, a buffer not mapped ERROR_NOACCESS, a closed handle ERROR_INVALID_HANDLE', () => {
    const w = boot();
    const buf = buffer(w);
    const h = d.open(w.k, w.t, { path: '/data/notes.txt', write: false });
    if (h.kind !== 'ok') throw new Error('open failed');
    // The detail is what the UCRT's _write makes of it (write.cpp: EBADF, not EACCES).
    expect(d.write(w.k, w.t, h.value, buf, 4)).toEqual({ kind: 'failed', call: 'WriteFile', error: 'ERROR_ACCESS_DENIED', space: 'win32', detail: '_write sets errno EBADF' });
    expect(d.read(w.k, w.t, h.value, 0x7000_0000, 16)).toMatchObject({ kind: 'failed', call: 'ReadFile', error: 'ERROR_NOACCESS' });
    expect(d.close(w.k, w.t, h.value).kind).toBe('ok');
    expect(d.read(w.k, w.t, h.value, buf, 4)).toMatchObject({ kind: 'failed', call: 'ReadFile', error: 'ERROR_INVALID_HANDLE' });
    expect(d.close(w.k, w.t, h.value)).toMatchObject({ kind: 'failed', call: 'CloseHandle', error: 'ERROR_INVALID_HANDLE' });
  });
});

describe('the access an open asked for: ReadFile without GENERIC_READ, WriteFile without GENERIC_WRITE', () => {
  it('_open(_O_WRONLY|_O_CREAT|_O_TRUNC) then _read: ReadFile ERROR_ACCESS_DENIED, which _read turns into EBADF; the write goes through', () => {
    const w = boot();
    const buf = buffer(w);
    const h = d.open(w.k, w.t, { path: '/data/out.txt', write: true, read: false, create: true, truncate: true });
    if (h.kind !== 'ok') throw new Error('open failed');
    expect(d.read(w.k, w.t, h.value, buf, 16)).toEqual({ kind: 'failed', call: 'ReadFile', error: 'ERROR_ACCESS_DENIED', space: 'win32', detail: '_read sets errno EBADF' });
    expect(d.write(w.k, w.t, h.value, buf, 16)).toEqual({ kind: 'ok', value: 16 });
    // The NUL device checks the handle's access the same way (the I/O manager, before the device).
    const nul = d.open(w.k, w.t, { path: '/dev/null', write: true, read: false, create: true, truncate: true });
    if (nul.kind !== 'ok') throw new Error('open failed');
    expect(d.read(w.k, w.t, nul.value, buf, 16)).toMatchObject({ kind: 'failed', call: 'ReadFile', error: 'ERROR_ACCESS_DENIED' });
  });

  it('_O_RDWR reads and writes the same handle', () => {
    const w = boot();
    const buf = buffer(w);
    const h = d.open(w.k, w.t, { path: '/data/notes.txt', write: true, read: true });
    if (h.kind !== 'ok') throw new Error('open failed');
    expect(d.read(w.k, w.t, h.value, buf, 4)).toEqual({ kind: 'ok', value: 4 });
    expect(d.write(w.k, w.t, h.value, buf, 4)).toEqual({ kind: 'ok', value: 4 });
  });
});

describe('mapFile: CreateFileW + CreateFileMappingW + MapViewOfFile + CloseHandle ×2', () => {
  it('protection: read-only PAGE_READONLY/FILE_MAP_READ; shared writable PAGE_READWRITE/FILE_MAP_WRITE; private writable PAGE_WRITECOPY/FILE_MAP_COPY', () => {
    expect(mappingProtection(PROT_READ, false)).toEqual({ section: PAGE_READONLY, view: FILE_MAP_READ, access: GENERIC_READ });
    expect(mappingProtection(PROT_READ | PROT_WRITE, true)).toEqual({ section: PAGE_READWRITE, view: FILE_MAP_WRITE, access: GENERIC_READ + GENERIC_WRITE });
    expect(mappingProtection(PROT_READ | PROT_WRITE, false)).toEqual({ section: PAGE_WRITECOPY, view: FILE_MAP_COPY, access: GENERIC_READ });
    expect(mappingProtection(PROT_READ | PROT_EXEC, false)).toEqual({ section: PAGE_EXECUTE_READ, view: FILE_MAP_READ + FILE_MAP_EXECUTE, access: GENERIC_READ + GENERIC_EXECUTE });
    expect(mappingProtection(PROT_READ | PROT_WRITE | PROT_EXEC, false).section).toBe(PAGE_EXECUTE_WRITECOPY);
  });

  it('maps the whole file as a MEM_MAPPED view, leaves no handle open, and the view reads the file', () => {
    const w = boot();
    const open = handles(w);
    const calls = w.k.metrics.snapshot().syscalls;
    const r = d.mapFile(w.k, w.t, { path: '/data/notes.txt', prot: PROT_READ, shared: false });
    expect(r.kind).toBe('ok');
    // CreateFileW, CreateFileMappingW, MapViewOfFile, CloseHandle ×2: five calls through the gate.
    expect(w.k.metrics.snapshot().syscalls).toBe(calls + 5);
    if (r.kind !== 'ok') return;
    expect(r.value.length).toBe(0x2000);
    expect(r.value.addr % 0x10000).toBe(0);
    expect(handles(w)).toBe(open);
    expect(w.call('VirtualQuery', r.value.addr)).not.toBe(0);
    expect(w.record()).toMatchObject({ Type: MEM_MAPPED, Protect: PAGE_READONLY, RegionSize: 0x2000 });
    expect(text(w, r.value.addr + 0x1000, 4)).toBe('0123');
  });

  it('a private writable view is copy-on-write: writes stay in the process, the file keeps its bytes', () => {
    const w = boot();
    const r = d.mapFile(w.k, w.t, { path: '/data/notes.txt', prot: PROT_READ | PROT_WRITE, shared: false });
    if (r.kind !== 'ok') throw new Error(JSON.stringify(r));
    w.call('VirtualQuery', r.value.addr);
    expect(w.record().Protect).toBe(PAGE_WRITECOPY);
    w.k.copyToUser(w.t, r.value.addr, new TextEncoder().encode('XY'));
    expect(text(w, r.value.addr, 4)).toBe('XY23');
    const again = d.mapFile(w.k, w.t, { path: '/data/notes.txt', prot: PROT_READ, shared: false });
    if (again.kind !== 'ok') throw new Error(JSON.stringify(again));
    expect(text(w, again.value.addr, 4)).toBe('0123');
    const shared = d.mapFile(w.k, w.t, { path: '/data/notes.txt', prot: PROT_READ | PROT_WRITE, shared: true, length: 0x1000 });
    if (shared.kind !== 'ok') throw new Error(JSON.stringify(shared));
    expect(shared.value.length).toBe(0x1000);
    w.call('VirtualQuery', shared.value.addr);
    expect(w.record()).toMatchObject({ Protect: PAGE_READWRITE, RegionSize: 0x1000 });
  });

  it('fails with the failing call\'s Win32 error, closing what it opened', () => {
    const w = boot();
    const open = handles(w);
    expect(d.mapFile(w.k, w.t, { path: '/data/missing.txt', prot: PROT_READ, shared: false })).toEqual({ kind: 'failed', call: 'CreateFileW', error: 'ERROR_FILE_NOT_FOUND', space: 'win32' });
    // An empty file cannot be mapped at its size (STATUS_MAPPED_FILE_SIZE_ZERO).
    expect(d.mapFile(w.k, w.t, { path: '/data/empty.bin', prot: PROT_READ, shared: false })).toEqual({ kind: 'failed', call: 'CreateFileMappingW', error: 'ERROR_FILE_INVALID', space: 'win32' });
    // A view offset must be a multiple of the 64 KiB allocation granularity.
    expect(d.mapFile(w.k, w.t, { path: '/data/notes.txt', prot: PROT_READ, shared: false, offset: 0x1000 })).toMatchObject({ kind: 'failed', call: 'MapViewOfFile', error: 'ERROR_MAPPED_ALIGNMENT' });
    // No access at all: a section cannot be PAGE_NOACCESS.
    expect(d.mapFile(w.k, w.t, { path: '/data/notes.txt', prot: 0, shared: false })).toEqual({ kind: 'failed', call: 'CreateFileMappingW', error: 'ERROR_INVALID_PARAMETER', space: 'win32' });
    expect(handles(w)).toBe(open);
  });
});
