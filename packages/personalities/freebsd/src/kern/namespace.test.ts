/**
 * The name-space calls over the copy-on-write overlay: chdir, fchdir, __getcwd, unlink, unlinkat,
 * rename, renameat, mkdir, mkdirat, rmdir — FreeBSD 14's numbers, errnos and check order (namei in
 * vfs_lookup.c, kern_* in vfs_syscalls.c, vfs_cache.c) — the working directory across fork, rfork
 * and execve, an unlinked file living on while open or mapped, and the file system's bytes and
 * names never changing.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FREEBSD_ERRNO } from '@polykernel/core';
import { Kernel, memoryFileSystem, S_IFDIR, S_IFREG, type FileLookup, type FsFile, type Process, type SyscallArg, type Thread, type ViewRow } from '@polykernel/kernel';
import { ACCESS_READ } from '@polykernel/mmu';
import type { VmObject } from '@polykernel/vm';
import { describe, expect, it } from 'vitest';
import type { FreebsdMachine, FreebsdSpace } from '../machine.js';
import { MAP_ANON, MAP_PRIVATE, MAP_SHARED, PAGE_SIZE, RFCFDG, RFFDG, RFPROC } from '../param.js';
import { freebsdPersonality } from '../personality.js';
import { O } from './kern_descrip.js';
import { AT_FDCWD, AT_REMOVEDIR, STAT_SIZE } from './vfs_syscalls.js';
import { vnodeCounts } from './vfs_vnode.js';

type K = Kernel<FreebsdSpace, FreebsdMachine>;
const E = FREEBSD_ERRNO;
const MOTD = new TextEncoder().encode('FreeBSD 14.1-RELEASE\n');
const USER = { uid: 1001, gid: 1001, euid: 1001, egid: 1001 };
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(fileURLToPath(new URL(`../../../../formats/elf/test/fixtures/${name}`, import.meta.url))));

function file(path: string, bytes: Uint8Array, mode: number, ino: number): FsFile {
  return { path, bytes, dev: [0, 1], ino, mode };
}

function files(): Record<string, Uint8Array | FsFile> {
  return {
    '/etc/motd': MOTD,
    '/etc/rc.conf': file('/etc/rc.conf', new TextEncoder().encode('sshd_enable="YES"\n'), S_IFREG | 0o644, 80),
    '/etc/private': file('/etc/private', new Uint8Array(0), S_IFDIR | 0o700, 81),
    '/usr/share/doc/README': file('/usr/share/doc/README', Uint8Array.of(1, 2, 3), S_IFREG | 0o644, 82),
    '/usr/bin/empty': file('/usr/bin/empty', new Uint8Array(0), S_IFREG | 0o755, 83),
    '/usr/bin/rootonly': file('/usr/bin/rootonly', Uint8Array.of(0x7f), S_IFREG | 0o700, 84),
    '/tmp': file('/tmp', new Uint8Array(0), S_IFDIR | 0o1777, 85),
  };
}

function boot(extra: Record<string, Uint8Array | FsFile> = {}): { k: K; fs: FileLookup; p: Process<FreebsdSpace>; t: Thread; buf: number } {
  const fs = memoryFileSystem({ ...files(), ...extra });
  const k = new Kernel(freebsdPersonality({ fs }), { frames: 4096, seed: 9, contents: true });
  const p = k.createProcess(k.init, 'sh');
  const t = p.threads[0]!;
  const buf = k.syscall(t, 'mmap', [0, 4 * PAGE_SIZE, 3, MAP_PRIVATE | MAP_ANON, -1, 0]).value;
  return { k, fs, p, t, buf };
}

function user(k: K, buf = true): { p: Process<FreebsdSpace>; t: Thread; buf: number } {
  const p = k.createProcess(k.init, 'user', USER);
  const t = p.threads[0]!;
  return { p, t, buf: buf ? k.syscall(t, 'mmap', [0, PAGE_SIZE, 3, MAP_PRIVATE | MAP_ANON, -1, 0]).value : 0 };
}

function ok(k: K, t: Thread, call: string, args: SyscallArg[]): number {
  const r = k.syscall(t, call, args);
  expect(r.error, `${call}(${args.map(String).join(', ')})`).toBe(null);
  return r.value;
}

function errno(k: K, t: Thread, call: string, args: SyscallArg[]): number {
  const r = k.syscall(t, call, args);
  expect(r.value, `${call}(${args.map(String).join(', ')}) should fail`).toBe(-1);
  return r.errorNumber;
}

function cwd(k: K, t: Thread, buf: number): string {
  ok(k, t, '__getcwd', [buf, 1024]);
  const b = k.copyFromUser(t, buf, 1024);
  return new TextDecoder().decode(b.subarray(0, b.indexOf(0)));
}

function readAll(k: K, t: Thread, path: string, buf: number): string {
  const fd = ok(k, t, 'open', [path, O.RDONLY, 0]);
  const n = ok(k, t, 'read', [fd, buf, 4096]);
  ok(k, t, 'close', [fd]);
  return new TextDecoder().decode(k.copyFromUser(t, buf, n));
}

/** st_nlink and st_mode of an open descriptor. */
function stat(k: K, t: Thread, fd: number, buf: number): { nlink: number; mode: number; ino: number; size: number } {
  ok(k, t, 'fstat', [fd, buf]);
  const dv = new DataView(k.copyFromUser(t, buf, STAT_SIZE).buffer);
  return { ino: Number(dv.getBigUint64(8, true)), nlink: Number(dv.getBigUint64(16, true)), mode: dv.getUint16(24, true), size: Number(dv.getBigInt64(112, true)) };
}

describe('numbers', () => {
  it('come from syscalls.master', () => {
    const { k } = boot();
    const nums = Object.fromEntries(['unlink', 'chdir', 'fchdir', 'rename', 'mkdir', 'rmdir', '__getcwd', 'mkdirat', 'renameat', 'unlinkat'].map((n) => [n, k.callSpec(n)!.number]));
    expect(nums).toEqual({ unlink: 10, chdir: 12, fchdir: 13, rename: 128, mkdir: 136, rmdir: 137, __getcwd: 326, mkdirat: 496, renameat: 501, unlinkat: 503 });
  });
});

