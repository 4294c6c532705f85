/**
 * fork's page-table copy (mm/memory.c copy_page_range) and the write fault after it (do_wp_page):
 * swap entries gain a user, shared PTEs come over clean, and a copied page is flushed from every
 * CPU that runs the mm.
 */
import { Kernel, type Process, type Thread } from '@polykernel/kernel';
import { ACCESS_READ, ACCESS_WRITE, PTE_ACCESSED, PTE_DIRTY, PTE_WRITE } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import { CLONE, linuxFlags as F, linuxPersonality, machineOf, type LinuxSpace } from './index.js';

const P = 4096;
const RW = F.PROT_READ | F.PROT_WRITE;
const ANON = F.MAP_PRIVATE | F.MAP_ANONYMOUS;

function machine(frames: number, swapSlots = 0, cpus = 1): Kernel<LinuxSpace> {
  return new Kernel(linuxPersonality(), { frames, swapSlots, contents: true, cpus });
}

const t0 = (p: Process<LinuxSpace>): Thread => p.threads[0]!;
const put = (k: Kernel<LinuxSpace>, t: Thread, va: number, v: number): void => {
  const pa = k.access(t, va, ACCESS_WRITE);
  expect(pa).toBeGreaterThanOrEqual(0);
  k.mmu.frames.write(pa, Uint8Array.of(v));
};
const get = (k: Kernel<LinuxSpace>, t: Thread, va: number): number => k.mmu.frames.read(k.access(t, va, ACCESS_READ), 1)[0]!;

describe('fork and swap entries (copy_nonpresent_pte → swap_duplicate)', () => {
  it('a slot both name outlives the first to drop it: the child still reads its bytes after swap is reused', () => {
    const k = machine(96, 256);
    const p = k.createProcess(k.init, 'parent');
    const a = k.syscall(t0(p), 'mmap', [0, 120 * P, RW, ANON, -1, 0]).value;
    for (let i = 0; i < 120; i++) put(k, t0(p), a + i * P, (i * 3) % 251);
    const before = new Map(p.space.swap);
    const child = k.processes.get(k.syscall(t0(p), 'fork').value)!;
    // The entries the parent had are the child's too, naming the same slots (the fork's own
    // page-table allocations may push more pages out, to slots of their own).
    const swapped = [...before].filter(([va, slot]) => child.space.swap.get(va) === slot && p.space.swap.get(va) === slot);
    expect(swapped.length).toBe(before.size);
    expect(swapped.length).toBeGreaterThan(20);
    // The parent drops its entries: every slot the child names stays in use, none is freed.
    k.syscall(t0(p), 'munmap', [a, 120 * P]);
    expect(p.space.swap.size).toBe(0);
    expect(k.vm.swap.usedSlots).toBe(new Set(child.space.swap.values()).size);
    // Another process pushes its own bytes through swap; freed slots would be written over.
    const q = k.createProcess(k.init, 'other');
    const b = k.syscall(t0(q), 'mmap', [0, 150 * P, RW, ANON, -1, 0]).value;
    for (let i = 0; i < 150; i++) put(k, t0(q), b + i * P, 250 - (i % 200));
    for (const [va] of swapped) expect([va, get(k, t0(child), va)]).toEqual([va, (((va - a) / P) * 3) % 251]);
    for (const pr of [child, q, p]) k.syscall(t0(pr), 'exit_group', [0]);
    expect(k.vm.swap.usedSlots).toBe(0);
  });

  it('a slot with no recorded count has one user (swap_free\'s convention), and fork makes it two', () => {
    // vmscan records 1 at swap-out, so today no slot is named without a count; the fallback of
    // swap_duplicate must still agree with dropSwap's, or the first drop frees a slot still named.
    const k = machine(96, 256);
    const m = machineOf(k);
    const p = k.createProcess(k.init, 'parent');
    const a = k.syscall(t0(p), 'mmap', [0, 120 * P, RW, ANON, -1, 0]).value;
    for (let i = 0; i < 120; i++) put(k, t0(p), a + i * P, (i * 5) % 251);
    const named = [...p.space.swap];
    expect(named.length).toBeGreaterThan(20);
    for (const [, slot] of named) {
      expect(m.swapCounts.get(slot)).toBe(1);
      m.swapCounts.delete(slot);
    }
    const child = k.processes.get(k.syscall(t0(p), 'fork').value)!;
    for (const [va, slot] of named) if (child.space.swap.get(va) === slot) expect(m.swapCounts.get(slot)).toBe(2);
    k.syscall(t0(p), 'munmap', [a, 120 * P]);
    expect(k.vm.swap.usedSlots).toBe(new Set(child.space.swap.values()).size);
    for (const [va] of named) expect([va, get(k, t0(child), va)]).toEqual([va, (((va - a) / P) * 5) % 251]);
    k.syscall(t0(child), 'exit_group', [0]);
    k.syscall(t0(p), 'exit_group', [0]);
    expect(k.vm.swap.usedSlots).toBe(0);
  });
});

