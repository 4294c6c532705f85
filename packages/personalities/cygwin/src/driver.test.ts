/**
 * Cygwin's portable driver: each intent is the cygwin1.dll call a Cygwin program makes, and under
 * it the Windows personality's calls (CreateFileW, ReadFile, WriteFile, CloseHandle,
 * CreateProcessW ...), seen on the kernel's bus as the program would make them.
 */
import { describeResult, PORTABLE_OPS, type PortableResult } from '@polykernel/kernel';
import { describe, expect, it } from 'vitest';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from './posix.js';
import { bootCygwin, type Cyg } from './testkit.js';
import type { K } from './types.js';

function value<T>(r: PortableResult<T>): T {
  if (r.kind !== 'ok') throw new Error(describeResult(r, String));
  return r.value;
}

/** The names of every call made from now on, nested ones (cygwin1.dll's Win32 calls) included. */
function calls(k: K): string[] {
  const names: string[] = [];
  k.bus.subscribe('syscall:entry', (e) => names.push(e.name));
  return names;
}

const RW = PROT_READ | PROT_WRITE;

function buffer(c: Cyg): number {
  return c.call('mmap', 0, 0x10000, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0).value;
}

describe('the Cygwin portable driver', () => {
  it('does every portable step: none is n/a', () => {
    const D = bootCygwin().k.personality.portable!;
    for (const op of PORTABLE_OPS) expect(D.native[op].startsWith('n/a'), op).toBe(false);
  });

  it('open(create) is open(O_CREAT) → CreateFileW(OPEN_ALWAYS): a new file on the machine, written and read back', () => {
    const c = bootCygwin();
    const D = c.k.personality.portable!;
    const buf = buffer(c);
    c.k.copyToUser(c.t, buf, new TextEncoder().encode('hello'));
    const seen = calls(c.k);
    const fd = value(D.open(c.k, c.t, { path: '/usr/bin/out.txt', write: true, create: true }));
    expect(fd).toBe(3);
    expect(seen).toEqual(['open', 'CreateFileW', 'NtCreateFile']);
    seen.length = 0;
    expect(value(D.write(c.k, c.t, fd, buf, 5))).toBe(5);
    expect(seen).toEqual(['write', 'WriteFile', 'NtWriteFile']);
    seen.length = 0;
    expect(value(D.close(c.k, c.t, fd))).toBe(0);
    expect(seen).toEqual(['close', 'CloseHandle', 'NtClose']);
    // Opened again without O_CREAT, it is there with its five bytes.
    const again = value(D.open(c.k, c.t, { path: '/usr/bin/out.txt', write: false }));
    seen.length = 0;
    expect(value(D.read(c.k, c.t, again, buf + 0x100, 100))).toBe(5);
    expect(seen).toEqual(['read', 'ReadFile', 'NtReadFile']);
    expect(new TextDecoder().decode(c.k.copyFromUser(c.t, buf + 0x100, 5))).toBe('hello');
    // The sysroot is untouched: the file is the machine's alone.
    expect(c.k.state.fs('/usr/bin/out.txt')).toBe('ENOENT');
  });

  it('open(truncate) is O_TRUNC → CreateFileW(TRUNCATE_EXISTING, or CREATE_ALWAYS with create): the machine\'s copy is emptied', () => {
    const c = bootCygwin();
    const D = c.k.personality.portable!;
    const fd = value(D.open(c.k, c.t, { path: '/usr/bin/true.exe', write: true, truncate: true }));
    expect(c.call('lseek', fd, 0, 2).value).toBe(0);
    const both = value(D.open(c.k, c.t, { path: '/usr/bin/bash.exe', write: true, create: true, truncate: true }));
    expect(c.call('lseek', both, 0, 2).value).toBe(0);
    const file = c.k.state.fs('/usr/bin/true.exe');
    if (typeof file === 'string') throw new Error(file);
    expect(file.bytes.length).toBeGreaterThan(0);
    // Without O_CREAT a missing file is ENOENT; with it, a missing folder is ENOENT too.
    expect(D.open(c.k, c.t, { path: '/usr/bin/none', write: true, truncate: true })).toMatchObject({ kind: 'failed', call: 'open', error: 'ENOENT' });
    expect(D.open(c.k, c.t, { path: '/nowhere/x', write: true, create: true })).toMatchObject({ kind: 'failed', call: 'open', error: 'ENOENT' });
  });

  it('open(write only) is O_WRONLY: read is EBADF before any ReadFile (syscalls.cc read), the write goes through', () => {
    const c = bootCygwin();
    const D = c.k.personality.portable!;
    const buf = buffer(c);
    const wo = value(D.open(c.k, c.t, { path: '/usr/bin/out.txt', write: true, read: false, create: true, truncate: true }));
    // F_GETFL (3) gives the open's flags back: O_WRONLY in O_ACCMODE.
    expect(c.call('fcntl', wo, 3, 0).value % 4).toBe(1);
    const seen = calls(c.k);
    expect(D.read(c.k, c.t, wo, buf, 4)).toEqual({ kind: 'failed', call: 'read', error: 'EBADF', space: 'cygwin' });
    expect(seen).toEqual(['read']);
    expect(value(D.write(c.k, c.t, wo, buf, 4))).toBe(4);
    // O_RDWR does both.
    const rw = value(D.open(c.k, c.t, { path: '/usr/bin/out.txt', write: true, read: true }));
    expect(value(D.read(c.k, c.t, rw, buf, 4))).toBe(4);
    expect(value(D.write(c.k, c.t, rw, buf, 4))).toBe(4);
  });

  it('read, write and close fail with Cygwin\'s errno', () => {
    const c = bootCygwin();
    const D = c.k.personality.portable!;
    const buf = buffer(c);
    const ro = value(D.open(c.k, c.t, { path: '/usr/bin/true.exe', write: false }));
    expect(D.write(c.k, c.t, ro, buf, 4)).toMatchObject({ kind: 'failed', call: 'write', error: 'EBADF' });
    expect(D.read(c.k, c.t, ro, 0x1000, 4)).toMatchObject({ kind: 'failed', call: 'read', error: 'EFAULT' });
    expect(value(D.close(c.k, c.t, ro))).toBe(0);
    expect(D.close(c.k, c.t, ro)).toMatchObject({ kind: 'failed', call: 'close', error: 'EBADF' });
  });

  it('mapFile is open, lseek, mmap → CreateFileMappingW + MapViewOfFileEx, close: a file the program created maps too', () => {
    const c = bootCygwin();
    const D = c.k.personality.portable!;
    const buf = buffer(c);
    c.k.copyToUser(c.t, buf, Uint8Array.of(1, 2, 3));
    const fd = value(D.open(c.k, c.t, { path: '/usr/bin/data.bin', write: true, create: true }));
    value(D.write(c.k, c.t, fd, buf, 3));
    value(D.close(c.k, c.t, fd));
    const seen = calls(c.k);
    const r = value(D.mapFile(c.k, c.t, { path: '/usr/bin/data.bin', prot: PROT_READ, shared: false }));
    // In this order (each call's first appearance).
    const order = ['open', 'CreateFileW', 'lseek', 'mmap', 'CreateFileMappingW', 'MapViewOfFileEx', 'close'].map((n) => seen.indexOf(n));
    expect(order.every((at, i) => at >= 0 && (i === 0 || at > order[i - 1]!))).toBe(true);
    expect(seen[0]).toBe('open');
    expect([...c.k.copyFromUser(c.t, r.addr, 3)]).toEqual([1, 2, 3]);
  });

  it('exec is execve: a new Windows process under the same Cygwin PID, where the program continues; the old one is the stub', () => {
    const c = bootCygwin();
    const D = c.k.personality.portable!;
    const f = value(D.fork(c.k, c.t));
    const cygpid = f.ref;
    const oldWin = f.process.pid;
    const seen = calls(c.k);
    const img = value(D.exec(c.k, f.thread, { path: '/usr/bin/true.exe', argv: ['true'] }));
    expect(seen[0]).toBe('execve');
    expect(seen).toContain('CreateProcessW');
    expect(img.path).toBe('/usr/bin/true.exe');
    const next = img.continuesIn!;
    expect(next.process.pid).not.toBe(oldWin);
    expect(c.k.state.cygwin.byPid.get(cygpid)!.winpid).toBe(next.process.pid);
    expect(f.process.state).toBe('running'); // the stub waits for the new program
    // The program's next steps run in the new process; its exit ends the stub, and the parent reaps the Cygwin PID.
    const a = value(D.alloc(c.k, next.thread, { size: 0x1000, prot: RW }));
    expect(a.length).toBe(0x10000);
    value(D.exit(c.k, next.thread, 7));
    expect(f.process.state).not.toBe('running');
    const w = value(D.wait(c.k, c.t, cygpid));
    expect(w).toMatchObject({ pid: cygpid, exitCode: 7, signal: null });
  });

  it('exec of a missing program fails with ENOENT and the caller goes on', () => {
    const c = bootCygwin();
    const D = c.k.personality.portable!;
    expect(D.exec(c.k, c.t, { path: '/usr/bin/nope', argv: ['nope'] })).toMatchObject({ kind: 'failed', call: 'execve', error: 'ENOENT' });
    expect(c.p.state).toBe('running');
  });

  it('spawn is spawnve → CreateProcessW; the child is waited for by its Cygwin PID', () => {
    const c = bootCygwin();
    const D = c.k.personality.portable!;
    const seen = calls(c.k);
    const s = value(D.spawn(c.k, c.t, { path: '/usr/bin/true.exe', argv: ['true'] }));
    expect(seen[0]).toBe('spawnve');
    expect(seen).toContain('CreateProcessW');
    expect(s.process.pid).not.toBe(c.p.pid);
    value(D.exit(c.k, s.thread, 3));
    expect(value(D.wait(c.k, c.t, s.ref))).toMatchObject({ pid: s.ref, exitCode: 3 });
  });
});
