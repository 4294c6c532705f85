/**
 * Run-time loading: LdrLoadDll / LdrUnloadDll (ntdll, user-mode code over NtCreateSection /
 * NtMapViewOfSection) under kernel32's LoadLibraryExW / LoadLibraryW / FreeLibrary, with
 * GetModuleHandleW and GetProcAddress.
 *
 * LoadLibrary of a DLL already in the process returns its base and counts one more load; a new one
 * is looked for as CreateProcess's loader does (a path as given; a bare name in the exe's folder,
 * then System32/SysWOW64), mapped at its preferred base or relocated when that is taken, and its
 * imports snapped — DLLs it imports that are not loaded yet come in with it. Each DLL loaded at
 * run time has a load count (LDR_DATA_TABLE_ENTRY.LoadCount; the DDAG node's reference count on
 * Windows 8+); the DLLs it brought or referenced that were themselves loaded at run time are
 * counted once more for it. FreeLibrary takes one away; at zero the view is unmapped and its
 * references let go. DLLs of the process's static imports are never unloaded (their count is
 * pinned, LDR_ADDREF_DLL_PIN). Failures undo every mapping the call made: an unknown DLL is
 * STATUS_DLL_NOT_FOUND (ERROR_MOD_NOT_FOUND), a missing export STATUS_ENTRYPOINT_NOT_FOUND
 * (ERROR_PROC_NOT_FOUND), a file that is not an image STATUS_INVALID_IMAGE_FORMAT
 * (ERROR_BAD_EXE_FORMAT) — Wine dlls/kernel32/tests/module.c test_LoadLibraryA / testLoadLibraryEx.
 * No DllMain runs (see the README).
 */
import type { NtStatusName } from '@polykernel/core';
import type { SyscallArg } from '@polykernel/kernel';
import { isPe, parsePe } from '@polykernel/pe';
import { failNt, ntdll, num, str, win32, type Ctx, type Spec } from './callspec.js';
import { ImageFormatError, loadImage } from './image.js';
import { deleteVad, vadAt, type K, type P } from './mm.js';
import { findDll, loaderContext, procAddress, snapImports } from './process.js';
import type { LoadedModule } from './types.js';

/** LoadLibraryExW's dwFlags: map without snapping imports (no DllMain either). */
export const DONT_RESOLVE_DLL_REFERENCES = 0x1;
export const LOAD_LIBRARY_AS_DATAFILE = 0x2;
export const LOAD_LIBRARY_AS_IMAGE_RESOURCE = 0x20;
export const LOAD_LIBRARY_AS_DATAFILE_EXCLUSIVE = 0x40;

const baseName = (path: string): string => path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);

/** The module at `base`, or with file name `name` (case-insensitive). */
export function moduleByBase(p: P, base: number): LoadedModule | undefined {
  return p.space.modules.find((m) => m.base === base);
}

export function moduleByName(p: P, name: string): LoadedModule | undefined {
  let want = baseName(name).toLowerCase();
  if (!want.includes('.')) want += '.dll';
  return p.space.modules.find((m) => m.name.toLowerCase() === want);
}

/** The file a LoadLibrary name designates: a path as given (sysroot-relative), else the DLL search. */
function locate(k: K, p: P, name: string): { path: string; bytes: Uint8Array } | null {
  if (name.includes('/') || name.includes('\\')) {
    const f = k.state.fs(name.replaceAll('\\', '/'));
    return typeof f === 'string' ? null : { path: f.path, bytes: f.bytes };
  }
  const { dir, bits } = loaderContext(p);
  return findDll(k, dir, name.includes('.') ? name : `${name}.dll`, bits);
}

/** Unmap a module's view and drop it from the module list (LdrpUnloadNode → NtUnmapViewOfSection). */
function unmapModule(k: K, p: P, m: LoadedModule): void {
  const v = vadAt(p.space, m.base);
  if (v?.section === m.section) deleteVad(k, p, v);
  const i = p.space.modules.indexOf(m);
  if (i >= 0) p.space.modules.splice(i, 1);
  p.space.loadCounts.delete(m);
  p.space.loadDeps.delete(m);
}

