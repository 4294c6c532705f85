/**
 * Simulated cycles of NT's own software work that the MMU model and the memory manager do not
 * already charge. PROVENANCE: there is no Windows host here, so nothing in this file was measured
 * on Windows. The process-creation figure is BORROWED from the Linux personality's calibration
 * (packages/personalities/linux/src/costs.ts, measured on the development host: docs/host-costs.md,
 * Zen 4 KVM guest, 3 GHz nominal): a new task (forkBase, 60,000 cycles) with a new address space
 * (dupMmBase, 240,000 cycles), together ≈ 100 µs of the 112 µs fork+_exit+waitpid of a minimal
 * process. On Windows that work is PspAllocateProcess (the EPROCESS, its handle table and token)
 * with MmCreateProcessAddressSpace and MmInitializeProcessAddressSpace, PspCreateThread for the
 * initial thread, and the CSRSS notification CreateProcess makes; whether NT spends more or less
 * on it than Linux is not known here (the folklore says more). The image's section, views,
 * PEB/TEB/stack commits and the faults the loader takes are charged separately, by what they do.
 * The numbers are copied, not imported: a personality does not import another personality.
 */
export const PROCESS_COSTS = {
  /** NtCreateUserProcess's fixed work: Linux's forkBase + dupMmBase (borrowed, see above). */
  createUserProcess: 60_000 + 240_000,
} as const;
