export { Kernel } from './kernel.js';
export type { KernelEvents, KernelOptions, SyscallResult } from './kernel.js';
export type { Personality, SyscallSpec, SyscallContext, SyscallArg, FaultInfo, FaultResolution } from './contract.js';
export { Process, Thread } from './process.js';
export type { Credentials, OpenFile, ProcessState } from './process.js';
export { PidAllocator, AsidAllocator } from './ids.js';
