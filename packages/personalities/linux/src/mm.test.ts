import { KernelError } from '@polykernel/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VmCommit } from './commit.js';
import { MAP_GROWSDOWN, MAP_NORESERVE, VM_ACCOUNT, MREMAP_FIXED, MREMAP_MAYMOVE, MAP_ANONYMOUS, MAP_FIXED, MAP_FIXED_NOREPLACE, MAP_PRIVATE, MAP_SHARED, PAGE_SIZE, PROT_READ, PROT_WRITE, VM_EXEC, VM_READ, VM_WRITE } from './flags.js';
import { mapsLine, parseVmFlags, procMaps, vmFlagsLine } from './proc/maps.js';
import { MmStruct } from './mm.js';
import * as F from './flags.js';

const P = PAGE_SIZE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;
const RW = PROT_READ | PROT_WRITE;

function errno(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof KernelError) return e.errno;
    throw e;
  }
  return 'ok';
}

describe('MmStruct system calls', () => {
  it('places mappings top-down below mmap_base and merges adjacent anonymous ones', () => {
    const mm = new MmStruct();
    const a = mm.mmap(0, 4 * P, RW, ANON);
    const b = mm.mmap(0, 4 * P, RW, ANON);
    expect(a + 4 * P).toBe(mm.mmapBase);
    expect(b).toBe(a - 4 * P);
    expect(mm.mapCount).toBe(1); // vma_merge joined them
  });

  it('keeps the stack guard gap (256 pages) free below a MAP_GROWSDOWN area, for hints and searches', () => {
    const mm = new MmStruct();
    const stack = mm.mmapBase - 16 * P;
    mm.mmap(stack, 16 * P, RW, ANON | MAP_FIXED | MAP_GROWSDOWN);
    // A hint right below the stack is refused; the search lands below the guard gap.
    const a = mm.mmap(stack - P, P, RW, ANON);
    expect(a).toBe(stack - 256 * P - P);
    const b = mm.mmap(0, P, RW, ANON);
    expect(b + P).toBeLessThanOrEqual(stack - 256 * P);
  });

    it('splits on a middle munmap (the lecture\'s three cases)', () => {
    const mm = new MmStruct();
    const a = mm.mmap(0, 16 * P, RW, ANON);
    mm.munmap(a, P); // shrink from the front
    mm.munmap(a + 15 * P, P); // shrink from the back
    mm.munmap(a + 7 * P, 2 * P); // punch a hole: two areas
    expect([...mm.vmas.iterateFrom(0)].map((v) => [v.start - a, v.end - a])).toEqual([[P, 7 * P], [9 * P, 15 * P]]);
  });

  it('mprotect splits into three, and restoring the protection merges back to one', () => {
    const mm = new MmStruct();
    const a = mm.mmap(0, 8 * P, RW, ANON);
    mm.mprotect(a + 2 * P, 2 * P, PROT_READ);
    expect(mm.mapCount).toBe(3);
    mm.mprotect(a + 2 * P, 2 * P, RW);
    expect(mm.mapCount).toBe(1);
  });

  it('areas faulted separately keep distinct anon_vmas and do not merge', () => {
    const mm = new MmStruct();
    mm.mmap(0x20000000, 4 * P, RW, ANON | MAP_FIXED);
    mm.touch(0x20000000);
    mm.mmap(0x20008000, 4 * P, RW, ANON | MAP_FIXED);
    mm.touch(0x20008000);
    // Filling the gap joins the new area to one neighbour only: prev and next anon_vmas differ.
    mm.mmap(0x20004000, 4 * P, RW, ANON | MAP_FIXED);
    expect([...mm.vmas.iterateFrom(0)].map((v) => [v.start, v.end])).toEqual([[0x20000000, 0x20008000], [0x20008000, 0x2000c000]]);
  });

  it('shared anonymous memory is a shmem file per mapping', () => {
    const mm = new MmStruct();
    mm.mmap(0x30000000, 2 * P, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED);
    mm.mmap(0x30002000, 2 * P, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED);
    expect(procMaps(mm)).toBe(
      '30000000-30002000 rw-s 00000000 00:01 1                                  /dev/zero (deleted)\n' +
      '30002000-30004000 rw-s 00000000 00:01 2                                  /dev/zero (deleted)\n',
    );
  });

  it('max_map_count: mmap fails with ENOMEM once map_count exceeds it (do_mmap\'s ">" test), splits too', () => {
    const mm = new MmStruct({ maxMapCount: 3 });
    for (let i = 0; i < 4; i++) mm.mmap(0x10000000 + i * 2 * P, P, RW, ANON | MAP_FIXED);
    expect(mm.mapCount).toBe(4);
    expect(errno(() => mm.mmap(0x20000000, P, RW, ANON | MAP_FIXED))).toBe('ENOMEM');
    const big = new MmStruct({ maxMapCount: 1 });
    const a = big.mmap(0, 4 * P, RW, ANON);
    expect(errno(() => big.munmap(a + P, P))).toBe('ENOMEM'); // the middle split would need a second area
  });

  it('names vm_flags as smaps VmFlags does, and parses them back', () => {
    const mm = new MmStruct();
    const a = mm.mmap(0, P, RW, ANON);
    const v = mm.vmas.lookup(a)!;
    expect(vmFlagsLine(v)).toBe('VmFlags: rd wr mr mw me ac ');
    expect(parseVmFlags('VmFlags: rd wr mr mw me ac ')).toBe(v.flags);
    expect(() => parseVmFlags('VmFlags: rd zz')).toThrow(/"zz"/);
  });

  it('returns the errno Linux returns for bad calls', () => {
    const mm = new MmStruct();
    mm.mmap(0x10000000, 2 * P, RW, ANON | MAP_FIXED);
    expect(errno(() => mm.mmap(0x10000000, P, RW, ANON | MAP_FIXED_NOREPLACE))).toBe('EEXIST');
    expect(errno(() => mm.mmap(0, 0, RW, ANON))).toBe('EINVAL');
    expect(errno(() => mm.mmap(0, P, RW, MAP_ANONYMOUS))).toBe('EINVAL');
    expect(errno(() => mm.mmap(0x10000001, P, RW, ANON | MAP_FIXED))).toBe('EINVAL');
    expect(errno(() => mm.munmap(0x10000001, P))).toBe('EINVAL');
    expect(errno(() => mm.mprotect(0x10100000, P, PROT_READ))).toBe('ENOMEM');
    expect(errno(() => mm.mprotect(0x10000000, P, 0x10))).toBe('EINVAL');
    expect(errno(() => mm.mprotect(0x10000000, P, 0x8))).toBe('ok'); // PROT_SEM
  });

  it('mremap shrinks, grows in place, refuses without MAYMOVE, and moves', () => {
    const mm = new MmStruct();
    const m = mm.mmap(0x50000000, 4 * P, RW, ANON | MAP_FIXED);
    expect(mm.mremap(m, 4 * P, 2 * P, 0)).toBe(m);
    expect(mm.mremap(m, 2 * P, 8 * P, 0)).toBe(m);
    mm.mmap(0x50008000, P, PROT_READ, ANON | MAP_FIXED);
    expect(errno(() => mm.mremap(m, 8 * P, 16 * P, 0))).toBe('ENOMEM');
    mm.touch(m);
    const moved = mm.mremap(m, 8 * P, 16 * P, MREMAP_MAYMOVE);
    expect(moved).toBe(mm.mmapBase - 16 * P);
    expect(mm.vmas.lookup(m)).toBeUndefined();
    expect(mm.vmas.lookup(moved)?.pgoff).toBe(m / P); // a faulted area keeps its pgoff
    expect(errno(() => mm.mremap(0x50008000, 2 * P, 4 * P, 0))).toBe('EFAULT');
    expect(errno(() => mm.mremap(0x50008001, P, 2 * P, MREMAP_MAYMOVE))).toBe('EINVAL');
    expect(errno(() => mm.mremap(0x50008000, P, 2 * P, MREMAP_FIXED))).toBe('EINVAL');
    const before = mm.vmas.lookup(0x50008000)!.flags;
    expect(before & (VM_READ | VM_WRITE)).toBe(VM_READ);
    expect(mm.mremap(0x50008000, P, 2 * P, MREMAP_FIXED | MREMAP_MAYMOVE, 0x70000000)).toBe(0x70000000);
    // The moved area keeps the old one's flags (copy_vma), and the old place is empty.
    const after = mm.vmas.lookup(0x70000000)!;
    expect([after.start, after.end]).toEqual([0x70000000, 0x70000000 + 2 * P]);
    expect(after.flags).toBe(before);
    expect(mm.vmas.lookup(0x50008000)).toBeUndefined();
  });

  it('overcommit: mode 0 refuses one request above RAM + swap, mode 1 never, mode 2 at CommitLimit', () => {
    const ram = 1024; // 4 MiB of RAM, no swap
    const guess = new MmStruct({ commit: new VmCommit({ mode: 0, totalRamPages: ram }) });
    expect(errno(() => guess.mmap(0, (ram + 1) * P, RW, ANON))).toBe('ENOMEM');
    expect(errno(() => guess.mmap(0, (ram + 1) * P, RW, ANON | MAP_NORESERVE))).toBe('ok');
    expect(errno(() => guess.mmap(0, ram * P, RW, ANON))).toBe('ok');
    expect(errno(() => guess.mmap(0, ram * P, RW, ANON))).toBe('ok'); // the heuristic is per request
    expect(guess.commit.committed).toBe(2 * ram);

    const always = new MmStruct({ commit: new VmCommit({ mode: 1, totalRamPages: ram }) });
    expect(errno(() => always.mmap(0, 100 * ram * P, RW, ANON))).toBe('ok');

    // Mode 2: CommitLimit = RAM * 50% = 512 pages; minus admin reserve (RAM/32 = 128 KiB = 32 pages)
    // and the user reserve min(total_vm/32, RAM/32).
    const commit = new VmCommit({ mode: 2, totalRamPages: ram });
    expect(commit.limitPages()).toBe(512);
    const strict = new MmStruct({ commit });
    expect(errno(() => strict.mmap(0, 480 * P, RW, ANON))).toBe('ENOMEM'); // 480 is not < 512 - 32
    expect(errno(() => strict.mmap(0, 479 * P, RW, ANON))).toBe('ok');
    expect(errno(() => strict.mmap(0, P, RW, ANON | MAP_NORESERVE))).toBe('ENOMEM'); // NORESERVE ignored in mode 2
    expect(errno(() => strict.mmap(0, 64 * P, PROT_READ, ANON))).toBe('ok'); // read-only private: not charged
    const r = strict.mmap(0, 64 * P, PROT_READ, ANON);
    expect(errno(() => strict.mprotect(r, P, RW))).toBe('ENOMEM'); // turning writable is charged
    expect(commit.meminfoLines()).toBe('CommitLimit:        2048 kB\nCommitted_AS:       1916 kB\n');
  });

  it('brk grows and shrinks the heap and refuses to run into the next mapping', () => {
    const mm = new MmStruct();
    mm.startBrk = mm.brk = 0x600000;
    expect(mm.brkSyscall(0x600000 + 3 * P)).toBe(0x603000);
    expect(procMaps(mm)).toContain('[heap]');
    mm.mmap(0x605000, P, RW, ANON | MAP_FIXED);
    expect(mm.brkSyscall(0x605000)).toBe(0x603000); // would leave no gap page: unchanged
    expect(mm.brkSyscall(0x601000)).toBe(0x601000);
    expect(mm.brkSyscall(0x500000)).toBe(0x601000); // below start_brk: unchanged
    const fresh = new MmStruct(); // never exec'd: start_brk 0, below mmap_min_addr
    expect(fresh.brkSyscall(0x2000)).toBe(0);
  });
});

