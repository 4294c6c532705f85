import { Kernel } from '@polykernel/kernel';
import { describe, expect, it } from 'vitest';
import { linuxFlags as F, linuxPersonality, type FsFile } from './index.js';

const RW = F.PROT_READ | F.PROT_WRITE;
const ANON = F.MAP_PRIVATE | F.MAP_ANONYMOUS;
const HELLO: FsFile = { path: '/etc/motd', bytes: new TextEncoder().encode('hello, world\n'), dev: [8, 1], ino: 42, mode: 0o100644 };

function boot(): { k: Kernel<ReturnType<typeof linuxPersonality> extends import('@polykernel/kernel').Personality<infer S> ? S : never>; t: import('@polykernel/kernel').Thread } {
  const k = new Kernel(linuxPersonality({ fs: (p) => (p === HELLO.path ? HELLO : p === '/etc' ? { ...HELLO, path: '/etc', mode: 0o040755 } : 'ENOENT') }), { frames: 8192, contents: true });
  return { k, t: k.createProcess(k.init, 'dd').threads[0]! };
}

describe('files: openat, read, write, close', () => {
  it('dd if=/dev/zero of=/dev/null bs=10M count=1: the read faults in 2,560 pages, the write touches none', () => {
    const { k, t } = boot();
    const zero = k.syscall(t, 'openat', [-100, '/dev/zero', 0, 0]).value;
    const nul = k.syscall(t, 'openat', [-100, '/dev/null', 0o1 | 0x40 | 0x200, 0o666]).value;
    expect([zero, nul]).toEqual([0, 1]);
    const buf = k.syscall(t, 'mmap', [0, 10 * 1024 * 1024 + 8192, RW, ANON, -1, 0]).value;
    const faults0 = k.metrics.faults.zeroFill;
    expect(k.syscall(t, 'read', [zero, buf, 10 * 1024 * 1024]).value).toBe(10 * 1024 * 1024);
    expect(k.metrics.faults.zeroFill - faults0).toBe(2560);
    expect(k.syscall(t, 'write', [nul, buf, 10 * 1024 * 1024]).value).toBe(10 * 1024 * 1024);
    expect(k.metrics.faults.zeroFill - faults0).toBe(2560);
    expect(k.syscall(t, 'close', [zero]).value).toBe(0);
    expect(k.syscall(t, 'close', [zero]).error).toBe('EBADF');
  });

  it('/dev/null has no mmap (null_fops): ENODEV, after do_mmap\'s EACCES for a descriptor not open for reading', () => {
    const { k, t } = boot();
    const rd = k.syscall(t, 'openat', [-100, '/dev/null', 0, 0]).value;
    const wr = k.syscall(t, 'openat', [-100, '/dev/null', 0o1, 0]).value;
    expect(k.syscall(t, 'mmap', [0, 4096, F.PROT_READ, F.MAP_SHARED, rd, 0]).error).toBe('ENODEV');
    expect(k.syscall(t, 'mmap', [0, 4096, F.PROT_READ, F.MAP_PRIVATE, rd, 0]).error).toBe('ENODEV');
    expect(k.syscall(t, 'mmap', [0, 4096, F.PROT_READ, F.MAP_PRIVATE, wr, 0]).error).toBe('EACCES');
    // /dev/zero maps (mmap_zero).
    const zero = k.syscall(t, 'openat', [-100, '/dev/zero', 0, 0]).value;
    expect(k.syscall(t, 'mmap', [0, 4096, F.PROT_READ, F.MAP_PRIVATE, zero, 0]).error).toBeNull();
  });

  it('a read into an unmapped buffer is EFAULT (no signal); regular files are read from their bytes', () => {
    const { k, t } = boot();
    const zero = k.syscall(t, 'openat', [-100, '/dev/zero', 0, 0]).value;
    expect(k.syscall(t, 'read', [zero, 0x1000, 100]).error).toBe('EFAULT');
    expect(t.process.state).toBe('running');
    const fd = k.syscall(t, 'openat', [-100, '/etc/motd', 0, 0]).value;
    const buf = k.syscall(t, 'mmap', [0, 4096, RW, ANON, -1, 0]).value;
    expect(k.syscall(t, 'read', [fd, buf, 5]).value).toBe(5);
    expect(k.syscall(t, 'read', [fd, buf + 5, 100]).value).toBe(8);
    expect(k.syscall(t, 'read', [fd, buf, 100]).value).toBe(0);
    const pa = k.mmu.translate(0, k.asidOf(t.process as never), buf, 0, true);
    expect(new TextDecoder().decode(k.mmu.frames.read(pa, 13))).toBe('hello, world\n');
    expect(k.syscall(t, 'openat', [-100, '/nope', 0, 0]).error).toBe('ENOENT');
    // O_CREAT needs the directory: this file system has no /var.
    expect(k.syscall(t, 'openat', [-100, '/var/nope', 0x41, 0o644]).error).toBe('ENOENT');
    expect(k.syscall(t, 'openat', [-100, '/etc', 1, 0]).error).toBe('EISDIR');
    expect(k.syscall(t, 'openat', [-100, '/etc/motd', 0x10000, 0]).error).toBe('ENOTDIR');
    expect(k.syscall(t, 'write', [fd, buf, 1]).error).toBe('EBADF');
  });
});