describe('the working directory: chdir, fchdir, __getcwd', () => {
  it('starts at /, follows chdir, and relative paths start there', () => {
    const { k, t, buf } = boot();
    expect(cwd(k, t, buf)).toBe('/');
    ok(k, t, 'chdir', ['/etc']);
    expect(cwd(k, t, buf)).toBe('/etc');
    expect(readAll(k, t, 'motd', buf)).toBe('FreeBSD 14.1-RELEASE\n');
    expect(readAll(k, t, './motd', buf)).toBe('FreeBSD 14.1-RELEASE\n');
    expect(readAll(k, t, '../etc/motd', buf)).toBe('FreeBSD 14.1-RELEASE\n');
    ok(k, t, 'chdir', ['../usr//share/./doc/']);
    expect(cwd(k, t, buf)).toBe('/usr/share/doc');
    ok(k, t, 'chdir', ['/../../..']);
    expect(cwd(k, t, buf)).toBe('/');
  });

  it('chdir errnos: ENOENT, ENOTDIR, ENAMETOOLONG (NAME_MAX and PATH_MAX), EACCES, EFAULT', () => {
    const { k, t, buf } = boot();
    expect(errno(k, t, 'chdir', [''])).toBe(E.ENOENT);
    expect(errno(k, t, 'chdir', ['/nope'])).toBe(E.ENOENT);
    expect(errno(k, t, 'chdir', ['/nope/x'])).toBe(E.ENOENT);
    expect(errno(k, t, 'chdir', ['/etc/motd'])).toBe(E.ENOTDIR);
    expect(errno(k, t, 'chdir', ['/etc/motd/'])).toBe(E.ENOTDIR);
    expect(errno(k, t, 'chdir', ['/etc/motd/x'])).toBe(E.ENOTDIR);
    // A name of 256 bytes is too long; 255 is looked up (and missing).
    expect(errno(k, t, 'chdir', [`/tmp/${'a'.repeat(256)}`])).toBe(E.ENAMETOOLONG);
    expect(errno(k, t, 'chdir', [`/tmp/${'a'.repeat(255)}`])).toBe(E.ENOENT);
    // namei looks the first name up before it sees the long one.
    expect(errno(k, t, 'chdir', [`/nope/${'a'.repeat(256)}`])).toBe(E.ENOENT);
    expect(errno(k, t, 'chdir', [`/${'a/'.repeat(512)}`])).toBe(E.ENAMETOOLONG);
    expect(errno(k, t, 'chdir', [0x10])).toBe(E.EFAULT);
    const u = user(k);
    expect(errno(k, u.t, 'chdir', ['/etc/private'])).toBe(E.EACCES);
    expect(errno(k, u.t, 'open', ['/etc/private/x', O.RDONLY, 0])).toBe(E.EACCES);
    ok(k, t, 'chdir', ['/etc/private']);
    expect(cwd(k, t, buf)).toBe('/etc/private');
    expect(cwd(k, u.t, u.buf)).toBe('/');
  });

  it('a path read from user memory works like a string', () => {
    const { k, t, buf } = boot();
    k.copyToUser(t, buf + 2048, new TextEncoder().encode('/usr/share\0'));
    ok(k, t, 'chdir', [buf + 2048]);
    expect(cwd(k, t, buf)).toBe('/usr/share');
  });

  it('__getcwd: EINVAL below 2 bytes, ENOMEM when the path and its NUL do not fit, EFAULT, 0 on success', () => {
    const { k, t, buf } = boot();
    ok(k, t, 'chdir', ['/etc']);
    expect(errno(k, t, '__getcwd', [buf, 0])).toBe(E.EINVAL);
    expect(errno(k, t, '__getcwd', [buf, 1])).toBe(E.EINVAL);
    expect(errno(k, t, '__getcwd', [buf, 4])).toBe(E.ENOMEM);
    expect(k.syscall(t, '__getcwd', [buf, 5]).value).toBe(0);
    expect(k.copyFromUser(t, buf, 5)).toEqual(new TextEncoder().encode('/etc\0'));
    expect(errno(k, t, '__getcwd', [0x10, 64])).toBe(E.EFAULT);
    // buflen is clamped to MAXPATHLEN, not refused.
    expect(k.syscall(t, '__getcwd', [buf, 2 ** 40]).value).toBe(0);
    ok(k, t, 'chdir', ['/']);
    expect(k.syscall(t, '__getcwd', [buf, 2]).value).toBe(0);
    expect(k.copyFromUser(t, buf, 2)).toEqual(Uint8Array.of(0x2f, 0));
  });

  it('fchdir: EBADF, EINVAL for a pipe, ENOTDIR for a file; a directory descriptor works', () => {
    const { k, t, buf } = boot();
    expect(errno(k, t, 'fchdir', [42])).toBe(E.EBADF);
    expect(errno(k, t, 'fchdir', [-1])).toBe(E.EBADF);
    ok(k, t, 'pipe2', [buf, 0]);
    const rfd = new DataView(k.copyFromUser(t, buf, 4).buffer).getInt32(0, true);
    expect(errno(k, t, 'fchdir', [rfd])).toBe(E.EINVAL);
    const f = ok(k, t, 'open', ['/etc/motd', O.RDONLY, 0]);
    expect(errno(k, t, 'fchdir', [f])).toBe(E.ENOTDIR);
    const d = ok(k, t, 'open', ['/usr/share', O.RDONLY | O.DIRECTORY, 0]);
    ok(k, t, 'fchdir', [d]);
    expect(cwd(k, t, buf)).toBe('/usr/share');
    const u = user(k);
    const priv = ok(k, t, 'open', ['/etc/private', O.RDONLY, 0]);
    expect(priv).toBeGreaterThanOrEqual(0);
    expect(errno(k, u.t, 'open', ['/etc/private', O.RDONLY, 0])).toBe(E.EACCES);
  });

  it('openat: relative to the directory descriptor, AT_FDCWD the working directory; EBADF, ENOTDIR; an absolute path ignores the descriptor', () => {
    const { k, t, buf } = boot();
    const d = ok(k, t, 'open', ['/etc', O.RDONLY, 0]);
    const f = ok(k, t, 'openat', [d, 'motd', O.RDONLY, 0]);
    expect(ok(k, t, 'read', [f, buf, 100])).toBe(MOTD.length);
    const file = ok(k, t, 'open', ['/etc/motd', O.RDONLY, 0]);
    expect(errno(k, t, 'openat', [file, 'x', O.RDONLY, 0])).toBe(E.ENOTDIR);
    expect(errno(k, t, 'openat', [77, 'x', O.RDONLY, 0])).toBe(E.EBADF);
    // The empty path is ENOENT before the descriptor is looked at.
    expect(errno(k, t, 'openat', [77, '', O.RDONLY, 0])).toBe(E.ENOENT);
    expect(ok(k, t, 'openat', [77, '/etc/motd', O.RDONLY, 0])).toBeGreaterThan(0);
    ok(k, t, 'chdir', ['/usr/share']);
    expect(ok(k, t, 'openat', [AT_FDCWD, 'doc/README', O.RDONLY, 0])).toBeGreaterThan(0);
    expect(errno(k, t, 'openat', [AT_FDCWD, 'motd', O.RDONLY, 0])).toBe(E.ENOENT);
    // O_CREAT of an existing directory is EISDIR (vn_open_cred), even read-only.
    expect(errno(k, t, 'open', ['/tmp', O.RDONLY | O.CREAT, 0o644])).toBe(E.EISDIR);
    expect(errno(k, t, 'open', ['/tmp/new/', O.RDWR | O.CREAT, 0o644])).toBe(E.ENOENT);
  });

  it('fork copies it, rfork without RFFDG shares it, RFCFDG copies it, execve keeps it', () => {
    const { k, p, t, buf } = boot({ '/bin/prog': fixture('rollup.freebsd-x64.node') });
    ok(k, t, 'chdir', ['/etc']);
    const c = k.processes.get(ok(k, t, 'fork', []))!;
    expect(cwd(k, c.threads[0]!, buf)).toBe('/etc');
    ok(k, c.threads[0]!, 'chdir', ['/tmp']);
    expect(cwd(k, t, buf)).toBe('/etc');
    // RFPROC alone: the child shares the parent's descriptor table and working directory.
    const s = k.processes.get(ok(k, t, 'rfork', [RFPROC]))!;
    ok(k, s.threads[0]!, 'chdir', ['/usr']);
    expect(cwd(k, t, buf)).toBe('/usr');
    const n = k.processes.get(ok(k, t, 'rfork', [RFPROC | RFCFDG]))!;
    ok(k, n.threads[0]!, 'chdir', ['/']);
    expect(cwd(k, t, buf)).toBe('/usr');
    const f = k.processes.get(ok(k, t, 'rfork', [RFPROC | RFFDG]))!;
    ok(k, f.threads[0]!, 'chdir', ['/etc']);
    expect(cwd(k, t, buf)).toBe('/usr');
    // rfork(RFFDG) without RFPROC: the caller stops sharing with the RFPROC child.
    ok(k, t, 'rfork', [RFFDG]);
    ok(k, s.threads[0]!, 'chdir', ['/tmp']);
    expect(cwd(k, t, buf)).toBe('/usr');
    // execve by a relative path from the working directory, which the new image keeps.
    ok(k, t, 'chdir', ['/bin']);
    ok(k, t, 'execve', ['prog', ['prog'], []]);
    const nbuf = k.syscall(t, 'mmap', [0, PAGE_SIZE, 3, MAP_PRIVATE | MAP_ANON, -1, 0]).value;
    expect(cwd(k, t, nbuf)).toBe('/bin');
    expect(p.state).toBe('running');
  });
});

