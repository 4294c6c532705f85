/**
 * Typed errors. Every failure a user can cause is one of these, with a machine-readable code,
 * never a bare string.
 */
import { errnoNumber, type ErrnoName, type ErrnoOs } from './errno.js';
import { WIN32_ERRORS, type Win32ErrorName } from './win32.js';

/** Base class so callers can catch every polykernel error at once. */
export class PolykernelError extends Error {
  override name = 'PolykernelError';
}

/** A failed system call: an errno name plus its number in the personality's numbering. */
export class KernelError extends PolykernelError {
  override name = 'KernelError';
  readonly errno: ErrnoName;
  readonly errnoNumber: number;
  readonly os: ErrnoOs;

  constructor(os: ErrnoOs, errno: ErrnoName, message?: string) {
    const num = errnoNumber(os, errno);
    if (num === undefined) throw new RangeCheckError(`${errno} does not exist on ${os}`);
    super(message === undefined ? errno : `${errno}: ${message}`);
    this.os = os;
    this.errno = errno;
    this.errnoNumber = num;
  }
}

/** A failed Win32 API call, as GetLastError() would report it. */
export class Win32Error extends PolykernelError {
  override name = 'Win32Error';
  readonly code: number;
  readonly codeName: Win32ErrorName;

  constructor(codeName: Win32ErrorName, message?: string) {
    super(message === undefined ? codeName : `${codeName}: ${message}`);
    this.codeName = codeName;
    this.code = WIN32_ERRORS[codeName];
  }
}

/** A malformed input file: names the field and the file offset where parsing failed. */
export class FormatError extends PolykernelError {
  override name = 'FormatError';
  readonly field: string;
  readonly offset: number;

  constructor(field: string, offset: number, message: string) {
    super(`${message} (field ${field} at offset 0x${offset.toString(16)})`);
    this.field = field;
    this.offset = offset;
  }
}

/** A value outside what the simulation can represent (e.g. an address above 2^53). */
export class RangeCheckError extends PolykernelError {
  override name = 'RangeCheckError';
}
