/**
 * copy_to_user and clear_user (arch/x86/lib/usercopy_64.c, include/linux/uaccess.h): kernel writes
 * into user memory go through the MMU in kernel mode, page by page, so a not-yet-present page
 * faults in and a bad address is a fixup (EFAULT), not a signal.
 */
import { pageDown } from '@polykernel/core';
import type { SyscallContext } from '@polykernel/kernel';
import { ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';
import { PROCESS_COSTS } from './costs.js';
import { PAGE_SIZE } from './flags.js';
import type { LinuxSpace } from './machine.js';

/**
 * copy_to_user / clear_user: write `len` bytes at `va` page by page through the MMU in kernel
 * mode (faulting pages in as needed), charging the copy. `src` null writes zeros. False: EFAULT.
 */
export function copyOut(ctx: SyscallContext<LinuxSpace>, va: number, len: number, src: Uint8Array | null): boolean {
  const k = ctx.kernel;
  const frames = k.mmu.frames;
  for (let at = va; at < va + len;) {
    const next = Math.min(pageDown(at) + PAGE_SIZE, va + len);
    const pa = k.access(ctx.thread, at, ACCESS_WRITE, false);
    if (pa < 0) return false;
    const n = next - at;
    if (frames.contentsEnabled) frames.write(pa, src === null ? new Uint8Array(n) : src.subarray(at - va, next - va));
    k.metrics.cycles += Math.ceil(((src === null ? PROCESS_COSTS.clearUserPage : PROCESS_COSTS.copyUserPage) * n) / PAGE_SIZE);
    at = next;
  }
  return true;
}

/**
 * copy_from_user: read `len` bytes at `va` page by page through the MMU in kernel mode (a page not
 * yet present faults in; a bad address is null, EFAULT). The machine must keep page contents
 * (`contents: true`): without them what the program stored there is not known.
 */
export function copyIn(ctx: SyscallContext<LinuxSpace>, va: number, len: number): Uint8Array | null {
  const k = ctx.kernel;
  const frames = k.mmu.frames;
  const out = new Uint8Array(len);
  for (let at = va; at < va + len;) {
    const next = Math.min(pageDown(at) + PAGE_SIZE, va + len);
    const pa = k.access(ctx.thread, at, ACCESS_READ, false);
    if (pa < 0) return null;
    if (!frames.contentsEnabled) throw new Error(`copy_from_user at 0x${va.toString(16)}: the machine keeps no page contents (boot it with contents: true)`);
    out.set(frames.read(pa, next - at), at - va);
    k.metrics.cycles += Math.ceil((PROCESS_COSTS.copyUserPage * (next - at)) / PAGE_SIZE);
    at = next;
  }
  return out;
}
