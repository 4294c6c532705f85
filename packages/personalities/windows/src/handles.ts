/**
 * Per-process handle tables (ObpCreateHandle / ObpCloseHandle): handle values are multiples of 4
 * from 4; the pseudo handles -1 (the current process) and -2 (the current thread) are not in the
 * table. A process handle keeps the process object (and its ID) alive after it exits. A handle may
 * be inheritable (OBJ_INHERIT): CreateProcess with bInheritHandles copies those entries into the
 * child at the same values (ObInitProcess → ExDupHandleTable with ObpDuplicateHandleRoutine).
 */
import type { NtStatusName } from '@polykernel/core';
import { CURRENT_PROCESS, CURRENT_THREAD } from './constants.js';
import { maybeDeleteSection, type K, type P } from './mm.js';
import type { HandleObject, Section, WinEvent } from './types.js';

/** One more reference to the object a new handle names. */
function refObject(k: K, obj: HandleObject): void {
  if (obj.kind === 'process') k.openHandle(obj.process);
  if (obj.kind === 'section') obj.section.handles++;
  if (obj.kind === 'event') obj.event.handles++;
}

export function openHandle(k: K, owner: P, obj: HandleObject, inherit = false): number {
  const space = owner.space;
  refObject(k, obj);
  const h = space.nextHandle;
  space.nextHandle += 4;
  space.handles.set(h, obj);
  if (inherit) space.inheritable.add(h);
  return h;
}

export function closeHandle(k: K, owner: P, h: number): NtStatusName {
  if (h === CURRENT_PROCESS || h === CURRENT_THREAD) return 'STATUS_SUCCESS';
  const obj = owner.space.handles.get(h);
  if (obj === undefined) return 'STATUS_INVALID_HANDLE';
  owner.space.handles.delete(h);
  owner.space.inheritable.delete(h);
  dropObject(k, obj);
  return 'STATUS_SUCCESS';
}

function dropObject(k: K, obj: HandleObject): void {
  if (obj.kind === 'process' && obj.process.handles > 0) k.closeHandle(obj.process);
  if (obj.kind === 'section') {
    obj.section.handles--;
    maybeDeleteSection(k, obj.section);
  }
  if (obj.kind === 'event') {
    obj.event.handles--;
    // The name goes with the last handle (the object is temporary: no OBJ_PERMANENT).
    if (obj.event.handles === 0 && k.state.namedEvents.get(obj.event.name) === obj.event) k.state.namedEvents.delete(obj.event.name);
  }
}

/** Close every handle of an exiting process (ObKillProcess → ExSweepHandleTable). */
export function closeAll(k: K, owner: P): void {
  const all = [...owner.space.handles.values()];
  owner.space.handles.clear();
  owner.space.inheritable.clear();
  for (const obj of all) dropObject(k, obj);
}

/** The object a handle (or a pseudo handle) names in `owner`'s table. */
export function objectOf(owner: P, h: number, currentTid: number): HandleObject | undefined {
  if (h === CURRENT_PROCESS) return { kind: 'process', process: owner };
  if (h === CURRENT_THREAD) return { kind: 'thread', process: owner, tid: currentTid };
  return owner.space.handles.get(h);
}

/**
 * NtDuplicateObject's work: the source handle's object gets a new handle in `target` (inheritable
 * if asked). A pseudo handle as the source gives a real handle to the current process or thread.
 */
export function duplicateInto(k: K, source: P, h: number, target: P, inherit: boolean, currentTid: number): number | NtStatusName {
  const obj = objectOf(source, h, currentTid);
  if (obj === undefined) return 'STATUS_INVALID_HANDLE';
  if (target.state !== 'running') return 'STATUS_PROCESS_IS_TERMINATING';
  return openHandle(k, target, obj, inherit);
}

/**
 * CreateProcess(bInheritHandles = TRUE): every inheritable handle of the parent appears in the
 * child with the same value, the same object and still inheritable; the child's next handles come
 * after them.
 */
export function inheritHandles(k: K, parent: P, child: P): number {
  let n = 0;
  for (const h of parent.space.inheritable) {
    const obj = parent.space.handles.get(h);
    if (obj === undefined) continue;
    refObject(k, obj);
    child.space.handles.set(h, obj);
    child.space.inheritable.add(h);
    if (h >= child.space.nextHandle) child.space.nextHandle = h + 4;
    n++;
  }
  return n;
}

/** The process a handle names, or the status to fail with. */
export function processOf(owner: P, h: number): P | NtStatusName {
  if (h === CURRENT_PROCESS) return owner;
  const obj = owner.space.handles.get(h);
  if (obj === undefined) return 'STATUS_INVALID_HANDLE';
  if (obj.kind !== 'process') return 'STATUS_OBJECT_TYPE_MISMATCH';
  return obj.process;
}

/** The thread (process and TID) a handle names. */
export function threadOf(owner: P, h: number, currentTid: number): { process: P; tid: number } | NtStatusName {
  if (h === CURRENT_THREAD) return { process: owner, tid: currentTid };
  const obj = owner.space.handles.get(h);
  if (obj === undefined) return 'STATUS_INVALID_HANDLE';
  if (obj.kind !== 'thread') return 'STATUS_OBJECT_TYPE_MISMATCH';
  return { process: obj.process, tid: obj.tid };
}

export function sectionOf(owner: P, h: number): Section | NtStatusName {
  const obj = owner.space.handles.get(h);
  if (obj === undefined) return 'STATUS_INVALID_HANDLE';
  if (obj.kind !== 'section') return 'STATUS_OBJECT_TYPE_MISMATCH';
  return obj.section;
}

export function eventOf(owner: P, h: number): WinEvent | NtStatusName {
  const obj = owner.space.handles.get(h);
  if (obj === undefined) return 'STATUS_INVALID_HANDLE';
  if (obj.kind !== 'event') return 'STATUS_OBJECT_TYPE_MISMATCH';
  return obj.event;
}
