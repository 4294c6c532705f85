export { freebsdPersonality, FREEBSD_VARIANTS } from './personality.js';
export type { FreebsdMachine, FreebsdOptions, FreebsdSpace } from './personality.js';
export { vmmap, PROCSTAT_VM_HEADER } from './procstat/vm.js';
export type { KinfoVmentry } from './procstat/vm.js';
export { execve, checkImage, ExecError, AT, AT_NAMES, ET_DYN_LOAD_ADDR, OSRELDATE } from './kern/imgact_elf.js';
export { ABI_AMD64, ABI_ARM64, abiForProfile, type FreebsdAbi } from './param.js';
export type { ExecResult } from './kern/imgact_elf.js';
export { FREEBSD_COSTS } from './costs.js';
export { freebsdKernSysctls, freebsdMachineName, freebsdVmSysctls } from './sysctl.js';
export type { FreebsdSysctls } from './sysctl.js';
export { Reservations, VM_LEVEL_0_NPAGES, VM_LEVEL_0_ORDER } from './vm/vm_reserv.js';
export type { ReservCounters } from './vm/vm_reserv.js';
export type { PdeCounters } from './vm/pmap.js';
export { FIOGSHMLPGCNF, FIOSSHMLPGCNF, SHM_LARGEPAGE_CONF_SIZE } from './kern/sys_ioctl.js';
export {
  SHM_ANON, SHM_LARGEPAGE, SHM_LARGEPAGE_ALLOC_DEFAULT, SHM_LARGEPAGE_ALLOC_HARD, SHM_LARGEPAGE_ALLOC_NOWAIT,
} from './kern/uipc_shm.js';
export type { PmapCopyCounters } from './vm/pmap_copy.js';
