/**
 * pmap_copy at fork (vm_map_copy_entry → pmap_copy, amd64 and arm64): the child gets read-only,
 * not-accessed copies of the parent's managed PTEs, so its reads of what the parent had resident
 * cost no fault while its writes still take the copy-on-write fault. Each test compares with the
 * `pmapCopy: false` model switch, so removing the call from vmspace_fork fails here.
 */
import { Kernel, type Process, type Thread } from '@polykernel/kernel';
import { ACCESS_READ, ACCESS_WRITE, PTE_ACCESSED, PTE_DIRTY, PTE_WRITE } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import { FREEBSD_COSTS as C } from '../costs.js';
import type { FreebsdMachine, FreebsdSpace } from '../machine.js';
import { MAP_ANON, MAP_FIXED, MAP_PRIVATE, PAGE_SIZE, SUPERPAGE_SIZE } from '../param.js';
import { freebsdPersonality } from '../personality.js';

type K = Kernel<FreebsdSpace, FreebsdMachine>;
const BASE = 0x8_0000_0000;

function boot(pmapCopy: boolean, profile = 'x86-64', superpages = true): { k: K; p: Process<FreebsdSpace>; t: Thread } {
  const k: K = new Kernel(freebsdPersonality({ pmapCopy, superpages }), { frames: 8192, seed: 9, profile, contents: true });
  const p = k.createProcess(k.init, 'parent');
  return { k, p, t: p.threads[0]! };
}

/** A parent with `pages` private anonymous pages at BASE, `resident` of them written. */
function parentWith(pmapCopy: boolean, pages: number, resident: number, profile?: string, superpages = true): { k: K; p: Process<FreebsdSpace>; t: Thread } {
  const b = boot(pmapCopy, profile, superpages);
  expect(b.k.syscall(b.t, 'mmap', [BASE, pages * PAGE_SIZE, 3, MAP_PRIVATE | MAP_ANON | MAP_FIXED, -1, 0]).value).toBe(BASE);
  for (let i = 0; i < resident; i++) b.k.access(b.t, BASE + i * PAGE_SIZE, ACCESS_WRITE);
  return b;
}

function forkChild(k: K, t: Thread): Process<FreebsdSpace> {
  return k.processes.get(k.syscall(t, 'fork').value)!;
}