describe('mkdir, mkdirat, rmdir, unlinkat(AT_REMOVEDIR)', () => {
  it('makes a directory with the mode less the umask, owned by its creator; EEXIST, ENOENT, ENOTDIR, EISDIR, EACCES, EOPNOTSUPP', () => {
    const { k, t, buf } = boot();
    ok(k, t, 'mkdir', ['/tmp/d', 0o777]);
    const fd = ok(k, t, 'open', ['/tmp/d', O.RDONLY | O.DIRECTORY, 0]);
    expect(stat(k, t, fd, buf).mode).toBe(S_IFDIR | 0o755);
    expect(errno(k, t, 'mkdir', ['/tmp/d', 0o777])).toBe(E.EEXIST);
    expect(errno(k, t, 'mkdir', ['/etc/motd', 0o777])).toBe(E.EEXIST);
    expect(errno(k, t, 'mkdir', ['/nope/d', 0o777])).toBe(E.ENOENT);
    expect(errno(k, t, 'mkdir', ['/etc/motd/d', 0o777])).toBe(E.ENOTDIR);
    expect(errno(k, t, 'mkdir', ['/', 0o777])).toBe(E.EISDIR);
    expect(errno(k, t, 'mkdir', ['', 0o777])).toBe(E.ENOENT);
    expect(errno(k, t, 'mkdir', ['/dev/newdir', 0o777])).toBe(E.EOPNOTSUPP);
    ok(k, t, 'mkdir', ['/tmp/d/e/', 0o700]); // a trailing slash is fine for a directory
    ok(k, t, 'mkdirat', [fd, 'f', 0o755]);
    ok(k, t, 'chdir', ['/tmp/d/f']);
    expect(cwd(k, t, buf)).toBe('/tmp/d/f');
    const u = user(k);
    // EEXIST comes before the directory's write permission; a missing name needs it (EACCES).
    expect(errno(k, u.t, 'mkdir', ['/etc/motd', 0o777])).toBe(E.EEXIST);
    expect(errno(k, u.t, 'mkdir', ['/etc/newdir', 0o777])).toBe(E.EACCES);
    ok(k, u.t, 'mkdir', ['/tmp/mine', 0o777]);
    const m = ok(k, u.t, 'open', ['/tmp/mine', O.RDONLY, 0]);
    ok(k, u.t, 'fstat', [m, u.buf]);
    expect(new DataView(k.copyFromUser(u.t, u.buf, STAT_SIZE).buffer).getUint32(28, true)).toBe(USER.euid);
  });

  it('rmdir: ENOENT, ENOTDIR, EINVAL for "." and "..", EISDIR for /, ENOTEMPTY, EBUSY for /dev; unlinkat checks its flags first', () => {
    const { k, t } = boot();
    ok(k, t, 'mkdir', ['/tmp/d', 0o755]);
    ok(k, t, 'mkdir', ['/tmp/d/e', 0o755]);
    expect(errno(k, t, 'rmdir', ['/tmp/d'])).toBe(E.ENOTEMPTY);
    expect(errno(k, t, 'rmdir', ['/tmp/d/e/.'])).toBe(E.EINVAL);
    expect(errno(k, t, 'rmdir', ['/tmp/d/e/..'])).toBe(E.EINVAL);
    expect(errno(k, t, 'rmdir', ['/'])).toBe(E.EISDIR);
    expect(errno(k, t, 'rmdir', ['/etc/motd'])).toBe(E.ENOTDIR);
    expect(errno(k, t, 'rmdir', ['/tmp/none'])).toBe(E.ENOENT);
    expect(errno(k, t, 'rmdir', ['/dev'])).toBe(E.EBUSY);
    // A directory of the file system cannot be listed here, so it counts as not empty.
    expect(errno(k, t, 'rmdir', ['/etc/private'])).toBe(E.ENOTEMPTY);
    expect(errno(k, t, 'unlinkat', [AT_FDCWD, '/tmp/d/e', 0x1])).toBe(E.EINVAL);
    ok(k, t, 'unlinkat', [AT_FDCWD, '/tmp/d/e', AT_REMOVEDIR]);
    expect(errno(k, t, 'rmdir', ['/tmp/d/e'])).toBe(E.ENOENT);
    ok(k, t, 'rmdir', ['/tmp/d/']);
    expect(errno(k, t, 'chdir', ['/tmp/d'])).toBe(E.ENOENT);
    // A name made again after rmdir is a new, empty directory.
    ok(k, t, 'mkdir', ['/tmp/d', 0o755]);
    ok(k, t, 'rmdir', ['/tmp/d']);
  });

  it('a removed working directory: __getcwd ENOENT, nothing can be made in it, ".." still names it', () => {
    const { k, t, buf } = boot();
    ok(k, t, 'mkdir', ['/tmp/gone', 0o755]);
    ok(k, t, 'chdir', ['/tmp/gone']);
    ok(k, t, 'rmdir', ['/tmp/gone']);
    expect(errno(k, t, '__getcwd', [buf, 1024])).toBe(E.ENOENT);
    expect(errno(k, t, 'open', ['x', O.RDWR | O.CREAT, 0o644])).toBe(E.ENOENT);
    ok(k, t, 'chdir', ['.']);
    ok(k, t, 'chdir', ['/']);
    expect(cwd(k, t, buf)).toBe('/');
  });
});

