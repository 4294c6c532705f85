import { Kernel } from '@polykernel/kernel';
import { ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import { MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from './flags.js';
import { vmFlagsLine } from './proc/maps.js';
import { linuxPersonality, type LinuxSpace } from './personality.js';

const P = 4096;
const RW = PROT_READ | PROT_WRITE;
const F_ANON = MAP_PRIVATE | 0x20;

function setup(writable = true): { k: Kernel<LinuxSpace>; fd: number; bytes: Uint8Array; p: ReturnType<Kernel<LinuxSpace>['createProcess']> } {
  const k = new Kernel(linuxPersonality(), { frames: 4096, contents: true });
  const p = k.createProcess(k.init, 'files');
  const bytes = new Uint8Array(3 * P + 100).map((_, i) => (i * 7 + 3) % 251);
  const fd = p.installFile({ path: '/data/f', bytes, readable: true, writable });
  return { k, fd, bytes, p };
}

describe('file mappings: the page cache, shared and private', () => {
  it('a write through a shared mapping is seen through another shared one; private copies keep their own bytes', () => {
    const { k, fd, bytes, p } = setup();
    const t = p.threads[0]!;
    const sh1 = k.syscall(t, 'mmap', [0, 4 * P, RW, MAP_SHARED, fd, 0]).value;
    const sh2 = k.syscall(t, 'mmap', [0, 4 * P, RW, MAP_SHARED, fd, 0]).value;
    const pr = k.syscall(t, 'mmap', [0, 4 * P, RW, MAP_PRIVATE, fd, 0]).value;
    const byte = (va: number): number => k.mmu.frames.read(k.access(t, va, ACCESS_READ), 1)[0]!;
    const put = (va: number, v: number): void => {
      k.mmu.frames.write(k.access(t, va, ACCESS_WRITE), new Uint8Array([v]));
    };

    expect(byte(sh1 + 5)).toBe(bytes[5]);
    expect(byte(pr + 3 * P + 99)).toBe(bytes[3 * P + 99]); // the last, partial page
    expect(byte(pr + 3 * P + 100)).toBe(0); // zero past the end of the file, within the page
    put(sh1 + 5, 200);
    expect(byte(sh2 + 5)).toBe(200);

    // A private page not yet written maps the cache page, so it sees the shared write (Linux does).
    expect(byte(pr + P)).toBe(bytes[P]);
    put(sh1 + P, 201);
    expect(byte(pr + P)).toBe(201);
    // Its first write copies; from then on each side keeps its own bytes.
    put(pr + P, 202);
    put(sh1 + P, 203);
    expect(byte(pr + P)).toBe(202);
    expect(byte(sh2 + P)).toBe(203);
    // A private write as the first access copies at once: the file does not see it.
    put(pr + 2 * P, 204);
    expect(byte(sh1 + 2 * P)).toBe(bytes[2 * P]);
    expect(k.metrics.faults.cow).toBe(2);
    expect(p.space.rss.anon).toBe(2);
    expect(p.space.rss.file).toBeGreaterThan(0);
  });

  it('past the end of the file is SIGBUS; a bad fd is EBADF', () => {
    const { k, fd, p } = setup();
    const t = p.threads[0]!;
    expect(k.syscall(t, 'mmap', [0, P, PROT_READ, MAP_SHARED, 99, 0])).toMatchObject({ value: -9, error: 'EBADF' });
    const a = k.syscall(t, 'mmap', [0, 5 * P, PROT_READ, MAP_SHARED, fd, 0]).value;
    expect(k.access(t, a + 3 * P, ACCESS_READ)).toBeGreaterThan(0);
    expect(k.access(t, a + 4 * P, ACCESS_READ)).toBe(-1);
    expect(p.killedBy).toBe('SIGBUS');
    expect(p.exitStatus).toBe(7);
  });

  it('a file not open for writing: shared+PROT_WRITE is EACCES; shared read-only loses VM_SHARED and VM_MAYWRITE', () => {
    const { k, fd, p } = setup(false);
    const t = p.threads[0]!;
    expect(k.syscall(t, 'mmap', [0, P, RW, MAP_SHARED, fd, 0])).toMatchObject({ error: 'EACCES' });
    const a = k.syscall(t, 'mmap', [0, P, PROT_READ, MAP_SHARED, fd, 0]).value;
    expect(vmFlagsLine(p.space.mm.vmas.lookup(a)!)).toBe('VmFlags: rd mr me ms ');
    expect(k.syscall(t, 'mprotect', [a, P, RW])).toMatchObject({ error: 'EACCES' });
    // A private mapping of it may still be written (copy-on-write).
    const pr = k.syscall(t, 'mmap', [0, P, RW, MAP_PRIVATE, fd, 0]).value;
    expect(k.access(t, pr, ACCESS_WRITE)).toBeGreaterThan(0);
  });

  it('mappings of the same file at contiguous offsets merge', () => {
    const { k, fd, p } = setup();
    const t = p.threads[0]!;
    k.syscall(t, 'mmap', [0x40000000, P, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0]);
    k.syscall(t, 'mmap', [0x40001000, P, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, P]);
    expect(p.space.mm.mapCount).toBe(1);
  });
});

describe('memory pressure: the page cache is reclaimed before the OOM killer runs', () => {
  it('unmapped cache pages are written back and freed, so an allocation succeeds without killing anyone', () => {
    const lp = linuxPersonality();
    const k = new Kernel(lp, { frames: 512, contents: true });
    const p = k.createProcess(k.init, 'reader');
    const t = p.threads[0]!;
    const bytes = new Uint8Array(64 * P).fill(7);
    const fd = p.installFile({ path: '/data/big', bytes, readable: true, writable: true });
    const m = k.syscall(t, 'mmap', [0, 64 * P, RW, MAP_SHARED, fd, 0]).value;
    for (let i = 0; i < 64; i++) k.access(t, m + i * P, ACCESS_READ);
    k.mmu.frames.write(k.access(t, m, ACCESS_WRITE), new Uint8Array([42])); // a shared write: the cache page is dirty
    k.syscall(t, 'munmap', [m, 64 * P]); // the 64 pages stay in the page cache
    expect(bytes[0]).toBe(7); // not written back yet
    // Another process now needs more frames than are free: the cache gives its pages back first.
    const hog = k.createProcess(k.init, 'hog');
    const h = hog.threads[0]!;
    const free = k.mmu.frames.freeFrames;
    const a = k.syscall(h, 'mmap', [0, (free + 40) * P, RW, F_ANON, -1, 0]).value;
    for (let i = 0; i < free + 40; i++) expect(k.access(h, a + i * P, ACCESS_WRITE)).toBeGreaterThanOrEqual(0);
    expect([p.state, hog.state]).toEqual(['running', 'running']);
    expect(lp.dmesg(k)).toEqual([]); // no OOM kill
    expect(bytes[0]).toBe(42); // written back to the file
    // The file's next reader sees the written-back byte, from a fresh cache page.
    k.syscall(h, 'munmap', [a, (free + 40) * P]);
    const again = k.syscall(t, 'mmap', [0, P, PROT_READ, MAP_SHARED, fd, 0]).value;
    expect(k.mmu.frames.read(k.access(t, again, ACCESS_READ), 1)[0]).toBe(42);
  });
});

describe('/proc/meminfo', () => {
  it('counts anonymous, mapped, shmem and cached pages once each, however many mappings share them', () => {
    const lp = linuxPersonality();
    const k = new Kernel(lp, { frames: 4096, contents: true });
    const p = k.createProcess(k.init, 'm');
    const t = p.threads[0]!;
    const fd = p.installFile({ path: '/data/f', bytes: new Uint8Array(3 * P).fill(1), readable: true, writable: false });
    const a = k.syscall(t, 'mmap', [0, 10 * P, RW, F_ANON, -1, 0]).value;
    const sh = k.syscall(t, 'mmap', [0, 2 * P, RW, MAP_SHARED | 0x20, -1, 0]).value;
    const f = k.syscall(t, 'mmap', [0, 3 * P, PROT_READ, MAP_PRIVATE, fd, 0]).value;
    for (let i = 0; i < 10; i++) k.access(t, a + i * P, ACCESS_WRITE);
    for (let i = 0; i < 2; i++) k.access(t, sh + i * P, ACCESS_WRITE);
    for (let i = 0; i < 3; i++) k.access(t, f + i * P, ACCESS_READ);
    k.syscall(t, 'fork'); // the child shares all of it: nothing is counted twice
    const m: Record<string, number> = Object.fromEntries(lp.meminfo(k).trimEnd().split('\n').map((l): [string, number] => [l.split(':')[0]!, Number(/(\d+) kB$/.exec(l)![1])]));
    expect(m).toMatchObject({ MemTotal: 4096 * 4, MemFree: k.mmu.frames.freeFrames * 4, AnonPages: 40, Shmem: 8, Mapped: 20, Cached: 20, Buffers: 0, SwapTotal: 0 });
    expect(m.PageTables).toBeGreaterThanOrEqual(2 * 3 * 4);
    expect(lp.meminfo(k)).toMatch(/^MemTotal: {10}16384 kB\nMemFree: /); // "%-16s%8lu kB"
    expect(Object.keys(m)).toEqual(['MemTotal', 'MemFree', 'MemAvailable', 'Buffers', 'Cached', 'SwapCached', 'SwapTotal', 'SwapFree', 'AnonPages', 'Mapped', 'Shmem', 'PageTables', 'CommitLimit', 'Committed_AS']);
  });
});
