import { Metrics, Rng } from '@polykernel/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FrameTable, NO_FRAME } from './frames.js';

describe('buddy allocator', () => {
  it('rejects a frame count or maximum order out of range, and reports -1 when memory is exhausted', () => {
    for (const frames of [0, -1, 1.5, 0x8000_0000]) expect(() => new FrameTable({ frames })).toThrow(/frames must be an integer/);
    expect(new FrameTable({ frames: 1 }).frameCount).toBe(1);
    for (const maxOrder of [0, 30]) expect(() => new FrameTable({ frames: 16, maxOrder })).not.toThrow();
    for (const maxOrder of [-1, 31]) expect(() => new FrameTable({ frames: 16, maxOrder })).toThrow(/maxOrder must be in \[0, 30\]/);
    const ft = new FrameTable({ frames: 1, maxOrder: 0 });
    expect(ft.alloc(0)).toBe(0);
    expect(ft.largestFreeOrder()).toBe(-1);
  });

  it('allocates from the lowest frames first', () => {
    const ft = new FrameTable({ frames: 4096, maxOrder: 10 });
    expect([ft.alloc(10), ft.alloc(10), ft.alloc(0), ft.alloc(0)]).toEqual([0, 1024, 2048, 2049]);
  });

  it('tracks free frames and reference counts, and rejects a misaligned free', () => {
    const ft = new FrameTable({ frames: 64, maxOrder: 6 });
    const f = ft.alloc(1);
    expect([ft.isFree(f), ft.isFree(f + 1), ft.isFree(f + 2)]).toEqual([false, false, true]);
    expect([ft.ref(f), ft.ref(f), ft.unref(f)]).toEqual([2, 3, 2]); // alloc() hands the frame out with one reference
    expect(() => { ft.free(f + 1, 1); }).toThrow(`free(${f + 1}, 1): not an aligned block`);
    ft.free(f, 1);
    expect(ft.isFree(f)).toBe(true);
  });

  it('never hands out a frame twice, and coalescing restores the largest blocks', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 9 }), fc.nat()), { minLength: 1, maxLength: 300, size: 'max' }), (ops) => {
        const ft = new FrameTable({ frames: 4096, maxOrder: 10 });
        const initial = ft.buddyInfo();
        const owned = new Uint8Array(4096);
        const live: [number, number][] = [];
        let used = 0;
        for (const [alloc, order, pick] of ops) {
          if (alloc || live.length === 0) {
            const f = ft.alloc(order);
            if (f === NO_FRAME) {
              // Honest failure: no free block of that order (or larger) exists.
              expect(ft.largestFreeOrder()).toBeLessThan(order);
              continue;
            }
            expect(f % (1 << order)).toBe(0); // aligned to its size
            for (let i = f; i < f + (1 << order); i++) {
              if (owned[i] !== 0) throw new Error(`frame ${i} handed out twice`);
              owned[i] = 1;
            }
            used += 1 << order;
            live.push([f, order]);
          } else {
            const [f, o] = live.splice(pick % live.length, 1)[0]!;
            for (let i = f; i < f + (1 << o); i++) owned[i] = 0;
            used -= 1 << o;
            ft.free(f, o);
          }
          if (ft.freeFrames !== 4096 - used) throw new Error(`free count ${ft.freeFrames}, expected ${4096 - used}`);
        }
        for (const [f, o] of live) ft.free(f, o);
        expect(ft.buddyInfo()).toEqual(initial);
        expect(ft.largestFreeOrder()).toBe(10);
      }),
      { seed: 7, numRuns: 100 },
    );
  });

  it('a 2 MiB superpage fails honestly when memory is fragmented, though most of it is free', () => {
    const ft = new FrameTable({ frames: 2048, maxOrder: 9 }); // 8 MiB = four 2 MiB blocks
    const singles: number[] = [];
    for (let i = 0; i < 2048; i++) singles.push(ft.alloc(0));
    // Keep one frame in every 2 MiB region; free the rest.
    for (const f of singles) if (f % 512 !== 100) ft.free(f, 0);
    expect(ft.freeFrames).toBe(2044); // 99.8% free
    expect(ft.alloc(9)).toBe(NO_FRAME);
    expect(ft.largestFreeOrder()).toBe(8);
    // Free one pinned frame: its region coalesces back into a superpage-sized block.
    ft.free(100, 0);
    expect(ft.alloc(9)).toBe(0);
  });

  it('frees single frames of a block allocated whole (after a huge page is split and partly unmapped)', () => {
    const ft = new FrameTable({ frames: 1024, maxOrder: 9 });
    const f = ft.alloc(9);
    for (let i = 0; i < 512; i++) ft.free(f + i, 0);
    expect(ft.largestFreeOrder()).toBe(9);
    expect(() => {
      ft.free(f, 0);
    }).toThrow(/double free/);
  });

  it('rejects a frame count it cannot index', () => {
    expect(() => new FrameTable({ frames: 2 ** 31 })).toThrow(RangeError);
  });

  it('16 GiB of simulated memory costs at most 32 host bytes per frame', () => {
    const ft = new FrameTable({ frames: 4194304 });
    expect(ft.hostBytes() / 4194304).toBeLessThanOrEqual(32);
    expect(ft.largestFreeOrder()).toBe(18);
    expect(ft.buddyInfo()[18]).toBe(16);
  });
});

