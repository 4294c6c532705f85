/** Error numbers by error space, for the dispatcher (the tables themselves live in core). */
import { errnoNumber, NTSTATUS, WIN32_ERRORS, type ErrnoName, type NtStatusName, type Win32ErrorName } from '@polykernel/core';
import type { ErrorSpace } from './contract.js';

/** The number of `name` in `space`, or undefined when the space has no such error. */
export function errorNumber(space: ErrorSpace, name: string): number | undefined {
  if (space === 'win32') return (WIN32_ERRORS as Readonly<Record<string, number>>)[name];
  if (space === 'ntstatus') return (NTSTATUS as Readonly<Record<string, number>>)[name];
  return errnoNumber(space, name as ErrnoName);
}

/** The "no such call" error of each space (ENOSYS; Win32 ERROR_INVALID_FUNCTION; STATUS_INVALID_SYSTEM_SERVICE). */
export function noSuchCall(space: ErrorSpace): string {
  if (space === 'win32') return 'ERROR_INVALID_FUNCTION' satisfies Win32ErrorName;
  if (space === 'ntstatus') return 'STATUS_INVALID_SYSTEM_SERVICE' satisfies NtStatusName;
  return 'ENOSYS';
}

