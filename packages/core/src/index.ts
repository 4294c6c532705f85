export {
  PAGE_SIZE_4K, PAGE_SIZE_2M, PAGE_SIZE_1G, MAX_ADDRESS,
  isAddress, assertAddress, pageDown, pageUp, pageNumber, pageOffset, pagesIn, isAligned,
  isPowerOfTwo, log2Exact, bitField, rangesOverlap, rangeContains, bigintToNumber,
  bigintToNumberOrUndefined,
} from './address.js';
export { hex, hex0x, hexPad, hex016, hex08, hex0x016, hex0x08, formatBytes } from './format.js';
export { PROT_NONE, PROT_READ, PROT_WRITE, PROT_EXEC, formatProt, parseProt, protAllows } from './prot.js';
export type { Prot } from './prot.js';
export { LINUX_ERRNO, FREEBSD_ERRNO, CYGWIN_ERRNO, errnoNumber, errnoName } from './errno.js';
export type { ErrnoOs, ErrnoName, LinuxErrnoName, FreeBsdErrnoName, CygwinErrnoName } from './errno.js';
export { WIN32_ERRORS, win32ErrorName } from './win32.js';
export type { Win32ErrorName } from './win32.js';
export { NTSTATUS, NTSTATUS_WIN32_ERRORS, ntStatusName, ntSeverity, ntSuccess, ntStatusToWin32Error } from './ntstatus.js';
export type { NtStatusName, NtSeverity } from './ntstatus.js';
export { CYGWIN_WIN32_ERRNO, cygwinErrnoFromWin32 } from './cygwin.js';
export { PolykernelError, KernelError, Win32Error, FormatError, RangeCheckError } from './errors.js';
export { Rng } from './rng.js';
export { Probe, ProbeBus, Aggregation, quantizeBucket } from './probes.js';
export type { EventMap, Listener, AggregatingFunction, AggregationSpec, AggregationRow } from './probes.js';
export {
  Metrics, CycleClock, metricsDelta, addMetrics, TRAP_KINDS, FAULT_KINDS, COUNTER_KEYS, GAUGE_KEYS, NUMERIC_KEYS,
} from './metrics.js';
export type { MetricsData, TrapKind, FaultKind, TrapCounts, FaultCounts, CounterKey, GaugeKey } from './metrics.js';
export { ByteReader } from './reader.js';