/** Reference model: one protection per page, or -1 when unmapped. */
const BASE = 0x40000000;
const PAGES = 64;
interface Op { op: 'map' | 'unmap' | 'protect'; page: number; n: number; prot: number; kind: number }
const opArb: fc.Arbitrary<Op> = fc.record({
  op: fc.constantFrom('map' as const, 'unmap' as const, 'protect' as const),
  page: fc.integer({ min: 0, max: PAGES - 1 }),
  n: fc.integer({ min: 1, max: 16 }),
  prot: fc.integer({ min: 0, max: 7 }),
  kind: fc.constantFrom(ANON, ANON | MAP_NORESERVE, MAP_SHARED | MAP_ANONYMOUS),
});

function protOf(flags: number): number {
  return ((flags & VM_READ) !== 0 ? 1 : 0) | ((flags & VM_WRITE) !== 0 ? 2 : 0) | ((flags & VM_EXEC) !== 0 ? 4 : 0);
}

describe('MmStruct invariants (fast-check against a page map)', () => {
  it('areas are sorted, disjoint, maximally merged, and agree page by page with the model', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const mm = new MmStruct();
        const model = new Int8Array(PAGES).fill(-1);
        for (const { op, page, n, prot, kind } of ops) {
          const len = Math.min(n, PAGES - page);
          const addr = BASE + page * P;
          if (op === 'map') {
            mm.mmap(addr, len * P, prot, kind | MAP_FIXED);
            model.fill(prot, page, page + len);
          } else if (op === 'unmap') {
            mm.munmap(addr, len * P);
            model.fill(-1, page, page + len);
          } else {
            let mapped = 0;
            while (mapped < len && model[page + mapped]! >= 0) mapped++;
            const r = errno(() => mm.mprotect(addr, len * P, prot));
            // Linux changes the mapped prefix, then fails with ENOMEM at the first hole.
            model.fill(prot, page, page + mapped);
            expect(r).toBe(mapped === len ? 'ok' : 'ENOMEM');
          }
        }
        const areas = [...mm.vmas.iterateFrom(0)];
        for (let i = 1; i < areas.length; i++) {
          expect(areas[i - 1]!.end).toBeLessThanOrEqual(areas[i]!.start);
          // Never touched, so every neighbour pair with equal flags must have been merged.
          if (areas[i - 1]!.end === areas[i]!.start && areas[i - 1]!.file === null && areas[i]!.file === null) expect(areas[i - 1]!.flags).not.toBe(areas[i]!.flags);
        }
        let accounted = 0;
        for (let p = 0; p < PAGES; p++) {
          const v = mm.vmas.lookup(BASE + p * P);
          expect(v === undefined ? -1 : protOf(v.flags)).toBe(model[p]);
          if (v !== undefined && (v.flags & VM_ACCOUNT) !== 0) accounted++;
        }
        expect(mm.totalVm).toBe(model.filter((x) => x >= 0).length);
        // Committed_AS covers at least every VM_ACCOUNT page (plus live shmem charges).
        expect(mm.commit.committed).toBeGreaterThanOrEqual(accounted);
        // Unmapping everything returns every charge: nothing leaks from Committed_AS.
        mm.munmap(BASE, PAGES * P);
        expect(mm.commit.committed).toBe(0);
        expect(mm.totalVm).toBe(0);
      }),
      { seed: 0x22_0301, numRuns: 300 },
    );
  });
});

