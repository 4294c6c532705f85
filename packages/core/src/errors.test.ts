import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { errnoName, errnoNumber, FREEBSD_ERRNO, LINUX_ERRNO } from './errno.js';
import { FormatError, KernelError, PolykernelError, RangeCheckError, Win32Error } from './errors.js';
import { win32ErrorName, WIN32_ERRORS } from './win32.js';

describe('errno tables', () => {
  it.runIf(process.platform === 'linux')('Linux table matches the host kernel (oracle: os.constants.errno)', () => {
    const host = constants.errno as Record<string, number>;
    let compared = 0;
    for (const [name, num] of Object.entries(LINUX_ERRNO)) {
      if (host[name] === undefined) continue;
      expect([name, num]).toEqual([name, host[name]]);
      compared++;
    }
    expect(compared).toBeGreaterThan(60);
  });

  it('Linux and FreeBSD differ where they really do', () => {
    expect(errnoNumber('linux', 'EAGAIN')).toBe(11);
    expect(errnoNumber('freebsd', 'EAGAIN')).toBe(35);
    expect(errnoNumber('freebsd', 'EDEADLK')).toBe(11);
    expect(errnoNumber('linux', 'ENOSYS')).toBe(38);
    expect(errnoNumber('freebsd', 'ENOSYS')).toBe(78);
    expect(errnoNumber('linux', 'EDOOFUS')).toBeUndefined();
    expect(errnoName('freebsd', 35)).toBe('EAGAIN');
    expect(errnoName('linux', 12)).toBe('ENOMEM');
  });

  it('each table is one-to-one', () => {
    for (const table of [LINUX_ERRNO, FREEBSD_ERRNO]) {
      const nums = Object.values(table);
      expect(new Set(nums).size).toBe(nums.length);
    }
  });
});

describe('typed errors', () => {
  it('KernelError carries name and number for its OS', () => {
    const e = new KernelError('freebsd', 'EAGAIN', 'resource temporarily unavailable');
    expect(e).toBeInstanceOf(PolykernelError);
    expect(e.errno).toBe('EAGAIN');
    expect(e.errnoNumber).toBe(35);
    expect(e.message).toBe('EAGAIN: resource temporarily unavailable');
    expect(() => new KernelError('linux', 'EDOOFUS')).toThrow(RangeCheckError);
  });
  it('Win32Error carries the winerror.h code', () => {
    const e = new Win32Error('ERROR_INVALID_ADDRESS');
    expect(e.code).toBe(487);
    expect(win32ErrorName(1455)).toBe('ERROR_COMMITMENT_LIMIT');
    expect(win32ErrorName(123456)).toBeUndefined();
    expect(new Set(Object.values(WIN32_ERRORS)).size).toBe(Object.keys(WIN32_ERRORS).length);
  });
  it('FormatError names field and offset', () => {
    const e = new FormatError('e_phoff', 0x20, 'program headers beyond end of file');
    expect(e.field).toBe('e_phoff');
    expect(e.offset).toBe(0x20);
    expect(e.message).toBe('program headers beyond end of file (field e_phoff at offset 0x20)');
  });
});