describe('unlink and unlinkat', () => {
  it('removes a name: later lookups are ENOENT, the file system is unchanged; EPERM for a directory or ".", EISDIR for /', () => {
    const { k, fs, t, buf } = boot();
    ok(k, t, 'unlink', ['/etc/motd']);
    expect(errno(k, t, 'open', ['/etc/motd', O.RDONLY, 0])).toBe(E.ENOENT);
    expect(errno(k, t, 'unlink', ['/etc/motd'])).toBe(E.ENOENT);
    expect((fs('/etc/motd') as FsFile).bytes).toEqual(MOTD);
    expect(errno(k, t, 'unlink', ['/etc'])).toBe(E.EPERM);
    expect(errno(k, t, 'unlink', ['/etc/.'])).toBe(E.EPERM);
    expect(errno(k, t, 'unlink', ['/'])).toBe(E.EISDIR);
    expect(errno(k, t, 'unlink', ['/etc/rc.conf/'])).toBe(E.ENOTDIR);
    expect(errno(k, t, 'unlink', ['/etc/rc.conf/x'])).toBe(E.ENOTDIR);
    // A new file under the old name is its own.
    const fd = ok(k, t, 'open', ['/etc/motd', O.RDWR | O.CREAT | O.EXCL, 0o644]);
    k.copyToUser(t, buf, new TextEncoder().encode('new'));
    ok(k, t, 'write', [fd, buf, 3]);
    expect(readAll(k, t, '/etc/motd', buf)).toBe('new');
    expect((fs('/etc/motd') as FsFile).bytes).toEqual(MOTD);
    const d = ok(k, t, 'open', ['/usr/share/doc', O.RDONLY, 0]);
    ok(k, t, 'unlinkat', [d, 'README', 0]);
    expect(errno(k, t, 'open', ['/usr/share/doc/README', O.RDONLY, 0])).toBe(E.ENOENT);
  });

  it('EACCES in a directory the caller cannot write; EPERM in a sticky directory for another user\'s file', () => {
    const { k, t } = boot();
    const u = user(k);
    expect(errno(k, u.t, 'unlink', ['/etc/rc.conf'])).toBe(E.EACCES);
    ok(k, t, 'close', [ok(k, t, 'open', ['/tmp/roots', O.RDWR | O.CREAT, 0o666])]);
    expect(errno(k, u.t, 'unlink', ['/tmp/roots'])).toBe(E.EPERM);
    ok(k, u.t, 'close', [ok(k, u.t, 'open', ['/tmp/mine', O.RDWR | O.CREAT, 0o600])]);
    ok(k, u.t, 'unlink', ['/tmp/mine']);
    ok(k, t, 'unlink', ['/tmp/roots']);
  });

  it('an unlinked file stays readable and writable through its descriptor (st_nlink 0), and its vnode goes at the last close', () => {
    const { k, t, buf } = boot();
    const fd = ok(k, t, 'open', ['/etc/rc.conf', O.RDWR, 0]);
    ok(k, t, 'unlink', ['/etc/rc.conf']);
    expect(stat(k, t, fd, buf).nlink).toBe(0);
    k.copyToUser(t, buf, new TextEncoder().encode('ntpd'));
    ok(k, t, 'pwrite', [fd, buf, 4, 0]);
    expect(ok(k, t, 'pread', [fd, buf, 100, 0])).toBe(18);
    expect(new TextDecoder().decode(k.copyFromUser(t, buf, 18))).toBe('ntpd_enable="YES"\n');
    const before = vnodeCounts(k.state).vnodes;
    ok(k, t, 'close', [fd]);
    expect(vnodeCounts(k.state).vnodes).toBe(before - 1);
    expect(errno(k, t, 'open', ['/etc/rc.conf', O.RDONLY, 0])).toBe(E.ENOENT);
  });

  it('an unlinked file stays mapped until munmap, then its OBJT_VNODE object and pages are freed', () => {
    const { k, t } = boot();
    const objects0 = k.vm.liveObjects;
    const free0 = k.mmu.frames.freeFrames;
    const fd = ok(k, t, 'open', ['/etc/motd', O.RDWR, 0]);
    const va = ok(k, t, 'mmap', [0, PAGE_SIZE, 3, MAP_SHARED, fd, 0]);
    ok(k, t, 'close', [fd]);
    ok(k, t, 'unlink', ['/etc/motd']);
    k.access(t, va, ACCESS_READ);
    expect(new TextDecoder().decode(k.copyFromUser(t, va, MOTD.length))).toBe('FreeBSD 14.1-RELEASE\n');
    k.copyToUser(t, va, new TextEncoder().encode('Linux'));
    expect(vnodeCounts(k.state).objects).toBe(1);
    expect(k.vm.liveObjects).toBe(objects0 + 1);
    ok(k, t, 'munmap', [va, PAGE_SIZE]);
    expect(vnodeCounts(k.state).objects).toBe(0);
    expect(k.vm.liveObjects).toBe(objects0);
    expect(k.mmu.frames.freeFrames).toBe(free0);
    expect(errno(k, t, 'open', ['/etc/motd', O.RDONLY, 0])).toBe(E.ENOENT);

  });
});

