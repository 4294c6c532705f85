/** Node-only parts of the workload package (they read files): `@polykernel/workload/node`. */
export { openWorkloadStream, MAX_LISTED_NATIVES } from './stream.js';
export type { StepSequence, StreamedWorkload, StreamOptions } from './stream.js';
