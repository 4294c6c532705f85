/**
 * Kernel invariants over random call sequences (fast-check, fixed seed): after every step each
 * frame an object owns has a reference count of 1 + the page-table entries that map it, no entry
 * maps a frame no object owns; every process's memory reads back what it last wrote (isolation
 * through fork, COW and ZERO inheritance); no object that could collapse is left uncollapsed and
 * none is unreachable, whatever exits; and when every process is gone no frame, page-table
 * page, VM object or swap slot is left.
 */
import fc from 'fast-check';
import { Kernel, type Process } from '@polykernel/kernel';
import { describe, expect, it } from 'vitest';
import type { FreebsdMachine, FreebsdSpace } from './machine.js';
import { PTE_WRITE } from '@polykernel/mmu';
import { MAP_ANON, MAP_ENTRY_NEEDS_COPY, MAP_PRIVATE, PAGE_SIZE } from './param.js';
import { freebsdPersonality } from './personality.js';

type K = Kernel<FreebsdSpace, FreebsdMachine>;

type Op =
  | { op: 'mmap'; p: number; pages: number; prot: number }
  | { op: 'munmap'; p: number; r: number; from: number; pages: number }
  | { op: 'mprotect'; p: number; r: number; from: number; pages: number; prot: number }
  | { op: 'minherit'; p: number; r: number; inherit: number }
  | { op: 'write'; p: number; r: number; page: number; v: number }
  | { op: 'read'; p: number; r: number; page: number }
  | { op: 'fork'; p: number }
  | { op: 'exit'; p: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ op: fc.constant('mmap' as const), p: fc.nat(), pages: fc.integer({ min: 1, max: 6 }), prot: fc.constantFrom(1, 3) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('munmap' as const), p: fc.nat(), r: fc.nat(), from: fc.nat(5), pages: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('mprotect' as const), p: fc.nat(), r: fc.nat(), from: fc.nat(5), pages: fc.integer({ min: 1, max: 3 }), prot: fc.constantFrom(0, 1, 3) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('minherit' as const), p: fc.nat(), r: fc.nat(), inherit: fc.constantFrom(0, 1, 2, 3) }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('write' as const), p: fc.nat(), r: fc.nat(), page: fc.nat(5), v: fc.integer({ min: 1, max: 255 }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('read' as const), p: fc.nat(), r: fc.nat(), page: fc.nat(5) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('fork' as const), p: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('exit' as const), p: fc.nat() }) },
);

/** What a process should read: its regions and, per page, the last value written (0 = never). */
interface Model {
  proc: Process<FreebsdSpace>;
  regions: { va: number; pages: number; inherit?: number }[];
  /** va of a page → expected first byte; pages shared (SHARE) are tracked through `shared`. */
  bytes: Map<number, number>;
}

/** Frame references from page tables, over every live vmspace. */
function pteRefs(k: K): Map<number, number> {
  const refs = new Map<number, number>();
  for (const s of k.state.spaces) {
    s.pmap.pt.forEachLeaf(0, k.state.abi.vmMaxUser, (_va, frame) => {
      refs.set(frame, (refs.get(frame) ?? 0) + 1);
    });
  }
  return refs;
}

function checkRefcounts(k: K): void {
  const refs = pteRefs(k);
  const frames = k.mmu.frames;
  for (const [frame, n] of refs) {
    expect(k.vm.ownerOf(frame), `frame ${frame} is mapped but belongs to no object`).not.toBeNull();
    expect(frames.refcount[frame], `frame ${frame}: refcount vs ${n} page-table references`).toBe(1 + n);
  }
  for (const s of k.state.spaces) {
    for (const e of s.map.entries()) {
      for (let o = e.object; o !== null; o = o.backing) {
        for (const f of o.pages.values()) expect(frames.refcount[f], `object ${o.id}'s frame ${f}`).toBe(1 + (refs.get(f) ?? 0));
      }
    }
  }
}

