/**
 * Windows memory-manager constants (winnt.h) and the rules on protection values that
 * NtAllocateVirtualMemory and NtProtectVirtualMemory apply (MiMakeProtectionMask), as Microsoft's
 * "Memory Protection Constants" page states them and Wine's dlls/kernel32/tests/virtual.c checks.
 */

export const MEM_COMMIT = 0x1000;
export const MEM_RESERVE = 0x2000;
export const MEM_DECOMMIT = 0x4000;
export const MEM_RELEASE = 0x8000;
export const MEM_FREE = 0x10000;
export const MEM_PRIVATE = 0x20000;
export const MEM_MAPPED = 0x40000;
export const MEM_RESET = 0x80000;
export const MEM_TOP_DOWN = 0x100000;
export const MEM_WRITE_WATCH = 0x200000;
export const MEM_PHYSICAL = 0x400000;
export const MEM_RESET_UNDO = 0x1000000;
export const MEM_IMAGE = 0x1000000;
export const MEM_LARGE_PAGES = 0x20000000;
/** Not an allocation type VirtualAlloc accepts (Wine test_VirtualAlloc: ERROR_INVALID_PARAMETER). */
export const AT_ROUND_TO_PAGE = 0x40000000;

export const PAGE_NOACCESS = 0x01;
export const PAGE_READONLY = 0x02;
export const PAGE_READWRITE = 0x04;
export const PAGE_WRITECOPY = 0x08;
export const PAGE_EXECUTE = 0x10;
export const PAGE_EXECUTE_READ = 0x20;
export const PAGE_EXECUTE_READWRITE = 0x40;
export const PAGE_EXECUTE_WRITECOPY = 0x80;
export const PAGE_GUARD = 0x100;
export const PAGE_NOCACHE = 0x200;
export const PAGE_WRITECOMBINE = 0x400;
/** The cache-attribute bits: per allocation on recent Windows, not per page. */
export const PAGE_CACHE_BITS = PAGE_NOCACHE + PAGE_WRITECOMBINE;

export const CREATE_SUSPENDED = 0x4;
/** GetCurrentProcess() and GetCurrentThread(): the pseudo handles (HANDLE)-1 and (HANDLE)-2. */
export const CURRENT_PROCESS = -1;
export const CURRENT_THREAD = -2;
/** WaitForSingleObject results. */
export const WAIT_OBJECT_0 = 0;
export const WAIT_TIMEOUT = 0x102;
export const WAIT_FAILED = 0xffffffff;
export const INFINITE = 0xffffffff;
/** GetExitCodeProcess while the process runs. */
export const STILL_ACTIVE = 0x103;

/** x64 user space (MmHighestUserAddress 0x7FFFFFFEFFFF; the last 64 KiB below 2^47 is a no-access gap). */
export const LOWEST_USER_ADDRESS = 0x10000;
export const HIGHEST_USER_ADDRESS = 0x7fff_fffe_ffff;
/** The end of the range VirtualQuery answers for (the first address it rejects). */
export const USER_SPACE_END = HIGHEST_USER_ADDRESS + 1;
/** Reservations start on multiples of the allocation granularity (SYSTEM_INFO.dwAllocationGranularity). */
export const ALLOCATION_GRANULARITY = 0x10000;
export const PAGE = 4096;

const PROT_NAMES: readonly [number, string][] = [
  [PAGE_NOACCESS, 'PAGE_NOACCESS'], [PAGE_READONLY, 'PAGE_READONLY'], [PAGE_READWRITE, 'PAGE_READWRITE'],
  [PAGE_WRITECOPY, 'PAGE_WRITECOPY'], [PAGE_EXECUTE, 'PAGE_EXECUTE'], [PAGE_EXECUTE_READ, 'PAGE_EXECUTE_READ'],
  [PAGE_EXECUTE_READWRITE, 'PAGE_EXECUTE_READWRITE'], [PAGE_EXECUTE_WRITECOPY, 'PAGE_EXECUTE_WRITECOPY'],
];

/** The base protection (one of the eight access values) of a PAGE_* value. */
export function baseProtection(protect: number): number {
  return protect % 0x100;
}

/** True when `protect` has the flag bit `flag` (a power of two below 2^31, so `%` math is exact). */
export function hasFlag(value: number, flag: number): boolean {
  return Math.floor(value / flag) % 2 === 1;
}

/**
 * MiMakeProtectionMask's verdict: exactly one access value in the low byte, and the modifiers as
 * Microsoft documents them — PAGE_GUARD not with PAGE_NOACCESS; PAGE_NOCACHE not with PAGE_GUARD,
 * PAGE_NOACCESS or PAGE_WRITECOMBINE; PAGE_WRITECOMBINE not with PAGE_NOACCESS or PAGE_GUARD; no
 * other bits.
 */
