/**
 * LoadLibraryExW / FreeLibrary (LdrLoadDll / LdrUnloadDll) on the fixture DLL greet.dll (MinGW-w64)
 * and stub system DLLs: mapping at the preferred base or relocated, imports snapped, load counts,
 * unloading with the DLLs it brought, failures that leave nothing mapped (Wine
 * dlls/kernel32/tests/module.c test_LoadLibraryA, testLoadLibraryEx), and WindowsOptions.injectDll.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { memoryFileSystem } from '@polykernel/kernel';
import { parsePe } from '@polykernel/pe';
import { describe, expect, it } from 'vitest';
import { CREATE_SUSPENDED, MEM_IMAGE, MEM_RESERVE, PAGE_READWRITE } from './constants.js';
import { DONT_RESOLVE_DLL_REFERENCES } from './library.js';
import { walk } from './mm.js';
import { stubDll } from './stubdll.js';
import { fixtureSysroot } from './sysroot.js';
import { bootWindows, type Win } from './testkit.js';
import type { WindowsOptions } from './personality.js';

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(fileURLToPath(new URL(`../../../formats/pe/test/fixtures/${name}`, import.meta.url))));
const GREET = fixture('greet-x86_64.dll');
const GREET_BASE = parsePe(GREET).optional!.imageBase;

function files(): Record<string, Uint8Array> {
  return fixtureSysroot({ '/prog/hello-x86_64.exe': fixture('hello-x86_64.exe') }, { 'greet.dll': GREET });
}

function boot(f = files(), opts: WindowsOptions = {}): Win {
  return bootWindows({ fs: memoryFileSystem(f), ...opts });
}

const names = (w: Win): string[] => w.p.space.modules.map((m) => m.name.toLowerCase());

describe('LoadLibraryExW / FreeLibrary', () => {
  it('maps the DLL at its preferred base with its imports snapped and the DLLs it imports; FreeLibrary unmaps them all', () => {
    const w = boot();
    const h = w.call('LoadLibraryW', 'greet.dll');
    expect(h).toBe(GREET_BASE);
    expect(names(w)).toEqual(['greet.dll', 'kernel32.dll', 'msvcrt.dll']);
    const greet = w.p.space.modules[0]!;
    expect(greet.iatWritten).toBeGreaterThan(0);
    w.call('VirtualQuery', h);
    expect(w.record()).toMatchObject({ AllocationBase: h, Type: MEM_IMAGE });
    const fn = w.call('GetProcAddress', h, 'greet');
    expect(fn).toBeGreaterThan(h);
    expect(fn).toBeLessThan(h + greet.size);
    expect(w.call('GetProcAddress', h, 'no_such_function')).toBe(0);
    expect(w.lastError()).toBe('ERROR_PROC_NOT_FOUND');
    expect(w.call('GetModuleHandleW', 'GREET')).toBe(h);
    expect(w.call('FreeLibrary', h)).toBe(1);
    expect(names(w)).toEqual([]);
    expect(walk(w.p.space).some((r) => r.Type === MEM_IMAGE)).toBe(false);
    expect(w.p.space.commitCharge).toBe(0);
    expect(w.call('GetModuleHandleW', 'greet.dll')).toBe(0);
    expect(w.lastError()).toBe('ERROR_MOD_NOT_FOUND');
  });

  it('is reference-counted: a second load returns the same base, the DLL stays until the last FreeLibrary', () => {
    const w = boot();
    const h = w.call('LoadLibraryW', 'greet.dll');
    expect(w.call('LoadLibraryExW', 'greet.dll', 0, 0)).toBe(h);
    expect(w.call('FreeLibrary', h)).toBe(1);
    expect(names(w)).toContain('greet.dll');
    // kernel32.dll loaded on its own after greet brought it: its count is 2, it outlives greet.
    const k32 = w.call('LoadLibraryW', 'kernel32.dll');
    expect(w.call('FreeLibrary', h)).toBe(1);
    expect(names(w)).toEqual(['kernel32.dll']);
    expect(w.call('FreeLibrary', k32)).toBe(1);
    expect(names(w)).toEqual([]);
    // An address that is no module: STATUS_DLL_NOT_FOUND → ERROR_MOD_NOT_FOUND.
    expect(w.call('FreeLibrary', h)).toBe(0);
    expect(w.lastError()).toBe('ERROR_MOD_NOT_FOUND');
  });

  it('relocates the DLL when its preferred base is taken (fixups counted)', () => {
    const w = boot();
    expect(w.call('VirtualAlloc', GREET_BASE, 0x10000, MEM_RESERVE, PAGE_READWRITE)).toBe(GREET_BASE);
    const h = w.call('LoadLibraryW', 'greet.dll');
    expect(h).not.toBe(0);
    expect(h).not.toBe(GREET_BASE);
    expect(w.p.space.modules[0]!.section.image!.fixups).toBeGreaterThan(0);
  });

  it('fails without leaving anything mapped: unknown DLL, missing export, not an image, bad parameters', () => {
    const f = files();
    const w = boot(f);
    expect(w.call('LoadLibraryW', 'nonexistent.dll')).toBe(0);
    expect(w.lastError()).toBe('ERROR_MOD_NOT_FOUND');
    expect(w.call('LoadLibraryExW', 'greet.dll', 4, 0)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_PARAMETER');
    f['/prog/notes.txt'] = new TextEncoder().encode('not a PE file at all, just text');
    const bad = boot(f);
    expect(bad.call('LoadLibraryW', '/prog/notes.txt')).toBe(0);
    expect(bad.lastError()).toBe('ERROR_BAD_EXE_FORMAT');
    // A kernel32.dll without the functions greet.dll imports: the load fails and greet is unmapped again.
    f['/Windows/System32/kernel32.dll'] = stubDll('kernel32.dll', ['Nothing'], { bits: 64, imageBase: 0x7ff9_0000_0000 });
    const missing = boot(f);
    expect(missing.call('LoadLibraryW', 'greet.dll')).toBe(0);
    expect(missing.lastError()).toBe('ERROR_PROC_NOT_FOUND');
    expect(names(missing)).toEqual([]);
    expect(walk(missing.p.space).some((r) => r.Type === MEM_IMAGE)).toBe(false);
  });

  it('DONT_RESOLVE_DLL_REFERENCES maps the DLL alone, its IAT untouched', () => {
    const w = boot();
    const h = w.call('LoadLibraryExW', 'greet.dll', 0, DONT_RESOLVE_DLL_REFERENCES);
    expect(h).toBe(GREET_BASE);
    expect(names(w)).toEqual(['greet.dll']);
    expect(w.p.space.modules[0]!.iatWritten).toBe(0);
  });
});

describe('WindowsOptions.injectDll', () => {
  it('maps the DLL into every new process before its imports: a DLL wanting the same base is relocated', () => {
    const f = files();
    // An injected DLL sitting at greet.dll's preferred base.
    f['/inject/hook.dll'] = stubDll('hook.dll', ['Hook'], { bits: 64, imageBase: GREET_BASE });
    const w = boot(f, { injectDll: '/inject/hook.dll' });
    expect(w.call('CreateProcessW', '/prog/hello-x86_64.exe', CREATE_SUSPENDED)).toBe(1);
    const child = w.k.processes.get(w.record().dwProcessId as number)!;
    expect(child.space.modules.map((m) => m.name)).toContain('hook.dll');
    expect(child.space.modules.find((m) => m.name === 'hook.dll')!.base).toBe(GREET_BASE);
    expect(w.call('ResumeThread', w.record().hThread as number)).toBe(1);
    const greet = child.space.modules.find((m) => m.name === 'greet.dll')!;
    expect(greet.base).not.toBe(GREET_BASE);
    expect(greet.section.image!.fixups).toBeGreaterThan(0);
    expect(child.state).toBe('running');
  });

  it('an injected DLL missing from the sysroot fails process creation with ERROR_MOD_NOT_FOUND', () => {
    const w = boot(files(), { injectDll: ['/inject/missing.dll'] });
    expect(w.call('CreateProcessW', '/prog/hello-x86_64.exe', CREATE_SUSPENDED)).toBe(0);
    expect(w.lastError()).toBe('ERROR_MOD_NOT_FOUND');
  });
});
