/**
 * Cases ported from Wine's conformance tests, dlls/kernel32/tests/virtual.c (test_VirtualAlloc,
 * test_VirtualAllocEx, test_VirtualProtect, test_VirtualAlloc_protection, test_guard_page). Those
 * tests pass on real Windows, so what they assert is Windows' behaviour. Each `it` names the test
 * it comes from; where Wine accepts several results (broken(...), Win9x), the Windows 10+ one is kept.
 */
import { ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import {
  AT_ROUND_TO_PAGE, MEM_COMMIT, MEM_DECOMMIT, MEM_FREE, MEM_PRIVATE, MEM_RELEASE, MEM_RESERVE, MEM_RESET, MEM_TOP_DOWN, PAGE_EXECUTE,
  PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE, PAGE_EXECUTE_WRITECOPY, PAGE_GUARD, PAGE_NOACCESS, PAGE_NOCACHE, PAGE_READONLY,
  PAGE_READWRITE, PAGE_WRITECOPY,
} from './constants.js';
import { bootWindows, type Win } from './testkit.js';

function mbi(w: Win, addr: number): Record<string, unknown> {
  expect(w.call('VirtualQuery', addr), 'VirtualQuery returns sizeof(MEMORY_BASIC_INFORMATION)').toBe(48);
  return { ...w.record() };
}

describe('Wine kernel32/tests/virtual.c: test_VirtualAlloc', () => {
  it('a zero-sized allocation fails with ERROR_INVALID_PARAMETER', () => {
    const w = bootWindows();
    w.resetError();
    expect(w.call('VirtualAlloc', 0, 0, MEM_RESERVE, PAGE_NOACCESS)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_PARAMETER');
  });

  it('reserving 0xFFFC bytes gives a 64 KiB reserved region with Protect 0; commit, protect, decommit, release', () => {
    const w = bootWindows();
    const addr1 = w.call('VirtualAlloc', 0, 0xfffc, MEM_RESERVE, PAGE_NOACCESS);
    expect(addr1).not.toBe(0);
    expect(mbi(w, addr1)).toEqual({
      BaseAddress: addr1, AllocationBase: addr1, AllocationProtect: PAGE_NOACCESS, RegionSize: 0x10000, State: MEM_RESERVE, Protect: 0, Type: MEM_PRIVATE,
    });
    w.resetError();
    expect(w.call('VirtualProtect', addr1, 0xfffc, PAGE_READONLY)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_ADDRESS');

    expect(w.call('VirtualAlloc', addr1, 0x1000, MEM_COMMIT, PAGE_NOACCESS)).toBe(addr1);
    expect(mbi(w, addr1)).toEqual({
      BaseAddress: addr1, AllocationBase: addr1, AllocationProtect: PAGE_NOACCESS, RegionSize: 0x1000, State: MEM_COMMIT, Protect: PAGE_NOACCESS, Type: MEM_PRIVATE,
    });
    // Not the whole range is committed yet.
    w.resetError();
    expect(w.call('VirtualProtect', addr1, 0xfffc, PAGE_READONLY)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_ADDRESS');

    expect(w.call('VirtualProtect', addr1, 0x1000, PAGE_READONLY)).toBe(1);
    expect(w.record().lpflOldProtect).toBe(PAGE_NOACCESS);
    expect(w.call('VirtualProtect', addr1, 0x1000, PAGE_READWRITE)).toBe(1);
    expect(w.record().lpflOldProtect).toBe(PAGE_READONLY);
    const info = mbi(w, addr1);
    expect([info.RegionSize, info.State, info.Protect]).toEqual([0x1000, MEM_COMMIT, PAGE_READWRITE]);
    // memset(addr1, 0x55, 20)
    expect(w.k.copyToUser(w.t, addr1, new Uint8Array(20).fill(0x55))).toBe(20);

    // MEM_RESET keeps the page committed; on reserved pages it succeeds too; past the allocation it fails.
    expect(w.call('VirtualAlloc', addr1, 0x1000, MEM_RESET, PAGE_NOACCESS)).toBe(addr1);
    const word = [...w.k.copyFromUser(w.t, addr1, 4)];
    expect(word.every((b) => b === 0x55) || word.every((b) => b === 0)).toBe(true);
    expect(mbi(w, addr1)).toMatchObject({ RegionSize: 0x1000, State: MEM_COMMIT, Protect: PAGE_READWRITE });
    expect(w.call('VirtualAlloc', addr1 + 0x1000, 0x1000, MEM_RESET, PAGE_NOACCESS)).toBe(addr1 + 0x1000);
    expect(mbi(w, addr1 + 0x1000)).toMatchObject({ RegionSize: 0xf000, State: MEM_RESERVE, Protect: 0 });
    expect(w.call('VirtualAlloc', addr1 + 0xf000, 0x2000, MEM_RESET, PAGE_NOACCESS)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_ADDRESS');

    // Invalid protection values.
    for (const [addr, type, prot] of [[0, MEM_RESERVE, 0], [0, MEM_COMMIT, 0], [addr1, MEM_COMMIT, PAGE_READONLY | PAGE_EXECUTE]] as const) {
      w.resetError();
      expect(w.call('VirtualAlloc', addr, 0x1000, type, prot)).toBe(0);
      expect(w.lastError()).toBe('ERROR_INVALID_PARAMETER');
    }
    for (const prot of [PAGE_READWRITE | PAGE_EXECUTE_WRITECOPY, 0]) {
      w.resetError();
      expect(w.call('VirtualProtect', addr1, 0x1000, prot)).toBe(0);
      expect(w.lastError()).toBe('ERROR_INVALID_PARAMETER');
    }
    w.resetError();
    expect(w.call('VirtualFree', addr1, 0x10000, 0)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_PARAMETER');
    w.resetError();
    expect(w.call('VirtualFree', addr1, 0, MEM_FREE)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_PARAMETER');
    expect(w.call('VirtualFree', addr1, 0x10000, MEM_DECOMMIT)).toBe(1);
    // With MEM_RELEASE the size must be 0.
    expect(w.call('VirtualFree', addr1, 1, MEM_RELEASE)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_PARAMETER');
    expect(w.call('VirtualFree', addr1, 0, MEM_RELEASE)).toBe(1);
    expect(mbi(w, addr1)).toMatchObject({ State: MEM_FREE, Protect: PAGE_NOACCESS, AllocationBase: 0 });
  });

  it('PAGE_NOCACHE belongs to the allocation, not to pages (recent Windows)', () => {
    const w = bootWindows();
    let addr1 = w.call('VirtualAlloc', 0, 0x2000, MEM_COMMIT, PAGE_READWRITE | PAGE_NOCACHE);
    expect(addr1).not.toBe(0);
    expect(mbi(w, addr1)).toEqual({
      BaseAddress: addr1, AllocationBase: addr1, AllocationProtect: PAGE_READWRITE | PAGE_NOCACHE, RegionSize: 0x2000, State: MEM_COMMIT,
      Protect: PAGE_READWRITE | PAGE_NOCACHE, Type: MEM_PRIVATE,
    });
    expect(w.call('VirtualProtect', addr1, 0x1000, PAGE_READWRITE)).toBe(1);
    expect(w.record().lpflOldProtect).toBe(PAGE_READWRITE | PAGE_NOCACHE);
    expect(mbi(w, addr1)).toMatchObject({ RegionSize: 0x2000, Protect: PAGE_READWRITE | PAGE_NOCACHE });
    expect(w.call('VirtualProtect', addr1, 0x1000, PAGE_READONLY)).toBe(1);
    expect(w.record().lpflOldProtect).toBe(PAGE_READWRITE | PAGE_NOCACHE);
    expect(mbi(w, addr1)).toMatchObject({ RegionSize: 0x1000, Protect: PAGE_READONLY | PAGE_NOCACHE });
    expect(w.call('VirtualFree', addr1, 0, MEM_RELEASE)).toBe(1);

    addr1 = w.call('VirtualAlloc', 0, 0x2000, MEM_COMMIT, PAGE_READWRITE);
    expect(w.call('VirtualProtect', addr1, 0x1000, PAGE_READONLY | PAGE_NOCACHE)).toBe(1);
    expect(w.record().lpflOldProtect).toBe(PAGE_READWRITE);
    expect(mbi(w, addr1)).toMatchObject({ AllocationProtect: PAGE_READWRITE, RegionSize: 0x1000, Protect: PAGE_READONLY });
    expect(w.call('VirtualFree', addr1, 0, MEM_RELEASE)).toBe(1);
  });

  it('memory is 64 KiB aligned, a released base can be reused, AT_ROUND_TO_PAGE is refused', () => {
    const w = bootWindows();
    const addr1 = w.call('VirtualAlloc', 0, 0x2000, MEM_RESERVE | MEM_COMMIT, PAGE_EXECUTE_READWRITE);
    expect(addr1 % 0x10000).toBe(0);
    expect(w.call('VirtualFree', addr1, 0, MEM_RELEASE)).toBe(1);
    expect(w.call('VirtualAlloc', addr1, 0x1000, MEM_RESERVE | MEM_COMMIT, PAGE_EXECUTE_READWRITE)).toBe(addr1);
    w.resetError();
    expect(w.call('VirtualAlloc', addr1, 0x1000, MEM_RESERVE | MEM_COMMIT | AT_ROUND_TO_PAGE, PAGE_EXECUTE_READWRITE)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_PARAMETER');
    // NtAllocateVirtualMemory itself: the conflicting 64 KiB block (ntdll test_NtAllocateVirtualMemory).
    const r = w.k.syscall(w.t, 'NtAllocateVirtualMemory', [-1, addr1 + 0x1000, 0, 0x1000, MEM_RESERVE | MEM_COMMIT, PAGE_EXECUTE_READWRITE]);
    expect(r.error).toBe('STATUS_CONFLICTING_ADDRESSES');
    expect(w.call('VirtualFree', addr1, 0, MEM_RELEASE)).toBe(1);
  });
});

describe('Wine kernel32/tests/virtual.c: test_VirtualAllocEx', () => {
  function twoProcesses(): { w: Win; h: number } {
    const w = bootWindows();
    const other = w.k.createProcess(w.k.init, 'sleep');
    const h = w.call('OpenProcess', 0x1f0fff, 0, other.pid);
    expect(h).not.toBe(0);
    return { w, h };
  }

  it('the same process through GetCurrentProcess(); a NULL handle is ERROR_INVALID_HANDLE', () => {
    const w = bootWindows();
    const addr1 = w.call('VirtualAllocEx', -1, 0, 1 << 15, MEM_COMMIT, PAGE_EXECUTE_READWRITE);
    expect(addr1).not.toBe(0);
    expect(w.call('VirtualFreeEx', 0, addr1, 0, MEM_RELEASE)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_HANDLE');
    expect(w.call('VirtualAllocEx', 0, 0, 1 << 15, MEM_COMMIT, PAGE_EXECUTE_READWRITE)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_HANDLE');
    expect(w.call('VirtualFreeEx', -1, addr1, 0, MEM_RELEASE)).toBe(1);
  });

  it('WriteProcessMemory and ReadProcessMemory round-trip 32 KiB in another process, buffer to buffer', () => {
    const { w, h } = twoProcesses();
    const size = 1 << 15;
    const addr1 = w.call('VirtualAllocEx', h, 0, size, MEM_COMMIT, PAGE_EXECUTE_READWRITE);
    expect(addr1).not.toBe(0);
    const src = w.call('VirtualAlloc', 0, size, MEM_COMMIT, PAGE_READWRITE);
    const dst = w.call('VirtualAlloc', 0, size, MEM_COMMIT, PAGE_READWRITE);
    w.k.copyToUser(w.t, src, Uint8Array.from({ length: size }, (_, i) => i % 256));
    expect(w.call('WriteProcessMemory', h, addr1, src, size)).toBe(1);
    expect(w.record().lpNumberOfBytesWritten).toBe(size);
    expect(w.call('ReadProcessMemory', h, addr1, dst, size)).toBe(1);
    expect(w.record().lpNumberOfBytesRead).toBe(size);
    expect(w.k.copyFromUser(w.t, dst, size).every((b, i) => b === i % 256)).toBe(true);
    // Zero length succeeds with 0 bytes, through both layers.
    expect(w.call('WriteProcessMemory', h, addr1, src, 0)).toBe(1);
    expect(w.record().lpNumberOfBytesWritten).toBe(0);
    expect(w.call('ReadProcessMemory', h, addr1, src, 0)).toBe(1);
    expect(w.record().lpNumberOfBytesRead).toBe(0);
    expect(w.k.syscall(w.t, 'NtWriteVirtualMemory', [h, addr1, src, 0]).error).toBeNull();
    expect(w.k.syscall(w.t, 'NtReadVirtualMemory', [h, addr1, src, 0]).error).toBeNull();
  });

  it('invalid source buffers: ERROR_PARTIAL_COPY / STATUS_PARTIAL_COPY with the bytes copied (Windows 10 1607+)', () => {
    const { w, h } = twoProcesses();
    const size = 0x10000;
    const addr1 = w.call('VirtualAllocEx', h, 0, size, MEM_COMMIT, PAGE_EXECUTE_READWRITE);
    const src = w.call('VirtualAlloc', 0, size, MEM_COMMIT, PAGE_READWRITE);
    expect(w.call('VirtualProtect', src + 0x2000, 0x2000, PAGE_NOACCESS)).toBe(1);
    // The source block is probed before anything is copied: nothing written.
    expect(w.call('WriteProcessMemory', h, addr1, src, size)).toBe(0);
    expect(w.lastError()).toBe('ERROR_PARTIAL_COPY');
    expect(w.record().lpNumberOfBytesWritten).toBe(0);
    // The destination fails exactly at its first bad page.
    expect(w.call('ReadProcessMemory', h, addr1, src, size)).toBe(0);
    expect(w.lastError()).toBe('ERROR_PARTIAL_COPY');
    expect(w.record().lpNumberOfBytesRead).toBe(0x2000);
    expect(w.call('VirtualProtect', src, 0x2000, PAGE_NOACCESS)).toBe(1);
    const nw = w.k.syscall(w.t, 'NtWriteVirtualMemory', [h, addr1, src, size]);
    expect([nw.error, nw.record?.fields.NumberOfBytesWritten]).toEqual(['STATUS_PARTIAL_COPY', 0]);
    const nr = w.k.syscall(w.t, 'NtReadVirtualMemory', [h, addr1, src, size]);
    expect([nr.error, nr.record?.fields.NumberOfBytesRead]).toEqual(['STATUS_PARTIAL_COPY', 0]);
  });

  it('readonly buffers: WriteProcessMemory refuses PAGE_READONLY (ERROR_NOACCESS) but writes PAGE_EXECUTE_READ', () => {
    const { w, h } = twoProcesses();
    const size = 1 << 15;
    const addr1 = w.call('VirtualAllocEx', h, 0, size, MEM_COMMIT, PAGE_EXECUTE_READWRITE);
    const src = w.call('VirtualAlloc', 0, size, MEM_COMMIT, PAGE_READWRITE);
    expect(w.call('VirtualProtectEx', h, addr1, size, PAGE_READONLY)).toBe(1);
    w.resetError();
    expect(w.call('WriteProcessMemory', h, addr1, src, size)).toBe(0);
    expect(w.lastError()).toBe('ERROR_NOACCESS');
    // kernelbase returned before NtWriteVirtualMemory: lpNumberOfBytesWritten is not written.
    expect(w.record().lpNumberOfBytesWritten).toBeUndefined();
    // NtWriteVirtualMemory itself: a partial copy of 0 bytes.
    const nw = w.k.syscall(w.t, 'NtWriteVirtualMemory', [h, addr1, src, size]);
    expect([nw.error, nw.record?.fields.NumberOfBytesWritten]).toEqual(['STATUS_PARTIAL_COPY', 0]);
    expect(w.call('VirtualProtectEx', h, addr1, size, PAGE_EXECUTE_READ)).toBe(1);
    expect(w.call('WriteProcessMemory', h, addr1, src, size)).toBe(1);
    expect(w.record().lpNumberOfBytesWritten).toBe(size);
    // The protection is put back afterwards.
    expect(w.call('VirtualQueryEx', h, addr1)).toBe(48);
    expect(w.record().Protect).toBe(PAGE_EXECUTE_READ);
    // A READWRITE head and a read-only tail: the copy stops at the first read-only page.
    expect(w.call('VirtualProtectEx', h, addr1, 0x2000, PAGE_READWRITE)).toBe(1);
    expect(w.call('VirtualProtectEx', h, addr1 + 0x2000, size - 0x2000, PAGE_READONLY)).toBe(1);
    const tail = w.k.syscall(w.t, 'NtWriteVirtualMemory', [h, addr1, src, size]);
    expect([tail.error, tail.record?.fields.NumberOfBytesWritten]).toEqual(['STATUS_PARTIAL_COPY', 0x2000]);
  });

  it('a range beyond user space is STATUS_ACCESS_VIOLATION / ERROR_NOACCESS; a bad handle ERROR_INVALID_HANDLE', () => {
    const { w, h } = twoProcesses();
    const buf = w.call('VirtualAlloc', 0, 0x1000, MEM_COMMIT, PAGE_READWRITE);
    const top = 0x7fff_ffff_0000;
    expect(w.k.syscall(w.t, 'NtReadVirtualMemory', [h, top - 0x800, buf, 0x1000]).error).toBe('STATUS_ACCESS_VIOLATION');
    expect(w.k.syscall(w.t, 'NtWriteVirtualMemory', [h, buf, top - 0x800, 0x1000]).error).toBe('STATUS_ACCESS_VIOLATION');
    expect(w.call('ReadProcessMemory', h, top - 0x800, buf, 0x1000)).toBe(0);
    expect(w.lastError()).toBe('ERROR_NOACCESS');
    expect(w.call('ReadProcessMemory', 0, buf, buf, 0x1000)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_HANDLE');
  });

  it('a content-less machine counts the bytes and faults the pages in, with no contents', () => {
    const w = bootWindows({}, { contents: false });
    const other = w.k.createProcess(w.k.init, 'sleep');
    const h = w.call('OpenProcess', 0x1f0fff, 0, other.pid);
    const size = 0x40000;
    const remote = w.call('VirtualAllocEx', h, 0, size, MEM_COMMIT, PAGE_READWRITE);
    const src = w.call('VirtualAlloc', 0, size, MEM_COMMIT, PAGE_READWRITE);
    const before = w.k.metrics.bytesCopiedCrossProcess;
    const faults = w.k.metrics.traps.pageFault;
    expect(w.call('WriteProcessMemory', h, remote, src, size)).toBe(1);
    expect(w.record().lpNumberOfBytesWritten).toBe(size);
    expect(w.k.metrics.bytesCopiedCrossProcess - before).toBe(size);
    // Both sides demand-zero: one fault per page in each process.
    expect(w.k.metrics.traps.pageFault - faults).toBe((2 * size) / 0x1000);
  });

  it('the test_VirtualAlloc sequence on another process', () => {
    const { w, h } = twoProcesses();
    w.resetError();
    expect(w.call('VirtualAllocEx', h, 0, 0, MEM_RESERVE, PAGE_NOACCESS)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_PARAMETER');
    const addr1 = w.call('VirtualAllocEx', h, 0, 0xfffc, MEM_RESERVE, PAGE_NOACCESS);
    expect(addr1).not.toBe(0);
    expect(w.call('VirtualQueryEx', h, addr1)).toBe(48);
    expect(w.record()).toEqual({ BaseAddress: addr1, AllocationBase: addr1, AllocationProtect: PAGE_NOACCESS, RegionSize: 0x10000, State: MEM_RESERVE, Protect: 0, Type: MEM_PRIVATE });
    expect(w.call('VirtualProtectEx', h, addr1, 0xfffc, PAGE_READONLY)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_ADDRESS');
    expect(w.call('VirtualAllocEx', h, addr1, 0x1000, MEM_COMMIT, PAGE_NOACCESS)).toBe(addr1);
    expect(w.call('VirtualQueryEx', h, addr1)).toBe(48);
    expect(w.record()).toMatchObject({ RegionSize: 0x1000, State: MEM_COMMIT, Protect: PAGE_NOACCESS });
    expect(w.call('VirtualProtectEx', h, addr1, 0xfffc, PAGE_READONLY)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_ADDRESS');
    expect(w.call('VirtualProtectEx', h, addr1, 0x1000, PAGE_READONLY)).toBe(1);
    expect(w.record().lpflOldProtect).toBe(PAGE_NOACCESS);
    expect(w.call('VirtualProtectEx', h, addr1, 0x1000, PAGE_READWRITE)).toBe(1);
    expect(w.record().lpflOldProtect).toBe(PAGE_READONLY);
    expect(w.call('VirtualFreeEx', h, addr1, 0x10000, 0)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_PARAMETER');
    expect(w.call('VirtualFreeEx', h, addr1, 0x10000, MEM_DECOMMIT)).toBe(1);
    expect(w.call('VirtualFreeEx', h, addr1, 1, MEM_RELEASE)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_PARAMETER');
    expect(w.call('VirtualFreeEx', h, addr1, 0, MEM_RELEASE)).toBe(1);
    // The caller's own space was never touched.
    expect(w.p.space.vads.size).toBe(0);
  });
});

/** test_VirtualProtect's table: the protection each value gives, 0 where VirtualProtect fails. */
const PROTECT_TABLE: readonly [number, number][] = [
  [0, 0], [PAGE_NOACCESS, PAGE_NOACCESS], [PAGE_READONLY, PAGE_READONLY], [0x03, 0], [PAGE_READWRITE, PAGE_READWRITE], [0x05, 0], [0x06, 0], [0x07, 0],
  [PAGE_WRITECOPY, 0], [0x09, 0], [0x0a, 0], [0x0b, 0], [0x0c, 0], [0x0d, 0], [0x0e, 0], [0x0f, 0],
  [PAGE_EXECUTE, PAGE_EXECUTE], [PAGE_EXECUTE_READ, PAGE_EXECUTE_READ], [0x30, 0], [PAGE_EXECUTE_READWRITE, PAGE_EXECUTE_READWRITE],
  [0x50, 0], [0x60, 0], [0x70, 0], [PAGE_EXECUTE_WRITECOPY, 0], [0x90, 0], [0xa0, 0], [0xb0, 0], [0xc0, 0], [0xd0, 0], [0xe0, 0], [0xf0, 0],
];

describe('Wine kernel32/tests/virtual.c: test_VirtualProtect', () => {
  it('each protection value on a committed private page: the ones it takes, ERROR_INVALID_PARAMETER for the rest', () => {
    const w = bootWindows();
    const base = w.call('VirtualAlloc', 0, 0x1000, MEM_RESERVE | MEM_COMMIT, PAGE_NOACCESS);
    for (const [set, get] of PROTECT_TABLE) {
      expect(mbi(w, base), `before 0x${set.toString(16)}`).toEqual({
        BaseAddress: base, AllocationBase: base, AllocationProtect: PAGE_NOACCESS, RegionSize: 0x1000, State: MEM_COMMIT, Protect: PAGE_NOACCESS, Type: MEM_PRIVATE,
      });
      w.resetError();
      const ret = w.call('VirtualProtect', base, 0x1000, set);
      if (get !== 0) {
        expect(ret, `0x${set.toString(16)}`).toBe(1);
        expect(w.record().lpflOldProtect).toBe(PAGE_NOACCESS);
        expect(mbi(w, base).Protect).toBe(get);
      } else {
        expect(ret, `0x${set.toString(16)}`).toBe(0);
        expect(w.lastError()).toBe('ERROR_INVALID_PARAMETER');
      }
      expect(w.call('VirtualProtect', base, 0x1000, PAGE_NOACCESS)).toBe(1);
      expect(w.record().lpflOldProtect).toBe(get !== 0 ? get : PAGE_NOACCESS);
    }
  });

  it('committing and protecting with one read/write value and one execute value at most, never WRITECOPY', () => {
    const w = bootWindows();
    const base = w.call('VirtualAlloc', 0, 0x1000, MEM_RESERVE | MEM_COMMIT, PAGE_NOACCESS);
    const values = [0, 1, 2, 4, 8];
    for (const exec of [0, 0x10, 0x20, 0x40, 0x80]) {
      for (const rw of values) {
        const prot = exec + rw;
        const invalid = (rw !== 0 && exec !== 0) || (rw === 0 && exec === 0) || rw === PAGE_WRITECOPY || exec === PAGE_EXECUTE_WRITECOPY;
        w.resetError();
        const ptr = w.call('VirtualAlloc', base, 0x1000, MEM_COMMIT, prot);
        if (invalid) {
          expect(ptr, `VirtualAlloc(${prot.toString(16)})`).toBe(0);
          expect(w.lastError()).toBe('ERROR_INVALID_PARAMETER');
        } else expect(ptr, `VirtualAlloc(${prot.toString(16)})`).toBe(base);
        w.resetError();
        const ret = w.call('VirtualProtect', base, 0x1000, prot);
        expect(ret, `VirtualProtect(${prot.toString(16)})`).toBe(invalid ? 0 : 1);
        if (invalid) expect(w.lastError()).toBe('ERROR_INVALID_PARAMETER');
      }
    }
  });
});

describe('Wine kernel32/tests/virtual.c: test_VirtualAlloc_protection', () => {
  it('VirtualAlloc(NULL, page, MEM_COMMIT, prot) for every value of the table', () => {
    const w = bootWindows();
    for (const [prot, get] of PROTECT_TABLE) {
      w.resetError();
      const base = w.call('VirtualAlloc', 0, 0x1000, MEM_COMMIT, prot);
      if (get === 0) {
        expect(base, `0x${prot.toString(16)}`).toBe(0);
        expect(w.lastError()).toBe('ERROR_INVALID_PARAMETER');
        continue;
      }
      expect(mbi(w, base)).toEqual({ BaseAddress: base, AllocationBase: base, AllocationProtect: prot, RegionSize: 0x1000, State: MEM_COMMIT, Protect: prot, Type: MEM_PRIVATE });
      if (prot === PAGE_READWRITE || prot === PAGE_EXECUTE_READWRITE) {
        expect(w.k.access(w.t, base, ACCESS_WRITE)).toBeGreaterThanOrEqual(0);
        expect(mbi(w, base).Protect).toBe(prot);
      }
      expect(w.call('VirtualAlloc', base, 0x1000, MEM_COMMIT, prot)).toBe(base);
      expect(w.call('VirtualFree', base, 0, MEM_RELEASE)).toBe(1);
    }
  });
});

describe('Wine kernel32/tests/virtual.c: test_guard_page', () => {
  it('the first access raises STATUS_GUARD_PAGE_VIOLATION once and clears PAGE_GUARD; a continuing handler retries it', () => {
    const w = bootWindows();
    const base = w.call('VirtualAlloc', 0, 0x1000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD);
    expect(mbi(w, base)).toEqual({
      BaseAddress: base, AllocationBase: base, AllocationProtect: PAGE_READWRITE | PAGE_GUARD, RegionSize: 0x1000, State: MEM_COMMIT, Protect: PAGE_READWRITE | PAGE_GUARD, Type: MEM_PRIVATE,
    });
    expect(w.call('VirtualProtect', base, 0x1000, PAGE_READWRITE)).toBe(1);
    expect(w.record().lpflOldProtect).toBe(PAGE_READWRITE | PAGE_GUARD);
    w.k.copyToUser(w.t, base, new Uint8Array([1, 0, 0, 0, 2, 0, 0, 0]));
    expect(w.call('VirtualProtect', base, 0x1000, PAGE_READWRITE | PAGE_GUARD)).toBe(1);
    expect(w.record().lpflOldProtect).toBe(PAGE_READWRITE);

    const seen: string[] = [];
    w.k.bus.subscribe('signal', (e) => seen.push(`${e.signal}:${e.action}`));
    w.call('AddVectoredExceptionHandler', 1, -1); // returns EXCEPTION_CONTINUE_EXECUTION
    expect(w.k.access(w.t, base, ACCESS_READ)).toBeGreaterThanOrEqual(0);
    expect(seen).toEqual(['STATUS_GUARD_PAGE_VIOLATION:retry']);
    expect(mbi(w, base).Protect).toBe(PAGE_READWRITE);
    expect(w.call('VirtualProtect', base, 0x1000, PAGE_READWRITE | PAGE_GUARD)).toBe(1);
    expect(w.record().lpflOldProtect).toBe(PAGE_READWRITE);
    // The second integer: one more guard exception, then the data is there.
    expect(w.k.access(w.t, base + 4, ACCESS_READ)).toBeGreaterThanOrEqual(0);
    expect(seen).toEqual(['STATUS_GUARD_PAGE_VIOLATION:retry', 'STATUS_GUARD_PAGE_VIOLATION:retry']);
    expect([...w.k.copyFromUser(w.t, base, 8)]).toEqual([1, 0, 0, 0, 2, 0, 0, 0]);
    expect(w.call('VirtualFree', base, 0, MEM_RELEASE)).toBe(1);
  });

  it('VirtualLock on a guard page fails with STATUS_GUARD_PAGE_VIOLATION and clears the guard; the second call locks', () => {
    const w = bootWindows();
    const base = w.call('VirtualAlloc', 0, 0x1000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD);
    w.resetError();
    expect(w.call('VirtualLock', base, 0x1000)).toBe(0);
    expect(w.t.errors.win32?.number).toBe(0x80000001);
    expect(mbi(w, base).Protect).toBe(PAGE_READWRITE);
    expect(w.call('VirtualLock', base, 0x1000)).toBe(1);
    expect(w.call('VirtualUnlock', base, 0x1000)).toBe(1);
    expect(w.call('VirtualUnlock', base, 0x1000)).toBe(0);
    expect(w.lastError()).toBe('ERROR_NOT_LOCKED');
    // Reserved memory cannot be locked.
    const r = w.call('VirtualAlloc', 0, 0x1000, MEM_RESERVE, PAGE_READWRITE);
    expect(w.call('VirtualLock', r, 0x1000)).toBe(0);
    expect(w.lastError()).toBe('ERROR_NOACCESS');
  });

  it('without a handler, the guard-page exception ends the process with 0x80000001', () => {
    const w = bootWindows();
    const base = w.call('VirtualAlloc', 0, 0x1000, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE | PAGE_GUARD);
    expect(w.k.access(w.t, base, ACCESS_READ)).toBe(-1);
    expect(w.p.state).not.toBe('running');
    expect(w.p.exitStatus).toBe(0x80000001);
  });

  it('PAGE_GUARD with PAGE_NOACCESS is an invalid protection', () => {
    const w = bootWindows();
    expect(w.call('VirtualAlloc', 0, 0x1000, MEM_RESERVE | MEM_COMMIT, PAGE_NOACCESS | PAGE_GUARD)).toBe(0);
    expect(w.lastError()).toBe('ERROR_INVALID_PARAMETER');
  });
});

describe('Wine ntdll/tests/virtual.c: test_NtAllocateVirtualMemory', () => {
  const nt = (w: Win, base: number, zeroBits: number, type: number): { error: string | null; base: number } => {
    const r = w.k.syscall(w.t, 'NtAllocateVirtualMemory', [-1, base, zeroBits, 0x1000, type, PAGE_READWRITE]);
    return { error: r.error, base: (r.record?.fields.BaseAddress as number | undefined) ?? 0 };
  };

  it('a conflict because of the 64 KiB alignment, even with zero_bits set', () => {
    const w = bootWindows();
    const addr1 = nt(w, 0, 0, MEM_RESERVE | MEM_COMMIT).base;
    expect(nt(w, addr1 + 0x1000, 0, MEM_RESERVE | MEM_COMMIT).error).toBe('STATUS_CONFLICTING_ADDRESSES');
    expect(nt(w, addr1 + 0x1000, 12, MEM_RESERVE | MEM_COMMIT).error).toBe('STATUS_CONFLICTING_ADDRESSES');
    // AT_ROUND_TO_PAGE is not supported.
    expect(nt(w, addr1 + 0x1000, 0, MEM_RESERVE | MEM_COMMIT | AT_ROUND_TO_PAGE).error).toBe('STATUS_INVALID_PARAMETER_5');
  });

  it('zero_bits 1..20 keep the address below 2^(32 - zero_bits); 21 never succeeds; 22 is invalid; a mask bounds by its top bit', () => {
    const w = bootWindows();
    for (let zb = 1; zb <= 20; zb++) {
      const r = nt(w, 0, zb, MEM_RESERVE | MEM_COMMIT | MEM_TOP_DOWN);
      expect(['STATUS_NO_MEMORY', null], `zero_bits ${zb}`).toContain(r.error);
      if (r.error === null) {
        expect(Math.floor(r.base / 2 ** (32 - zb)), `zero_bits ${zb}`).toBe(0);
        expect(w.k.syscall(w.t, 'NtFreeVirtualMemory', [-1, r.base, 0, MEM_RELEASE]).error).toBeNull();
      }
    }
    expect(nt(w, 0, 1, MEM_RESERVE | MEM_COMMIT | MEM_TOP_DOWN)).toEqual({ error: null, base: 0x7fff0000 });
    expect(nt(w, 0, 21, MEM_RESERVE | MEM_COMMIT).error).toBe('STATUS_NO_MEMORY');
    expect(nt(w, 0, 22, MEM_RESERVE | MEM_COMMIT).error).toBe('STATUS_INVALID_PARAMETER_3');
    const m = nt(w, 0, 0x1aaaaaaa, MEM_RESERVE | MEM_COMMIT | MEM_TOP_DOWN);
    expect(m.error).toBeNull();
    expect(m.base).toBeLessThanOrEqual(0x1fffffff);
    expect(m.base + 0x1000).toBe(0x20000000 - 0xf000);
  });
});
