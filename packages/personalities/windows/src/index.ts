export { windowsPersonality } from './personality.js';
export type { WindowsOptions } from './personality.js';
export type { HandleObject, ImageInfo, Section, Vad, WindowsMachine, WindowsSpace } from './types.js';
export * from './constants.js';
export { query, walk, type MemoryBasicInformation } from './mm.js';
export { EXCEPTIONS } from './fault.js';
export { dosError, MBI_SIZE, STATUS_TIMEOUT } from './syscalls.js';
export { addressRows, renderAddress, windbgHex } from './views.js';
