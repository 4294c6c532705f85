/**
 * Object services that are not memory: handle duplication and inheritance flags
 * (NtDuplicateObject / DuplicateHandle, NtSetInformationObject / SetHandleInformation), event
 * objects (NtCreateEvent, NtOpenEvent, NtSetEvent, NtClearEvent: CreateEventW, OpenEventW,
 * SetEvent, ResetEvent) and waits on processes, threads and events (NtWaitForSingleObject,
 * NtWaitForMultipleObjects: WaitForSingleObject, WaitForMultipleObjects).
 *
 * Waits: the NT services here poll (Timeout 0); kernel32's waits sleep in the outermost call and
 * poll again when woken. A finite timeout runs on the cost clock: the wait ends with WAIT_TIMEOUT
 * once `dwMilliseconds` of simulated time (at the machine profile's clock rate) have gone by —
 * checked when the thread is woken, and at the start of every call of the personality, which wakes
 * any thread whose timeout has passed; a driver with every thread asleep calls `expireNextWait`
 * to move the clock to the earliest timeout (the clock interrupt that would end it).
 */
import type { NtStatusName } from '@polykernel/core';
import type { SyscallArg, SyscallResult } from '@polykernel/kernel';
import { bool, failNt, num, nt, str, win32, type Ctx, type Spec } from './callspec.js';
import { CURRENT_PROCESS, INFINITE, WAIT_FAILED, WAIT_TIMEOUT } from './constants.js';
import { closeHandle, duplicateInto, eventOf, objectOf, openHandle, processOf } from './handles.js';
import type { K } from './mm.js';
import type { HandleObject, WinEvent } from './types.js';

/** STATUS_TIMEOUT (a success status): the wait's timeout ran out. */
export const STATUS_TIMEOUT = 0x102;
/** STATUS_OBJECT_NAME_EXISTS (informational): a create that opened an existing named object. */
export const STATUS_OBJECT_NAME_EXISTS = 0x4000_0000;

export const DUPLICATE_CLOSE_SOURCE = 0x1;
export const DUPLICATE_SAME_ACCESS = 0x2;
export const DUPLICATE_SAME_ATTRIBUTES = 0x4;
/** OBJECT_ATTRIBUTES.Attributes: the handle is inherited by child processes. */
export const OBJ_INHERIT = 0x2;
export const HANDLE_FLAG_INHERIT = 0x1;
export const HANDLE_FLAG_PROTECT_FROM_CLOSE = 0x2;
/** EVENT_TYPE: NotificationEvent (manual reset) and SynchronizationEvent (auto reset). */
export const NOTIFICATION_EVENT = 0;
export const SYNCHRONIZATION_EVENT = 1;
/** MAXIMUM_WAIT_OBJECTS (winnt.h). */
export const MAXIMUM_WAIT_OBJECTS = 64;

const WAIT_REASONS = new Set(['WaitForSingleObject', 'WaitForMultipleObjects']);

// ---- signal state (KeWaitForMultipleObjects' view of each dispatcher object) -----------------

/** Whether the object is signalled now; null for an object no thread can wait on. */
function signaled(obj: HandleObject): boolean | null {
  switch (obj.kind) {
    case 'process':
      return obj.process.state !== 'running';
    case 'thread': {
      const t = obj.process.threads.find((x) => x.tid === obj.tid);
      return t === undefined || t.state === 'dead' || obj.process.state !== 'running';
    }
    case 'event':
      return obj.event.signaled;
    // A file object is signalled when no I/O is pending: every I/O here is synchronous.
    case 'file':
      return true;
    case 'section':
      return null;
  }
}

/** A satisfied wait resets a synchronization (auto-reset) event (KiWaitSatisfyAny). */
function satisfy(obj: HandleObject): void {
  if (obj.kind === 'event' && !obj.event.manual) obj.event.signaled = false;
}

/** Wake every thread sleeping in a wait: each polls its objects again and sleeps on if nothing it waits for is signalled. */
export function wakeWaiters(k: K): void {
  for (const q of k.processes.values()) {
    for (const t of q.threads) if (t.pending !== null && WAIT_REASONS.has(t.pending.reason)) k.wake(t);
  }
}

/** Wake the threads whose wait timeout has passed on the cost clock. */
export function expireWaits(k: K): void {
  const waits = k.state.timedWaits;
  if (waits.size === 0) return;
  const now = k.metrics.cycles;
  for (const [t, deadline] of waits) {
    if (deadline <= now) {
      waits.delete(t);
      k.wake(t);
    }
  }
}

