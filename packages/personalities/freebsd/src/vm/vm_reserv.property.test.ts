/**
 * Reservation and superpage invariants over random call sequences (fast-check, fixed seed): after
 * every step each reservation's population count equals the frames of its block that some VM
 * object holds (and its popmap says which), every mapped frame has a reference count of 1 + the
 * page-table entries mapping it (a 2 MiB entry maps 512), every 2 MiB mapping covers one fully
 * populated reservation, in order, inside map entries of one protection; every active reservation
 * belongs to a live object (pages that a collapse, a split or a copy-on-write move hands to another
 * object take their reservation along — vm_reserv_rename — and an object that goes breaks what it
 * still owns — vm_reserv_break_all); and when every process is gone, no frame is left allocated
 * and no reservation active. A small machine (16 MiB) makes
 * reclaim (vm_reserv_reclaim_inactive) and, past it, the page daemon run.
 */
import fc from 'fast-check';
import { Kernel, type Process } from '@polykernel/kernel';
import { ACCESS_READ, ACCESS_WRITE, PTE_WRITE } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import type { FreebsdMachine, FreebsdSpace } from '../machine.js';
import { MAP_ANON, MAP_FIXED, MAP_PRIVATE, PAGE_SIZE, SUPERPAGE_SIZE } from '../param.js';
import { freebsdPersonality } from '../personality.js';
import { VM_LEVEL_0_NPAGES } from './vm_reserv.js';

type K = Kernel<FreebsdSpace, FreebsdMachine>;
const BASE = 0x4000_0000;
const SLOTS = 2;
const NP = VM_LEVEL_0_NPAGES;

type Op =
  | { op: 'mmap'; p: number; slot: number; pages: number; shift: number }
  | { op: 'fill'; p: number; slot: number; from: number; pages: number; write: boolean }
  | { op: 'munmap'; p: number; slot: number; from: number; pages: number }
  | { op: 'mprotect'; p: number; slot: number; from: number; pages: number; prot: number }
  | { op: 'fork'; p: number }
  | { op: 'forkWriteExit'; p: number; slot: number; from: number; pages: number }
  | { op: 'exit'; p: number };

const page = fc.integer({ min: 0, max: 2 * NP - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ op: fc.constant('mmap' as const), p: fc.nat(), slot: fc.nat(SLOTS - 1), pages: fc.constantFrom(1, 100, NP, 2 * NP), shift: fc.constantFrom(0, 0, 3) }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('fill' as const), p: fc.nat(), slot: fc.nat(SLOTS - 1), from: fc.oneof(fc.constantFrom(0, NP), page), pages: fc.constantFrom(1, 7, NP, 2 * NP), write: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('munmap' as const), p: fc.nat(), slot: fc.nat(SLOTS - 1), from: page, pages: fc.constantFrom(1, 33, NP) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('mprotect' as const), p: fc.nat(), slot: fc.nat(SLOTS - 1), from: page, pages: fc.constantFrom(1, 33, NP), prot: fc.constantFrom(1, 3) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('fork' as const), p: fc.nat() }) },
  // A child that writes and exits while its parent writes too: the parent's shadow is left the
  // only user of the object below and collapses into it (its pages move up).
  { weight: 2, arbitrary: fc.record({ op: fc.constant('forkWriteExit' as const), p: fc.nat(), slot: fc.nat(SLOTS - 1), from: page, pages: fc.constantFrom(1, 33, NP) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('exit' as const), p: fc.nat() }) },
);

function slotVa(slot: number): number {
  return BASE + slot * 2 * SUPERPAGE_SIZE;
}

/** Page-table references per frame over every live vmspace (a 2 MiB entry references 512). */
function pteRefs(k: K): Map<number, number> {
  const refs = new Map<number, number>();
  for (const s of k.state.spaces) {
    s.pmap.pt.forEachLeaf(0, 2 ** 47, (_va, frame, size) => {
      for (let i = 0; i < size / PAGE_SIZE; i++) refs.set(frame + i, (refs.get(frame + i) ?? 0) + 1);
    });
  }
  return refs;
}

