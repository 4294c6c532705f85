/**
 * Views at a chosen address (MapViewOfFileEx / NtMapViewOfSection's BaseAddress), handle
 * duplication and inheritance, event objects and waits with timeouts on the cost clock.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { memoryFileSystem } from '@polykernel/kernel';
import { describe, expect, it } from 'vitest';
import { CREATE_SUSPENDED, INFINITE, MEM_COMMIT, MEM_MAPPED, MEM_RESERVE, PAGE_READWRITE, WAIT_FAILED, WAIT_OBJECT_0, WAIT_TIMEOUT } from './constants.js';
import { expireNextWait, DUPLICATE_CLOSE_SOURCE, DUPLICATE_SAME_ACCESS, HANDLE_FLAG_INHERIT } from './objects.js';
import { FILE_MAP_WRITE } from './sections.js';
import { fixtureSysroot } from './sysroot.js';
import { bootWindows, harness, type Win } from './testkit.js';

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(fileURLToPath(new URL(`../../../formats/pe/test/fixtures/${name}`, import.meta.url))));

function bootWithHello(): Win {
  const files = fixtureSysroot({ '/prog/hello-x86_64.exe': fixture('hello-x86_64.exe') }, { 'greet.dll': fixture('greet-x86_64.dll') });
  return bootWindows({ fs: memoryFileSystem(files) });
}

describe('MapViewOfFileEx / NtMapViewOfSection at a BaseAddress', () => {
  it('maps at the address asked; an occupied range fails with ERROR_INVALID_ADDRESS, an unaligned one with ERROR_MAPPED_ALIGNMENT', () => {
    const w = bootWindows();
    const h = w.call('CreateFileMappingW', -1, PAGE_READWRITE, 0x20000, '');
    const at = 0x3000_0000;
    // ReactOS apitests NtMapViewOfSection.c Test_PageFileSection: "an address that is not 64k aligned".
    expect(w.call('MapViewOfFileEx', h, FILE_MAP_WRITE, 0, 0, at + 0x1000)).toBe(0);
    expect(w.lastError()).toBe('ERROR_MAPPED_ALIGNMENT');
    expect(w.call('MapViewOfFileEx', h, FILE_MAP_WRITE, 0, 0, at)).toBe(at);
    w.call('VirtualQuery', at);
    expect(w.record()).toMatchObject({ BaseAddress: at, AllocationBase: at, Type: MEM_MAPPED, RegionSize: 0x20000 });
    // Wine virtual.c test_NtMapViewOfSection: "mapping at the same page conflicts".
    w.resetError();
    expect(w.call('MapViewOfFileEx', h, FILE_MAP_WRITE, 0, 0, at)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_ADDRESS');
    expect(w.call('NtMapViewOfSection', h, -1, 0, 0, PAGE_READWRITE, at + 0x10000)).toBe(0xc0000018); // STATUS_CONFLICTING_ADDRESSES
    // Private memory there conflicts too.
    const priv = w.call('VirtualAlloc', 0x4000_0000, 0x10000, MEM_RESERVE, PAGE_READWRITE);
    expect(w.call('MapViewOfFileEx', h, FILE_MAP_WRITE, 0, 0, priv)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_ADDRESS');
    expect(w.call('UnmapViewOfFile', at)).toBe(1);
    expect(w.call('MapViewOfFileEx', h, FILE_MAP_WRITE, 0x10000, 0x10000, at)).toBe(at);
  });

  it('a child maps its parent\'s section at the parent\'s address and sees the same bytes (Cygwin fixup_mmap_after_fork)', () => {
    const w = bootWindows();
    const child = harness(w.k, w.k.createProcess(w.k.init, 'child'));
    const h = w.call('CreateFileMappingW', -1, PAGE_READWRITE, 0x10000, '');
    const at = w.call('MapViewOfFile', h, FILE_MAP_WRITE, 0, 0);
    expect(w.k.copyToUser(w.t, at, Uint8Array.of(1, 2, 3))).toBe(3);
    const hChild = w.call('OpenProcess', 0x1f0fff, 0, child.p.pid);
    expect(w.call('DuplicateHandle', -1, h, hChild, 0, 0, DUPLICATE_SAME_ACCESS)).toBe(1);
    const inChild = w.record().lpTargetHandle as number;
    expect(child.p.space.handles.get(inChild)?.kind).toBe('section');
    expect(child.call('MapViewOfFileEx', inChild, FILE_MAP_WRITE, 0, 0, at)).toBe(at);
    expect([...child.k.copyFromUser(child.t, at, 3)]).toEqual([1, 2, 3]);
  });
});

describe('DuplicateHandle (NtDuplicateObject)', () => {
  it('duplicates within a process; the section lives until the last handle closes', () => {
    const w = bootWindows();
    const h = w.call('CreateFileMappingW', -1, PAGE_READWRITE, 0x10000, '');
    expect(w.call('DuplicateHandle', -1, h, -1, 0, 0, DUPLICATE_SAME_ACCESS)).toBe(1);
    const dup = w.record().lpTargetHandle as number;
    expect(dup).not.toBe(h);
    expect(dup % 4).toBe(0);
    expect(w.call('CloseHandle', h)).toBe(1);
    expect(w.k.state.commitCharge).toBe(16);
    expect(w.call('CloseHandle', dup)).toBe(1);
    expect(w.k.state.commitCharge).toBe(0);
  });

  it('DUPLICATE_CLOSE_SOURCE closes the source even when the duplication fails (MSDN DuplicateHandle)', () => {
    const w = bootWindows();
    const ev = w.call('CreateEventW', 0, 1, 0, '');
    expect(w.call('DuplicateHandle', -1, ev, 0x7ff0, 0, 0, DUPLICATE_CLOSE_SOURCE)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_HANDLE');
    expect(w.p.space.handles.has(ev)).toBe(false);
    expect(w.call('DuplicateHandle', -1, 0x7ff4, -1, 0, 0, DUPLICATE_SAME_ACCESS)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_HANDLE');
  });

  it('the current-process pseudo handle duplicates to a real process handle', () => {
    const w = bootWindows();
    expect(w.call('DuplicateHandle', -1, -1, -1, 0, 0, DUPLICATE_SAME_ACCESS)).toBe(1);
    const h = w.record().lpTargetHandle as number;
    const obj = w.p.space.handles.get(h);
    expect(obj?.kind === 'process' && obj.process === w.p).toBe(true);
  });
});

describe('handle inheritance (CreateProcessW bInheritHandles)', () => {
  it('inheritable handles appear in the child at the same values; others do not', () => {
    const w = bootWithHello();
    const inherited = w.call('CreateEventW', 1, 1, 0, ''); // lpEventAttributes with bInheritHandle TRUE
    const kept = w.call('CreateFileMappingW', -1, PAGE_READWRITE, 0x10000, '');
    const flagged = w.call('CreateFileMappingW', -1, PAGE_READWRITE, 0x10000, '');
    expect(w.call('SetHandleInformation', flagged, HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT)).toBe(1);
    expect(w.call('GetHandleInformation', flagged)).toBe(1);
    expect(w.record().lpdwFlags).toBe(HANDLE_FLAG_INHERIT);
    expect(w.call('CreateProcessW', '/prog/hello-x86_64.exe', CREATE_SUSPENDED, 1)).toBe(1);
    const child = w.k.processes.get(w.record().dwProcessId as number)!;
    expect(child.space.handles.get(inherited)?.kind).toBe('event');
    expect(child.space.handles.get(flagged)?.kind).toBe('section');
    expect(child.space.handles.has(kept)).toBe(false);
    // Without bInheritHandles nothing is inherited.
    expect(w.call('CreateProcessW', '/prog/hello-x86_64.exe', CREATE_SUSPENDED, 0)).toBe(1);
    const other = w.k.processes.get(w.record().dwProcessId as number)!;
    expect(other.space.handles.size).toBe(0);
    // The child's own next handle does not collide with the inherited values.
    const c = harness(w.k, child);
    const mine = c.call('CreateEventW', 0, 1, 0, '');
    expect([inherited, flagged]).not.toContain(mine);
  });
});

describe('events (Wine sync.c test_event)', () => {
  it('manual-reset events stay signalled; auto-reset ones reset when a wait is satisfied', () => {
    const w = bootWindows();
    const manual = w.call('CreateEventW', 0, 1, 1, '');
    expect(w.call('WaitForSingleObject', manual, 0)).toBe(WAIT_OBJECT_0);
    expect(w.call('WaitForSingleObject', manual, 0)).toBe(WAIT_OBJECT_0);
    expect(w.call('ResetEvent', manual)).toBe(1);
    expect(w.call('WaitForSingleObject', manual, 0)).toBe(WAIT_TIMEOUT);
    const auto = w.call('CreateEventW', 0, 0, 1, '');
    expect(w.call('WaitForSingleObject', auto, 0)).toBe(WAIT_OBJECT_0);
    expect(w.call('WaitForSingleObject', auto, 0)).toBe(WAIT_TIMEOUT);
    expect(w.call('SetEvent', auto)).toBe(1);
    expect(w.call('WaitForMultipleObjects', 2, [String(manual), String(auto)], 0, 0)).toBe(WAIT_OBJECT_0 + 1);
    expect(w.call('WaitForMultipleObjects', 2, [String(manual), String(auto)], 0, 0)).toBe(WAIT_TIMEOUT);
  });

  it('names: CreateEvent opens an existing one (ERROR_ALREADY_EXISTS); OpenEvent of a missing name fails ERROR_FILE_NOT_FOUND; a section\'s name is ERROR_INVALID_HANDLE', () => {
    const a = bootWindows();
    const b = harness(a.k, a.k.createProcess(a.k.init, 'b'));
    const h = a.call('CreateEventW', 0, 1, 0, 'Local\\ready');
    expect(a.lastError()).toBe('ERROR_SUCCESS');
    expect(b.call('CreateEventW', 0, 0, 0, 'Local\\ready')).not.toBe(0);
    expect(b.lastError()).toBe('ERROR_ALREADY_EXISTS');
    const hb = b.call('OpenEventW', 0x1f0003, 0, 'Local\\ready');
    expect(a.call('SetEvent', h)).toBe(1);
    expect(b.call('WaitForSingleObject', hb, 0)).toBe(WAIT_OBJECT_0);
    expect(b.call('OpenEventW', 0x1f0003, 0, 'Local\\nothing')).toBe(0);
    expect(b.lastError()).toBe('ERROR_FILE_NOT_FOUND');
    a.call('CreateFileMappingW', -1, PAGE_READWRITE, 0x1000, 'Local\\map');
    expect(a.call('CreateEventW', 0, 0, 0, 'Local\\map')).toBe(0);
    expect(a.lastError()).toBe('ERROR_INVALID_HANDLE');
    expect(a.call('SetEvent', 0x7ff0)).toBe(0);
    expect(a.lastError()).toBe('ERROR_INVALID_HANDLE');
    // The name goes with the last handle.
    a.call('CloseHandle', h);
    expect(b.call('CloseHandle', hb)).toBe(1);
    expect(a.k.state.namedEvents.has('Local\\ready')).toBe(true); // b's CreateEventW handle is still open
  });

  it('an INFINITE wait sleeps until another process sets the event; a waiter on a section fails', () => {
    const a = bootWindows();
    const b = harness(a.k, a.k.createProcess(a.k.init, 'b'));
    const ha = a.call('CreateEventW', 0, 0, 0, 'Local\\go');
    const hb = b.call('OpenEventW', 0x1f0003, 0, 'Local\\go');
    const r = a.k.syscall(b.t, 'WaitForSingleObject', [hb, INFINITE]);
    expect(r.blocked).toBe(true);
    expect(b.t.state).toBe('blocked');
    expect(a.call('SetEvent', ha)).toBe(1);
    expect(b.t.state).toBe('runnable');
    expect(a.k.resume(b.t).value).toBe(WAIT_OBJECT_0);
    // The auto-reset event was consumed by the wait.
    expect(a.call('WaitForSingleObject', ha, 0)).toBe(WAIT_TIMEOUT);
    const s = a.call('CreateFileMappingW', -1, PAGE_READWRITE, 0x1000, '');
    expect(a.call('WaitForSingleObject', s, 0)).toBe(WAIT_FAILED);
    expect(a.lastError()).toBe('ERROR_INVALID_HANDLE');
  });

  it('a finite timeout runs on the cost clock: WAIT_TIMEOUT once the time has gone by', () => {
    const a = bootWindows();
    const ev = a.call('CreateEventW', 0, 1, 0, '');
    const start = a.k.metrics.cycles;
    const r = a.k.syscall(a.t, 'WaitForSingleObject', [ev, 10]);
    expect(r.blocked).toBe(true);
    const deadline = a.k.state.timedWaits.get(a.t)!;
    expect(deadline - start).toBeGreaterThanOrEqual(10 * a.k.mmu.profile.hz / 1000);
    // Nothing else can run: the driver moves the clock to the timeout.
    expect(expireNextWait(a.k)).toBe(true);
    expect(a.k.metrics.cycles).toBeGreaterThanOrEqual(deadline);
    expect(a.k.resume(a.t).value).toBe(WAIT_TIMEOUT);
    expect(a.k.state.timedWaits.size).toBe(0);
    expect(expireNextWait(a.k)).toBe(false);
  });

  it('a timed wait that is satisfied before its timeout returns WAIT_OBJECT_0 and leaves no timer', () => {
    const a = bootWindows();
    const b = harness(a.k, a.k.createProcess(a.k.init, 'b'));
    const ha = a.call('CreateEventW', 0, 1, 0, 'Local\\t');
    const hb = b.call('OpenEventW', 0, 0, 'Local\\t');
    expect(a.k.syscall(b.t, 'WaitForSingleObject', [hb, 5000]).blocked).toBe(true);
    a.call('SetEvent', ha);
    expect(a.k.resume(b.t).value).toBe(WAIT_OBJECT_0);
    expect(a.k.state.timedWaits.size).toBe(0);
  });

  it('waits on a process handle end when the process exits (WaitForMultipleObjects, wait all)', () => {
    const a = bootWindows();
    const child = a.k.createProcess(a.k.init, 'child');
    const hp = a.call('OpenProcess', 0x1f0fff, 0, child.pid);
    const ev = a.call('CreateEventW', 0, 1, 1, '');
    const r = a.k.syscall(a.t, 'WaitForMultipleObjects', [2, [String(hp), String(ev)], 1, INFINITE]);
    expect(r.blocked).toBe(true);
    a.k.exitProcess(child, 3);
    expect(a.k.resume(a.t).value).toBe(WAIT_OBJECT_0);
    expect(a.call('WaitForMultipleObjects', 0, [], 0, 0)).toBe(WAIT_FAILED);
    expect(a.lastError()).toBe('ERROR_INVALID_PARAMETER');
    expect(a.call('VirtualAlloc', 0, 0x1000, MEM_COMMIT, PAGE_READWRITE)).not.toBe(0);
  });
});
