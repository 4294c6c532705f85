/**
 * The FreeBSD portable driver, step by step: each portable step is the native calls FreeBSD's libc
 * makes for it (names and syscalls.master numbers as the gate saw them), with the kernel's own
 * counts — open/read/write/close over vnodes, mapFile as openat + mmap + close of the vnode's
 * object, exec as execve of a real FreeBSD ELF, spawn as posix_spawn's rfork(RFSPAWN) + execve
 * (nothing of the parent copied), and a Linux ELF refused with ENOEXEC by both.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Kernel, memoryFileSystem, startProcess, type PortableResult, type Process, type Thread } from '@polykernel/kernel';
import { describe, expect, it } from 'vitest';
import { encodeSigaction, SIG_IGN, sigactionOf } from './kern/kern_sig.js';
import type { FreebsdMachine, FreebsdSpace } from './machine.js';
import { SIGNALS } from './param.js';
import { freebsdPersonality } from './personality.js';
import { freebsdPortable as d } from './portable.js';

type K = Kernel<FreebsdSpace, FreebsdMachine>;
const SIG = SIGNALS as Record<string, number>;

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(fileURLToPath(new URL(`../../../formats/elf/test/fixtures/${name}`, import.meta.url))));
const FREEBSD_ELF = fixture('rollup.freebsd-x64.node');
/** The same file branded SYSV (EI_OSABI 0), without FreeBSD's ABI note: what a Linux build looks like to imgact_elf. */
const LINUX_ELF = ((): Uint8Array => {
  const b = FREEBSD_ELF.slice();
  b[7] = 0;
  return b;
})();
const MOTD = new TextEncoder().encode('FreeBSD 14.1-RELEASE\n'.repeat(300));

interface Booted { k: K; p: Process<FreebsdSpace>; t: Thread; calls: string[] }

function boot(): Booted {
  const fs = memoryFileSystem({ '/etc/motd': MOTD, '/bin/rollup': FREEBSD_ELF, '/bin/linux': LINUX_ELF });
  const k: K = new Kernel(freebsdPersonality({ fs }), { frames: 16384, seed: 3, contents: true });
  const { process: p, thread: t } = startProcess(k, 'sh');
  const calls: string[] = [];
  k.bus.subscribe('syscall:entry', (e) => calls.push(`${e.name}(${e.number})`));
  return { k, p, t, calls };
}

function value<T>(r: PortableResult<T>): T {
  if (r.kind !== 'ok') throw new Error(`expected ok, got ${JSON.stringify(r)}`);
  return r.value;
}