describe('rename and renameat', () => {
  it('moves a file: the new name reads its bytes, the old is ENOENT, the file system is unchanged', () => {
    const { k, fs, t, buf } = boot();
    ok(k, t, 'rename', ['/etc/motd', '/tmp/motd']);
    expect(readAll(k, t, '/tmp/motd', buf)).toBe('FreeBSD 14.1-RELEASE\n');
    expect(errno(k, t, 'open', ['/etc/motd', O.RDONLY, 0])).toBe(E.ENOENT);
    expect((fs('/etc/motd') as FsFile).bytes).toEqual(MOTD);
    expect(fs('/tmp/motd')).toBe('ENOENT');
    // Onto an existing file: it is replaced; a descriptor on the old one still reads it (st_nlink 0).
    const old = ok(k, t, 'open', ['/etc/rc.conf', O.RDONLY, 0]);
    ok(k, t, 'rename', ['/tmp/motd', '/etc/rc.conf']);
    expect(readAll(k, t, '/etc/rc.conf', buf)).toBe('FreeBSD 14.1-RELEASE\n');
    expect(stat(k, t, old, buf).nlink).toBe(0);
    expect(ok(k, t, 'read', [old, buf, 100])).toBe(18);
    // The same file: nothing to do.
    ok(k, t, 'rename', ['/etc/rc.conf', '/etc/rc.conf']);
    const d = ok(k, t, 'open', ['/etc', O.RDONLY, 0]);
    const tmp = ok(k, t, 'open', ['/tmp', O.RDONLY, 0]);
    ok(k, t, 'renameat', [d, 'rc.conf', tmp, 'rc']);
    expect(readAll(k, t, '/tmp/rc', buf)).toBe('FreeBSD 14.1-RELEASE\n');
  });

  it('errnos: ENOENT, ENOTDIR, EISDIR, EINVAL (".", "..", into itself), ENOTEMPTY, EXDEV, EACCES', () => {
    const { k, t } = boot();
    ok(k, t, 'mkdir', ['/tmp/a', 0o755]);
    ok(k, t, 'mkdir', ['/tmp/a/b', 0o755]);
    ok(k, t, 'mkdir', ['/tmp/empty', 0o755]);
    expect(errno(k, t, 'rename', ['/tmp/none', '/tmp/x'])).toBe(E.ENOENT);
    expect(errno(k, t, 'rename', ['/etc/motd', '/nope/x'])).toBe(E.ENOENT);
    expect(errno(k, t, 'rename', ['/tmp/a', '/etc/motd'])).toBe(E.ENOTDIR);
    expect(errno(k, t, 'rename', ['/etc/motd', '/tmp/a'])).toBe(E.EISDIR);
    expect(errno(k, t, 'rename', ['/etc/motd', '/tmp/new/'])).toBe(E.ENOENT);
    expect(errno(k, t, 'rename', ['/tmp/a/.', '/tmp/c'])).toBe(E.EINVAL);
    expect(errno(k, t, 'rename', ['/tmp/a', '/tmp/empty/..'])).toBe(E.EINVAL);
    expect(errno(k, t, 'rename', ['/tmp/a', '/tmp/a/c'])).toBe(E.EINVAL);
    expect(errno(k, t, 'rename', ['/tmp/a', '/tmp/a/b/c'])).toBe(E.EINVAL);
    expect(errno(k, t, 'rename', ['/tmp/empty', '/tmp/a'])).toBe(E.ENOTEMPTY);
    expect(errno(k, t, 'rename', ['/dev/null', '/tmp/null'])).toBe(E.EXDEV);
    expect(errno(k, t, 'rename', ['/', '/tmp/root'])).toBe(E.EISDIR);
    const u = user(k);
    expect(errno(k, u.t, 'rename', ['/etc/motd', '/tmp/m'])).toBe(E.EACCES);
    // A directory onto an empty one replaces it; a trailing slash names the new directory.
    ok(k, t, 'rename', ['/tmp/a/', '/tmp/empty/']);
    expect(errno(k, t, 'chdir', ['/tmp/a'])).toBe(E.ENOENT);
    ok(k, t, 'chdir', ['/tmp/empty/b']);
  });

  it('a renamed file inside a renamed directory keeps its new name when written (no entry comes back under the old one)', () => {
    const { k, t, buf } = boot();
    ok(k, t, 'mkdir', ['/tmp/x', 0o755]);
    ok(k, t, 'rename', ['/etc/motd', '/tmp/x/m']);
    ok(k, t, 'close', [ok(k, t, 'open', ['/tmp/x/m', O.RDONLY, 0])]);
    ok(k, t, 'rename', ['/tmp/x', '/tmp/y']);
    const fd = ok(k, t, 'open', ['/tmp/y/m', O.RDWR | O.TRUNC, 0]);
    k.copyToUser(t, buf, new TextEncoder().encode('moved'));
    ok(k, t, 'write', [fd, buf, 5]);
    ok(k, t, 'close', [fd]);
    ok(k, t, 'mkdir', ['/tmp/x', 0o755]);
    expect(errno(k, t, 'open', ['/tmp/x/m', O.RDONLY, 0])).toBe(E.ENOENT);
    expect(readAll(k, t, '/tmp/y/m', buf)).toBe('moved');
  });

  it('a directory of the file system moves with everything under it, the working directory and open directories follow', () => {
    const { k, fs, t, buf } = boot();
    ok(k, t, 'chdir', ['/usr/share/doc']);
    const fd = ok(k, t, 'open', ['/usr/share', O.RDONLY, 0]);
    ok(k, t, 'unlink', ['/usr/share/doc/README']);
    ok(k, t, 'rename', ['/usr', '/opt']);
    expect(cwd(k, t, buf)).toBe('/opt/share/doc');
    expect(errno(k, t, 'open', ['/usr/share/doc', O.RDONLY, 0])).toBe(E.ENOENT);
    // The unlinked README stays unlinked under the new name; the other files come through.
    expect(errno(k, t, 'open', ['README', O.RDONLY, 0])).toBe(E.ENOENT);
    expect(ok(k, t, 'open', ['/opt/bin/rootonly', O.RDONLY, 0])).toBeGreaterThan(0);
    ok(k, t, 'fchdir', [fd]);
    expect(cwd(k, t, buf)).toBe('/opt/share');
    // Moving it back restores the file system's view, except what was removed.
    ok(k, t, 'rename', ['/opt', '/usr']);
    expect(ok(k, t, 'open', ['/usr/bin/rootonly', O.RDONLY, 0])).toBeGreaterThan(0);
    expect(errno(k, t, 'open', ['/usr/share/doc/README', O.RDONLY, 0])).toBe(E.ENOENT);
    expect((fs('/usr/share/doc/README') as FsFile).bytes).toEqual(Uint8Array.of(1, 2, 3));
    // A directory made in the overlay is opaque: nothing of a removed name shows through it.
    ok(k, t, 'rename', ['/usr', '/old']);
    ok(k, t, 'mkdir', ['/usr', 0o755]);
    expect(errno(k, t, 'open', ['/usr/bin/rootonly', O.RDONLY, 0])).toBe(E.ENOENT);
  });
});

