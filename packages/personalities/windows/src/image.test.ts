/**
 * CreateProcess of the project's real PE fixtures (MinGW-w64 and lld-link builds, an MSVC DLL):
 * the image mapped at its ImageBase with headers READONLY and each section's protection, the PEB,
 * TEB, heap and stack of a new process, CREATE_SUSPENDED leaving imports unsnapped until
 * ResumeThread, the loader mapping DLLs from the sysroot, relocating one whose base is taken, and
 * writing the IAT (copy-on-write pages becoming READWRITE).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { memoryFileSystem } from '@polykernel/kernel';
import { ACCESS_WRITE } from '@polykernel/mmu';
import { parsePe } from '@polykernel/pe';
import { describe, expect, it } from 'vitest';
import {
  CREATE_SUSPENDED, MEM_COMMIT, MEM_IMAGE, MEM_RESERVE, PAGE_EXECUTE_READ, PAGE_EXECUTE_WRITECOPY, PAGE_GUARD, PAGE_READONLY,
  PAGE_READWRITE, PAGE_WRITECOPY,
} from './constants.js';
import { PROCESS_COSTS } from './costs.js';
import { sectionProtection } from './image.js';
import { walk } from './mm.js';
import { KUSER_SHARED_DATA, PEB_ADDRESS, TEB_ADDRESS } from './process.js';
import { fixtureSysroot } from './sysroot.js';
import { bootWindows, harness, type Win } from './testkit.js';

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(fileURLToPath(new URL(`../../../formats/pe/test/fixtures/${name}`, import.meta.url))));

function boot(exe: string): Win {
  const files = fixtureSysroot({ [`/prog/${exe}`]: fixture(exe) }, { 'greet.dll': fixture(exe.includes('i686') ? 'greet-i686.dll' : 'greet-x86_64.dll') });
  return bootWindows({ fs: memoryFileSystem(files) });
}

describe('section protections (Wine loader.c test_section_access)', () => {
  it('R → READONLY, W → WRITECOPY, X → EXECUTE, and their combinations', () => {
    expect(sectionProtection(0)).toBe(0x01);
    expect(sectionProtection(0x40000000)).toBe(PAGE_READONLY);
    expect(sectionProtection(0x80000000)).toBe(PAGE_WRITECOPY);
    expect(sectionProtection(0xc0000000)).toBe(PAGE_WRITECOPY);
    expect(sectionProtection(0x20000000)).toBe(0x10);
    expect(sectionProtection(0x60000000)).toBe(PAGE_EXECUTE_READ);
    expect(sectionProtection(0xe0000000)).toBe(PAGE_EXECUTE_WRITECOPY);
  });
});

describe('CreateProcess of hello-x86_64.exe (MinGW-w64)', () => {
  it('maps the image at its ImageBase with each section\'s protection, suspended before the loader runs', () => {
    const w = boot('hello-x86_64.exe');
    expect(w.call('CreateProcessW', '/prog/hello-x86_64.exe', CREATE_SUSPENDED)).toBe(1);
    const info = w.record();
    const child = w.k.processes.get(info.dwProcessId as number)!;
    expect(child.threads[0]!.state).toBe('suspended');
    expect((info.dwProcessId as number) % 4).toBe(0);
    const pe = parsePe(fixture('hello-x86_64.exe'));
    const base = 0x140000000;
    const regions = walk(child.space).filter((r) => r.AllocationBase === base);
    expect(regions[0]).toEqual({ BaseAddress: base, AllocationBase: base, AllocationProtect: PAGE_EXECUTE_WRITECOPY, RegionSize: 0x1000, State: MEM_COMMIT, Protect: PAGE_READONLY, Type: MEM_IMAGE });
    // Every section's pages carry its protection.
    for (const s of pe.sections) {
      expect(w.call('VirtualQueryEx', info.hProcess as number, base + s.virtualAddress)).toBe(48);
      expect(w.record().Protect, s.name).toBe(sectionProtection(s.characteristics));
      expect(w.record().Type).toBe(MEM_IMAGE);
    }
    expect(regions.reduce((n, r) => n + r.RegionSize, 0)).toBe(pe.optional!.sizeOfImage);
    // Only the exe is mapped: the loader has not run (no DLL yet).
    expect(child.space.modules.map((m) => m.name)).toEqual(['hello-x86_64.exe']);
    // PEB, TEB, KUSER_SHARED_DATA, the stack with its guard page, the heap.
    const at = (va: number): Record<string, unknown> => {
      w.call('VirtualQueryEx', info.hProcess as number, va);
      return { ...w.record() };
    };
    expect(at(KUSER_SHARED_DATA)).toMatchObject({ State: MEM_COMMIT, Protect: PAGE_READONLY, RegionSize: 0x1000 });
    expect(at(PEB_ADDRESS)).toMatchObject({ State: MEM_COMMIT, Protect: PAGE_READWRITE, RegionSize: 0x1000 });
    expect(at(TEB_ADDRESS)).toMatchObject({ State: MEM_COMMIT, Protect: PAGE_READWRITE, RegionSize: 0x2000 });
    const stack = child.space.vads.lookup(child.space.stackBase - 1)!;
    expect(stack.end - stack.start).toBe(pe.optional!.sizeOfStackReserve);
    expect(at(child.space.stackBase - 0x1000)).toMatchObject({ State: MEM_COMMIT, Protect: PAGE_READWRITE });
    expect(at(child.space.stackLimit - 0x1000)).toMatchObject({ State: MEM_COMMIT, Protect: PAGE_READWRITE | PAGE_GUARD, RegionSize: 0x1000 });
    expect(at(stack.start)).toMatchObject({ State: MEM_RESERVE, AllocationBase: stack.start });
  });

  it('CreateProcessW charges NtCreateUserProcess\'s fixed work (the borrowed Linux figure) on top of the image\'s own', () => {
    const w = boot('hello-x86_64.exe');
    const before = w.k.metrics.cycles;
    expect(w.call('CreateProcessW', '/prog/hello-x86_64.exe', CREATE_SUSPENDED)).toBe(1);
    const spent = w.k.metrics.cycles - before;
    expect(spent).toBeGreaterThan(PROCESS_COSTS.createUserProcess);
    // A missing image fails before any process object exists: nothing of it charged.
    const again = w.k.metrics.cycles;
    expect(w.call('CreateProcessW', '/prog/missing.exe', CREATE_SUSPENDED)).toBe(0);
    expect(w.k.metrics.cycles - again).toBeLessThan(PROCESS_COSTS.createUserProcess);
  });

  it('ResumeThread runs the loader: DLLs from the sysroot mapped, every IAT slot written with the export\'s address', () => {
    const w = boot('hello-x86_64.exe');
    expect(w.call('CreateProcessW', '/prog/hello-x86_64.exe', CREATE_SUSPENDED)).toBe(1);
    const { hProcess, hThread, dwProcessId } = w.record() as { hProcess: number; hThread: number; dwProcessId: number };
    const child = w.k.processes.get(dwProcessId)!;
    expect(w.call('ResumeThread', hThread)).toBe(1);
    expect(child.state).toBe('running');
    expect(child.space.modules.map((m) => m.name.toLowerCase())).toEqual(['hello-x86_64.exe', 'greet.dll', 'kernel32.dll', 'msvcrt.dll']);
    const exe = child.space.modules[0]!;
    const pe = parsePe(fixture('hello-x86_64.exe'));
    const buf = w.call('VirtualAlloc', 0, 0x1000, MEM_COMMIT, PAGE_READWRITE);
    for (const d of pe.imports()) {
      const dll = child.space.modules.find((m) => m.name.toLowerCase() === d.name.toLowerCase())!;
      for (const e of d.entries) {
        expect(w.call('ReadProcessMemory', hProcess, exe.base + e.iatRva, buf, 8)).toBe(1);
        const bytes = Array.from(w.k.copyFromUser(w.t, buf, 8));
        const va = bytes.reduce((acc, b, i) => acc + b * 2 ** (8 * i), 0);
        const rva = e.name !== null ? dll.byName.get(e.name) : dll.byOrdinal.get(e.ordinal!);
        expect(va, `${d.name}!${e.name ?? e.ordinal}`).toBe(dll.base + (rva as number));
      }
    }
    // The IAT lives in .idata (writable: WRITECOPY); the written pages are private copies now, READWRITE.
    const idata = pe.sections.find((s) => s.name === '.idata')!;
    w.call('VirtualQueryEx', hProcess, exe.base + idata.virtualAddress);
    expect(w.record().Protect).toBe(PAGE_READWRITE);
    expect(w.k.metrics.faults.cow).toBeGreaterThan(0);
    expect(exe.section.image!.fixups).toBe(0);
  });

  it('a DLL whose preferred base is taken is relocated (its fixups counted)', () => {
    const w = boot('hello-x86_64.exe');
    w.call('CreateProcessW', '/prog/hello-x86_64.exe', CREATE_SUSPENDED);
    const { hProcess, hThread, dwProcessId } = w.record() as { hProcess: number; hThread: number; dwProcessId: number };
    const greetBase = parsePe(fixture('greet-x86_64.dll')).imageBase;
    expect(w.call('VirtualAllocEx', hProcess, greetBase, 0x1000, MEM_RESERVE, PAGE_READWRITE)).toBe(greetBase);
    w.call('ResumeThread', hThread);
    const child = w.k.processes.get(dwProcessId)!;
    const greet = child.space.modules.find((m) => m.name === 'greet.dll')!;
    expect(greet.base).not.toBe(greetBase);
    const relocs = parsePe(fixture('greet-x86_64.dll')).baseRelocations().reduce((n, b) => n + b.entries.filter((e) => e.type === 10).length, 0);
    expect(relocs).toBeGreaterThan(0);
    expect(greet.section.image!.fixups).toBe(relocs);
  });

  it('a missing DLL ends the process with STATUS_DLL_NOT_FOUND; GetExitCodeProcess and WaitForSingleObject see it', () => {
    const w = bootWindows({ fs: memoryFileSystem({ '/prog/hello.exe': fixture('hello-x86_64.exe') }) });
    expect(w.call('CreateProcessW', '/prog/hello.exe', 0)).toBe(1);
    const { hProcess } = w.record() as { hProcess: number };
    expect(w.call('WaitForSingleObject', hProcess, 0)).toBe(0);
    expect(w.call('GetExitCodeProcess', hProcess)).toBe(1);
    expect(w.record().lpExitCode).toBe(0xc0000135);
  });

  it('CreateProcess of a DLL is ERROR_BAD_EXE_FORMAT; of a missing file ERROR_FILE_NOT_FOUND', () => {
    const w = bootWindows({ fs: memoryFileSystem({ '/prog/greet.dll': fixture('greet-x86_64.dll') }) });
    expect(w.call('CreateProcessW', '/prog/greet.dll', 0)).toBe(0);
    expect(w.lastError()).toBe('ERROR_BAD_EXE_FORMAT');
    expect(w.call('CreateProcessW', '/prog/none.exe', 0)).toBe(0);
    expect(w.lastError()).toBe('ERROR_FILE_NOT_FOUND');
    expect(w.k.state.commitCharge).toBe(0);
  });
});

describe('processes and handles', () => {
  it('a process object outlives its exit while a handle is open; its commit and frames go at exit', () => {
    const w = boot('hello-x86_64.exe');
    const free = w.k.mmu.frames.freeFrames;
    w.call('CreateProcessW', '/prog/hello-x86_64.exe', 0);
    const { hProcess, hThread, dwProcessId } = w.record() as { hProcess: number; hThread: number; dwProcessId: number };
    const child = w.k.processes.get(dwProcessId)!;
    expect(w.call('WaitForSingleObject', hProcess, 0)).toBe(0x102);
    harness(w.k, child).call('VirtualAlloc', 0, 0x10000, MEM_COMMIT, PAGE_READWRITE);
    w.k.access(child.threads[0]!, child.space.stackBase - 8, ACCESS_WRITE);
    expect(w.call('TerminateProcess', hProcess, 42)).toBe(1);
    expect(w.call('WaitForSingleObject', hProcess, 0)).toBe(0);
    expect(w.call('GetExitCodeProcess', hProcess)).toBe(1);
    expect(w.record().lpExitCode).toBe(42);
    expect(w.k.processes.get(dwProcessId)).toBe(child); // kept by the handles
    expect(w.call('TerminateProcess', hProcess, 1)).toBe(0);
    expect(w.lastError()).toBe('ERROR_ACCESS_DENIED');
    expect(w.call('CloseHandle', hThread)).toBe(1);
    expect(w.call('CloseHandle', hProcess)).toBe(1);
    expect(w.k.processes.get(dwProcessId)).toBeUndefined();
    expect(w.k.state.commitCharge).toBe(0);
    expect(w.k.mmu.frames.freeFrames).toBe(free);
  });

  it('WaitForSingleObject(INFINITE) sleeps until the process exits', () => {
    const w = boot('hello-x86_64.exe');
    w.call('CreateProcessW', '/prog/hello-x86_64.exe', 0);
    const { hProcess, dwProcessId } = w.record() as { hProcess: number; dwProcessId: number };
    const r = w.k.syscall(w.t, 'WaitForSingleObject', [hProcess, 0xffffffff]);
    expect(r.blocked).toBe(true);
    w.k.exitProcess(w.k.processes.get(dwProcessId)!, 7);
    expect(w.t.state).toBe('runnable');
    expect(w.k.resume(w.t).value).toBe(0);
  });

  it('the main thread\'s stack grows through its guard page and overflows at the reservation\'s end', () => {
    const w = boot('hello-x86_64.exe');
    w.call('CreateProcessW', '/prog/hello-x86_64.exe', 0);
    const child = w.k.processes.get(w.record().dwProcessId as number)!;
    const t = child.threads[0]!;
    const stack = child.space.vads.lookup(child.space.stackBase - 1)!;
    let sp = child.space.stackBase;
    const before = child.space.commitCharge;
    for (let i = 0; i < 16; i++) {
      sp -= 0x1000;
      expect(w.k.access(t, sp, ACCESS_WRITE), `page ${i}`).toBeGreaterThanOrEqual(0);
    }
    expect(child.space.commitCharge).toBeGreaterThan(before);
    expect(w.k.metrics.faults.stackGrowth).toBeGreaterThan(0);
    // Run it down to the bottom: the last page stays reserved, and reaching it is STATUS_STACK_OVERFLOW.
    while (sp > stack.start) {
      sp -= 0x1000;
      if (w.k.access(t, sp, ACCESS_WRITE) < 0) break;
    }
    expect(child.killedBy).toBe('STATUS_STACK_OVERFLOW');
    expect(child.exitStatus).toBe(0xc00000fd);
  });
});

describe('the other PE fixtures', () => {
  it.each(['delayed-lld-x86_64.exe', 'delayed-x86_64.exe', 'hello-i686.exe', 'delayed-i686.exe'])('%s maps with its sections\' protections and starts', (name) => {
    const w = boot(name);
    expect(w.call('CreateProcessW', `/prog/${name}`, 0)).toBe(1);
    const child = w.k.processes.get(w.record().dwProcessId as number)!;
    expect(child.state).toBe('running');
    const pe = parsePe(fixture(name));
    const exe = child.space.modules[0]!;
    expect(exe.base).toBe(pe.imageBase);
    for (const s of pe.sections) {
      const r = walk(child.space).find((m) => m.BaseAddress <= exe.base + s.virtualAddress && exe.base + s.virtualAddress < m.BaseAddress + m.RegionSize)!;
      const want = sectionProtection(s.characteristics);
      // Written copy-on-write pages (the IAT) show READWRITE.
      expect([want, want === PAGE_WRITECOPY ? PAGE_READWRITE : want], s.name).toContain(r.Protect);
    }
  });
});