describe.each(['x86-64', 'arm64-a72'])('pmap_copy on %s', (profile) => {
  it('the child reads the parent\'s resident pages without a fault; without pmap_copy each read is a soft fault', () => {
    const faults: number[] = [];
    const forkCycles: number[] = [];
    for (const pmapCopy of [true, false]) {
      const { k, t } = parentWith(pmapCopy, 64, 40, profile, false);
      const c0 = k.metrics.cycles;
      const child = forkChild(k, t);
      forkCycles.push(k.metrics.cycles - c0);
      const f0 = k.metrics.traps.pageFault;
      const soft0 = k.metrics.faults.soft;
      for (let i = 0; i < 40; i++) k.access(child.threads[0]!, BASE + i * PAGE_SIZE, ACCESS_READ);
      faults.push(k.metrics.traps.pageFault - f0);
      expect(k.metrics.faults.soft - soft0).toBe(faults.at(-1));
      expect(k.state.pmapCopy.ptes).toBe(pmapCopy ? 40 : 0);
      expect(child.space.pmap.resident).toBe(40);
    }
    expect(faults).toEqual([0, 40]);
    expect(forkCycles[0]! - forkCycles[1]!).toBe(40 * C.pmapCopyPerPte);
  });

  it('the child\'s copies are read-only, not accessed and clean; its write is still the copy-on-write fault', () => {
    const { k, p, t } = parentWith(true, 8, 4, profile, false);
    k.copyToUser(t, BASE, Uint8Array.of(7));
    const child = forkChild(k, t);
    const ct = child.threads[0]!;
    for (let i = 0; i < 4; i++) {
      const r = child.space.pmap.pt.lookup(BASE + i * PAGE_SIZE)!;
      expect(r.flags & (PTE_WRITE | PTE_ACCESSED | PTE_DIRTY)).toBe(0);
      expect(child.space.pmap.frameAt(BASE + i * PAGE_SIZE)).toBe(p.space.pmap.frameAt(BASE + i * PAGE_SIZE));
    }
    // Never-touched pages are not copied (nothing to copy).
    expect(child.space.pmap.frameAt(BASE + 5 * PAGE_SIZE)).toBe(-1);
    const cow0 = k.metrics.faults.cow;
    expect(k.copyToUser(ct, BASE, Uint8Array.of(9))).toBe(1);
    expect(k.metrics.faults.cow).toBe(cow0 + 1);
    expect(child.space.pmap.frameAt(BASE)).not.toBe(p.space.pmap.frameAt(BASE));
    expect(k.copyFromUser(t, BASE, 1)[0]).toBe(7);
    expect(k.copyFromUser(ct, BASE, 1)[0]).toBe(9);
    // The parent's write after the fork is its own copy-on-write fault: the child keeps the old page.
    expect(k.copyToUser(t, BASE + PAGE_SIZE, Uint8Array.of(3))).toBe(1);
    expect(k.copyFromUser(ct, BASE + PAGE_SIZE, 1)[0]).toBe(0);
  });

  it('SHARE entries are not pmap_copied (their pages fault in), NONE entries not inherited', () => {
    const { k, t } = parentWith(true, 8, 8, profile, false);
    expect(k.syscall(t, 'minherit', [BASE, 2 * PAGE_SIZE, 0 /* SHARE */]).value).toBe(0);
    expect(k.syscall(t, 'minherit', [BASE + 2 * PAGE_SIZE, 2 * PAGE_SIZE, 2 /* NONE */]).value).toBe(0);
    const child = forkChild(k, t);
    expect(k.state.pmapCopy.ptes).toBe(4);
    expect(child.space.pmap.frameAt(BASE)).toBe(-1);
    expect(child.space.pmap.frameAt(BASE + 2 * PAGE_SIZE)).toBe(-1);
    expect(child.space.pmap.frameAt(BASE + 4 * PAGE_SIZE)).toBeGreaterThanOrEqual(0);
  });

  it('copies a whole 2 MiB PDE (vm.pmap.pde.mappings) but not one the entry cuts', () => {
    const { k, t } = parentWith(true, 1024, 0, profile);
    for (let i = 0; i < 1024; i++) k.access(t, BASE + i * PAGE_SIZE, ACCESS_WRITE);
    const p = [...k.processes.values()].find((q) => q.threads[0] === t)!;
    expect(p.space.pmap.isSuperpage(BASE)).toBe(true);
    expect(p.space.pmap.isSuperpage(BASE + SUPERPAGE_SIZE)).toBe(true);
    // The second superpage is made read-only (one PDE changed) and its last page given
    // VM_INHERIT_NONE: its COPY entry ends inside the PDE, and as the entry is not writable no
    // pmap_protect demotes it first. "We can only virtual copy whole superpages": skipped.
    expect(k.syscall(t, 'mprotect', [BASE + SUPERPAGE_SIZE, SUPERPAGE_SIZE, 1]).value).toBe(0);
    expect(k.syscall(t, 'minherit', [BASE + 2 * SUPERPAGE_SIZE - PAGE_SIZE, PAGE_SIZE, 2]).value).toBe(0);
    expect(p.space.pmap.isSuperpage(BASE + SUPERPAGE_SIZE)).toBe(true);
    const m0 = k.state.pde.mappings;
    const child = forkChild(k, t);
    expect(k.state.pmapCopy).toMatchObject({ pdes: 1, ptes: 0, aborted: 0 });
    expect(k.state.pde.mappings).toBe(m0 + 1);
    expect(child.space.pmap.isSuperpage(BASE)).toBe(true);
    // amd64: the PDE keeps PG_M (a managed writable superpage is dirty) and loses PG_A; arm64's
    // block copy is clean (no dirty bit: the parent's DBM went in pmap_protect). Read-only both.
    expect(child.space.pmap.pt.lookup(BASE)!.flags & (PTE_DIRTY | PTE_ACCESSED | PTE_WRITE)).toBe(profile === 'x86-64' ? PTE_DIRTY : 0);
    expect(child.space.pmap.frameAt(BASE + SUPERPAGE_SIZE)).toBe(-1);
    expect(child.space.pmap.resident).toBe(512);
    const f0 = k.metrics.traps.pageFault;
    for (let i = 0; i < 512; i++) k.access(child.threads[0]!, BASE + i * PAGE_SIZE, ACCESS_READ);
    expect(k.metrics.traps.pageFault).toBe(f0);
    // A writable entry that ends inside a superpage: pmap_protect demotes it first (as
    // FreeBSD's pmap_protect does for a PDE it covers in part), then its 4 KiB PTEs are copied.
    const b = parentWith(true, 1024, 1024, profile);
    expect(b.k.syscall(b.t, 'minherit', [BASE + 2 * SUPERPAGE_SIZE - PAGE_SIZE, PAGE_SIZE, 2]).value).toBe(0);
    const c2 = forkChild(b.k, b.t);
    expect(b.k.state.pmapCopy).toMatchObject({ pdes: 1, ptes: 511 });
    expect(c2.space.pmap.resident).toBe(1023);
  });
});

describe('pmap_copy and memory', () => {
  it('refcounts and frames balance after the child writes, exits and is reaped', () => {
    const { k, p, t } = parentWith(true, 64, 64, 'x86-64', false);
    const free0 = k.mmu.frames.freeFrames;
    const child = forkChild(k, t);
    for (let i = 0; i < 64; i++) expect(k.mmu.frames.refcount[p.space.pmap.frameAt(BASE + i * PAGE_SIZE)]).toBe(3);
    for (let i = 0; i < 64; i += 2) k.access(child.threads[0]!, BASE + i * PAGE_SIZE, ACCESS_WRITE);
    k.syscall(child.threads[0]!, 'exit', [0]);
    k.syscall(t, 'wait4', [child.pid, 0, 0, 0]);
    for (let i = 0; i < 64; i++) expect(k.mmu.frames.refcount[p.space.pmap.frameAt(BASE + i * PAGE_SIZE)]).toBe(2);
    expect(k.mmu.frames.freeFrames).toBe(free0);
  });
});
