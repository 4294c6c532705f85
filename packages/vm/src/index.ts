export * from './index/index.js';
export { VmObject } from './object.js';
export type { VmObjectType } from './object.js';
export { SwapDevice } from './swap.js';
export { PageQueues, Q_NONE, Q_ACTIVE, Q_INACTIVE } from './queues.js';
export { VmSystem, VM_OBJECT_BYTES } from './vmsystem.js';
export type { VmCosts, VmOptions, VmCounters, PageLookup, FaultHow, FaultOutcome } from './vmsystem.js';
export { swapPager, vnodePager, devicePager } from './pager.js';
export type { Pager, PagerContext, PagerCosts } from './pager.js';
