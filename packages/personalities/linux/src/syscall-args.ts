/**
 * What every system-call handler needs (include/linux/syscalls.h's SYSCALL_DEFINEn does the
 * argument decoding in C): the argument as the 64-bit register a real program passes, read as the
 * C type the kernel declares it with, and an mm call's KernelError turned into -errno.
 *
 * A numeric argument is a register: -4096 is 0xfffffffffffff000, as the kernel sees it. `reg`
 * gives that exact value (a BigInt); `ulong` (addresses, lengths, offsets) gives it as a number —
 * exact up to 2^53, and above that 2^52 plus the value's offset in its page: every such value is
 * far beyond TASK_SIZE (2^47), so each of the kernel's range checks answers for it exactly as for
 * the real value, and an alignment check still sees the real low bits. `int` (fds, pids, signals,
 * advice) is the register's low 32 bits, signed; `uint` (flags and prot words) the low 32 bits,
 * unsigned. Where the kernel's own u64 arithmetic wraps (start + len), `wraps` answers it exactly.
 * docs/decisions.md, "Raw system-call arguments are registers".
 */
import { KernelError } from '@polykernel/core';
import type { SyscallContext } from '@polykernel/kernel';
import type { LinuxSpace } from './machine.js';

const U64 = 1n << 64n;
/** Where ulong puts register values above 2^53 (all of them beyond any user address). */
export const HUGE_ULONG = 2 ** 52;

/** The 64-bit register for a numeric argument; undefined for anything else (a path, a vector). */
export function reg(a: unknown): bigint | undefined {
  if (typeof a === 'bigint') return BigInt.asUintN(64, a);
  if (typeof a === 'number' && Number.isSafeInteger(a)) return BigInt.asUintN(64, BigInt(a));
  return undefined;
}

/** An unsigned long argument (see above); NaN for a non-numeric one, which every check refuses. */
export function ulong(a: unknown): number {
  const r = reg(a);
  if (r === undefined) return Number.NaN;
  return r <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(r) : HUGE_ULONG + Number(r % 4096n);
}

/** An int argument: the register's low 32 bits, signed (-1 stays -1; 2^32 - 1 is -1 too). */
export function int(a: unknown): number {
  const r = reg(a);
  return r === undefined ? Number.NaN : Number(BigInt.asIntN(32, r));
}

/** An unsigned int (flags, prot): the register's low 32 bits. */
export function uint(a: unknown): number {
  const r = reg(a);
  return r === undefined ? Number.NaN : Number(BigInt.asUintN(32, r));
}

/** True when start + PAGE_ALIGN(len) wraps past 2^64 (or PAGE_ALIGN itself wraps to 0), as C computes it. */
export function wraps(start: unknown, len: unknown): boolean {
  const s = reg(start);
  const l = reg(len);
  if (s === undefined || l === undefined) return false;
  const aligned = (l + 4095n) & ~4095n;
  return (l !== 0n && aligned % U64 === 0n) || s + aligned >= U64;
}

/** A numeric argument as given (for calls whose arguments are not registers: kept for the old callers). */
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
