import { Kernel } from '@polykernel/kernel';
import { ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import { linuxPersonality } from './personality.js';

describe('pipes (fs/pipe.c)', () => {
  it('a read of an empty pipe sleeps until the child writes; then EOF once every write end is closed', () => {
    const k = new Kernel(linuxPersonality(), { frames: 1024, contents: true });
    const t = k.createProcess(k.init, 'a').threads[0]!;
    const buf = k.syscall(t, 'mmap', [0, 4096, 3, 0x22, -1, 0]).value;
    expect(k.syscall(t, 'pipe', [buf]).value).toBe(0);
    const v = new DataView(k.mmu.frames.read(k.access(t, buf, ACCESS_READ), 8).buffer);
    const [r, w] = [v.getInt32(0, true), v.getInt32(4, true)];
    const pid = k.syscall(t, 'fork', []).value;
    const c = k.processes.get(pid)!.threads[0]!;
    expect(k.syscall(c, 'close', [r]).value).toBe(0);
    k.syscall(t, 'close', [w]);
    k.syscall(t, 'read', [r, buf + 100, 10]);
    expect(t.state).toBe('blocked');
    k.mmu.frames.write(k.access(c, buf, ACCESS_WRITE), new TextEncoder().encode('hi'));
    expect(k.syscall(c, 'write', [w, buf, 2]).value).toBe(2);
    expect(t.state).toBe('runnable');
    expect(k.resume(t).value).toBe(2);
    expect(new TextDecoder().decode(k.mmu.frames.read(k.access(t, buf + 100, ACCESS_READ), 2))).toBe('hi');
    expect(k.syscall(c, 'close', [w]).value).toBe(0);
    expect(k.syscall(t, 'read', [r, buf, 10]).value).toBe(0);
  });

  it('pipe2 refuses unknown flags (EINVAL) and a bad fds pointer leaves nothing open (EFAULT)', () => {
    const k = new Kernel(linuxPersonality(), { frames: 1024, contents: true });
    const t = k.createProcess(k.init, 'a').threads[0]!;
    expect(k.syscall(t, 'pipe2', [0x10000, 1]).error).toBe('EINVAL');
    expect(k.syscall(t, 'pipe2', [8, 0]).error).toBe('EFAULT');
    expect(t.process.files.filter((f) => f !== null)).toHaveLength(0);
  });
});
