/**
 * The two layers of Windows' memory API. NT services are traps returning NTSTATUS (numbers from
 * the x64 KiServiceTable of Windows 10 20H1 and later, as j00ru's syscall tables list them); the
 * kernel32/kernelbase functions are library calls over them, returning BOOL/NULL/a value and
 * setting GetLastError through RtlNtStatusToDosError (kernelbase's BaseSetLastNTError). In/out
 * pointer parameters of the NT services (BaseAddress, RegionSize, OldProtect) are inputs here and
 * come back in the call's record.
 */
import { win32ErrorName, type NtStatusName } from '@polykernel/core';
import type { SyscallArg } from '@polykernel/kernel';
import { dosError, failNt, num, nt, win32, type Ctx, type Spec } from './callspec.js';
import {
  AT_ROUND_TO_PAGE, PAGE, CREATE_SUSPENDED, CURRENT_PROCESS, HIGHEST_USER_ADDRESS, LOWEST_USER_ADDRESS, MEM_COMMIT, MEM_DECOMMIT, MEM_LARGE_PAGES,
  MEM_PHYSICAL, MEM_RELEASE, MEM_RESERVE, MEM_RESET, MEM_RESET_UNDO, MEM_TOP_DOWN, MEM_WRITE_WATCH, PAGE_EXECUTE,
  PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE, PAGE_NOACCESS, PAGE_READONLY, STILL_ACTIVE, USER_SPACE_END, ALLOCATION_GRANULARITY,
  baseProtection, hasFlag, isValidProtection, isWriteCopy,
} from './constants.js';
import { closeHandle, openHandle, processOf, sectionOf, threadOf } from './handles.js';
import { copyVirtualMemory } from './copy.js';
import { createFileSection, createImageFileSection, createPagefileSection, mapImageSectionView, mapView, SEC_COMMIT, SEC_IMAGE, unmapView, viewProtection } from './sections.js';
import { fileOf } from './files.js';
import { createUserProcess, startProcess } from './process.js';
import { commit, decommit, emptyWorkingSet, lock, protect, query, release, reserve, reset, unlock, workingSetPages, type MmResult, type P } from './mm.js';
import type { HandlerAction, Section } from './types.js';

/** sizeof(MEMORY_BASIC_INFORMATION) on x64: VirtualQuery's return value. */
export const MBI_SIZE = 48;
export { STATUS_TIMEOUT } from './objects.js';

export { dosError } from './callspec.js';

/** NtCreateUserProcess ProcessFlags: the child inherits the creator's inheritable handles. */
export const PROCESS_CREATE_FLAGS_INHERIT_HANDLES = 0x4;

/** The target of a memory service: a live process, or the status to fail with. */
function target(ctx: Ctx, h: number): P | NtStatusName {
  const p = processOf(ctx.process, h);
  if (typeof p === 'string') return p;
  return p.state === 'running' ? p : 'STATUS_PROCESS_IS_TERMINATING';
}

/**
 * ZeroBits → the first address the allocation may not reach (Wine's get_zero_bits_limit for x64):
 * a count of leading zero bits of a 32-bit address (1..21), or on 64-bit Windows a mask (>= 32)
 * whose highest set bit bounds the address.
 */
function zeroBitsLimit(zeroBits: number): number {
  if (zeroBits === 0) return USER_SPACE_END;
  if (zeroBits < 32) return 2 ** (32 - zeroBits);
  let bits = 0;
  for (let z = zeroBits; z >= 1; z = Math.floor(z / 2)) bits++;
  return 2 ** bits;
}

const TYPE_BITS = [MEM_COMMIT, MEM_RESERVE, MEM_RESET, MEM_RESET_UNDO, MEM_TOP_DOWN, MEM_WRITE_WATCH, MEM_PHYSICAL, MEM_LARGE_PAGES];

/** The allocation type's flags are only the ones NtAllocateVirtualMemory knows. */
function knownTypeBits(type: number): boolean {
  let rest = type;
  for (const b of TYPE_BITS) if (hasFlag(rest, b)) rest -= b;
  return rest === 0;
}