describe('pipes are bidirectional (sys_pipe.c)', () => {
  function pipe(k: K, t: Thread, buf: number, flags = 0): [number, number] {
    ok(k, t, 'pipe2', [buf, flags]);
    const dv = new DataView(k.copyFromUser(t, buf, 8).buffer);
    return [dv.getInt32(0, true), dv.getInt32(4, true)];
  }

  it('each end reads what the other writes, in both directions; both are O_RDWR', () => {
    const { k, t, buf } = boot();
    const [a, b] = pipe(k, t, buf);
    expect(ok(k, t, 'fcntl', [a, 3, 0]) & 3).toBe(O.RDWR);
    expect(ok(k, t, 'fcntl', [b, 3, 0]) & 3).toBe(O.RDWR);
    k.copyToUser(t, buf, new TextEncoder().encode('ping'));
    expect(ok(k, t, 'write', [a, buf, 4])).toBe(4);
    k.copyToUser(t, buf + 100, new TextEncoder().encode('pong!'));
    expect(ok(k, t, 'write', [b, buf + 100, 5])).toBe(5);
    // st_size: what this end has to read.
    expect(stat(k, t, a, buf + 1024).size).toBe(5);
    expect(stat(k, t, b, buf + 1024).size).toBe(4);
    expect(ok(k, t, 'read', [b, buf + 200, 100])).toBe(4);
    expect(new TextDecoder().decode(k.copyFromUser(t, buf + 200, 4))).toBe('ping');
    expect(ok(k, t, 'read', [a, buf + 200, 100])).toBe(5);
    expect(new TextDecoder().decode(k.copyFromUser(t, buf + 200, 5))).toBe('pong!');
  });

  it('fstat: st_mode S_IFIFO alone, st_nlink 0, an inode number per end', () => {
    const { k, t, buf } = boot();
    const [a, b] = pipe(k, t, buf);
    const sa = stat(k, t, a, buf);
    const sb = stat(k, t, b, buf);
    expect([sa.mode, sa.nlink, sb.mode]).toEqual([0o010000, 0, 0o010000]);
    expect(sa.ino).not.toBe(sb.ino);
    expect(stat(k, t, a, buf).ino).toBe(sa.ino);
  });

  it('EAGAIN with O_NONBLOCK on either end, EOF once the other end closes, EPIPE and SIGPIPE, ESPIPE', () => {
    const { k, p, t, buf } = boot();
    const [a, b] = pipe(k, t, buf, O.NONBLOCK);
    expect(errno(k, t, 'read', [a, buf, 10])).toBe(E.EAGAIN);
    expect(errno(k, t, 'read', [b, buf, 10])).toBe(E.EAGAIN);
    expect(errno(k, t, 'lseek', [a, 0, 0])).toBe(E.ESPIPE);
    expect(errno(k, t, 'pread', [b, buf, 1, 0])).toBe(E.ESPIPE);
    ok(k, t, 'write', [b, buf, 3]);
    ok(k, t, 'close', [b]);
    expect(ok(k, t, 'read', [a, buf, 10])).toBe(3);
    expect(ok(k, t, 'read', [a, buf, 10])).toBe(0);
    // Writing on the end whose peer is closed: EPIPE, and SIGPIPE ends the process.
    expect(errno(k, t, 'write', [a, buf, 1])).toBe(E.EPIPE);
    expect(p.killedBy).toBe('SIGPIPE');
  });

  it('a blocking read on one end sleeps until the other end writes', () => {
    const { k, t, buf } = boot();
    const [a, b] = pipe(k, t, buf);
    const c = k.processes.get(ok(k, t, 'fork', []))!;
    const r = k.syscall(c.threads[0]!, 'read', [b, buf, 10]);
    expect(r.blocked).toBe(true);
    k.copyToUser(t, buf + 512, new TextEncoder().encode('hi'));
    ok(k, t, 'write', [a, buf + 512, 2]);
    expect(c.threads[0]!.state).not.toBe('blocked');
  });
});

