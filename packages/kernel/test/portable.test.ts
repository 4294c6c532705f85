/**
 * The portable-driver interface on the toy personalities: a POSIX-like driver (mmap, munmap,
 * wait4 that sleeps) and a Windows-like one (VirtualAlloc over NtAllocateVirtualMemory,
 * CreateProcessW), each making its kernel's own calls through the gate. What a toy cannot do is
 * `unsupported` with the reason; the contract kit's portable checks run on both.
 */
import { describe, expect, it } from 'vitest';
import { PROT_READ, PROT_WRITE } from '@polykernel/core';
import { ACCESS_WRITE } from '@polykernel/mmu';
import type { Personality } from '../src/contract.js';
import { Kernel } from '../src/kernel.js';
import { describeResult, failure, gate, ok, PORTABLE_OPS, unsupported, type PortableDriver, type PortableOp } from '../src/portable.js';
import { contractSuite } from '../src/testing/index.js';
import { toyMap, toyPosix, toyWin, type ToyMachine, type ToySpace } from './toys.js';

const RW = PROT_READ | PROT_WRITE;
type Toy = PortableDriver<ToySpace, ToyMachine>;

function natives(known: Partial<Record<PortableOp, string>>, missing: string): Record<PortableOp, string> {
  return Object.fromEntries(PORTABLE_OPS.map((op) => [op, known[op] ?? `n/a: ${missing}`])) as Record<PortableOp, string>;
}

const noFiles = unsupported('the toy has no file calls');

/** toyPosix's driver: its mmap/munmap and a wait4 that sleeps; no fork, exec or files. */
const posixDriver: Toy = {
  native: natives({ alloc: 'mmap(0, size, prot)', free: 'munmap(addr, len)', wait: 'wait4(pid)' }, 'toyposix has no such call'),
  alloc: (k, t, req) => {
    const r = gate(k, t, 'mmap', [req.addr ?? 0, req.size, req.prot]);
    return failure(k, 'mmap', r) ?? ok({ addr: r.value, length: Math.ceil(req.size / 4096) * 4096 });
  },
  free: (k, t, region) => {
    const r = gate(k, t, 'munmap', [region.addr, region.length]);
    return failure(k, 'munmap', r) ?? ok(r.value);
  },
  protect: () => unsupported('toyposix has no mprotect'),
  fork: () => unsupported('toyposix has no fork'),
  spawn: () => unsupported('toyposix has no fork or exec'),
  exec: () => unsupported('toyposix has no execve'),
  exit: () => unsupported('toyposix has no exit call'),
  wait: (k, t, ref) => {
    // The toy's wait4 reports no status: its test reads the zombie's (a real driver reads the status word).
    const statuses = new Map(t.process.children.map((c) => [c.pid, c.exitStatus]));
    const r = gate(k, t, 'wait4', [ref ?? -1]);
    if (r.blocked === true) return { kind: 'blocked', call: 'wait4' };
    const f = failure(k, 'wait4', r);
    if (f !== null) return f;
    const status = (statuses.get(r.value) ?? k.processes.get(r.value)?.exitStatus) ?? 0;
    return ok({ ref: r.value, pid: r.value, status, exitCode: Math.floor(status / 256), signal: null });
  },
  mapFile: () => noFiles,
  open: () => noFiles,
  read: () => noFiles,
  write: () => noFiles,
  close: () => noFiles,
};

const MEM_COMMIT = 0x1000;
const MEM_RESERVE = 0x2000;

/** toyWin's driver: VirtualAlloc(MEM_RESERVE|MEM_COMMIT) and CreateProcessW, library calls over NT traps. */
const winDriver: Toy = {
  native: natives({ alloc: 'VirtualAlloc(NULL, size, MEM_RESERVE|MEM_COMMIT, PAGE_*)', spawn: 'CreateProcessW', fork: 'n/a: Win32 has no fork' }, 'toywin has no such call'),
  start: (k, comm) => {
    const process = k.createProcess(k.init, comm);
    return { process, thread: process.threads[0]!, ref: process.pid };
  },
  alloc: (k, t, req) => {
    const r = gate(k, t, 'VirtualAlloc', [req.addr ?? 0, req.size, MEM_RESERVE | MEM_COMMIT, (req.prot & PROT_WRITE) !== 0 ? 0x04 : 0x02]);
    return failure(k, 'VirtualAlloc', r) ?? ok({ addr: r.value, length: Math.ceil(req.size / 4096) * 4096 });
  },
  free: () => unsupported('toywin has no VirtualFree'),
  protect: () => unsupported('toywin has no VirtualProtect'),
  fork: () => unsupported('Win32 has no fork'),
  spawn: (k, t, req) => {
    const r = gate(k, t, 'CreateProcessW', [req.path, 0]);
    const f = failure(k, 'CreateProcessW', r);
    if (f !== null) return f;
    const pid = r.record!.fields.dwProcessId as number;
    const process = k.processes.get(pid)!;
    return ok({ process, thread: process.threads[0]!, ref: r.record!.fields.hProcess as number });
  },
  exec: () => unsupported('a Win32 process cannot replace its image'),
  exit: () => unsupported('toywin has no ExitProcess'),
  wait: () => unsupported('toywin has no WaitForSingleObject'),
  mapFile: () => noFiles,
  open: () => noFiles,
  read: () => noFiles,
  write: () => noFiles,
  close: () => noFiles,
};