/**
 * vm_object_deallocate's promise: no backing object is left with a single reference from its
 * single shadow (it would have been collapsed into that shadow), and every live object is
 * reachable from some map entry (none is leaked).
 */
function checkChains(k: K): void {
  const reachable = new Set<number>();
  for (const s of k.state.spaces) {
    for (const e of s.map.entries()) {
      for (let o = e.object; o !== null; o = o.backing) {
        reachable.add(o.id);
        const b = o.backing;
        if (b !== null) expect(b.refCount === 1 && b.shadowCount === 1, `object ${b.id} below ${o.id} should have collapsed`).toBe(false);
      }
    }
  }
  expect(reachable.size, 'live VM objects reachable from map entries').toBe(k.vm.liveObjects);
}

/**
 * What makes pmap_copy's read-only copies safe: no page-table entry under a COW entry that still
 * needs its copy is writable (a write must fault and shadow), in the parent as in the child.
 */
function checkCowWriteProtected(k: K): void {
  for (const s of k.state.spaces) {
    for (const e of s.map.entries()) {
      if ((e.eflags & MAP_ENTRY_NEEDS_COPY) === 0) continue;
      s.pmap.pt.forEachLeaf(e.start, e.end - e.start, (va, _frame, _size, flags) => {
        expect(flags & PTE_WRITE, `writable PTE at ${va.toString(16)} under NEEDS_COPY`).toBe(0);
      });
    }
  }
}

function run(ops: Op[], pmapCopy = true, onEnd?: (k: K) => void, profile = 'x86-64'): void {
  const k: K = new Kernel(freebsdPersonality({ pmapCopy }), { frames: 2048, seed: 5, contents: true, profile });
  const freeAtStart = k.mmu.frames.freeFrames;
  const spacesAtStart = k.state.spaces.size; // init's
  const root = k.createProcess(k.init, 'root');
  const models: Model[] = [{ proc: root, regions: [], bytes: new Map() }];
  const live = (): Model[] => models.filter((m) => m.proc.state === 'running');
  for (const o of ops) {
    const alive = live();
    if (alive.length === 0) break;
    const m = alive[o.p % alive.length]!;
    const t = m.proc.threads[0]!;
    const region = m.regions.length === 0 ? null : m.regions[('r' in o ? o.r : 0) % m.regions.length]!;
    switch (o.op) {
      case 'mmap': {
        const va = k.syscall(t, 'mmap', [0, o.pages * PAGE_SIZE, o.prot, MAP_PRIVATE | MAP_ANON, -1, 0]).value;
        expect(va).toBeGreaterThan(0);
        m.regions.push({ va, pages: o.pages });
        for (let i = 0; i < o.pages; i++) m.bytes.set(va + i * PAGE_SIZE, 0);
        break;
      }
      case 'munmap':
        if (region === null) break;
        k.syscall(t, 'munmap', [region.va + o.from * PAGE_SIZE, o.pages * PAGE_SIZE]);
        for (let i = o.from; i < o.from + o.pages; i++) m.bytes.delete(region.va + i * PAGE_SIZE);
        break;
      case 'mprotect':
        if (region === null) break;
        // Keep protections readable and writable in the model's eyes: only check the call works.
        expect(k.syscall(t, 'mprotect', [region.va + o.from * PAGE_SIZE, o.pages * PAGE_SIZE, o.prot]).value).toBe(0);
        k.syscall(t, 'mprotect', [region.va + o.from * PAGE_SIZE, o.pages * PAGE_SIZE, 3]);
        break;
      case 'minherit':
        if (region === null) break;
        // SHARE makes writes visible across processes, which this model does not follow: use COPY, NONE, ZERO.
        expect(k.syscall(t, 'minherit', [region.va, region.pages * PAGE_SIZE, o.inherit === 0 ? 1 : o.inherit]).value).toBe(0);
        region.inherit = o.inherit === 0 ? 1 : o.inherit;
        break;
      case 'write': {
        const va = region === null ? -1 : region.va + (o.page % region.pages) * PAGE_SIZE;
        if (!m.bytes.has(va)) break;
        const e = m.proc.space.map.lookupEntry(va);
        if (e === undefined || (e.protection & 2) === 0) break;
        expect(k.copyToUser(t, va, Uint8Array.of(o.v))).toBe(1);
        m.bytes.set(va, o.v);
        break;
      }
      case 'read': {
        const va = region === null ? -1 : region.va + (o.page % region.pages) * PAGE_SIZE;
        if (!m.bytes.has(va)) break;
        const e = m.proc.space.map.lookupEntry(va);
        if (e === undefined || (e.protection & 1) === 0) break;
        expect(k.copyFromUser(t, va, 1)[0], `pid ${m.proc.pid} va ${va.toString(16)}`).toBe(m.bytes.get(va));
        break;
      }
      case 'fork': {
        if (alive.length >= 6) break;
        const pid = k.syscall(t, 'fork').value;
        const child = k.processes.get(pid)!;
        const bytes = new Map<number, number>();
        const regions: Model['regions'] = [];
        for (const r of m.regions) {
          const inh = r.inherit ?? 1;
          if (inh === 2) continue;
          regions.push({ va: r.va, pages: r.pages, inherit: inh });
          for (let i = 0; i < r.pages; i++) {
            const va = r.va + i * PAGE_SIZE;
            if (m.bytes.has(va)) bytes.set(va, inh === 3 ? 0 : m.bytes.get(va)!);
          }
        }
        models.push({ proc: child, regions, bytes });
        break;
      }
      case 'exit':
        if (m.proc === root) break;
        k.syscall(t, 'exit', [0]);
        break;
    }
    checkRefcounts(k);
    checkChains(k);
    checkCowWriteProtected(k);
  }
  // Every child exits: whatever can collapse has collapsed.
  for (const m of live()) if (m.proc !== root) k.exitProcess(m.proc, 0);
  checkRefcounts(k);
  checkChains(k);
  for (const [va, v] of models[0]!.bytes) {
    const e = root.space.map.lookupEntry(va);
    if (e !== undefined && (e.protection & 1) !== 0) expect(k.copyFromUser(root.threads[0]!, va, 1)[0]).toBe(v);
  }
  k.exitProcess(root, 0);
  expect(k.vm.liveObjects, 'VM objects left').toBe(0);
  expect(k.vm.swap.usedSlots, 'swap slots left').toBe(0);
  expect(k.state.spaces.size, 'vmspaces left').toBe(spacesAtStart);
  expect(k.mmu.frames.freeFrames, 'frames left').toBe(freeAtStart);
  onEnd?.(k);
}