/**
 * Nothing can run but timed waits remain: move the clock to the earliest timeout and wake its
 * thread(s). Returns false when no thread waits with a timeout (a real deadlock).
 */
export function expireNextWait(k: K): boolean {
  let first = Number.POSITIVE_INFINITY;
  for (const d of k.state.timedWaits.values()) if (d < first) first = d;
  if (first === Number.POSITIVE_INFINITY) return false;
  if (k.metrics.cycles < first) k.metrics.cycles = first;
  expireWaits(k);
  return true;
}

// ---- NT services --------------------------------------------------------------------------

/** The objects of a wait, or the status to fail with (STATUS_OBJECT_TYPE_MISMATCH for a section). */
function waitObjects(ctx: Ctx, handles: readonly number[]): HandleObject[] | NtStatusName {
  const out: HandleObject[] = [];
  for (const h of handles) {
    const obj = objectOf(ctx.process, h, ctx.thread.tid);
    if (obj === undefined) return 'STATUS_INVALID_HANDLE';
    if (signaled(obj) === null) return 'STATUS_OBJECT_TYPE_MISMATCH';
    out.push(obj);
  }
  return out;
}

/** One poll: STATUS_WAIT_0 + i for the first signalled object (wait any), 0 when all are (wait all), else STATUS_TIMEOUT. */
function poll(objects: readonly HandleObject[], all: boolean): number {
  if (all) {
    if (!objects.every((o) => signaled(o) === true)) return STATUS_TIMEOUT;
    for (const o of objects) satisfy(o);
    return 0;
  }
  const i = objects.findIndex((o) => signaled(o) === true);
  if (i < 0) return STATUS_TIMEOUT;
  satisfy(objects[i]!);
  return i;
}

function ntWaitForSingleObject(ctx: Ctx, a: readonly SyscallArg[]): number {
  const objs = waitObjects(ctx, [num(a[0])]);
  return typeof objs === 'string' ? ctx.fail(objs) : poll(objs, false);
}

/** The handle values of a wait, passed as a string vector (the array already copied in, as execve's argv). */
function handleList(a: SyscallArg | undefined): number[] {
  if (!Array.isArray(a)) return typeof a === 'number' ? [a] : [];
  return (a as readonly string[]).map((s) => Number(s));
}

function ntWaitForMultipleObjects(ctx: Ctx, a: readonly SyscallArg[]): number {
  const count = num(a[0]);
  const handles = handleList(a[1]);
  if (!Number.isInteger(count) || count < 1 || count > MAXIMUM_WAIT_OBJECTS) return ctx.fail('STATUS_INVALID_PARAMETER_1');
  if (handles.length < count) return ctx.fail('STATUS_INVALID_PARAMETER_2');
  const type = num(a[2]);
  if (type !== 0 && type !== 1) return ctx.fail('STATUS_INVALID_PARAMETER_3');
  const objs = waitObjects(ctx, handles.slice(0, count));
  if (typeof objs === 'string') return ctx.fail(objs);
  // WaitAll on the same object twice is refused (STATUS_INVALID_PARAMETER_MIX on Windows; ERROR_INVALID_PARAMETER either way).
  if (type === 0 && new Set(objs.map(identity)).size !== objs.length) return ctx.fail('STATUS_INVALID_PARAMETER');
  return poll(objs, type === 0);
}

function identity(o: HandleObject): unknown {
  switch (o.kind) {
    case 'process': return o.process;
    case 'thread': return `${String(o.process.pid)}:${String(o.tid)}`;
    case 'event': return o.event;
    case 'file': return o.file;
    case 'section': return o.section;
  }
}

/** A named object's slot in \BaseNamedObjects: what already holds `name`. */
function namedKind(k: K, name: string): 'event' | 'section' | null {
  if (k.state.namedEvents.has(name)) return 'event';
  if (k.state.namedSections.has(name)) return 'section';
  return null;
}

