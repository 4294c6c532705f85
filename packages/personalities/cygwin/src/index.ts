export { cygwinPersonality } from './personality.js';
export type { CygwinMachine, CygwinOptions, CygwinSpace } from './personality.js';