function checkFrames(k: K): void {
  const refs = pteRefs(k);
  for (const [frame, n] of refs) {
    expect(k.vm.ownerOf(frame), `frame ${frame} is mapped but belongs to no object`).not.toBeNull();
    expect(k.mmu.frames.refcount[frame], `frame ${frame}: refcount vs ${n} page-table references`).toBe(1 + n);
  }
}

function checkReservations(k: K): void {
  const rs = k.state.reserv!;
  for (let rv = 0; rv < rs.count; rv++) {
    const obj = rs.objectOf(rv);
    if (obj === null) continue;
    expect(obj.dead, `reservation ${rv} belongs to object ${obj.id}, which is gone`).toBe(false);
    let held = 0;
    for (let f = rv * NP; f < (rv + 1) * NP; f++) {
      const owned = k.vm.ownerOf(f) !== null;
      expect(rs.isPopulated(f), `frame ${f}: popmap vs object ownership`).toBe(owned);
      if (owned) held++;
      else expect(k.mmu.frames.isFree(f), `unpopulated frame ${f} of reservation ${rv} is held by it`).toBe(false);
    }
    expect(rs.popcnt[rv], `reservation ${rv}: popcnt`).toBe(held);
  }
  // Unpopulated reserved frames are not in use: the allocator's held count (left out of peak
  // resident) is exactly theirs.
  expect(k.mmu.frames.held, 'frames held unused vs the reservations\' unpopulated frames').toBe(rs.unpopulatedFrames());
}

function checkSuperpages(k: K): number {
  const rs = k.state.reserv!;
  let n = 0;
  for (const s of k.state.spaces) {
    s.pmap.pt.forEachLeaf(0, 2 ** 47, (va, frame, size, flags) => {
      if (size !== SUPERPAGE_SIZE) return;
      n++;
      expect(frame % NP, `superpage at 0x${va.toString(16)}: frame alignment`).toBe(0);
      expect(rs.levelIfFullpop(frame), `superpage at 0x${va.toString(16)}: reservation fully populated`).toBe(0);
      for (let i = 0; i < NP; i++) expect(k.vm.ownerOf(frame + i)).not.toBeNull();
      // One protection over the whole run, and never more than the entries allow.
      const prots = new Set<number>();
      for (let a = va; a < va + SUPERPAGE_SIZE; a += PAGE_SIZE) {
        const e = s.map.lookupEntry(a);
        expect(e, `superpage at 0x${va.toString(16)} maps 0x${a.toString(16)} outside every entry`).toBeDefined();
        prots.add(e!.protection);
      }
      expect(prots.size, `superpage at 0x${va.toString(16)}: entries of one protection`).toBe(1);
      if ((flags & PTE_WRITE) !== 0) expect([...prots][0]! & 2).toBe(2);
    });
  }
  return n;
}

interface Stats { promotions: number; demotions: number; reclaimed: number; renamed: number; pagesMoved: number; superpagesSeen: number }