const withDriver = (p: () => Personality<ToySpace, ToyMachine>, portable: Toy) => (): Personality<ToySpace, ToyMachine> => ({ ...p(), portable });

describe('portable drivers on the toys', () => {
  it('alloc is the kernel\'s own call, counted by the gate, and its memory is usable', () => {
    const k = new Kernel(withDriver(toyPosix, posixDriver)());
    const t = k.createProcess(k.init, 'a').threads[0]!;
    const r = posixDriver.alloc(k, t, { size: 3 * 4096, prot: RW });
    expect(r).toMatchObject({ kind: 'ok', value: { length: 3 * 4096 } });
    expect(k.metrics.syscalls).toBe(1);
    if (r.kind === 'ok') expect(k.access(t, r.value.addr + 8192, ACCESS_WRITE)).toBeGreaterThanOrEqual(0);
    expect(k.metrics.faults.zeroFill).toBe(1);
  });

  it('a refusal comes back in the failing call\'s error space: errno, or Win32 LastError under a library call', () => {
    const kp = new Kernel(withDriver(toyPosix, posixDriver)());
    const rp = posixDriver.alloc(kp, kp.createProcess(kp.init, 'a').threads[0]!, { size: 0, prot: RW });
    expect(rp).toEqual({ kind: 'failed', call: 'mmap', error: 'EINVAL', space: 'freebsd' });
    expect(describeResult(rp, String)).toBe('EINVAL (mmap)');
    const kw = new Kernel(withDriver(toyWin, winDriver)());
    const rw = winDriver.alloc(kw, kw.createProcess(kw.init, 'a').threads[0]!, { size: 0, prot: RW });
    expect(rw).toEqual({ kind: 'failed', call: 'VirtualAlloc', error: 'ERROR_INVALID_PARAMETER', space: 'win32' });
    expect(kw.metrics.syscalls, 'one NT trap under the library calls').toBe(1);
  });

  it('what a kernel cannot do is n/a with the reason, and no call is made', () => {
    const k = new Kernel(withDriver(toyWin, winDriver)());
    const t = k.createProcess(k.init, 'a').threads[0]!;
    const r = winDriver.fork(k, t);
    expect(describeResult(r, String)).toBe('n/a: Win32 has no fork');
    expect(k.metrics.syscalls).toBe(0);
  });

  it('spawn is CreateProcessW on the Windows-like toy: the child and the handle its creator holds', () => {
    const k = new Kernel(withDriver(toyWin, winDriver)());
    const t = k.createProcess(k.init, 'shell').threads[0]!;
    const r = winDriver.spawn(k, t, { path: 'C:\\child.exe', argv: ['child'] });
    if (r.kind !== 'ok') throw new Error(describeResult(r, String));
    expect(r.value.process.comm).toBe('C:\\child.exe');
    expect(r.value.process.handles).toBe(1);
    expect(r.value.thread.state).toBe('runnable');
  });

  it('a wait that sleeps is blocked, and the same call again after the wake-up finishes it', () => {
    const k = new Kernel(withDriver(toyPosix, posixDriver)());
    const parent = k.createProcess(k.init, 'parent');
    const t = parent.threads[0]!;
    const child = k.createProcess(parent, 'child');
    expect(posixDriver.wait(k, t, child.pid)).toEqual({ kind: 'blocked', call: 'wait4' });
    expect(posixDriver.wait(k, t, child.pid), 'still asleep: no new call').toEqual({ kind: 'blocked', call: 'wait4' });
    expect(k.metrics.syscalls).toBe(1);
    k.exitProcess(child, 5);
    const w = posixDriver.wait(k, t, child.pid);
    expect(w).toMatchObject({ kind: 'ok', value: { pid: child.pid, exitCode: 5 } });
    expect(k.metrics.syscalls, 'the resumed wait4 is the same call').toBe(1);
    expect(child.state).toBe('dead');
  });
});

contractSuite('toyposix + portable', { personality: withDriver(toyPosix, posixDriver), mapMemory: toyMap, unmappedAddress: 0x5000, accessViolation: 'SIGSEGV' });
contractSuite('toywin + portable', { personality: withDriver(toyWin, winDriver), mapMemory: toyMap, unmappedAddress: 0x5000, accessViolation: 'EXCEPTION_ACCESS_VIOLATION' });