function ntCreateEvent(ctx: Ctx, a: readonly SyscallArg[]): number {
  const [type, initial, name, attrs] = [num(a[0]), num(a[1]), str(a[2]), num(a[3] ?? 0)];
  if (type !== NOTIFICATION_EVENT && type !== SYNCHRONIZATION_EVENT) return ctx.fail('STATUS_INVALID_PARAMETER_4');
  const k = ctx.kernel;
  const held = name === '' ? null : namedKind(k, name);
  // A name another type of object holds: STATUS_OBJECT_TYPE_MISMATCH (Wine sync.c test_mutex: CreateEvent over a mutex's name, ERROR_INVALID_HANDLE).
  if (held === 'section') return ctx.fail('STATUS_OBJECT_TYPE_MISMATCH');
  const existing = held === 'event' ? k.state.namedEvents.get(name)! : null;
  const ev: WinEvent = existing ?? { name, manual: type === NOTIFICATION_EVENT, signaled: initial !== 0, handles: 0 };
  if (existing === null && name !== '') k.state.namedEvents.set(name, ev);
  const h = openHandle(k, ctx.process, { kind: 'event', event: ev }, hasInherit(attrs));
  ctx.record({ type: 'NtCreateEvent', fields: { EventHandle: h } });
  return existing === null ? 0 : STATUS_OBJECT_NAME_EXISTS;
}

const hasInherit = (attrs: number): boolean => Number.isInteger(attrs) && Math.floor(attrs / OBJ_INHERIT) % 2 === 1;

function ntOpenEvent(ctx: Ctx, a: readonly SyscallArg[]): number {
  const name = str(a[0]);
  const k = ctx.kernel;
  if (namedKind(k, name) === 'section') return ctx.fail('STATUS_OBJECT_TYPE_MISMATCH');
  const ev = k.state.namedEvents.get(name);
  if (ev === undefined) return ctx.fail('STATUS_OBJECT_NAME_NOT_FOUND');
  ctx.record({ type: 'NtOpenEvent', fields: { EventHandle: openHandle(k, ctx.process, { kind: 'event', event: ev }, hasInherit(num(a[1] ?? 0))) } });
  return 0;
}

/** NtSetEvent / NtClearEvent: the event's new state; the previous one in the record (PreviousState). */
function ntSetEvent(ctx: Ctx, a: readonly SyscallArg[], state: boolean): number {
  const ev = eventOf(ctx.process, num(a[0]));
  if (typeof ev === 'string') return ctx.fail(ev);
  const previous = ev.signaled;
  ev.signaled = state;
  ctx.record({ type: state ? 'NtSetEvent' : 'NtClearEvent', fields: { PreviousState: previous ? 1 : 0 } });
  if (state) wakeWaiters(ctx.kernel);
  return 0;
}

function ntDuplicateObject(ctx: Ctx, a: readonly SyscallArg[]): number {
  const [hsp, hs, htp, attrs, options] = [num(a[0]), num(a[1]), num(a[2]), num(a[4] ?? 0), num(a[5] ?? 0)];
  const k = ctx.kernel;
  const source = processOf(ctx.process, hsp);
  if (typeof source === 'string') return ctx.fail(source);
  const closeSource = Math.floor(options / DUPLICATE_CLOSE_SOURCE) % 2 === 1;
  const target = htp === 0 ? null : processOf(ctx.process, htp);
  // The source handle's thread id for the -2 pseudo handle: the caller's when the source is the caller.
  const tid = source === ctx.process ? ctx.thread.tid : (source.threads[0]?.tid ?? 0);
  const inherit = Math.floor(options / DUPLICATE_SAME_ATTRIBUTES) % 2 === 1 ? source.space.inheritable.has(hs) : hasInherit(attrs);
  let result: number | NtStatusName = 'STATUS_INVALID_HANDLE';
  if (target !== null && typeof target !== 'string') result = duplicateInto(k, source, hs, target, inherit, tid);
  else if (typeof target === 'string') result = target;
  // DUPLICATE_CLOSE_SOURCE closes the source handle whatever else happened (MSDN DuplicateHandle).
  if (closeSource) closeHandle(k, source, hs);
  if (typeof result === 'string') {
    // A NULL target with DUPLICATE_CLOSE_SOURCE only closes (the source handle is gone: success).
    if (htp === 0 && closeSource) return 0;
    return ctx.fail(result);
  }
  ctx.record({ type: 'NtDuplicateObject', fields: { TargetHandle: result } });
  return 0;
}

/** NtQueryObject / NtSetInformationObject(ObjectHandleFlagInformation): the inherit flag. */
function ntSetInformationObject(ctx: Ctx, a: readonly SyscallArg[]): number {
  const [h, inherit] = [num(a[0]), num(a[1])];
  if (!ctx.process.space.handles.has(h)) return ctx.fail('STATUS_INVALID_HANDLE');
  if (inherit !== 0) ctx.process.space.inheritable.add(h);
  else ctx.process.space.inheritable.delete(h);
  return 0;
}