describe('invariants over random call sequences', () => {
  it('refcounts = page-table references, isolation, chains collapse, nothing leaks (fork with pmap_copy)', () => {
    let copied = 0;
    fc.assert(fc.property(fc.array(opArb, { minLength: 20, maxLength: 80, size: 'max' }), (ops) => {
      copied += runCounting(ops);
    }), { seed: 0x5eed, numRuns: 120 });
    // The property exercised pmap_copy: children started with copied PTEs.
    expect(copied).toBeGreaterThan(0);
  });

  it('the same without pmap_copy (children fault every page in)', () => {
    fc.assert(fc.property(fc.array(opArb, { minLength: 20, maxLength: 80, size: 'max' }), (ops) => {
      run(ops, false);
    }), { seed: 0x5eed, numRuns: 60 });
  });

  it('the same on the arm64 sysvec (arm64-a72: user space to 2^48)', () => {
    fc.assert(fc.property(fc.array(opArb, { minLength: 20, maxLength: 80, size: 'max' }), (ops) => {
      run(ops, true, undefined, 'arm64-a72');
    }), { seed: 0xa64, numRuns: 40 });
  });
});

/** run() with pmap_copy, returning how many PTEs it copied over the sequence. */
function runCounting(ops: Op[]): number {
  let n = 0;
  run(ops, true, (k) => {
    n = k.state.pmapCopy.ptes + k.state.pmapCopy.pdes;
  });
  return n;
}
