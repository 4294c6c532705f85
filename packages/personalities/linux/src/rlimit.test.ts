import { Kernel, type Thread } from '@polykernel/kernel';
import { ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import { linuxPersonality, type LinuxSpace } from './personality.js';

const RLIMIT_STACK = 3;
const RLIMIT_DATA = 2;

function boot(contents = true): { k: Kernel<LinuxSpace>; t: Thread; buf: number } {
  const k = new Kernel(linuxPersonality(), { frames: 2048, contents });
  const t = k.createProcess(k.init, 'a').threads[0]!;
  const buf = k.syscall(t, 'mmap', [0, 4096, 3, 0x22, -1, 0]).value;
  return { k, t, buf };
}

function put(k: Kernel<LinuxSpace>, t: Thread, va: number, cur: bigint, max: bigint): void {
  const b = new Uint8Array(16);
  new DataView(b.buffer).setBigUint64(0, cur, true);
  new DataView(b.buffer).setBigUint64(8, max, true);
  k.mmu.frames.write(k.access(t, va, ACCESS_WRITE), b);
}

function get(k: Kernel<LinuxSpace>, t: Thread, va: number): [bigint, bigint] {
  const v = new DataView(k.mmu.frames.read(k.access(t, va, ACCESS_READ), 16).buffer);
  return [v.getBigUint64(0, true), v.getBigUint64(8, true)];
}

describe('resource limits as the task holds them (kernel/sys.c)', () => {
  it('a limit above 2^53 set by setrlimit survives fork exactly, and mmap still honours RLIMIT_DATA in the child', () => {
    const { k, t, buf } = boot();
    const big = (1n << 60n) + 1n;
    put(k, t, buf, big - 2n, big);
    expect(k.syscall(t, 'setrlimit', [RLIMIT_STACK, buf]).value).toBe(0);
    put(k, t, buf, 0x100000n, 0x100000n);
    expect(k.syscall(t, 'setrlimit', [RLIMIT_DATA, buf]).value).toBe(0);
    const pid = k.syscall(t, 'fork', []).value;
    const c = k.processes.get(pid)!.threads[0]!;
    expect(k.syscall(c, 'getrlimit', [RLIMIT_STACK, buf]).value).toBe(0);
    expect(get(k, c, buf)).toEqual([big - 2n, big]);
    expect(k.syscall(c, 'mmap', [0, 0x200000, 3, 0x22, -1, 0])).toMatchObject({ error: 'ENOMEM' });
    expect(k.syscall(c, 'mmap', [0, 0x200000, 1, 0x22, -1, 0]).value).toBeGreaterThan(0);
  });

  it('prlimit64 on a process that does not exist is ESRCH; the new limit is read before (EFAULT first)', () => {
    const { k, t, buf } = boot();
    expect(k.syscall(t, 'prlimit64', [99999, RLIMIT_DATA, 0, buf])).toMatchObject({ error: 'ESRCH' });
    expect(k.syscall(t, 'prlimit64', [99999, RLIMIT_DATA, 8, buf])).toMatchObject({ error: 'EFAULT' });
  });

  it('prlimit64 reads and sets another process of the same user', () => {
    const { k, t, buf } = boot();
    const pid = k.syscall(t, 'fork', []).value;
    put(k, t, buf, 0x1000n, 0x2000n);
    expect(k.syscall(t, 'prlimit64', [pid, RLIMIT_DATA, buf, buf + 16]).value).toBe(0);
    expect(get(k, t, buf + 16)).toEqual([0xffffffffffffffffn, 0xffffffffffffffffn]);
    expect(k.processes.get(pid)!.space.mm.rlimit.data).toEqual({ cur: 0x1000, max: 0x2000 });
    expect(k.processes.get(t.process.pid)!.space.mm.rlimit.data.cur).toBe(Infinity);
  });

  it('reading a struct from user memory needs a machine that keeps page contents', () => {
    const { k, t, buf } = boot(false);
    expect(() => k.syscall(t, 'setrlimit', [RLIMIT_DATA, buf])).toThrow(/keeps no page contents/);
  });
});
