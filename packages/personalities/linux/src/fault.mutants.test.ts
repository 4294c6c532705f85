// Tests written to kill surviving and uncovered mutants of resolveFault (docs/mutation.md, issue 22
// §4): the signal and code of each fault that cannot be resolved, and the kernel-mode fixup.
import { Kernel } from '@polykernel/kernel';
import { ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_EXEC, PROT_READ } from './flags.js';
import { doMmap } from './mmap.js';
import { linuxPersonality, type LinuxSpace } from './personality.js';

const P = 4096;

function boot() {
  const k = new Kernel(linuxPersonality(), { frames: 4096, initReaps: false });
  const p = k.createProcess(k.init, 'faults');
  const signals: string[] = [];
  // The process's own signals (its parent gets a SIGCHLD when it dies).
  k.bus.subscribe('signal', (e) => {
    if (e.pid === p.pid) signals.push(`${e.signal}:${e.code}`);
  });
  // What the fault probe says each trap resolved to.
  const resolutions: string[] = [];
  k.bus.subscribe('fault', (e) => resolutions.push(`${e.reason}:${e.resolution}`));
  return { k, p, t: p.threads[0]!, signals, resolutions };
}

describe('resolveFault: faults it cannot resolve', () => {
  it('an address in no area is SIGSEGV with SEGV_MAPERR (do_user_addr_fault → bad_area)', () => {
    const { k, p, t, signals, resolutions } = boot();
    expect(k.access(t, 0x5000, ACCESS_READ)).toBe(-1);
    expect(signals).toEqual(['SIGSEGV:SEGV_MAPERR']);
    expect(resolutions).toEqual(['not-present:SIGSEGV']);
    expect(p.killedBy).toBe('SIGSEGV');
  });

  it('a write to a read-only area is SIGSEGV with SEGV_ACCERR, counted as a protection fault', () => {
    const { k, t, signals, resolutions } = boot();
    const a = k.syscall(t, 'mmap', [0, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]).value;
    expect(k.access(t, a, ACCESS_WRITE)).toBe(-1);
    expect(signals).toEqual(['SIGSEGV:SEGV_ACCERR']);
    expect(resolutions).toEqual(['not-present:SIGSEGV']);
    expect(k.metrics.faults.protection).toBe(1);
  });

  it('a kernel-mode access to a read-only area or to no area is fixed up: no signal, the process runs on', () => {
    const { k, p, t, signals } = boot();
    const a = k.syscall(t, 'mmap', [0, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]).value;
    expect(k.access(t, a, ACCESS_WRITE, false)).toBe(-1);
    expect(k.metrics.faults.protection).toBe(1);
    expect(k.access(t, 0x5000, ACCESS_READ, false)).toBe(-1);
    expect(signals).toEqual([]);
    expect(p.state).toBe('running');
    expect(k.metrics.faults.segv).toBe(0);
  });

  it('a file mapping whose bytes the simulation does not have (layout only) is SIGBUS with BUS_ADRERR', () => {
    const { k, p, t, signals } = boot();
    const s: LinuxSpace = p.space;
    const a = doMmap(s.mm, 0, P, PROT_READ, MAP_PRIVATE, { path: '/layout-only', dev: [0, 1], ino: 77 });
    expect(a).toBeGreaterThan(0);
    expect(k.access(t, a, ACCESS_READ)).toBe(-1);
    expect(signals).toEqual(['SIGBUS:BUS_ADRERR']);
    expect(p.killedBy).toBe('SIGBUS');
  });
});

describe('resolveFault: access_error', () => {
  it('an instruction fetch from an executable area is allowed (and from a non-executable one is not)', () => {
    const { k, t, signals } = boot();
    const x = k.syscall(t, 'mmap', [0, P, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]).value;
    expect(k.access(t, x + 16, ACCESS_EXEC)).toBeGreaterThan(0);
    const r = k.syscall(t, 'mmap', [0, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]).value;
    expect(k.access(t, r, ACCESS_EXEC)).toBe(-1);
    expect(signals).toEqual(['SIGSEGV:SEGV_ACCERR']);
  });
});

describe('resolveFault: access_error for reads', () => {
  it('a read of a PROT_NONE area is SIGSEGV with SEGV_ACCERR (no VM_READ, VM_WRITE or VM_EXEC)', () => {
    const { k, t, signals } = boot();
    const a = k.syscall(t, 'mmap', [0, P, 0, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]).value;
    expect(a).toBeGreaterThan(0);
    expect(k.access(t, a, ACCESS_READ)).toBe(-1);
    expect(signals).toEqual(['SIGSEGV:SEGV_ACCERR']);
  });
});
