/**
 * Vnode objects: mmap of a file takes the vnode's one OBJT_VNODE object (vnode_pager_alloc), so
 * processes mapping the same file share its pages; a MAP_PRIVATE mapping gets a shadow at the
 * first write; write(2) and MAP_SHARED stores agree (one page cache); procstat -v shows `vn` and
 * the path; nothing is left once every process has exited (a seeded property over random calls).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FREEBSD_ERRNO } from '@polykernel/core';
import { Kernel, memoryFileSystem, type Process, type Thread } from '@polykernel/kernel';
import { ACCESS_READ } from '@polykernel/mmu';
import type { VmObject } from '@polykernel/vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { procOf, type FreebsdMachine, type FreebsdSpace } from '../machine.js';
import { MAP_ANON, MAP_PRIVATE, MAP_SHARED, PAGE_SIZE } from '../param.js';
import { freebsdPersonality } from '../personality.js';
import { vmmap } from '../procstat/vm.js';
import { O } from './kern_descrip.js';
import { nameiRoot } from './vfs_lookup.js';
import { vnodeCounts, type Vnode } from './vfs_vnode.js';

type K = Kernel<FreebsdSpace, FreebsdMachine>;
const E = FREEBSD_ERRNO;
const PROT_R = 1;
const PROT_RW = 3;
const LIB = new Uint8Array(3 * PAGE_SIZE - 100).map((_, i) => (i * 7) % 251);
const DATA = new Uint8Array(2 * PAGE_SIZE).fill(0x41);

function boot(extra: Record<string, Uint8Array> = {}): K {
  return new Kernel(freebsdPersonality({ fs: memoryFileSystem({ '/lib/libfoo.so.1': LIB, '/var/data': DATA, ...extra }) }), { frames: 4096, seed: 11, contents: true });
}

function proc(k: K, name: string): { p: Process<FreebsdSpace>; t: Thread } {
  const p = k.createProcess(k.init, name);
  return { p, t: p.threads[0]! };
}

function mapFile(k: K, t: Thread, path: string, oflags: number, prot: number, flags: number, len = LIB.length): number {
  const fd = k.syscall(t, 'open', [path, oflags, 0]).value;
  expect(fd).toBeGreaterThanOrEqual(0);
  const va = k.syscall(t, 'mmap', [0, len, prot, flags, fd, 0]).value;
  expect(va).toBeGreaterThan(0);
  k.syscall(t, 'close', [fd]);
  return va;
}

function vnode(k: K, path: string): Vnode {
  const v = nameiRoot(k.state, path);
  if (typeof v === 'string') throw new Error(v);
  return v;
}

describe('vnode objects (vnode_pager_alloc)', () => {
  it('two processes mapping one file share its object and its pages', () => {
    const k = boot();
    const a = proc(k, 'a');
    const b = proc(k, 'b');
    const va = mapFile(k, a.t, '/lib/libfoo.so.1', O.RDONLY, PROT_R, MAP_SHARED);
    const vb = mapFile(k, b.t, '/lib/libfoo.so.1', O.RDONLY, PROT_R, MAP_PRIVATE);
    const obj = vnode(k, '/lib/libfoo.so.1').object!;
    expect(a.p.space.map.lookupEntry(va)!.object).toBe(obj);
    expect(b.p.space.map.lookupEntry(vb)!.object).toBe(obj);
    for (let i = 0; i < 3; i++) {
      const pa = k.access(a.t, va + i * PAGE_SIZE, ACCESS_READ);
      expect(k.access(b.t, vb + i * PAGE_SIZE, ACCESS_READ)).toBe(pa);
      expect(Math.floor(pa / PAGE_SIZE)).toBe(obj.pages.get(i));
    }
    expect(obj.pages.size).toBe(3);
    expect(k.copyFromUser(b.t, vb + PAGE_SIZE, 16)).toEqual(LIB.subarray(PAGE_SIZE, PAGE_SIZE + 16));
    // The file's bytes past its end read as zeros in the last page.
    expect(k.copyFromUser(a.t, va + LIB.length, 100)).toEqual(new Uint8Array(100));
    // Three frames for six page-table entries: each shared frame is referenced by both tables.
    for (const f of obj.pages.values()) expect(k.mmu.frames.refcount[f]).toBe(3);
    // Each page was read from the file once (the first process's fault), and each fault counted once.
    expect(k.metrics.faults.file).toBe(3);
    expect(k.metrics.faults.soft).toBe(3);
    expect(k.metrics.traps.pageFault).toBe(6);
  });

  it('procstat -v: TP vn, the path, REF the mappings (not the vnode\'s own hold), C for a private mapping', () => {
    const k = boot();
    const a = proc(k, 'a');
    const b = proc(k, 'b');
    const va = mapFile(k, a.t, '/lib/libfoo.so.1', O.RDONLY, PROT_R, MAP_SHARED);
    const vb = mapFile(k, b.t, '/lib/libfoo.so.1', O.RDONLY, PROT_R | 4, MAP_PRIVATE);
    k.access(a.t, va, ACCESS_READ);
    const ra = vmmap(a.p.space).find((r) => r.kve_start === va)!;
    expect(ra).toMatchObject({ kve_type: 'vnode', kve_path: '/lib/libfoo.so.1', kve_ref_count: 2, kve_resident: 1, kve_private_resident: 1, cow: false });
    const rb = vmmap(b.p.space).find((r) => r.kve_start === vb)!;
    expect(rb).toMatchObject({ kve_type: 'vnode', kve_ref_count: 2, cow: true, needsCopy: true });
    const line = k.personality.views[0]!.render(k, b.p).split('\n').find((l) => l.includes(vb.toString(16)))!;
    expect(line).toMatch(/ r-x +1 +1 +2 +0 CN--- vn \/lib\/libfoo\.so\.1$/);
  });

  it('MAP_SHARED stores reach read(2) and the other mapping; MAP_PRIVATE ones make a shadow and stay private', () => {
    const k = boot();
    const a = proc(k, 'a');
    const b = proc(k, 'b');
    const sa = mapFile(k, a.t, '/var/data', O.RDWR, PROT_RW, MAP_SHARED, DATA.length);
    const sb = mapFile(k, b.t, '/var/data', O.RDONLY, PROT_R, MAP_SHARED, DATA.length);
    const pb = mapFile(k, b.t, '/var/data', O.RDONLY, PROT_RW, MAP_PRIVATE, DATA.length);
    const obj = vnode(k, '/var/data').object!;
    k.copyToUser(a.t, sa + 10, Uint8Array.of(0x5a));
    expect(k.copyFromUser(b.t, sb + 10, 1)[0]).toBe(0x5a);
    expect(k.copyFromUser(b.t, pb + 10, 1)[0]).toBe(0x5a); // not yet written privately: the file's page
    // The private mapping's first write: a shadow over the vnode object, holding a copy.
    k.copyToUser(b.t, pb + 11, Uint8Array.of(0x77));
    const e = b.p.space.map.lookupEntry(pb)!;
    expect(e.object).not.toBe(obj);
    expect(e.object!.backing).toBe(obj);
    expect(e.object!.chainLength).toBe(2);
    expect(k.copyFromUser(a.t, sa + 11, 1)[0]).toBe(0x41);
    expect(vmmap(b.p.space).find((r) => r.kve_start === pb)).toMatchObject({ kve_type: 'vnode', kve_path: '/var/data', kve_ref_count: 1, needsCopy: false });
    // read(2) sees the shared store; write(2) changes what the shared mappings see.
    const buf = k.syscall(a.t, 'mmap', [0, PAGE_SIZE, PROT_RW, MAP_PRIVATE | MAP_ANON, -1, 0]).value;
    const fd = k.syscall(a.t, 'open', ['/var/data', O.RDWR, 0]).value;
    expect(k.syscall(a.t, 'pread', [fd, buf, 4, 9]).value).toBe(4);
    expect([...k.copyFromUser(a.t, buf, 4)]).toEqual([0x41, 0x5a, 0x41, 0x41]);
    k.copyToUser(a.t, buf, Uint8Array.of(1, 2, 3));
    expect(k.syscall(a.t, 'pwrite', [fd, buf, 3, PAGE_SIZE + 5]).value).toBe(3);
    expect([...k.copyFromUser(b.t, sb + PAGE_SIZE + 5, 3)]).toEqual([1, 2, 3]);
  });

  it('what a shared mapping wrote outlives every process (in the overlay), the file system\'s bytes do not change', () => {
    const k = boot();
    const before = DATA.slice();
    const a = proc(k, 'a');
    const sa = mapFile(k, a.t, '/var/data', O.RDWR, PROT_RW, MAP_SHARED, DATA.length);
    k.copyToUser(a.t, sa + PAGE_SIZE, Uint8Array.of(9, 8, 7));
    k.exitProcess(a.p, 0);
    expect(vnodeCounts(k.state).objects).toBe(0);
    expect(k.vm.liveObjects).toBe(0);
    const b = proc(k, 'b');
    const buf = k.syscall(b.t, 'mmap', [0, PAGE_SIZE, PROT_RW, MAP_PRIVATE | MAP_ANON, -1, 0]).value;
    const fd = k.syscall(b.t, 'open', ['/var/data', O.RDONLY, 0]).value;
    expect(k.syscall(b.t, 'pread', [fd, buf, 4, PAGE_SIZE]).value).toBe(4);
    expect([...k.copyFromUser(b.t, buf, 4)]).toEqual([9, 8, 7, 0x41]);
    expect(DATA).toEqual(before);
  });

  it('a page past the end of the file is SIGBUS; mmap\'s errnos for descriptors', () => {
    const k = boot();
    const a = proc(k, 'a');
    const va = mapFile(k, a.t, '/lib/libfoo.so.1', O.RDONLY, PROT_R, MAP_SHARED, 5 * PAGE_SIZE);
    expect(k.access(a.t, va + 2 * PAGE_SIZE, ACCESS_READ)).toBeGreaterThanOrEqual(0);
    expect(k.access(a.t, va + 4 * PAGE_SIZE, ACCESS_READ)).toBe(-1);
    expect(a.p.killedBy).toBe('SIGBUS');
    const b = proc(k, 'b');
    const ro = k.syscall(b.t, 'open', ['/lib/libfoo.so.1', O.RDONLY, 0]).value;
    expect(k.syscall(b.t, 'mmap', [0, PAGE_SIZE, PROT_RW, MAP_SHARED, ro, 0]).errorNumber).toBe(E.EACCES);
    expect(k.syscall(b.t, 'mmap', [0, PAGE_SIZE, PROT_RW, MAP_PRIVATE, ro, 0]).value).toBeGreaterThan(0);
    // Neither MAP_SHARED nor MAP_PRIVATE: allowed for an old binary, EINVAL for one built for 11.0 or later.
    expect(k.syscall(b.t, 'mmap', [0, PAGE_SIZE, PROT_R, 0, ro, 0]).value).toBeGreaterThan(0);
    procOf(k.state, b.p).osrel = 1400097;
    expect(k.syscall(b.t, 'mmap', [0, PAGE_SIZE, PROT_R, 0, ro, 0]).errorNumber).toBe(E.EINVAL);
    const wo = k.syscall(b.t, 'open', ['/var/data', O.WRONLY, 0]).value;
    expect(k.syscall(b.t, 'mmap', [0, PAGE_SIZE, PROT_R, MAP_SHARED, wo, 0]).errorNumber).toBe(E.EACCES);
    const dir = k.syscall(b.t, 'open', ['/lib', O.RDONLY, 0]).value;
    expect(k.syscall(b.t, 'mmap', [0, PAGE_SIZE, PROT_R, MAP_SHARED, dir, 0]).errorNumber).toBe(E.EINVAL);
    const nul = k.syscall(b.t, 'open', ['/dev/null', O.RDWR, 0]).value;
    expect(k.syscall(b.t, 'mmap', [0, PAGE_SIZE, PROT_R, MAP_SHARED, nul, 0]).errorNumber).toBe(E.ENODEV);
    expect(k.syscall(b.t, 'mmap', [0, PAGE_SIZE, PROT_R, MAP_SHARED, 40, 0]).errorNumber).toBe(E.EBADF);
    // /dev/zero (D_MMAP_ANON) is anonymous memory.
    const z = k.syscall(b.t, 'open', ['/dev/zero', O.RDWR, 0]).value;
    const zv = k.syscall(b.t, 'mmap', [0, PAGE_SIZE, PROT_RW, MAP_PRIVATE, z, 0]).value;
    k.copyToUser(b.t, zv, Uint8Array.of(1));
    expect(vmmap(b.p.space).find((r) => r.kve_start === zv)!.kve_type).toBe('swap');
    const fds = k.syscall(b.t, 'pipe2', [zv, 0]);
    expect(fds.value).toBe(0);
    const rfd = new DataView(k.copyFromUser(b.t, zv, 4).buffer).getInt32(0, true);
    expect(k.syscall(b.t, 'mmap', [0, PAGE_SIZE, PROT_R, MAP_SHARED, rfd, 0]).errorNumber).toBe(E.ENODEV);
  });

  it('two processes exec\'ing one FreeBSD image share its text pages', () => {
    const node = new Uint8Array(readFileSync(fileURLToPath(new URL('../../../../formats/elf/test/fixtures/rollup.freebsd-x64.node', import.meta.url))));
    const k = boot({ '/usr/lib/rollup.node': node });
    const a = proc(k, 'a');
    const b = proc(k, 'b');
    expect(k.syscall(a.t, 'execve', ['/usr/lib/rollup.node', [], []]).value).toBe(0);
    expect(k.syscall(b.t, 'execve', ['/usr/lib/rollup.node', [], []]).value).toBe(0);
    const text = vmmap(a.p.space).find((r) => r.kve_path === '/usr/lib/rollup.node')!;
    const pa = k.access(a.t, text.kve_start, ACCESS_READ);
    expect(k.access(b.t, text.kve_start, ACCESS_READ)).toBe(pa);
    k.exitProcess(a.p, 0);
    k.exitProcess(b.p, 0);
    expect(vnodeCounts(k.state).objects).toBe(0);
  });
});

type Op =
  | { op: 'map'; who: number; file: number; shared: boolean; write: boolean }
  | { op: 'touch'; who: number; region: number; page: number; write: boolean; value: number }
  | { op: 'pwrite'; who: number; file: number; page: number; value: number }
  | { op: 'unmap'; who: number; region: number }
  | { op: 'fork'; who: number }
  | { op: 'exit'; who: number };

const FILES = ['/lib/libfoo.so.1', '/var/data'];

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('map' as const), who: fc.nat(7), file: fc.nat(1), shared: fc.boolean(), write: fc.boolean() }),
  fc.record({ op: fc.constant('touch' as const), who: fc.nat(7), region: fc.nat(7), page: fc.nat(2), write: fc.boolean(), value: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ op: fc.constant('touch' as const), who: fc.nat(7), region: fc.nat(7), page: fc.nat(2), write: fc.boolean(), value: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ op: fc.constant('pwrite' as const), who: fc.nat(7), file: fc.nat(1), page: fc.nat(2), value: fc.integer({ min: 1, max: 255 }) }),
  fc.record({ op: fc.constant('unmap' as const), who: fc.nat(7), region: fc.nat(7) }),
  fc.record({ op: fc.constant('fork' as const), who: fc.nat(7) }),
  fc.record({ op: fc.constant('exit' as const), who: fc.nat(7) }),
);

interface Region { va: number; file: number; shared: boolean }
interface Model { p: Process<FreebsdSpace>; t: Thread; regions: Region[]; buf: number }

/** The vnode object's references: the vnode's own, one per map entry on it, one per shadow over it. */
function checkRefs(k: K): void {
  for (const path of FILES) {
    const o = vnode(k, path).object;
    if (o === null) continue;
    let n = 1;
    const objects = new Set<VmObject>();
    for (const sp of k.state.spaces) {
      for (const e of sp.map.entries()) {
        if (e.object === o) n++;
        for (let x: VmObject | null = e.object; x !== null; x = x.backing) {
          if (x.backing === o && !objects.has(x)) n++;
          objects.add(x);
        }
      }
    }
    expect(o.refCount, `${path}'s object: its vnode's reference, one per entry, one per shadow`).toBe(n);
  }
}