/** An image's bitness, or null for a file that is no PE image (loadImage reports that one). */
function imageBits(bytes: Uint8Array): 32 | 64 | null {
  if (!isPe(bytes)) return null;
  try {
    const pe = parsePe(bytes);
    return pe.optional === null ? null : pe.bits;
  } catch {
    return null;
  }
}

export interface LoadResult {
  status: NtStatusName;
  module: LoadedModule | null;
  detail: string;
}

/** LdrLoadDll's work in `p`; `snap` false for DONT_RESOLVE_DLL_REFERENCES. */
export function loadLibrary(k: K, ctx: Ctx, p: P, name: string, snap: boolean): LoadResult {
  const space = p.space;
  const have = moduleByName(p, name);
  if (have !== undefined) {
    const n = space.loadCounts.get(have);
    if (n !== undefined) space.loadCounts.set(have, n + 1);
    return { status: 'STATUS_SUCCESS', module: have, detail: '' };
  }
  const f = locate(k, p, name);
  if (f === null) return { status: 'STATUS_DLL_NOT_FOUND', module: null, detail: name };
  // An image of the other bitness does not load (a 32-bit DLL in a 64-bit process and the reverse:
  // LdrpMapDllNtFileName turns NtMapViewOfSection's STATUS_IMAGE_MACHINE_TYPE_MISMATCH into
  // STATUS_INVALID_IMAGE_FORMAT, which LoadLibrary reports as ERROR_BAD_EXE_FORMAT).
  const bits = imageBits(f.bytes);
  if (bits !== null && bits !== loaderContext(p).bits) {
    return { status: 'STATUS_INVALID_IMAGE_FORMAT', module: null, detail: `${f.path}: a ${bits}-bit image in a ${loaderContext(p).bits}-bit process` };
  }
  const before = space.modules.length;
  let mod: LoadedModule | NtStatusName;
  try {
    mod = loadImage(k, p, f.path, f.bytes, 'Image');
  } catch (e) {
    if (e instanceof ImageFormatError) return { status: e.status, module: null, detail: e.message };
    throw e;
  }
  if (typeof mod === 'string') return { status: mod, module: null, detail: f.path };
  if (snap) {
    const r = snapImports(k, p, [mod], (n, a) => ctx.call(n, a));
    if (r.status !== 'STATUS_SUCCESS') {
      for (const m of space.modules.slice(before)) unmapModule(k, p, m);
      return { status: r.status, module: null, detail: r.detail };
    }
  }
  const brought = space.modules.slice(before);
  const deps: LoadedModule[] = [];
  for (const m of brought.slice(1)) {
    space.loadCounts.set(m, 1);
    deps.push(m);
  }
  // DLLs it imports that were loaded at run time before it: one more reference each.
  const imported = new Set(brought.flatMap((m) => m.section.image!.importTable.filter((d) => !d.delayLoad).map((d) => d.name.toLowerCase())));
  for (const m of space.modules.slice(0, before)) {
    const n = space.loadCounts.get(m);
    if (n !== undefined && imported.has(m.name.toLowerCase())) {
      space.loadCounts.set(m, n + 1);
      deps.push(m);
    }
  }
  space.loadCounts.set(mod, 1);
  space.loadDeps.set(mod, deps);
  return { status: 'STATUS_SUCCESS', module: mod, detail: '' };
}

/** LdrUnloadDll's work: one load fewer; at zero unmapped, its references released (recursively). */
export function freeLibrary(k: K, p: P, base: number): NtStatusName {
  const m = moduleByBase(p, base);
  if (m === undefined) return 'STATUS_DLL_NOT_FOUND';
  release(k, p, m);
  return 'STATUS_SUCCESS';
}

function release(k: K, p: P, m: LoadedModule): void {
  const n = p.space.loadCounts.get(m);
  // A DLL of the process's static imports (or the exe) is pinned: FreeLibrary succeeds and does nothing.
  if (n === undefined) return;
  if (n > 1) {
    p.space.loadCounts.set(m, n - 1);
    return;
  }
  const deps = p.space.loadDeps.get(m) ?? [];
  unmapModule(k, p, m);
  for (const d of deps) release(k, p, d);
}

