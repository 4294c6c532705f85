export { parseWorkload, pathString, positionOf, WorkloadError } from './load.js';
export type { WorkloadIssue } from './load.js';
export { workloadSchema, stepSchema, stepKinds, parseSize, childSteps } from './schema.js';
export type { Workload, Step } from './schema.js';
export { StraceImporter, StraceError, importStraceText } from './import/strace.js';
export type { StraceImport, StraceImportOptions, ImportedStep, ImportedProcess, ImportedWorkload, ImportIssue, HostResult, ProcessSummary, SkippedCalls } from './import/strace.js';
export { workloadYaml } from './import/yaml.js';
