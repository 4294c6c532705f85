/** The contract kit (@polykernel/kernel/testing) on windows: the checks every personality passes. */
import type { Kernel, Thread } from '@polykernel/kernel';
import { contractSuite } from '@polykernel/kernel/testing';
import { ACCESS_READ } from '@polykernel/mmu';
import { MEM_COMMIT, MEM_RESERVE, PAGE_GUARD, PAGE_READWRITE } from './constants.js';
import { windowsPersonality, type WindowsMachine, type WindowsSpace } from './personality.js';

/** Map `bytes` of fresh private read-write memory with the personality's own call; negative on failure. */
function mapMemory(k: Kernel<WindowsSpace, WindowsMachine>, t: Thread, bytes: number): number {
  const base = k.syscall(t, 'VirtualAlloc', [0, bytes, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE]).value;
  return base === 0 ? -1 : base; // VirtualAlloc returns NULL on failure
}

contractSuite('windows', {
  personality: () => windowsPersonality(),
  mapMemory,
  unmappedAddress: 0x1000,
  accessViolation: 'EXCEPTION_ACCESS_VIOLATION',
  // A guard page touched under a handler that continues execution (faults.guard).
  exercise: (k, p) => {
    const t = p.threads[0]!;
    const g = k.syscall(t, 'VirtualAlloc', [0, 4096, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE | PAGE_GUARD]).value;
    k.syscall(t, 'AddVectoredExceptionHandler', [1, -1]);
    k.access(t, g, ACCESS_READ);
    // A trimmed working set and a soft fault back (faults.soft).
    k.syscall(t, 'K32EmptyWorkingSet', [-1]);
    k.access(t, g, ACCESS_READ);
  },
});
