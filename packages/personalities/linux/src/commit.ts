/**
 * Overcommit accounting, system-wide (mm/util.c __vm_enough_memory, vm_commit_limit;
 * Documentation/mm/overcommit-accounting.rst). One `VmCommit` is shared by every mm of a machine:
 * it holds Committed_AS and the sysctls vm.overcommit_memory, _ratio, _kbytes and the admin/user
 * reserves. Counts are in pages.
 */
import type { Metrics } from '@polykernel/core';
import { PAGE_SIZE } from './flags.js';

/** vm.overcommit_memory: 0 heuristic (OVERCOMMIT_GUESS), 1 always, 2 never (strict). */
export type OvercommitMode = 0 | 1 | 2;

export interface CommitOptions {
  mode?: OvercommitMode;
  /** totalram_pages(); default 8 GiB worth. */
  totalRamPages?: number;
  /** total_swap_pages; default 0. */
  swapPages?: number;
  /** Pages reserved for huge pages (hugetlb_total_pages), excluded from the limit. */
  hugetlbPages?: number;
  /** Where the Committed_AS high-water mark goes (metrics.peakCommit). */
  metrics?: Metrics;
  /** vm.overcommit_ratio, percent of RAM counted towards CommitLimit in mode 2; default 50. */
  ratio?: number;
  /** vm.overcommit_kbytes: when non-zero, replaces the ratio. */
  kbytes?: number;
  /** vm.admin_reserve_kbytes; default min(RAM/32, 8 MiB) as init_admin_reserve computes it. */
  adminReserveKbytes?: number;
  /** vm.user_reserve_kbytes; default min(RAM/32, 128 MiB) as init_user_reserve computes it. */
  userReserveKbytes?: number;
}

const KB_PER_PAGE = PAGE_SIZE / 1024;

export class VmCommit {
  mode: OvercommitMode;
  readonly totalRamPages: number;
  readonly swapPages: number;
  readonly hugetlbPages: number;
  private readonly metrics: Metrics | undefined;
  ratio: number;
  kbytes: number;
  adminReserveKbytes: number;
  userReserveKbytes: number;
  /** vm_committed_as, in pages. */
  committed = 0;

  constructor(opts: CommitOptions = {}) {
    this.mode = opts.mode ?? 0;
    this.totalRamPages = opts.totalRamPages ?? (8 * 1024 * 1024 * 1024) / PAGE_SIZE;
    this.swapPages = opts.swapPages ?? 0;
    this.hugetlbPages = opts.hugetlbPages ?? 0;
    this.metrics = opts.metrics;
    this.ratio = opts.ratio ?? 50;
    this.kbytes = opts.kbytes ?? 0;
    const ramKb = this.totalRamPages * KB_PER_PAGE;
    this.adminReserveKbytes = opts.adminReserveKbytes ?? Math.min(Math.floor(ramKb / 32), 8192);
    this.userReserveKbytes = opts.userReserveKbytes ?? Math.min(Math.floor(ramKb / 32), 131072);
  }

  /** vm_commit_limit: CommitLimit in pages. */
  limitPages(): number {
    const allowed = this.kbytes !== 0
      ? Math.floor(this.kbytes / KB_PER_PAGE)
      : Math.floor(((this.totalRamPages - this.hugetlbPages) * this.ratio) / 100);
    return allowed + this.swapPages;
  }

  /**
   * __vm_enough_memory: charge `pages` to Committed_AS and keep the charge when the mode allows it;
   * otherwise undo it and return false (the caller's ENOMEM). `totalVmPages` is the mm's total_vm,
   * used for the user reserve in mode 2.
   */
  charge(pages: number, totalVmPages: number, capSysAdmin = false): boolean {
    this.committed += pages;
    if (this.allowed(pages, totalVmPages, capSysAdmin)) {
      this.metrics?.noteCommit(this.committed);
      return true;
    }
    this.committed -= pages;
    return false;
  }

  private allowed(pages: number, totalVmPages: number, capSysAdmin: boolean): boolean {
    if (this.mode === 1) return true;
    // OVERCOMMIT_GUESS refuses only a single request larger than RAM plus swap.
    if (this.mode === 0) return pages <= this.totalRamPages + this.swapPages;
    let allowed = this.limitPages();
    if (!capSysAdmin) allowed -= Math.floor(this.adminReserveKbytes / KB_PER_PAGE);
    allowed -= Math.min(Math.floor(totalVmPages / 32), Math.floor(this.userReserveKbytes / KB_PER_PAGE));
    return Math.max(this.committed, 0) < allowed;
  }

  /** vm_unacct_memory. */
  uncharge(pages: number): void {
    this.committed -= pages;
  }

  /** The two /proc/meminfo lines this models, in its format ("%-16s%8lu kB", meminfo.c show_val_kb). */
  meminfoLines(): string {
    const line = (k: string, pages: number): string => `${(k + ':').padEnd(16)}${String(pages * KB_PER_PAGE).padStart(8)} kB\n`;
    return line('CommitLimit', this.limitPages()) + line('Committed_AS', this.committed);
  }
}
