/**
 * mmap and friends through the system-call gate: placement, FreeBSD's errnos in kern_mmap's
 * check order, entry coalescing and splitting (vm_map_simplify_entry), guards and stacks.
 */
import { FREEBSD_ERRNO } from '@polykernel/core';
import { Kernel, type Thread } from '@polykernel/kernel';
import { ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import type { FreebsdMachine, FreebsdSpace } from '../machine.js';
import {
  MAP_ANON, MAP_EXCL, MAP_FIXED, MAP_GUARD, MAP_PRIVATE, MAP_SHARED, MAP_STACK, mapAligned, MAXDSIZ, PAGE_SIZE, SGROWSIZ,
} from '../param.js';
import { freebsdPersonality } from '../personality.js';

const RW = 3;
const PRIV_ANON = MAP_PRIVATE | MAP_ANON;
const HEAP_END = MAXDSIZ; // a process not made by exec has vm_daddr 0

function boot(): { k: Kernel<FreebsdSpace, FreebsdMachine>; t: Thread } {
  const k = new Kernel(freebsdPersonality(), { frames: 8192, seed: 3, contents: true });
  const p = k.createProcess(k.init, 'test');
  return { k, t: p.threads[0]! };
}

function mmap(k: Kernel<FreebsdSpace, FreebsdMachine>, t: Thread, addr: number, len: number, prot: number, flags: number, fd = -1, pos = 0) {
  return k.syscall(t, 'mmap', [addr, len, prot, flags, fd, pos]);
}

function entries(k: Kernel<FreebsdSpace, FreebsdMachine>, t: Thread): string[] {
  const s = (t.process as unknown as { space: FreebsdSpace }).space;
  return [...s.map.entries()].map((e) => `${e.start.toString(16)}-${e.end.toString(16)} ${e.protection} ${e.eflags.toString(16)}`);
}

describe('mmap placement (vm_map_find_min, first fit, anonymous clustering)', () => {
  it('puts anonymous memory without a hint above the largest possible heap, then right after the last one', () => {
    const { k, t } = boot();
    expect(mmap(k, t, 0, 3 * PAGE_SIZE, RW, PRIV_ANON).value).toBe(HEAP_END);
    expect(mmap(k, t, 0, PAGE_SIZE, 1, PRIV_ANON).value).toBe(HEAP_END + 3 * PAGE_SIZE);
  });

  it('keeps going up after an unmap (map->anon_loc), and a hint above the heap is first fit from the hint', () => {
    const { k, t } = boot();
    const a = mmap(k, t, 0, PAGE_SIZE, RW, PRIV_ANON).value;
    const b = mmap(k, t, 0, PAGE_SIZE, 1, PRIV_ANON).value;
    expect(k.syscall(t, 'munmap', [a, PAGE_SIZE]).value).toBe(0);
    expect(mmap(k, t, 0, PAGE_SIZE, RW, PRIV_ANON).value).toBe(b + PAGE_SIZE);
    expect(mmap(k, t, a, PAGE_SIZE, RW, PRIV_ANON).value).toBe(a);
  });

  it('aligns MAP_ALIGNED(n) to 2^n and MAP_ALIGNED_SUPER to 2 MiB only when the mapping is a superpage or more', () => {
    const { k, t } = boot();
    mmap(k, t, 0, PAGE_SIZE, RW, PRIV_ANON);
    const a = mmap(k, t, 0, PAGE_SIZE, RW, PRIV_ANON | mapAligned(21)).value;
    expect(a % 0x20_0000).toBe(0);
    const small = mmap(k, t, 0, PAGE_SIZE, RW, PRIV_ANON | mapAligned(1)).value;
    expect(small).toBe(a + PAGE_SIZE);
    const big = mmap(k, t, 0, 0x40_0000, RW, PRIV_ANON | mapAligned(1)).value;
    expect(big % 0x20_0000).toBe(0);
  });
});

describe('kern_mmap check order and errnos', () => {
  const E = FREEBSD_ERRNO;
  const cases: [string, number, number, number, number, number, number, number][] = [
    ['len 0', 0, 0, RW, PRIV_ANON, -1, 0, E.EINVAL],
    ['MAP_ANON with an fd', 0, PAGE_SIZE, RW, PRIV_ANON, 3, 0, E.EINVAL],
    ['MAP_ANON with an offset', 0, PAGE_SIZE, RW, PRIV_ANON, -1, PAGE_SIZE, E.EINVAL],
    ['PROT_MAX without prot', 0, PAGE_SIZE, RW + (1 << 16), PRIV_ANON, -1, 0, E.EOPNOTSUPP],
    ['unknown prot bits', 0, PAGE_SIZE, 8, PRIV_ANON, -1, 0, E.EINVAL],
    ['MAP_STACK read-only', 0, PAGE_SIZE, 1, PRIV_ANON | MAP_STACK, -1, 0, E.EINVAL],
    ['unknown flag', 0, PAGE_SIZE, RW, PRIV_ANON | 0x100000, -1, 0, E.EINVAL],
    ['MAP_EXCL without MAP_FIXED', 0, PAGE_SIZE, RW, PRIV_ANON | MAP_EXCL, -1, 0, E.EINVAL],
    ['MAP_SHARED|MAP_PRIVATE', 0, PAGE_SIZE, RW, MAP_SHARED | MAP_PRIVATE | MAP_ANON, -1, 0, E.EINVAL],
    ['MAP_GUARD with access', 0, PAGE_SIZE, RW, MAP_GUARD, -1, 0, E.EINVAL],
    ['MAP_GUARD with MAP_PRIVATE', 0, PAGE_SIZE, 0, MAP_GUARD | MAP_PRIVATE, -1, 0, E.EINVAL],
    ['MAP_ALIGNED(11): below a page', 0, PAGE_SIZE, RW, PRIV_ANON | mapAligned(11), -1, 0, E.EINVAL],
    ['MAP_ALIGNED(64): the pointer width', 0, PAGE_SIZE, RW, PRIV_ANON | mapAligned(64), -1, 0, E.EINVAL],
    ['MAP_FIXED unaligned', 0x1001, PAGE_SIZE, RW, PRIV_ANON | MAP_FIXED, -1, 0, E.EINVAL],
    ['MAP_FIXED above user space', 0x7fff_ffff_f000, 2 * PAGE_SIZE, RW, PRIV_ANON | MAP_FIXED, -1, 0, E.EINVAL],
    ['MAP_FIXED at page 0', 0, PAGE_SIZE, RW, PRIV_ANON | MAP_FIXED, -1, 0, E.EINVAL],
    ['a file mapping of a closed fd', 0, PAGE_SIZE, 1, MAP_PRIVATE, 5, 0, E.EBADF],
  ];
  for (const [name, addr, len, prot, flags, fd, pos, errno] of cases) {
    it(`${name} → ${errno}`, () => {
      const { k, t } = boot();
      const r = mmap(k, t, addr, len, prot, flags, fd, pos);
      expect(r.value).toBe(-1);
      expect(r.errorNumber).toBe(errno);
    });
  }

  it('MAP_FIXED|MAP_EXCL over a mapping is ENOMEM (KERN_NO_SPACE); plain MAP_FIXED replaces it', () => {
    const { k, t } = boot();
    const a = mmap(k, t, 0, 4 * PAGE_SIZE, RW, PRIV_ANON).value;
    k.access(t, a, ACCESS_WRITE);
    const r = mmap(k, t, a + PAGE_SIZE, PAGE_SIZE, RW, PRIV_ANON | MAP_FIXED | MAP_EXCL);
    expect(r.errorNumber).toBe(FREEBSD_ERRNO.ENOMEM);
    expect(mmap(k, t, a + PAGE_SIZE, PAGE_SIZE, 1, PRIV_ANON | MAP_FIXED).value).toBe(a + PAGE_SIZE);
    expect(entries(k, t)).toHaveLength(3);
  });

  it('munmap: len 0 and ranges outside user space are EINVAL; an unmapped range is fine', () => {
    const { k, t } = boot();
    expect(k.syscall(t, 'munmap', [HEAP_END, 0]).errorNumber).toBe(FREEBSD_ERRNO.EINVAL);
    expect(k.syscall(t, 'munmap', [0, PAGE_SIZE]).errorNumber).toBe(FREEBSD_ERRNO.EINVAL);
    expect(k.syscall(t, 'munmap', [HEAP_END, PAGE_SIZE]).value).toBe(0);
  });
});

describe('entries: coalescing, splitting, protection', () => {
  it('two anonymous mappings side by side become one entry (vm_map_insert extends the previous one)', () => {
    const { k, t } = boot();
    const a = mmap(k, t, 0, 2 * PAGE_SIZE, RW, PRIV_ANON).value;
    expect(mmap(k, t, 0, 2 * PAGE_SIZE, RW, PRIV_ANON).value).toBe(a + 2 * PAGE_SIZE);
    expect(entries(k, t)).toEqual([`${a.toString(16)}-${(a + 4 * PAGE_SIZE).toString(16)} 3 0`]);
  });

  it('different protections do not coalesce; mprotect splits an entry in three and merges it back', () => {
    const { k, t } = boot();
    const a = mmap(k, t, 0, 4 * PAGE_SIZE, RW, PRIV_ANON).value;
    expect(mmap(k, t, 0, PAGE_SIZE, 1, PRIV_ANON).value).toBe(a + 4 * PAGE_SIZE);
    expect(entries(k, t)).toHaveLength(2);
    expect(k.syscall(t, 'mprotect', [a + PAGE_SIZE, PAGE_SIZE, 1]).value).toBe(0);
    expect(entries(k, t)).toHaveLength(4);
    expect(k.syscall(t, 'mprotect', [a + PAGE_SIZE, PAGE_SIZE, RW]).value).toBe(0);
    expect(entries(k, t)).toHaveLength(2);
  });

  it('mprotect: beyond max protection is EACCES; a hole is not an error; writes to a read-only page are SIGSEGV', () => {
    const { k, t } = boot();
    const a = mmap(k, t, 0, 2 * PAGE_SIZE, 1 + (1 << 16), PRIV_ANON).value;
    expect(k.syscall(t, 'mprotect', [a, PAGE_SIZE, RW]).errorNumber).toBe(FREEBSD_ERRNO.EACCES);
    expect(k.syscall(t, 'mprotect', [a + 0x100_0000, PAGE_SIZE, RW]).value).toBe(0);
    expect(k.access(t, a, ACCESS_READ)).toBeGreaterThanOrEqual(0);
    expect(k.access(t, a, ACCESS_WRITE)).toBe(-1);
    expect(t.process.state).not.toBe('running'); // init reaps its children at once
    expect(t.process.killedBy).toBe('SIGSEGV');
  });

  it('mprotect lowers the page-table protection: a page written before faults on the next write', () => {
    const { k, t } = boot();
    const a = mmap(k, t, 0, PAGE_SIZE, RW, PRIV_ANON).value;
    expect(k.access(t, a, ACCESS_WRITE)).toBeGreaterThanOrEqual(0);
    k.syscall(t, 'mprotect', [a, PAGE_SIZE, 1]);
    expect(k.access(t, a, ACCESS_READ)).toBeGreaterThanOrEqual(0);
    expect(k.access(t, a, ACCESS_WRITE)).toBe(-1);
  });

  it('minherit and madvise reject unknown values with EINVAL, and split entries where they apply', () => {
    const { k, t } = boot();
    const a = mmap(k, t, 0, 4 * PAGE_SIZE, RW, PRIV_ANON).value;
    expect(k.syscall(t, 'minherit', [a, PAGE_SIZE, 7]).errorNumber).toBe(FREEBSD_ERRNO.EINVAL);
    expect(k.syscall(t, 'madvise', [a, PAGE_SIZE, 42]).errorNumber).toBe(FREEBSD_ERRNO.EINVAL);
    expect(k.syscall(t, 'minherit', [a, PAGE_SIZE, 2]).value).toBe(0);
    expect(k.syscall(t, 'madvise', [a + 3 * PAGE_SIZE, PAGE_SIZE, 8]).value).toBe(0);
    expect(entries(k, t)).toHaveLength(3);
    expect(k.syscall(t, 'madvise', [a, PAGE_SIZE, 4]).value).toBe(0);
  });
});

describe('guards and stacks', () => {
  it('MAP_GUARD reserves space that faults with SIGSEGV', () => {
    const { k, t } = boot();
    const g = mmap(k, t, 0, 4 * PAGE_SIZE, 0, MAP_GUARD).value;
    expect(g).toBe(HEAP_END);
    expect(mmap(k, t, 0, PAGE_SIZE, RW, PRIV_ANON).value).toBe(g + 4 * PAGE_SIZE);
    expect(k.access(t, g, ACCESS_READ)).toBe(-1);
    expect(t.process.killedBy).toBe('SIGSEGV');
  });

  it('MAP_STACK maps sgrowsiz at the top with a guard gap below, and a fault in the gap grows the stack', () => {
    const { k, t } = boot();
    const len = 1024 * 1024;
    const base = mmap(k, t, 0, len, RW, PRIV_ANON | MAP_STACK).value;
    expect(base).toBe(HEAP_END);
    const list = entries(k, t);
    expect(list).toEqual([
      `${base.toString(16)}-${(base + len - SGROWSIZ).toString(16)} 0 30000`,
      `${(base + len - SGROWSIZ).toString(16)}-${(base + len).toString(16)} 3 1000`,
    ]);
    const faults = k.metrics.faults.stackGrowth;
    expect(k.access(t, base + len - SGROWSIZ - 8, ACCESS_WRITE)).toBeGreaterThanOrEqual(0);
    expect(k.metrics.faults.stackGrowth).toBe(faults + 1);
    expect(entries(k, t)).toHaveLength(3);
    // The last page of the gap (stack_guard_page = 1) is never given to the stack.
    expect(k.access(t, base, ACCESS_WRITE)).toBe(-1);
  });
});

describe('break(2)', () => {
  it('grows and shrinks the data segment above vm_daddr, and reports it below', () => {
    const { k, t } = boot();
    const s = (t.process as unknown as { space: FreebsdSpace }).space;
    s.daddr = 0x60_0000;
    expect(k.syscall(t, 'break', [0]).value).toBe(0x60_0000);
    expect(k.syscall(t, 'break', [0x60_2001]).value).toBe(0x60_3000);
    expect(k.access(t, 0x60_2000, ACCESS_WRITE)).toBeGreaterThanOrEqual(0);
    expect(k.syscall(t, 'break', [0x60_1000]).value).toBe(0x60_1000);
    expect(entries(k, t)).toEqual(['600000-601000 3 0']);
    expect(k.syscall(t, 'break', [0x60_0000 + MAXDSIZ + PAGE_SIZE]).errorNumber).toBe(FREEBSD_ERRNO.ENOMEM);
  });
});
