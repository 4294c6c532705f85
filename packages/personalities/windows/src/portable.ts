/**
 * The Windows portable driver: each portable intent as the Win32 calls a Windows program makes
 * (kernel32 library calls over the NT traps, through the kernel's gate, so traps and cycles are
 * counted the native way). Win32 has no fork and no exec: those intents say so. Files are the
 * UCRT's way (portable-files.ts): CreateFileW, ReadFile, WriteFile, CloseHandle, and
 * CreateFileMappingW + MapViewOfFile for a mapping.
 */
import { PROT_EXEC, PROT_READ, PROT_WRITE, pageDown, pageUp } from '@polykernel/core';
import {
  failure, gate, ok, unsupported, type AllocRequest, type PortableChild, type PortableDriver, type PortableRegion, type PortableResult,
  type PortableWait, type SpawnRequest,
} from '@polykernel/kernel';
import {
  ALLOCATION_GRANULARITY, INFINITE, MEM_COMMIT, MEM_RELEASE, MEM_RESERVE, PAGE, PAGE_EXECUTE, PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE,
  PAGE_NOACCESS, PAGE_READONLY, PAGE_READWRITE, WAIT_OBJECT_0, protectName,
} from './constants.js';
import { closeHandle, mapFile, openFile, transfer } from './portable-files.js';
import type { WindowsMachine, WindowsSpace } from './types.js';
import type { Kernel, Thread } from '@polykernel/kernel';

type K = Kernel<WindowsSpace, WindowsMachine>;

const has = (prot: number, bit: number): boolean => Math.floor(prot / bit) % 2 === 1;

/** PROT_* bits as the PAGE_* value a Windows port would pass (no write-only page: write implies read). */
export function pageProtection(prot: number): number {
  const x = has(prot, PROT_EXEC);
  const w = has(prot, PROT_WRITE);
  const r = has(prot, PROT_READ);
  if (x) return w ? PAGE_EXECUTE_READWRITE : r ? PAGE_EXECUTE_READ : PAGE_EXECUTE;
  if (w) return PAGE_READWRITE;
  return r ? PAGE_READONLY : PAGE_NOACCESS;
}

function alloc(k: K, t: Thread, req: AllocRequest): PortableResult<PortableRegion> {
  const hint = req.addr ?? 0;
  const r = gate(k, t, 'VirtualAlloc', [hint, req.size, MEM_RESERVE + MEM_COMMIT, pageProtection(req.prot)]);
  const f = failure(k, 'VirtualAlloc', r);
  if (f !== null) return f;
  // The allocation VirtualAlloc made: from the 64 KiB-aligned base over every page touched.
  const base = r.value;
  const end = hint === 0 ? base + pageUp(req.size, PAGE) : pageUp(hint + req.size, PAGE);
  return ok({ addr: base, length: end - base }, hint !== 0 && base !== hint ? `based at 0x${pageDown(hint, ALLOCATION_GRANULARITY).toString(16)}` : undefined);
}

function spawn(k: K, t: Thread, req: SpawnRequest): PortableResult<PortableChild<WindowsSpace>> {
  const r = gate(k, t, 'CreateProcessW', [req.path, 0]);
  const f = failure(k, 'CreateProcessW', r);
  if (f !== null) return f;
  const info = r.record!.fields;
  const process = k.processes.get(info.dwProcessId as number)!;
  // The thread handle is not needed: close it as a program would.
  gate(k, t, 'CloseHandle', [info.hThread as number]);
  return ok({ process, thread: process.threads[0]!, ref: info.hProcess as number }, process.space.modules.map((m) => m.name).join(' + '));
}

