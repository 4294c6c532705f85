import { Kernel } from '@polykernel/kernel';
import { ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_GROWSDOWN, MAP_POPULATE, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE, VM_SHARED, VM_WRITE } from './flags.js';
import { linuxPersonality, type LinuxSpace } from './personality.js';
import { procStatusMemory } from './proc/status.js';

const P = 4096;
const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

function boot(frames = 4096): { k: Kernel<LinuxSpace>; free0: number } {
  const k = new Kernel(linuxPersonality(), { frames, contents: true });
  return { k, free0: freeFrames(k) };
}

function freeFrames(k: Kernel<LinuxSpace>): number {
  let n = 0;
  for (let f = 0; f < k.mmu.frames.frameCount; f++) if (k.mmu.frames.isFree(f)) n++;
  return n;
}

describe('Linux page faults through the kernel core', () => {
  it('read maps the zero page, write replaces it with a zeroed frame, then no more faults', () => {
    const { k } = boot();
    const p = k.createProcess(k.init, 'a');
    const t = p.threads[0]!;
    const a = k.syscall(t, 'mmap', [0, 4 * P, RW, ANON, -1, 0]).value;
    expect(a).toBeGreaterThan(0);
    const pa0 = k.access(t, a, ACCESS_READ);
    expect(k.metrics.faults.zeroPage).toBe(1);
    expect(k.access(t, a + 8, ACCESS_READ)).toBe(pa0 + 8); // same page, no fault
    k.access(t, a, ACCESS_WRITE);
    expect(k.metrics.faults.zeroFill).toBe(1);
    k.access(t, a + P, ACCESS_WRITE);
    expect(k.metrics.faults.zeroFill).toBe(2);
    k.access(t, a + P, ACCESS_WRITE);
    expect(k.metrics.faults.zeroFill).toBe(2);
    expect(p.space.rss.anon).toBe(2);
  });

  it('protection: write after mprotect(PROT_READ) is SIGSEGV; back to RW makes the page writable again', () => {
    const { k } = boot();
    const p = k.createProcess(k.init, 'a');
    const t = p.threads[0]!;
    const a = k.syscall(t, 'mmap', [0, 2 * P, RW, ANON, -1, 0]).value;
    const pa = k.access(t, a, ACCESS_WRITE);
    expect(k.syscall(t, 'mprotect', [a, P, PROT_READ]).value).toBe(0);
    expect(k.access(t, a, ACCESS_READ)).toBe(pa);
    expect(k.syscall(t, 'mprotect', [a, P, RW]).value).toBe(0);
    // An exclusive anonymous page is made writable by mprotect itself (can_change_pte_writable):
    // the write needs no fault.
    const traps = k.metrics.traps.pageFault;
    expect(k.access(t, a, ACCESS_WRITE)).toBe(pa);
    expect(k.metrics.traps.pageFault).toBe(traps);
    k.syscall(t, 'mprotect', [a, P, PROT_READ]);
    expect(k.access(t, a, ACCESS_WRITE)).toBe(-1);
    expect(p.killedBy).toBe('SIGSEGV');
    expect(p.exitStatus).toBe(11);
  });

  it('unmapped addresses and instruction fetches from data are SIGSEGV', () => {
    const { k } = boot();
    const p = k.createProcess(k.init, 'a');
    expect(k.access(p.threads[0]!, 0x1234000, ACCESS_READ)).toBe(-1);
    expect(p.killedBy).toBe('SIGSEGV');
    const q = k.createProcess(k.init, 'b');
    const a = k.syscall(q.threads[0]!, 'mmap', [0, P, RW, ANON, -1, 0]).value;
    expect(k.access(q.threads[0]!, a, ACCESS_EXEC)).toBe(-1);
    expect(k.metrics.faults.protection).toBe(1);
  });

  it('munmap and madvise(MADV_DONTNEED) give frames back; reading afterwards sees zeroes again', () => {
    const { k, free0 } = boot();
    const p = k.createProcess(k.init, 'a');
    const t = p.threads[0]!;
    const base = freeFrames(k);
    const a = k.syscall(t, 'mmap', [0, 8 * P, RW, ANON, -1, 0]).value;
    for (let i = 0; i < 8; i++) k.access(t, a + i * P, ACCESS_WRITE);
    k.mmu.frames.write(k.access(t, a, ACCESS_WRITE), new Uint8Array([42]));
    expect(k.syscall(t, 'madvise', [a, P, 4]).value).toBe(0);
    expect(k.mmu.frames.read(k.access(t, a, ACCESS_READ), 1)[0]).toBe(0);
    expect(k.syscall(t, 'munmap', [a, 8 * P]).value).toBe(0);
    expect(p.space.rss.anon).toBe(0);
    expect(freeFrames(k)).toBe(base);
    expect(k.syscall(t, 'madvise', [a, P, 4])).toMatchObject({ value: -12, error: 'ENOMEM' });
    expect(k.syscall(t, 'madvise', [a, P, 99])).toMatchObject({ error: 'EINVAL' });
    expect(k.syscall(t, 'mmap', [0, P, RW, MAP_PRIVATE, 3, 0])).toMatchObject({ error: 'EBADF' });
    k.exitProcess(p, 0);
    expect(freeFrames(k)).toBe(free0);
  });

  it('mprotect back to RW leaves the zero page read-only, and a failing mprotect still updates what it changed', () => {
    const { k } = boot();
    const p = k.createProcess(k.init, 'a');
    const t = p.threads[0]!;
    const a = k.syscall(t, 'mmap', [0x30000000, 2 * P, RW, ANON | MAP_FIXED, -1, 0]).value;
    k.access(t, a, ACCESS_READ); // zero page
    k.access(t, a + P, ACCESS_WRITE);
    k.syscall(t, 'mprotect', [a, 2 * P, PROT_READ]);
    k.syscall(t, 'mprotect', [a, 2 * P, RW]);
    const zf = k.metrics.faults.zeroFill;
    k.access(t, a, ACCESS_WRITE); // still the zero page: the write replaces it
    expect(k.metrics.faults.zeroFill).toBe(zf + 1);
    // [a, a + 3P) has a hole at a + 2P: ENOMEM, but the first two pages are read-only now.
    expect(k.syscall(t, 'mprotect', [a, 3 * P, PROT_READ])).toMatchObject({ error: 'ENOMEM' });
    expect(k.access(t, a + P, ACCESS_WRITE)).toBe(-1);
    expect(p.killedBy).toBe('SIGSEGV');
  });

    it('MADV_FREE keeps the pages until memory runs short: clean ones are then discarded, rewritten ones kept; shared areas are refused', () => {
    const lp = linuxPersonality();
    const k = new Kernel(lp, { frames: 256, contents: true });
    const p = k.createProcess(k.init, 'a');
    const t = p.threads[0]!;
    const a = k.syscall(t, 'mmap', [0, 2 * P, RW, ANON, -1, 0]).value;
    const sh = k.syscall(t, 'mmap', [0, P, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0]).value;
    k.mmu.frames.write(k.access(t, a, ACCESS_WRITE), new Uint8Array([5]));
    k.mmu.frames.write(k.access(t, a + P, ACCESS_WRITE), new Uint8Array([6]));
    expect(k.syscall(t, 'madvise', [a, 2 * P, 3]).value).toBe(0); // WILLNEED: nothing
    expect(k.syscall(t, 'madvise', [a, 2 * P, 8]).value).toBe(0);
    expect(p.space.rss.anon).toBe(2); // still resident, now clean
    expect(p.space.pt.lookup(a)!.flags & 0x20).toBe(0);
    k.mmu.frames.write(k.access(t, a + P, ACCESS_WRITE), new Uint8Array([7])); // written again: dirty
    // Memory pressure: another process takes every free frame and more.
    const hog = k.createProcess(k.init, 'hog');
    // It needs one frame more than is free: its own page-table pages (PUD, PMD, PTE) come first.
    const n = k.mmu.frames.freeFrames - 3 + 1;
    const h = k.syscall(hog.threads[0]!, 'mmap', [0, n * P, RW, ANON, -1, 0]).value;
    for (let i = 0; i < n; i++) k.access(hog.threads[0]!, h + i * P, ACCESS_WRITE);
    expect(hog.state).toBe('running');
    expect(p.state).toBe('running');
    expect(lp.dmesg(k)).toEqual([]); // reclaim found a page; nobody was killed
    expect(p.space.rss.anon).toBe(1);
    expect(k.mmu.frames.read(k.access(t, a, ACCESS_READ), 1)[0]).toBe(0); // discarded: reads zeros now
    expect(k.mmu.frames.read(k.access(t, a + P, ACCESS_READ), 1)[0]).toBe(7); // kept: it was written again
    expect(k.syscall(t, 'madvise', [sh, P, 8])).toMatchObject({ error: 'EINVAL' });
  });

    it('MREMAP_DONTUNMAP moves the pages and leaves the old area mapped and empty', () => {
    const { k } = boot();
    const p = k.createProcess(k.init, 'a');
    const t = p.threads[0]!;
    const a = k.syscall(t, 'mmap', [0x50000000, 2 * P, RW, ANON | MAP_FIXED, -1, 0]).value;
    k.mmu.frames.write(k.access(t, a + P, ACCESS_WRITE), new Uint8Array([9]));
    expect(k.syscall(t, 'mremap', [a, 2 * P, P, 1 | 4, 0]).error).toBe('EINVAL'); // no resizing
    const b = k.syscall(t, 'mremap', [a, 2 * P, 2 * P, 1 | 4, 0]).value;
    expect(b).not.toBe(a);
    expect(k.mmu.frames.read(k.access(t, b + P, ACCESS_READ), 1)[0]).toBe(9);
    expect(k.access(t, a + P, ACCESS_READ)).toBeGreaterThanOrEqual(0); // still mapped ...
    expect(k.mmu.frames.read(k.access(t, a + P, ACCESS_READ), 1)[0]).toBe(0); // ... and empty
    expect(p.space.mm.mapCount).toBe(2);
  });

    it('mremap moves the pages with the area', () => {
    const { k } = boot();
    const p = k.createProcess(k.init, 'a');
    const t = p.threads[0]!;
    const a = k.syscall(t, 'mmap', [0x50000000, 2 * P, RW, ANON | MAP_FIXED, -1, 0]).value;
    k.syscall(t, 'mmap', [0x50002000, P, PROT_READ, ANON | MAP_FIXED, -1, 0]);
    k.mmu.frames.write(k.access(t, a + P, ACCESS_WRITE), new Uint8Array([7]));
    const b = k.syscall(t, 'mremap', [a, 2 * P, 4 * P, 1]).value;
    expect(b).not.toBe(a);
    expect(k.mmu.frames.read(k.access(t, b + P, ACCESS_READ), 1)[0]).toBe(7);
    expect(k.access(t, a, ACCESS_READ)).toBe(-1); // the old range is gone
  });

  it('shared anonymous memory faults in shmem pages that mprotect never copies, freed at exit', () => {
    const { k, free0 } = boot();
    const p = k.createProcess(k.init, 'a');
    const t = p.threads[0]!;
    const a = k.syscall(t, 'mmap', [0, 2 * P, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0]).value;
    const pa = k.access(t, a, ACCESS_WRITE);
    expect(k.metrics.faults.file).toBe(1);
    k.syscall(t, 'mprotect', [a, P, PROT_READ]);
    k.syscall(t, 'mprotect', [a, P, RW]);
    expect(k.access(t, a, ACCESS_WRITE)).toBe(pa);
    expect(p.space.rss.shmem).toBe(1);
    k.exitProcess(p, 0);
    expect(freeFrames(k)).toBe(free0);
  });

  it('a stack area grows down to a fault just below it, within the rlimit and guard gap', () => {
    const { k } = boot();
    const p = k.createProcess(k.init, 's');
    const t = p.threads[0]!;
    const top = 0x7ff000000000;
    k.syscall(t, 'mmap', [top - 4 * P, 4 * P, RW, ANON | MAP_FIXED | MAP_GROWSDOWN, -1, 0]);
    expect(k.access(t, top - 6 * P, ACCESS_WRITE)).toBeGreaterThan(0);
    expect(p.space.mm.vmas.lookup(top - 6 * P)?.start).toBe(top - 6 * P);
    expect(k.access(t, top - 9 * 1024 * 1024, ACCESS_WRITE)).toBe(-1); // beyond RLIMIT_STACK (8 MiB)
  });
});

