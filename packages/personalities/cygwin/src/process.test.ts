import { describe, expect, it } from 'vitest';
import { memoryFileSystem } from '@polykernel/kernel';
import { FD_CLOEXEC, F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, O_APPEND, O_CLOEXEC, O_CREAT, O_EXCL, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, OPEN_MAX, SEEK_CUR, SEEK_END, SEEK_SET } from './fdtab.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE, WNOHANG } from './posix.js';
import { bootCygwin, on, type Cyg } from './testkit.js';
import { fdRows } from './views.js';

function child(c: Cyg, pid: number): Cyg {
  return on(c.k, c.k.processes.get(c.k.state.cygwin.byPid.get(pid)!.winpid)!);
}
const fds = (c: Cyg): string[] => fdRows(c.k, c.p).map((r) => `${String(r.fd)}:${String(r.path)}${r.cloexec === true ? ':cloexec' : ''}`);
const view = (c: Cyg, name: string): string => c.k.personality.views.find((v) => v.name === name)!.render(c.k, c.p);

describe('the fd table (dtable.cc)', () => {
  it('a program started from Windows has the console on 0, 1, 2; open takes the lowest free fd; close frees it', () => {
    const c = bootCygwin();
    expect(fds(c)).toEqual(['0:/dev/cons0', '1:/dev/cons0', '2:/dev/cons0']);
    expect(c.call('open', '/dev/null', O_RDWR, 0).value).toBe(3);
    expect(c.call('open', '/usr/bin/true.exe', O_RDONLY, 0).value).toBe(4);
    expect(c.call('close', 3).value).toBe(0);
    expect(c.call('open', '/dev/zero', O_RDONLY, 0).value).toBe(3);
    expect(c.call('close', 3).value).toBe(0);
    expect(c.call('close', 3)).toMatchObject({ value: -1, error: 'EBADF', errorNumber: 9 });
    expect(c.call('open', '/nonexistent', O_RDONLY, 0).error).toBe('ENOENT');
    expect(c.call('open', '/usr/bin/true.exe', O_WRONLY + O_CREAT + O_EXCL, 0).error).toBe('EEXIST');
    expect(c.call('open', '/usr/bin', O_WRONLY, 0).error).toBe('EISDIR');
    expect(c.call('open', '/tmp/new', O_CREAT + O_RDWR, 0o644).error).toBe('ENOENT'); // no /tmp folder
    // O_CREAT makes the file in the machine's copy (CreateFileW OPEN_ALWAYS), O_TRUNC empties it; the sysroot stays as it was.
    const made = c.call('open', '/usr/bin/new', O_CREAT + O_RDWR, 0o644).value;
    expect(c.call('lseek', made, 0, SEEK_END).value).toBe(0);
    expect(c.call('open', '/usr/bin/new', O_CREAT + O_EXCL + O_RDWR, 0o644).error).toBe('EEXIST');
    const cut = c.call('open', '/usr/bin/true.exe', O_WRONLY + O_TRUNC, 0).value;
    expect(c.call('lseek', cut, 0, SEEK_END).value).toBe(0);
    expect(c.k.state.fs('/usr/bin/new')).toBe('ENOENT');
    // A file over 1 GiB (the sysroot read only its head) cannot be simulated: EFBIG, as on the Linux personality.
    const big = bootCygwin({ fs: (path) => (path === '/data/big.bin' ? { path, bytes: new Uint8Array(4096), dev: [0, 1], ino: 9, mode: 0o100644, partial: { size: 100 * 1024 ** 3 } } : 'ENOENT') });
    expect(big.call('open', '/data/big.bin', O_RDONLY, 0).error).toBe('EFBIG');
  });

  it('read and write move bytes through the caller\'s memory; dup shares the file position', () => {
    const c = bootCygwin();
    const buf = c.call('mmap', 0, 0x10000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0).value;
    const fd = c.call('open', '/usr/bin/true.exe', O_RDONLY, 0).value;
    expect(c.call('read', fd, buf, 2).value).toBe(2);
    expect([...c.k.copyFromUser(c.t, buf, 2)]).toEqual([0x4d, 0x5a]); // "MZ"
    const d = c.call('dup', fd).value;
    expect(d).toBe(fd + 1);
    expect(c.call('read', d, buf, 2).value).toBe(2);
    const file = c.k.state.fs('/usr/bin/true.exe');
    if (typeof file === 'string') throw new Error(file);
    expect([...c.k.copyFromUser(c.t, buf, 2)]).toEqual([...file.bytes.subarray(2, 4)]);
    expect(c.call('read', fd, 0x1000, 4)).toMatchObject({ value: -1, error: 'EFAULT' });
    expect(c.call('write', fd, buf, 4).error).toBe('EBADF');
    expect(c.call('write', 1, buf, 100).value).toBe(100);
    expect(c.call('read', 0, buf, 100).value).toBe(0);
    const z = c.call('open', '/dev/zero', O_RDONLY, 0).value;
    expect(c.call('read', z, buf, 4096).value).toBe(4096);
    expect([...c.k.copyFromUser(c.t, buf, 4)]).toEqual([0, 0, 0, 0]);
  });

  it('/dev/null and /dev/zero are Cygwin\'s own devices: a write takes the count without reading the buffer (fhandler_dev_null::write, fhandler_dev_zero::write)', () => {
    const c = bootCygwin();
    // A 1 MiB buffer never touched: writing it to a device faults none of its pages in.
    const buf = c.call('mmap', 0, 0x100000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0).value;
    const faults = c.k.metrics.snapshot().traps.pageFault;
    for (const path of ['/dev/null', '/dev/zero']) {
      const fd = c.call('open', path, O_RDWR, 0).value;
      expect(c.call('write', fd, buf, 0x100000).value).toBe(0x100000);
      expect(c.call('close', fd).value).toBe(0);
    }
    expect(c.k.metrics.snapshot().traps.pageFault).toBe(faults);
    // No Windows file was made for them (Cygwin's fhandlers, not CreateFileW of the path).
    expect([...c.k.state.fileNodes.keys()]).toEqual([]);
    const n = c.call('open', '/dev/null', O_RDWR, 0).value;
    expect(c.call('read', n, buf, 4096).value).toBe(0);
    // fhandler_base::mmap: /dev/null has no mmap of its own (ENODEV).
    expect(c.call('mmap', 0, 4096, PROT_READ, MAP_PRIVATE, n, 0).error).toBe('ENODEV');
  });

  it('dup2, F_DUPFD, FD_CLOEXEC and the limits', () => {
    const c = bootCygwin();
    const n = c.call('open', '/dev/null', O_RDWR + O_CLOEXEC, 0).value;
    expect(c.call('fcntl', n, F_GETFD, 0).value).toBe(FD_CLOEXEC);
    // dup and dup2 clear FD_CLOEXEC on the new fd; F_DUPFD_CLOEXEC sets it.
    expect(c.call('dup2', n, 10).value).toBe(10);
    expect(c.call('fcntl', 10, F_GETFD, 0).value).toBe(0);
    expect(c.call('fcntl', n, F_DUPFD, 5).value).toBe(5);
    const e = c.call('fcntl', n, F_DUPFD_CLOEXEC, 5).value;
    expect(e).toBe(6);
    expect(c.call('fcntl', e, F_GETFD, 0).value).toBe(FD_CLOEXEC);
    expect(c.call('fcntl', 10, F_SETFD, FD_CLOEXEC).value).toBe(0);
    expect(c.call('fcntl', 10, F_GETFD, 0).value).toBe(FD_CLOEXEC);
    expect(c.call('dup2', n, n).value).toBe(n);
    expect(c.call('dup2', n, OPEN_MAX).error).toBe('EBADF');
    expect(c.call('dup2', 99, 4).error).toBe('EBADF');
    expect(c.call('fcntl', n, 99, 0).error).toBe('EINVAL');
  });

  it('fork copies the table (the same open files); spawn and exec drop the close-on-exec fds', () => {
    const c = bootCygwin();
    c.call('open', '/dev/null', O_RDWR, 0);
    c.call('open', '/dev/zero', O_RDONLY + O_CLOEXEC, 0);
    const pid = c.call('fork').value;
    const ch = child(c, pid);
    expect(fds(ch)).toEqual(fds(c));
    expect(fds(ch)).toContain('4:/dev/zero:cloexec');
    expect(ch.call('close', 3).value).toBe(0);
    expect(fds(c)).toContain('3:/dev/null');
    const spid = c.call('spawnve', 1, '/usr/bin/true.exe', ['true', '-x'], ['A=1']).value;
    expect(fds(child(c, spid))).toEqual(['0:/dev/cons0', '1:/dev/cons0', '2:/dev/cons0', '3:/dev/null']);
    expect(ch.call('execve', '/usr/bin/true.exe', ['true'], ['B=2']).value).toBe(0);
    const after = child(c, pid);
    expect(after.p).not.toBe(ch.p);
    expect(fds(after)).toEqual(['0:/dev/cons0', '1:/dev/cons0', '2:/dev/cons0']);
  });
});