function ntAllocate(ctx: Ctx, a: readonly SyscallArg[]): number {
  const [h, base, zeroBits, size, type, prot] = [num(a[0]), num(a[1]), num(a[2]), num(a[3]), num(a[4]), num(a[5])];
  const p = target(ctx, h);
  if (typeof p === 'string') return ctx.fail(p);
  if (!Number.isSafeInteger(zeroBits) || zeroBits < 0 || (zeroBits > 21 && zeroBits < 32)) return ctx.fail('STATUS_INVALID_PARAMETER_3');
  if (!Number.isInteger(type) || type <= 0 || !knownTypeBits(type)) return ctx.fail('STATUS_INVALID_PARAMETER_5', 'AllocationType');
  const commitBit = hasFlag(type, MEM_COMMIT);
  const reserveBit = hasFlag(type, MEM_RESERVE);
  const resetBit = hasFlag(type, MEM_RESET) || hasFlag(type, MEM_RESET_UNDO);
  if (!commitBit && !reserveBit && !resetBit) return ctx.fail('STATUS_INVALID_PARAMETER_5', 'AllocationType');
  if (resetBit && (commitBit || reserveBit || (hasFlag(type, MEM_RESET) && hasFlag(type, MEM_RESET_UNDO)))) return ctx.fail('STATUS_INVALID_PARAMETER_5', 'MEM_RESET alone');
  if (hasFlag(type, MEM_WRITE_WATCH) && !reserveBit) return ctx.fail('STATUS_INVALID_PARAMETER_5', 'MEM_WRITE_WATCH needs MEM_RESERVE');
  // Large pages need SeLockMemoryPrivilege and AWE regions a physical-pages owner: neither is modelled.
  if (hasFlag(type, MEM_LARGE_PAGES) || hasFlag(type, MEM_PHYSICAL)) return ctx.fail('STATUS_INVALID_PARAMETER_5', 'MEM_LARGE_PAGES/MEM_PHYSICAL are not modelled');
  if (!isValidProtection(prot)) return ctx.fail('STATUS_INVALID_PAGE_PROTECTION');
  if (!(base >= 0) || base > HIGHEST_USER_ADDRESS) return ctx.fail('STATUS_INVALID_PARAMETER_2');
  if (!(size > 0) || !Number.isSafeInteger(size)) return ctx.fail('STATUS_INVALID_PARAMETER_4');
  if (size > USER_SPACE_END - base) return ctx.fail('STATUS_INVALID_PARAMETER_4');
  let r: MmResult;
  if (resetBit) {
    if (base === 0) return ctx.fail('STATUS_INVALID_PARAMETER_2');
    r = reset(p, base, size);
  } else {
    // Private memory is never copy-on-write.
    if (isWriteCopy(prot)) return ctx.fail('STATUS_INVALID_PAGE_PROTECTION');
    if (base !== 0 && base - (base % ALLOCATION_GRANULARITY) < LOWEST_USER_ADDRESS && reserveBit) return ctx.fail('STATUS_INVALID_PARAMETER_2');
    // MEM_COMMIT with no address reserves as well (MSDN VirtualAlloc).
    if (reserveBit || base === 0) r = reserve(ctx.kernel, p, { base, size, type, protect: prot, limit: zeroBitsLimit(zeroBits), topDown: hasFlag(type, MEM_TOP_DOWN) }, commitBit);
    else r = commit(ctx.kernel, p, base, size, prot);
  }
  if (r.status !== 'STATUS_SUCCESS') return ctx.fail(r.status);
  ctx.record({ type: 'NtAllocateVirtualMemory', fields: { BaseAddress: r.base, RegionSize: r.size } });
  return 0;
}

function ntFree(ctx: Ctx, a: readonly SyscallArg[]): number {
  const [h, base, size, type] = [num(a[0]), num(a[1]), num(a[2]), num(a[3])];
  const p = target(ctx, h);
  if (typeof p === 'string') return ctx.fail(p);
  if (type !== MEM_DECOMMIT && type !== MEM_RELEASE) return ctx.fail('STATUS_INVALID_PARAMETER_4');
  if (!(base >= 0) || base > HIGHEST_USER_ADDRESS) return ctx.fail('STATUS_INVALID_PARAMETER_2');
  if (!(size >= 0) || size > USER_SPACE_END - base) return ctx.fail('STATUS_INVALID_PARAMETER_3');
  const r = type === MEM_RELEASE ? release(ctx.kernel, p, base, size) : decommit(ctx.kernel, p, base, size);
  if (r.status !== 'STATUS_SUCCESS') return ctx.fail(r.status);
  ctx.record({ type: 'NtFreeVirtualMemory', fields: { BaseAddress: r.base, RegionSize: r.size } });
  return 0;
}

function ntProtect(ctx: Ctx, a: readonly SyscallArg[]): number {
  const [h, base, size, prot] = [num(a[0]), num(a[1]), num(a[2]), num(a[3])];
  const p = target(ctx, h);
  if (typeof p === 'string') return ctx.fail(p);
  if (!isValidProtection(prot)) return ctx.fail('STATUS_INVALID_PAGE_PROTECTION');
  if (!(base >= 0) || base > HIGHEST_USER_ADDRESS) return ctx.fail('STATUS_INVALID_PARAMETER_2');
  if (!(size >= 0) || size > USER_SPACE_END - base) return ctx.fail('STATUS_INVALID_PARAMETER_3');
  const r = protect(ctx.kernel, p, base, size, prot);
  if (r.status !== 'STATUS_SUCCESS') return ctx.fail(r.status);
  ctx.record({ type: 'NtProtectVirtualMemory', fields: { BaseAddress: r.base, RegionSize: r.size, OldAccessProtection: r.old ?? 0 } });
  return 0;
}

function ntQuery(ctx: Ctx, a: readonly SyscallArg[]): number {
  const [h, base, infoClass] = [num(a[0]), num(a[1]), num(a[2] ?? 0)];
  const p = target(ctx, h);
  if (typeof p === 'string') return ctx.fail(p);
  if (infoClass !== 0) return ctx.fail('STATUS_INVALID_INFO_CLASS');
  const mbi = query(p.space, base);
  if (mbi === null) return ctx.fail('STATUS_INVALID_PARAMETER');
  ctx.record({ type: 'MEMORY_BASIC_INFORMATION', fields: { ...mbi } });
  return 0;
}

/**
 * The checks NtReadVirtualMemory / NtWriteVirtualMemory make before any copy (ReactOS
 * ntoskrnl/mm/ARM3/virtual.c): a zero-byte transfer succeeds without looking at the handle
 * ("Don't do zero-byte transfers"); a range that wraps or ends above MmUserProbeAddress, in either
 * process, is STATUS_ACCESS_VIOLATION (ERROR_NOACCESS from the kernel32 calls).
 */
