/**
 * The `superpages` scenario: what superpage reservations and 2 MiB promotion do to TLB misses
 * (page walks) on a working set touched sequentially or at random — the question of Navarro,
 * Iyer, Druschel and Cox, "Practical, transparent operating system support for superpages"
 * (OSDI 2002), asked of FreeBSD 14 with vm.pmap.pg_ps_enabled=1 (freebsd-14) and =0
 * (freebsd-14-nosuperpages). The Linux personality has no transparent huge pages (it aligns large
 * anonymous mappings, no more), so a Linux point shows 4 KiB pages only.
 *
 * Phases: the region is mapped (mmap through the portable driver) and written once, page by page
 * (zero-fill faults: where reservations fill and promotions happen); then 4 × pages accesses,
 * one per 4 KiB page, in address order (sequential, wrapping) or at seeded random pages (random).
 * The second phase's TLB misses and cycles are the answer.
 */
import { freebsdVmSysctls } from '@polykernel/freebsd';
import { ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';
import { NotApplicable, size, type Extra, type Scenario, type ScenarioContext } from './scenarios.js';

const PAGE = 4096;
const RW = 3;

function phase(ctx: ScenarioContext, fn: () => void): { cycles: number; misses: number; faults: number } {
  const m = ctx.kernel.metrics;
  const c0 = m.cycles;
  const t0 = m.tlbMisses;
  const f0 = m.traps.pageFault;
  fn();
  return { cycles: m.cycles - c0, misses: m.tlbMisses - t0, faults: m.traps.pageFault - f0 };
}

export const superpages: Scenario = {
  name: 'superpages',
  question: 'What do superpage reservations and 2 MiB promotion save in TLB misses on a sequential and a random working set (FreeBSD with and without superpages; Linux without THP)?',
  params: { size: ['64M', '512M'], pattern: ['sequential', 'random'] },
  x: 'size',
  y: 'walkMisses',
  machine: () => ({ profile: 'x86-64' }),
  run: (ctx, p) => {
    const { kernel: k, driver: d, thread: t } = ctx;
    const bytes = size(p.size ?? '64M');
    const pattern = p.pattern ?? 'sequential';
    if (pattern !== 'sequential' && pattern !== 'random') throw new RangeError(`pattern takes sequential or random, got "${pattern}"`);
    const r = d.alloc(k, t, { size: bytes, prot: RW });
    if (r.kind !== 'ok') throw new NotApplicable(`alloc: ${r.kind === 'failed' ? r.error : r.kind}`);
    const addr = r.value.addr;
    const pages = bytes / PAGE;
    const fill = phase(ctx, () => {
      for (let i = 0; i < pages; i++) k.access(t, addr + i * PAGE, ACCESS_WRITE);
    });
    let x = 12345;
    const walk = phase(ctx, () => {
      for (let i = 0; i < 4 * pages; i++) {
        let pg = i % pages;
        if (pattern === 'random') {
          x = (x * 1103515245 + 12345) % 2147483648;
          pg = x % pages;
        }
        k.access(t, addr + pg * PAGE, ACCESS_READ);
      }
    });
    const extra: Extra = {
      fillCycles: fill.cycles, fillFaults: fill.faults, fillMisses: fill.misses,
      walkCycles: walk.cycles, walkMisses: walk.misses, walkAccesses: 4 * pages,
    };
    const sysctls = freebsdVmSysctls(k);
    if (sysctls !== null) {
      extra.promotions = sysctls['vm.pmap.pde.promotions']!;
      extra.demotions = sysctls['vm.pmap.pde.demotions']!;
    }
    return extra;
  },
};
