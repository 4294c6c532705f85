/** The Windows portable driver: alloc/protect/free over the Virtual* calls, spawn and wait over CreateProcess. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PROT_READ, PROT_WRITE } from '@polykernel/core';
import { memoryFileSystem, startProcess } from '@polykernel/kernel';
import { describe, expect, it } from 'vitest';
import { PAGE_EXECUTE_READWRITE, PAGE_NOACCESS, PAGE_READONLY, PAGE_READWRITE } from './constants.js';
import { pageProtection, windowsPortable } from './portable.js';
import { fixtureSysroot } from './sysroot.js';
import { bootWindows } from './testkit.js';

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(fileURLToPath(new URL(`../../../formats/pe/test/fixtures/${name}`, import.meta.url))));

describe('windows portable driver', () => {
  it('maps PROT_* to PAGE_*', () => {
    expect([0, 1, 3, 2, 7].map(pageProtection)).toEqual([PAGE_NOACCESS, PAGE_READONLY, PAGE_READWRITE, PAGE_READWRITE, PAGE_EXECUTE_READWRITE]);
  });

  it('alloc with a hint: the 64 KiB-aligned base and every touched page; protect reports the old protection', () => {
    const w = bootWindows();
    const d = windowsPortable();
    const r = d.alloc(w.k, w.t, { size: 0x1800, prot: PROT_READ | PROT_WRITE, addr: 0x501000 });
    expect(r).toEqual({ kind: 'ok', value: { addr: 0x500000, length: 0x3000 }, detail: 'based at 0x500000' });
    if (r.kind !== 'ok') return;
    expect(d.protect(w.k, w.t, r.value, PROT_READ)).toEqual({ kind: 'ok', value: 0, detail: 'was PAGE_READWRITE' });
    expect(d.free(w.k, w.t, r.value)).toEqual({ kind: 'ok', value: 0x3000 });
    expect(d.free(w.k, w.t, r.value)).toMatchObject({ kind: 'failed', call: 'VirtualFree', error: 'ERROR_INVALID_ADDRESS', space: 'win32' });
  });

  it('spawn a PE program, it exits, wait collects its exit code (sleeping until it does)', () => {
    const files = fixtureSysroot({ '/prog/hello.exe': fixture('hello-x86_64.exe') }, { 'greet.dll': fixture('greet-x86_64.dll') });
    const w = bootWindows({ fs: memoryFileSystem(files) });
    const d = windowsPortable();
    const parent = startProcess(w.k, 'shell');
    const s = d.spawn(w.k, parent.thread, { path: '/prog/hello.exe', argv: ['hello'] });
    expect(s.kind).toBe('ok');
    if (s.kind !== 'ok') return;
    expect(s.detail).toBe('hello.exe + greet.dll + kernel32.dll + msvcrt.dll');
    expect(d.wait(w.k, parent.thread, s.value.ref)).toEqual({ kind: 'blocked', call: 'WaitForSingleObject' });
    expect(d.exit(w.k, s.value.thread, 3)).toEqual({ kind: 'ok', value: 3 });
    expect(d.wait(w.k, parent.thread, s.value.ref)).toEqual({ kind: 'ok', value: { ref: s.value.ref, pid: s.value.process.pid, status: 3, exitCode: 3, signal: null } });
    // The last handle closed: the process object is gone.
    expect(w.k.processes.has(s.value.process.pid)).toBe(false);
    expect(d.wait(w.k, parent.thread, null).kind).toBe('unsupported');
    expect(d.fork(w.k, parent.thread)).toMatchObject({ kind: 'unsupported' });
    expect(d.spawn(w.k, parent.thread, { path: '/prog/none.exe', argv: [] })).toMatchObject({ kind: 'failed', call: 'CreateProcessW', error: 'ERROR_FILE_NOT_FOUND' });
  });
});