function copyArgs(ctx: Ctx, a: readonly SyscallArg[]): { remote: P; base: number; buffer: number; size: number } | NtStatusName | 0 {
  const [h, base, buffer, size] = [num(a[0]), num(a[1]), num(a[2]), num(a[3])];
  if (!Number.isSafeInteger(size) || size < 0) return 'STATUS_INVALID_PARAMETER_4';
  if (size === 0) return 0;
  const inUserSpace = (va: number): boolean => Number.isSafeInteger(va) && va >= 0 && va + size <= USER_SPACE_END;
  if (!inUserSpace(base) || !inUserSpace(buffer)) return 'STATUS_ACCESS_VIOLATION';
  const remote = target(ctx, h);
  if (typeof remote === 'string') return remote;
  return { remote, base, buffer, size };
}

/** NtReadVirtualMemory(ProcessHandle, BaseAddress, Buffer, NumberOfBytesToRead): Buffer is in the caller's space. */
function ntReadVirtualMemory(ctx: Ctx, a: readonly SyscallArg[]): number {
  const c = copyArgs(ctx, a);
  if (typeof c === 'string') return ctx.fail(c);
  const r = c === 0 ? { done: 0, status: 'STATUS_SUCCESS' } : copyVirtualMemory(ctx.kernel, ctx.thread, c.remote, c.base, ctx.process, c.buffer, c.size);
  ctx.record({ type: 'NtReadVirtualMemory', fields: { NumberOfBytesRead: r.done } });
  return r.status === 'STATUS_SUCCESS' ? 0 : ctx.fail(r.status);
}

/** NtWriteVirtualMemory(ProcessHandle, BaseAddress, Buffer, NumberOfBytesToWrite): Buffer is in the caller's space. */
function ntWriteVirtualMemory(ctx: Ctx, a: readonly SyscallArg[]): number {
  const c = copyArgs(ctx, a);
  if (typeof c === 'string') return ctx.fail(c);
  const r = c === 0 ? { done: 0, status: 'STATUS_SUCCESS' } : copyVirtualMemory(ctx.kernel, ctx.thread, ctx.process, c.buffer, c.remote, c.base, c.size);
  ctx.record({ type: 'NtWriteVirtualMemory', fields: { NumberOfBytesWritten: r.done } });
  return r.status === 'STATUS_SUCCESS' ? 0 : ctx.fail(r.status);
}

function ntClose(ctx: Ctx, a: readonly SyscallArg[]): number {
  const s = closeHandle(ctx.kernel, ctx.process, num(a[0]));
  return s === 'STATUS_SUCCESS' ? 0 : ctx.fail(s);
}

function ntTerminateProcess(ctx: Ctx, a: readonly SyscallArg[]): number {
  const h = num(a[0]);
  const p = h === 0 ? ctx.process : processOf(ctx.process, h);
  if (typeof p === 'string') return ctx.fail(p);
  if (p.state !== 'running') return ctx.fail('STATUS_PROCESS_IS_TERMINATING');
  const code = num(a[1]);
  ctx.kernel.exitProcess(p, code < 0 ? code + 2 ** 32 : code);
  return 0;
}

/** ProcessBasicInformation (0) and ProcessVmCounters (3: GetProcessMemoryInfo's numbers). */
function ntQueryInformationProcess(ctx: Ctx, a: readonly SyscallArg[]): number {
  const p = processOf(ctx.process, num(a[0]));
  if (typeof p === 'string') return ctx.fail(p);
  const infoClass = num(a[1] ?? 0);
  if (infoClass === 3) {
    const s = p.space;
    ctx.record({
      type: 'VM_COUNTERS',
      fields: {
        WorkingSetSize: p.state === 'running' ? workingSetPages(s) * 4096 : 0, PagefileUsage: s.commitCharge * 4096,
        PeakPagefileUsage: s.peakCommit * 4096, PrivateUsage: s.commitCharge * 4096,
      },
    });
    return 0;
  }
  if (infoClass !== 0) return ctx.fail('STATUS_INVALID_INFO_CLASS');
  ctx.record({
    type: 'PROCESS_BASIC_INFORMATION',
    fields: {
      ExitStatus: p.state === 'running' ? STILL_ACTIVE : (p.exitStatus ?? 0), PebBaseAddress: p.space.peb,
      UniqueProcessId: p.pid, InheritedFromUniqueProcessId: p.ppid,
    },
  });
  return 0;
}

function ntResumeThread(ctx: Ctx, a: readonly SyscallArg[], suspend: boolean): number {
  const t = threadOf(ctx.process, num(a[0]), ctx.thread.tid);
  if (typeof t === 'string') return ctx.fail(t);
  const thread = t.process.threads.find((x) => x.tid === t.tid);
  if (thread === undefined || thread.state === 'dead') return ctx.fail('STATUS_PROCESS_IS_TERMINATING');
  const prev = suspend ? ctx.kernel.suspendThread(thread) : ctx.kernel.resumeThread(thread);
  // The first thread of a new process starts in LdrInitializeThunk: the loader runs now.
  const p = t.process;
  if (!suspend && prev === 1 && thread === p.threads[0] && !p.space.loaderRan && p.space.modules.length > 0) startProcess(ctx.kernel, p);
  ctx.record({ type: suspend ? 'NtSuspendThread' : 'NtResumeThread', fields: { PreviousSuspendCount: prev } });
  return 0;
}