describe('fork copies a shared area\'s PTEs clean (copy_present_pte: pte_mkclean when VM_SHARED)', () => {
  it('the child\'s copy of a dirty shared PTE is clean and old; the parent\'s stays dirty and writable', () => {
    const k = machine(4096);
    const p = k.createProcess(k.init, 'parent');
    const shm = k.syscall(t0(p), 'mmap', [0, 4 * P, RW, F.MAP_SHARED | F.MAP_ANONYMOUS, -1, 0]).value;
    for (let i = 0; i < 4; i++) put(k, t0(p), shm + i * P, 40 + i);
    // A shared area gets an anon_vma only through a forced COW (ptrace's FOLL_FORCE write);
    // with one, vma_needs_copy holds and fork copies its PTEs instead of letting the child fault.
    p.space.mm.touch(shm);
    for (let i = 0; i < 4; i++) expect(p.space.pt.lookup(shm + i * P)!.flags & PTE_DIRTY).toBe(PTE_DIRTY);
    const child = k.processes.get(k.syscall(t0(p), 'fork').value)!;
    for (let i = 0; i < 4; i++) {
      const va = shm + i * P;
      const c = child.space.pt.lookup(va);
      expect(c).not.toBeNull();
      const cf = c!.flags;
      const cframe = c!.frame;
      const pt = p.space.pt.lookup(va)!;
      expect(cframe).toBe(pt.frame);
      expect([i, cf & PTE_DIRTY, cf & PTE_ACCESSED]).toEqual([i, 0, 0]);
      expect(cf & PTE_WRITE).toBe(PTE_WRITE); // shared: no copy-on-write
      expect(pt.flags & (PTE_DIRTY | PTE_WRITE)).toBe(PTE_DIRTY | PTE_WRITE);
    }
    // Still one page: the child's write shows in the parent.
    put(k, t0(child), shm, 99);
    expect(get(k, t0(p), shm)).toBe(99);
    k.syscall(t0(child), 'exit_group', [0]);
    k.syscall(t0(p), 'exit_group', [0]);
  });
});

describe('do_wp_page with threads on two CPUs (wp_page_copy: ptep_clear_flush on every CPU of the mm)', () => {
  it('after one thread\'s write copies the page, the other thread, on the other CPU, reads the copy', () => {
    const k = machine(4096, 0, 2);
    const p = k.createProcess(k.init, 'parent');
    const a = k.syscall(t0(p), 'mmap', [0, P, RW, ANON, -1, 0]).value;
    put(k, t0(p), a, 1);
    const child = k.processes.get(k.syscall(t0(p), 'fork').value)!;
    const tid = k.syscall(t0(p), 'clone', [CLONE.VM | CLONE.FS | CLONE.FILES | CLONE.SIGHAND | CLONE.THREAD | CLONE.SYSVSEM, 0, 0, 0, 0]).value;
    const t1 = p.threads.find((t) => t.tid === tid)!;
    t1.cpu = 1;
    // The second thread caches the shared, write-protected page on CPU 1.
    expect(get(k, t1, a)).toBe(1);
    const shared = p.space.pt.lookup(a)!.frame;
    // The first thread writes on CPU 0: do_wp_page copies the page (the child still holds it).
    const cow0 = k.metrics.faults.cow;
    put(k, t0(p), a, 2);
    expect(k.metrics.faults.cow).toBe(cow0 + 1);
    expect(p.space.pt.lookup(a)!.frame).not.toBe(shared);
    // CPU 1 must not go on reading the old page through a stale TLB entry.
    expect(get(k, t1, a)).toBe(2);
    expect(get(k, t0(child), a)).toBe(1);
    put(k, t1, a, 3);
    expect(get(k, t0(p), a)).toBe(3);
    expect(get(k, t0(child), a)).toBe(1);
  });
});
