export { Kernel } from './kernel.js';
export type { KernelEvents, KernelOptions, ProcessOptions, SyscallResult } from './kernel.js';
export type {
  Personality, SyscallSpec, SyscallContext, SyscallArg, FaultInfo, FaultResolution, CallKind, CallRecord, RecordValue, ErrorSpace,
  Delivery, SignalInfo, ProcessModel, ViewSpec, ViewRow, MetricPath,
} from './contract.js';
export { Process, Thread } from './process.js';
export type { Credentials, OpenFile, ProcessState, ThreadState, PendingCall, ErrorValue } from './process.js';
export { PidAllocator, AsidAllocator, NextFreeIds, HandleTableIds, linuxIds, freebsdIds, windowsIds } from './ids.js';
export type { IdPolicy, NextFreeOptions } from './ids.js';
export { errorNumber } from './errors.js';
export { memoryFileSystem, S_IFMT, S_IFREG, S_IFDIR, MAX_FILE_BYTES, FILE_HEAD_BYTES } from './files.js';
export type { FsFile, FileLookup, FileLookupError } from './files.js';
export { PORTABLE_OPS, ok, unsupported, failed, failure, gate, describeResult, openAccess, startProcess } from './portable.js';
export type {
  PortableDriver, PortableOp, PortableResult, PortableRegion, PortableChild, PortableWait, PortableImage, PortableProt, AllocRequest, SpawnRequest,
  ExecRequest, MapFileRequest, OpenAccess, OpenRequest,
} from './portable.js';