describe('execve: exec_check_permissions before the image activators', () => {
  it('EACCES for no execute bit, a directory or a device; ENOEXEC for an empty file and for a file no activator takes', () => {
    const { k, t } = boot({ '/bin/prog': fixture('rollup.freebsd-x64.node') });
    expect(errno(k, t, 'execve', ['/etc/rc.conf', [], []])).toBe(E.EACCES); // 0644
    expect(errno(k, t, 'execve', ['/etc', [], []])).toBe(E.EACCES);
    expect(errno(k, t, 'execve', ['/dev/null', [], []])).toBe(E.EACCES);
    expect(errno(k, t, 'execve', ['/usr/bin/empty', [], []])).toBe(E.ENOEXEC);
    expect(errno(k, t, 'execve', ['/etc/motd', [], []])).toBe(E.ENOEXEC); // 0755 text
    expect(errno(k, t, 'execve', ['/nope', [], []])).toBe(E.ENOENT);
    expect(errno(k, t, 'execve', ['', [], []])).toBe(E.ENOENT);
    expect(errno(k, t, 'execve', ['/etc/motd/', [], []])).toBe(E.ENOTDIR);
    ok(k, t, 'chdir', ['/etc']);
    expect(errno(k, t, 'execve', ['rc.conf', [], []])).toBe(E.EACCES);
    // Another user: the owner-only execute bit is not theirs.
    const u = user(k, false);
    expect(errno(k, u.t, 'execve', ['/usr/bin/rootonly', [], []])).toBe(E.EACCES);
    expect(errno(k, t, 'execve', ['/usr/bin/rootonly', [], []])).toBe(E.ENOEXEC);
  });

  it('ETXTBSY while the file is open for writing; a file made by open(O_CREAT) gets its mode', () => {
    const { k, t, buf } = boot({ '/bin/prog': fixture('rollup.freebsd-x64.node') });
    const w = ok(k, t, 'open', ['/bin/prog', O.WRONLY, 0]);
    expect(errno(k, t, 'execve', ['/bin/prog', [], []])).toBe(E.ETXTBSY);
    ok(k, t, 'close', [w]);
    const c = ok(k, t, 'open', ['/tmp/script', O.RDWR | O.CREAT, 0o644]);
    k.copyToUser(t, buf, new TextEncoder().encode('#!/bin/sh\n'));
    ok(k, t, 'write', [c, buf, 10]);
    ok(k, t, 'close', [c]);
    expect(errno(k, t, 'execve', ['/tmp/script', [], []])).toBe(E.EACCES);
    ok(k, t, 'execve', ['/bin/prog', ['prog'], []]);
  });
});

describe('ETXTBSY: a running program or interpreter cannot be opened for writing (vn_writechk, VOP_IS_TEXT)', () => {
  /** A process running `path` (a fresh process that execs it). */
  function running(k: K, path: string): Process<FreebsdSpace> {
    const c = k.createProcess(k.init, 'c');
    ok(k, c.threads[0]!, 'execve', [path, [path], []]);
    return c;
  }
  /** The path of the vnode object at the bottom of an entry's chain. */
  const vnodePathOf = (o: VmObject): string => {
    let b = o;
    while (b.backing !== null) b = b.backing;
    return b.type === 'vnode' ? b.name : '';
  };
  const prog = (): Record<string, FsFile> => ({
    '/bin/prog': file('/bin/prog', fixture('rollup.freebsd-x64.node'), S_IFREG | 0o755, 90),
    '/bin/other': file('/bin/other', fixture('rollup.freebsd-x64.node'), S_IFREG | 0o755, 91),
  });

  it('O_WRONLY, O_RDWR and O_RDONLY|O_TRUNC are ETXTBSY while a process runs it, before the permission check; reading is allowed', () => {
    const { k, t } = boot(prog());
    running(k, '/bin/prog');
    expect(errno(k, t, 'open', ['/bin/prog', O.WRONLY, 0])).toBe(E.ETXTBSY);
    expect(errno(k, t, 'open', ['/bin/prog', O.RDWR, 0])).toBe(E.ETXTBSY);
    expect(errno(k, t, 'open', ['/bin/prog', O.RDONLY | O.TRUNC, 0])).toBe(E.ETXTBSY);
    // O_CREAT on an existing file is an open of it (vn_open_cred drops O_CREAT).
    expect(errno(k, t, 'openat', [AT_FDCWD, '/bin/prog', O.WRONLY | O.CREAT, 0o644])).toBe(E.ETXTBSY);
    // vn_writechk comes before VOP_ACCESS: a user who may not write it gets ETXTBSY too.
    const u = user(k, false);
    expect(errno(k, u.t, 'open', ['/bin/prog', O.WRONLY, 0])).toBe(E.ETXTBSY);
    ok(k, t, 'close', [ok(k, t, 'open', ['/bin/prog', O.RDONLY, 0])]);
    // Not running: another file of the same contents is writable.
    ok(k, t, 'close', [ok(k, t, 'open', ['/bin/other', O.WRONLY, 0])]);
  });

  it('the mark goes with the last text mapping: a forked child keeps it after its parent exits, exec of another image drops it', () => {
    const { k, t } = boot(prog());
    const c = running(k, '/bin/prog');
    const child = k.processes.get(ok(k, c.threads[0]!, 'fork', []))!;
    k.syscall(c.threads[0]!, 'exit', [0]);
    expect(c.state).not.toBe('running');
    // vmspace_fork copied the MAP_ENTRY_VN_EXEC entries (each a text reference of its own).
    expect(errno(k, t, 'open', ['/bin/prog', O.WRONLY, 0])).toBe(E.ETXTBSY);
    ok(k, child.threads[0]!, 'execve', ['/bin/other', ['other'], []]);
    ok(k, t, 'close', [ok(k, t, 'open', ['/bin/prog', O.WRONLY, 0])]);
    expect(errno(k, t, 'open', ['/bin/other', O.RDWR, 0])).toBe(E.ETXTBSY);
    k.syscall(child.threads[0]!, 'exit', [0]);
    ok(k, t, 'close', [ok(k, t, 'open', ['/bin/other', O.RDWR | O.TRUNC, 0])]);
  });

  it('munmap of every text mapping drops the mark (vm_map_entry_delete → VOP_UNSET_TEXT); a part left keeps it', () => {
    const { k, t } = boot(prog());
    const c = running(k, '/bin/prog');
    const ranges = [...c.space.map.entries()].filter((e) => e.object !== null && vnodePathOf(e.object) === '/bin/prog').map((e) => [e.start, e.end] as const);
    expect(ranges.length).toBeGreaterThan(1);
    for (const [s, e] of ranges.slice(1)) ok(k, c.threads[0]!, 'munmap', [s, e - s]);
    expect(errno(k, t, 'open', ['/bin/prog', O.WRONLY, 0])).toBe(E.ETXTBSY);
    // One page of the first mapping left (the clipped entry keeps MAP_ENTRY_VN_EXEC).
    const [s0, e0] = ranges[0]!;
    if (e0 - s0 > PAGE_SIZE) {
      ok(k, c.threads[0]!, 'munmap', [s0 + PAGE_SIZE, e0 - s0 - PAGE_SIZE]);
      expect(errno(k, t, 'open', ['/bin/prog', O.WRONLY, 0])).toBe(E.ETXTBSY);
    }
    ok(k, c.threads[0]!, 'munmap', [s0, PAGE_SIZE]);
    ok(k, t, 'close', [ok(k, t, 'open', ['/bin/prog', O.WRONLY, 0])]);
  });

  it('the interpreter is text too (__elfN(load_file) maps it the same way)', () => {
    // A dynamically linked PIE, branded FreeBSD (EI_OSABI 9), whose PT_INTERP names a loadable image.
    const exe = fixture('hello-pie-x86_64.elf').slice();
    exe[7] = 9;
    const { k, t } = boot({
      '/bin/hello': file('/bin/hello', exe, S_IFREG | 0o755, 92),
      '/lib64/ld-linux-x86-64.so.2': file('/lib64/ld-linux-x86-64.so.2', fixture('rollup.freebsd-x64.node'), S_IFREG | 0o755, 93),
    });
    const c = running(k, '/bin/hello');
    expect(errno(k, t, 'open', ['/lib64/ld-linux-x86-64.so.2', O.WRONLY, 0])).toBe(E.ETXTBSY);
    expect(errno(k, t, 'open', ['/bin/hello', O.WRONLY, 0])).toBe(E.ETXTBSY);
    k.syscall(c.threads[0]!, 'exit', [0]);
    ok(k, t, 'close', [ok(k, t, 'open', ['/lib64/ld-linux-x86-64.so.2', O.WRONLY, 0])]);
  });
});

