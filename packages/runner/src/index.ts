export {
  linuxVariant, notRegistered, PERSONALITIES, registeredList, resolvePersonality,
  type DesignChoices, type LinuxVariant, type PersonalityOptions, type RegisteredPersonality, type ResolvedPersonality,
} from './registry.js';
export {
  describeStep, MAX_TOUCH_ACCESSES, memoryHost, openSession, processViews, registerLinuxStep, resolvePath, runSession, Session, touchAddresses, touchCount,
  type AfterStep, type Ending, type Execution, type LinuxStepContext, type LinuxStepHandler, type RenderedView, type RunHost, type RunOptions, type SessionMachine, type SessionSource,
  type StepList, type StepProgress, type StepResult,
} from './run.js';
export { COMPARE_ROWS, foreignStepsNa, isNaResult, metricValue, noDriverNa, type CompareRowSpec } from './compare.js';
export { Trace } from './trace.js';
