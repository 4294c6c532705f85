/**
 * The file calls: open/openat, read/write, pread/pwrite, lseek, fstat, close, dup/dup2, fcntl and
 * pipe2 with FreeBSD's numbers, errnos and check order; the copy-on-write overlay (the file
 * system's bytes are never written); /dev/zero and /dev/null.
 */
import { FREEBSD_ERRNO } from '@polykernel/core';
import { Kernel, memoryFileSystem, S_IFDIR, type FsFile, type Process, type Thread } from '@polykernel/kernel';
import { describe, expect, it } from 'vitest';
import type { FreebsdMachine, FreebsdSpace } from '../machine.js';
import { MAP_ANON, MAP_PRIVATE, PAGE_SIZE } from '../param.js';
import { freebsdPersonality } from '../personality.js';
import { F, FD_CLOEXEC, O } from './kern_descrip.js';
import { AT_FDCWD, SEEK, STAT_SIZE } from './vfs_syscalls.js';

type K = Kernel<FreebsdSpace, FreebsdMachine>;
const E = FREEBSD_ERRNO;
const MOTD = new TextEncoder().encode('FreeBSD 14.1-RELEASE\nWelcome!\n');

function files(): Record<string, Uint8Array | FsFile> {
  return {
    '/etc/motd': MOTD,
    '/etc/secret': { path: '/etc/secret', bytes: Uint8Array.of(1, 2, 3), dev: [0, 1], ino: 90, mode: 0o100600 },
    '/tmp': { path: '/tmp', bytes: new Uint8Array(0), dev: [0, 1], ino: 91, mode: S_IFDIR | 0o1777 },
  };
}

function boot(): { k: K; p: Process<FreebsdSpace>; t: Thread; buf: number } {
  const k = new Kernel(freebsdPersonality({ fs: memoryFileSystem(files()) }), { frames: 4096, seed: 5, contents: true });
  const p = k.createProcess(k.init, 'sh');
  const t = p.threads[0]!;
  const buf = k.syscall(t, 'mmap', [0, 4 * PAGE_SIZE, 3, MAP_PRIVATE | MAP_ANON, -1, 0]).value;
  return { k, p, t, buf };
}

function text(k: K, t: Thread, va: number, n: number): string {
  return new TextDecoder().decode(k.copyFromUser(t, va, n));
}

function errno(k: K, t: Thread, call: string, args: (number | string)[]): number {
  const r = k.syscall(t, call, args);
  expect(r.value).toBe(-1);
  return r.errorNumber;
}

