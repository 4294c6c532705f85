/**
 * NTSTATUS codes: what the Windows kernel (Nt* system calls, exceptions) returns, before the
 * Win32 layer turns them into GetLastError() codes.
 *
 * Values from ntstatus.h (checked against Wine's include/ntstatus.h). The table holds them as the
 * header writes them: unsigned 32-bit numbers (0xC0000005), which are exact JavaScript numbers. A
 * status read back as a signed 32-bit integer (-1073741819) is accepted by every function here and
 * normalised first. No bitwise operators: these values exceed 2^31.
 *
 * Layout (ntdef.h): the top two bits are the severity — 0 success, 1 informational, 2 warning,
 * 3 error; NT_SUCCESS(s) is "s >= 0 as a signed 32-bit number", i.e. severity success or
 * informational.
 */
import { WIN32_ERRORS, type Win32ErrorName } from './win32.js';

export const NTSTATUS = {
  STATUS_SUCCESS: 0x0000_0000,
  STATUS_PENDING: 0x0000_0103,
  STATUS_GUARD_PAGE_VIOLATION: 0x8000_0001,
  STATUS_BREAKPOINT: 0x8000_0003,
  STATUS_SINGLE_STEP: 0x8000_0004,
  STATUS_PARTIAL_COPY: 0x8000_000d,
  STATUS_UNSUCCESSFUL: 0xc000_0001,
  STATUS_NOT_IMPLEMENTED: 0xc000_0002,
  STATUS_INVALID_INFO_CLASS: 0xc000_0003,
  STATUS_INFO_LENGTH_MISMATCH: 0xc000_0004,
  STATUS_ACCESS_VIOLATION: 0xc000_0005,
  STATUS_IN_PAGE_ERROR: 0xc000_0006,
  STATUS_PAGEFILE_QUOTA: 0xc000_0007,
  STATUS_INVALID_HANDLE: 0xc000_0008,
  STATUS_INVALID_CID: 0xc000_000b,
  STATUS_INVALID_PARAMETER: 0xc000_000d,
  STATUS_NO_MEMORY: 0xc000_0017,
  STATUS_CONFLICTING_ADDRESSES: 0xc000_0018,
  STATUS_NOT_MAPPED_VIEW: 0xc000_0019,
  STATUS_UNABLE_TO_FREE_VM: 0xc000_001a,
  STATUS_UNABLE_TO_DELETE_SECTION: 0xc000_001b,
  STATUS_INVALID_SYSTEM_SERVICE: 0xc000_001c,
  STATUS_ILLEGAL_INSTRUCTION: 0xc000_001d,
  STATUS_INVALID_VIEW_SIZE: 0xc000_001f,
  STATUS_ALREADY_COMMITTED: 0xc000_0021,
  STATUS_ACCESS_DENIED: 0xc000_0022,
  STATUS_BUFFER_TOO_SMALL: 0xc000_0023,
  STATUS_OBJECT_TYPE_MISMATCH: 0xc000_0024,
  STATUS_NOT_LOCKED: 0xc000_002a,
  STATUS_NOT_COMMITTED: 0xc000_002d,
  STATUS_OBJECT_NAME_NOT_FOUND: 0xc000_0034,
  STATUS_OBJECT_PATH_NOT_FOUND: 0xc000_003a,
  STATUS_SECTION_TOO_BIG: 0xc000_0040,
  STATUS_INVALID_PAGE_PROTECTION: 0xc000_0045,
  STATUS_SECTION_PROTECTION: 0xc000_004e,
  STATUS_INVALID_IMAGE_FORMAT: 0xc000_007b,
  STATUS_INSUFFICIENT_RESOURCES: 0xc000_009a,
  STATUS_FREE_VM_NOT_AT_BASE: 0xc000_009f,
  STATUS_MEMORY_NOT_ALLOCATED: 0xc000_00a0,
  STATUS_INVALID_PARAMETER_1: 0xc000_00ef,
  STATUS_INVALID_PARAMETER_2: 0xc000_00f0,
  STATUS_INVALID_PARAMETER_3: 0xc000_00f1,
  STATUS_INVALID_PARAMETER_4: 0xc000_00f2,
  STATUS_INVALID_PARAMETER_5: 0xc000_00f3,
  STATUS_INVALID_PARAMETER_6: 0xc000_00f4,
  STATUS_STACK_OVERFLOW: 0xc000_00fd,
  STATUS_PROCESS_IS_TERMINATING: 0xc000_010a,
  STATUS_COMMITMENT_LIMIT: 0xc000_012d,
  STATUS_DLL_NOT_FOUND: 0xc000_0135,
  STATUS_ENTRYPOINT_NOT_FOUND: 0xc000_0139,
  STATUS_INVALID_ADDRESS: 0xc000_0141,
  STATUS_DLL_INIT_FAILED: 0xc000_0142,
  STATUS_MAPPED_ALIGNMENT: 0xc000_0220,
  STATUS_INVALID_FILE_FOR_SECTION: 0xc000_0020,
  STATUS_OBJECT_NAME_COLLISION: 0xc000_0035,
  STATUS_MEDIA_WRITE_PROTECTED: 0xc000_00a2,
  STATUS_FILE_IS_A_DIRECTORY: 0xc000_00ba,
  STATUS_MAPPED_FILE_SIZE_ZERO: 0xc000_011e,
  STATUS_INVALID_IMAGE_NOT_MZ: 0xc000_012f,
} as const;