describe('mprotect and VM_ACCOUNT (mprotect_fixup), without a host', () => {
  it('a faulted private area keeps VM_ACCOUNT and its charge when made read-only; a never-faulted one gives both back', () => {
    const mm = new MmStruct();
    const faulted = mm.mmap(0x40000000, 8 * P, RW, ANON | MAP_FIXED);
    const fresh = mm.mmap(0x48000000, 8 * P, RW, ANON | MAP_FIXED);
    expect(mm.commit.committed).toBe(16);
    mm.touch(faulted); // anon_vma_prepare: it has pages now
    mm.mprotect(faulted, 8 * P, PROT_READ);
    expect(mm.vmas.lookup(faulted)!.flags & (VM_ACCOUNT | VM_WRITE)).toBe(VM_ACCOUNT);
    expect(mm.commit.committed).toBe(16);
    mm.mprotect(fresh, 8 * P, PROT_READ);
    expect(mm.vmas.lookup(fresh)!.flags & (VM_ACCOUNT | VM_WRITE)).toBe(0);
    expect(mm.commit.committed).toBe(8);
    // Writable again: the faulted area is already charged; the fresh one is charged anew.
    mm.mprotect(faulted, 8 * P, RW);
    expect(mm.commit.committed).toBe(8);
    mm.mprotect(fresh, 8 * P, RW);
    expect(mm.vmas.lookup(fresh)!.flags & VM_ACCOUNT).toBe(VM_ACCOUNT);
    expect(mm.commit.committed).toBe(16);
    // Part of a faulted area: the split pieces all stay accounted.
    mm.mprotect(faulted + 2 * P, 2 * P, PROT_READ);
    for (const va of [faulted, faulted + 2 * P, faulted + 4 * P]) expect(mm.vmas.lookup(va)!.flags & VM_ACCOUNT).toBe(VM_ACCOUNT);
    expect(mm.commit.committed).toBe(16);
    mm.munmap(faulted, 8 * P);
    mm.munmap(fresh, 8 * P);
    expect(mm.commit.committed).toBe(0);
  });
});