function ntQueryObject(ctx: Ctx, a: readonly SyscallArg[]): number {
  const h = num(a[0]);
  const obj = ctx.process.space.handles.get(h);
  if (obj === undefined) return ctx.fail('STATUS_INVALID_HANDLE');
  ctx.record({ type: 'OBJECT_HANDLE_FLAG_INFORMATION', fields: { Inherit: ctx.process.space.inheritable.has(h), ProtectFromClose: false, TypeName: typeName(obj) } });
  return 0;
}

function typeName(obj: HandleObject): string {
  return { process: 'Process', thread: 'Thread', section: 'Section', event: 'Event', file: 'File' }[obj.kind];
}

// ---- kernel32 -----------------------------------------------------------------------------

/**
 * Sleep until `pollOnce` says an object is signalled, or the timeout runs out on the cost clock
 * (0: poll once; INFINITE: no timeout). The value: WAIT_OBJECT_0 + i, WAIT_TIMEOUT or WAIT_FAILED.
 */
function waitLoop(ctx: Ctx, reason: string, ms: number, pollOnce: (c: Ctx) => SyscallResult): number {
  const k = ctx.kernel;
  if (!Number.isInteger(ms) || ms < 0 || ms > INFINITE) return ctx.fail('ERROR_INVALID_PARAMETER');
  const deadline = ms === INFINITE ? Number.POSITIVE_INFINITY : k.metrics.cycles + Math.ceil((ms * k.mmu.profile.hz) / 1000);
  const thread = ctx.thread;
  const step = (c: Ctx): number => {
    const r = pollOnce(c);
    if (r.error !== null) {
      k.state.timedWaits.delete(thread);
      failNt(c, r);
      return WAIT_FAILED;
    }
    if (r.value !== STATUS_TIMEOUT) {
      k.state.timedWaits.delete(thread);
      return r.value;
    }
    if (k.metrics.cycles >= deadline) {
      k.state.timedWaits.delete(thread);
      return WAIT_TIMEOUT;
    }
    if (deadline !== Number.POSITIVE_INFINITY) k.state.timedWaits.set(thread, deadline);
    return c.block(reason, step);
  };
  return step(ctx);
}

function waitForSingleObject(ctx: Ctx, a: readonly SyscallArg[]): number {
  const h = num(a[0]);
  return waitLoop(ctx, 'WaitForSingleObject', num(a[1]), (c) => c.call('NtWaitForSingleObject', [h, 0, 0]));
}

function waitForMultipleObjects(ctx: Ctx, a: readonly SyscallArg[]): number {
  const [count, list, all] = [num(a[0]), a[1] ?? [], num(a[2])];
  if (!Number.isInteger(count) || count < 1 || count > MAXIMUM_WAIT_OBJECTS) return ctx.fail('ERROR_INVALID_PARAMETER');
  return waitLoop(ctx, 'WaitForMultipleObjects', num(a[3]), (c) => c.call('NtWaitForMultipleObjects', [count, list, all !== 0 ? 0 : 1, 0, 0]));
}

function createEventW(ctx: Ctx, a: readonly SyscallArg[]): number {
  const name = str(a[3]);
  const r = ctx.call('NtCreateEvent', [bool(a[1]) ? NOTIFICATION_EVENT : SYNCHRONIZATION_EVENT, bool(a[2]) ? 1 : 0, name, bool(a[0]) ? OBJ_INHERIT : 0]);
  if (r.error !== null) return failNt(ctx, r);
  // An existing named event is opened and GetLastError() says ERROR_ALREADY_EXISTS; otherwise 0 (kernelbase sets it either way).
  ctx.thread.errors.win32 = r.value === STATUS_OBJECT_NAME_EXISTS ? { name: 'ERROR_ALREADY_EXISTS', number: 183 } : { name: 'ERROR_SUCCESS', number: 0 };
  return r.record!.fields.EventHandle as number;
}

function duplicateHandle(ctx: Ctx, a: readonly SyscallArg[]): number {
  const [hsp, hs, htp, access, inherit, options] = [num(a[0]), num(a[1]), num(a[2]), num(a[3]), num(a[4]), num(a[5])];
  const r = ctx.call('NtDuplicateObject', [hsp, hs, htp, access, inherit !== 0 ? OBJ_INHERIT : 0, options]);
  if (r.error !== null) return failNt(ctx, r);
  ctx.record({ type: 'DuplicateHandle', fields: { lpTargetHandle: (r.record?.fields.TargetHandle as number | undefined) ?? 0 } });
  return 1;
}

