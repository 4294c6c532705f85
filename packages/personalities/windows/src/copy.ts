/**
 * MmCopyVirtualMemory, the copy under NtReadVirtualMemory / NtWriteVirtualMemory (and so
 * ReadProcessMemory / WriteProcessMemory): bytes go from an address in one process to an address in
 * another (either may be the caller's own), with no host buffer in between. The copy runs as
 * MiDoMappedCopy does (ReactOS ntoskrnl/mm/ARM3/virtual.c): the source is taken a block of
 * MI_MAPPED_COPY_PAGES pages at a time and every page of the block is made resident first
 * (MmProbeAndLockPages in the source process); the caller then attaches to the destination and
 * copies the block page by page. So a bad source page stops the copy at the start of its block,
 * a bad destination page exactly at that page (the exception's bad address), and either way the
 * status is STATUS_PARTIAL_COPY with the bytes copied so far — what Windows 10 1607 and later
 * return in Wine's dlls/kernel32/tests/virtual.c (test_VirtualAllocEx, "test invalid source
 * buffers": WriteProcessMemory from a half-bad buffer writes 0 bytes; ReadProcessMemory into a
 * buffer bad from 0x2000 reads 0x2000 bytes).
 *
 * Faults in either process are resolved by the personality's fault handler as kernel-mode accesses
 * (demand-zero, copy-on-write, a guard page fails the copy): `kernel.accessIn`. A machine without
 * page contents only counts: pages are still faulted in, bytes and copy cycles still charged.
 */
import type { Thread } from '@polykernel/kernel';
import { ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';
import { PAGE } from './constants.js';
import type { K, P } from './mm.js';

/** MI_MAPPED_COPY_PAGES (ReactOS ntoskrnl/mm/ARM3/virtual.c): source pages locked per block. */
export const MAPPED_COPY_PAGES = 14;
const BLOCK = MAPPED_COPY_PAGES * PAGE;

export interface CopyResult {
  /** Bytes copied (NumberOfBytesRead / NumberOfBytesWritten). */
  done: number;
  status: 'STATUS_SUCCESS' | 'STATUS_PARTIAL_COPY';
}

/** The first source page of [va, va+n) that cannot be made resident for reading, or -1. */
function probeSource(k: K, caller: Thread, from: P, va: number, n: number): number {
  for (let off = 0; off < n;) {
    if (k.accessIn(caller, from, va + off, ACCESS_READ) < 0) return off;
    off += Math.min(PAGE - ((va + off) % PAGE), n - off);
  }
  return -1;
}

/** Copy one probed block page by page into the destination: the bytes copied before a bad destination page. */
function copyBlock(k: K, caller: Thread, from: P, fromVa: number, to: P, toVa: number, n: number): number {
  const frames = k.mmu.frames;
  let off = 0;
  while (off < n) {
    const s = fromVa + off;
    const d = toVa + off;
    const m = Math.min(PAGE - (s % PAGE), PAGE - (d % PAGE), n - off);
    const dpa = k.accessIn(caller, to, d, ACCESS_WRITE);
    if (dpa < 0) break;
    // The source page is translated again (a TLB hit after the probe): the destination's fault may
    // have taken frames, and a physical address is only good until the next fault.
    const spa = k.accessIn(caller, from, s, ACCESS_READ);
    if (spa < 0) break;
    if (frames.contentsEnabled) frames.write(dpa, frames.read(spa, m));
    off += m;
  }
  return off;
}

/** Copy `size` bytes from `fromVa` in `from` to `toVa` in `to`, for `caller`; charged to the caller. */
export function copyVirtualMemory(k: K, caller: Thread, from: P, fromVa: number, to: P, toVa: number, size: number): CopyResult {
  let done = 0;
  let status: CopyResult['status'] = 'STATUS_SUCCESS';
  while (done < size) {
    const n = Math.min(BLOCK, size - done);
    if (probeSource(k, caller, from, fromVa + done, n) >= 0) {
      status = 'STATUS_PARTIAL_COPY';
      break;
    }
    const copied = copyBlock(k, caller, from, fromVa + done, to, toVa + done, n);
    done += copied;
    if (copied < n) {
      status = 'STATUS_PARTIAL_COPY';
      break;
    }
  }
  const m = k.metrics;
  m.cycles += Math.ceil((k.mmu.profile.costs.copyPage * done) / PAGE);
  m.bytesCopiedCrossProcess += done;
  return { done, status };
}
