/**
 * What every system-call handler needs (include/linux/syscalls.h's SYSCALL_DEFINEn does the
 * argument decoding in C): a numeric argument, and an mm call's KernelError turned into -errno.
 */
import { KernelError } from '@polykernel/core';
import type { SyscallContext } from '@polykernel/kernel';
import type { LinuxSpace } from './machine.js';

/** A numeric argument; anything else (a path, a vector) is NaN, which every check refuses. */
export const num = (a: unknown): number => (typeof a === 'number' ? a : Number.NaN);

/** Run an mm call, turning its KernelError into the errno return. */
export function call(ctx: SyscallContext<LinuxSpace>, f: () => number): number {
  try {
    return f();
  } catch (e) {
    if (e instanceof KernelError) return ctx.fail(e.errno, e.message);
    throw e;
  }
}
