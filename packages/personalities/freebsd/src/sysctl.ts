/**
 * The vm.pmap and vm.reserv sysctls of a FreeBSD machine (sysctl(8) names; sys/amd64/amd64/pmap.c
 * and sys/vm/vm_reserv.c), for apps and benchmarks that compare the superpage variants. Read-only:
 * vm.pmap.pg_ps_enabled is a boot-time tunable (the variant), as on FreeBSD.
 */
import type { Kernel } from '@polykernel/kernel';
import { OSRELDATE } from './kern/imgact_elf.js';
import type { FreebsdMachine, FreebsdSpace } from './machine.js';
import { largepageCounts } from './kern/uipc_shm.js';
import { PAGE_SIZE, SGROWSIZ } from './param.js';
import { STACK_GUARD_PAGE } from './vm/vm_map.js';

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

/**
 * The kern.*, hw.* and security.bsd.* values the model's layout and exec follow, under their
 * sysctl(8) names, by the sysvec the machine profile chose: the data and stack limits
 * (kern.maxdsiz, kern.dfldsiz, kern.maxssiz, kern.dflssiz, kern.sgrowsiz: the loader tunables,
 * read-only at run time), kern.elf64.fallback_brand (-1: an unbranded ELF is refused),
 * security.bsd.stack_guard_page (pages of gap a stack keeps), security.bsd.map_at_zero,
 * kern.osreldate, hw.pagesize and kern.usrstack. hw.machine is in `freebsdMachineName`.
 */
export function freebsdKernSysctls(k: Kernel<unknown>): FreebsdSysctls | null {
  if (!k.personality.name.startsWith('freebsd')) return null;
  const abi = (k as unknown as Kernel<FreebsdSpace, FreebsdMachine>).state.abi;
  return {
    'kern.maxdsiz': abi.maxdsiz,
    'kern.dfldsiz': abi.dfldsiz,
    'kern.maxssiz': abi.maxssiz,
    'kern.dflssiz': abi.dflssiz,
    'kern.sgrowsiz': SGROWSIZ,
    'kern.elf64.fallback_brand': -1,
    'kern.osreldate': OSRELDATE,
    'kern.usrstack': abi.usrStack,
    'security.bsd.stack_guard_page': STACK_GUARD_PAGE,
    'security.bsd.map_at_zero': 0,
    'hw.pagesize': PAGE_SIZE,
  };
}

/** hw.machine: "amd64" or "arm64", the sysvec's architecture. */
export function freebsdMachineName(k: Kernel<unknown>): string | null {
  if (!k.personality.name.startsWith('freebsd')) return null;
  return (k as unknown as Kernel<FreebsdSpace, FreebsdMachine>).state.abi.arch;
}
