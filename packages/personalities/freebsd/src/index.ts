export { freebsdPersonality, FREEBSD_VARIANTS } from './personality.js';
export type { FreebsdMachine, FreebsdOptions, FreebsdSpace } from './personality.js';
export { vmmap, PROCSTAT_VM_HEADER } from './procstat/vm.js';
export type { KinfoVmentry } from './procstat/vm.js';
export { execve, checkImage, ExecError, AT, AT_NAMES, ET_DYN_LOAD_ADDR, OSRELDATE } from './kern/imgact_elf.js';
export type { ExecResult } from './kern/imgact_elf.js';
export { FREEBSD_COSTS } from './costs.js';
