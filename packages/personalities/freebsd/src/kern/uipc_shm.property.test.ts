/**
 * Random sequences of shm calls (regular and 2 MiB largepage objects: shm_open2, ioctl, ftruncate,
 * mmap, touches, munmap, close, fork, exit) keep every mapped frame's reference count at 1 + the
 * page-table entries mapping it (a 2 MiB leaf holds each of its 512 frames), a process reads what
 * any sharer wrote, and once every process has exited and every descriptor is closed, no frame and
 * no VM object is left.
 */
import fc from 'fast-check';
import { Kernel, type Process } from '@polykernel/kernel';
import { ACCESS_WRITE } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import type { FreebsdMachine, FreebsdSpace } from '../machine.js';
import { MAP_ANON, MAP_PRIVATE, MAP_SHARED, PAGE_SIZE } from '../param.js';
import { freebsdPersonality } from '../personality.js';
import { O } from './kern_descrip.js';
import { FIOSSHMLPGCNF } from './sys_ioctl.js';
import { SHM_ANON, SHM_LARGEPAGE, SHM_LARGEPAGE_ALLOC_NOWAIT } from './uipc_shm.js';

type K = Kernel<FreebsdSpace, FreebsdMachine>;
const MIB2 = 2 ** 21;

type Op =
  | { op: 'open'; p: number; large: boolean; units: number }
  | { op: 'mmap'; p: number; fd: number; shared: boolean }
  | { op: 'touch'; p: number; m: number; at: number; v: number }
  | { op: 'munmap'; p: number; m: number }
  | { op: 'close'; p: number; fd: number }
  | { op: 'fork'; p: number }
  | { op: 'exit'; p: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ op: fc.constant('open' as const), p: fc.nat(), large: fc.boolean(), units: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('mmap' as const), p: fc.nat(), fd: fc.nat(), shared: fc.boolean() }) },
  { weight: 5, arbitrary: fc.record({ op: fc.constant('touch' as const), p: fc.nat(), m: fc.nat(), at: fc.nat(), v: fc.integer({ min: 1, max: 255 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('munmap' as const), p: fc.nat(), m: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('close' as const), p: fc.nat(), fd: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('fork' as const), p: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('exit' as const), p: fc.nat() }) },
);

interface Obj { bytes: number; large: boolean; shared: Map<number, number> }
interface Mapping { va: number; len: number; obj: Obj; shared: boolean; own: Map<number, number> }
interface Model { proc: Process<FreebsdSpace>; fds: { fd: number; obj: Obj }[]; maps: Mapping[] }

function checkRefcounts(k: K): void {
  const refs = new Map<number, number>();
  for (const s of k.state.spaces) {
    s.pmap.pt.forEachLeaf(0, 2 ** 47, (_va, frame, size) => {
      for (let i = 0; i < size / PAGE_SIZE; i++) refs.set(frame + i, (refs.get(frame + i) ?? 0) + 1);
    });
  }
  for (const [frame, n] of refs) expect(k.mmu.frames.refcount[frame], `frame ${frame}`).toBe(1 + n);
}

function run(ops: Op[]): void {
  const k: K = new Kernel(freebsdPersonality(), { frames: 16384, seed: 8, contents: true });
  const free0 = k.mmu.frames.freeFrames;
  const objects0 = k.vm.liveObjects;
  const root = k.createProcess(k.init, 'root');
  const rt = root.threads[0]!;
  const scratch = k.syscall(rt, 'mmap', [0, PAGE_SIZE, 3, MAP_PRIVATE | MAP_ANON, -1, 0]).value;
  const models: Model[] = [{ proc: root, fds: [], maps: [] }];
  const live = (): Model[] => models.filter((m) => m.proc.state === 'running');
  for (const o of ops) {
    const alive = live();
    const m = alive[o.p % alive.length]!;
    const t = m.proc.threads[0]!;
    switch (o.op) {
      case 'open': {
        if (m.proc !== root) break; // the scratch buffer for ioctl is the root's
        const fd = k.syscall(t, 'shm_open2', [SHM_ANON, O.RDWR, 0o600, o.large ? SHM_LARGEPAGE : 0, 0]).value;
        expect(fd).toBeGreaterThanOrEqual(0);
        let bytes = o.units * (o.large ? MIB2 : 4 * PAGE_SIZE);
        if (o.large) {
          const conf = new Uint8Array(48);
          new DataView(conf.buffer).setInt32(0, 1, true);
          new DataView(conf.buffer).setInt32(4, SHM_LARGEPAGE_ALLOC_NOWAIT, true);
          k.copyToUser(t, scratch, conf);
          expect(k.syscall(t, 'ioctl', [fd, FIOSSHMLPGCNF, scratch]).value).toBe(0);
        }
        const r = k.syscall(t, 'ftruncate', [fd, bytes]);
        if (r.value !== 0) {
          // ENOMEM (no free aligned 2 MiB block): the pages that fitted stay, the size says how many.
          expect(r.error).toBe('ENOMEM');
          k.syscall(t, 'fstat', [fd, scratch]);
          bytes = Number(new DataView(k.copyFromUser(t, scratch, 224).buffer).getBigInt64(112, true));
        }
        m.fds.push({ fd, obj: { bytes, large: o.large, shared: new Map() } });
        break;
      }
      case 'mmap': {
        if (m.fds.length === 0) break;
        const f = m.fds[o.fd % m.fds.length]!;
        if (f.obj.bytes === 0) break;
        const shared = f.obj.large || o.shared;
        const va = k.syscall(t, 'mmap', [0, f.obj.bytes, 3, shared ? MAP_SHARED : MAP_PRIVATE, f.fd, 0]).value;
        expect(va, 'mmap').toBeGreaterThan(0);
        m.maps.push({ va, len: f.obj.bytes, obj: f.obj, shared, own: new Map() });
        break;
      }
      case 'touch': {
        if (m.maps.length === 0) break;
        const mp = m.maps[o.m % m.maps.length]!;
        const page = o.at % (mp.len / PAGE_SIZE);
        const va = mp.va + page * PAGE_SIZE;
        const want = mp.own.get(page) ?? mp.obj.shared.get(page) ?? 0;
        expect(k.copyFromUser(t, va, 1)[0], `read ${va.toString(16)}`).toBe(want);
        expect(k.access(t, va, ACCESS_WRITE)).toBeGreaterThanOrEqual(0);
        k.copyToUser(t, va, Uint8Array.of(o.v));
        if (mp.shared) mp.obj.shared.set(page, o.v);
        else mp.own.set(page, o.v);
        break;
      }
      case 'munmap': {
        if (m.maps.length === 0) break;
        const [mp] = m.maps.splice(o.m % m.maps.length, 1);
        expect(k.syscall(t, 'munmap', [mp!.va, mp!.len]).value).toBe(0);
        break;
      }
      case 'close': {
        if (m.fds.length === 0) break;
        const [f] = m.fds.splice(o.fd % m.fds.length, 1);
        expect(k.syscall(t, 'close', [f!.fd]).value).toBe(0);
        break;
      }
      case 'fork': {
        if (alive.length >= 4) break;
        const child = k.processes.get(k.syscall(t, 'fork').value)!;
        // The child shares the descriptors' objects and the shared mappings; private ones are copies.
        models.push({ proc: child, fds: m.fds.map((f) => ({ ...f })), maps: m.maps.map((mp) => ({ ...mp, own: new Map(mp.own) })) });
        break;
      }
      case 'exit':
        if (m.proc === root) break;
        k.syscall(t, 'exit', [0]);
        break;
    }
    checkRefcounts(k);
  }
  for (const m of live()) if (m.proc !== root) k.exitProcess(m.proc, 0);
  checkRefcounts(k);
  k.exitProcess(root, 0);
  expect(k.mmu.frames.freeFrames, 'frames left').toBe(free0);
  expect(k.vm.liveObjects, 'VM objects left').toBe(objects0);
}

describe('shm invariants over random call sequences', () => {
  it('refcounts = page-table references (2 MiB leaves included), sharing, no frame or object left', () => {
    fc.assert(fc.property(fc.array(opArb, { minLength: 10, maxLength: 50 }), (ops) => {
      run(ops);
    }), { seed: 0x5b1, numRuns: 60 });
  });
});