describe('MAP_POPULATE', () => {
  it('prefaults: private writable pages zero-filled, read-only ones on the zero page; no faults later', () => {
    const { k } = boot();
    const p = k.createProcess(k.init, 'pop');
    const t = p.threads[0]!;
    const a = k.syscall(t, 'mmap', [0, 4 * P, RW, ANON | MAP_POPULATE, -1, 0]).value;
    expect(p.space.rss.anon).toBe(4);
    k.syscall(t, 'mmap', [0, 2 * P, PROT_READ, ANON | MAP_POPULATE, -1, 0]);
    expect(k.metrics.faults.zeroPage).toBe(2);
    const traps = k.metrics.traps.pageFault;
    for (let i = 0; i < 4; i++) k.access(t, a + i * P, ACCESS_WRITE);
    expect(k.metrics.traps.pageFault).toBe(traps);
  });
});

describe('/proc/<pid>/status memory lines', () => {
  it('count size, data, stack, rss by type, page tables and the high-water marks', () => {
    const { k } = boot();
    const p = k.createProcess(k.init, 'st');
    const t = p.threads[0]!;
    const a = k.syscall(t, 'mmap', [0x10000000, 8 * P, RW, ANON | MAP_FIXED, -1, 0]).value;
    k.syscall(t, 'mmap', [0x7ff000000000, 4 * P, RW, ANON | MAP_FIXED | MAP_GROWSDOWN, -1, 0]);
    const sh = k.syscall(t, 'mmap', [0, 2 * P, RW, MAP_SHARED | MAP_ANONYMOUS, -1, 0]).value;
    for (let i = 0; i < 8; i++) k.access(t, a + i * P, ACCESS_WRITE);
    k.access(t, sh, ACCESS_WRITE);
    k.syscall(t, 'munmap', [a, 4 * P]);
    const lines = procStatusMemory(p.space).split('\n');
    expect(lines.slice(0, 10)).toEqual([
      'VmPeak:\t      56 kB', // 8 + 4 + 2 pages before the munmap
      'VmSize:\t      40 kB',
      'VmLck:\t       0 kB',
      'VmPin:\t       0 kB',
      'VmHWM:\t      36 kB', // 8 anon + 1 shmem resident before the munmap
      'VmRSS:\t      20 kB',
      'RssAnon:\t      16 kB',
      'RssFile:\t       0 kB',
      'RssShmem:\t       4 kB',
      'VmData:\t      16 kB',
    ]);
    expect(lines[10]).toBe('VmStk:\t      16 kB');
    // The two touched regions sit under different PGD entries: a PUD, a PMD and a PTE table each.
    expect(lines[13]).toBe('VmPTE:\t      24 kB');
    expect(lines[14]).toBe('VmSwap:\t       0 kB');
  });
});

