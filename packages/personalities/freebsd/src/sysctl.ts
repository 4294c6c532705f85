/**
 * The vm.pmap and vm.reserv sysctls of a FreeBSD machine (sysctl(8) names; sys/amd64/amd64/pmap.c
 * and sys/vm/vm_reserv.c), for apps and benchmarks that compare the superpage variants. Read-only:
 * vm.pmap.pg_ps_enabled is a boot-time tunable (the variant), as on FreeBSD.
 */
import type { Kernel } from '@polykernel/kernel';
import type { FreebsdMachine, FreebsdSpace } from './machine.js';
import { largepageCounts } from './kern/uipc_shm.js';

export type FreebsdSysctls = Readonly<Record<string, number>>;

/** The numeric vm.pmap.* and vm.reserv.* values, or null when `k` does not run this personality. */
export function freebsdVmSysctls(k: Kernel<unknown>): FreebsdSysctls | null {
  if (!k.personality.name.startsWith('freebsd')) return null;
  // The personality's name says which machine state the kernel carries.
  const m = (k as unknown as Kernel<FreebsdSpace, FreebsdMachine>).state;
  const r = m.reserv;
  const pp = r?.partpop() ?? { reservations: 0, unusedPages: 0 };
  return {
    'vm.pmap.pg_ps_enabled': m.superpages ? 1 : 0,
    'vm.pmap.pde.promotions': m.pde.promotions,
    'vm.pmap.pde.demotions': m.pde.demotions,
    'vm.pmap.pde.p_failures': m.pde.pFailures,
    'vm.pmap.pde.mappings': m.pde.mappings,
    'vm.reserv.broken': r?.counters.broken ?? 0,
    'vm.reserv.freed': r?.counters.freed ?? 0,
    'vm.reserv.reclaimed': r?.counters.reclaimed ?? 0,
    // vm.reserv.partpopq prints a table per domain and level; these are its two columns' totals.
    'vm.reserv.partpopq.count': pp.reservations,
    'vm.reserv.partpopq.unused_kb': pp.unusedPages * 4,
    // vm.largepages.2M, vm.largepages.1G: largepage shm pages allocated (uipc_shm.c count_largepages).
    ...largepageCounts(k as unknown as Kernel<FreebsdSpace, FreebsdMachine>),
  };
}
