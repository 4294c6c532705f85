/**
 * The contract kit (@polykernel/kernel/testing) on freebsd, both variants, on the amd64 (x86-64)
 * and arm64 (arm64-a72) profiles: the checks every personality passes.
 * It fails until src/personality.ts does the work; each failure names the part to write.
 */
import { PROT_READ, PROT_WRITE } from '@polykernel/core';
import type { Kernel, Process, Thread } from '@polykernel/kernel';
import { ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';
import { contractSuite } from '@polykernel/kernel/testing';
import { freebsdPersonality, type FreebsdMachine, type FreebsdSpace } from './personality.js';

const MAP_PRIVATE = 0x0002;
const MAP_ANON = 0x1000;

/** Map `bytes` of fresh private read-write memory with the personality's own call; negative on failure. */
function mapMemory(k: Kernel<FreebsdSpace, FreebsdMachine>, t: Thread, bytes: number): number {
  return k.syscall(t, 'mmap', [0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON, -1, 0]).value;
}

/**
 * fork, the child reads, the parent writes (a COW copy), the child exits and is reaped. The child
 * reads a copied page without a fault (pmap_copy), so it also reads a page of a VM_INHERIT_SHARE
 * mapping, which pmap_copy does not copy: that read is the soft fault.
 */
function exercise(k: Kernel<FreebsdSpace, FreebsdMachine>, p: Process<FreebsdSpace>): void {
  const t = p.threads[0]!;
  const va = mapMemory(k, t, 2 * 4096);
  k.access(t, va, ACCESS_WRITE);
  k.access(t, va + 4096, ACCESS_WRITE);
  k.syscall(t, 'minherit', [va + 4096, 4096, 0 /* VM_INHERIT_SHARE */]);
  const pid = k.syscall(t, 'fork').value;
  const ct = k.processes.get(pid)!.threads[0]!;
  k.access(ct, va, ACCESS_READ);
  k.access(ct, va + 4096, ACCESS_READ);
  k.access(t, va, ACCESS_WRITE);
  k.syscall(ct, 'exit', [0]);
  k.syscall(t, 'wait4', [pid, 0, 0, 0]);
}

contractSuite('freebsd', {
  personality: () => freebsdPersonality(),
  mapMemory,
  unmappedAddress: 0x1000,
  accessViolation: 'SIGSEGV',
  exercise,
});

contractSuite('freebsd-14-nosuperpages', {
  personality: () => freebsdPersonality({ variant: 'freebsd-14-nosuperpages' }),
  mapMemory,
  unmappedAddress: 0x1000,
  accessViolation: 'SIGSEGV',
  exercise,
});

// The arm64 sysvec (ABI_ARM64: user space up to 2^48, ET_DYN_LOAD_ADDR 0x100000, AT_HWCAP) on the
// Cortex-A72 profile's MMU and TLBs.
contractSuite('freebsd on arm64-a72', {
  personality: () => freebsdPersonality(),
  kernel: { profile: 'arm64-a72' },
  mapMemory,
  unmappedAddress: 0x1000,
  accessViolation: 'SIGSEGV',
  exercise,
});

contractSuite('freebsd-14-nosuperpages on arm64-a72', {
  personality: () => freebsdPersonality({ variant: 'freebsd-14-nosuperpages' }),
  kernel: { profile: 'arm64-a72' },
  mapMemory,
  unmappedAddress: 0x1000,
  accessViolation: 'SIGSEGV',
  exercise,
});
