/**
 * Raw system-call arguments are 64-bit registers (issue 21): a negative length is a huge unsigned
 * value the kernel refuses as Linux does, never an inverted area; and no sequence of raw calls,
 * however wild its arguments, breaks the mm's invariants.
 */
import { Kernel } from '@polykernel/kernel';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, PROT_READ, PROT_WRITE } from './flags.js';
import { linuxPersonality, type LinuxSpace } from './personality.js';
import { procMaps } from './proc/maps.js';
import { int, reg, uint, ulong, wraps } from './syscall-args.js';

const P = 4096;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

function boot(): { k: Kernel<LinuxSpace>; mm: LinuxSpace['mm']; call: (name: string, args: number[]) => string } {
  const k = new Kernel(linuxPersonality(), { frames: 1024 });
  const p = k.createProcess(k.init, 'raw');
  const t = p.threads[0]!;
  return {
    k,
    mm: p.space.mm,
    call: (name, args) => {
      const v = k.syscall(t, name, args).value;
      return v < 0 ? (t.lastError ?? String(v)) : `0x${v.toString(16)}`;
    },
  };
}

/** Areas sorted, disjoint, page aligned, non-empty, inside [0, TASK_SIZE); VmSize their sum. */
function checkInvariants(mm: LinuxSpace['mm']): void {
  let pages = 0;
  let prevEnd = 0;
  for (const v of mm.vmas.iterateFrom(0)) {
    expect(v.start % P).toBe(0);
    expect(v.end % P).toBe(0);
    expect(v.start).toBeLessThan(v.end);
    expect(v.start).toBeGreaterThanOrEqual(prevEnd);
    expect(v.end).toBeLessThanOrEqual(mm.taskSize);
    prevEnd = v.end;
    pages += (v.end - v.start) / P;
  }
  expect(mm.totalVm).toBe(pages);
  expect(mm.commit.committed).toBeGreaterThanOrEqual(0);
  // Every maps line reads start-end with start below end.
  for (const line of procMaps(mm).split('\n').filter((l) => l !== '')) {
    const [s, e] = line.split(' ')[0]!.split('-').map((x) => Number.parseInt(x, 16));
    expect(s!).toBeLessThan(e!);
  }
}

describe('arguments as registers', () => {
  it('reads a negative number as its two\'s complement register, in each C type', () => {
    expect(reg(-4096)).toBe(0xfffffffffffff000n);
    expect(ulong(-4096)).toBeGreaterThan(2 ** 47);
    expect(ulong(-4096) % P).toBe(0);
    expect(ulong(-4095) % P).toBe(1);
    expect(ulong(0x7ffffffff000)).toBe(0x7ffffffff000);
    expect(int(-1)).toBe(-1);
    expect(int(2 ** 32 - 1)).toBe(-1);
    expect(uint(-1)).toBe(2 ** 32 - 1);
    expect(Number.isNaN(ulong('/etc/passwd'))).toBe(true);
    expect(wraps(0x10000, -4096)).toBe(true);
    expect(wraps(0x10000, 0x1000)).toBe(false);
  });

  it('mmap(0, -4096, ...) is ENOMEM and maps nothing (it made an inverted area, VmSize -4 kB)', () => {
    const { mm, call } = boot();
    expect(call('mmap', [0, -4096, RW, ANON, -1, 0])).toBe('ENOMEM');
    checkInvariants(mm);
    expect([...mm.vmas.iterateFrom(0)]).toHaveLength(0);
  });

  it('munmap, mprotect, madvise and MAP_FIXED answer huge and negative values as Linux does', () => {
    const { mm, call } = boot();
    const a = Number.parseInt(call('mmap', [0, 4 * P, RW, ANON, -1, 0]), 16);
    expect(call('munmap', [a, -4096])).toBe('EINVAL');
    expect(call('mprotect', [a, -4096, PROT_READ])).toBe('ENOMEM'); // start + len wraps
    expect(call('madvise', [a, -4096, 4])).toBe('EINVAL');
    expect(call('mmap', [-4096, P, RW, ANON | MAP_FIXED, -1, 0])).toBe('ENOMEM');
    expect(call('mmap', [-4095, P, RW, ANON | MAP_FIXED, -1, 0])).toBe('ENOMEM'); // range first, then alignment
    expect(call('mmap', [0x10001, P, RW, ANON | MAP_FIXED, -1, 0])).toBe('EINVAL');
    expect(call('mmap', [0, P, -1, -1, -1, 0])).toBe('EINVAL'); // flags -1: MAP_TYPE 0xf
    checkInvariants(mm);
    expect(call('munmap', [a, 4 * P])).toBe('0x0');
  });
});

describe('random raw syscalls never break the mm (fast-check)', () => {
  it('sorted, aligned, disjoint areas inside TASK_SIZE, and VmSize their sum, after any calls', () => {
    const value = fc.oneof(
      fc.constantFrom(0, 1, -1, -4096, -4095, P, 2 * P, 0x7ffffffff000, 0x800000000000, 2 ** 53 - 1, -(2 ** 53) + 1, 0x7ffff7ff0000, 0x10000),
      fc.integer({ min: 0, max: 64 }).map((n) => 0x7ffff7f00000 + n * P),
      fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
    );
    const op = fc.record({
      name: fc.constantFrom('mmap', 'munmap', 'mprotect', 'mremap', 'madvise', 'brk'),
      args: fc.array(value, { minLength: 6, maxLength: 6 }),
      prot: fc.constantFrom(0, PROT_READ, RW, -1),
      flags: fc.constantFrom(ANON, ANON | MAP_FIXED, -1, 0x22, 0x32, 1),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        const { mm, call } = boot();
        for (const o of ops) {
          const a = [...o.args];
          if (o.name === 'mmap') { a[2] = o.prot; a[3] = o.flags; a[4] = -1; }
          if (o.name === 'mprotect') a[2] = o.prot;
          if (o.name === 'madvise') a[2] = 4;
          if (o.name === 'mremap') a[3] = o.flags & 3;
          call(o.name, a);
          checkInvariants(mm);
        }
      }),
      { numRuns: 300 },
    );
  });
});