describe('fds over Windows handles (fhandler_base::open, fork_fixup, WriteFile)', () => {
  const NOTES = new TextEncoder().encode('0123456789abcdef');
  const boot = (): Cyg => bootCygwin({ fs: memoryFileSystem({ '/home/u/notes.txt': NOTES }) });
  const handleOf = (c: Cyg, fd: number): number => c.k.state.cygwin.byWinpid.get(c.p.pid)!.fds[fd]!.handle!;
  const fileObj = (c: Cyg, h: number) => {
    const o = c.p.space.handles.get(h);
    if (o?.kind !== 'file') throw new Error(`handle ${String(h)} is not a file`);
    return o.file;
  };
  const inheritable = (c: Cyg, h: number): boolean => c.p.space.inheritable.has(h);

  it('open makes a CreateFileW handle, inheritable unless O_CLOEXEC; F_SETFD flips it; close closes it', () => {
    const c = boot();
    const a = c.call('open', '/home/u/notes.txt', O_RDONLY, 0).value;
    const b = c.call('open', '/home/u/notes.txt', O_RDONLY + O_CLOEXEC, 0).value;
    const [ha, hb] = [handleOf(c, a), handleOf(c, b)];
    expect(fileObj(c, ha).path).toBe('/home/u/notes.txt');
    expect(inheritable(c, ha)).toBe(true);
    expect(inheritable(c, hb)).toBe(false);
    expect(c.call('fcntl', a, F_SETFD, FD_CLOEXEC).value).toBe(0);
    expect(inheritable(c, ha)).toBe(false);
    expect(c.call('close', a).value).toBe(0);
    expect(c.p.space.handles.has(ha)).toBe(false);
  });

  it('write goes through WriteFile to the machine\'s copy of the file; lseek, O_APPEND, dup sharing the offset', () => {
    const c = boot();
    const buf = c.call('mmap', 0, 0x10000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0).value;
    const w = c.call('open', '/home/u/notes.txt', O_RDWR, 0).value;
    c.k.copyToUser(c.t, buf, new TextEncoder().encode('XY'));
    expect(c.call('write', w, buf, 2).value).toBe(2);
    expect(c.call('lseek', w, 0, SEEK_CUR).value).toBe(2);
    const d = c.call('dup', w).value;
    expect(handleOf(c, d)).not.toBe(handleOf(c, w));
    expect(fileObj(c, handleOf(c, d))).toBe(fileObj(c, handleOf(c, w)));
    expect(c.call('lseek', d, -1, SEEK_END).value).toBe(15);
    expect(c.call('lseek', w, 0, SEEK_CUR).value).toBe(15);
    expect(c.call('lseek', w, -100, SEEK_CUR).error).toBe('EINVAL');
    expect(c.call('lseek', w, 0, 7).error).toBe('EINVAL');
    expect(c.call('lseek', 1, 0, SEEK_SET).error).toBe('ESPIPE');
    const ap = c.call('open', '/home/u/notes.txt', O_WRONLY + O_APPEND, 0).value;
    expect(c.call('write', ap, buf, 2).value).toBe(2);
    const r = c.call('open', '/home/u/notes.txt', O_RDONLY, 0).value;
    expect(c.call('read', r, buf + 0x100, 64).value).toBe(18);
    expect(new TextDecoder().decode(c.k.copyFromUser(c.t, buf + 0x100, 18))).toBe('XY23456789abcdefXY');
    // The file system the machine was given is untouched: writes never leave the simulation.
    const f = c.k.state.fs('/home/u/notes.txt');
    expect(typeof f !== 'string' && new TextDecoder().decode(f.bytes)).toBe('0123456789abcdef');
    expect(c.call('write', r, buf, 1).error).toBe('EBADF');
    expect(c.call('write', w, 0x1000, 4).error).toBe('EFAULT');
  });

  it('fork: inheritable handles at the same values, close-on-exec ones DuplicateHandle\'d by the child; the offset is shared', () => {
    const c = boot();
    const a = c.call('open', '/home/u/notes.txt', O_RDONLY, 0).value;
    const b = c.call('open', '/home/u/notes.txt', O_RDONLY + O_CLOEXEC, 0).value;
    const ch = child(c, c.call('fork').value);
    expect(handleOf(ch, a)).toBe(handleOf(c, a));
    expect(fileObj(ch, handleOf(ch, a))).toBe(fileObj(c, handleOf(c, a)));
    expect(fileObj(ch, handleOf(ch, b))).toBe(fileObj(c, handleOf(c, b)));
    expect(inheritable(ch, handleOf(ch, b))).toBe(false);
    const buf = ch.call('mmap', 0, 0x10000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0).value;
    expect(ch.call('read', a, buf, 5).value).toBe(5);
    expect(c.call('lseek', a, 0, SEEK_CUR).value).toBe(5);
    // spawn: the inherited handle at its value; the close-on-exec fd is gone.
    const s = child(c, c.call('spawnve', 1, '/usr/bin/true.exe', ['true'], []).value);
    expect(handleOf(s, a)).toBe(handleOf(c, a));
    expect(s.k.state.cygwin.byWinpid.get(s.p.pid)!.fds[b] ?? null).toBeNull();
  });
});

