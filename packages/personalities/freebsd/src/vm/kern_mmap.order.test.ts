/**
 * kern_mmap's check order where two errors apply and their errnos differ (sys/vm/vm_mmap.c, FreeBSD
 * 14): prot's bits and PROT_MAX (EINVAL, ENOTSUP) before the length; MAP_STACK's and MAP_GUARD's
 * rules before the descriptor is looked up (EINVAL, not EBADF); the length's rounding (ENOMEM)
 * before MAP_ALIGNED(n); MAP_FIXED's address checks before the descriptor; MAP_32BIT's 2 GiB
 * limit for MAP_FIXED and its placement below 2 GiB without one.
 */
import { FREEBSD_ERRNO } from '@polykernel/core';
import { Kernel } from '@polykernel/kernel';
import { describe, expect, it } from 'vitest';
import {
  MAP_32BIT, MAP_32BIT_MAX_ADDR, MAP_ANON, MAP_FIXED, MAP_GUARD, MAP_PRIVATE, MAP_STACK, mapAligned, PAGE_SIZE,
} from '../param.js';
import { freebsdPersonality } from '../personality.js';

const E = FREEBSD_ERRNO;
const RW = 3;
const PRIV_ANON = MAP_PRIVATE | MAP_ANON;

function mmap(addr: number, len: number, prot: number, flags: number, fd = -1, pos = 0): { value: number; errorNumber: number | null | undefined } {
  const k = new Kernel(freebsdPersonality(), { frames: 2048, seed: 3, contents: true });
  const t = k.createProcess(k.init, 'order').threads[0]!;
  const r = k.syscall(t, 'mmap', [addr, len, prot, flags, fd, pos]);
  return { value: r.value, errorNumber: r.errorNumber };
}

describe('kern_mmap: which error wins when two apply', () => {
  const cases: [string, number, number, number, number, number, number, number][] = [
    ['PROT_MAX below prot, and len 0: ENOTSUP (EOPNOTSUPP) first', 0, 0, RW + (1 << 16), PRIV_ANON, -1, 0, E.EOPNOTSUPP],
    ['prot bits outside PROT_ALL|PROT_MAX(PROT_ALL), and len 0: EINVAL first (not ENOTSUP)', 0, 0, 8 + (1 << 16), PRIV_ANON, -1, 0, E.EINVAL],
    ['MAP_STACK with a descriptor (closed): EINVAL, not EBADF', 0, PAGE_SIZE, RW, MAP_PRIVATE | MAP_STACK, 7, 0, E.EINVAL],
    ['MAP_GUARD with a descriptor (closed): EINVAL, not EBADF', 0, PAGE_SIZE, 0, MAP_GUARD, 7, 0, E.EINVAL],
    ['MAP_GUARD with an offset: EINVAL', 0, PAGE_SIZE, 0, MAP_GUARD, -1, PAGE_SIZE, E.EINVAL],
    ['MAP_GUARD with MAP_STACK: EINVAL (MAP_STACK needs PROT_READ|PROT_WRITE)', 0, PAGE_SIZE, 0, MAP_GUARD | MAP_STACK, -1, 0, E.EINVAL],
    ['a length that rounds past the address space, and a bad MAP_ALIGNED: ENOMEM first', 0, Number.MAX_SAFE_INTEGER, RW, PRIV_ANON | mapAligned(8), -1, 0, E.ENOMEM],
    ['MAP_FIXED unaligned with a closed descriptor: EINVAL before fget\'s EBADF', 0x1001, PAGE_SIZE, 1, MAP_PRIVATE | MAP_FIXED, 7, 0, E.EINVAL],
    ['MAP_FIXED|MAP_32BIT ending above 2 GiB: EINVAL', MAP_32BIT_MAX_ADDR - PAGE_SIZE, 2 * PAGE_SIZE, RW, PRIV_ANON | MAP_FIXED | MAP_32BIT, -1, 0, E.EINVAL],
    ['an unknown flag with MAP_GUARD and prot: EINVAL', 0, PAGE_SIZE, RW, MAP_GUARD | 0x100000, -1, 0, E.EINVAL],
  ];
  for (const [name, addr, len, prot, flags, fd, pos, errno] of cases) {
    it(name, () => {
      const r = mmap(addr, len, prot, flags, fd, pos);
      expect(r.value).toBe(-1);
      expect(r.errorNumber).toBe(errno);
    });
  }

  it('MAP_32BIT without a hint maps below 2 GiB; MAP_GUARD|MAP_32BIT is allowed; MAP_FIXED|MAP_32BIT below 2 GiB works', () => {
    const a = mmap(0, 4 * PAGE_SIZE, RW, PRIV_ANON | MAP_32BIT);
    expect(a.errorNumber ?? 0).toBe(0);
    expect(a.value + 4 * PAGE_SIZE).toBeLessThanOrEqual(MAP_32BIT_MAX_ADDR);
    expect(mmap(0, PAGE_SIZE, 0, MAP_GUARD | MAP_32BIT).value).toBeLessThan(MAP_32BIT_MAX_ADDR);
    expect(mmap(0x4000_0000, PAGE_SIZE, RW, PRIV_ANON | MAP_FIXED | MAP_32BIT).value).toBe(0x4000_0000);
  });
});