describe('mprotect and VM_ACCOUNT on linux-5.15 (no unaccounting before 6.7)', () => {
  it('a never-faulted private area made read-only keeps VM_ACCOUNT and its charge', () => {
    // 5.15 mm/mprotect.c mprotect_fixup: "we ... cannot reduce our commit if we make it unwritable
    // again"; unfaulted areas are unaccounted only since 6.7 (mprotect: allow unfaulted VMAs to be
    // unaccounted on mprotect()).
    const mm = new MmStruct({ variant: 'linux-5.15' });
    const fresh = mm.mmap(0x48000000, 8 * P, RW, ANON | MAP_FIXED);
    mm.mprotect(fresh, 8 * P, PROT_READ);
    expect(mm.vmas.lookup(fresh)!.flags & (VM_ACCOUNT | VM_WRITE)).toBe(VM_ACCOUNT);
    expect(mm.commit.committed).toBe(8);
    mm.mprotect(fresh, 8 * P, RW); // already accounted: no second charge
    expect(mm.commit.committed).toBe(8);
    mm.munmap(fresh, 8 * P);
    expect(mm.commit.committed).toBe(0);
  });
});

describe('the [heap] label (vma_is_initial_heap: the area strictly overlaps [start_brk, brk))', () => {
  const line = (mm: MmStruct, va: number): string => mapsLine(mm, mm.vmas.lookup(va)!);
  it('names the brk area, not the bss right below it nor an area right above brk', () => {
    const mm = new MmStruct();
    mm.startBrk = mm.brk = 0x600000;
    mm.mmap(0x5ff000, P, PROT_READ, ANON | MAP_FIXED); // below start_brk, ending there (not merged: other flags)
    expect(mm.brkSyscall(0x600000 + 3 * P)).toBe(0x603000);
    mm.mmap(0x604000, P, PROT_READ, ANON | MAP_FIXED); // starts one page above brk
    expect(line(mm, 0x600000)).toMatch(/^00600000-00603000 rw-p 00000000 00:00 0 +\[heap\]$/);
    expect(line(mm, 0x600000).indexOf('[heap]')).toBe(73);
    expect(line(mm, 0x5ff000)).toBe('005ff000-00600000 r--p 00000000 00:00 0 ');
    expect(line(mm, 0x604000)).toBe('00604000-00605000 r--p 00000000 00:00 0 ');
    expect(procMaps(mm).match(/\[heap\]/g)).toHaveLength(1);
  });
  it('linux-5.15 (show_map_vma: vm_start <= brk && vm_end >= start_brk) also names areas touching either end', () => {
    const mm = new MmStruct({ variant: 'linux-5.15' });
    mm.startBrk = mm.brk = 0x600000;
    mm.mmap(0x5ff000, P, PROT_READ, ANON | MAP_FIXED); // ends at start_brk
    expect(mm.brkSyscall(0x600000 + 3 * P)).toBe(0x603000);
    mm.mmap(0x603000, P, PROT_READ | PROT_WRITE | 0x4, ANON | MAP_FIXED); // starts at brk
    mm.mmap(0x605000, P, PROT_READ, ANON | MAP_FIXED); // one page above: not touching
    expect(line(mm, 0x600000)).toMatch(/ \[heap\]$/);
    expect(line(mm, 0x5ff000)).toMatch(/ \[heap\]$/);
    expect(line(mm, 0x603000)).toMatch(/ \[heap\]$/);
    expect(line(mm, 0x605000)).toBe('00605000-00606000 r--p 00000000 00:00 0 ');
    const empty = new MmStruct({ variant: 'linux-5.15' });
    empty.startBrk = empty.brk = 0x700000;
    empty.mmap(0x700000, P, RW, ANON | MAP_FIXED);
    expect(procMaps(empty)).toContain('[heap]');
  });

  it('an empty heap (brk == start_brk) labels nothing, even an area starting there', () => {
    const mm = new MmStruct();
    mm.startBrk = mm.brk = 0x700000;
    mm.mmap(0x700000, P, RW, ANON | MAP_FIXED);
    mm.mmap(0x6ff000, P, PROT_READ, ANON | MAP_FIXED);
    expect(procMaps(mm)).not.toContain('[heap]');
  });
});

