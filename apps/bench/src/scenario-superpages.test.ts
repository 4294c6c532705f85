/**
 * The superpages scenario on small working sets: with reservations and promotion, a sweep over
 * the set walks the page tables once per 2 MiB instead of once per 4 KiB page.
 */
import { describe, expect, it } from 'vitest';
import { expandPoints, runPoint, type SweepSpec } from './sweep.js';

const SPEC: SweepSpec = {
  scenario: 'superpages', params: { size: ['8M'], pattern: ['sequential', 'random'] },
  personalities: ['freebsd-14', 'freebsd-14-nosuperpages', 'linux-6.x'], seed: 1, memory: 128 * 1024 ** 2, sysroot: '/',
};

describe('superpages scenario', () => {
  it('promotes on freebsd-14 and takes far fewer TLB misses than without superpages; Linux has no THP', async () => {
    const results = await Promise.all(expandPoints(SPEC).map((p) => runPoint(SPEC, p)));
    const by = (personality: string, pattern: string) => results.find((r) => r.personality === personality && r.params.pattern === pattern)!;
    for (const pattern of ['sequential', 'random']) {
      const on = by('freebsd-14', pattern);
      const off = by('freebsd-14-nosuperpages', pattern);
      const linux = by('linux-6.x', pattern);
      expect(on.status).toBe('ok');
      // 8 MiB: at least three of its four 2 MiB ranges lie wholly inside the mapping.
      expect(on.extra.promotions).toBeGreaterThanOrEqual(3);
      expect(off.extra.promotions).toBe(0);
      expect(on.extra.walkMisses! * 10).toBeLessThan(off.extra.walkMisses!);
      expect(linux.extra.promotions).toBeUndefined();
      expect(linux.extra.walkMisses).toBeGreaterThan(on.extra.walkMisses! * 10);
    }
  });
});
