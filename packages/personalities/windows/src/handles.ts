/**
 * Per-process handle tables (ObpCreateHandle / ObpCloseHandle): handle values are multiples of 4
 * from 4; the pseudo handles -1 (the current process) and -2 (the current thread) are not in the
 * table. A process handle keeps the process object (and its ID) alive after it exits.
 */
import type { NtStatusName } from '@polykernel/core';
import { CURRENT_PROCESS, CURRENT_THREAD } from './constants.js';
import { maybeDeleteSection, type K, type P } from './mm.js';
import type { HandleObject, Section } from './types.js';

export function openHandle(k: K, owner: P, obj: HandleObject): number {
  const space = owner.space;
  if (obj.kind === 'process') k.openHandle(obj.process);
  if (obj.kind === 'section') obj.section.handles++;
  const h = space.nextHandle;
  space.nextHandle += 4;
  space.handles.set(h, obj);
  return h;
}

export function closeHandle(k: K, owner: P, h: number): NtStatusName {
  if (h === CURRENT_PROCESS || h === CURRENT_THREAD) return 'STATUS_SUCCESS';
  const obj = owner.space.handles.get(h);
  if (obj === undefined) return 'STATUS_INVALID_HANDLE';
  owner.space.handles.delete(h);
  dropObject(k, obj);
  return 'STATUS_SUCCESS';
}

function dropObject(k: K, obj: HandleObject): void {
  if (obj.kind === 'process' && obj.process.handles > 0) k.closeHandle(obj.process);
  if (obj.kind === 'section') {
    obj.section.handles--;
    maybeDeleteSection(k, obj.section);
  }
}

/** Close every handle of an exiting process (ObKillProcess → ExSweepHandleTable). */
export function closeAll(k: K, owner: P): void {
  const all = [...owner.space.handles.values()];
  owner.space.handles.clear();
  for (const obj of all) dropObject(k, obj);
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