/** NtCreateUserProcess: the process from an image, its first thread suspended (CreateProcess resumes it). */
function ntCreateUserProcess(ctx: Ctx, a: readonly SyscallArg[]): number {
  const path = typeof a[0] === 'string' ? a[0] : '';
  if (path === '') return ctx.fail('STATUS_OBJECT_NAME_NOT_FOUND');
  const r = createUserProcess(ctx.kernel, ctx.process, path, { inheritHandles: hasFlag(num(a[2] ?? 0), PROCESS_CREATE_FLAGS_INHERIT_HANDLES) });
  if (typeof r === 'string') return ctx.fail(r);
  const p = r.process;
  ctx.record({ type: 'PROCESS_INFORMATION', fields: { hProcess: r.hProcess, hThread: r.hThread, dwProcessId: p.pid, dwThreadId: p.threads[0]!.tid } });
  return 0;
}

/**
 * NtCreateSection(SectionPageProtection, MaximumSize, ObjectName, HandleAttributes,
 * AllocationAttributes, FileHandle): pagefile-backed without a file, a data-file section with one,
 * an image section with SEC_IMAGE. A name already in use opens that section.
 */
function ntCreateSection(ctx: Ctx, a: readonly SyscallArg[]): number {
  const [prot, size] = [num(a[0]), num(a[1])];
  const name = typeof a[2] === 'string' ? a[2] : '';
  const [attrs, hFile] = [num(a[4] ?? SEC_COMMIT), num(a[5] ?? 0)];
  const k = ctx.kernel;
  // One namespace for named objects: an event's name is not a section's (STATUS_OBJECT_TYPE_MISMATCH).
  if (name !== '' && k.state.namedEvents.has(name)) return ctx.fail('STATUS_OBJECT_TYPE_MISMATCH');
  if (attrs !== SEC_COMMIT && attrs !== SEC_IMAGE && attrs !== 0) return ctx.fail('STATUS_INVALID_PARAMETER_6', 'only SEC_COMMIT and SEC_IMAGE are modelled');
  const existing = name === '' ? undefined : k.state.namedSections.get(name);
  let s: Section | NtStatusName;
  if (existing !== undefined) s = existing;
  else if (hFile === 0 || hFile === -1) s = attrs === SEC_IMAGE ? 'STATUS_INVALID_FILE_FOR_SECTION' : createPagefileSection(k, prot, size, name);
  else {
    const f = fileOf(ctx.process, hFile);
    if (typeof f === 'string') return ctx.fail(f);
    // MmCreateSection: a device's file object (NUL) has no SectionObjectPointer, so no section can
    // be made on it: STATUS_INVALID_FILE_FOR_SECTION (CreateFileMappingW: ERROR_BAD_EXE_FORMAT).
    if (f.device !== undefined) s = 'STATUS_INVALID_FILE_FOR_SECTION';
    else s = attrs === SEC_IMAGE ? createImageFileSection(k, f) : createFileSection(k, f, prot, size, name);
  }
  if (typeof s === 'string') return ctx.fail(s);
  const h = openHandle(k, ctx.process, { kind: 'section', section: s }, num(a[3] ?? 0) === 2);
  ctx.record({ type: 'NtCreateSection', fields: { SectionHandle: h, Existed: existing !== undefined } });
  return 0;
}

function ntOpenSection(ctx: Ctx, a: readonly SyscallArg[]): number {
  const s = ctx.kernel.state.namedSections.get(typeof a[0] === 'string' ? a[0] : '');
  if (s === undefined) return ctx.fail('STATUS_OBJECT_NAME_NOT_FOUND');
  ctx.record({ type: 'NtOpenSection', fields: { SectionHandle: openHandle(ctx.kernel, ctx.process, { kind: 'section', section: s }, num(a[1] ?? 0) === 2) } });
  return 0;
}

function ntMapViewOfSection(ctx: Ctx, a: readonly SyscallArg[]): number {
  const [hs, hp, offset, size, prot] = [num(a[0]), num(a[1]), num(a[2]), num(a[3]), num(a[4])];
  // BaseAddress comes last here (an addition to the older five-argument form): 0 or absent lets the system choose.
  const at = a[5] === undefined ? 0 : num(a[5]);
  const s = sectionOf(ctx.process, hs);
  if (typeof s === 'string') return ctx.fail(s);
  const p = target(ctx, hp);
  if (typeof p === 'string') return ctx.fail(p);
  if (s.kind === 'image') {
    const r = mapImageSectionView(ctx.kernel, p, s, at);
    if (typeof r === 'string') return ctx.fail(r);
    ctx.record({ type: 'NtMapViewOfSection', fields: { BaseAddress: r.base, ViewSize: s.pages * PAGE } });
    return r.status;
  }
  if (!isValidProtection(prot)) return ctx.fail('STATUS_INVALID_PAGE_PROTECTION');
  const base = mapView(ctx.kernel, p, s, offset, size, prot, at);
  if (typeof base === 'string') return ctx.fail(base);
  ctx.record({ type: 'NtMapViewOfSection', fields: { BaseAddress: base } });
  return 0;
}