describe('argv and envp', () => {
  it('spawnve and execve hand them to the new program; fork\'s child has the parent\'s', () => {
    const c = bootCygwin();
    expect(view(c, 'cmdline')).toBe('/usr/bin/bash.exe\0');
    const spid = c.call('spawnve', 1, '/usr/bin/true.exe', ['true', 'a b', ''], ['PATH=/usr/bin', 'HOME=/home/u']).value;
    const s = child(c, spid);
    expect(view(s, 'cmdline')).toBe('true\0a b\0\0');
    expect(view(s, 'environ')).toBe('PATH=/usr/bin\0HOME=/home/u\0');
    const fpid = s.call('fork').value;
    expect(view(child(s, fpid), 'cmdline')).toBe('true\0a b\0\0');
    expect(view(child(s, fpid), 'environ')).toBe('PATH=/usr/bin\0HOME=/home/u\0');
    expect(s.call('execve', '/usr/bin/bash.exe', ['bash', '-c', 'exit'], ['X=1']).value).toBe(0);
    const ex = child(c, spid);
    expect(view(ex, 'cmdline')).toBe('bash\0-c\0exit\0');
    expect(view(ex, 'environ')).toBe('X=1\0');
  });
});

describe('signals (default actions) and wait status words', () => {
  it('kill: SIGTERM and SIGKILL end the child, waitpid sees WIFSIGNALED with WTERMSIG; SIGCHLD is ignored', () => {
    const c = bootCygwin();
    const a = c.call('fork').value;
    const b = c.call('fork').value;
    expect(c.call('kill', a, 20).value).toBe(0); // SIGCHLD: ignored by default
    expect(c.k.processes.get(c.k.state.cygwin.byPid.get(a)!.winpid)!.state).toBe('running');
    expect(c.call('kill', a, 15).value).toBe(0);
    expect(c.call('kill', b, 9).value).toBe(0);
    const st = (pid: number): number => c.call('waitpid', pid, 0).record!.fields.status as number;
    const sa = st(a);
    expect(sa & 0x7f).toBe(15); // WTERMSIG
    expect(sa & 0x80).toBe(0);
    expect(st(b)).toBe(9);
    expect(c.call('kill', a, 15).error).toBe('ESRCH');
    expect(c.call('kill', 2 ** 20, 0).error).toBe('ESRCH');
    expect(c.call('kill', a, 65).error).toBe('EINVAL');
  });

  it('_exit status is (code & 0xff) << 8 (WIFEXITED); SIGABRT carries the core flag 0x80', () => {
    const c = bootCygwin();
    const a = c.call('fork').value;
    child(c, a).call('_exit', 300);
    const s = c.call('waitpid', a, 0).record!.fields.status as number;
    expect(s & 0xff).toBe(0);
    expect((s >> 8) & 0xff).toBe(300 & 0xff);
    const b = c.call('fork').value;
    c.call('kill', b, 6);
    expect(c.call('waitpid', b, 0).record!.fields.status).toBe(6 + 0x80);
  });

  it('process groups: children inherit the group; kill(0) and waitpid(0) reach it', () => {
    const c = bootCygwin();
    const me = c.call('getpid').value;
    const a = c.call('fork').value;
    const b = c.call('fork').value;
    const ps = c.k.personality.views.find((v) => v.name === 'ps')!.rows!(c.k, c.p);
    expect(ps.filter((r) => r.PGID === me).map((r) => r.PID)).toEqual([me, a, b].sort((x, y) => x - y));
    expect(c.call('waitpid', 0, WNOHANG).value).toBe(0);
    // kill(-pgid) reaches the whole group, the caller included.
    const g = c.call('fork').value;
    const gc = child(c, g);
    expect(gc.call('kill', -me, 15).value).toBe(0);
    expect(c.p.state).not.toBe('running');
    expect(gc.p.state).not.toBe('running');
  });
});
