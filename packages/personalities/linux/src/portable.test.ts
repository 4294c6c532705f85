/** Linux's portable driver: each intent is the Linux system calls a C program makes, counted as such. */
import { readFileSync } from 'node:fs';
import { describeResult, Kernel, memoryFileSystem, type PortableResult } from '@polykernel/kernel';
import { ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import { PROT_READ, PROT_WRITE } from './flags.js';
import { linuxPersonality, type LinuxMachine, type LinuxSpace } from './personality.js';
import { LINUX_PORTABLE as D } from './portable.js';

const FIXTURES = new URL('../../../formats/elf/test/fixtures/', import.meta.url);
const STATIC = new Uint8Array(readFileSync(new URL('static-x86_64.elf', FIXTURES)));
const RW = PROT_READ | PROT_WRITE;
const P = 4096;

function boot(variant: 'linux-6.x' | 'linux-5.15' = 'linux-6.x'): Kernel<LinuxSpace, LinuxMachine> {
  const fs = memoryFileSystem({ '/bin/st': STATIC, '/data/file': new Uint8Array(3 * P).fill(7) });
  return new Kernel(linuxPersonality({ variant, fs }), { contents: true, frames: 8192 });
}

function value<T>(r: PortableResult<T>): T {
  if (r.kind !== 'ok') throw new Error(describeResult(r, String));
  return r.value;
}

const calls = (k: Kernel<LinuxSpace, LinuxMachine>): string[] => {
  const names: string[] = [];
  k.bus.subscribe('syscall:entry', (e) => names.push(e.name));
  return names;
};

describe('Linux portable driver', () => {
  for (const variant of ['linux-6.x', 'linux-5.15'] as const) {
    it(`${variant}: alloc is one mmap, protect one mprotect, free one munmap`, () => {
      const k = boot(variant);
      const seen = calls(k);
      const t = k.createProcess(k.init, 'a').threads[0]!;
      const r = value(D.alloc(k, t, { size: 5000, prot: RW }));
      expect(r.length).toBe(2 * P);
      expect(k.access(t, r.addr + P, ACCESS_WRITE)).toBeGreaterThanOrEqual(0);
      expect(k.metrics.faults.zeroFill).toBe(1);
      value(D.protect(k, t, r, PROT_READ));
      expect(k.access(t, r.addr, ACCESS_READ)).toBeGreaterThanOrEqual(0);
      value(D.free(k, t, r));
      expect(seen).toEqual(['mmap', 'mprotect', 'munmap']);
      expect(k.metrics.syscalls).toBe(3);
    });
  }

  it('a refused alloc is the errno mmap returns', () => {
    const k = boot();
    const t = k.createProcess(k.init, 'a').threads[0]!;
    expect(D.alloc(k, t, { size: 0, prot: RW })).toEqual({ kind: 'failed', call: 'mmap', error: 'EINVAL', space: 'linux' });
    expect(D.alloc(k, t, { size: 2 ** 50, prot: RW })).toMatchObject({ kind: 'failed', error: 'ENOMEM' });
  });

  it('fork, exit and wait: the child\'s exit code comes back decoded from the wait4 status', () => {
    const k = boot();
    const t = k.createProcess(k.init, 'parent').threads[0]!;
    const child = value(D.fork(k, t));
    expect(D.wait(k, t, child.ref)).toEqual({ kind: 'blocked', call: 'wait4' });
    value(D.exit(k, child.thread, 42));
    expect(t.state).toBe('runnable');
    expect(value(D.wait(k, t, child.ref))).toEqual({ ref: child.ref, pid: child.process.pid, status: 42 * 256, exitCode: 42, signal: null });
    expect(D.wait(k, t, null)).toMatchObject({ kind: 'failed', error: 'ECHILD' });
  });

  it('a child killed by a signal is reported by the signal\'s name', () => {
    const k = boot();
    const t = k.createProcess(k.init, 'parent').threads[0]!;
    const child = value(D.fork(k, t));
    k.access(child.thread, 0x5000, ACCESS_READ);
    expect(value(D.wait(k, t, null))).toMatchObject({ exitCode: null, signal: 'SIGSEGV' });
  });

  it('spawn is fork + execve in the child; a missing program is execve\'s ENOENT and the child is reaped', () => {
    const k = boot();
    const seen = calls(k);
    const t = k.createProcess(k.init, 'sh').threads[0]!;
    const r = D.spawn(k, t, { path: '/bin/st', argv: ['st'] });
    expect(r.kind).toBe('ok');
    if (r.kind === 'ok') expect(r.value.process.space.image?.path).toBe('/bin/st');
    expect(seen).toEqual(['fork', 'execve']);
    const bad = D.spawn(k, t, { path: '/bin/none', argv: ['none'] });
    expect(bad).toEqual({ kind: 'failed', call: 'execve', error: 'ENOENT', space: 'linux' });
    expect(seen.slice(2)).toEqual(['fork', 'execve', 'exit_group', 'wait4']);
    expect(t.process.children.map((c) => c.state)).toEqual(['running']);
  });

  it('exec replaces the image and names its path', () => {
    const k = boot();
    const t = k.createProcess(k.init, 'sh').threads[0]!;
    expect(value(D.exec(k, t, { path: '/bin/st', argv: ['st'] }))).toEqual({ path: '/bin/st', interpreter: null });
  });

  it('mapFile is openat + mmap + close; open/read/close move file bytes into memory', () => {
    const k = boot();
    const seen = calls(k);
    const t = k.createProcess(k.init, 'a').threads[0]!;
    const m = value(D.mapFile(k, t, { path: '/data/file', prot: PROT_READ, shared: false }));
    expect(m.length).toBe(3 * P);
    expect([...k.copyFromUser(t, m.addr + P, 2)]).toEqual([7, 7]);
    expect(seen).toEqual(['openat', 'mmap', 'close']);
    const buf = value(D.alloc(k, t, { size: P, prot: RW }));
    const fd = value(D.open(k, t, { path: '/data/file', write: false }));
    expect(value(D.read(k, t, fd, buf.addr, 100))).toBe(100);
    expect([...k.copyFromUser(t, buf.addr + 99, 2)]).toEqual([7, 0]);
    expect(D.write(k, t, fd, buf.addr, 10)).toMatchObject({ kind: 'failed', error: 'EBADF' });
    value(D.close(k, t, fd));
    expect(D.open(k, t, { path: '/nope', write: false })).toMatchObject({ kind: 'failed', call: 'openat', error: 'ENOENT' });
  });

  it('open asks for the access mode the request gives: O_WRONLY reads EBADF, O_RDWR reads', () => {
    const k = boot();
    const t = k.createProcess(k.init, 'a').threads[0]!;
    const seen: number[] = [];
    k.bus.subscribe('syscall:entry', (e) => { if (e.name === 'openat') seen.push(Number(e.args[2])); });
    const buf = value(D.alloc(k, t, { size: P, prot: RW }));
    const wo = value(D.open(k, t, { path: '/dev/null', write: true, read: false, create: true, truncate: true }));
    expect(D.read(k, t, wo, buf.addr, 10)).toMatchObject({ kind: 'failed', call: 'read', error: 'EBADF' });
    expect(value(D.write(k, t, wo, buf.addr, 10))).toBe(10);
    const rw = value(D.open(k, t, { path: '/dev/null', write: true }));
    expect(value(D.read(k, t, rw, buf.addr, 10))).toBe(0);
    // O_WRONLY|O_CREAT|O_TRUNC, then O_RDWR.
    expect(seen).toEqual([0x1 + 0x40 + 0x200, 0x2]);
  });

  it('every intent names its native call', () => {
    expect(Object.values(D.native).every((s) => s.length > 0 && !s.startsWith('n/a'))).toBe(true);
  });
});