describe('zeroing policies', () => {
  it('on-demand zeroing charges every page to the allocating path', () => {
    const m = new Metrics();
    const ft = new FrameTable({ frames: 64, maxOrder: 6, metrics: m, costs: { zeroPage: 1000, copyPage: 1500 } });
    ft.alloc(2, true);
    expect(m.pagesZeroed).toBe(4);
    expect(m.cycles).toBe(4000);
  });

  it('a pre-zeroed pool moves the cost to the background, counted apart', () => {
    const m = new Metrics();
    const ft = new FrameTable({ frames: 64, maxOrder: 6, zeroing: 'prezeroed-pool', metrics: m, costs: { zeroPage: 1000, copyPage: 1500 } });
    expect(ft.zeroIdle(8)).toBe(8);
    expect(ft.prezeroedFree()).toBe(8);
    expect(ft.backgroundZeroCycles).toBe(8000);
    const f = ft.alloc(3, true); // 8 frames: the first 8 frames were pre-zeroed
    expect(f).toBe(0);
    expect(m.pagesPrezeroed).toBe(8);
    expect(m.pagesZeroed).toBe(0);
    expect(m.cycles).toBe(0);
    ft.alloc(1, true);
    expect(m.pagesZeroed).toBe(2);
    ft.free(f, 3); // freed pages are dirty again
    expect(ft.prezeroedFree()).toBe(0);
  });
});

describe('page contents', () => {
  it('stores bytes sparsely, reads zeros elsewhere, and copies isolate', () => {
    const ft = new FrameTable({ frames: 16, maxOrder: 4, contents: true, metrics: new Metrics() });
    const a = ft.alloc(0, true);
    const b = ft.alloc(0, true);
    ft.write(a * 4096 + 4090, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
    expect([...ft.read(a * 4096 + 4088, 12)]).toEqual([0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0]);
    ft.copyFrame(a, b);
    ft.write(a * 4096 + 4090, new Uint8Array([9]));
    expect(ft.read(b * 4096 + 4090, 1)[0]).toBe(1);
    expect(ft.read(a * 4096 + 4090, 1)[0]).toBe(9);
  });

  it('content-less machines refuse byte access with a clear error', () => {
    const ft = new FrameTable({ frames: 16, maxOrder: 4 });
    expect(() => ft.read(0, 1)).toThrow(/content-less/);
  });

  it('a seeded churn leaves the allocator consistent', () => {
    const rng = new Rng(11);
    const ft = new FrameTable({ frames: 1 << 14 });
    const live: [number, number][] = [];
    for (let i = 0; i < 20000; i++) {
      if (live.length > 0 && rng.chance(0.45)) {
        const [f, o] = live.splice(rng.below(live.length), 1)[0]!;
        ft.free(f, o);
      } else {
        const o = rng.below(5);
        const f = ft.alloc(o);
        if (f !== NO_FRAME) live.push([f, o]);
      }
    }
    for (const [f, o] of live) ft.free(f, o);
    expect(ft.freeFrames).toBe(1 << 14);
    expect(ft.largestFreeOrder()).toBe(14);
  });
});

describe('peak resident gauge', () => {
  it('metrics.peakResident is the most frames ever in use at once', () => {
    const metrics = new Metrics();
    const ft = new FrameTable({ frames: 1024, maxOrder: 4, metrics });
    const a = [ft.alloc(), ft.alloc(2), ft.alloc()];
    expect(metrics.peakResident).toBe(6);
    for (const f of a.slice(0, 2)) ft.free(f, f === a[1] ? 2 : 0);
    ft.alloc();
    expect(metrics.peakResident).toBe(6);
    ft.alloc(3);
    expect(metrics.peakResident).toBe(2 + 8); // a[2] and the single frame, then 8 more
  });
});