export function isValidProtection(protect: number): boolean {
  if (!Number.isInteger(protect) || protect <= 0 || protect >= 0x800) return false;
  const base = baseProtection(protect);
  if (!PROT_NAMES.some(([v]) => v === base)) return false;
  const guard = hasFlag(protect, PAGE_GUARD);
  const nocache = hasFlag(protect, PAGE_NOCACHE);
  const wc = hasFlag(protect, PAGE_WRITECOMBINE);
  if (base === PAGE_NOACCESS && (guard || nocache || wc)) return false;
  if (nocache && (guard || wc)) return false;
  if (wc && guard) return false;
  return true;
}

/** PAGE_WRITECOPY and PAGE_EXECUTE_WRITECOPY: only for views of sections and images. */
export function isWriteCopy(protect: number): boolean {
  const b = baseProtection(protect);
  return b === PAGE_WRITECOPY || b === PAGE_EXECUTE_WRITECOPY;
}

export function allowsRead(protect: number): boolean {
  const b = baseProtection(protect);
  return b !== PAGE_NOACCESS && b !== 0;
}

export function allowsWrite(protect: number): boolean {
  const b = baseProtection(protect);
  return b === PAGE_READWRITE || b === PAGE_WRITECOPY || b === PAGE_EXECUTE_READWRITE || b === PAGE_EXECUTE_WRITECOPY;
}

export function allowsExecute(protect: number): boolean {
  return baseProtection(protect) >= PAGE_EXECUTE;
}

/** The protection a written copy-on-write page gets: READWRITE, or EXECUTE_READWRITE. */
export function afterCopy(protect: number): number {
  const b = baseProtection(protect);
  const rest = protect - b;
  if (b === PAGE_WRITECOPY) return rest + PAGE_READWRITE;
  if (b === PAGE_EXECUTE_WRITECOPY) return rest + PAGE_EXECUTE_READWRITE;
  return protect;
}

/** The copy-on-write form of a writable protection (a view of an image: RW shows as WRITECOPY until written). */
export function toWriteCopy(protect: number): number {
  const b = baseProtection(protect);
  const rest = protect - b;
  if (b === PAGE_READWRITE) return rest + PAGE_WRITECOPY;
  if (b === PAGE_EXECUTE_READWRITE) return rest + PAGE_EXECUTE_WRITECOPY;
  return protect;
}

/** 'PAGE_READWRITE | PAGE_GUARD' (0 prints as '0': the Protect of reserved memory). */
export function protectName(protect: number): string {
  if (protect === 0) return '0';
  const base = baseProtection(protect);
  const parts = [PROT_NAMES.find(([v]) => v === base)?.[1] ?? `0x${base.toString(16)}`];
  if (hasFlag(protect, PAGE_GUARD)) parts.push('PAGE_GUARD');
  if (hasFlag(protect, PAGE_NOCACHE)) parts.push('PAGE_NOCACHE');
  if (hasFlag(protect, PAGE_WRITECOMBINE)) parts.push('PAGE_WRITECOMBINE');
  return parts.join(' | ');
}

export function stateName(state: number): string {
  return state === MEM_COMMIT ? 'MEM_COMMIT' : state === MEM_RESERVE ? 'MEM_RESERVE' : 'MEM_FREE';
}

export function typeName(type: number): string {
  return type === MEM_IMAGE ? 'MEM_IMAGE' : type === MEM_MAPPED ? 'MEM_MAPPED' : type === MEM_PRIVATE ? 'MEM_PRIVATE' : '';
}

/** Parse a PAGE_* / MEM_* name (or a number) for workloads; undefined if unknown. */
export const NAMED_CONSTANTS: Readonly<Record<string, number>> = {
  MEM_COMMIT, MEM_RESERVE, MEM_DECOMMIT, MEM_RELEASE, MEM_FREE, MEM_RESET, MEM_RESET_UNDO, MEM_TOP_DOWN, MEM_WRITE_WATCH,
  MEM_PHYSICAL, MEM_LARGE_PAGES, PAGE_NOACCESS, PAGE_READONLY, PAGE_READWRITE, PAGE_WRITECOPY, PAGE_EXECUTE,
  PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE, PAGE_EXECUTE_WRITECOPY, PAGE_GUARD, PAGE_NOCACHE, PAGE_WRITECOMBINE,
  CREATE_SUSPENDED,
};
