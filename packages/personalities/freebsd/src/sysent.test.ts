/**
 * The list of system calls with their numbers from sys/kern/syscalls.master (FreeBSD 14),
 * errno values from sys/sys/errno.h, signal numbers from sys/sys/signal.h, and the failure
 * convention (-1, errno), each checked through the personality the kernel runs.
 */
import { FREEBSD_ERRNO } from '@polykernel/core';
import { Kernel } from '@polykernel/kernel';
import { describe, expect, it } from 'vitest';
import { freebsdPersonality } from './personality.js';

describe('FreeBSD 14 numbers', () => {
  const k = new Kernel(freebsdPersonality(), { frames: 1024 });

  it('system calls as syscalls.master numbers them', () => {
    const want: Record<string, number> = {
      exit: 1, fork: 2, read: 3, write: 4, open: 5, close: 6, wait4: 7, break: 17, getpid: 20, kill: 37, getppid: 39, execve: 59,
      vfork: 66, munmap: 73, mprotect: 74, madvise: 75, minherit: 250, rfork: 251, sigaction: 416, mmap: 477,
    };
    expect(Object.fromEntries(Object.keys(want).map((n) => [n, k.callSpec(n)?.number]))).toEqual(want);
  });

  it('errno values of sys/sys/errno.h', () => {
    expect({ ...FREEBSD_ERRNO }).toMatchObject({
      EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, ENOEXEC: 8, EBADF: 9, ECHILD: 10, ENOMEM: 12, EACCES: 13, EFAULT: 14, EINVAL: 22,
      EMFILE: 24, EFBIG: 27, ESPIPE: 29, EPIPE: 32, EAGAIN: 35, EOPNOTSUPP: 45, ENAMETOOLONG: 63,
    });
  });

  it('signal numbers of sys/sys/signal.h (BSD order: SIGBUS 10, SIGCHLD 20, SIGUSR1 30)', () => {
    expect(k.personality.signals).toMatchObject({ SIGKILL: 9, SIGBUS: 10, SIGSEGV: 11, SIGSYS: 12, SIGTERM: 15, SIGSTOP: 17, SIGCHLD: 20, SIGUSR1: 30, SIGUSR2: 31 });
  });

  it('a failed call returns -1 with errno (the carry flag and libc stub\'s convention)', () => {
    const t = k.createProcess(k.init, 'p').threads[0]!;
    const r = k.syscall(t, 'munmap', [0, 0]);
    expect(r.value).toBe(-1);
    expect(r.errorNumber).toBe(FREEBSD_ERRNO.EINVAL);
  });
});
