/**
 * The rules of Windows' memory API beyond the Wine cases: commit charge against the commit limit
 * (ERROR_COMMITMENT_LIMIT, never an OOM kill), the x64 user range, MEM_TOP_DOWN, decommit and
 * partial release splitting a VAD as VirtualQuery shows it, demand-zero pages, access violations
 * ending the process with the exception code, handles and the !address view.
 */
import { ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import {
  HIGHEST_USER_ADDRESS, MEM_COMMIT, MEM_DECOMMIT, MEM_FREE, MEM_RELEASE, MEM_RESERVE, MEM_TOP_DOWN, PAGE_EXECUTE_READ,
  PAGE_NOACCESS, PAGE_READONLY, PAGE_READWRITE,
} from './constants.js';
import { bootWindows } from './testkit.js';
import { renderAddress, windbgHex } from './views.js';

describe('commit charge', () => {
  it('is charged at MEM_COMMIT, not at MEM_RESERVE, and returned at decommit and release', () => {
    const w = bootWindows();
    const m = w.k.state;
    const a = w.call('VirtualAlloc', 0, 0x100000, MEM_RESERVE, PAGE_READWRITE);
    expect([m.commitCharge, w.p.space.commitCharge]).toEqual([0, 0]);
    expect(w.call('VirtualAlloc', a + 0x3000, 0x2001, MEM_COMMIT, PAGE_READWRITE)).toBe(a + 0x3000);
    expect([m.commitCharge, w.p.space.commitCharge]).toEqual([3, 3]); // every touched page: 0x3000..0x6000
    // Committing committed pages charges nothing more.
    w.call('VirtualAlloc', a + 0x3000, 0x1000, MEM_COMMIT, PAGE_READONLY);
    expect(m.commitCharge).toBe(3);
    expect(w.call('VirtualFree', a + 0x4000, 0x1000, MEM_DECOMMIT)).toBe(1);
    expect(m.commitCharge).toBe(2);
    expect(w.call('VirtualFree', a, 0, MEM_RELEASE)).toBe(1);
    expect([m.commitCharge, w.p.space.commitCharge]).toEqual([0, 0]);
    expect(w.p.space.peakCommit).toBe(3);
  });

  it('fails with ERROR_COMMITMENT_LIMIT past RAM + pagefile, changing nothing, and the process lives', () => {
    const w = bootWindows({ pagefilePages: 0 }, { frames: 1024 });
    const limit = w.k.state.commitLimit;
    expect(limit).toBe(1024);
    const a = w.call('VirtualAlloc', 0, 1000 * 4096, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    expect(a).not.toBe(0);
    w.resetError();
    expect(w.call('VirtualAlloc', 0, 100 * 4096, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE)).toBe(0);
    expect(w.lastError()).toBe('ERROR_COMMITMENT_LIMIT');
    // A reservation still works (it charges nothing); committing it fails whole.
    const r = w.call('VirtualAlloc', 0, 100 * 4096, MEM_RESERVE, PAGE_READWRITE);
    expect(r).not.toBe(0);
    expect(w.call('VirtualAlloc', r, 100 * 4096, MEM_COMMIT, PAGE_READWRITE)).toBe(0);
    expect(w.lastError()).toBe('ERROR_COMMITMENT_LIMIT');
    expect(w.call('VirtualQuery', r)).toBe(48);
    expect(w.record()).toMatchObject({ State: MEM_RESERVE, RegionSize: 100 * 4096 });
    expect(w.k.state.commitCharge).toBe(1000);
    expect(w.p.state).toBe('running');
    // The pagefile raises the limit.
    expect(bootWindows({ pagefilePages: 4096 }, { frames: 1024 }).k.state.commitLimit).toBe(5120);
  });

  it('is returned when the process exits', () => {
    const w = bootWindows();
    w.call('VirtualAlloc', 0, 64 * 4096, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    for (let i = 0; i < 64; i++) w.k.access(w.t, 0x10000 + i * 4096, ACCESS_WRITE);
    const free = w.k.mmu.frames.freeFrames;
    w.call('TerminateProcess', -1, 3);
    expect(w.k.state.commitCharge).toBe(0);
    expect(w.k.mmu.frames.freeFrames).toBeGreaterThanOrEqual(free + 64);
    expect(w.p.exitStatus).toBe(3);
  });
});

describe('address space', () => {
  it('allocates bottom-up from 0x10000, MEM_TOP_DOWN from the top of the x64 user range', () => {
    const w = bootWindows();
    expect(w.call('VirtualAlloc', 0, 0x1000, MEM_RESERVE, PAGE_READWRITE)).toBe(0x10000);
    expect(w.call('VirtualAlloc', 0, 0x1000, MEM_RESERVE, PAGE_READWRITE)).toBe(0x20000);
    expect(w.call('VirtualAlloc', 0, 0x1000, MEM_RESERVE | MEM_TOP_DOWN, PAGE_READWRITE)).toBe(0x7fff_fffe_0000);
    expect(w.call('VirtualAlloc', 0, 0x20000, MEM_RESERVE | MEM_TOP_DOWN, PAGE_READWRITE)).toBe(0x7fff_fffc_0000);
  });

  it('refuses addresses below the allocation granularity and above the user range', () => {
    const w = bootWindows();
    w.resetError();
    expect(w.call('VirtualAlloc', 0x1000, 0x1000, MEM_RESERVE, PAGE_READWRITE)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_PARAMETER');
    expect(w.call('VirtualAlloc', HIGHEST_USER_ADDRESS + 1, 0x1000, MEM_RESERVE, PAGE_READWRITE)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_PARAMETER');
    expect(w.call('VirtualAlloc', 0x7fff_fffe_0000, 0x20000, MEM_RESERVE, PAGE_READWRITE)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_PARAMETER');
    expect(w.call('VirtualQuery', HIGHEST_USER_ADDRESS + 1)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_PARAMETER');
    expect(w.call('VirtualQuery', HIGHEST_USER_ADDRESS)).toBe(48);
    expect(w.record()).toMatchObject({ BaseAddress: 0x7fff_fffe_f000, RegionSize: 0x1000, State: MEM_FREE, Protect: PAGE_NOACCESS });
  });

  it('committing where nothing is reserved is ERROR_INVALID_ADDRESS; reserving over a reservation too', () => {
    const w = bootWindows();
    expect(w.call('VirtualAlloc', 0x500000, 0x1000, MEM_COMMIT, PAGE_READWRITE)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_ADDRESS');
    const a = w.call('VirtualAlloc', 0x500000, 0x3000, MEM_RESERVE, PAGE_READWRITE);
    expect(a).toBe(0x500000);
    expect(w.call('VirtualAlloc', 0x502000, 0x1000, MEM_RESERVE, PAGE_READWRITE)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_ADDRESS');
    // A commit that runs past the reservation fails whole.
    expect(w.call('VirtualAlloc', 0x502000, 0x2000, MEM_COMMIT, PAGE_READWRITE)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_ADDRESS');
    expect(w.k.state.commitCharge).toBe(0);
  });

  it('regions split and merge as protections change; release needs the allocation base', () => {
    const w = bootWindows();
    const a = w.call('VirtualAlloc', 0, 0x8000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    w.call('VirtualProtect', a + 0x2000, 0x2000, PAGE_READONLY);
    const sizes = (): number[] => {
      const out: number[] = [];
      for (let at = a; at < a + 0x8000;) {
        w.call('VirtualQuery', at);
        out.push(w.record().RegionSize as number);
        at += w.record().RegionSize as number;
      }
      return out;
    };
    expect(sizes()).toEqual([0x2000, 0x2000, 0x4000]);
    w.call('VirtualProtect', a + 0x2000, 0x2000, PAGE_READWRITE);
    expect(sizes()).toEqual([0x8000]);
    w.resetError();
    expect(w.call('VirtualFree', a + 0x1000, 0, MEM_RELEASE)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_ADDRESS'); // STATUS_FREE_VM_NOT_AT_BASE
    // Decommit with size 0 from the base: the whole allocation goes back to reserved.
    expect(w.call('VirtualFree', a, 0, MEM_DECOMMIT)).toBe(1);
    expect(sizes()).toEqual([0x8000]);
    w.call('VirtualQuery', a);
    expect(w.record().State).toBe(MEM_RESERVE);
  });

  it('NtFreeVirtualMemory(MEM_RELEASE) with a size releases the middle of a reservation, splitting its VAD', () => {
    const w = bootWindows();
    const a = w.call('VirtualAlloc', 0, 0x6000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    const r = w.k.syscall(w.t, 'NtFreeVirtualMemory', [-1, a + 0x2000, 0x2000, MEM_RELEASE]);
    expect(r.error).toBeNull();
    expect(w.p.space.vads.size).toBe(2);
    w.call('VirtualQuery', a + 0x2000);
    expect(w.record()).toMatchObject({ State: MEM_FREE, RegionSize: 0x2000 });
    w.call('VirtualQuery', a + 0x4000);
    expect(w.record()).toMatchObject({ State: 0x1000, AllocationBase: a + 0x4000, RegionSize: 0x2000 });
    expect(w.k.state.commitCharge).toBe(4);
  });

  it('an unknown handle is ERROR_INVALID_HANDLE; CloseHandle of a pseudo handle is harmless', () => {
    const w = bootWindows();
    expect(w.call('VirtualQueryEx', 0x44, 0x10000)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_HANDLE');
    expect(w.call('CloseHandle', 0x44)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_HANDLE');
    expect(w.call('CloseHandle', -1)).toBe(1);
  });
});

describe('faults and exceptions', () => {
  it('a first touch gets a zeroed page; later touches do not fault', () => {
    const w = bootWindows();
    const a = w.call('VirtualAlloc', 0, 0x4000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    const before = w.k.metrics.faults.zeroFill;
    for (let i = 0; i < 4; i++) w.k.access(w.t, a + i * 4096, ACCESS_WRITE);
    for (let i = 0; i < 4; i++) w.k.access(w.t, a + i * 4096 + 8, ACCESS_READ);
    expect(w.k.metrics.faults.zeroFill - before).toBe(4);
    expect([...w.k.copyFromUser(w.t, a + 100, 4)]).toEqual([0, 0, 0, 0]);
  });

  it('touching reserved memory, writing read-only memory and executing non-executable memory are access violations', () => {
    for (const [prot, access] of [[0, ACCESS_READ], [PAGE_READONLY, ACCESS_WRITE], [PAGE_READWRITE, ACCESS_EXEC], [PAGE_NOACCESS, ACCESS_READ]] as const) {
      const w = bootWindows();
      const a = prot === 0 ? w.call('VirtualAlloc', 0, 0x1000, MEM_RESERVE, PAGE_READWRITE) : w.call('VirtualAlloc', 0, 0x1000, MEM_RESERVE | MEM_COMMIT, prot);
      expect(w.k.access(w.t, a, access)).toBe(-1);
      expect(w.p.killedBy).toBe('EXCEPTION_ACCESS_VIOLATION');
      expect(w.p.exitStatus).toBe(0xc0000005);
    }
  });

  it('executing PAGE_EXECUTE_READ memory works', () => {
    const w = bootWindows();
    const a = w.call('VirtualAlloc', 0, 0x1000, MEM_RESERVE | MEM_COMMIT, PAGE_EXECUTE_READ);
    expect(w.k.access(w.t, a, ACCESS_EXEC)).toBeGreaterThanOrEqual(0);
  });

  it('a protection change reaches pages already present (the PTE and the TLB)', () => {
    const w = bootWindows();
    const a = w.call('VirtualAlloc', 0, 0x1000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    expect(w.k.access(w.t, a, ACCESS_WRITE)).toBeGreaterThanOrEqual(0);
    w.call('VirtualProtect', a, 0x1000, PAGE_READONLY);
    expect(w.k.access(w.t, a, ACCESS_READ)).toBeGreaterThanOrEqual(0);
    expect(w.k.access(w.t, a, ACCESS_WRITE)).toBe(-1);
    expect(w.p.exitStatus).toBe(0xc0000005);
  });

  it('contents survive PAGE_NOACCESS and back', () => {
    const w = bootWindows();
    const a = w.call('VirtualAlloc', 0, 0x1000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    w.k.copyToUser(w.t, a, new Uint8Array([9, 8, 7]));
    w.call('VirtualProtect', a, 0x1000, PAGE_NOACCESS);
    expect(w.k.copyFromUser(w.t, a, 3).length).toBe(0);
    w.call('VirtualProtect', a, 0x1000, PAGE_READWRITE);
    expect([...w.k.copyFromUser(w.t, a, 3)]).toEqual([9, 8, 7]);
  });
});

describe('working set', () => {
  it('EmptyWorkingSet trims every unlocked page to transition; the next touch is a soft fault with the contents kept', () => {
    const w = bootWindows();
    const a = w.call('VirtualAlloc', 0, 8 * 4096, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    for (let i = 0; i < 8; i++) w.k.copyToUser(w.t, a + i * 4096, Uint8Array.of(i + 1));
    expect(w.call('K32GetProcessMemoryInfo', -1)).toBe(1);
    expect(w.record().WorkingSetSize).toBe(8 * 4096);
    expect(w.record().PrivateUsage).toBe(8 * 4096);
    expect(w.call('VirtualLock', a, 4096)).toBe(1);
    const frames = w.k.mmu.frames.freeFrames;
    expect(w.call('K32EmptyWorkingSet', -1)).toBe(1);
    w.call('K32GetProcessMemoryInfo', -1);
    expect(w.record().WorkingSetSize).toBe(4096); // the locked page stays
    expect(w.k.mmu.frames.freeFrames).toBe(frames); // transition pages keep their frames
    const soft = w.k.metrics.faults.soft;
    const zero = w.k.metrics.faults.zeroFill;
    for (let i = 0; i < 8; i++) expect([...w.k.copyFromUser(w.t, a + i * 4096, 1)]).toEqual([i + 1]);
    expect(w.k.metrics.faults.soft - soft).toBe(7);
    expect(w.k.metrics.faults.zeroFill).toBe(zero);
    // SetProcessWorkingSetSize(-1, -1) does the same.
    expect(w.call('SetProcessWorkingSetSize', -1, -1, -1)).toBe(1);
    w.call('K32GetProcessMemoryInfo', -1);
    expect(w.record().WorkingSetSize).toBe(4096);
  });
});

describe('the !address view', () => {
  it('prints a VirtualQuery walk in WinDbg layout', () => {
    const w = bootWindows();
    const a = w.call('VirtualAlloc', 0, 0x3000, MEM_RESERVE, PAGE_READWRITE);
    w.call('VirtualAlloc', a, 0x1000, MEM_COMMIT, PAGE_READWRITE);
    const text = renderAddress(w.p.space);
    const lines = text.split('\n');
    expect(lines[0]).toContain('BaseAddress      EndAddress+1        RegionSize     Type       State                 Protect             Usage');
    expect(lines[2]).toBe('+        0`00000000        0`00010000        0`00010000             MEM_FREE    PAGE_NOACCESS                      Free');
    expect(lines[3]).toBe('+        0`00010000        0`00011000        0`00001000 MEM_PRIVATE MEM_COMMIT  PAGE_READWRITE                     <unknown>');
    expect(lines[4]).toBe('         0`00011000        0`00013000        0`00002000 MEM_PRIVATE MEM_RESERVE                                    <unknown>');
    expect(lines[5]).toBe('+        0`00013000     7fff`ffff0000     7fff`fffdd000             MEM_FREE    PAGE_NOACCESS                      Free');
    expect(windbgHex(0x7ff5e580000)).toBe('7ff`5e580000');
    const rows = w.k.personality.views.find((v) => v.name === 'address')!.rows!(w.k, w.p);
    expect(rows.map((r) => r.RegionSize)).toEqual([0x10000, 0x1000, 0x2000, 0x7fff_ffff_0000 - 0x13000]);
    expect(rows[1]).toMatchObject({ Type: 'MEM_PRIVATE', State: 'MEM_COMMIT', Protect: 'PAGE_READWRITE', AllocationBase: a });
  });
});
