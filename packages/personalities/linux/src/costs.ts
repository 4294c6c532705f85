/**
 * Simulated cycles of Linux's own software work, calibrated on host-costs.md (Zen 4 KVM guest,
 * 3 GHz nominal). Process calls: vfork+_exit+waitpid ≈ 25 µs whatever the parent's size (the task
 * without a new mm: forkBase + exitBase); fork+_exit+waitpid of a minimal process ≈ 112 µs (dup_mm
 * adds dupMmBase) plus ≈ 118 ns per resident page (forkPerPte). Fault handling beyond what the MMU model charges (trap, walks, zeroing or
 * copying the page): what makes a zero-fill fault 1.59 µs, a zero-page read fault 0.64 µs, a COW
 * copy ≈ 2.1 µs and a reuse 0.67 µs on the host. clear_user/copy_to_user: 10 MiB cleared into
 * touched pages in 0.195 ms ≈ 230 cycles per page.
 */
export const PROCESS_COSTS = {
  forkBase: 60_000, dupMmBase: 240_000, forkPerVma: 1_500, forkPerPte: 350, exitBase: 15_000,
  faultHandler: { zeroFill: 3_500, zeroPage: 1_450, cow: 4_600, cowReuse: 1_550, file: 1_500 } as Readonly<Record<string, number>>,
  clearUserPage: 230, copyUserPage: 460,
  /**
   * One 4 KiB page written to or read from the swap device: an assumed NVMe-class device (≈ 20 µs
   * per page, not measured here — the development host has no swap).
   */
  swapPageIo: 60_000,
  /**
   * A signal caught by a handler that returns: setup_rt_frame (the xsave of the FPU/AVX state into
   * the frame), the handler's entry and restore_sigcontext in rt_sigreturn — measured as a SIGSEGV
   * round trip (fault, delivery, a handler that skips the store, rt_sigreturn) of 12.6–13.0 µs on
   * the development host (docs/host-costs.md), less the two kernel entries the core charges.
   */
  signalDelivery: 37_700,
} as const;