export type NtStatusName = keyof typeof NTSTATUS;

export type NtSeverity = 'success' | 'informational' | 'warning' | 'error';

const TWO_32 = 2 ** 32;
const TWO_30 = 2 ** 30;

/** The unsigned 32-bit form of a status given either way (0xC0000005 or -1073741819); NaN if it is neither. */
function normalize(code: number): number {
  if (!Number.isInteger(code) || code < -(2 ** 31) || code >= TWO_32) return Number.NaN;
  return code < 0 ? code + TWO_32 : code;
}

const BY_VALUE = new Map<number, NtStatusName>();
for (const name of Object.keys(NTSTATUS) as NtStatusName[]) BY_VALUE.set(NTSTATUS[name], name);

/** The name of a status in the table, or undefined. */
export function ntStatusName(code: number): NtStatusName | undefined {
  return BY_VALUE.get(normalize(code));
}

/** The severity field (the top two bits), computed arithmetically. */
export function ntSeverity(code: number): NtSeverity {
  const u = normalize(code);
  if (Number.isNaN(u)) throw new RangeError(`not a 32-bit NTSTATUS: ${code}`);
  return (['success', 'informational', 'warning', 'error'] as const)[Math.floor(u / TWO_30)]!;
}

/** NT_SUCCESS: true for the success and informational severities (the status is >= 0 as a signed 32-bit number). */
export function ntSuccess(code: number): boolean {
  const u = normalize(code);
  if (Number.isNaN(u)) throw new RangeError(`not a 32-bit NTSTATUS: ${code}`);
  return u < 2 ** 31;
}

/**
 * What RtlNtStatusToDosError returns for each status in the table: a Win32 error name, or
 * 'unchanged' where it hands back the status itself (the exception codes it maps 1:1, so
 * GetLastError() after a guard-page hit reads 0x80000001).
 *
 * From Wine's dlls/ntdll/error.h (the table its make_errors script generates from Windows' own
 * mapping). Some entries are less obvious than their names: STATUS_INVALID_ADDRESS is a network
 * transport status and maps to ERROR_UNEXP_NET_ERR, not ERROR_INVALID_ADDRESS (which the memory
 * statuses — CONFLICTING_ADDRESSES, NOT_MAPPED_VIEW, NOT_COMMITTED, FREE_VM_NOT_AT_BASE,
 * MEMORY_NOT_ALLOCATED — map to); STATUS_ALREADY_COMMITTED and STATUS_INVALID_VIEW_SIZE give
 * ERROR_ACCESS_DENIED; STATUS_SECTION_TOO_BIG gives ERROR_NOT_ENOUGH_MEMORY.
 */
