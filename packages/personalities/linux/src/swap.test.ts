import { Kernel, type Process, type Thread } from '@polykernel/kernel';
import { ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { linuxFlags as F, linuxPersonality, procStatusMemory, smapsEntry, type LinuxOptions, type LinuxSpace } from './index.js';

const P = 4096;
const RW = F.PROT_READ | F.PROT_WRITE;
const ANON = F.MAP_PRIVATE | F.MAP_ANONYMOUS;

function machine(frames: number, swapSlots: number, opts: LinuxOptions = {}): { k: Kernel<LinuxSpace>; lp: ReturnType<typeof linuxPersonality>; free0: number } {
  const lp = linuxPersonality(opts);
  const k = new Kernel(lp, { frames, swapSlots, contents: true });
  return { k, lp, free0: k.mmu.frames.freeFrames };
}

const t0 = (p: Process<LinuxSpace>): Thread => p.threads[0]!;
const put = (k: Kernel<LinuxSpace>, p: Process<LinuxSpace>, va: number, v: number): void => {
  const pa = k.access(t0(p), va, ACCESS_WRITE);
  if (pa >= 0) k.mmu.frames.write(pa, Uint8Array.of(v)); // -1: the access ended in a signal
};
const get = (k: Kernel<LinuxSpace>, p: Process<LinuxSpace>, va: number): number => k.mmu.frames.read(k.access(t0(p), va, ACCESS_READ), 1)[0]!;

describe('swap: anonymous pages out and back', () => {
  it('a process larger than memory runs through swap, reads back every byte, and gives every slot back', () => {
    const { k, lp } = machine(96, 256);
    const p = k.createProcess(k.init, 'big');
    const a = k.syscall(t0(p), 'mmap', [0, 160 * P, RW, ANON, -1, 0]).value;
    for (let i = 0; i < 160; i++) put(k, p, a + i * P, i % 251);
    expect(p.state).toBe('running');
    expect(lp.dmesg(k)).toEqual([]); // nobody was OOM-killed
    const swapped = p.space.swap.size;
    expect(swapped).toBeGreaterThan(60);
    expect(procStatusMemory(p.space)).toContain(`VmSwap:\t${String(swapped * 4).padStart(8)} kB`);
    const area = p.space.mm.vmas.lookup(a)!;
    expect(smapsEntry(k, p, area)).toMatch(new RegExp(`Swap: +${swapped * 4} kB`));
    for (let i = 0; i < 160; i++) expect(get(k, p, a + i * P)).toBe(i % 251);
    expect(k.metrics.faults.swapIn).toBeGreaterThan(0);
    k.syscall(t0(p), 'munmap', [a, 160 * P]);
    expect(p.space.swap.size).toBe(0);
    expect(k.vm.swap.usedSlots).toBe(0);
  });

  it('fork shares swap entries (both read the right bytes); the slot goes when both are done', () => {
    const { k } = machine(96, 256);
    const p = k.createProcess(k.init, 'parent');
    const a = k.syscall(t0(p), 'mmap', [0, 120 * P, RW, ANON, -1, 0]).value;
    for (let i = 0; i < 120; i++) put(k, p, a + i * P, (i * 3) % 251);
    expect(p.space.swap.size).toBeGreaterThan(0);
    const child = k.processes.get(k.syscall(t0(p), 'fork').value)!;
    const shared = [...p.space.swap.keys()];
    expect([...child.space.swap.keys()]).toEqual(shared);
    for (const va of shared) expect(get(k, child, va)).toBe(((va - a) / P * 3) % 251);
    for (const va of shared) expect(get(k, p, va)).toBe(((va - a) / P * 3) % 251);
    k.syscall(t0(child), 'exit_group', [0]);
    k.syscall(t0(p), 'exit_group', [0]);
    expect(k.vm.swap.usedSlots).toBe(0);
  });

  it('with memory and swap both exhausted the OOM killer runs, counting swap entries in oom_badness', () => {
    // One mmap of 400 pages on 96 frames + 32 slots: overcommit mode 0 refuses only a request above
    // totalram + swap, so the machine's overcommit sees 8 GiB of RAM here.
    const { k, lp } = machine(96, 32, { overcommit: { totalRamPages: 2 * 1024 * 1024 } });
    const hog = k.createProcess(k.init, 'hog');
    const a = k.syscall(t0(hog), 'mmap', [0, 400 * P, RW, ANON, -1, 0]).value;
    for (let i = 0; i < 400 && hog.state === 'running'; i++) put(k, hog, a + i * P, 1);
    expect(hog.killedBy).toBe('SIGKILL');
    const report = lp.dmesg(k).join('\n');
    expect(report).toMatch(/\[ +\d+\] +0 +\d+ +400 +\d+ +\d+ +0 +0 +\d+ +32 +0 hog/); // swapents 32
    expect(k.vm.swap.usedSlots).toBe(0);
  });

  it('invariant: under memory pressure with swap, every page reads back what its process wrote last', () => {
    let swappedRuns = 0;
    fc.assert(fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 47 }), fc.integer({ min: 1, max: 250 })), { minLength: 60, maxLength: 200 }), (ops) => {
      const { k, free0 } = machine(36, 256);
      const root = k.createProcess(k.init, 'p0');
      const a = k.syscall(t0(root), 'mmap', [0, 48 * P, RW, ANON, -1, 0]).value;
      let live: { p: Process<LinuxSpace>; mem: Map<number, number> }[] = [{ p: root, mem: new Map() }];
      let maxSwap = 0;
      for (const [op, who, page, val] of ops) {
        live = live.filter((w) => w.p.state === 'running'); // the OOM killer may take one: the rest must stay right
        if (live.length === 0) break;
        const w = live[who % live.length]!;
        if (op <= 5) {
          put(k, w.p, a + page * P, val);
          if (w.p.state === 'running') w.mem.set(page, val);
        } else if (op <= 7) {
          const pa = k.access(t0(w.p), a + page * P, ACCESS_READ);
          if (pa >= 0 && k.mmu.frames.read(pa, 1)[0] !== (w.mem.get(page) ?? 0)) return false;
        } else if (op === 8 && live.length < 3) {
          const pid = k.syscall(t0(w.p), 'fork').value;
          if (pid > 0) live.push({ p: k.processes.get(pid)!, mem: new Map(w.mem) });
        } else if (op === 9 && live.length > 1) {
          k.syscall(t0(w.p), 'exit_group', [0]);
        }
        maxSwap = Math.max(maxSwap, k.vm.swap.usedSlots);
      }
      for (const w of live.filter((x) => x.p.state === 'running')) {
        for (const [page, val] of w.mem) {
          const pa = k.access(t0(w.p), a + page * P, ACCESS_READ);
          if (pa >= 0 && k.mmu.frames.read(pa, 1)[0] !== val) return false;
        }
      }
      if (maxSwap > 0) swappedRuns++;
      for (const p of [...k.processes.values()]) if (p !== k.init && p.state === 'running') k.syscall(t0(p), 'exit_group', [0]);
      return k.vm.swap.usedSlots === 0 && k.mmu.frames.freeFrames === free0;
    }), { seed: 0x22_0304, numRuns: 60 });
    expect(swappedRuns).toBeGreaterThan(20); // the property really runs through swap
  });
});
