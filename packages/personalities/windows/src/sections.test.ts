/**
 * Pagefile-backed sections: CreateFileMapping(INVALID_HANDLE_VALUE) charges the system commit at
 * creation; views in two processes share the pages; FILE_MAP_COPY views are private; protections
 * as Wine's test_CreateFileMapping_protection and test_MapViewOfFile assert them.
 */
import { ACCESS_WRITE } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import {
  MEM_COMMIT, MEM_MAPPED, MEM_RELEASE, PAGE_EXECUTE, PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE, PAGE_EXECUTE_WRITECOPY, PAGE_NOACCESS,
  PAGE_READONLY, PAGE_READWRITE, PAGE_WRITECOPY,
} from './constants.js';
import { FILE_MAP_COPY, FILE_MAP_READ, FILE_MAP_WRITE } from './sections.js';
import { bootWindows, harness } from './testkit.js';

describe('pagefile-backed sections', () => {
  it('CreateFileMapping accepts the protections of test_CreateFileMapping_protection and refuses the rest', () => {
    const w = bootWindows();
    for (const [prot, ok] of [[PAGE_NOACCESS, false], [PAGE_READONLY, true], [PAGE_READWRITE, true], [PAGE_WRITECOPY, true], [PAGE_EXECUTE, false],
      [PAGE_EXECUTE_READ, true], [PAGE_EXECUTE_READWRITE, true], [PAGE_EXECUTE_WRITECOPY, true], [0x06, false], [0, false]] as const) {
      w.resetError();
      const h = w.call('CreateFileMappingW', -1, prot, 0x1000, '');
      if (ok) expect(h, `0x${prot.toString(16)}`).not.toBe(0);
      else {
        expect(h, `0x${prot.toString(16)}`).toBe(0);
        expect(w.lastError()).toBe('ERROR_INVALID_PARAMETER');
      }
    }
  });

  it('is charged to the system commit at creation and returned when the last handle and view go', () => {
    const w = bootWindows();
    const h = w.call('CreateFileMappingW', -1, PAGE_READWRITE, 0x10000, 'Local\\demo');
    expect(w.k.state.commitCharge).toBe(16);
    expect(w.p.space.commitCharge).toBe(0);
    const view = w.call('MapViewOfFile', h, FILE_MAP_WRITE, 0, 0);
    expect(view % 0x10000).toBe(0);
    w.call('VirtualQuery', view);
    expect(w.record()).toMatchObject({ Type: MEM_MAPPED, State: MEM_COMMIT, Protect: PAGE_READWRITE, AllocationProtect: PAGE_READWRITE, RegionSize: 0x10000 });
    expect(w.call('CloseHandle', h)).toBe(1);
    expect(w.k.state.commitCharge).toBe(16); // the view keeps the section
    expect(w.call('VirtualFree', view, 0, MEM_RELEASE)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_PARAMETER');
    expect(w.call('UnmapViewOfFile', view)).toBe(1);
    expect(w.k.state.commitCharge).toBe(0);
    expect(w.call('UnmapViewOfFile', view)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_ADDRESS');
  });

  it('two processes share a named section\'s pages; a FILE_MAP_COPY view keeps its writes private', () => {
    const a = bootWindows();
    const b = harness(a.k, a.k.createProcess(a.k.init, 'b'));
    const ha = a.call('CreateFileMappingW', -1, PAGE_READWRITE, 0x2000, 'Local\\shared');
    const hb = b.call('OpenFileMappingW', FILE_MAP_WRITE, 0, 'Local\\shared');
    expect(hb).not.toBe(0);
    const va = a.call('MapViewOfFile', ha, FILE_MAP_WRITE, 0, 0);
    const vb = b.call('MapViewOfFile', hb, FILE_MAP_WRITE, 0, 0);
    expect(a.k.copyToUser(a.t, va + 0x1000, Uint8Array.of(7, 7, 7))).toBe(3);
    expect([...b.k.copyFromUser(b.t, vb + 0x1000, 3)]).toEqual([7, 7, 7]);
    const vc = b.call('MapViewOfFile', hb, FILE_MAP_COPY, 0, 0);
    b.call('VirtualQuery', vc);
    expect(b.record().Protect).toBe(PAGE_WRITECOPY);
    expect(b.k.access(b.t, vc + 0x1000, ACCESS_WRITE)).toBeGreaterThanOrEqual(0);
    expect(b.k.copyToUser(b.t, vc + 0x1000, Uint8Array.of(1))).toBe(1);
    b.call('VirtualQuery', vc + 0x1000);
    expect(b.record().Protect).toBe(PAGE_READWRITE);
    expect([...a.k.copyFromUser(a.t, va + 0x1000, 1)]).toEqual([7]);
    // A second CreateFileMapping of the name opens the same section and says so.
    expect(a.call('CreateFileMappingW', -1, PAGE_READWRITE, 0x2000, 'Local\\shared')).not.toBe(0);
    expect(a.lastError()).toBe('ERROR_ALREADY_EXISTS');
  });

  it('a read-only section refuses FILE_MAP_WRITE views and writable protections (test_MapViewOfFile)', () => {
    const w = bootWindows();
    const h = w.call('CreateFileMappingW', -1, PAGE_READONLY, 0x1000, '');
    expect(w.call('MapViewOfFile', h, FILE_MAP_WRITE, 0, 0)).toBe(0);
    expect(w.lastError()).toBe('ERROR_ACCESS_DENIED');
    const v = w.call('MapViewOfFile', h, FILE_MAP_READ, 0, 0);
    expect(v).not.toBe(0);
    expect(w.call('VirtualProtect', v, 0x1000, PAGE_READWRITE)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_PARAMETER');
    expect(w.call('MapViewOfFile', h, FILE_MAP_READ, 0x1000, 0)).toBe(0);
    expect(w.lastError()).toBe('ERROR_MAPPED_ALIGNMENT');
  });
});