export const NTSTATUS_WIN32_ERRORS: Readonly<Record<NtStatusName, Win32ErrorName | 'unchanged'>> = {
  STATUS_SUCCESS: 'ERROR_SUCCESS',
  STATUS_PENDING: 'ERROR_IO_PENDING',
  STATUS_GUARD_PAGE_VIOLATION: 'unchanged',
  STATUS_BREAKPOINT: 'unchanged',
  STATUS_SINGLE_STEP: 'unchanged',
  STATUS_PARTIAL_COPY: 'ERROR_PARTIAL_COPY',
  STATUS_UNSUCCESSFUL: 'ERROR_GEN_FAILURE',
  STATUS_NOT_IMPLEMENTED: 'ERROR_INVALID_FUNCTION',
  STATUS_INVALID_INFO_CLASS: 'ERROR_INVALID_PARAMETER',
  STATUS_INFO_LENGTH_MISMATCH: 'ERROR_BAD_LENGTH',
  STATUS_ACCESS_VIOLATION: 'ERROR_NOACCESS',
  STATUS_IN_PAGE_ERROR: 'ERROR_SWAPERROR',
  STATUS_PAGEFILE_QUOTA: 'ERROR_PAGEFILE_QUOTA',
  STATUS_INVALID_HANDLE: 'ERROR_INVALID_HANDLE',
  STATUS_INVALID_CID: 'ERROR_INVALID_PARAMETER',
  STATUS_INVALID_PARAMETER: 'ERROR_INVALID_PARAMETER',
  STATUS_NO_MEMORY: 'ERROR_NOT_ENOUGH_MEMORY',
  STATUS_CONFLICTING_ADDRESSES: 'ERROR_INVALID_ADDRESS',
  STATUS_NOT_MAPPED_VIEW: 'ERROR_INVALID_ADDRESS',
  STATUS_UNABLE_TO_FREE_VM: 'ERROR_INVALID_PARAMETER',
  STATUS_UNABLE_TO_DELETE_SECTION: 'ERROR_INVALID_PARAMETER',
  STATUS_INVALID_SYSTEM_SERVICE: 'ERROR_INVALID_FUNCTION',
  STATUS_ILLEGAL_INSTRUCTION: 'unchanged',
  STATUS_INVALID_VIEW_SIZE: 'ERROR_ACCESS_DENIED',
  STATUS_ALREADY_COMMITTED: 'ERROR_ACCESS_DENIED',
  STATUS_ACCESS_DENIED: 'ERROR_ACCESS_DENIED',
  STATUS_BUFFER_TOO_SMALL: 'ERROR_INSUFFICIENT_BUFFER',
  STATUS_OBJECT_TYPE_MISMATCH: 'ERROR_INVALID_HANDLE',
  STATUS_NOT_LOCKED: 'ERROR_NOT_LOCKED',
  STATUS_NOT_COMMITTED: 'ERROR_INVALID_ADDRESS',
  STATUS_OBJECT_NAME_NOT_FOUND: 'ERROR_FILE_NOT_FOUND',
  STATUS_OBJECT_PATH_NOT_FOUND: 'ERROR_PATH_NOT_FOUND',
  STATUS_SECTION_TOO_BIG: 'ERROR_NOT_ENOUGH_MEMORY',
  STATUS_INVALID_PAGE_PROTECTION: 'ERROR_INVALID_PARAMETER',
  STATUS_SECTION_PROTECTION: 'ERROR_INVALID_PARAMETER',
  STATUS_INVALID_IMAGE_FORMAT: 'ERROR_BAD_EXE_FORMAT',
  STATUS_INSUFFICIENT_RESOURCES: 'ERROR_NO_SYSTEM_RESOURCES',
  STATUS_FREE_VM_NOT_AT_BASE: 'ERROR_INVALID_ADDRESS',
  STATUS_MEMORY_NOT_ALLOCATED: 'ERROR_INVALID_ADDRESS',
  STATUS_INVALID_PARAMETER_1: 'ERROR_INVALID_PARAMETER',
  STATUS_INVALID_PARAMETER_2: 'ERROR_INVALID_PARAMETER',
  STATUS_INVALID_PARAMETER_3: 'ERROR_INVALID_PARAMETER',
  STATUS_INVALID_PARAMETER_4: 'ERROR_INVALID_PARAMETER',
  STATUS_INVALID_PARAMETER_5: 'ERROR_INVALID_PARAMETER',
  STATUS_INVALID_PARAMETER_6: 'ERROR_INVALID_PARAMETER',
  STATUS_STACK_OVERFLOW: 'ERROR_STACK_OVERFLOW',
  STATUS_PROCESS_IS_TERMINATING: 'ERROR_ACCESS_DENIED',
  STATUS_COMMITMENT_LIMIT: 'ERROR_COMMITMENT_LIMIT',
  STATUS_DLL_NOT_FOUND: 'ERROR_MOD_NOT_FOUND',
  STATUS_ENTRYPOINT_NOT_FOUND: 'ERROR_PROC_NOT_FOUND',
  STATUS_INVALID_ADDRESS: 'ERROR_UNEXP_NET_ERR',
  STATUS_DLL_INIT_FAILED: 'ERROR_DLL_INIT_FAILED',
  STATUS_MAPPED_ALIGNMENT: 'ERROR_MAPPED_ALIGNMENT',
  STATUS_INVALID_FILE_FOR_SECTION: 'ERROR_BAD_EXE_FORMAT',
  STATUS_OBJECT_NAME_COLLISION: 'ERROR_ALREADY_EXISTS',
  STATUS_MEDIA_WRITE_PROTECTED: 'ERROR_WRITE_PROTECT',
  STATUS_FILE_IS_A_DIRECTORY: 'ERROR_ACCESS_DENIED',
  STATUS_MAPPED_FILE_SIZE_ZERO: 'ERROR_FILE_INVALID',
  STATUS_INVALID_IMAGE_NOT_MZ: 'ERROR_BAD_EXE_FORMAT',
};

/**
 * RtlNtStatusToDosError for the statuses in the table: the Win32 error code GetLastError() would
 * then report (for the 1:1 exception codes, the status itself, unsigned). Undefined for a status
 * the table does not hold — the real function knows thousands more, so this does not guess.
 */
export function ntStatusToWin32Error(code: number): number | undefined {
  const name = ntStatusName(code);
  if (name === undefined) return undefined;
  const w = NTSTATUS_WIN32_ERRORS[name];
  return w === 'unchanged' ? NTSTATUS[name] : WIN32_ERRORS[w];
}
