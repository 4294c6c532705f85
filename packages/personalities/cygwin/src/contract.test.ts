/**
 * The contract kit (@polykernel/kernel/testing) on cygwin: the checks every personality passes.
 * It fails until src/personality.ts does the work; each failure names the part to write.
 */
import { PROT_READ, PROT_WRITE } from '@polykernel/core';
import type { Kernel, Thread } from '@polykernel/kernel';
import { contractSuite } from '@polykernel/kernel/testing';
import { cygwinPersonality, type CygwinMachine, type CygwinSpace } from './personality.js';

const MAP_PRIVATE = 0x0002;
const MAP_ANON = 0x1000;

/** Map `bytes` of fresh private read-write memory with the personality's own call; negative on failure. */
function mapMemory(k: Kernel<CygwinSpace, CygwinMachine>, t: Thread, bytes: number): number {
  return k.syscall(t, 'mmap', [0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, -1, 0]).value;
}

contractSuite('cygwin', {
  personality: () => cygwinPersonality(),
  mapMemory,
  unmappedAddress: 0x1000,
  accessViolation: 'SIGSEGV',
});