function setHandleInformation(ctx: Ctx, a: readonly SyscallArg[]): number {
  const [h, mask, flags] = [num(a[0]), num(a[1]), num(a[2])];
  if (Math.floor(mask / HANDLE_FLAG_INHERIT) % 2 === 0) {
    // Only the inherit flag is modelled; PROTECT_FROM_CLOSE is accepted for a valid handle and not enforced.
    return ctx.process.space.handles.has(h) ? 1 : ctx.fail('ERROR_INVALID_HANDLE');
  }
  const r = ctx.call('NtSetInformationObject', [h, Math.floor(flags / HANDLE_FLAG_INHERIT) % 2]);
  return r.error !== null ? failNt(ctx, r) : 1;
}

function getHandleInformation(ctx: Ctx, a: readonly SyscallArg[]): number {
  const r = ctx.call('NtQueryObject', [num(a[0])]);
  if (r.error !== null) return failNt(ctx, r);
  ctx.record({ type: 'GetHandleInformation', fields: { lpdwFlags: r.record!.fields.Inherit === true ? HANDLE_FLAG_INHERIT : 0 } });
  return 1;
}

export function objectSyscalls(): Spec[] {
  return [
    nt('NtWaitForSingleObject', 0x04, ['Handle', 'Alertable', 'Timeout'], ntWaitForSingleObject),
    nt('NtWaitForMultipleObjects', 0x5b, ['Count', 'Handles', 'WaitType', 'Alertable', 'Timeout'], ntWaitForMultipleObjects),
    nt('NtCreateEvent', 0x48, ['EventType', 'InitialState', 'ObjectName', 'HandleAttributes'], ntCreateEvent),
    nt('NtOpenEvent', 0x40, ['ObjectName', 'HandleAttributes'], ntOpenEvent),
    nt('NtSetEvent', 0x0e, ['EventHandle'], (c, a) => ntSetEvent(c, a, true)),
    nt('NtClearEvent', 0x3e, ['EventHandle'], (c, a) => ntSetEvent(c, a, false)),
    nt('NtDuplicateObject', 0x3c, ['SourceProcessHandle', 'SourceHandle', 'TargetProcessHandle', 'DesiredAccess', 'HandleAttributes', 'Options'], ntDuplicateObject),
    nt('NtSetInformationObject', 0x5c, ['Handle', 'Inherit'], ntSetInformationObject),
    nt('NtQueryObject', 0x10, ['Handle'], ntQueryObject),
    win32('WaitForSingleObject', ['hHandle', 'dwMilliseconds'], waitForSingleObject, WAIT_FAILED),
    win32('WaitForMultipleObjects', ['nCount', 'lpHandles', 'bWaitAll', 'dwMilliseconds'], waitForMultipleObjects, WAIT_FAILED),
    win32('CreateEventW', ['lpEventAttributes', 'bManualReset', 'bInitialState', 'lpName'], createEventW),
    win32('OpenEventW', ['dwDesiredAccess', 'bInheritHandle', 'lpName'], (c, a) => {
      const r = c.call('NtOpenEvent', [str(a[2]), bool(a[1]) ? OBJ_INHERIT : 0]);
      return r.error !== null ? failNt(c, r) : (r.record!.fields.EventHandle as number);
    }),
    win32('SetEvent', ['hEvent'], (c, a) => {
      const r = c.call('NtSetEvent', [num(a[0])]);
      return r.error !== null ? failNt(c, r) : 1;
    }),
    win32('ResetEvent', ['hEvent'], (c, a) => {
      const r = c.call('NtClearEvent', [num(a[0])]);
      return r.error !== null ? failNt(c, r) : 1;
    }),
    win32('DuplicateHandle', ['hSourceProcessHandle', 'hSourceHandle', 'hTargetProcessHandle', 'dwDesiredAccess', 'bInheritHandle', 'dwOptions'], duplicateHandle),
    win32('SetHandleInformation', ['hObject', 'dwMask', 'dwFlags'], setHandleInformation),
    win32('GetHandleInformation', ['hObject'], getHandleInformation),
    win32('GetCurrentProcess', [], () => CURRENT_PROCESS),
  ];
}
