/**
 * Process creation from an image (NtCreateUserProcess → PspAllocateProcess, MmInitializeProcessAddressSpace,
 * MmCreatePeb, MmCreateTeb, RtlCreateUserStack) and the loader that runs when the first thread
 * starts (LdrInitializeThunk → LdrpInitializeProcess → LdrpSnapIAT).
 *
 * The new process's address space, as a VirtualQuery walk of a real one shows it: the exe's image
 * view, ntdll.dll's if the sysroot has one, KUSER_SHARED_DATA (0x7FFE0000, one read-only page),
 * the PEB and the first TEB (at Windows 7 x64's fixed places, 0x7FFFFFDF000 and 0x7FFFFFDD000 —
 * Windows 8 and later randomise them), the process heap (SizeOfHeapReserve reserved,
 * SizeOfHeapCommit committed) and the main thread's stack (SizeOfStackReserve reserved, the top
 * SizeOfStackCommit committed, a PAGE_GUARD page below that moves down as the stack grows).
 */
import { NTSTATUS, pageUp, type NtStatusName } from '@polykernel/core';
import type { SyscallArg, SyscallResult } from '@polykernel/kernel';
import {
  ALLOCATION_GRANULARITY, MEM_PRIVATE, PAGE, PAGE_GUARD, PAGE_READONLY, PAGE_READWRITE,
} from './constants.js';
import { inheritHandles, openHandle } from './handles.js';
import { ImageFormatError, loadImage } from './image.js';
import { PROCESS_COSTS } from './costs.js';
import { chargeCommit, findFree, insertVad, newVad, pageArrays, type K, type P } from './mm.js';
import type { LoadedModule } from './types.js';

export const KUSER_SHARED_DATA = 0x7ffe_0000;
export const PEB_ADDRESS = 0x7ff_fffd_f000;
export const TEB_ADDRESS = 0x7ff_fffd_d000;
/** sizeof(TEB) on x64 rounds to two pages. */
const TEB_PAGES = 2;
const DEFAULT_STACK_RESERVE = 0x100000;
const DEFAULT_HEAP_RESERVE = 0x100000;

/** A private allocation made by the kernel itself (PEB, TEB, shared data, stack, heap). */
function kernelAlloc(k: K, p: P, start: number, size: number, committed: number, protect: number, usage: string, opts: { charge?: boolean } = {}): boolean {
  const v = newVad(start, start + size, MEM_PRIVATE, protect, { usage });
  if ((opts.charge ?? true) && !chargeCommit(k, p.space, committed)) return false;
  pageArrays(v).protect.fill(protect, 0, committed);
  v.committed = committed;
  v.charged = (opts.charge ?? true) ? committed : 0;
  return insertVad(p.space, v);
}

/** Where the sysroot has a DLL: the image's own folder, then the system folder for its bitness. */
export function findDll(k: K, exeDir: string, name: string, bits: 32 | 64): { path: string; bytes: Uint8Array } | null {
  const system = bits === 64 ? '/Windows/System32' : '/Windows/SysWOW64';
  for (const dir of [exeDir, system]) {
    for (const n of [name, name.toLowerCase()]) {
      const f = k.state.fs(`${dir}/${n}`);
      if (typeof f !== 'string' && f.bytes.length > 0) return { path: f.path, bytes: f.bytes };
    }
  }
  return null;
}

export interface CreatedProcess {
  process: P;
  hProcess: number;
  hThread: number;
}