function run(ops: Op[], stats: Stats): void {
  const k: K = new Kernel(freebsdPersonality(), { frames: 4096, seed: 9 });
  const free0 = k.mmu.frames.freeFrames;
  const procs: Process<FreebsdSpace>[] = [k.createProcess(k.init, 'root')];
  // Two 4 MiB regions to start with: one 2 MiB-aligned, one 3 pages past a boundary.
  for (let slot = 0; slot < SLOTS; slot++) {
    k.syscall(procs[0]!.threads[0]!, 'mmap', [slotVa(slot) + slot * 3 * PAGE_SIZE, 2 * NP * PAGE_SIZE, 3, MAP_PRIVATE | MAP_ANON | MAP_FIXED, -1, 0]);
  }
  const live = (): Process<FreebsdSpace>[] => procs.filter((p) => p.state === 'running');
  for (const o of ops) {
    const alive = live();
    if (alive.length === 0) break;
    const p = alive[o.p % alive.length]!;
    const t = p.threads[0]!;
    switch (o.op) {
      case 'mmap':
        k.syscall(t, 'mmap', [slotVa(o.slot) + o.shift * PAGE_SIZE, o.pages * PAGE_SIZE, 3, MAP_PRIVATE | MAP_ANON | MAP_FIXED, -1, 0]);
        break;
      case 'fill':
        for (let i = o.from; i < Math.min(o.from + o.pages, 2 * NP); i++) {
          const va = slotVa(o.slot) + i * PAGE_SIZE;
          if (p.space.map.lookupEntry(va) === undefined) continue;
          k.access(t, va, o.write ? ACCESS_WRITE : ACCESS_READ);
          if (p.state !== 'running') break; // a SIGSEGV/SIGBUS killed it
        }
        break;
      case 'munmap':
        k.syscall(t, 'munmap', [slotVa(o.slot) + o.from * PAGE_SIZE, o.pages * PAGE_SIZE]);
        break;
      case 'mprotect':
        k.syscall(t, 'mprotect', [slotVa(o.slot) + o.from * PAGE_SIZE, o.pages * PAGE_SIZE, o.prot]);
        break;
      case 'fork': {
        const r = k.syscall(t, 'fork');
        if (r.value > 0) procs.push(k.processes.get(r.value)!);
        break;
      }
      case 'forkWriteExit': {
        const r = k.syscall(t, 'fork');
        if (r.value <= 0) break;
        const child = k.processes.get(r.value)!;
        for (const [who, th] of [[child, child.threads[0]!], [p, t]] as const) {
          for (let i = o.from; i < Math.min(o.from + o.pages, 2 * NP) && who.state === 'running'; i++) {
            const va = slotVa(o.slot) + i * PAGE_SIZE;
            if (who.space.map.lookupEntry(va) !== undefined) k.access(th, va, ACCESS_WRITE);
          }
        }
        if (child.state === 'running') k.syscall(child.threads[0]!, 'exit', [0]);
        if (p.state === 'running') k.syscall(t, 'wait4', [r.value, 0, 0, 0]);
        break;
      }
      case 'exit':
        if (p === procs[0]) break; // the root goes last
        k.syscall(t, 'exit', [0]);
        break;
    }
    checkFrames(k);
    checkReservations(k);
    stats.superpagesSeen += checkSuperpages(k);
  }
  stats.promotions += k.state.pde.promotions;
  stats.demotions += k.state.pde.demotions;
  stats.reclaimed += k.state.reserv!.counters.reclaimed;
  stats.renamed += k.state.reserv!.counters.renamed;
  stats.pagesMoved += k.vm.counters.pagesMoved + k.vm.counters.cowMoves;
  // Everyone exits.
  for (const p of live()) if (p !== procs[0]) k.exitProcess(p, 0);
  checkFrames(k);
  checkReservations(k);
  if (procs[0]!.state === 'running') k.exitProcess(procs[0]!, 0);
  expect(k.state.reserv!.active(), 'reservations left when every process is gone').toBe(0);
  expect(k.mmu.frames.freeFrames, 'frames leaked').toBe(free0);
}

describe('reservation and superpage invariants (fast-check, seeded)', () => {
  it('hold over random mmap/touch/munmap/mprotect/fork/exit sequences, and nothing leaks', () => {
    const stats: Stats = { promotions: 0, demotions: 0, reclaimed: 0, renamed: 0, pagesMoved: 0, superpagesSeen: 0 };
    fc.assert(fc.property(fc.array(opArb, { minLength: 1, maxLength: 24 }), (ops) => {
      run(ops, stats);
    }), { seed: 1302, numRuns: 25 });
    // The sequences did reach the interesting states (a test that can fail if they stop doing so).
    expect(stats.promotions).toBeGreaterThan(0);
    expect(stats.demotions).toBeGreaterThan(0);
    expect(stats.superpagesSeen).toBeGreaterThan(0);
    expect(stats.renamed).toBeGreaterThan(0);
    expect(stats.pagesMoved).toBeGreaterThan(0);
  });
});
