/**
 * Simulated cycles of FreeBSD's own software work (beyond what the machine profile charges for
 * traps, walks, TLB flushes and zeroing or copying a page), so that cycles compare with the Linux
 * personality's, which charges its host-calibrated PROCESS_COSTS.
 *
 * There is no FreeBSD host here to measure. Where FreeBSD does work analogous to Linux's, the
 * figure is BORROWED from the Linux host calibration (docs/host-costs.md; Zen 4 KVM guest, 3 GHz
 * nominal) and is NOT measured on FreeBSD. Where FreeBSD does different work, the charge is per
 * unit of the work FreeBSD does, and the figure is a labelled model estimate.
 */
export const FREEBSD_COSTS = {
  /**
   * fork1 → do_fork: proc and thread allocation, credentials, the descriptor table, the
   * scheduler. Borrowed from the Linux host calibration (docs/host-costs.md: vfork+_exit+waitpid
   * ≈ 25 µs = forkBase + exitBase; not measured on FreeBSD). Charged for every fork1 with RFPROC,
   * RFMEM (vfork) included.
   */
  forkBase: 60_000,
  /**
   * exit1 and the reap: borrowed from the Linux host calibration (exitBase, docs/host-costs.md;
   * not measured on FreeBSD).
   */
  exitBase: 15_000,
  /**
   * vmspace_fork's fixed part: vmspace_alloc (the vmspace, its vm_map and pmap_pinit's PML4
   * page) and, later, vmspace_free of the child's vmspace. Borrowed from the Linux host
   * calibration of dup_mm's fixed part (dupMmBase: fork of a minimal process 112 µs less vfork's
   * 25 µs, docs/host-costs.md; not measured on FreeBSD).
   */
  vmspaceForkBase: 240_000,
  /**
   * vmspace_fork per vm_map_entry inherited (SHARE or COPY): vm_map_entry_create, the copy, the
   * link into the child's map, vm_object_reference of its object. Half of Linux's forkPerVma
   * (1,500: vm_area_dup + anon_vma_fork + the link, docs/host-costs.md), borrowed and not
   * measured on FreeBSD; the other half is the per-range anonymous-memory set-up that FreeBSD
   * defers to the shadow (shadowSetup). The split is a model assumption.
   */
  perMapEntry: 750,
  /**
   * vm_object_shadow: a shadow object allocated and linked (the NEEDS_COPY write fault of
   * vm_map_lookup, or vmspace_fork's SHARE of an entry that still needed a copy). The other
   * half of Linux's forkPerVma (see perMapEntry); borrowed, not measured on FreeBSD.
   */
  shadowSetup: 750,
  /**
   * vm_map_copy_entry → pmap_protect of the parent's writable range: one atomic clear of PG_RW
   * (and vm_page_dirty of a modified page) per resident PTE. Model estimate, not measured: a
   * quarter of Linux's forkPerPte (350), whose copy_present_pte does four such per-page updates
   * (the parent's write-protect, the child's PTE, the page's refcount and its mapcount).
   */
  protectPerPte: 90,
  /**
   * pmap_copy (sys/amd64/amd64/pmap.c, arm64 alike) per 4 KiB PTE copied into the child: the
   * source PTE read, pmap_try_insert_pv_entry (a pv entry from the pmap's pv chunk, linked on the
   * page's pv list), the child's PTE store and the page-table page's ref_count. Calibrated as
   * protectPerPte is, from the Linux host figure (forkPerPte 350 ≈ 118 ns per resident page,
   * docs/host-costs.md): copy_present_pte's four per-page updates less the parent's
   * write-protect, which FreeBSD does separately in pmap_protect (protectPerPte, a quarter):
   * 350 − 90 = 260. Borrowed and derived, not measured on FreeBSD.
   */
  pmapCopyPerPte: 260,
  /**
   * pmap_copy per whole 2 MiB PDE copied: pmap_alloc_pde, one pmap_pv_insert_pde (a single pv
   * entry on the 2 MiB page's pv list) and the PDE store — the same kinds and number of updates
   * as one 4 KiB PTE's copy, so the same figure. Model estimate, not measured.
   */
  pmapCopyPerPde: 260,
  /**
   * vm_fault's software path by what it did, beyond the trap, the walks and zeroing/copying the
   * page (charged by the machine profile). Borrowed from the Linux host calibration of the
   * analogous handler (PROCESS_COSTS.faultHandler, docs/host-costs.md; not measured on FreeBSD):
   * zeroFill — a page allocated and mapped (Linux zeroFill); cow — a page copied up the shadow
   * chain (Linux cow); cowReuse — a page renamed into the first object (vm_fault's "move") or a
   * write-protected page of its own made writable, no copy (Linux cowReuse); soft — a resident
   * page mapped, nothing allocated (Linux's read fault mapping the zero page); file — a vnode
   * page read in (Linux file). A swap-in is charged by the pager's I/O only, as on Linux.
   */
  faultHandler: { zeroFill: 3_500, cow: 4_600, cowReuse: 1_550, soft: 1_450, file: 1_500 },
  /**
   * pmap_promote_pde: reading the 512 PTEs of a page-table page (one cache line holds 8: 64
   * lines, mostly cached after the faults that filled them, ~2 cycles a PTE), the PDE store and
   * pmap_insert_pt_page. Model estimate (≈ 0.4 µs at 3 GHz), not measured. Charged per attempt:
   * vm_fault tries only when the reservation is full, as pmap_enter does.
   */
  promotePde: 1_200,
  /**
   * pmap_demote_pde: pmap_fill_ptp writes 512 PTEs (~2 cycles each) into the saved or a new
   * page-table page and updates the PDE. Model estimate, not measured; the TLB invalidation of
   * the 2 MiB entry is charged by the machine profile.
   */
  demotePde: 1_100,
  /**
   * vm_reserv_alloc_page creating a reservation: vm_phys_alloc_pages of an order-9 block
   * (buddy-list work) and vm_reserv_insert. Model estimate, not measured: populating an existing
   * reservation is a bit set and a queue move, inside the zero-fill handler's figure.
   */
  reservInsert: 400,
} as const;
