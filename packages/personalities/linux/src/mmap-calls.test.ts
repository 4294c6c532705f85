import { Kernel, type Process, type Thread } from '@polykernel/kernel';
import { describe, expect, it } from 'vitest';
import { linuxFlags as F, linuxPersonality, procMaps, type LinuxSpace } from './index.js';

const P = 4096;
const RW = F.PROT_READ | F.PROT_WRITE;
const t0 = (p: Process<LinuxSpace>): Thread => p.threads[0]!;

function proc(): { k: Kernel<LinuxSpace>; p: Process<LinuxSpace> } {
  const k = new Kernel(linuxPersonality(), { frames: 512 });
  return { k, p: k.createProcess(k.init, 'mapper') };
}

describe('mmap as a system call: descriptors and 64-bit offsets (host oracle mmap-args.steps checks the mm)', () => {
  it('MAP_SHARED of /dev/zero open for writing is shared memory, "/dev/zero (deleted)"; open read-only, a shared writable mapping is EACCES', () => {
    const { k, p } = proc();
    const rw = k.syscall(t0(p), 'openat', [-100, '/dev/zero', 2, 0]).value;
    const a = k.syscall(t0(p), 'mmap', [0, 2 * P, RW, F.MAP_SHARED, rw, 0]).value;
    expect(procMaps(p.space.mm)).toMatch(/rw-s 00000000 00:01 \d+ +\/dev\/zero \(deleted\)\n/);
    expect(a).toBeGreaterThan(0);
    const ro = k.syscall(t0(p), 'openat', [-100, '/dev/zero', 0, 0]).value;
    expect(k.syscall(t0(p), 'mmap', [0, 2 * P, RW, F.MAP_SHARED, ro, 0]).value).toBe(-13);
  });
  it('an unaligned offset is EINVAL before the descriptor is looked at; a bad descriptor EBADF', () => {
    const { k, p } = proc();
    expect(k.syscall(t0(p), 'mmap', [0, P, RW, F.MAP_PRIVATE, 99, 1]).value).toBe(-22);
    expect(k.syscall(t0(p), 'mmap', [0, P, RW, F.MAP_PRIVATE, 99, 0]).value).toBe(-9);
  });
  it('an anonymous mapping ignores a 64-bit offset; MAP_SHARED_VALIDATE anonymous memory is EINVAL', () => {
    const { k, p } = proc();
    expect(k.syscall(t0(p), 'mmap', [0, 2 * P, RW, F.MAP_PRIVATE | F.MAP_ANONYMOUS, -1, -4096]).value).toBeGreaterThan(0);
    expect(k.syscall(t0(p), 'mmap', [0, P, RW, F.MAP_SHARED_VALIDATE | F.MAP_ANONYMOUS, -1, 0]).value).toBe(-22);
  });
});
