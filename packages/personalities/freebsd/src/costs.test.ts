/**
 * The software-cost model (costs.ts) is charged where FreeBSD does the work, once per unit:
 * vmspace_fork per entry and per write-protected PTE, fork1 and exit1 per process, vm_fault by
 * what it resolved, vm_object_shadow per shadow. Each figure is read from the model, so a charge
 * that goes missing, doubles or moves fails here.
 */
import { Kernel, type Process, type Thread } from '@polykernel/kernel';
import { ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import { FREEBSD_COSTS as C } from './costs.js';
import type { FreebsdMachine, FreebsdSpace } from './machine.js';
import { MAP_ANON, MAP_PRIVATE, PAGE_SIZE, RFMEM, RFPROC } from './param.js';
import { freebsdPersonality } from './personality.js';

type K = Kernel<FreebsdSpace, FreebsdMachine>;

function boot(pmapCopy = true): { k: K; p: Process<FreebsdSpace>; t: Thread } {
  const k = new Kernel(freebsdPersonality({ pmapCopy }), { frames: 8192, seed: 3 });
  const p = k.createProcess(k.init, 'sh');
  return { k, p, t: p.threads[0]! };
}

/** A parent with `pages` anonymous pages mapped, `resident` of them written. */
function parent(resident: number, pages = 64, pmapCopy = true): { k: K; p: Process<FreebsdSpace>; t: Thread; va: number } {
  const b = boot(pmapCopy);
  const va = b.k.syscall(b.t, 'mmap', [0, pages * PAGE_SIZE, 3, MAP_PRIVATE | MAP_ANON, -1, 0]).value;
  for (let i = 0; i < resident; i++) b.k.access(b.t, va + i * PAGE_SIZE, ACCESS_WRITE);
  return { ...b, va };
}

function cycles(k: K, fn: () => void): number {
  const before = k.metrics.cycles;
  fn();
  return k.metrics.cycles - before;
}

describe('FreeBSD software costs', () => {
  it('fork charges pmap_protect once per resident writable PTE, not per mapped page', () => {
    const a = parent(8, 64, false);
    const b = parent(40, 64, false);
    const forkA = cycles(a.k, () => a.k.syscall(a.t, 'fork'));
    const forkB = cycles(b.k, () => b.k.syscall(b.t, 'fork'));
    expect(forkB - forkA).toBe(32 * C.protectPerPte);
  });

  it('fork charges pmap_copy once per PTE copied into the child, on top of pmap_protect', () => {
    const a = parent(8);
    const b = parent(40);
    const forkA = cycles(a.k, () => a.k.syscall(a.t, 'fork'));
    const forkB = cycles(b.k, () => b.k.syscall(b.t, 'fork'));
    expect(b.k.state.pmapCopy.ptes - a.k.state.pmapCopy.ptes).toBe(32);
    // The child's page-table pages are the same count in both (one leaf table), so only the PTEs differ.
    expect(forkB - forkA).toBe(32 * (C.protectPerPte + C.pmapCopyPerPte));
  });

  it('a whole 2 MiB PDE is copied and charged once, not per page', () => {
    const a = parent(0, 1024);
    // Fill the aligned 2 MiB inside the mapping so the reservation promotes.
    const base = Math.ceil(a.va / 0x20_0000) * 0x20_0000;
    for (let i = 0; i < 512; i++) a.k.access(a.t, base + i * PAGE_SIZE, ACCESS_WRITE);
    expect(a.p.space.pmap.isSuperpage(base)).toBe(true);
    const b = parent(0, 1024, false);
    const baseB = Math.ceil(b.va / 0x20_0000) * 0x20_0000;
    for (let i = 0; i < 512; i++) b.k.access(b.t, baseB + i * PAGE_SIZE, ACCESS_WRITE);
    let childA: Process<FreebsdSpace> | undefined;
    let childB: Process<FreebsdSpace> | undefined;
    const withCopy = cycles(a.k, () => { childA = a.k.processes.get(a.k.syscall(a.t, 'fork').value); });
    const without = cycles(b.k, () => { childB = b.k.processes.get(b.k.syscall(b.t, 'fork').value); });
    expect(a.k.state.pmapCopy).toMatchObject({ ptes: 0, pdes: 1 });
    // The copy needed the child's PDP and PD pages above the PDE (not charged as cycles: the
    // page-table pool's pages are not zeroed by the cost model), and the one PDE is charged once.
    expect(childA!.space.pmap.pt.tablePages - childB!.space.pmap.pt.tablePages).toBe(2);
    expect(childA!.space.pmap.resident).toBe(512);
    expect(withCopy - without).toBe(C.pmapCopyPerPde);
  });

  it('a copying fork charges vmspace_fork (fixed part, one per inherited entry) on top of an RFMEM fork', () => {
    const a = parent(0);
    const entries = [...a.p.space.map.entries()].length;
    const nodesA = a.k.metrics.indexNodesVisited;
    const shared = cycles(a.k, () => a.k.syscall(a.t, 'rfork', [RFPROC + RFMEM]));
    const sharedNodes = a.k.metrics.indexNodesVisited - nodesA;
    const b = parent(0);
    const nodesB = b.k.metrics.indexNodesVisited;
    const copied = cycles(b.k, () => b.k.syscall(b.t, 'rfork', [RFPROC]));
    const copiedNodes = b.k.metrics.indexNodesVisited - nodesB;
    expect(shared).toBeGreaterThanOrEqual(C.forkBase);
    // The hardware part of the difference: zeroing the new pmap's top-level page (pmap_pinit), and
    // the new vm_map's index nodes (the entries inserted in the child's map).
    const { zeroPage, indexNode = 0 } = b.k.mmu.profile.costs;
    expect(copied - shared).toBe(C.vmspaceForkBase + entries * C.perMapEntry + zeroPage + (copiedNodes - sharedNodes) * indexNode);
  });

  it('charges exit1 once per exit', () => {
    const a = parent(0);
    const pid = a.k.syscall(a.t, 'rfork', [RFPROC + RFMEM]).value;
    const ct = a.k.processes.get(pid)!.threads[0]!;
    expect(cycles(a.k, () => a.k.syscall(ct, 'exit', [0]))).toBeGreaterThanOrEqual(C.exitBase);
  });

  it('charges the fault handler by what vm_fault did, and the shadow once, at the first write', () => {
    // Without pmap_copy, so that the child's read of a resident page is a soft fault.
    const a = parent(4, 64, false);
    const pid = a.k.syscall(a.t, 'fork').value;
    const ct = a.k.processes.get(pid)!.threads[0]!;
    const f = a.k.metrics.faults;
    // The child's page-table pages are made by a first (read) touch, so both writes below find them.
    a.k.access(ct, a.va + 2 * PAGE_SIZE, ACCESS_READ);
    // First write: vm_map_lookup shadows the object, vm_fault copies the page up (a COW).
    const cow0 = f.cow;
    const inserted0 = a.k.state.reserv?.counters.inserted ?? 0;
    const first = cycles(a.k, () => a.k.access(ct, a.va, ACCESS_WRITE));
    // The shadow's first page may also open a superpage reservation (vm_reserv_alloc_page).
    const inserted = (a.k.state.reserv?.counters.inserted ?? 0) - inserted0;
    const second = cycles(a.k, () => a.k.access(ct, a.va + PAGE_SIZE, ACCESS_WRITE));
    expect(f.cow).toBe(cow0 + 2);
    expect(first - second).toBe(C.shadowSetup + inserted * C.reservInsert);
    expect(second).toBeGreaterThanOrEqual(C.faultHandler.cow);
    // A read of a resident page the child has not mapped: a soft fault, charged once.
    const soft0 = f.soft;
    const soft = cycles(a.k, () => a.k.access(ct, a.va + 3 * PAGE_SIZE, ACCESS_READ));
    expect(f.soft).toBe(soft0 + 1);
    expect(soft).toBeGreaterThanOrEqual(C.faultHandler.soft);
    expect(soft).toBeLessThan(C.faultHandler.soft + C.faultHandler.cowReuse);
  });

  it('a zero-fill fault costs its handler once on top of the trap and zeroing the page', () => {
    const a = parent(1);
    const hw = a.k.mmu.profile.costs;
    const zf = a.k.metrics.faults.zeroFill;
    const c = cycles(a.k, () => a.k.access(a.t, a.va + PAGE_SIZE, ACCESS_WRITE));
    expect(a.k.metrics.faults.zeroFill).toBe(zf + 1);
    // What is left is the TLB and page-walk work, far less than another handler's charge.
    const rest = c - C.faultHandler.zeroFill - hw.trapEntry - hw.trapExit - hw.zeroPage;
    expect(rest).toBeGreaterThanOrEqual(0);
    expect(rest).toBeLessThan(C.faultHandler.soft);
  });
});
