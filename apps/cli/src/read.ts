/** Reading the files the commands are given: regular files only, with a size check (@polykernel/runner, which reads a workload's mapped files the same way). */
export { MAX_INSPECT_BYTES, readRegular, regularSize, sysrootProblem, type LargeFileReader } from '@polykernel/runner/node';