describe('open, read, write, lseek, close', () => {
  it('has FreeBSD 14 numbers from syscalls.master', () => {
    const { k } = boot();
    const nums = Object.fromEntries(['read', 'write', 'open', 'close', 'dup', 'dup2', 'fcntl', 'pread', 'pwrite', 'lseek', 'openat', 'pipe2', 'fstat', 'sigaction', 'sigprocmask', 'setpgid', 'getpgid']
      .map((n) => [n, k.callSpec(n)!.number]));
    expect(nums).toEqual({ read: 3, write: 4, open: 5, close: 6, dup: 41, dup2: 90, fcntl: 92, pread: 475, pwrite: 476, lseek: 478, openat: 499, pipe2: 542, fstat: 551, sigaction: 416, sigprocmask: 340, setpgid: 82, getpgid: 207 });
  });

  it('reads a file into user memory, advancing the offset, and 0 at the end', () => {
    const { k, t, buf } = boot();
    const fd = k.syscall(t, 'open', ['/etc/motd', O.RDONLY, 0]).value;
    expect(fd).toBe(0);
    expect(k.syscall(t, 'read', [fd, buf, 8]).value).toBe(8);
    expect(k.syscall(t, 'read', [fd, buf + 8, 100]).value).toBe(MOTD.length - 8);
    expect(text(k, t, buf, MOTD.length)).toBe('FreeBSD 14.1-RELEASE\nWelcome!\n');
    expect(k.syscall(t, 'read', [fd, buf, 100]).value).toBe(0);
    expect(k.syscall(t, 'lseek', [fd, 8, SEEK.SET]).value).toBe(8);
    expect(k.syscall(t, 'lseek', [fd, 2, SEEK.CUR]).value).toBe(10);
    expect(k.syscall(t, 'lseek', [fd, -1, SEEK.END]).value).toBe(MOTD.length - 1);
    expect(errno(k, t, 'lseek', [fd, -100, SEEK.CUR])).toBe(E.EINVAL);
    expect(errno(k, t, 'lseek', [fd, 0, 7])).toBe(E.EINVAL);
    expect(errno(k, t, 'lseek', [fd, MOTD.length, SEEK.DATA])).toBe(E.ENXIO);
    expect(k.syscall(t, 'lseek', [fd, 0, SEEK.HOLE]).value).toBe(MOTD.length);
    expect(k.syscall(t, 'close', [fd]).value).toBe(0);
    expect(errno(k, t, 'close', [fd])).toBe(E.EBADF);
    expect(errno(k, t, 'read', [fd, buf, 1])).toBe(E.EBADF);
  });

  it('writes go to the overlay: later opens see them, the file system\'s bytes are untouched', () => {
    const { k, t, buf } = boot();
    const fs = files();
    const original = (fs['/etc/motd'] as Uint8Array).slice();
    const fd = k.syscall(t, 'open', ['/etc/motd', O.RDWR, 0]).value;
    k.copyToUser(t, buf, new TextEncoder().encode('NetBSD'));
    expect(k.syscall(t, 'write', [fd, buf, 6]).value).toBe(6);
    expect(k.syscall(t, 'close', [fd]).value).toBe(0);
    const fd2 = k.syscall(t, 'openat', [AT_FDCWD, 'etc/motd', O.RDONLY, 0]).value;
    expect(k.syscall(t, 'read', [fd2, buf + 100, 64]).value).toBe(MOTD.length);
    expect(text(k, t, buf + 100, 12)).toBe('NetBSDD 14.1'); // 'FreeBSD' with its first six bytes overwritten
    // The machine's file system still hands out the original bytes.
    expect(MOTD).toEqual(original);
    expect(k.state.fs('/etc/motd')).not.toBe('ENOENT');
    expect((k.state.fs('/etc/motd') as FsFile).bytes).toEqual(original);
  });

  it('O_APPEND writes at the end; pwrite past the end grows the file; pread/pwrite leave the offset', () => {
    const { k, t, buf } = boot();
    k.copyToUser(t, buf, new TextEncoder().encode('abc'));
    const fd = k.syscall(t, 'open', ['/tmp/log', O.WRONLY | O.CREAT | O.APPEND, 0o644]).value;
    expect(k.syscall(t, 'write', [fd, buf, 3]).value).toBe(3);
    expect(k.syscall(t, 'write', [fd, buf, 2]).value).toBe(2);
    expect(k.syscall(t, 'lseek', [fd, 0, SEEK.CUR]).value).toBe(5);
    const rd = k.syscall(t, 'open', ['/tmp/log', O.RDWR, 0]).value;
    expect(k.syscall(t, 'pwrite', [rd, buf, 3, 10]).value).toBe(3);
    expect(k.syscall(t, 'lseek', [rd, 0, SEEK.CUR]).value).toBe(0);
    expect(k.syscall(t, 'pread', [rd, buf + 64, 20, 0]).value).toBe(13);
    expect([...k.copyFromUser(t, buf + 64, 13)]).toEqual([97, 98, 99, 97, 98, 0, 0, 0, 0, 0, 97, 98, 99]);
    expect(errno(k, t, 'pread', [rd, buf, 1, -1])).toBe(E.EINVAL);
    expect(errno(k, t, 'pread', [fd, buf, 1, 0])).toBe(E.EBADF); // write-only
    // O_TRUNC truncates even when opening read-only (kern_openat → fo_truncate).
    const tr = k.syscall(t, 'open', ['/tmp/log', O.RDONLY | O.TRUNC, 0]).value;
    expect(k.syscall(t, 'lseek', [tr, 0, SEEK.END]).value).toBe(0);
  });

  it('kern_openat\'s check order and errnos', () => {
    const { k, t } = boot();
    // The access mode is checked before the path: O_ACCMODE on a missing file is EINVAL.
    expect(errno(k, t, 'open', ['/nope', O.ACCMODE, 0])).toBe(E.EINVAL);
    expect(errno(k, t, 'open', ['/nope', O.EXEC | O.RDWR, 0])).toBe(E.EINVAL);
    expect(errno(k, t, 'open', ['/tmp/x', O.CREAT | O.DIRECTORY, 0])).toBe(E.EINVAL);
    expect(errno(k, t, 'open', ['', O.RDONLY, 0])).toBe(E.ENOENT);
    expect(errno(k, t, 'open', ['/nope', O.RDONLY, 0])).toBe(E.ENOENT);
    expect(errno(k, t, 'open', ['/nodir/x', O.CREAT | O.WRONLY, 0o644])).toBe(E.ENOENT);
    expect(errno(k, t, 'open', ['/etc/motd', O.CREAT | O.EXCL | O.WRONLY, 0o644])).toBe(E.EEXIST);
    expect(errno(k, t, 'open', ['/etc/motd', O.DIRECTORY, 0])).toBe(E.ENOTDIR);
    expect(errno(k, t, 'open', ['/tmp', O.WRONLY, 0])).toBe(E.EISDIR);
    expect(errno(k, t, 'openat', [7, 'motd', O.RDONLY, 0])).toBe(E.EBADF);
    const f = k.syscall(t, 'open', ['/etc/motd', O.RDONLY, 0]).value;
    expect(errno(k, t, 'openat', [f, 'x', O.RDONLY, 0])).toBe(E.ENOTDIR);
    const d = k.syscall(t, 'open', ['/etc', O.RDONLY | O.DIRECTORY, 0]).value;
    expect(k.syscall(t, 'openat', [d, 'motd', O.RDONLY, 0]).value).toBeGreaterThan(d);
    expect(errno(k, t, 'read', [d, 0, 1])).toBe(E.EISDIR);
    expect(errno(k, t, 'open', [`/${'a'.repeat(1100)}`, O.RDONLY, 0])).toBe(E.ENAMETOOLONG);
  });

  it('a path in user memory is copied in (copyinstr), a bad one is EFAULT', () => {
    const { k, t, buf } = boot();
    k.copyToUser(t, buf, new TextEncoder().encode('/etc/motd\0'));
    expect(k.syscall(t, 'open', [buf, O.RDONLY, 0]).value).toBe(0);
    expect(errno(k, t, 'open', [0x10, O.RDONLY, 0])).toBe(E.EFAULT);
  });

  it('permissions: a non-root process cannot read a 0600 file or write a 0644 one', () => {
    const { k } = boot();
    const p = k.createProcess(k.init, 'user', { uid: 1001, gid: 1001, euid: 1001, egid: 1001 });
    const t = p.threads[0]!;
    expect(errno(k, t, 'open', ['/etc/secret', O.RDONLY, 0])).toBe(E.EACCES);
    expect(errno(k, t, 'open', ['/etc/motd', O.WRONLY, 0])).toBe(E.EACCES);
    expect(errno(k, t, 'open', ['/etc/motd', O.RDONLY | O.TRUNC, 0])).toBe(E.EACCES); // O_TRUNC needs VWRITE
    expect(k.syscall(t, 'open', ['/etc/motd', O.RDONLY, 0]).value).toBe(0);
    // /tmp is 1777: anyone creates there; the file is the creator's (mode & ~022).
    const fd = k.syscall(t, 'open', ['/tmp/mine', O.RDWR | O.CREAT, 0o666]).value;
    expect(fd).toBe(1);
  });

  it('fstat fills struct stat at FreeBSD\'s amd64 offsets', () => {
    const { k, t, buf } = boot();
    const fd = k.syscall(t, 'open', ['/etc/motd', O.RDONLY, 0]).value;
    expect(k.syscall(t, 'fstat', [fd, buf]).value).toBe(0);
    const b = k.copyFromUser(t, buf, STAT_SIZE);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    expect(dv.getUint16(24, true)).toBe(0o100755);
    expect(Number(dv.getBigInt64(112, true))).toBe(MOTD.length);
    expect(Number(dv.getBigUint64(8, true))).toBeGreaterThan(0);
    expect(errno(k, t, 'fstat', [fd, 0])).toBe(E.EFAULT);
    expect(errno(k, t, 'fstat', [9, buf])).toBe(E.EBADF);
  });

  it('/dev/zero clears the buffer, /dev/null reads nothing and takes every write', () => {
    const { k, t, buf } = boot();
    k.copyToUser(t, buf, new Uint8Array(64).fill(7));
    const z = k.syscall(t, 'open', ['/dev/zero', O.RDONLY, 0]).value;
    const n = k.syscall(t, 'open', ['/dev/null', O.RDWR | O.CREAT | O.TRUNC, 0o666]).value;
    expect(k.syscall(t, 'read', [z, buf, 64]).value).toBe(64);
    expect([...k.copyFromUser(t, buf, 64)].every((x) => x === 0)).toBe(true);
    expect(k.syscall(t, 'lseek', [z, 0, SEEK.CUR]).value).toBe(64);
    expect(k.syscall(t, 'read', [n, buf, 64]).value).toBe(0);
    expect(k.syscall(t, 'write', [n, buf, 10 * 1024 * 1024]).value).toBe(10 * 1024 * 1024);
    expect(errno(k, t, 'read', [z, 0x10, 8])).toBe(E.EFAULT);
  });
});

