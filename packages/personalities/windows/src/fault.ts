/**
 * MmAccessFault for user addresses: the VAD says whether the page is committed and what it
 * allows; a guard page raises STATUS_GUARD_PAGE_VIOLATION once and loses its guard (the main
 * thread's stack moves its guard down instead: MiCheckForUserStackOverflow); a first touch of
 * private memory gets a zeroed page (MiResolveDemandZeroFault); a view's page comes from its
 * section's prototype page (MiResolveProtoPteFault), and a write to a copy-on-write page copies it
 * (MiCopyOnWrite) and makes it READWRITE. Anything else is STATUS_ACCESS_VIOLATION, or, for the
 * kernel's own accesses (ReadProcessMemory, copies), a failure without an exception.
 */
import type { FaultKind } from '@polykernel/core';
import type { FaultInfo, FaultResolution, Process } from '@polykernel/kernel';
import { ACCESS_EXEC, ACCESS_WRITE, MAP_EXISTS, MAP_OK, NO_FRAME } from '@polykernel/mmu';
import {
  PAGE, PAGE_GUARD, PAGE_READWRITE, afterCopy, allowsExecute, allowsRead, allowsWrite, hasFlag, isWriteCopy,
} from './constants.js';
import { chargeCommit, pageArrays, pageProtect, pteFlagsFor, vadAt, type K } from './mm.js';
import type { Vad, WindowsSpace } from './types.js';

/** Exception codes (ntstatus.h): the personality's "signals". */
export const EXCEPTIONS: Readonly<Record<string, number>> = {
  EXCEPTION_ACCESS_VIOLATION: 0xc0000005,
  STATUS_GUARD_PAGE_VIOLATION: 0x80000001,
  STATUS_IN_PAGE_ERROR: 0xc0000006,
  STATUS_STACK_OVERFLOW: 0xc00000fd,
  STATUS_NO_MEMORY: 0xc0000017,
};

const violation = (f: FaultInfo): FaultResolution => (f.user
  ? { kind: 'signal', signal: 'EXCEPTION_ACCESS_VIOLATION', code: f.access === ACCESS_WRITE ? 'write' : f.access === ACCESS_EXEC ? 'execute' : 'read' }
  : { kind: 'fixup' });

export function handleFault(k: K, f: FaultInfo): FaultResolution {
  const space = (f.process as Process<WindowsSpace>).space;
  const v = vadAt(space, f.va);
  if (v === undefined) return violation(f);
  const i = Math.floor((f.va - v.start) / PAGE);
  const prot = pageProtect(v, i);
  if (prot === 0) return violation(f);
  if (hasFlag(prot, PAGE_GUARD)) return guardPage(k, space, v, i, prot, f);
  if (!allowed(prot, f.access)) return violation(f);
  const how = present(k, f.process as Process<WindowsSpace>, v, i, f.access === ACCESS_WRITE);
  // No free frame and no working set to trim yet (see README): the access cannot complete.
  return how !== null ? { kind: 'resolved', how } : { kind: 'signal', signal: 'STATUS_NO_MEMORY', code: 'no frame' };
}

function allowed(prot: number, access: number): boolean {
  if (access === ACCESS_WRITE) return allowsWrite(prot);
  if (access === ACCESS_EXEC) return allowsExecute(prot);
  return allowsRead(prot);
}

/**
 * The first touch of a guard page clears the guard. On the main thread's stack the guard moves to
 * the page below, which is committed (the stack grows) and the access goes on; with no page left
 * above the reservation's last one, STATUS_STACK_OVERFLOW. Elsewhere the access raises
 * STATUS_GUARD_PAGE_VIOLATION; a handler that continues retries it without the guard.
 */
function guardPage(k: K, space: WindowsSpace, v: Vad, i: number, prot: number, f: FaultInfo): FaultResolution {
  const arr = pageArrays(v).protect;
  arr[i] = prot - PAGE_GUARD;
  k.metrics.faults.guard++;
  if (!v.stack) return f.user ? { kind: 'signal', signal: 'STATUS_GUARD_PAGE_VIOLATION', code: 'guard' } : { kind: 'fixup' };
  // The stack's lowest page stays reserved, never committed: reaching it is the overflow.
  if (i - 1 < 1 || !chargeCommit(k, space, 1)) return f.user ? { kind: 'signal', signal: 'STATUS_STACK_OVERFLOW', code: 'stack' } : { kind: 'fixup' };
  arr[i - 1] = PAGE_READWRITE + PAGE_GUARD;
  v.committed++;
  v.charged++;
  k.metrics.faults.stackGrowth++;
  return { kind: 'resolved', how: 'stackGrowth' };
}

/**
 * Make page `i` of `v` present for the access: its private frame, a zeroed one, the section's
 * prototype page, or (a write to a copy-on-write page) a private copy. False when no frame is free.
 */
function present(k: K, p: Process<WindowsSpace>, v: Vad, i: number, write: boolean): FaultKind | null {
  const frames = k.mmu.frames;
  if (v.protect === null || v.frames === null) pageArrays(v);
  const protect = v.protect!;
  const own = v.frames!;
  const va = v.start + i * PAGE;
  let frame = own[i]!;
  let how: FaultKind = 'soft';
  if (frame < 0 && v.section === null) {
    frame = frames.alloc(0, true);
    if (frame === NO_FRAME) return null;
    own[i] = frame;
    k.metrics.faults.zeroFill++;
    how = 'zeroFill';
  } else if (frame < 0) {
    const s = v.section!;
    const si = v.sectionOffset + i;
    let proto = s.frames[si]!;
    if (proto < 0) {
      proto = frames.alloc(0, true);
      if (proto === NO_FRAME) return null;
      if (s.bytes !== null && frames.contentsEnabled) {
        const from = si * PAGE;
        if (from < s.bytes.length) frames.write(proto * PAGE, s.bytes.subarray(from, Math.min(from + PAGE, s.bytes.length)));
      }
      s.frames[si] = proto;
      // A pagefile-backed section's page starts as zeros; an image's or a file's is read in.
      if (s.bytes === null) {
        k.metrics.faults.zeroFill++;
        how = 'zeroFill';
      } else {
        k.metrics.faults.file++;
        how = 'file';
      }
    }
    frame = proto;
    if (write && isWriteCopy(protect[i]!)) {
      const copy = frames.alloc(0, false);
      if (copy === NO_FRAME) return null;
      frames.copyFrame(proto, copy);
      own[i] = copy;
      protect[i] = afterCopy(protect[i]!);
      frame = copy;
      k.metrics.faults.cow++;
      how = 'cow';
    }
  }
  const pt = p.space.pt;
  if (write) frames.markDirty(frame);
  const flags = pteFlagsFor(protect[i]!);
  let m = pt.map(va, frame, PAGE, flags);
  if (m === MAP_EXISTS) {
    // A read-only copy-on-write mapping replaced by the private copy: the stale TLB entry goes too.
    pt.unmap(va, PAGE);
    k.mmu.shootdown(p.threads[0]?.cpu ?? 0, k.asidOf(p), va, PAGE);
    m = pt.map(va, frame, PAGE, flags);
  }
  if (m !== MAP_OK) return null;
  if (how === 'soft') k.metrics.faults.soft++;
  return how;
}
