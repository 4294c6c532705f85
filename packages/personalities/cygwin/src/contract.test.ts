/** The contract kit (@polykernel/kernel/testing) on cygwin: the checks every personality passes. */
import type { Kernel, Thread } from '@polykernel/kernel';
import { contractSuite } from '@polykernel/kernel/testing';
import type { WindowsSpace } from '@polykernel/windows';
import { cygwinPersonality } from './personality.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from './posix.js';
import type { CygwinMachine } from './types.js';

/** mmap(MAP_PRIVATE|MAP_ANONYMOUS) through cygwin1.dll; -1 (MAP_FAILED) on failure. */
function mapMemory(k: Kernel<WindowsSpace, CygwinMachine>, t: Thread, bytes: number): number {
  return k.syscall(t, 'mmap', [0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]).value;
}

contractSuite('cygwin', {
  personality: () => cygwinPersonality(),
  mapMemory,
  unmappedAddress: 0x1000,
  accessViolation: 'SIGSEGV',
  // A Cygwin program forks a child (cross-process copies: bytesCopiedCrossProcess) and reaps it.
  exercise: (k) => {
    const d = k.personality.portable!;
    const parent = d.start!(k, 'bash');
    const f = d.fork(k, parent.thread);
    if (f.kind !== 'ok') throw new Error(`fork: ${JSON.stringify(f)}`);
    d.exit(k, f.value.thread, 0);
    d.wait(k, parent.thread, f.value.ref);
    d.exit(k, parent.thread, 0);
  },
});
