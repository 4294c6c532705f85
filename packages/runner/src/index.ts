export {
  linuxVariant, notRegistered, PERSONALITIES, registeredList, resolvePersonality,
  type DesignChoices, type LinuxVariant, type PersonalityOptions, type RegisteredPersonality, type ResolvedPersonality,
} from './registry.js';
export {
  describeStep, execute, MAX_TOUCH_ACCESSES, processViews, registerLinuxStep, Session, touchAddresses, touchCount,
  type Ending, type LinuxStepContext, type LinuxStepHandler, type Execution, type Machine, type RenderedView, type RunOptions, type StepProgress, type StepResult,
} from './run.js';
export { MAX_INSPECT_BYTES, readRegular, regularSize, sysrootProblem, type LargeFileReader } from './read.js';
export { Trace } from './trace.js';