describe('procstat -v PATH of a mapped file: vn_fullpath of its vnode (kern_proc_vmmap_out)', () => {
  it('follows a rename, and is empty once the file is unlinked (text and --json)', () => {
    const { k, p, t, buf } = boot();
    const fd = ok(k, t, 'open', ['/tmp/data', O.RDWR | O.CREAT, 0o644]);
    k.copyToUser(t, buf, new TextEncoder().encode('hello'));
    ok(k, t, 'write', [fd, buf, 5]);
    const va = ok(k, t, 'mmap', [0, PAGE_SIZE, 1, MAP_SHARED, fd, 0]);
    ok(k, t, 'close', [fd]);
    const view = k.personality.views.find((v) => v.name === 'procstat-v')!;
    const line = (): string => view.render(k, p).split('\n').find((l) => l.trim().split(/ +/)[1] === `0x${va.toString(16)}`)!;
    const row = (): ViewRow => view.rows!(k, p).find((r) => r.kve_start === `0x${va.toString(16)}`)!;
    expect(line().endsWith(' vn /tmp/data')).toBe(true);
    ok(k, t, 'rename', ['/tmp/data', '/tmp/moved']);
    expect(line().endsWith(' vn /tmp/moved')).toBe(true);
    expect(row().kve_path).toBe('/tmp/moved');
    ok(k, t, 'unlink', ['/tmp/moved']);
    // procstat_vm.c prints "%-2s %-s\n" with an empty kve_path: the line ends "vn ".
    expect(line().endsWith(' vn ')).toBe(true);
    expect(row()).toMatchObject({ kve_type: 'vnode', kve_path: '' });
    // The mapping still reads the file's bytes.
    expect(new TextDecoder().decode(k.copyFromUser(t, va, 5))).toBe('hello');
  });
});

describe('a machine whose file system lists no root directory', () => {
  it('still has one (rootvnode): a process starts with / as its cwd, and a file made there is found', () => {
    // A host sysroot that does not exist: every lookup, "/" included, is ENOENT.
    const k = new Kernel(freebsdPersonality({ fs: () => 'ENOENT' }), { frames: 1024, seed: 1, contents: true });
    const p = k.createProcess(k.init, 'sh');
    const t = p.threads[0]!;
    const buf = ok(k, t, 'mmap', [0, PAGE_SIZE, 3, MAP_PRIVATE | MAP_ANON, -1, 0]);
    expect(cwd(k, t, buf)).toBe('/');
    expect(errno(k, t, 'open', ['/etc/motd', O.RDONLY, 0])).toBe(E.ENOENT);
    const fd = ok(k, t, 'open', ['/note', O.RDWR | O.CREAT, 0o644]);
    k.copyToUser(t, buf, new TextEncoder().encode('hi'));
    ok(k, t, 'write', [fd, buf, 2]);
    ok(k, t, 'close', [fd]);
    expect(readAll(k, t, '/note', buf)).toBe('hi');
    // fork copies the working directory (pwd_fork).
    const c = k.processes.get(ok(k, t, 'fork', []))!;
    expect(cwd(k, c.threads[0]!, buf)).toBe('/');
  });
});