/** NtCreateUserProcess: the process object, its address space as above, the first thread suspended. */
export function createUserProcess(k: K, creator: P, path: string, opts: { inheritHandles?: boolean } = {}): CreatedProcess | NtStatusName {
  const file = k.state.fs(path);
  if (typeof file === 'string') return file === 'ENOENT' ? 'STATUS_OBJECT_NAME_NOT_FOUND' : 'STATUS_ACCESS_DENIED';
  // An image over MAX_FILE_BYTES: only its head was read, so it cannot be mapped here.
  if (file.partial !== undefined) return 'STATUS_FILE_TOO_LARGE';
  const comm = path.slice(path.lastIndexOf('/') + 1);
  const p = k.createProcess(creator, comm, undefined, undefined, { suspended: true });
  // The process object, address space and initial thread: a borrowed Linux figure (costs.ts).
  k.metrics.cycles += PROCESS_COSTS.createUserProcess;
  const fail = (s: NtStatusName): NtStatusName => {
    k.exitProcess(p, null);
    return s;
  };
  let exe: LoadedModule | NtStatusName;
  try {
    exe = loadImage(k, p, file.path, file.bytes, 'Image');
  } catch (e) {
    if (e instanceof ImageFormatError) return fail(e.status);
    throw e;
  }
  if (typeof exe === 'string') return fail(exe);
  const info = exe.section.image!;
  // CreateProcess refuses a DLL (ERROR_BAD_EXE_FORMAT).
  if (info.dll) return fail('STATUS_INVALID_IMAGE_FORMAT');
  p.space.image = info;
  p.space.imageBase = exe.base;
  const ntdll = findDll(k, '', 'ntdll.dll', info.bits);
  if (ntdll !== null) loadImage(k, p, ntdll.path, ntdll.bytes, 'Image');
  const injected = injectDlls(k, p);
  if (injected !== 'STATUS_SUCCESS') return fail(injected);
  // KUSER_SHARED_DATA: one system page mapped read-only into every process, charged to none.
  kernelAlloc(k, p, KUSER_SHARED_DATA, PAGE, 1, PAGE_READONLY, 'Other [User Shared Data]', { charge: false });
  if (!kernelAlloc(k, p, PEB_ADDRESS, PAGE, 1, PAGE_READWRITE, 'PEB')) return fail('STATUS_COMMITMENT_LIMIT');
  if (!kernelAlloc(k, p, TEB_ADDRESS, TEB_PAGES * PAGE, TEB_PAGES, PAGE_READWRITE, 'TEB')) return fail('STATUS_COMMITMENT_LIMIT');
  p.space.peb = PEB_ADDRESS;
  p.space.teb = TEB_ADDRESS;
  if (!createStack(k, p, info.stackReserve, info.stackCommit)) return fail('STATUS_COMMITMENT_LIMIT');
  if (!createHeap(k, p, info.heapReserve, info.heapCommit)) return fail('STATUS_COMMITMENT_LIMIT');
  // The handle table is made before the creator gets its handles to the child (none of those is inherited).
  if (opts.inheritHandles === true) inheritHandles(k, creator, p);
  const hProcess = openHandle(k, creator, { kind: 'process', process: p });
  const hThread = openHandle(k, creator, { kind: 'thread', process: p, tid: p.threads[0]!.tid });
  return { process: p, hProcess, hThread };
}

/**
 * WindowsOptions.injectDll: each DLL mapped right after the exe and ntdll, before the exe's
 * imports (the loader snaps its imports with the exe's), at its preferred base or relocated — as
 * a DLL injected into every new process (AppInit_DLLs, a security product's hook) sits in the
 * address space before the program's own DLLs arrive.
 */
function injectDlls(k: K, p: P): NtStatusName {
  for (const path of k.state.injectDlls) {
    const f = k.state.fs(path);
    if (typeof f === 'string') return 'STATUS_DLL_NOT_FOUND';
    let mod: LoadedModule | NtStatusName;
    try {
      mod = loadImage(k, p, f.path, f.bytes, 'Image');
    } catch (e) {
      if (e instanceof ImageFormatError) return e.status;
      throw e;
    }
    if (typeof mod === 'string') return mod;
  }
  return 'STATUS_SUCCESS';
}

