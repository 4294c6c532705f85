import { describe, expect, it } from 'vitest';
import { CYGWIN_WIN32_ERRNO, cygwinErrnoFromWin32 } from './cygwin.js';
import { CYGWIN_ERRNO, errnoName, errnoNumber } from './errno.js';
import { NTSTATUS, ntStatusToWin32Error } from './ntstatus.js';
import { WIN32_ERRORS, type Win32ErrorName } from './win32.js';

describe('Cygwin errno (newlib numbering)', () => {
  it('is one-to-one, as newlib\'s sys/errno.h is', () => {
    const nums = Object.values(CYGWIN_ERRNO);
    expect(new Set(nums).size).toBe(nums.length);
  });

  it('spot checks against newlib/libc/include/sys/errno.h', () => {
    expect(errnoNumber('cygwin', 'EAGAIN')).toBe(11);
    expect(errnoNumber('cygwin', 'ENOMEM')).toBe(12);
    expect(errnoNumber('cygwin', 'EDEADLK')).toBe(45); // Linux 35, FreeBSD 11
    expect(errnoNumber('cygwin', 'ENOSYS')).toBe(88); // Linux 38, FreeBSD 78
    expect(errnoNumber('cygwin', 'ENMFILE')).toBe(89);
    expect(errnoNumber('cygwin', 'EOPNOTSUPP')).toBe(95);
    expect(errnoNumber('cygwin', 'ENOTSUP')).toBe(134); // distinct from EOPNOTSUPP on Cygwin
    expect(errnoNumber('cygwin', 'EOVERFLOW')).toBe(139);
    expect(errnoNumber('cygwin', 'EOWNERDEAD')).toBe(142);
    expect(errnoNumber('cygwin', 'EDOOFUS')).toBeUndefined(); // FreeBSD only
    expect(errnoName('cygwin', 35)).toBe('ENOMSG');
    expect(errnoName('cygwin', 136)).toBeUndefined(); // ENOSHARE, retired
  });
});

describe('Cygwin errmap (Win32 error -> errno)', () => {
  it('maps as winsup/cygwin/errno.cc does', () => {
    expect(cygwinErrnoFromWin32(WIN32_ERRORS.ERROR_NOT_ENOUGH_MEMORY)).toBe('ENOMEM');
    expect(cygwinErrnoFromWin32(WIN32_ERRORS.ERROR_COMMITMENT_LIMIT)).toBe('EAGAIN');
    expect(cygwinErrnoFromWin32(WIN32_ERRORS.ERROR_INVALID_ADDRESS)).toBe('EINVAL');
    expect(cygwinErrnoFromWin32(WIN32_ERRORS.ERROR_ACCESS_DENIED)).toBe('EACCES');
    expect(cygwinErrnoFromWin32(WIN32_ERRORS.ERROR_FILE_NOT_FOUND)).toBe('ENOENT');
    expect(cygwinErrnoFromWin32(WIN32_ERRORS.ERROR_NOACCESS)).toBe('EFAULT');
    expect(cygwinErrnoFromWin32(WIN32_ERRORS.ERROR_INVALID_FUNCTION)).toBe('EBADRQC');
    expect(cygwinErrnoFromWin32(WIN32_ERRORS.ERROR_NO_MORE_FILES)).toBe('ENMFILE');
  });

  it('falls back to EACCES (or the given default) for codes errmap does not handle', () => {
    expect(cygwinErrnoFromWin32(WIN32_ERRORS.ERROR_PARTIAL_COPY)).toBe('EACCES');
    expect(cygwinErrnoFromWin32(WIN32_ERRORS.ERROR_SUCCESS)).toBe('EACCES');
    expect(cygwinErrnoFromWin32(123456)).toBe('EACCES');
    expect(cygwinErrnoFromWin32(123456, 'EINVAL')).toBe('EINVAL');
  });

  it('every mapped code is in WIN32_ERRORS and every errno in CYGWIN_ERRNO', () => {
    for (const [w, e] of Object.entries(CYGWIN_WIN32_ERRNO)) {
      expect(WIN32_ERRORS[w as Win32ErrorName]).toBeTypeOf('number');
      expect(CYGWIN_ERRNO[e]).toBeTypeOf('number');
    }
  });

  it('errmap.h: ERROR_WRITE_PROTECT (19) is EROFS, ERROR_FILE_EXISTS (80) is EEXIST', () => {
    expect(cygwinErrnoFromWin32(WIN32_ERRORS.ERROR_WRITE_PROTECT)).toBe('EROFS');
    expect(cygwinErrnoFromWin32(WIN32_ERRORS.ERROR_FILE_EXISTS)).toBe('EEXIST');
  });

  it('an NTSTATUS goes through RtlNtStatusToDosError first (geterrno_from_nt_status)', () => {
    const errnoOf = (s: number): string => cygwinErrnoFromWin32(ntStatusToWin32Error(s) ?? -1);
    expect(errnoOf(NTSTATUS.STATUS_NO_MEMORY)).toBe('ENOMEM');
    expect(errnoOf(NTSTATUS.STATUS_COMMITMENT_LIMIT)).toBe('EAGAIN');
    expect(errnoOf(NTSTATUS.STATUS_ACCESS_VIOLATION)).toBe('EFAULT');
    expect(errnoOf(NTSTATUS.STATUS_OBJECT_NAME_NOT_FOUND)).toBe('ENOENT');
  });
});
