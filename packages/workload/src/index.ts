export { parseWorkload, pathString, positionOf, WorkloadError } from './load.js';
export type { WorkloadIssue } from './load.js';
export { workloadSchema, stepSchema, stepKinds, parseSize, childSteps, PORTABLE_STEP_KINDS, NATIVE_STEP_KINDS, stepKind, nativeOf, nativeSteps } from './schema.js';
export type { Workload, Step, NativeStep } from './schema.js';
