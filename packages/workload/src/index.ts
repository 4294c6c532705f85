export { parseWorkload, WorkloadError } from './load.js';
export type { WorkloadIssue } from './load.js';
export { workloadSchema, stepSchema, parseSize } from './schema.js';
export type { Workload, Step } from './schema.js';