describe('descriptors: dup, dup2, fcntl, fork, pipe2', () => {
  it('dup shares the file offset; dup2 replaces; the errnos are kern_dup\'s', () => {
    const { k, t, buf } = boot();
    const fd = k.syscall(t, 'open', ['/etc/motd', O.RDONLY, 0]).value;
    const d = k.syscall(t, 'dup', [fd]).value;
    expect(d).toBe(1);
    k.syscall(t, 'read', [fd, buf, 8]);
    expect(k.syscall(t, 'lseek', [d, 0, SEEK.CUR]).value).toBe(8);
    expect(k.syscall(t, 'dup2', [fd, 5]).value).toBe(5);
    expect(k.syscall(t, 'dup2', [fd, fd]).value).toBe(fd);
    expect(errno(k, t, 'dup2', [fd, -1])).toBe(E.EBADF);
    expect(errno(k, t, 'dup2', [9, 3])).toBe(E.EBADF);
    expect(errno(k, t, 'fcntl', [fd, F.DUPFD, -1])).toBe(E.EINVAL);
    expect(k.syscall(t, 'fcntl', [fd, F.DUPFD, 10]).value).toBe(10);
    expect(errno(k, t, 'fcntl', [fd, 99, 0])).toBe(E.EINVAL);
    // Closing one descriptor leaves the file open through the others.
    k.syscall(t, 'close', [fd]);
    expect(k.syscall(t, 'read', [d, buf, 4]).value).toBe(4);
  });

  it('fcntl: FD_CLOEXEC per descriptor, status flags per file', () => {
    const { k, t } = boot();
    const fd = k.syscall(t, 'open', ['/tmp/f', O.RDWR | O.CREAT | O.CLOEXEC, 0o644]).value;
    expect(k.syscall(t, 'fcntl', [fd, F.GETFD, 0]).value).toBe(FD_CLOEXEC);
    const d = k.syscall(t, 'dup', [fd]).value;
    expect(k.syscall(t, 'fcntl', [d, F.GETFD, 0]).value).toBe(0);
    expect(k.syscall(t, 'fcntl', [fd, F.GETFL, 0]).value).toBe(O.RDWR);
    expect(k.syscall(t, 'fcntl', [fd, F.SETFL, O.APPEND | O.NONBLOCK]).value).toBe(0);
    expect(k.syscall(t, 'fcntl', [d, F.GETFL, 0]).value).toBe(O.RDWR | O.APPEND | O.NONBLOCK);
    expect(k.syscall(t, 'fcntl', [fd, F.SETFD, 0]).value).toBe(0);
    expect(k.syscall(t, 'fcntl', [fd, F.GETFD, 0]).value).toBe(0);
  });

  it('fork shares struct file: the child\'s read moves the parent\'s offset', () => {
    const { k, p, t, buf } = boot();
    const fd = k.syscall(t, 'open', ['/etc/motd', O.RDONLY, 0]).value;
    const pid = k.syscall(t, 'fork').value;
    const ct = k.processes.get(pid)!.threads[0]!;
    expect(k.syscall(ct, 'read', [fd, buf, 5]).value).toBe(5);
    expect(k.syscall(t, 'lseek', [fd, 0, SEEK.CUR]).value).toBe(5);
    // The child's close does not close the parent's descriptor.
    k.syscall(ct, 'close', [fd]);
    expect(k.syscall(t, 'read', [fd, buf, 5]).value).toBe(5);
    expect(p.files[fd]).not.toBeNull();
  });

  it('pipe2: bytes go through; EAGAIN when empty and non-blocking; 0 at EOF; EPIPE and SIGPIPE', () => {
    const { k, p, t, buf } = boot();
    expect(errno(k, t, 'pipe2', [buf, 0x8])).toBe(E.EINVAL);
    expect(errno(k, t, 'pipe2', [0x10, 0])).toBe(E.EFAULT);
    expect(p.files.filter((f) => f !== null)).toHaveLength(0); // closed again after the fault
    expect(k.syscall(t, 'pipe2', [buf, O.NONBLOCK]).value).toBe(0);
    const dv = new DataView(k.copyFromUser(t, buf, 8).buffer);
    const [r, w] = [dv.getInt32(0, true), dv.getInt32(4, true)];
    expect([r, w]).toEqual([0, 1]);
    expect(errno(k, t, 'read', [r, buf + 64, 10])).toBe(E.EAGAIN);
    k.copyToUser(t, buf + 128, new TextEncoder().encode('hello'));
    expect(k.syscall(t, 'write', [w, buf + 128, 5]).value).toBe(5);
    expect(errno(k, t, 'lseek', [r, 0, SEEK.SET])).toBe(E.ESPIPE);
    expect(errno(k, t, 'pwrite', [w, buf, 1, 0])).toBe(E.ESPIPE);
    expect(k.syscall(t, 'read', [r, buf + 64, 10]).value).toBe(5);
    expect(text(k, t, buf + 64, 5)).toBe('hello');
    k.syscall(t, 'close', [w]);
    expect(k.syscall(t, 'read', [r, buf + 64, 10]).value).toBe(0);
    // A writer without readers: EPIPE, and SIGPIPE's default action ends the process.
    k.syscall(t, 'pipe2', [buf, 0]);
    const dv2 = new DataView(k.copyFromUser(t, buf, 8).buffer);
    k.syscall(t, 'close', [dv2.getInt32(0, true)]);
    expect(errno(k, t, 'write', [dv2.getInt32(4, true), buf, 1])).toBe(E.EPIPE);
    expect(p.killedBy).toBe('SIGPIPE');
  });

  it('a blocking read of an empty pipe sleeps until the writer writes', () => {
    const { k, t, buf } = boot();
    k.syscall(t, 'pipe2', [buf, 0]);
    const pid = k.syscall(t, 'fork').value;
    const ct = k.processes.get(pid)!.threads[0]!;
    const r = k.syscall(t, 'read', [0, buf + 64, 16]);
    expect(r.blocked).toBe(true);
    expect(t.state).toBe('blocked');
    k.copyToUser(ct, buf + 256, Uint8Array.of(1, 2, 3));
    expect(k.syscall(ct, 'write', [1, buf + 256, 3]).value).toBe(3);
    expect(t.state).toBe('runnable');
    expect(k.resume(t).value).toBe(3);
    expect([...k.copyFromUser(t, buf + 64, 3)]).toEqual([1, 2, 3]);
  });

  it('a blocking write larger than the pipe sleeps until a reader makes room, then finishes', () => {
    const k = new Kernel(freebsdPersonality({ fs: memoryFileSystem(files()) }), { frames: 4096, seed: 5, contents: true });
    const p = k.createProcess(k.init, 'w');
    const t = p.threads[0]!;
    const big = k.syscall(t, 'mmap', [0, 48 * PAGE_SIZE, 3, MAP_PRIVATE | MAP_ANON, -1, 0]).value;
    k.copyToUser(t, big + 70000, Uint8Array.of(0xee));
    k.syscall(t, 'pipe2', [big, 0]);
    const ct = k.processes.get(k.syscall(t, 'fork').value)!.threads[0]!;
    const r = k.syscall(t, 'write', [1, big, 100000]);
    expect(r.blocked).toBe(true);
    expect(k.syscall(ct, 'read', [0, big + 110000, 65536]).value).toBe(65536);
    expect(t.state).toBe('runnable');
    expect(k.resume(t).value).toBe(100000);
    // The rest, 34,464 bytes, is in the pipe; its byte 70000 - 65536 is the marker.
    expect(k.syscall(ct, 'read', [0, big + 110000, 65536]).value).toBe(100000 - 65536);
    expect(k.copyFromUser(ct, big + 110000 + 70000 - 65536, 1)[0]).toBe(0xee);
    // O_NONBLOCK: what fits, then EAGAIN; a PIPE_BUF-sized write goes in whole or not at all.
    k.syscall(t, 'pipe2', [big, O.NONBLOCK]);
    const w = new DataView(k.copyFromUser(t, big, 8).buffer).getInt32(4, true);
    expect(k.syscall(t, 'write', [w, big, 65536 - 100]).value).toBe(65536 - 100);
    expect(errno(k, t, 'write', [w, big, 200])).toBe(E.EAGAIN);
    expect(k.syscall(t, 'write', [w, big, 1000]).value).toBe(100);
  });

  it('exit closes every descriptor (fdescfree)', () => {
    const { k, p, t } = boot();
    k.syscall(t, 'open', ['/etc/motd', O.RDONLY | O.CLOEXEC, 0]);
    k.syscall(t, 'exit', [0]);
    expect(p.files.every((f) => f === null)).toBe(true);
  });
});
