/**
 * mm/swapfile.c: swap entries and their counts (swap_map). A slot is freed when the last entry
 * naming it goes (swap_free); fork's swap_duplicate adds a user (fork.ts).
 */
import type { LinuxMachine, LinuxSpace } from './machine.js';

/** swap_free: one entry less names `slot`; the slot is released when none does. */
export function dropSwap(m: LinuxMachine, slot: number): void {
  const n = (m.swapCounts.get(slot) ?? 1) - 1;
  if (n > 0) m.swapCounts.set(slot, n);
  else {
    m.swapCounts.delete(slot);
    m.kernel.vm.swap.free(slot);
  }
}

/** The swap entries of [start, end) go (munmap, MADV_DONTNEED, exit, MAP_FIXED over them). */
export function zapSwap(m: LinuxMachine, s: LinuxSpace, start: number, end: number): void {
  if (s.swap.size === 0) return;
  for (const [va, slot] of [...s.swap]) {
    if (va < start || va >= end) continue;
    s.swap.delete(va);
    dropSwap(m, slot);
  }
}