/** RtlCreateUserStack: reserve, commit the top pages, a guard page below them. */
function createStack(k: K, p: P, reserve: number, commit: number): boolean {
  const size = pageUp(Math.max(reserve || DEFAULT_STACK_RESERVE, ALLOCATION_GRANULARITY), ALLOCATION_GRANULARITY);
  const top = Math.max(1, pageUp(commit || PAGE, PAGE) / PAGE);
  const start = findFree(p.space, size, false);
  if (start < 0) return false;
  const pages = size / PAGE;
  const v = newVad(start, start + size, MEM_PRIVATE, PAGE_READWRITE, { usage: 'Stack [main thread]', stack: true });
  if (!chargeCommit(k, p.space, top + 1)) return false;
  const arr = pageArrays(v).protect;
  arr.fill(PAGE_READWRITE, pages - top, pages);
  arr[pages - top - 1] = PAGE_READWRITE + PAGE_GUARD;
  v.committed = top + 1;
  v.charged = top + 1;
  insertVad(p.space, v);
  p.space.stackBase = start + size;
  p.space.stackLimit = start + size - top * PAGE;
  return true;
}

/** RtlCreateHeap for the process heap: SizeOfHeapReserve reserved, SizeOfHeapCommit committed. */
function createHeap(k: K, p: P, reserve: number, commit: number): boolean {
  const size = pageUp(Math.max(reserve || DEFAULT_HEAP_RESERVE, ALLOCATION_GRANULARITY), ALLOCATION_GRANULARITY);
  const committed = Math.max(1, pageUp(commit || PAGE, PAGE) / PAGE);
  const start = findFree(p.space, size, false);
  if (start < 0) return false;
  return kernelAlloc(k, p, start, size, committed, PAGE_READWRITE, 'Heap [process heap]');
}

/** A loader failure: the process ends with the status as its exit code (as the real loader reports it). */
export interface LoaderResult {
  status: NtStatusName;
  detail: string;
}

/** How the loader makes its own calls (NtProtectVirtualMemory around an IAT write): a trap from the loading thread. */
export type LoaderCall = (name: string, args: readonly SyscallArg[]) => SyscallResult;

/**
 * LdrpInitializeProcess, run by the process's first thread: map every imported DLL (depth first,
 * once each) and snap every IAT. A DLL that cannot be found ends the process with
 * STATUS_DLL_NOT_FOUND, a missing export with STATUS_ENTRYPOINT_NOT_FOUND. The images mapped at
 * creation (the exe, ntdll, injected DLLs) have their imports snapped, the exe's first.
 */
export function runLoader(k: K, p: P): LoaderResult {
  p.space.loaderRan = true;
  const exe = p.space.modules[0];
  if (exe === undefined) return { status: 'STATUS_SUCCESS', detail: 'no image' };
  const t = p.threads[0]!;
  return snapImports(k, p, [...p.space.modules], (name, args) => k.syscall(t, name, args));
}

/** The folder the exe was loaded from (the first place DLLs are looked for) and its bitness. */
export function loaderContext(p: P): { dir: string; bits: 32 | 64 } {
  const exe = p.space.modules[0];
  if (exe === undefined) return { dir: '/Windows/System32', bits: 64 };
  return { dir: exe.path.slice(0, exe.path.lastIndexOf('/')), bits: exe.section.image!.bits };
}