describe('brk next to the bss (host oracle heap-and-fork.steps checks 6.x)', () => {
  const bssThenBrk = (variant: 'linux-5.15' | 'linux-6.x'): MmStruct => {
    const mm = new MmStruct({ variant });
    mm.vmBrkFlags(0x600000, 4 * P, false); // the bss, as exec maps it
    mm.startBrk = mm.brk = 0x604000;
    expect(mm.brkSyscall(0x604000 + 2 * P)).toBe(0x606000);
    return mm;
  };
  it('6.1+: the first brk is an area of its own (do_brk_flags expands only vma_prev_limit(start_brk))', () => {
    const mm = bssThenBrk('linux-6.x');
    expect(mm.mapCount).toBe(2);
    expect(mm.brkSyscall(0x607000)).toBe(0x607000);
    expect(mm.mapCount).toBe(2);
    expect(procMaps(mm)).toContain('00604000-00607000 rw-p 00000000 00:00 0                                  [heap]');
  });
  it('5.15: vma_merge with whatever precedes the old break, so the bss grows into the heap', () => {
    const mm = bssThenBrk('linux-5.15');
    expect(mm.mapCount).toBe(1);
    expect(procMaps(mm)).toContain('00600000-00606000 rw-p 00000000 00:00 0                                  [heap]');
  });
  it('a fork child\'s faulted heap never takes in new brk pages (anon_vma_chain not singular)', () => {
    const parent = bssThenBrk('linux-6.x');
    parent.touch(0x604000);
    const child = new MmStruct({ commit: parent.commit });
    child.forkFrom(parent);
    child.brkSyscall(0x608000);
    expect(child.mapCount).toBe(3);
    parent.brkSyscall(0x608000);
    expect(parent.mapCount).toBe(2);
  });
});

