/**
 * vm_map_simplify_entry / vm_map_try_merge_entries (sys/vm/vm_map.c): neighbours merge only when
 * vm_map_mergeable_neighbors holds — same object with contiguous offsets (or both without an
 * object), same eflags, protection, max protection, inheritance, wiring — and neither is in
 * MAP_ENTRY_NOMERGE_MASK (GROWS_DOWN/UP, STACK_GAP_DN/UP, VN_EXEC, IN_TRANSITION, IS_SUB_MAP).
 */
import { Kernel, memoryFileSystem, type Thread } from '@polykernel/kernel';
import { describe, expect, it } from 'vitest';
import type { FreebsdMachine, FreebsdSpace } from '../machine.js';
import { MAP_ANON, MAP_FIXED, MAP_PRIVATE, MAP_STACK, PAGE_SIZE } from '../param.js';
import { freebsdPersonality } from '../personality.js';

type K = Kernel<FreebsdSpace, FreebsdMachine>;
const RW = 3;

function boot(): { k: K; t: Thread } {
  const fs = memoryFileSystem({ '/data': new Uint8Array(4 * PAGE_SIZE).fill(7) });
  const k = new Kernel(freebsdPersonality({ fs }), { frames: 4096, seed: 2, contents: true });
  return { k, t: k.createProcess(k.init, 'm').threads[0]! };
}
const entries = (k: K, t: Thread): [number, number][] => [...k.processes.get(t.process.pid)!.space.map.entries()].map((e) => [e.start, e.end]);

describe('vm_map_simplify_entry: which neighbours merge', () => {
  it('two private mappings of one file at consecutive addresses and offsets become one entry; a gap in the offsets keeps two', () => {
    const { k, t } = boot();
    const fd = k.syscall(t, 'open', ['/data', 0, 0]).value;
    const a = k.syscall(t, 'mmap', [0, 4 * PAGE_SIZE, 1, MAP_PRIVATE, fd, 0]).value;
    k.syscall(t, 'munmap', [a, 4 * PAGE_SIZE]);
    expect(k.syscall(t, 'mmap', [a, PAGE_SIZE, 1, MAP_PRIVATE | MAP_FIXED, fd, 0]).value).toBe(a);
    expect(k.syscall(t, 'mmap', [a + PAGE_SIZE, PAGE_SIZE, 1, MAP_PRIVATE | MAP_FIXED, fd, PAGE_SIZE]).value).toBe(a + PAGE_SIZE);
    expect(entries(k, t)).toEqual([[a, a + 2 * PAGE_SIZE]]);
    expect(k.syscall(t, 'mmap', [a + 2 * PAGE_SIZE, PAGE_SIZE, 1, MAP_PRIVATE | MAP_FIXED, fd, 3 * PAGE_SIZE]).value).toBe(a + 2 * PAGE_SIZE);
    expect(entries(k, t)).toEqual([[a, a + 2 * PAGE_SIZE], [a + 2 * PAGE_SIZE, a + 3 * PAGE_SIZE]]);
  });

  it('a file mapping and anonymous memory side by side stay two entries (different objects)', () => {
    const { k, t } = boot();
    const fd = k.syscall(t, 'open', ['/data', 0, 0]).value;
    const a = k.syscall(t, 'mmap', [0, PAGE_SIZE, 1, MAP_PRIVATE, fd, 0]).value;
    expect(k.syscall(t, 'mmap', [a + PAGE_SIZE, PAGE_SIZE, 1, MAP_PRIVATE | MAP_ANON | MAP_FIXED, -1, 0]).value).toBe(a + PAGE_SIZE);
    expect(entries(k, t)).toHaveLength(2);
  });

  it('a stack (GROWS_DOWN) and its gap never merge with anonymous memory of the same protection', () => {
    const { k, t } = boot();
    const s = k.syscall(t, 'mmap', [0, 4 * 128 * 1024, RW, MAP_PRIVATE | MAP_ANON | MAP_STACK, -1, 0]).value;
    const end = s + 4 * 128 * 1024;
    expect(k.syscall(t, 'mmap', [end, PAGE_SIZE, RW, MAP_PRIVATE | MAP_ANON | MAP_FIXED, -1, 0]).value).toBe(end);
    // gap, stack, the new page: three entries, the last not absorbed into the stack.
    expect(entries(k, t)).toEqual([[s, end - 128 * 1024], [end - 128 * 1024, end], [end, end + PAGE_SIZE]]);
  });

  it('minherit splits by inheritance and merges back when it is the same again', () => {
    const { k, t } = boot();
    const a = k.syscall(t, 'mmap', [0, 3 * PAGE_SIZE, RW, MAP_PRIVATE | MAP_ANON, -1, 0]).value;
    expect(k.syscall(t, 'minherit', [a + PAGE_SIZE, PAGE_SIZE, 0 /* INHERIT_SHARE */]).value).toBe(0);
    expect(entries(k, t)).toHaveLength(3);
    expect(k.syscall(t, 'minherit', [a + PAGE_SIZE, PAGE_SIZE, 1 /* INHERIT_COPY */]).value).toBe(0);
    expect(entries(k, t)).toEqual([[a, a + 3 * PAGE_SIZE]]);
  });
});
