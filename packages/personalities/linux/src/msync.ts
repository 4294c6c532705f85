/**
 * mm/msync.c: msync(2)'s checks and walk. MS_ASYNC and MS_INVALIDATE have nothing to do on a
 * current kernel (dirty pages are tracked and written back anyway); MS_SYNC writes back a shared
 * file mapping's range (vfs_fsync_range): what stores left in the cached pages goes to the file's
 * bytes in the machine's overlay (read() and other mappings see the cached pages at once anyway). Holes are skipped but make the call ENOMEM, at once for a plain MS_SYNC; a
 * locked area refuses MS_INVALIDATE (EBUSY).
 */
import type { SyscallArg, SyscallContext } from '@polykernel/kernel';
import { fileWriteback } from './filemap.js';
import { PAGE_SIZE, VM_LOCKED, VM_SHARED } from './flags.js';
import { err, pageAlign } from './internal.js';
import { machineOf, type LinuxSpace } from './machine.js';
import type { MmStruct } from './mm.js';
import { call, reg, uint, ulong } from './syscall-args.js';

export const MS_ASYNC = 1;
export const MS_INVALIDATE = 2;
export const MS_SYNC = 4;
const U64 = 1n << 64n;

/** msync(2): 0, or throws the errno. `len` may be the full 64-bit register. */
export function doMsync(mm: MmStruct, start: number, len: number | bigint, flags: number): number {
  if ((flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) !== 0) throw err('EINVAL', 'unknown msync flags');
  if (start % PAGE_SIZE !== 0) throw err('EINVAL', 'start not page aligned');
  if ((flags & MS_ASYNC) !== 0 && (flags & MS_SYNC) !== 0) throw err('EINVAL', 'MS_ASYNC and MS_SYNC together');
  // len = (len + ~PAGE_MASK) & PAGE_MASK in unsigned long: it may wrap to 0 (then nothing to do).
  const l = BigInt.asUintN(64, BigInt(len));
  const aligned = ((l + 4095n) % U64) - (((l + 4095n) % U64) % 4096n);
  const endBig = BigInt(start) + aligned;
  if (endBig >= U64) throw err('ENOMEM', 'range wraps');
  if (aligned === 0n) return 0;
  const end = endBig > BigInt(mm.taskSize) ? mm.taskSize + PAGE_SIZE : Number(endBig);
  let unmapped = false;
  let cursor = start;
  for (;;) {
    const v = mm.vmas.find(cursor);
    if (v === undefined) throw err('ENOMEM', 'range not fully mapped');
    if (cursor < v.start) {
      if (flags === MS_SYNC) throw err('ENOMEM', 'hole in the range (MS_SYNC)');
      cursor = v.start;
      if (cursor >= end) throw err('ENOMEM', 'range not fully mapped');
      unmapped = true;
    }
    if ((flags & MS_INVALIDATE) !== 0 && (v.flags & VM_LOCKED) !== 0) throw err('EBUSY', 'MS_INVALIDATE on a locked area');
    cursor = v.end;
    if (cursor >= end) break;
  }
  if (unmapped) throw err('ENOMEM', 'range had holes');
  return 0;
}

/** msync(2): the checks, then MS_SYNC's writeback of the shared file areas in the range. */
export function sysMsync(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  return call(ctx, () => {
    const [start, flags] = [ulong(a[0]), uint(a[2])];
    const mm = ctx.process.space.mm;
    const r = doMsync(mm, start, reg(a[1]) ?? -1n, flags);
    if ((flags & MS_SYNC) === 0) return r;
    const end = Math.min(mm.taskSize, start + pageAlign(ulong(a[1])));
    for (const v of mm.vmas.overlapping(start, end)) {
      if (v.file === null || (v.flags & VM_SHARED) === 0) continue;
      const from = v.pgoff + (Math.max(v.start, start) - v.start) / PAGE_SIZE;
      fileWriteback(machineOf(ctx.kernel), v.file, from, from + (Math.min(v.end, end) - Math.max(v.start, start)) / PAGE_SIZE);
    }
    return r;
  });
}