/** A shared mapping of a file reads the vnode object's frame for every resident page (one copy of each page). */
function checkSharing(k: K, models: Model[]): void {
  for (const m of models) {
    if (m.p.state !== 'running') continue;
    for (const r of m.regions) {
      if (!r.shared) continue;
      const o = vnode(k, FILES[r.file]!).object!;
      for (let i = 0; i < 2; i++) {
        const f = o.pages.get(i);
        if (f === undefined) continue;
        const e = m.p.space.map.lookupEntry(r.va + i * PAGE_SIZE);
        if (e === undefined) continue; // unmapped since
        expect(Math.floor(k.access(m.t, r.va + i * PAGE_SIZE, ACCESS_READ) / PAGE_SIZE), 'a shared mapping maps the page cache\'s frame').toBe(f);
      }
    }
  }
}

function run(ops: Op[]): void {
  const k = boot();
  const free0 = k.mmu.frames.freeFrames;
  const root = proc(k, 'root');
  const mk = (p: Process<FreebsdSpace>): Model => {
    const t = p.threads[0]!;
    const buf = k.syscall(t, 'mmap', [0, PAGE_SIZE, PROT_RW, MAP_PRIVATE | MAP_ANON, -1, 0]).value;
    return { p, t, regions: [], buf };
  };
  const models: Model[] = [mk(root.p)];
  for (const o of ops) {
    const live = models.filter((m) => m.p.state === 'running');
    if (live.length === 0) break;
    const m = live[o.who % live.length]!;
    switch (o.op) {
      case 'map': {
        const fd = k.syscall(m.t, 'open', [FILES[o.file]!, o.write ? O.RDWR : O.RDONLY, 0]).value;
        const va = k.syscall(m.t, 'mmap', [0, 2 * PAGE_SIZE, o.write || !o.shared ? PROT_RW : PROT_R, o.shared ? MAP_SHARED : MAP_PRIVATE, fd, 0]).value;
        k.syscall(m.t, 'close', [fd]);
        if (va > 0) m.regions.push({ va, file: o.file, shared: o.shared });
        break;
      }
      case 'touch': {
        const r = m.regions[o.region % Math.max(1, m.regions.length)];
        if (r === undefined) break;
        const e = m.p.space.map.lookupEntry(r.va);
        if (e === undefined) break;
        if (o.write && (e.protection & 2) !== 0) k.copyToUser(m.t, r.va + o.page % 2 * PAGE_SIZE, Uint8Array.of(o.value));
        else k.access(m.t, r.va + o.page % 2 * PAGE_SIZE, ACCESS_READ);
        break;
      }
      case 'pwrite': {
        const fd = k.syscall(m.t, 'open', [FILES[o.file]!, O.RDWR, 0]).value;
        k.copyToUser(m.t, m.buf, Uint8Array.of(o.value));
        k.syscall(m.t, 'pwrite', [fd, m.buf, 1, o.page % 2 * PAGE_SIZE + 3]);
        k.syscall(m.t, 'close', [fd]);
        break;
      }
      case 'unmap': {
        const i = o.region % Math.max(1, m.regions.length);
        const r = m.regions[i];
        if (r === undefined) break;
        k.syscall(m.t, 'munmap', [r.va, 2 * PAGE_SIZE]);
        m.regions.splice(i, 1);
        break;
      }
      case 'fork': {
        if (live.length >= 6) break;
        const pid = k.syscall(m.t, 'fork').value;
        const c = k.processes.get(pid)!;
        models.push({ p: c, t: c.threads[0]!, regions: m.regions.map((r) => ({ ...r })), buf: m.buf });
        break;
      }
      case 'exit':
        if (m.p !== root.p) k.exitProcess(m.p, 0);
        break;
    }
    checkRefs(k);
    checkSharing(k, models);
  }
  for (const m of models) if (m.p.state === 'running') k.exitProcess(m.p, 0);
  expect(vnodeCounts(k.state).objects, 'vnode objects left').toBe(0);
  expect(k.vm.liveObjects, 'VM objects left').toBe(0);
  expect(k.mmu.frames.freeFrames, 'frames left').toBe(free0);
}

describe('vnode objects over random call sequences', () => {
  it('pages are shared through the one object, references add up, and nothing is left after every exit', () => {
    fc.assert(fc.property(fc.array(opArb, { minLength: 10, maxLength: 60 }), (ops) => {
      run(ops);
    }), { seed: 0xf11e, numRuns: 80 });
  });
});
