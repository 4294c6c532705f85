/**
 * How Cygwin turns a Win32 error into errno: winsup/cygwin/errno.cc, geterrno_from_win_error over
 * the errmap table (an X(ERROR_..., E...) list in errno.cc; since 2024 the same pairs live in
 * local_includes/errmap.h as an array indexed by the Windows code). A code errmap does not list
 * falls back to the caller's default, which seterrno_from_win_error passes as EACCES. An NTSTATUS
 * goes through RtlNtStatusToDosError first (geterrno_from_nt_status), so
 * cygwinErrnoFromWin32(ntStatusToWin32Error(status)) is Cygwin's mapping of a status.
 *
 * Only the Win32 codes in WIN32_ERRORS are listed. Those of them errmap does not handle (it has no
 * entry for ERROR_INVALID_ACCESS, ERROR_BAD_LENGTH, ERROR_INSUFFICIENT_BUFFER, ERROR_PARTIAL_COPY,
 * ERROR_GEN_FAILURE, ERROR_SWAPERROR, ERROR_STACK_OVERFLOW, ERROR_DLL_INIT_FAILED,
 * ERROR_MAPPED_ALIGNMENT, ERROR_COMMITMENT_MINIMUM, ERROR_INVALID_FLAGS) get the fallback, as in
 * Cygwin. Some choices are surprising and are Cygwin's (its source says "Some of these choices are
 * arbitrary!"): ERROR_INVALID_FUNCTION is EBADRQC, ERROR_PROC_NOT_FOUND is ESRCH,
 * ERROR_NO_SYSTEM_RESOURCES is EFBIG, ERROR_NOT_ENOUGH_QUOTA is EIO.
 */
import type { CygwinErrnoName } from './errno.js';
import { WIN32_ERRORS, type Win32ErrorName } from './win32.js';

export const CYGWIN_WIN32_ERRNO: Readonly<Partial<Record<Win32ErrorName, CygwinErrnoName>>> = {
  ERROR_INVALID_FUNCTION: 'EBADRQC',
  ERROR_FILE_NOT_FOUND: 'ENOENT',
  ERROR_PATH_NOT_FOUND: 'ENOENT',
  ERROR_TOO_MANY_OPEN_FILES: 'EMFILE',
  ERROR_ACCESS_DENIED: 'EACCES',
  ERROR_INVALID_HANDLE: 'EBADF',
  ERROR_NOT_ENOUGH_MEMORY: 'ENOMEM',
  ERROR_OUTOFMEMORY: 'ENOMEM',
  ERROR_NO_MORE_FILES: 'ENMFILE',
  ERROR_WRITE_PROTECT: 'EROFS',
  ERROR_NOT_SUPPORTED: 'ENOSYS',
  ERROR_UNEXP_NET_ERR: 'EIO',
  ERROR_INVALID_PARAMETER: 'EINVAL',
  ERROR_MOD_NOT_FOUND: 'ENOENT',
  ERROR_PROC_NOT_FOUND: 'ESRCH',
  ERROR_ALREADY_EXISTS: 'EEXIST',
  ERROR_FILE_EXISTS: 'EEXIST',
  ERROR_INVALID_EXE_SIGNATURE: 'ENOEXEC',
  ERROR_EXE_MARKED_INVALID: 'ENOEXEC',
  ERROR_BAD_EXE_FORMAT: 'ENOEXEC',
  ERROR_EXE_MACHINE_TYPE_MISMATCH: 'ENOEXEC',
  ERROR_INVALID_ADDRESS: 'EINVAL',
  ERROR_IO_PENDING: 'EAGAIN',
  ERROR_NOACCESS: 'EFAULT',
  ERROR_NO_SYSTEM_RESOURCES: 'EFBIG',
  ERROR_WORKING_SET_QUOTA: 'EAGAIN',
  ERROR_PAGEFILE_QUOTA: 'EAGAIN',
  ERROR_COMMITMENT_LIMIT: 'EAGAIN',
  ERROR_NOT_ENOUGH_QUOTA: 'EIO',
};

const BY_CODE = new Map<number, CygwinErrnoName>();
for (const [name, errno] of Object.entries(CYGWIN_WIN32_ERRNO) as [Win32ErrorName, CygwinErrnoName][]) {
  BY_CODE.set(WIN32_ERRORS[name], errno);
}

/**
 * geterrno_from_win_error: the errno Cygwin sets for Win32 error `code`, or `fallback` (EACCES,
 * what seterrno_from_win_error passes) for a code its errmap does not handle.
 */
export function cygwinErrnoFromWin32(code: number, fallback: CygwinErrnoName = 'EACCES'): CygwinErrnoName {
  return BY_CODE.get(code) ?? fallback;
}
