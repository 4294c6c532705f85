import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  NTSTATUS, NTSTATUS_WIN32_ERRORS, ntSeverity, ntStatusName, ntStatusToWin32Error, ntSuccess, type NtStatusName,
} from './ntstatus.js';
import { WIN32_ERRORS } from './win32.js';

const NAMES = Object.keys(NTSTATUS) as NtStatusName[];

describe('NTSTATUS', () => {
  it('is one-to-one, as in ntstatus.h', () => {
    const values = Object.values(NTSTATUS);
    expect(new Set(values).size).toBe(values.length);
    for (const name of NAMES) expect(ntStatusName(NTSTATUS[name])).toBe(name);
  });

  it('spot checks against ntstatus.h', () => {
    expect(NTSTATUS.STATUS_ACCESS_VIOLATION).toBe(0xc0000005);
    expect(NTSTATUS.STATUS_GUARD_PAGE_VIOLATION).toBe(0x80000001);
    expect(NTSTATUS.STATUS_PENDING).toBe(0x103);
    expect(NTSTATUS.STATUS_COMMITMENT_LIMIT).toBe(0xc000012d);
    expect(NTSTATUS.STATUS_STACK_OVERFLOW).toBe(0xc00000fd);
    expect(NTSTATUS.STATUS_MAPPED_ALIGNMENT).toBe(0xc0000220);
    expect(NTSTATUS.STATUS_INVALID_PARAMETER_4 - NTSTATUS.STATUS_INVALID_PARAMETER_1).toBe(3);
    expect(NTSTATUS.STATUS_DLL_INIT_FAILED).toBe(0xc0000142);
  });

  it('accepts the signed 32-bit form a status is often printed in', () => {
    expect(ntStatusName(-1073741819)).toBe('STATUS_ACCESS_VIOLATION'); // (int32)0xC0000005
    expect(ntStatusName(-2147483647)).toBe('STATUS_GUARD_PAGE_VIOLATION'); // (int32)0x80000001
    expect(ntStatusName(0x12345)).toBeUndefined();
    expect(ntStatusName(2 ** 32)).toBeUndefined();
    expect(ntStatusName(0.5)).toBeUndefined();
  });

  it('NT_SUCCESS and the severity follow the top two bits', () => {
    expect(ntSuccess(NTSTATUS.STATUS_SUCCESS)).toBe(true);
    expect(ntSuccess(NTSTATUS.STATUS_PENDING)).toBe(true);
    expect(ntSuccess(0x40000000)).toBe(true); // informational (STATUS_OBJECT_NAME_EXISTS)
    expect(ntSuccess(NTSTATUS.STATUS_GUARD_PAGE_VIOLATION)).toBe(false); // a warning is not success
    expect(ntSuccess(NTSTATUS.STATUS_ACCESS_VIOLATION)).toBe(false);
    expect(ntSuccess(-1073741819)).toBe(false);
    expect(ntSeverity(NTSTATUS.STATUS_SUCCESS)).toBe('success');
    expect(ntSeverity(0x40000000)).toBe('informational');
    expect(ntSeverity(NTSTATUS.STATUS_PARTIAL_COPY)).toBe('warning');
    expect(ntSeverity(NTSTATUS.STATUS_NO_MEMORY)).toBe('error');
    expect(() => ntSuccess(2 ** 32)).toThrow(RangeError);
  });

  it('property: NT_SUCCESS is "non-negative as int32", for either representation', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (u) => {
      const signed = u >= 2 ** 31 ? u - 2 ** 32 : u;
      expect(ntSuccess(u)).toBe(signed >= 0);
      expect(ntSuccess(signed)).toBe(signed >= 0);
      expect(ntSeverity(u)).toBe(ntSeverity(signed));
    }), { seed: 31, numRuns: 500 });
  });

  it('maps to Win32 errors as RtlNtStatusToDosError does', () => {
    for (const name of NAMES) {
      const w = NTSTATUS_WIN32_ERRORS[name];
      expect(ntStatusToWin32Error(NTSTATUS[name])).toBe(w === 'unchanged' ? NTSTATUS[name] : WIN32_ERRORS[w]);
    }
    expect(ntStatusToWin32Error(NTSTATUS.STATUS_SUCCESS)).toBe(0);
    expect(ntStatusToWin32Error(NTSTATUS.STATUS_PENDING)).toBe(997); // ERROR_IO_PENDING
    expect(ntStatusToWin32Error(NTSTATUS.STATUS_ACCESS_VIOLATION)).toBe(998); // ERROR_NOACCESS
    expect(ntStatusToWin32Error(NTSTATUS.STATUS_COMMITMENT_LIMIT)).toBe(1455);
    expect(ntStatusToWin32Error(NTSTATUS.STATUS_PARTIAL_COPY)).toBe(299);
    expect(ntStatusToWin32Error(NTSTATUS.STATUS_CONFLICTING_ADDRESSES)).toBe(487); // ERROR_INVALID_ADDRESS
    expect(ntStatusToWin32Error(NTSTATUS.STATUS_INVALID_ADDRESS)).toBe(59); // a transport status: ERROR_UNEXP_NET_ERR
    expect(ntStatusToWin32Error(NTSTATUS.STATUS_GUARD_PAGE_VIOLATION)).toBe(0x80000001); // passed through 1:1
    expect(ntStatusToWin32Error(NTSTATUS.STATUS_DLL_NOT_FOUND)).toBe(126); // ERROR_MOD_NOT_FOUND
    expect(ntStatusToWin32Error(0xc0009898)).toBeUndefined();
  });
});