function ntUnmapViewOfSection(ctx: Ctx, a: readonly SyscallArg[]): number {
  const p = target(ctx, num(a[0]));
  if (typeof p === 'string') return ctx.fail(p);
  const st = unmapView(ctx.kernel, p, num(a[1]));
  return st === 'STATUS_SUCCESS' ? 0 : ctx.fail(st);
}

function ntLockVirtualMemory(ctx: Ctx, a: readonly SyscallArg[], lockIt: boolean): number {
  const [h, base, size] = [num(a[0]), num(a[1]), num(a[2])];
  const p = target(ctx, h);
  if (typeof p === 'string') return ctx.fail(p);
  if (!(base >= 0) || base > HIGHEST_USER_ADDRESS) return ctx.fail('STATUS_INVALID_PARAMETER_2');
  const r = lockIt ? lock(ctx.kernel, ctx.process, p, base, size) : unlock(p, base, size);
  if (r.status !== 'STATUS_SUCCESS') return ctx.fail(r.status);
  ctx.record({ type: lockIt ? 'NtLockVirtualMemory' : 'NtUnlockVirtualMemory', fields: { BaseAddress: r.base, RegionSize: r.size } });
  return 0;
}

/**
 * NtSetInformationProcess(ProcessQuotaLimits): a working-set minimum and maximum of -1 each empties
 * the working set (the only limit modelled: other values are accepted and not enforced).
 */
function ntSetInformationProcess(ctx: Ctx, a: readonly SyscallArg[]): number {
  const p = target(ctx, num(a[0]));
  if (typeof p === 'string') return ctx.fail(p);
  if (num(a[1]) !== 1) return ctx.fail('STATUS_INVALID_INFO_CLASS');
  const trimmed = num(a[2]) === -1 && num(a[3]) === -1 ? emptyWorkingSet(ctx.kernel, p) : 0;
  ctx.record({ type: 'NtSetInformationProcess', fields: { PagesTrimmed: trimmed } });
  return 0;
}

/** NtOpenProcess: a handle to the process with that client ID. */
function ntOpenProcess(ctx: Ctx, a: readonly SyscallArg[]): number {
  const p = ctx.kernel.processes.get(num(a[1]));
  if (p === undefined || p.state === 'dead') return ctx.fail('STATUS_INVALID_CID');
  const h = openHandle(ctx.kernel, ctx.process, { kind: 'process', process: p });
  ctx.record({ type: 'NtOpenProcess', fields: { ProcessHandle: h } });
  return 0;
}

// ---- kernel32 / kernelbase ------------------------------------------------------------------

/**
 * CreateFileMappingW: INVALID_HANDLE_VALUE for a pagefile-backed section, else a file handle.
 * flProtect's low 16 bits are the page protection, its high bits the SEC_* attributes (SEC_COMMIT
 * by default, SEC_IMAGE); other SEC_* attributes are refused.
 */
function createFileMappingW(c: Ctx, a: readonly SyscallArg[]): number {
  const hFile = num(a[0]);
  const flProtect = num(a[1]);
  const prot = flProtect % 0x10000;
  const sec = flProtect - prot;
  if (sec !== 0 && sec !== SEC_COMMIT && sec !== SEC_IMAGE) return c.fail('ERROR_INVALID_PARAMETER');
  // A file handle must name a file object (a section or event handle: ERROR_INVALID_HANDLE).
  if (hFile !== -1) {
    const f = fileOf(c.process, hFile);
    if (typeof f === 'string') return c.fail(dosError(f));
  } else if (sec === SEC_IMAGE) return c.fail('ERROR_INVALID_PARAMETER');
  const r = c.call('NtCreateSection', [prot, num(a[2]), typeof a[3] === 'string' ? a[3] : '', num(a[4] ?? 0) !== 0 ? 2 : 0, sec === 0 ? SEC_COMMIT : sec, hFile]);
  if (r.error !== null) return failNt(c, r);
  // A mapping that already existed: its handle, and GetLastError() says ERROR_ALREADY_EXISTS.
  c.thread.errors.win32 = r.record!.fields.Existed === true ? { name: 'ERROR_ALREADY_EXISTS', number: 183 } : { name: 'ERROR_SUCCESS', number: 0 };
  return r.record!.fields.SectionHandle as number;
}

/** MapViewOfFile(Ex): the view's protection from the access asked, NtMapViewOfSection at lpBaseAddress (NULL: anywhere). */
function mapViewOfFileEx(c: Ctx, a: readonly SyscallArg[], base: number): number {
  const s = sectionOf(c.process, num(a[0]));
  if (typeof s === 'string') return c.fail(dosError(s));
  const prot = viewProtection(s.protect, num(a[1]));
  if (prot === null) return c.fail('ERROR_ACCESS_DENIED');
  const r = c.call('NtMapViewOfSection', [num(a[0]), CURRENT_PROCESS, num(a[2]), num(a[3]), prot, base]);
  return r.error !== null ? failNt(c, r) : (r.record!.fields.BaseAddress as number);
}

function virtualAllocEx(ctx: Ctx, h: SyscallArg, a: readonly SyscallArg[]): number {
  const addr = num(a[0]);
  // kernelbase: an address below the allocation granularity is refused before the kernel sees it.
  if (addr !== 0 && addr < ALLOCATION_GRANULARITY) return ctx.fail('ERROR_INVALID_PARAMETER');
  // AT_ROUND_TO_PAGE is for NtAllocateVirtualMemory's callers only (Wine test_VirtualAlloc).
  if (hasFlag(num(a[2]), AT_ROUND_TO_PAGE)) return ctx.fail('ERROR_INVALID_PARAMETER');
  const r = ctx.call('NtAllocateVirtualMemory', [h, addr, 0, num(a[1]), num(a[2]), num(a[3])]);
  if (r.error !== null) return failNt(ctx, r);
  // VirtualAlloc returns the base of the pages it acted on.
  return r.record!.fields.BaseAddress as number;
}