describe('mmap placement and map types by kernel version (host oracle mmap-args.steps checks 6.x)', () => {
  const MIB2 = 2 * 1024 * 1024;
  it('6.7+: a hint-less private anonymous 2 MiB multiple is THP-aligned; 5.15 places it page-aligned below mmap_base', () => {
    const six = new MmStruct();
    six.mmap(0, P, RW, ANON);
    const a = six.mmap(0, MIB2, RW, ANON);
    expect(a % MIB2).toBe(0);
    expect(six.mmap(0, MIB2 + P, RW, ANON) % MIB2).not.toBe(0);
    const old = new MmStruct({ variant: 'linux-5.15' });
    old.mmap(0, P, RW, ANON);
    const b = old.mmap(0, MIB2, RW, ANON);
    expect(b % MIB2).not.toBe(0);
    expect(b).toBe(old.mmapBase - P - MIB2);
  });
  it('MAP_DROPPABLE (6.11+) is VM_DROPPABLE | VM_NORESERVE | VM_WIPEONFORK | VM_DONTDUMP on 6.x, an unknown map type (EINVAL) on 5.15', () => {
    const six = new MmStruct();
    const a = six.mmap(0, P, RW, F.MAP_DROPPABLE | F.MAP_ANONYMOUS);
    expect(vmFlagsLine(six.vmas.lookup(a)!)).toBe('VmFlags: rd wr mr mw me nr wf dd dp ');
    const old = new MmStruct({ variant: 'linux-5.15' });
    expect(() => old.mmap(0, P, RW, F.MAP_DROPPABLE | F.MAP_ANONYMOUS)).toThrow(/EINVAL/);
  });
});

