/**
 * The root directory always exists (vfs_mountroot): a file system that cannot find "/" — a
 * sysroot that is not there — is an empty file system, so fork (which copies the working
 * directory, pwd_hold) and __getcwd still work, and a name under the root is ENOENT.
 */
import { FREEBSD_ERRNO } from '@polykernel/core';
import { Kernel } from '@polykernel/kernel';
import { describe, expect, it } from 'vitest';
import type { FreebsdMachine, FreebsdSpace } from '../machine.js';
import { freebsdPersonality } from '../personality.js';

describe('a file system without "/"', () => {
  it('still has a root: fork succeeds, __getcwd is "/", open of a name under it is ENOENT', () => {
    const k = new Kernel<FreebsdSpace, FreebsdMachine>(freebsdPersonality({ fs: () => 'ENOENT' }), { frames: 4096, seed: 1, contents: true });
    const t = k.createProcess(k.init, 'sh').threads[0]!;
    expect(k.syscall(t, 'fork').error).toBe(null);
    const buf = k.syscall(t, 'mmap', [0, 4096, 3, 0x1002, -1, 0]).value;
    expect(k.syscall(t, '__getcwd', [buf, 64]).value).toBe(0);
    expect(new TextDecoder().decode(k.copyFromUser(t, buf, 2))).toBe('/\0');
    const r = k.syscall(t, 'open', ['/etc/motd', 0, 0]);
    expect(r.value).toBe(-1);
    expect(r.errorNumber).toBe(FREEBSD_ERRNO.ENOENT);
  });
});