function wait(k: K, t: Thread, ref: number | null): PortableResult<PortableWait> {
  if (ref === null) return unsupported('Win32 has no wait for any child: WaitForSingleObject needs the process handle');
  const own = (t.process as { space: WindowsSpace }).space;
  const obj = own.handles.get(ref);
  const w = gate(k, t, 'WaitForSingleObject', [ref, INFINITE]);
  if (w.blocked === true) return { kind: 'blocked', call: 'WaitForSingleObject' };
  const f = failure(k, 'WaitForSingleObject', w);
  if (f !== null) return f;
  if (w.value !== WAIT_OBJECT_0) return { kind: 'failed', call: 'WaitForSingleObject', error: `WAIT_${w.value.toString(16)}`, space: 'win32' };
  const c = gate(k, t, 'GetExitCodeProcess', [ref]);
  const cf = failure(k, 'GetExitCodeProcess', c);
  if (cf !== null) return cf;
  const code = c.record!.fields.lpExitCode as number;
  const child = obj?.kind === 'process' ? obj.process : undefined;
  const signal = child?.killedBy ?? null;
  gate(k, t, 'CloseHandle', [ref]);
  return ok({ ref, pid: child?.pid ?? 0, status: code, exitCode: signal === null ? code : null, signal });
}

export function windowsPortable(): PortableDriver<WindowsSpace, WindowsMachine> {
  return {
    native: {
      alloc: 'VirtualAlloc(lpAddress, size, MEM_RESERVE|MEM_COMMIT, PAGE_*) → NtAllocateVirtualMemory',
      free: 'VirtualFree(base, 0, MEM_RELEASE) → NtFreeVirtualMemory',
      protect: 'VirtualProtect(addr, size, PAGE_*, &old) → NtProtectVirtualMemory',
      fork: 'n/a: Win32 has no fork (a process is made from an image with CreateProcess; Cygwin emulates fork over it)',
      spawn: 'CreateProcessW(path) → NtCreateUserProcess, ResumeThread (the loader runs), CloseHandle(hThread)',
      exec: 'n/a: a Win32 process cannot replace its image (CreateProcess + ExitProcess is spawn)',
      exit: 'ExitProcess(code) → NtTerminateProcess(NtCurrentProcess(), code)',
      wait: 'WaitForSingleObject(hProcess, INFINITE), GetExitCodeProcess, CloseHandle',
      mapFile: 'CreateFileW + CreateFileMappingW(hFile, PAGE_READONLY/READWRITE/WRITECOPY) + MapViewOfFile(FILE_MAP_READ/WRITE/COPY) + CloseHandle ×2 → NtCreateFile, NtCreateSection, NtMapViewOfSection, NtClose',
      open: 'CreateFileW(path (/dev/null: NUL), GENERIC_READ[|GENERIC_WRITE], FILE_SHARE_READ|FILE_SHARE_WRITE, NULL, OPEN_EXISTING/OPEN_ALWAYS/TRUNCATE_EXISTING/CREATE_ALWAYS) as the UCRT\'s _open → NtCreateFile',
      read: 'ReadFile(hFile, buf, n, &read, NULL) → NtReadFile',
      write: 'WriteFile(hFile, buf, n, &written, NULL) → NtWriteFile',
      close: 'CloseHandle(hFile) → NtClose',
    },
    alloc,
    free: (k, t, region) => {
      const r = gate(k, t, 'VirtualFree', [region.addr, 0, MEM_RELEASE]);
      return failure(k, 'VirtualFree', r) ?? ok(region.length);
    },
    protect: (k, t, region, prot) => {
      const r = gate(k, t, 'VirtualProtect', [region.addr, region.length, pageProtection(prot)]);
      return failure(k, 'VirtualProtect', r) ?? ok(0, `was ${protectName(r.record!.fields.lpflOldProtect as number)}`);
    },
    fork: () => unsupported('Win32 has no fork: a process is made from an image with CreateProcess (Cygwin emulates fork over it)'),
    spawn,
    exec: () => unsupported('a Win32 process cannot replace its image: CreateProcess + ExitProcess is spawn'),
    exit: (k, t, code) => {
      const r = gate(k, t, 'ExitProcess', [code]);
      return failure(k, 'ExitProcess', r) ?? ok(code);
    },
    wait,
    mapFile,
    open: openFile,
    read: (k, t, h, addr, length) => transfer(k, t, 'ReadFile', h, addr, length),
    write: (k, t, h, addr, length) => transfer(k, t, 'WriteFile', h, addr, length),
    close: closeHandle,
  };
}
