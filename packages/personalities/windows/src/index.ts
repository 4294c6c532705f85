export { windowsPersonality } from './personality.js';
export type { WindowsOptions } from './personality.js';
export type { FileNode, FileObject, HandleObject, ImageInfo, LoadedModule, Section, Vad, WinEvent, WindowsMachine, WindowsSpace } from './types.js';
export * from './constants.js';
export { query, walk, type MemoryBasicInformation } from './mm.js';
export { EXCEPTIONS } from './fault.js';
export { dosError, MBI_SIZE, STATUS_TIMEOUT, PROCESS_CREATE_FLAGS_INHERIT_HANDLES } from './syscalls.js';
export {
  expireNextWait, expireWaits, wakeWaiters, DUPLICATE_CLOSE_SOURCE, DUPLICATE_SAME_ACCESS, DUPLICATE_SAME_ATTRIBUTES, OBJ_INHERIT,
  HANDLE_FLAG_INHERIT, HANDLE_FLAG_PROTECT_FROM_CLOSE, NOTIFICATION_EVENT, SYNCHRONIZATION_EVENT, MAXIMUM_WAIT_OBJECTS, STATUS_OBJECT_NAME_EXISTS,
} from './objects.js';
export { FILE_MAP_COPY, FILE_MAP_EXECUTE, FILE_MAP_READ, FILE_MAP_WRITE, SEC_COMMIT, SEC_IMAGE, STATUS_IMAGE_NOT_AT_BASE } from './sections.js';
export { addressRows, renderAddress, windbgHex } from './views.js';
export { windowsExec, type WindowsExecOptions, type WindowsExecResult } from './exec.js';
export { stubDll, type StubDllOptions } from './stubdll.js';
export {
  alignUp as peAlign, DIRECTORY_EXPORT, DIRECTORY_IMPORT, exportSection, FILE_ALIGN as PE_FILE_ALIGN, SECTION_ALIGN as PE_SECTION_ALIGN, writePe,
  type PeImage, type PeSection,
} from './pe-writer.js';
export { fixtureSysroot } from './sysroot.js';
export { bootWindows, harness, type Win } from './testkit.js';
export { windowsPortable, pageProtection } from './portable.js';
export { explainWindowsFault, WINDOWS_FAULT_SCENARIOS, type WindowsFaultScenario, type WindowsFaultStory } from './explain.js';
export { DONT_RESOLVE_DLL_REFERENCES, LOAD_LIBRARY_AS_DATAFILE, LOAD_LIBRARY_AS_IMAGE_RESOURCE, moduleByBase, moduleByName } from './library.js';
export { runWindowsStep, WINDOWS_STEP_KINDS, WindowsStepError, type WindowsStepKind, type WindowsStepNames, type WindowsStepOutcome } from './steps.js';
export {
  GENERIC_READ, GENERIC_WRITE, GENERIC_EXECUTE, GENERIC_ALL, CREATE_NEW, CREATE_ALWAYS, OPEN_EXISTING, OPEN_ALWAYS, TRUNCATE_EXISTING,
  FILE_BEGIN, FILE_CURRENT, FILE_END, FILE_WRITE_TO_END_OF_FILE, FilePositionInformation, FileEndOfFileInformation,
} from './files.js';
