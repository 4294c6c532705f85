/**
 * POSIX shared memory and largepage shm (uipc_shm.ts, sys_ioctl.ts, sys_ftruncate.ts): shm_open2,
 * shm_unlink, ftruncate, ioctl(FIO[SG]SHMLPGCNF), fstat, read/write/lseek, mmap with 2 MiB and
 * 1 GiB leaves, procstat -v, the errno cases in FreeBSD's check order, and frames that balance.
 */
import { Kernel, type Process, type Thread } from '@polykernel/kernel';
import { ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import type { FreebsdMachine, FreebsdSpace } from '../machine.js';
import { MAP_ANON, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PAGE_SIZE } from '../param.js';
import { freebsdPersonality } from '../personality.js';
import { renderProcstatVm } from '../procstat/vm.js';
import { freebsdVmSysctls } from '../sysctl.js';
import { O } from './kern_descrip.js';
import { FIOCLEX, FIOGSHMLPGCNF, FIOSSHMLPGCNF } from './sys_ioctl.js';
import { largepageCounts, SHM_ANON, SHM_LARGEPAGE, SHM_LARGEPAGE_ALLOC_NOWAIT } from './uipc_shm.js';

type K = Kernel<FreebsdSpace, FreebsdMachine>;
const MIB2 = 2 ** 21;
const GIB = 2 ** 30;

function boot(frames = 8192, profile = 'x86-64'): { k: K; p: Process<FreebsdSpace>; t: Thread; buf: number } {
  const k: K = new Kernel(freebsdPersonality(), { frames, seed: 4, contents: true, profile });
  const p = k.createProcess(k.init, 'shm');
  const t = p.threads[0]!;
  const buf = k.syscall(t, 'mmap', [0, PAGE_SIZE, 3, MAP_PRIVATE | MAP_ANON, -1, 0]).value;
  return { k, p, t, buf };
}

function sys(k: K, t: Thread, name: string, args: (number | string)[] = []): { value: number; errno: string | null } {
  const r = k.syscall(t, name, args);
  return { value: r.value, errno: r.error };
}

function errnoOf(k: K, t: Thread, name: string, args: (number | string)[]): string | null {
  return sys(k, t, name, args).errno;
}

/** struct shm_largepage_conf at `buf`. */
function setConf(k: K, t: Thread, buf: number, psind: number, policy: number): void {
  const b = new Uint8Array(48);
  const dv = new DataView(b.buffer);
  dv.setInt32(0, psind, true);
  dv.setInt32(4, policy, true);
  expect(k.copyToUser(t, buf, b)).toBe(48);
}

function getConf(k: K, t: Thread, buf: number): [number, number] {
  const b = k.copyFromUser(t, buf, 8);
  const dv = new DataView(b.buffer, b.byteOffset);
  return [dv.getInt32(0, true), dv.getInt32(4, true)];
}

/** shm_create_largepage (lib/libc/sys/shm_open.c): shm_open2 with SHM_LARGEPAGE, then FIOSSHMLPGCNF. */
function createLargepage(k: K, t: Thread, buf: number, psind: number, policy = 0, path: number | string = SHM_ANON): number {
  const fd = sys(k, t, 'shm_open2', [path, O.RDWR | O.CREAT, 0o600, SHM_LARGEPAGE, 0]).value;
  expect(fd).toBeGreaterThanOrEqual(0);
  setConf(k, t, buf, psind, policy);
  expect(sys(k, t, 'ioctl', [fd, FIOSSHMLPGCNF, buf]).value).toBe(0);
  return fd;
}

describe('POSIX shm (shm_open2 571, shm_unlink 483)', () => {
  it('a named object is shared by name, survives unlink while open, and fstat reports it', () => {
    const { k, p, t, buf } = boot();
    const fd = sys(k, t, 'shm_open2', ['/demo', O.RDWR | O.CREAT, 0o644, 0, 0]).value;
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(sys(k, t, 'ftruncate', [fd, 3 * PAGE_SIZE + 100]).value).toBe(0);
    const va = sys(k, t, 'mmap', [0, 4 * PAGE_SIZE, 3, MAP_SHARED, fd, 0]).value;
    expect(k.copyToUser(t, va + PAGE_SIZE, Uint8Array.of(42))).toBe(1);
    // A second open of the name maps the same pages.
    const fd2 = sys(k, t, 'shm_open2', ['/demo', O.RDWR, 0, 0, 0]).value;
    const vb = sys(k, t, 'mmap', [0, 2 * PAGE_SIZE, 1, MAP_SHARED, fd2, 0]).value;
    expect(k.copyFromUser(t, vb + PAGE_SIZE, 1)[0]).toBe(42);
    // read(2) through the object, and lseek within shm_size.
    expect(sys(k, t, 'lseek', [fd2, PAGE_SIZE, 0]).value).toBe(PAGE_SIZE);
    expect(sys(k, t, 'read', [fd2, buf, 1]).value).toBe(1);
    expect(k.copyFromUser(t, buf, 1)[0]).toBe(42);
    expect(errnoOf(k, t, 'lseek', [fd2, 4 * PAGE_SIZE, 0])).toBe('EINVAL');
    // write(2) into a page no one touched yet: vm_page_grab, not a fault; the mapping sees it.
    const zf = k.metrics.faults.zeroFill;
    k.copyToUser(t, buf, Uint8Array.of(7, 8));
    expect(sys(k, t, 'pwrite', [fd, buf, 2, 2 * PAGE_SIZE + 10]).value).toBe(2);
    expect(k.metrics.faults.zeroFill).toBe(zf);
    expect([...k.copyFromUser(t, va + 2 * PAGE_SIZE + 10, 2)]).toEqual([7, 8]);
    // Reads and writes stop at shm_size.
    expect(sys(k, t, 'pread', [fd, buf, 200, 3 * PAGE_SIZE]).value).toBe(100);
    // fstat: S_IFREG | mode (umask 022), st_size, st_blocks in pages, st_blksize PAGE_SIZE.
    expect(sys(k, t, 'fstat', [fd, buf]).value).toBe(0);
    const st = new DataView(k.copyFromUser(t, buf, 224).buffer);
    expect(st.getUint16(24, true)).toBe(0o100644);
    expect(Number(st.getBigInt64(112, true))).toBe(3 * PAGE_SIZE + 100);
    expect(Number(st.getBigInt64(120, true))).toBe(4);
    expect(st.getInt32(128, true)).toBe(PAGE_SIZE);
    expect(errnoOf(k, t, 'shm_open2', ['/demo', O.RDWR | O.CREAT | O.EXCL, 0o600, 0, 0])).toBe('EEXIST');
    expect(sys(k, t, 'shm_unlink', ['/demo']).value).toBe(0);
    expect(errnoOf(k, t, 'shm_unlink', ['/demo'])).toBe('ENOENT');
    expect(errnoOf(k, t, 'shm_open2', ['/demo', O.RDWR, 0, 0, 0])).toBe('ENOENT');
    expect(k.copyFromUser(t, va + PAGE_SIZE, 1)[0]).toBe(42);
    // procstat -v: the OBJT_SWAP object is `sw`.
    expect(renderProcstatVm(k, p).split('\n').some((l) => l.includes(`0x${va.toString(16)} `) && l.endsWith(' sw '))).toBe(true);
  });

  it('shm_open2 and shm_unlink errnos in kern_shm_open2\'s order', () => {
    const { k, t } = boot();
    expect(errnoOf(k, t, 'shm_open2', [SHM_ANON, O.RDWR, 0o600, 0x8, 0])).toBe('EINVAL'); // unknown shmflags
    expect(errnoOf(k, t, 'shm_open2', [SHM_ANON, O.WRONLY, 0o600, 0, 0])).toBe('EINVAL'); // O_WRONLY
    expect(errnoOf(k, t, 'shm_open2', [SHM_ANON, O.RDWR | O.APPEND, 0o600, 0, 0])).toBe('EINVAL');
    expect(errnoOf(k, t, 'shm_open2', [SHM_ANON, O.RDONLY, 0o600, 0, 0])).toBe('EINVAL'); // read-only anonymous
    expect(errnoOf(k, t, 'shm_open2', ['relative', O.RDWR | O.CREAT, 0o600, 0, 0])).toBe('EINVAL');
    expect(errnoOf(k, t, 'shm_open2', ['/none', O.RDWR, 0o600, 0, 0])).toBe('ENOENT');
    expect(errnoOf(k, t, 'shm_open2', [0x10, O.RDWR | O.CREAT, 0o600, 0, 0])).toBe('EFAULT');
    expect(sys(k, t, 'shm_open2', ['/lp', O.RDWR | O.CREAT, 0o600, SHM_LARGEPAGE, 0]).value).toBeGreaterThanOrEqual(0);
    // Reopening with other shmflags.
    expect(errnoOf(k, t, 'shm_open2', ['/lp', O.RDWR, 0o600, 0x1, 0])).toBe('EINVAL');
    expect(errnoOf(k, t, 'shm_unlink', ['nope'])).toBe('EINVAL');
  });
});

describe('ftruncate (480)', () => {
  it('a regular file in the overlay shrinks and grows; errnos for other descriptors', () => {
    const { k, t, buf } = boot();
    const fd = sys(k, t, 'open', ['/tmp.txt', O.RDWR | O.CREAT, 0o644]).value;
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(k.copyToUser(t, buf, new TextEncoder().encode('hello world'))).toBe(11);
    expect(sys(k, t, 'write', [fd, buf, 11]).value).toBe(11);
    expect(sys(k, t, 'ftruncate', [fd, 5]).value).toBe(0);
    expect(sys(k, t, 'fstat', [fd, buf]).value).toBe(0);
    expect(Number(new DataView(k.copyFromUser(t, buf, 224).buffer).getBigInt64(112, true))).toBe(5);
    expect(sys(k, t, 'ftruncate', [fd, 8]).value).toBe(0);
    expect(sys(k, t, 'pread', [fd, buf, 16, 0]).value).toBe(8);
    expect([...k.copyFromUser(t, buf, 8)]).toEqual([104, 101, 108, 108, 111, 0, 0, 0]);
    expect(errnoOf(k, t, 'ftruncate', [fd, 2 ** 64 - 4096])).toBe('EINVAL'); // -4096
    expect(errnoOf(k, t, 'ftruncate', [99, 0])).toBe('EBADF');
    const ro = sys(k, t, 'open', ['/tmp.txt', O.RDONLY, 0]).value;
    expect(errnoOf(k, t, 'ftruncate', [ro, 0])).toBe('EINVAL');
    const fds = buf + 64;
    expect(sys(k, t, 'pipe2', [fds, 0]).value).toBe(0);
    const wfd = new DataView(k.copyFromUser(t, fds, 8).buffer).getInt32(4, true);
    expect(errnoOf(k, t, 'ftruncate', [wfd, 0])).toBe('EINVAL');
    const nul = sys(k, t, 'open', ['/dev/null', O.WRONLY, 0]).value;
    expect(sys(k, t, 'ftruncate', [nul, 0]).value).toBe(0);
  });

  it('a shm object\'s shrink removes the pages past the end from every mapping', () => {
    const { k, p, t } = boot();
    const fd = sys(k, t, 'shm_open2', [SHM_ANON, O.RDWR, 0o600, 0, 0]).value;
    expect(sys(k, t, 'ftruncate', [fd, 4 * PAGE_SIZE]).value).toBe(0);
    const va = sys(k, t, 'mmap', [0, 4 * PAGE_SIZE, 3, MAP_SHARED, fd, 0]).value;
    for (let i = 0; i < 4; i++) k.access(t, va + i * PAGE_SIZE, ACCESS_WRITE);
    const free0 = k.mmu.frames.freeFrames;
    expect(sys(k, t, 'ftruncate', [fd, PAGE_SIZE]).value).toBe(0);
    expect(k.mmu.frames.freeFrames).toBe(free0 + 3);
    expect(p.space.pmap.frameAt(va + 2 * PAGE_SIZE)).toBe(-1);
    expect(k.access(t, va, ACCESS_READ)).toBeGreaterThanOrEqual(0);
    // Past the end of the object: SIGBUS (BUS_OBJERR) kills the process.
    expect(k.access(t, va + 2 * PAGE_SIZE, ACCESS_READ)).toBeLessThan(0);
    expect(p.state).not.toBe('running');
  });
});

describe('largepage shm: ioctl (54) FIOSSHMLPGCNF / FIOGSHMLPGCNF and ftruncate', () => {
  it('configures, sizes by whole pages, and refuses what shm_ioctl and shm_dotruncate_largepage refuse', () => {
    const { k, t, buf } = boot(8192);
    const fd = sys(k, t, 'shm_open2', [SHM_ANON, O.RDWR, 0o600, SHM_LARGEPAGE, 0]).value;
    expect(sys(k, t, 'ioctl', [fd, FIOGSHMLPGCNF, buf]).value).toBe(0);
    expect(getConf(k, t, buf)).toEqual([0, 0]);
    expect(errnoOf(k, t, 'ftruncate', [fd, MIB2])).toBe('EINVAL'); // no page size yet
    expect(errnoOf(k, t, 'mmap', [0, MIB2, 3, MAP_SHARED, fd, 0])).toBe('EINVAL');
    setConf(k, t, buf, 3, 0);
    expect(errnoOf(k, t, 'ioctl', [fd, FIOSSHMLPGCNF, buf])).toBe('EINVAL'); // psind >= MAXPAGESIZES
    setConf(k, t, buf, 1, 7);
    expect(errnoOf(k, t, 'ioctl', [fd, FIOSSHMLPGCNF, buf])).toBe('EINVAL'); // alloc_policy
    setConf(k, t, buf, 1, SHM_LARGEPAGE_ALLOC_NOWAIT);
    expect(sys(k, t, 'ioctl', [fd, FIOSSHMLPGCNF, buf]).value).toBe(0);
    setConf(k, t, buf, 2, 0);
    expect(errnoOf(k, t, 'ioctl', [fd, FIOSSHMLPGCNF, buf])).toBe('EINVAL'); // psind already set
    expect(sys(k, t, 'ioctl', [fd, FIOGSHMLPGCNF, buf]).value).toBe(0);
    expect(getConf(k, t, buf)).toEqual([1, SHM_LARGEPAGE_ALLOC_NOWAIT]);
    expect(errnoOf(k, t, 'ftruncate', [fd, MIB2 + PAGE_SIZE])).toBe('EINVAL');
    expect(sys(k, t, 'ftruncate', [fd, 2 * MIB2]).value).toBe(0);
    expect(largepageCounts(k)['vm.largepages.2M']).toBe(2);
    expect(errnoOf(k, t, 'ftruncate', [fd, MIB2])).toBe('EOPNOTSUPP'); // no shrinking
    // 8,192 frames (32 MiB) hold no 1 GiB block, and not 16 more 2 MiB ones: ENOMEM, what fitted stays.
    expect(errnoOf(k, t, 'ftruncate', [fd, 32 * MIB2])).toBe('ENOMEM');
    expect(sys(k, t, 'fstat', [fd, buf]).value).toBe(0);
    expect(Number(new DataView(k.copyFromUser(t, buf, 224).buffer).getBigInt64(112, true)) % MIB2).toBe(0);
    // Other descriptors and commands.
    const reg = sys(k, t, 'shm_open2', [SHM_ANON, O.RDWR, 0o600, 0, 0]).value;
    expect(errnoOf(k, t, 'ioctl', [reg, FIOGSHMLPGCNF, buf])).toBe('ENOTTY');
    expect(errnoOf(k, t, 'ioctl', [fd, 0x4004667f /* FIONREAD */, buf])).toBe('ENOTTY');
    expect(errnoOf(k, t, 'ioctl', [fd, 0x66 * 0x100 + 100 /* no direction */, buf])).toBe('ENOTTY');
    expect(errnoOf(k, t, 'ioctl', [77, FIOGSHMLPGCNF, buf])).toBe('EBADF');
    expect(errnoOf(k, t, 'ioctl', [fd, FIOSSHMLPGCNF, 0x10])).toBe('EFAULT');
    expect(errnoOf(k, t, 'ioctl', [fd, FIOGSHMLPGCNF, 0x10])).toBe('EFAULT');
    expect(sys(k, t, 'ioctl', [fd, FIOCLEX, 0]).value).toBe(0);
  });
});

describe('largepage mappings', () => {
  it('a 1 GiB page: one aligned order-18 block, one fault maps it with one 1 GiB leaf, procstat shows S and ph', () => {
    const { k, p, t, buf } = boot(2 ** 19 + 2048);
    const fd = createLargepage(k, t, buf, 2);
    const free0 = k.mmu.frames.freeFrames;
    expect(sys(k, t, 'ftruncate', [fd, GIB]).value).toBe(0);
    expect(k.mmu.frames.freeFrames).toBe(free0 - GIB / PAGE_SIZE);
    expect(freebsdVmSysctls(k)!['vm.largepages.1G']).toBe(1);
    expect(errnoOf(k, t, 'mmap', [0, GIB, 3, MAP_PRIVATE, fd, 0])).toBe('EINVAL');
    expect(errnoOf(k, t, 'mmap', [0, GIB / 2, 3, MAP_SHARED, fd, 0])).toBe('EINVAL');
    expect(errnoOf(k, t, 'mmap', [GIB + MIB2, GIB, 3, MAP_SHARED | MAP_FIXED, fd, 0])).toBe('EINVAL');
    const va = sys(k, t, 'mmap', [0, GIB, 3, MAP_SHARED, fd, 0]).value;
    expect(va % GIB).toBe(0);
    const f0 = k.metrics.traps.pageFault;
    k.access(t, va + 12345 * PAGE_SIZE, ACCESS_WRITE);
    for (let i = 0; i < 64; i++) k.access(t, va + ((i * 4099) % (GIB / PAGE_SIZE)) * PAGE_SIZE, ACCESS_READ);
    expect(k.metrics.traps.pageFault).toBe(f0 + 1);
    expect(p.space.pmap.pt.lookup(va + 5 * PAGE_SIZE)!.pageSize).toBe(GIB);
    expect(p.space.pmap.resident).toBeGreaterThanOrEqual(GIB / PAGE_SIZE);
    const line = renderProcstatVm(k, p).split('\n').find((l) => l.includes(`0x${va.toString(16)} `))!;
    // RES and PRES: the object's 262,144 pages (resident since ftruncate); REF: the shmfd and the mapping.
    expect(line).toMatch(/ rw- +262144 +262144 +2 +0 --S-- ph $/);
    // Clipping inside the page is refused; COPY inheritance too.
    expect(errnoOf(k, t, 'munmap', [va + MIB2, MIB2])).toBe('EINVAL');
    expect(errnoOf(k, t, 'mprotect', [va, MIB2, 1])).toBe('EINVAL');
    expect(errnoOf(k, t, 'minherit', [va, GIB, 1])).toBe('EINVAL');
    expect(errnoOf(k, t, 'mmap', [va, PAGE_SIZE, 3, MAP_PRIVATE | MAP_ANON | MAP_FIXED, -1, 0])).toBe('EINVAL');
    // Whole-page mprotect changes the one leaf.
    expect(sys(k, t, 'mprotect', [va, GIB, 1]).value).toBe(0);
    expect(sys(k, t, 'mprotect', [va, GIB, 3]).value).toBe(0);
    // fork shares it (MAP_INHERIT_SHARE); the child's fault maps its own 1 GiB leaf to the same frames.
    const child = k.processes.get(sys(k, t, 'fork').value)!;
    expect(k.access(child.threads[0]!, va + 12345 * PAGE_SIZE, ACCESS_READ)).toBe(k.access(t, va + 12345 * PAGE_SIZE, ACCESS_READ));
    expect(k.copyFromUser(child.threads[0]!, va + 12345 * PAGE_SIZE, 1)[0]).toBe(0);
    k.syscall(child.threads[0]!, 'exit', [0]);
    k.syscall(t, 'wait4', [child.pid, 0, 0, 0]);
    // munmap and close: every frame of the page comes back.
    expect(sys(k, t, 'munmap', [va, GIB]).value).toBe(0);
    expect(k.mmu.frames.freeFrames).toBe(free0 - GIB / PAGE_SIZE);
    expect(freebsdVmSysctls(k)!['vm.largepages.1G']).toBe(1);
    expect(sys(k, t, 'close', [fd]).value).toBe(0);
    expect(k.mmu.frames.freeFrames).toBe(free0);
    expect(freebsdVmSysctls(k)!['vm.largepages.1G']).toBe(0);
  });

  it.each(['x86-64', 'arm64-a72'])('2 MiB pages on %s: a fault per 2 MiB, one 2 MiB leaf each', (profile) => {
    const { k, p, t, buf } = boot(16384, profile);
    const fd = createLargepage(k, t, buf, 1);
    expect(sys(k, t, 'ftruncate', [fd, 4 * MIB2]).value).toBe(0);
    const va = sys(k, t, 'mmap', [0, 4 * MIB2, 3, MAP_SHARED, fd, 0]).value;
    expect(va % MIB2).toBe(0);
    const f0 = k.metrics.traps.pageFault;
    for (let i = 0; i < 4 * 512; i += 7) k.access(t, va + i * PAGE_SIZE, ACCESS_WRITE);
    expect(k.metrics.traps.pageFault).toBe(f0 + 4);
    for (let j = 0; j < 4; j++) expect(p.space.pmap.pt.lookup(va + j * MIB2)!.pageSize).toBe(MIB2);
  });
});