function virtualFreeEx(ctx: Ctx, h: SyscallArg, a: readonly SyscallArg[]): number {
  const [addr, size, type] = [num(a[0]), num(a[1]), num(a[2])];
  // kernelbase VirtualFreeEx: MEM_RELEASE with a size is refused before the kernel sees it.
  if (hasFlag(type, MEM_RELEASE) && size !== 0) return ctx.fail('ERROR_INVALID_PARAMETER');
  const r = ctx.call('NtFreeVirtualMemory', [h, addr, size, type]);
  return r.error !== null ? failNt(ctx, r) : 1;
}

function virtualProtectEx(ctx: Ctx, h: SyscallArg, a: readonly SyscallArg[]): number {
  const r = ctx.call('NtProtectVirtualMemory', [h, num(a[0]), num(a[1]), num(a[2])]);
  if (r.error !== null) return failNt(ctx, r);
  ctx.record({ type: 'VirtualProtect', fields: { lpflOldProtect: r.record!.fields.OldAccessProtection ?? 0 } });
  return 1;
}

function virtualQueryEx(ctx: Ctx, h: SyscallArg, a: readonly SyscallArg[]): number {
  const r = ctx.call('NtQueryVirtualMemory', [h, num(a[0]), 0]);
  if (r.error !== null) return failNt(ctx, r);
  ctx.record(r.record!);
  return MBI_SIZE;
}

/**
 * kernelbase WriteProcessMemory: it first makes the range PAGE_EXECUTE_READWRITE to learn its
 * protection; writable pages are written as they are, read-only and no-access ones refused with
 * ERROR_NOACCESS, executable read-only code written under the temporary protection (a debugger
 * setting a breakpoint), the old protection put back.
 */
function writeProcessMemory(ctx: Ctx, a: readonly SyscallArg[]): number {
  const [h, base, buffer, size] = [num(a[0]), num(a[1]), num(a[2]), num(a[3])];
  const probe = Math.max(Number.isSafeInteger(size) ? size : 0, 1);
  const pr = ctx.call('NtProtectVirtualMemory', [h, base, probe, PAGE_EXECUTE_READWRITE]);
  if (pr.error !== null) return failNt(ctx, pr);
  const old = pr.record!.fields.OldAccessProtection as number;
  const oldBase = baseProtection(old);
  const restore = (): void => {
    ctx.call('NtProtectVirtualMemory', [h, base, probe, old]);
  };
  if (oldBase === PAGE_NOACCESS || oldBase === PAGE_READONLY || hasFlag(old, 0x100)) {
    restore();
    return ctx.fail('ERROR_NOACCESS');
  }
  const writable = oldBase !== PAGE_EXECUTE && oldBase !== PAGE_EXECUTE_READ;
  if (writable) restore();
  const r = ctx.call('NtWriteVirtualMemory', [h, base, buffer, size]);
  if (!writable) restore();
  ctx.record({ type: 'WriteProcessMemory', fields: { lpNumberOfBytesWritten: (r.record?.fields.NumberOfBytesWritten as number | undefined) ?? 0 } });
  return r.error !== null ? failNt(ctx, r) : 1;
}

/** ReadProcessMemory(hProcess, lpBaseAddress, lpBuffer, nSize): the bytes land at lpBuffer in the caller's space. */
function readProcessMemory(ctx: Ctx, a: readonly SyscallArg[]): number {
  const r = ctx.call('NtReadVirtualMemory', [num(a[0]), num(a[1]), num(a[2]), num(a[3])]);
  ctx.record({ type: 'ReadProcessMemory', fields: { lpNumberOfBytesRead: (r.record?.fields.NumberOfBytesRead as number | undefined) ?? 0 } });
  return r.error !== null ? failNt(ctx, r) : 1;
}

function getExitCodeProcess(ctx: Ctx, a: readonly SyscallArg[]): number {
  const r = ctx.call('NtQueryInformationProcess', [num(a[0]), 0]);
  if (r.error !== null) return failNt(ctx, r);
  ctx.record({ type: 'GetExitCodeProcess', fields: { lpExitCode: r.record!.fields.ExitStatus ?? 0 } });
  return 1;
}

function addVectoredExceptionHandler(ctx: Ctx, a: readonly SyscallArg[]): number {
  // Handler: what the handler returns — EXCEPTION_CONTINUE_EXECUTION (-1) or EXCEPTION_CONTINUE_SEARCH (0).
  const action: HandlerAction = num(a[1]) === -1 ? 'continue-execution' : 'continue-search';
  const code = typeof a[2] === 'string' ? a[2] : null;
  const list = ctx.process.space.vectoredHandlers;
  const entry = { code, action };
  if (num(a[0]) !== 0) list.unshift(entry);
  else list.push(entry);
  return list.length;
}