describe('kernel invariants (fast-check)', () => {
  it('random calls and touches keep rss equal to mapped frames, and exit returns every frame', () => {
    const BASE = 0x40000000;
    let privateWrites = 0;
    const op = fc.record({
      kind: fc.constantFrom('mmap', 'munmap', 'mprotect', 'madvise', 'touch'),
      page: fc.integer({ min: 0, max: 31 }),
      n: fc.integer({ min: 1, max: 8 }),
      prot: fc.constantFrom(PROT_READ, RW),
      shared: fc.boolean(),
      write: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(op, { minLength: 20, maxLength: 60 }), (ops) => {
        const { k, free0 } = boot(1024);
        // Find the zero page: the frame a read fault maps.
        const probe = k.createProcess(k.init, 'probe');
        const z = k.syscall(probe.threads[0]!, 'mmap', [0, P, RW, ANON, -1, 0]).value;
        const zeroFrame = Math.floor(k.access(probe.threads[0]!, z, ACCESS_READ) / P);
        k.exitProcess(probe, 0);
        const p = k.createProcess(k.init, 'f');
        const t = p.threads[0]!;
        for (const o of ops) {
          if (p.state !== 'running') break;
          const a = BASE + o.page * P;
          const len = o.n * P;
          if (o.kind === 'mmap') k.syscall(t, 'mmap', [a, len, o.prot, (o.shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS | MAP_FIXED, -1, 0]);
          else if (o.kind === 'munmap') k.syscall(t, 'munmap', [a, len]);
          else if (o.kind === 'mprotect') k.syscall(t, 'mprotect', [a, len, o.prot]);
          else if (o.kind === 'madvise') k.syscall(t, 'madvise', [a, len, 4]);
          else {
            // Touch a page of one of the mapped areas (a random page would mostly miss them), and only
            // where the access is allowed, so runs go on long enough to matter (SIGSEGV has its own tests).
            const areas = [...p.space.mm.vmas.iterateFrom(BASE)].filter((x) => x.start < BASE + 32 * P);
            const v = areas[o.page % Math.max(1, areas.length)];
            if (v !== undefined) {
              const write = o.write && (v.flags & VM_WRITE) !== 0;
              if (write && (v.flags & VM_SHARED) === 0) privateWrites++;
              k.access(t, v.start + ((o.n - 1) % (v.length / P)) * P, write ? ACCESS_WRITE : ACCESS_READ);
            }
          }
          if ((p.state as string) !== 'running') break; // an access may have killed it
          // Every present PTE lies inside an area; rss counts the non-zero-page ones.
          let present = 0;
          p.space.pt.forEachLeaf(0, 0x800000000000, (va, frame) => {
            expect(p.space.mm.vmas.lookup(va)).toBeDefined();
            expect(k.mmu.frames.isFree(frame)).toBe(false);
            if (frame !== zeroFrame) present++;
          });
          expect(p.space.rss.anon + p.space.rss.shmem).toBe(present);
        }
        k.exitProcess(p, 0);
        expect(freeFrames(k)).toBe(free0);
        expect(p.space.mm.commit.committed).toBe(0);
      }),
      { seed: 0x22_0303, numRuns: 150 },
    );
    // The runs really write private anonymous pages (zero-fill and copy-on-write faults), not only read.
    expect(privateWrites).toBeGreaterThan(50);
  });
});