describe('FreeBSD portable driver: files', () => {
  it('open/read/write/close are openat(499)/read(3)/write(4)/close(6), one trap each, bytes through the vnode', () => {
    const { k, t, calls } = boot();
    const buf = value(d.alloc(k, t, { size: 8192, prot: 3 }));
    const before = k.metrics.syscalls;
    const fd = value(d.open(k, t, { path: '/etc/motd', write: false }));
    expect(fd).toBe(0);
    expect(value(d.read(k, t, fd, buf.addr, 8192))).toBe(MOTD.length);
    const out = value(d.open(k, t, { path: '/etc/copy', write: true, create: true, truncate: true }));
    expect(value(d.write(k, t, out, buf.addr, MOTD.length))).toBe(MOTD.length);
    value(d.close(k, t, fd));
    value(d.close(k, t, out));
    expect(calls.slice(1)).toEqual(['openat(499)', 'read(3)', 'openat(499)', 'write(4)', 'close(6)', 'close(6)']);
    expect(k.metrics.syscalls - before).toBe(6);
    expect(k.metrics.traps.syscall).toBe(7);
    // The copy is the file: read it back through a new descriptor.
    const back = value(d.open(k, t, { path: '/etc/copy', write: false }));
    const buf2 = value(d.alloc(k, t, { size: 8192, prot: 3 }));
    expect(value(d.read(k, t, back, buf2.addr, 8192))).toBe(MOTD.length);
    expect(k.copyFromUser(t, buf2.addr, 21)).toEqual(MOTD.slice(0, 21));
  });

  it('the access mode asked for: O_WRONLY has no FREAD (read EBADF), O_RDONLY no FWRITE (write EBADF), O_RDWR both', () => {
    const { k, t } = boot();
    const buf = value(d.alloc(k, t, { size: 8192, prot: 3 }));
    const wo = value(d.open(k, t, { path: '/etc/out', write: true, read: false, create: true, truncate: true }));
    // F_GETFL gives the open's O_WRONLY back (OFLAGS(f_flag)).
    expect(k.syscall(t, 'fcntl', [wo, 3, 0]).value % 4).toBe(1);
    expect(d.read(k, t, wo, buf.addr, 16)).toEqual({ kind: 'failed', call: 'read', error: 'EBADF', space: 'freebsd' });
    expect(value(d.write(k, t, wo, buf.addr, 16))).toBe(16);
    const ro = value(d.open(k, t, { path: '/etc/motd', write: false }));
    expect(d.write(k, t, ro, buf.addr, 16)).toMatchObject({ kind: 'failed', call: 'write', error: 'EBADF' });
    const rw = value(d.open(k, t, { path: '/etc/out', write: true, read: true }));
    expect(value(d.read(k, t, rw, buf.addr, 16))).toBe(16);
    expect(value(d.write(k, t, rw, buf.addr, 16))).toBe(16);
  });

  it('a missing file is openat\'s ENOENT; a closed descriptor is EBADF', () => {
    const { k, t } = boot();
    expect(d.open(k, t, { path: '/nope', write: false })).toMatchObject({ kind: 'failed', call: 'openat', error: 'ENOENT' });
    expect(d.close(k, t, 9)).toMatchObject({ kind: 'failed', call: 'close', error: 'EBADF' });
  });

  it('mapFile is openat + mmap(477) + close, the pages faulted in from the vnode object', () => {
    const { k, p, t, calls } = boot();
    const r = value(d.mapFile(k, t, { path: '/etc/motd', prot: 1, shared: false }));
    expect(r.length).toBe(8192);
    expect(calls).toEqual(['openat(499)', 'mmap(477)', 'close(6)']);
    const faults = k.metrics.traps.pageFault;
    expect(k.copyFromUser(t, r.addr + 4096, 21)).toEqual(MOTD.slice(4096, 4096 + 21));
    expect(k.metrics.traps.pageFault).toBe(faults + 1);
    const row = k.personality.views.find((v) => v.name === 'procstat-v')!.rows!(k, p).find((x) => x.kve_path === '/etc/motd');
    expect(row).toMatchObject({ kve_type: 'vnode', read: true, write: false, exec: false, kve_resident: 1 });
  });
});