// ---- calls ------------------------------------------------------------------------------------

function ldrLoadDll(ctx: Ctx, a: readonly SyscallArg[]): number {
  const name = str(a[2]);
  if (name === '') return ctx.fail('STATUS_INVALID_PARAMETER');
  const r = loadLibrary(ctx.kernel, ctx, ctx.process, name, (num(a[1] ?? 0) % 2) !== 1);
  if (r.status !== 'STATUS_SUCCESS') return ctx.fail(r.status, r.detail);
  ctx.record({ type: 'LdrLoadDll', fields: { BaseAddress: r.module!.base, LoadCount: ctx.process.space.loadCounts.get(r.module!) ?? -1 } });
  return 0;
}

function ldrUnloadDll(ctx: Ctx, a: readonly SyscallArg[]): number {
  const s = freeLibrary(ctx.kernel, ctx.process, num(a[0]));
  return s === 'STATUS_SUCCESS' ? 0 : ctx.fail(s);
}

function loadLibraryExW(ctx: Ctx, a: readonly SyscallArg[]): number {
  const [name, hFile, flags] = [str(a[0]), num(a[1] ?? 0), num(a[2] ?? 0)];
  // hFile is reserved and must be NULL (MSDN LoadLibraryExW).
  if (hFile !== 0 || !Number.isInteger(flags) || flags < 0) return ctx.fail('ERROR_INVALID_PARAMETER');
  if (name === '') return ctx.fail('ERROR_INVALID_PARAMETER');
  const dataFile = [LOAD_LIBRARY_AS_DATAFILE, LOAD_LIBRARY_AS_IMAGE_RESOURCE, LOAD_LIBRARY_AS_DATAFILE_EXCLUSIVE].some((f) => Math.floor(flags / f) % 2 === 1);
  if (dataFile) return ctx.fail('ERROR_NOT_SUPPORTED', 'resource-only loads (LOAD_LIBRARY_AS_DATAFILE/IMAGE_RESOURCE) are not modelled');
  // The LOAD_LIBRARY_SEARCH_* and LOAD_WITH_ALTERED_SEARCH_PATH flags choose folders: the search here is fixed (exe folder, System32).
  const r = ctx.call('LdrLoadDll', ['', flags % 2, name]);
  return r.error !== null ? failNt(ctx, r) : (r.record!.fields.BaseAddress as number);
}

export function librarySyscalls(): Spec[] {
  return [
    ntdll('LdrLoadDll', ['PathToFile', 'Flags', 'ModuleFileName'], ldrLoadDll),
    ntdll('LdrUnloadDll', ['BaseAddress'], ldrUnloadDll),
    win32('LoadLibraryExW', ['lpLibFileName', 'hFile', 'dwFlags'], loadLibraryExW),
    win32('LoadLibraryW', ['lpLibFileName'], (c, a) => loadLibraryExW(c, [a[0] ?? '', 0, 0])),
    win32('FreeLibrary', ['hLibModule'], (c, a) => {
      const r = c.call('LdrUnloadDll', [num(a[0])]);
      return r.error !== null ? failNt(c, r) : 1;
    }),
    win32('GetModuleHandleW', ['lpModuleName'], (c, a) => {
      // NULL: the exe's base.
      if (typeof a[0] !== 'string' || a[0] === '') return c.process.space.modules[0]?.base ?? c.fail('ERROR_MOD_NOT_FOUND');
      return moduleByName(c.process, a[0])?.base ?? c.fail('ERROR_MOD_NOT_FOUND');
    }),
    win32('GetProcAddress', ['hModule', 'lpProcName'], (c, a) => {
      const m = moduleByBase(c.process, num(a[0]));
      if (m === undefined) return c.fail('ERROR_MOD_NOT_FOUND');
      // A number is an ordinal (MAKEINTRESOURCE), a string a name.
      const va = typeof a[1] === 'string' ? procAddress(c.kernel, c.process, m, a[1], null) : procAddress(c.kernel, c.process, m, null, num(a[1]));
      return va ?? c.fail('ERROR_PROC_NOT_FOUND');
    }),
  ];
}
