export { execute, nodeHost, type Machine } from './run.js';
export { MAX_INSPECT_BYTES, readRegular, regularSize, sysrootProblem, type LargeFileReader } from './read.js';