describe('max_map_count and mprotect (split_vma refuses at the limit)', () => {
  it('mprotect of one page inside an area is ENOMEM at the limit, with nothing changed', () => {
    const mm = new MmStruct({ maxMapCount: 3 });
    mm.mmap(0x40000000, 4 * P, RW, ANON | MAP_FIXED);
    mm.mmap(0x50000000, 4 * P, RW, ANON | MAP_FIXED);
    mm.mmap(0x60000000, 4 * P, RW, ANON | MAP_FIXED);
    const before = procMaps(mm);
    const committed = mm.commit.committed;
    expect(() => mm.mprotect(0x40001000, P, PROT_READ)).toThrow(/ENOMEM/);
    expect(procMaps(mm)).toBe(before);
    expect(mm.commit.committed).toBe(committed);
    // The whole area changes without a split.
    expect(mm.mprotect(0x40000000, 4 * P, PROT_READ)).toBe(0);
  });
  it('one below the limit the first split is made and the second refused; the first stays', () => {
    const mm = new MmStruct({ maxMapCount: 3 });
    mm.mmap(0x40000000, 4 * P, RW, ANON | MAP_FIXED);
    mm.mmap(0x50000000, 4 * P, RW, ANON | MAP_FIXED);
    expect(() => mm.mprotect(0x40001000, P, PROT_READ)).toThrow(/ENOMEM/);
    expect(mm.mapCount).toBe(3);
    expect(procMaps(mm)).toContain('40000000-40001000 rw-p');
    expect(procMaps(mm)).toContain('40001000-40004000 rw-p');
  });
});

describe('wrap-around and mremap lengths by kernel version (host oracle mprotect-edges.steps checks 6.x)', () => {
  it('an mprotect end past 2^64 is ENOMEM and changes nothing', () => {
    const mm = new MmStruct();
    mm.mmap(0x48000000, 4 * P, RW, ANON | MAP_FIXED);
    const before = procMaps(mm);
    expect(() => mm.mprotect(0x48000000, 0xfffffffffffff000n, PROT_READ)).toThrow(/ENOMEM/);
    expect(procMaps(mm)).toBe(before);
  });
  it('mremap to a new size beyond TASK_SIZE: EINVAL on 6.17+ (check_mremap_params), ENOMEM from the search on 5.15', () => {
    const six = new MmStruct();
    six.mmap(0x48000000, 4 * P, RW, ANON | MAP_FIXED);
    expect(() => six.mremap(0x48000000, 4 * P, 0xfffffffffffff000n, MREMAP_MAYMOVE)).toThrow(/EINVAL/);
    expect(() => six.mremap(0x48000000, 4 * P, 0xffffffffffffffffn, MREMAP_MAYMOVE)).toThrow(/EINVAL/); // PAGE_ALIGN wraps to 0
    const old = new MmStruct({ variant: 'linux-5.15' });
    old.mmap(0x48000000, 4 * P, RW, ANON | MAP_FIXED);
    expect(() => old.mremap(0x48000000, 4 * P, 0xfffffffffffff000n, MREMAP_MAYMOVE)).toThrow(/ENOMEM/);
  });
});

describe('mremap of a range spanning areas (host oracle mremap-span.steps checks 6.x)', () => {
  const spanning = (variant: 'linux-5.15' | 'linux-6.x'): MmStruct => {
    const mm = new MmStruct({ variant });
    mm.mmap(0x40000000, 2 * P, RW, ANON | MAP_FIXED);
    mm.mmap(0x40002000, 2 * P, PROT_READ, ANON | MAP_FIXED);
    mm.mmap(0x40006000, 2 * P, RW, ANON | MAP_FIXED);
    return mm;
  };
  it('6.17+ moves every area with MREMAP_FIXED at the same size, holes kept', () => {
    const mm = spanning('linux-6.x');
    expect(mm.mremap(0x40000000, 8 * P, 8 * P, MREMAP_MAYMOVE | MREMAP_FIXED, 0x50000000)).toBe(0x50000000);
    expect(procMaps(mm)).toBe('50000000-50002000 rw-p 00000000 00:00 0 \n50002000-50004000 r--p 00000000 00:00 0 \n50006000-50008000 rw-p 00000000 00:00 0 \n');
  });
  it('5.15 answers EFAULT (vma_to_resize: the old range runs past the area)', () => {
    const mm = spanning('linux-5.15');
    expect(() => mm.mremap(0x40000000, 8 * P, 8 * P, MREMAP_MAYMOVE | MREMAP_FIXED, 0x50000000)).toThrow(/EFAULT/);
  });
});