export function memorySyscalls(): Spec[] {
  return [
    nt('NtAllocateVirtualMemory', 0x18, ['ProcessHandle', 'BaseAddress', 'ZeroBits', 'RegionSize', 'AllocationType', 'Protect'], ntAllocate),
    nt('NtFreeVirtualMemory', 0x1e, ['ProcessHandle', 'BaseAddress', 'RegionSize', 'FreeType'], ntFree),
    nt('NtProtectVirtualMemory', 0x50, ['ProcessHandle', 'BaseAddress', 'RegionSize', 'NewProtect'], ntProtect),
    nt('NtQueryVirtualMemory', 0x23, ['ProcessHandle', 'BaseAddress', 'MemoryInformationClass'], ntQuery),
    nt('NtReadVirtualMemory', 0x3f, ['ProcessHandle', 'BaseAddress', 'Buffer', 'NumberOfBytesToRead'], ntReadVirtualMemory),
    nt('NtWriteVirtualMemory', 0x3a, ['ProcessHandle', 'BaseAddress', 'Buffer', 'NumberOfBytesToWrite'], ntWriteVirtualMemory),
    nt('NtClose', 0x0f, ['Handle'], ntClose),
    nt('NtTerminateProcess', 0x2c, ['ProcessHandle', 'ExitStatus'], ntTerminateProcess),
    nt('NtQueryInformationProcess', 0x19, ['ProcessHandle', 'ProcessInformationClass'], ntQueryInformationProcess),
    nt('NtCreateUserProcess', 0xc8, ['ImagePath', 'CreateFlags', 'ProcessFlags'], ntCreateUserProcess),
    nt('NtCreateSection', 0x4a, ['SectionPageProtection', 'MaximumSize', 'ObjectName', 'HandleAttributes', 'AllocationAttributes', 'FileHandle'], ntCreateSection),
    nt('NtOpenSection', 0x37, ['ObjectName', 'HandleAttributes'], ntOpenSection),
    nt('NtMapViewOfSection', 0x28, ['SectionHandle', 'ProcessHandle', 'SectionOffset', 'ViewSize', 'Win32Protect', 'BaseAddress'], ntMapViewOfSection),
    nt('NtUnmapViewOfSection', 0x2a, ['ProcessHandle', 'BaseAddress'], ntUnmapViewOfSection),
    nt('NtLockVirtualMemory', 0xe2, ['ProcessHandle', 'BaseAddress', 'RegionSize', 'MapType'], (c, a) => ntLockVirtualMemory(c, a, true)),
    nt('NtUnlockVirtualMemory', 0x1e6, ['ProcessHandle', 'BaseAddress', 'RegionSize', 'MapType'], (c, a) => ntLockVirtualMemory(c, a, false)),
    nt('NtSetInformationProcess', 0x1c, ['ProcessHandle', 'ProcessInformationClass', 'MinimumWorkingSetSize', 'MaximumWorkingSetSize'], ntSetInformationProcess),
    nt('NtOpenProcess', 0x26, ['DesiredAccess', 'ClientId'], ntOpenProcess),
    nt('NtResumeThread', 0x52, ['ThreadHandle'], (c, a) => ntResumeThread(c, a, false)),
    nt('NtSuspendThread', 0x1bc, ['ThreadHandle'], (c, a) => ntResumeThread(c, a, true)),
    win32('VirtualAllocEx', ['hProcess', 'lpAddress', 'dwSize', 'flAllocationType', 'flProtect'], (c, a) => virtualAllocEx(c, a[0]!, a.slice(1))),
    win32('VirtualAlloc', ['lpAddress', 'dwSize', 'flAllocationType', 'flProtect'], (c, a) => virtualAllocEx(c, CURRENT_PROCESS, a)),
    win32('VirtualFreeEx', ['hProcess', 'lpAddress', 'dwSize', 'dwFreeType'], (c, a) => virtualFreeEx(c, a[0]!, a.slice(1))),
    win32('VirtualFree', ['lpAddress', 'dwSize', 'dwFreeType'], (c, a) => virtualFreeEx(c, CURRENT_PROCESS, a)),
    win32('VirtualProtectEx', ['hProcess', 'lpAddress', 'dwSize', 'flNewProtect'], (c, a) => virtualProtectEx(c, a[0]!, a.slice(1))),
    win32('VirtualProtect', ['lpAddress', 'dwSize', 'flNewProtect'], (c, a) => virtualProtectEx(c, CURRENT_PROCESS, a)),
    win32('VirtualQueryEx', ['hProcess', 'lpAddress'], (c, a) => virtualQueryEx(c, a[0]!, a.slice(1))),
    win32('VirtualQuery', ['lpAddress'], (c, a) => virtualQueryEx(c, CURRENT_PROCESS, a)),
    win32('ReadProcessMemory', ['hProcess', 'lpBaseAddress', 'lpBuffer', 'nSize'], readProcessMemory),
    win32('WriteProcessMemory', ['hProcess', 'lpBaseAddress', 'lpBuffer', 'nSize'], writeProcessMemory),
    win32('CloseHandle', ['hObject'], (c, a) => {
      const r = c.call('NtClose', [num(a[0])]);
      return r.error !== null ? failNt(c, r) : 1;
    }),
    win32('TerminateProcess', ['hProcess', 'uExitCode'], (c, a) => {
      // NtTerminateProcess(0, ...) means the caller; TerminateProcess(NULL) is an invalid handle.
      if (num(a[0]) === 0) return c.fail('ERROR_INVALID_HANDLE');
      const r = c.call('NtTerminateProcess', [num(a[0]), num(a[1])]);
      return r.error !== null ? failNt(c, r) : 1;
    }),
    // bInheritHandles comes third here (after the two arguments the first form took).
    win32('CreateProcessW', ['lpApplicationName', 'dwCreationFlags', 'bInheritHandles'], (c, a) => {
      const r = c.call('NtCreateUserProcess', [a[0] ?? '', num(a[1]), num(a[2] ?? 0) !== 0 ? PROCESS_CREATE_FLAGS_INHERIT_HANDLES : 0]);
      if (r.error !== null) return failNt(c, r);
      const info = r.record!.fields;
      if (!hasFlag(num(a[1]), CREATE_SUSPENDED)) c.call('NtResumeThread', [info.hThread as number]);
      c.record({ type: 'PROCESS_INFORMATION', fields: info });
      return 1;
    }),
    // bInheritHandle stands for lpFileMappingAttributes->bInheritHandle (0: NULL attributes).
    win32('CreateFileMappingW', ['hFile', 'flProtect', 'dwMaximumSize', 'lpName', 'bInheritHandle'], createFileMappingW),
    win32('OpenFileMappingW', ['dwDesiredAccess', 'bInheritHandle', 'lpName'], (c, a) => {
      const r = c.call('NtOpenSection', [a[2] ?? '', num(a[1]) !== 0 ? 2 : 0]);
      return r.error !== null ? failNt(c, r) : (r.record!.fields.SectionHandle as number);
    }),
    win32('MapViewOfFile', ['hFileMappingObject', 'dwDesiredAccess', 'dwFileOffset', 'dwNumberOfBytesToMap'], (c, a) => mapViewOfFileEx(c, a, 0)),
    win32('MapViewOfFileEx', ['hFileMappingObject', 'dwDesiredAccess', 'dwFileOffset', 'dwNumberOfBytesToMap', 'lpBaseAddress'], (c, a) => mapViewOfFileEx(c, a, num(a[4]))),
    win32('UnmapViewOfFile', ['lpBaseAddress'], (c, a) => {
      const r = c.call('NtUnmapViewOfSection', [CURRENT_PROCESS, num(a[0])]);
      return r.error !== null ? failNt(c, r) : 1;
    }),
    win32('VirtualLock', ['lpAddress', 'dwSize'], (c, a) => {
      const r = c.call('NtLockVirtualMemory', [CURRENT_PROCESS, num(a[0]), num(a[1]), 1]);
      return r.error !== null ? failNt(c, r) : 1;
    }),
    win32('VirtualUnlock', ['lpAddress', 'dwSize'], (c, a) => {
      const r = c.call('NtUnlockVirtualMemory', [CURRENT_PROCESS, num(a[0]), num(a[1]), 1]);
      return r.error !== null ? failNt(c, r) : 1;
    }),
    win32('SetProcessWorkingSetSize', ['hProcess', 'dwMinimumWorkingSetSize', 'dwMaximumWorkingSetSize'], (c, a) => {
      const r = c.call('NtSetInformationProcess', [num(a[0]), 1, num(a[1]), num(a[2])]);
      return r.error !== null ? failNt(c, r) : 1;
    }),
    win32('K32EmptyWorkingSet', ['hProcess'], (c, a) => {
      const r = c.call('NtSetInformationProcess', [num(a[0]), 1, -1, -1]);
      return r.error !== null ? failNt(c, r) : 1;
    }),
    win32('K32GetProcessMemoryInfo', ['Process'], (c, a) => {
      const r = c.call('NtQueryInformationProcess', [num(a[0]), 3]);
      if (r.error !== null) return failNt(c, r);
      c.record({ type: 'PROCESS_MEMORY_COUNTERS_EX', fields: r.record!.fields });
      return 1;
    }),
    win32('OpenProcess', ['dwDesiredAccess', 'bInheritHandle', 'dwProcessId'], (c, a) => {
      const r = c.call('NtOpenProcess', [num(a[0]), num(a[2])]);
      return r.error !== null ? failNt(c, r) : (r.record!.fields.ProcessHandle as number);
    }),
    win32('ExitProcess', ['uExitCode'], (c, a) => {
      c.call('NtTerminateProcess', [CURRENT_PROCESS, num(a[0])]);
      return 0;
    }),
    win32('GetExitCodeProcess', ['hProcess'], getExitCodeProcess),
    win32('ResumeThread', ['hThread'], (c, a) => {
      const r = c.call('NtResumeThread', [num(a[0])]);
      return r.error !== null ? failNt(c, r) : (r.record!.fields.PreviousSuspendCount as number);
    }, 0xffffffff),
    win32('SuspendThread', ['hThread'], (c, a) => {
      const r = c.call('NtSuspendThread', [num(a[0])]);
      return r.error !== null ? failNt(c, r) : (r.record!.fields.PreviousSuspendCount as number);
    }, 0xffffffff),
    win32('GetLastError', [], (c) => c.thread.errors.win32?.number ?? 0),
    win32('SetLastError', ['dwErrCode'], (c, a) => {
      const code = num(a[0]);
      c.thread.errors.win32 = { name: win32ErrorName(code) ?? String(code), number: code };
      return 0;
    }),
    win32('GetCurrentProcessId', [], (c) => c.process.pid),
    win32('AddVectoredExceptionHandler', ['First', 'Handler', 'ExceptionCode'], addVectoredExceptionHandler),
  ];
}
