import { Kernel, type Process, type Thread } from '@polykernel/kernel';
import { describe, expect, it } from 'vitest';
import { linuxFlags as F, linuxPersonality, procStatusMemory, smapsEntry, type LinuxSpace } from './index.js';

const P = 4096;
const RW = F.PROT_READ | F.PROT_WRITE;
const ANON = F.MAP_PRIVATE | F.MAP_ANONYMOUS;
const t0 = (p: Process<LinuxSpace>): Thread => p.threads[0]!;

function proc(): { k: Kernel<LinuxSpace>; p: Process<LinuxSpace> } {
  const k = new Kernel(linuxPersonality(), { frames: 512 });
  return { k, p: k.createProcess(k.init, 'locker') };
}

describe('mlock, mlock2, munlock, mlockall and msync as system calls (host oracle mlock.steps checks the areas)', () => {
  it('mlock faults the range in and counts it in VmLck and smaps Locked; MLOCK_ONFAULT faults nothing', () => {
    const { k, p } = proc();
    const a = k.syscall(t0(p), 'mmap', [0, 8 * P, RW, ANON, -1, 0]).value;
    expect(k.syscall(t0(p), 'mlock', [a, 2 * P]).value).toBe(0);
    expect(p.space.rss.anon).toBe(2);
    expect(procStatusMemory(p.space)).toContain(`VmLck:\t${String(8).padStart(8)} kB`);
    expect(smapsEntry(k, p, p.space.mm.vmas.lookup(a)!)).toMatch(/Locked: +8 kB/);
    expect(k.syscall(t0(p), 'mlock2', [a + 4 * P, 2 * P, 1]).value).toBe(0);
    expect(p.space.rss.anon).toBe(2);
    expect(procStatusMemory(p.space)).toContain(`VmLck:\t${String(16).padStart(8)} kB`);
    expect(k.syscall(t0(p), 'mlock2', [a, P, 2]).value).toBe(-22);
    expect(t0(p).lastError).toBe('EINVAL');
    expect(k.syscall(t0(p), 'munlock', [a, 8 * P]).value).toBe(0);
    expect(procStatusMemory(p.space)).toContain(`VmLck:\t${String(0).padStart(8)} kB`);
  });
  it('mlockall(MCL_FUTURE) locks and populates later mappings; munlockall stops it; a fork child inherits no lock', () => {
    const { k, p } = proc();
    expect(k.syscall(t0(p), 'mlockall', [2]).value).toBe(0);
    const a = k.syscall(t0(p), 'mmap', [0, 4 * P, RW, ANON, -1, 0]).value;
    expect(p.space.rss.anon).toBe(4);
    expect(p.space.mm.lockedVm).toBe(4);
    const child = k.syscall(t0(p), 'fork', []).value;
    const c = k.processes.get(child)!;
    expect(c.space.mm.lockedVm).toBe(0);
    expect(c.space.mm.vmas.lookup(a)!.flags & F.VM_LOCKED).toBe(0);
    expect(k.syscall(t0(p), 'munlockall', []).value).toBe(0);
    expect(p.space.mm.lockedVm).toBe(0);
    k.syscall(t0(p), 'mmap', [0, 4 * P, RW, ANON, -1, 0]);
    expect(p.space.rss.anon).toBe(4);
  });
  it('msync: MS_INVALIDATE on a locked area is EBUSY, a hole ENOMEM', () => {
    const { k, p } = proc();
    const a = k.syscall(t0(p), 'mmap', [0, 4 * P, RW, ANON, -1, 0]).value;
    k.syscall(t0(p), 'mlock', [a, P]);
    expect(k.syscall(t0(p), 'msync', [a, P, 2]).value).toBe(-16);
    expect(t0(p).lastError).toBe('EBUSY');
    expect(k.syscall(t0(p), 'msync', [a + P, P, 2]).value).toBe(0);
    expect(k.syscall(t0(p), 'msync', [a - P, 2 * P, 1]).value).toBe(-12);
    expect(t0(p).lastError).toBe('ENOMEM');
  });
});

describe('madvise page work as a system call (host oracle madvise.steps checks the areas)', () => {
  it('POPULATE_WRITE faults the range in, POPULATE_WRITE on a read-only area is EINVAL', () => {
    const { k, p } = proc();
    const a = k.syscall(t0(p), 'mmap', [0, 4 * P, RW, ANON, -1, 0]).value;
    expect(k.syscall(t0(p), 'madvise', [a, 4 * P, 23]).value).toBe(0);
    expect(p.space.rss.anon).toBe(4);
    const r = k.syscall(t0(p), 'mmap', [0, 2 * P, F.PROT_READ, ANON, -1, 0]).value;
    expect(k.syscall(t0(p), 'madvise', [r, 2 * P, 23]).value).toBe(-22);
  });
  it('REMOVE punches shared memory pages out of the file; private memory is EINVAL', () => {
    const { k, p } = proc();
    const s = k.syscall(t0(p), 'mmap', [0, 4 * P, RW, F.MAP_SHARED | F.MAP_ANONYMOUS, -1, 0]).value;
    expect(k.syscall(t0(p), 'madvise', [s, 4 * P, 23]).value).toBe(0);
    expect(p.space.rss.shmem).toBe(4);
    const free = k.mmu.frames.freeFrames;
    expect(k.syscall(t0(p), 'madvise', [s, 2 * P, 9]).value).toBe(0);
    expect(p.space.rss.shmem).toBe(2);
    expect(k.mmu.frames.freeFrames).toBe(free + 2);
    const a = k.syscall(t0(p), 'mmap', [0, P, RW, ANON, -1, 0]).value;
    expect(k.syscall(t0(p), 'madvise', [a, P, 9]).value).toBe(-22);
  });
  it('a fork child leaves out DONTFORK areas and gets WIPEONFORK ones empty', () => {
    const { k, p } = proc();
    const a = k.syscall(t0(p), 'mmap', [0, 4 * P, RW, ANON, -1, 0]).value;
    k.syscall(t0(p), 'madvise', [a, 4 * P, 23]);
    k.syscall(t0(p), 'madvise', [a, P, 10]);
    k.syscall(t0(p), 'madvise', [a + 2 * P, 2 * P, 18]);
    const c = k.processes.get(k.syscall(t0(p), 'fork', []).value)!;
    expect(c.space.mm.vmas.lookup(a)).toBeUndefined();
    expect(c.space.mm.vmas.lookup(a + 2 * P)!.anonVma).toBe(0);
    expect(c.space.rss.anon).toBe(1);
  });
});
