/**
 * errno from Win32 errors as winsup/cygwin/errno.cc does it (seterrno_from_win_error over
 * errmap, EACCES for a code errmap does not list), through @polykernel/core's table.
 */
import { WIN32_ERRORS, cygwinErrnoFromWin32, type CygwinErrnoName, type Win32ErrorName } from '@polykernel/core';

/** geterrno_from_win_error for a Win32 error given by name (as the Windows personality reports it). */
export function errnoFromWin32(name: string | null): CygwinErrnoName {
  const code = name === null ? undefined : (WIN32_ERRORS as Record<string, number>)[name as Win32ErrorName];
  return code === undefined ? 'EACCES' : cygwinErrnoFromWin32(code);
}