describe('FreeBSD portable driver: exec and spawn', () => {
  it('exec is execve(59) of a FreeBSD image; a Linux ELF is ENOEXEC and the caller is unchanged', () => {
    const { k, t, calls } = boot();
    expect(d.exec(k, t, { path: '/bin/linux', argv: ['linux'] })).toMatchObject({ kind: 'failed', call: 'execve', error: 'ENOEXEC' });
    expect(t.process.state).toBe('running');
    const r = d.exec(k, t, { path: '/bin/rollup', argv: ['rollup', '-v'] });
    expect(r).toEqual({ kind: 'ok', value: { path: '/bin/rollup', interpreter: null }, detail: '/bin/rollup' });
    expect(calls).toEqual(['execve(59)', 'execve(59)']);
    expect(t.process.comm).toBe('rollup');
  });

  it('spawn is rfork(RFSPAWN) + execve in the child: the parent sleeps, nothing is copied, wait4 reaps the exit', () => {
    const { k, p, t, calls } = boot();
    const heap = value(d.alloc(k, t, { size: 1024 * 1024, prot: 3 }));
    for (let a = heap.addr; a < heap.addr + heap.length; a += 4096) k.copyToUser(t, a, new Uint8Array([1]));
    const copied = k.metrics.pagesCopied;
    const child = value(d.spawn(k, t, { path: '/bin/rollup', argv: ['rollup'] }));
    expect(calls.slice(1)).toEqual(['rfork(251)', 'execve(59)']);
    // The parent's rfork returned the child's PID once the child's exec released it.
    expect(t.state).toBe('runnable');
    expect(t.pending).toBeNull();
    expect(child.process.space).not.toBe(t.process.space);
    expect(child.process.comm).toBe('rollup');
    expect(child.process.parent).toBe(t.process);
    // vfork semantics: no vmspace_fork, so no page of the 1 MiB heap was copied or write-protected.
    expect(k.metrics.pagesCopied).toBe(copied);
    expect([...p.space.map.entries()].some((e) => e.start === heap.addr)).toBe(true);
    // ... and the parent's PTEs stay writable: a write to the heap after the spawn does not fault.
    const faults = k.metrics.traps.pageFault;
    k.copyToUser(t, heap.addr, new Uint8Array([2]));
    expect(k.metrics.traps.pageFault).toBe(faults);
    value(d.exit(k, child.thread, 3));
    expect(value(d.wait(k, t, child.ref))).toMatchObject({ pid: child.ref, exitCode: 3, signal: null });
  });

  it('spawn of a Linux ELF: the child exits 127, the parent reaps it with wait4(WNOHANG) and reports execve\'s ENOEXEC', () => {
    const { k, t, calls } = boot();
    const r = d.spawn(k, t, { path: '/bin/linux', argv: ['linux'] });
    expect(r).toMatchObject({ kind: 'failed', call: 'execve', error: 'ENOEXEC' });
    expect(calls).toEqual(['rfork(251)', 'execve(59)', 'exit(1)', 'wait4(7)']);
    expect(t.state).toBe('runnable');
    expect(t.process.children).toEqual([]);
    expect(d.wait(k, t, null)).toMatchObject({ kind: 'failed', call: 'wait4', error: 'ECHILD' });
  });

  it('rfork(RFSPAWN) alone: the child shares the vmspace, its caught signals reset, ignored ones kept; with any other flag EINVAL', () => {
    const { k, p, t } = boot();
    const mem = value(d.alloc(k, t, { size: 4096, prot: 3 })).addr;
    k.copyToUser(t, mem, encodeSigaction({ handler: 0x401000, flags: 0, mask: new Set() }));
    expect(k.syscall(t, 'sigaction', [SIG.SIGUSR1!, mem, 0]).value).toBe(0);
    k.copyToUser(t, mem, encodeSigaction({ handler: SIG_IGN, flags: 0, mask: new Set() }));
    expect(k.syscall(t, 'sigaction', [SIG.SIGINT!, mem, 0]).value).toBe(0);
    expect(k.syscall(t, 'rfork', [2 ** 31 + 16]).error).toBe('EINVAL');
    const r = k.syscall(t, 'rfork', [2 ** 31]);
    expect(r.blocked).toBe(true);
    const c = k.processes.get(r.value)!;
    expect(c.space).toBe(p.space);
    expect(sigactionOf(c, 'SIGUSR1').handler).toBe(0);
    expect(sigactionOf(c, 'SIGINT').handler).toBe(SIG_IGN);
    expect(sigactionOf(p, 'SIGUSR1').handler).toBe(0x401000);
    // A plain vfork keeps the handler (FR2_DROPSIG_CAUGHT is RFSPAWN's alone).
    k.syscall(c.threads[0]!, 'exit', [0]);
    k.resume(t);
    const v = k.syscall(t, 'vfork');
    expect(sigactionOf(k.processes.get(v.value)!, 'SIGUSR1').handler).toBe(0x401000);
  });
});
