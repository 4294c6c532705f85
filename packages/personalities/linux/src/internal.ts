/**
 * Helpers the mm files share (as mm/internal.h and include/linux/mm.h serve mm/*.c): PAGE_ALIGN for
 * system-call lengths, calc_vm_prot_bits, vm_start_gap and the stack guard gap, and the KernelError
 * an mm call throws for its errno.
 */
import { KernelError, type LinuxErrnoName } from '@polykernel/core';
import { PAGE_SIZE, PROT_EXEC, PROT_READ, PROT_WRITE, VM_EXEC, VM_GROWSDOWN, VM_READ, VM_WRITE } from './flags.js';
import type { VmArea } from './vma.js';

export const MIB = 1024 * 1024;
/** stack_guard_gap (mm/mmap.c): 256 pages kept free below a VM_GROWSDOWN area. */
export const STACK_GUARD_GAP = 256 * PAGE_SIZE;

/**
 * PAGE_ALIGN for lengths taken from system-call arguments: it never throws, and callers check the
 * result the way Linux checks for wrap-around (core's pageUp throws past 2^53 instead).
 */
export function pageAlign(n: number): number {
  const r = n % PAGE_SIZE;
  return r === 0 ? n : n + (PAGE_SIZE - r);
}

/** calc_vm_prot_bits (include/linux/mman.h): PROT_* → VM_READ/WRITE/EXEC. */
export function protToVm(prot: number): number {
  return ((prot & PROT_READ) !== 0 ? VM_READ : 0) | ((prot & PROT_WRITE) !== 0 ? VM_WRITE : 0) | ((prot & PROT_EXEC) !== 0 ? VM_EXEC : 0);
}

/** vm_start_gap (include/linux/mm.h): a stack area keeps stack_guard_gap free below it. */
export function vmStartGap(v: VmArea): number {
  return (v.flags & VM_GROWSDOWN) !== 0 ? Math.max(0, v.start - STACK_GUARD_GAP) : v.start;
}

/** The error an mm call fails with; the system-call layer turns it into -errno. */
export function err(e: LinuxErrnoName, detail: string): KernelError {
  return new KernelError('linux', e, detail);
}

const U64 = 1n << 64n;

/**
 * PAGE_ALIGN of a 64-bit register value as C computes it (wrapping to 0 past 2^64), as a number:
 * exact up to 2^53, and 2^52 above (every such value is beyond TASK_SIZE, so each range check
 * answers for it as for the real value).
 */
export function pageAlignReg(v: number | bigint): number {
  const r = (BigInt.asUintN(64, BigInt(v)) + 4095n) % U64;
  const a = r - (r % 4096n);
  return a <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(a) : 2 ** 52;
}

/** True when start + PAGE_ALIGN(len) passes 2^64 (the u64 sum wraps), or PAGE_ALIGN itself wraps to 0 for a non-zero len. */
export function endWraps(start: number, len: number | bigint): boolean {
  const l = BigInt.asUintN(64, BigInt(len));
  const aligned = (l + 4095n) - ((l + 4095n) % 4096n);
  return (l !== 0n && aligned % U64 === 0n) || BigInt(start) + aligned >= U64;
}
