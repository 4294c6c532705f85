export { parseWorkload, pathString, positionOf, WorkloadError } from './load.js';
export type { WorkloadIssue } from './load.js';
export { workloadSchema, stepSchema, stepKinds, parseSize, childSteps } from './schema.js';
export type { Workload, Step } from './schema.js';
