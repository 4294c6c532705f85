/**
 * Superpage reservations and 2 MiB promotion (sys/vm/vm_reserv.c, sys/amd64/amd64/pmap.c): the
 * lifecycle of one reservation — made at the first fault, populated, promoted, demoted by a
 * partial munmap or mprotect, freed — and what memory pressure and fork do to them.
 */
import { Kernel, type Process, type Thread } from '@polykernel/kernel';
import { ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import type { FreebsdMachine, FreebsdSpace } from '../machine.js';
import { MAP_ANON, MAP_FIXED, MAP_PRIVATE, PAGE_SIZE, SUPERPAGE_SIZE } from '../param.js';
import { freebsdPersonality } from '../personality.js';
import { renderProcstatVm } from '../procstat/vm.js';
import { VM_LEVEL_0_NPAGES } from './vm_reserv.js';

type K = Kernel<FreebsdSpace, FreebsdMachine>;
const RW = 3;
const BASE = 0x4000_0000; // 1 GiB: 2 MiB-aligned
const NPAGES = VM_LEVEL_0_NPAGES;

function boot(frames = 4096, variant = 'freebsd-14', pmapCopy = true): { k: K; p: Process<FreebsdSpace>; t: Thread } {
  const k: K = new Kernel(freebsdPersonality({ variant, pmapCopy }), { frames, seed: 3 });
  const p = k.createProcess(k.init, 'test');
  return { k, p, t: p.threads[0]! };
}

function mmapFixed(k: K, t: Thread, addr: number, len: number, prot = RW): void {
  expect(k.syscall(t, 'mmap', [addr, len, prot, MAP_PRIVATE | MAP_ANON | MAP_FIXED, -1, 0]).value).toBe(addr);
}

function touch(k: K, t: Thread, addr: number, pages: number, access: 0 | 1 = ACCESS_WRITE): void {
  for (let i = 0; i < pages; i++) expect(k.access(t, addr + i * PAGE_SIZE, access)).toBeGreaterThanOrEqual(0);
}

describe('vm_reserv: a reservation at the first fault', () => {
  it('reserves an aligned 512-frame block and hands out the page at its index', () => {
    const { k, p, t } = boot();
    mmapFixed(k, t, BASE, 2 * SUPERPAGE_SIZE);
    touch(k, t, BASE + 5 * PAGE_SIZE, 1);
    const rs = k.state.reserv!;
    expect(rs.active()).toBe(1);
    expect(rs.counters.inserted).toBe(1);
    const f = p.space.pmap.frameAt(BASE + 5 * PAGE_SIZE);
    expect(f % NPAGES).toBe(5);
    // The next page of the range comes from the same block, at its own index.
    touch(k, t, BASE + 6 * PAGE_SIZE, 1);
    expect(p.space.pmap.frameAt(BASE + 6 * PAGE_SIZE)).toBe(f + 1);
    expect(rs.popcnt[rs.reservationOf(f)]).toBe(2);
    // The unpopulated frames are held by the reservation, not free.
    expect(rs.unpopulatedFrames()).toBe(NPAGES - 2);
    expect(rs.partpop().reservations).toBe(1);
  });

  it('counts only populated frames as resident: one touched page is one page, not its 512-frame reservation', () => {
    const peak = (variant: string): number => {
      const { k, t } = boot(4096, variant);
      const before = k.metrics.peakResident;
      mmapFixed(k, t, BASE, SUPERPAGE_SIZE);
      touch(k, t, BASE, 1);
      return k.metrics.peakResident - before;
    };
    const withReservations = peak('freebsd-14');
    // The same touch without superpages: the page and the page-table pages the walk needed.
    expect(withReservations).toBe(peak('freebsd-14-nosuperpages'));
    expect(withReservations).toBeLessThan(NPAGES);
  });

  it('makes no reservation for a 2 MiB range that starts before the object', () => {
    const { k, t } = boot();
    mmapFixed(k, t, BASE + 16 * PAGE_SIZE, SUPERPAGE_SIZE);
    touch(k, t, BASE + 16 * PAGE_SIZE, 1);
    expect(k.state.reserv!.active()).toBe(0);
    // The object's next 2 MiB range starts inside it: reserved (past its end: anonymous memory may grow).
    touch(k, t, BASE + SUPERPAGE_SIZE, 1);
    expect(k.state.reserv!.active()).toBe(1);
  });

  it('has none with vm.pmap.pg_ps_enabled=0 (freebsd-14-nosuperpages)', () => {
    const { k, t } = boot(4096, 'freebsd-14-nosuperpages');
    mmapFixed(k, t, BASE, SUPERPAGE_SIZE);
    touch(k, t, BASE, NPAGES);
    expect(k.state.reserv).toBeNull();
    expect(k.state.pde.promotions).toBe(0);
  });
});

describe('pmap_promote_pde and pmap_demote_pde', () => {
  it('promotes when the 512th page is entered, and the TLB then holds one 2 MiB entry', () => {
    const { k, p, t } = boot();
    mmapFixed(k, t, BASE, SUPERPAGE_SIZE);
    touch(k, t, BASE, NPAGES - 1);
    expect(k.state.pde.promotions).toBe(0);
    expect(p.space.pmap.isSuperpage(BASE)).toBe(false);
    touch(k, t, BASE + (NPAGES - 1) * PAGE_SIZE, 1);
    expect(k.state.pde.promotions).toBe(1);
    expect(p.space.pmap.isSuperpage(BASE)).toBe(true);
    const first = p.space.pmap.frameAt(BASE);
    expect(first % NPAGES).toBe(0);
    expect(p.space.pmap.frameAt(BASE + 300 * PAGE_SIZE)).toBe(first + 300);
    // Every frame still carries one reference for the object and one for the (2 MiB) mapping.
    for (let i = 0; i < NPAGES; i++) expect(k.mmu.frames.refcount[first + i]).toBe(2);
    // One page-table page fewer.
    expect(p.space.pmap.pt.tablesByLevel[3]).toBe(0);
    // A sweep after a flush: one miss for the whole 2 MiB instead of 512.
    k.mmu.flushAll(t.cpu);
    const before = k.metrics.tlbMisses;
    touch(k, t, BASE, NPAGES, ACCESS_READ);
    expect(k.metrics.tlbMisses - before).toBe(1);
  });

  it('does not promote a run of mixed protection', () => {
    const { k, p, t } = boot();
    mmapFixed(k, t, BASE, SUPERPAGE_SIZE);
    touch(k, t, BASE, NPAGES - 1);
    expect(k.syscall(t, 'mprotect', [BASE, PAGE_SIZE, 1]).value).toBe(0);
    touch(k, t, BASE + (NPAGES - 1) * PAGE_SIZE, 1);
    expect(k.state.pde.promotions).toBe(0);
    expect(k.state.pde.pFailures).toBe(1);
    expect(p.space.pmap.isSuperpage(BASE)).toBe(false);
  });

  it('write-protects clean pages at the attempt: clean and dirty pages do not promote until all are written', () => {
    const { k, p, t } = boot();
    mmapFixed(k, t, BASE, SUPERPAGE_SIZE);
    touch(k, t, BASE + PAGE_SIZE, NPAGES - 1);
    touch(k, t, BASE, 1, ACCESS_READ); // the 512th page, read: clean
    expect(k.state.pde.promotions).toBe(0);
    expect(k.state.pde.pFailures).toBe(1);
    // Writing it faults (pmap_promote_pde write-protected it), sets PG_M, and the run promotes.
    touch(k, t, BASE, 1);
    expect(k.state.pde.promotions).toBe(1);
    expect(p.space.pmap.isSuperpage(BASE)).toBe(true);
  });

  it('promotes a run read in full to a read-only 2 MiB mapping; the first write demotes it', () => {
    const { k, p, t } = boot();
    mmapFixed(k, t, BASE, SUPERPAGE_SIZE);
    touch(k, t, BASE, NPAGES, ACCESS_READ);
    expect(k.state.pde.promotions).toBe(1);
    expect(p.space.pmap.isSuperpage(BASE)).toBe(true);
    touch(k, t, BASE + 3 * PAGE_SIZE, 1);
    expect(k.state.pde.demotions).toBe(1);
    expect(k.metrics.faults.cowReuse + k.metrics.faults.soft).toBeGreaterThan(0);
  });

  it('demotes on a partial munmap, gives the pages back to the reservation; the object\'s end breaks it', () => {
    const { k, p, t } = boot();
    const free0 = k.mmu.frames.freeFrames;
    mmapFixed(k, t, BASE, SUPERPAGE_SIZE);
    touch(k, t, BASE, NPAGES);
    const rs = k.state.reserv!;
    const rv = rs.reservationOf(p.space.pmap.frameAt(BASE));
    expect(k.syscall(t, 'munmap', [BASE + 100 * PAGE_SIZE, 10 * PAGE_SIZE]).value).toBe(0);
    expect(k.state.pde.demotions).toBe(1);
    expect(p.space.pmap.isSuperpage(BASE)).toBe(false);
    expect(p.space.pmap.frameAt(BASE + 99 * PAGE_SIZE)).toBe(rv * NPAGES + 99);
    expect(p.space.pmap.frameAt(BASE + 100 * PAGE_SIZE)).toBe(-1);
    expect(rs.popcnt[rv]).toBe(NPAGES - 10);
    expect(rs.partpop().reservations).toBe(1);
    // The rest goes with the object's last reference: vm_object_terminate breaks the reservation
    // first (vm_reserv_break_all, vm.reserv.broken), then frees its pages one by one.
    expect(k.syscall(t, 'munmap', [BASE, SUPERPAGE_SIZE]).value).toBe(0);
    expect(rs.active()).toBe(0);
    expect(rs.counters.broken).toBe(1);
    expect(rs.counters.freed).toBe(0);
    expect(k.mmu.frames.freeFrames).toBe(free0 - p.space.pmap.pt.tablePages + 1);
  });

  it('frees a block whole when its last page goes while the object lives on (vm.reserv.freed)', () => {
    const { k, p, t } = boot();
    const free0 = k.mmu.frames.freeFrames;
    mmapFixed(k, t, BASE, 2 * SUPERPAGE_SIZE);
    touch(k, t, BASE, 2 * NPAGES);
    const rs = k.state.reserv!;
    expect(rs.active()).toBe(2);
    // The entry is clipped, so the object has two references: vm_object_page_remove frees the pages.
    expect(k.syscall(t, 'munmap', [BASE, SUPERPAGE_SIZE]).value).toBe(0);
    expect(rs.active()).toBe(1);
    expect(rs.counters.freed).toBe(1);
    expect(rs.counters.broken).toBe(0);
    expect(p.space.pmap.isSuperpage(BASE + SUPERPAGE_SIZE)).toBe(true);
    expect(k.syscall(t, 'munmap', [BASE + SUPERPAGE_SIZE, SUPERPAGE_SIZE]).value).toBe(0);
    expect(rs.active()).toBe(0);
    expect(k.mmu.frames.freeFrames).toBe(free0 - p.space.pmap.pt.tablePages + 1);
  });

  it('protects a whole superpage as one PDE, demotes for a partial mprotect', () => {
    const { k, p, t } = boot();
    mmapFixed(k, t, BASE, SUPERPAGE_SIZE);
    touch(k, t, BASE, NPAGES);
    expect(k.syscall(t, 'mprotect', [BASE, SUPERPAGE_SIZE, 1]).value).toBe(0);
    expect(k.state.pde.demotions).toBe(0);
    expect(p.space.pmap.isSuperpage(BASE)).toBe(true);
    expect(k.access(t, BASE, ACCESS_WRITE)).toBeLessThan(0); // SIGSEGV: read-only now
    const { k: k2, p: p2, t: t2 } = boot();
    mmapFixed(k2, t2, BASE, SUPERPAGE_SIZE);
    touch(k2, t2, BASE, NPAGES);
    expect(k2.syscall(t2, 'mprotect', [BASE + PAGE_SIZE, PAGE_SIZE, 1]).value).toBe(0);
    expect(k2.state.pde.demotions).toBe(1);
    expect(p2.space.pmap.isSuperpage(BASE)).toBe(false);
  });

  it.each([
    ['pmap_copy copies the whole PDE at fork: the child reads it without a fault', true],
    ['without pmap_copy, vm_fault_soft_fast maps all 2 MiB at the child\'s first read', false],
  ])('fork: the parent\'s superpage is write-protected as one PDE; the first write demotes it and copies one page (%s)', (_title, pmapCopy) => {
    const { k, p, t } = boot(8192, 'freebsd-14', pmapCopy);
    mmapFixed(k, t, BASE, SUPERPAGE_SIZE);
    touch(k, t, BASE, NPAGES);
    const free0 = k.mmu.frames.freeFrames;
    const pid = k.syscall(t, 'fork').value;
    const child = k.processes.get(pid)!;
    expect(p.space.pmap.isSuperpage(BASE)).toBe(true);
    // pmap_copy: one PDE copied (pmap_pde_mappings), the child's 512 pages resident already.
    expect(k.state.pde.mappings).toBe(pmapCopy ? 1 : 0);
    expect(child.space.pmap.resident).toBe(pmapCopy ? NPAGES : 0);
    touch(k, t, BASE + 7 * PAGE_SIZE, 1);
    expect(k.state.pde.demotions).toBe(1);
    expect(k.metrics.faults.cow).toBe(1);
    // Without pmap_copy, the child's first read finds the page resident in a fully populated
    // reservation of the object it maps: vm_fault_soft_fast maps all 2 MiB read-only at once
    // (pmap_enter_pde). With it, the PDE is there already.
    const faults = k.metrics.traps.pageFault;
    touch(k, child.threads[0]!, BASE + 9 * PAGE_SIZE, 1, ACCESS_READ);
    expect(child.space.pmap.isSuperpage(BASE)).toBe(true);
    expect(k.state.pde.mappings).toBe(1);
    touch(k, child.threads[0]!, BASE, NPAGES, ACCESS_READ);
    expect(k.metrics.traps.pageFault).toBe(faults + (pmapCopy ? 0 : 1));
    expect(child.space.pmap.frameAt(BASE + 9 * PAGE_SIZE)).toBe(p.space.pmap.frameAt(BASE + 9 * PAGE_SIZE));
    expect(k.access(child.threads[0]!, BASE, ACCESS_WRITE)).toBeGreaterThanOrEqual(0); // COW: demotes the child's 2 MiB too
    expect(k.state.pde.demotions).toBe(2);
    expect(k.syscall(child.threads[0]!, 'exit', [0]).blocked ?? false).toBe(false);
    k.syscall(t, 'wait4', [pid, 0, 0, 0]);
    expect(k.syscall(t, 'munmap', [BASE, SUPERPAGE_SIZE]).value).toBe(0);
    expect(k.mmu.frames.freeFrames).toBeGreaterThan(free0);
    expect(k.state.reserv!.active()).toBe(0);
  });

  it('procstat -v flags a superpage-backed entry with S', () => {
    const { k, p, t } = boot();
    mmapFixed(k, t, BASE, 2 * SUPERPAGE_SIZE);
    touch(k, t, BASE, NPAGES);
    const line = renderProcstatVm(k, p).split('\n').find((l) => l.includes(`0x${BASE.toString(16)}`))!;
    expect(line).toMatch(/ rw- +512 +512 +1 +0 --S-- sw $/);
    k.syscall(t, 'munmap', [BASE + PAGE_SIZE, PAGE_SIZE]);
    const after = renderProcstatVm(k, p).split('\n').find((l) => l.includes(`0x${BASE.toString(16)}`))!;
    expect(after).toMatch(/ ----- sw $/);
  });
});

describe('vm_reserv_rename: reservations follow pages moved to another object', () => {
  it('vm_object_split at fork gives the entry\'s new object its reservation; the parent then fills it and promotes it', () => {
    const { k, p, t } = boot();
    mmapFixed(k, t, BASE, 2 * SUPERPAGE_SIZE);
    touch(k, t, BASE, NPAGES / 2);
    touch(k, t, BASE + SUPERPAGE_SIZE, NPAGES);
    const rs = k.state.reserv!;
    const half = rs.reservationOf(p.space.pmap.frameAt(BASE));
    // mprotect clips the entry: two entries share the object (two references, OBJ_ONEMAPPING kept).
    expect(k.syscall(t, 'mprotect', [BASE + SUPERPAGE_SIZE, SUPERPAGE_SIZE, 1]).value).toBe(0);
    const before = p.space.map.lookupEntry(BASE)!.object!;
    // vmspace_fork → vm_map_copy_entry → vm_object_split: the first entry's pages move to an
    // object of its own and the reservation under them goes along (vm_reserv_rename). The second
    // entry is then the object's only user and keeps it.
    const pid = k.syscall(t, 'fork').value;
    const split = p.space.map.lookupEntry(BASE)!.object!;
    expect(split).not.toBe(before);
    expect(p.space.map.lookupEntry(BASE + SUPERPAGE_SIZE)!.object).toBe(before);
    expect(rs.objectOf(half)).toBe(split);
    expect(rs.counters.renamed).toBe(1);
    // With the child gone the parent's object has one reference again: its writes need no shadow
    // and populate the renamed reservation, which fills up and is promoted.
    k.syscall(k.processes.get(pid)!.threads[0]!, 'exit', [0]);
    k.syscall(t, 'wait4', [pid, 0, 0, 0]);
    const promotions = k.state.pde.promotions;
    touch(k, t, BASE + (NPAGES / 2) * PAGE_SIZE, NPAGES / 2);
    expect(p.space.map.lookupEntry(BASE)!.object).toBe(split);
    expect(rs.popcnt[half]).toBe(NPAGES);
    // The first half is still write-protected from the fork: mixed protection, no promotion yet.
    expect(p.space.pmap.isSuperpage(BASE)).toBe(false);
    touch(k, t, BASE, NPAGES / 2);
    expect(p.space.pmap.isSuperpage(BASE)).toBe(true);
    expect(k.state.pde.promotions).toBe(promotions + 1);
  });

  it('vm_object_collapse moves the backing object\'s pages up with their reservation; a freed object breaks what it still owns', () => {
    const { k, p, t } = boot();
    mmapFixed(k, t, BASE, SUPERPAGE_SIZE);
    touch(k, t, BASE, NPAGES / 2);
    const rs = k.state.reserv!;
    const rv = rs.reservationOf(p.space.pmap.frameAt(BASE));
    const bottom = p.space.map.lookupEntry(BASE)!.object!;
    const pid = k.syscall(t, 'fork').value;
    // The parent's first write shadows the shared object (its copy comes from a new reservation).
    touch(k, t, BASE + 3 * PAGE_SIZE, 1);
    const top = p.space.map.lookupEntry(BASE)!.object!;
    expect(top.backing).toBe(bottom);
    expect(rs.objectOf(rv)).toBe(bottom);
    // The child's exit leaves the shadow the only user of its backing object: vm_object_collapse
    // renames the pages it lacks up into it, and their reservation with them.
    k.syscall(k.processes.get(pid)!.threads[0]!, 'exit', [0]);
    k.syscall(t, 'wait4', [pid, 0, 0, 0]);
    expect(bottom.dead).toBe(true);
    expect(top.backing).toBeNull();
    expect(rs.objectOf(rv)).toBe(top);
    expect(rs.counters.renamed).toBe(1);
    for (let f = 0; f < rs.count; f++) {
      const o = rs.objectOf(f);
      if (o !== null) expect(o.dead).toBe(false);
    }
    // Unmapping all of it frees the object: vm_reserv_break_all breaks both its reservations.
    expect(k.syscall(t, 'munmap', [BASE, SUPERPAGE_SIZE]).value).toBe(0);
    expect(rs.active()).toBe(0);
    expect(rs.counters.broken).toBe(2);
  });
});

describe('memory pressure: vm_reserv_reclaim_inactive before the page daemon', () => {
  it('breaks partially populated reservations to satisfy allocations, without paging out', () => {
    const frames = 2048; // 4 reservations' worth
    const { k, t } = boot(frames);
    const rs = k.state.reserv!;
    // Three 2 MiB ranges, one page touched in each: three reservations hold 1533 unused frames.
    for (let i = 0; i < 3; i++) {
      mmapFixed(k, t, BASE + i * SUPERPAGE_SIZE, SUPERPAGE_SIZE);
      touch(k, t, BASE + i * SUPERPAGE_SIZE, 1);
    }
    expect(rs.active()).toBe(3);
    // A range that cannot be reserved (it starts mid-superpage) needs more single frames than are left.
    const big = 900;
    mmapFixed(k, t, BASE + 8 * SUPERPAGE_SIZE + PAGE_SIZE, big * PAGE_SIZE);
    touch(k, t, BASE + 8 * SUPERPAGE_SIZE + PAGE_SIZE, big);
    expect(rs.counters.reclaimed).toBeGreaterThan(0);
    expect(rs.counters.broken).toBe(rs.counters.reclaimed);
    expect(k.vm.counters.swapOuts).toBe(0);
    // The broken reservations' populated pages stay where they were.
    for (let i = 0; i < 3; i++) expect(k.access(t, BASE + i * SUPERPAGE_SIZE, ACCESS_READ)).toBeGreaterThanOrEqual(0);
  });
});
