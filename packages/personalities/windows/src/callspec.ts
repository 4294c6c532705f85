/**
 * How the personality's calls are declared: NT services are traps with NTSTATUS results (the
 * failure value is the status), kernel32/ntdll library functions are library calls whose errors
 * are Win32 codes set through RtlNtStatusToDosError (kernelbase's BaseSetLastNTError).
 */
import { NTSTATUS, ntStatusToWin32Error, win32ErrorName } from '@polykernel/core';
import type { SyscallArg, SyscallContext, SyscallResult, SyscallSpec } from '@polykernel/kernel';
import type { WindowsMachine, WindowsSpace } from './types.js';

export type Ctx = SyscallContext<WindowsSpace, WindowsMachine>;
export type Spec = SyscallSpec<WindowsSpace, WindowsMachine>;
export type Handler = Spec['handler'];

/** A numeric argument, NaN when the caller passed a string or nothing. */
export const num = (a: SyscallArg | undefined): number => (typeof a === 'number' ? a : Number.NaN);

/** A string argument (a name or path), '' when absent or a number (a NULL pointer). */
export const str = (a: SyscallArg | undefined): string => (typeof a === 'string' ? a : '');

/** A BOOL argument: any non-zero number is TRUE. */
export const bool = (a: SyscallArg | undefined): boolean => typeof a === 'number' && a !== 0;

export function nt(name: string, number: number, args: string[], handler: Handler): Spec {
  return { name, number, args, table: 'nt', kind: 'trap', errors: 'ntstatus', failureValue: (n) => n, handler };
}

export function win32(name: string, args: string[], handler: Handler, failure = 0): Spec {
  return { name, number: -1, args, table: 'kernel32', kind: 'library', errors: 'win32', failureValue: () => failure, handler };
}

/** An ntdll function that is not a trap (the loader's Ldr* functions): NTSTATUS results, user-mode code. */
export function ntdll(name: string, args: string[], handler: Handler): Spec {
  return { name, number: -1, args, table: 'ntdll', kind: 'library', errors: 'ntstatus', failureValue: (n) => n, handler };
}

/** RtlNtStatusToDosError over core's table, as a Win32 error name. */
export function dosError(status: string): string {
  const code = ntStatusToWin32Error((NTSTATUS as Record<string, number>)[status] ?? Number.NaN);
  const name = code === undefined ? undefined : win32ErrorName(code);
  if (name === undefined) throw new RangeError(`windows: no RtlNtStatusToDosError mapping for ${status}`);
  return name;
}

/** Fail a library call with the Win32 error of a failed NT call (BaseSetLastNTError). */
export function failNt(ctx: Ctx, r: SyscallResult): number {
  const status = r.error ?? 'STATUS_UNSUCCESSFUL';
  // Exception codes that RtlNtStatusToDosError passes through (a guard page hit by VirtualLock).
  if (status === 'STATUS_GUARD_PAGE_VIOLATION') {
    ctx.thread.errors.win32 = { name: status, number: NTSTATUS.STATUS_GUARD_PAGE_VIOLATION };
    return 0;
  }
  return ctx.fail(dosError(status));
}

/** A library call's value from a nested NT call: the record field on success, the failure otherwise. */
export function valueOr(ctx: Ctx, r: SyscallResult, field: string): number {
  return r.error !== null ? failNt(ctx, r) : (r.record!.fields[field] as number);
}