/** Snap the imports of `pending` modules and of every DLL they bring in (LdrpWalkImportDescriptor / LdrpSnapIAT). */
export function snapImports(k: K, p: P, pending: LoadedModule[], sys: LoaderCall): LoaderResult {
  const { dir, bits } = loaderContext(p);
  while (pending.length > 0) {
    const mod = pending.shift()!;
    for (const d of mod.section.image!.importTable) {
      if (d.delayLoad) continue;
      const dll = moduleFor(k, p, dir, d.name, bits, pending);
      if (typeof dll === 'string') return { status: dll, detail: d.name };
      const slot = bits === 64 ? 8 : 4;
      const iat = new Uint8Array(d.entries.length * slot);
      const view = new DataView(iat.buffer);
      for (let i = 0; i < d.entries.length; i++) {
        const e = d.entries[i]!;
        const va = resolve(k, p, dir, bits, dll, e.name, e.ordinal, pending, 0);
        if (va === null) return { status: 'STATUS_ENTRYPOINT_NOT_FOUND', detail: `${e.name ?? `#${String(e.ordinal)}`} in ${d.name}` };
        if (bits === 64) view.setBigUint64(i * 8, BigInt(va), true);
        else view.setUint32(i * 4, va % 2 ** 32, true);
      }
      if (iat.length > 0) {
        const s = snapIat(k, p, mod.base + d.iatRva, iat, sys);
        if (s !== 'STATUS_SUCCESS') return { status: s, detail: `IAT of ${d.name} in ${mod.name}` };
        mod.iatWritten += d.entries.length;
      }
    }
  }
  return { status: 'STATUS_SUCCESS', detail: '' };
}

/** An export of a loaded module by name (GetProcAddress / LdrGetProcedureAddress), forwarders followed; null if none. */
export function procAddress(k: K, p: P, mod: LoadedModule, name: string | null, ordinal: number | null): number | null {
  const { dir, bits } = loaderContext(p);
  return resolve(k, p, dir, bits, mod, name, ordinal, [], 0);
}

export function moduleFor(k: K, p: P, dir: string, name: string, bits: 32 | 64, pending: LoadedModule[]): LoadedModule | NtStatusName {
  const have = p.space.modules.find((m) => m.name.toLowerCase() === name.toLowerCase());
  if (have !== undefined) return have;
  const f = findDll(k, dir, name, bits);
  if (f === null) return 'STATUS_DLL_NOT_FOUND';
  let mod: LoadedModule | NtStatusName;
  try {
    mod = loadImage(k, p, f.path, f.bytes, 'Image');
  } catch (e) {
    if (e instanceof ImageFormatError) return e.status;
    throw e;
  }
  if (typeof mod !== 'string') pending.push(mod);
  return mod;
}

/** An export's address: by name or ordinal, following forwarders ('NTDLL.RtlAllocateHeap', 'DLL.#27'). */
function resolve(k: K, p: P, dir: string, bits: 32 | 64, dll: LoadedModule, name: string | null, ordinal: number | null, pending: LoadedModule[], depth: number): number | null {
  const target = name !== null ? dll.byName.get(name) : dll.byOrdinal.get(ordinal ?? -1);
  if (target === undefined || depth > 8) return null;
  if (typeof target === 'number') return dll.base + target;
  const dot = target.lastIndexOf('.');
  const next = moduleFor(k, p, dir, `${target.slice(0, dot)}.dll`, bits, pending);
  if (typeof next === 'string') return null;
  const fn = target.slice(dot + 1);
  return fn.startsWith('#') ? resolve(k, p, dir, bits, next, null, Number(fn.slice(1)), pending, depth + 1) : resolve(k, p, dir, bits, next, fn, null, pending, depth + 1);
}

/** LdrpSnapIAT's write: the IAT made PAGE_READWRITE (copy-on-write on an image), written, its protection put back. */
function snapIat(k: K, p: P, va: number, bytes: Uint8Array, sys: LoaderCall): NtStatusName {
  const t = p.threads[0]!;
  const pr = sys('NtProtectVirtualMemory', [-1, va, bytes.length, PAGE_READWRITE]);
  if (pr.error !== null) return pr.error as NtStatusName;
  const old = pr.record!.fields.OldAccessProtection as number;
  const n = k.copyToUser(t, va, bytes);
  sys('NtProtectVirtualMemory', [-1, va, bytes.length, old]);
  return n === bytes.length ? 'STATUS_SUCCESS' : 'STATUS_ACCESS_VIOLATION';
}

/** The main thread starts: the loader runs; a failure ends the process with its status. */
export function startProcess(k: K, p: P): LoaderResult {
  const r = runLoader(k, p);
  if (r.status !== 'STATUS_SUCCESS') k.exitProcess(p, NTSTATUS[r.status]);
  return r;
}
