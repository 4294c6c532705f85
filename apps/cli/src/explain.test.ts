import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runExplain } from './explain.js';

const STATIC = fileURLToPath(new URL('../../../packages/formats/elf/test/fixtures/static-x86_64.elf', import.meta.url));

function explain(what: string, opts: Record<string, string | boolean | undefined> = {}): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = runExplain(what, { program: STATIC, ...opts }, (s) => (out += s + '\n'), (s) => (err += s + '\n'));
  return { code, out, err };
}

describe('polykernel explain', () => {
  it('a zero-fill fault: TLB misses, the walk stopping at a non-present PT entry, the error code, do_anonymous_page, the retry', () => {
    const r = explain('fault');
    expect(r.code).toBe(0);
    expect(r.out).toContain('L1 dTLB: miss');
    expect(r.out).toMatch(/(PD|PT)\[\d+\] at 0x[0-9a-f]+: -: not present/);
    expect(r.out).toContain('error code 0x6 = !P (page not present), W (write), U (user mode)');
    expect(r.out).toContain('do_anonymous_page: a write');
    expect(r.out).toMatch(/physical address 0x[0-9a-f]+000\./);
  });

  it('the other scenarios: zero page, COW after fork, a file page, SIGSEGV, stack growth', () => {
    expect(explain('fault', { scenario: 'zero-page' }).out).toContain('the shared zero page is mapped read-only');
    const cow = explain('fault', { scenario: 'cow' }).out;
    expect(cow).toContain('error code 0x7 = P (protection violation)');
    expect(cow).toContain('wp_page_copy');
    expect(explain('fault', { scenario: 'file' }).out).toContain('filemap_fault');
    const segv = explain('fault', { scenario: 'segv' }).out;
    expect(segv).toContain('SEGV_ACCERR');
    expect(segv).toMatch(/is killed by SIGSEGV \(exit status 0xb\)/);
    expect(explain('fault', { scenario: 'stack-growth' }).out).toContain('expand_downwards grows it');
  });

  it("a fork: copy_process's steps and dup_mmap's decision for every area", () => {
    const r = explain('fork');
    expect(r.out).toContain('copy_mm → dup_mm → dup_mmap');
    expect(r.out).toMatch(/\[heap\]\n\s+→ PTEs copied; writable ones write-protected .* \(1 PTE, 1 write-protected\)/);
    expect(r.out).toContain('not copied: no anonymous pages');
    expect(r.out).toContain('flush_tlb_mm');
  });

  it('--json gives the same facts as data', () => {
    const f = JSON.parse(explain('fault', { json: true }).out) as { what: string; errorCode: number; resolution: string; translation: { kind: string }[]; pteAfter: { flags: string }; cycles: number };
    expect(f.what).toBe('fault');
    expect(f.errorCode).toBe(6);
    expect(f.resolution).toBe('zeroFill');
    expect(f.translation.some((st) => st.kind === 'walk')).toBe(true);
    expect(f.pteAfter.flags).toContain('W');
    expect(f.cycles).toBeGreaterThan(1000);
    const k = JSON.parse(explain('fork', { json: true }).out) as { what: string; areas: { action: string }[]; ptes: number };
    expect(k.what).toBe('fork');
    expect(k.areas.length).toBeGreaterThan(3);
    expect(k.ptes).toBeGreaterThan(0);
  });

  it('refuses unknown subjects and scenarios, and reports a program that cannot be exec\'d', () => {
    expect(explain('page').code).toBe(2);
    expect(explain('fault', { scenario: 'bogus' }).code).toBe(2);
    const missing = explain('fault', { program: '/no/such' });
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('ENOENT');
  });
});

describe('polykernel explain fault -p freebsd', () => {
  interface Link { id: number; refCount: number; frame: number | null }
  interface Rec {
    shadowMade: boolean; objectMade: boolean; resolution: string; chainBefore: Link[]; chainAfter: Link[];
    entry: { eflagsBefore: string; eflagsAfter: string }; walk: { how: string; depth: number; foundIn: number; frame: number; copiedFrom: number | null };
    pteAfter: { frame: number; flags: string };
  }
  const json = (scenario: string): Rec => JSON.parse(explain('fault', { personality: 'freebsd', scenario, json: true }).out) as Rec;

  it('a zero-fill fault: the entry gets its object at the first fault, a one-object walk, a zeroed page mapped writable', () => {
    const r = explain('fault', { personality: 'freebsd' });
    expect(r.code).toBe(0);
    expect(r.out).toContain('trap → trap_pfault → vm_fault_trap → vm_fault');
    expect(r.out).toMatch(/vm_object_allocate makes object #\d+ \(anonymous, 4 pages\)/);
    expect(r.out).toContain('1 object looked at.');
    const j = json('zero-fill');
    expect(j).toMatchObject({ objectMade: true, shadowMade: false, resolution: 'zeroFill', walk: { how: 'zeroFill', depth: 1 } });
    expect(j.chainBefore).toEqual([]);
    expect(j.chainAfter).toHaveLength(1);
    expect(j.walk.foundIn).toBe(j.chainAfter[0]!.id);
    expect(j.pteAfter.frame).toBe(j.walk.frame);
    expect(j.pteAfter.flags).toContain('W');
  });

  it("a COW fault after fork: NEEDS_COPY makes the child's shadow, the walk goes two objects down, the page is copied up", () => {
    const r = explain('fault', { personality: 'freebsd', scenario: 'cow' });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/NEEDS_COPY and a write: vm_object_shadow makes object #\d+ .* over object #\d+/);
    expect(r.out).toMatch(/depth 2: object #\d+ \(anonymous, ref_count 2, shadow_count 1\), page 0: resident in frame 0x[0-9a-f]+/);
    expect(r.out).toContain('vm_fault_cow copies frame');
    const j = json('cow');
    expect(j.entry.eflagsBefore).toBe('MAP_ENTRY_COW|MAP_ENTRY_NEEDS_COPY');
    expect(j.entry.eflagsAfter).toBe('MAP_ENTRY_COW');
    expect(j).toMatchObject({ shadowMade: true, objectMade: false, resolution: 'cow', walk: { how: 'cow', depth: 2 } });
    // The shadow sits over the object the parent and child shared; the copy is in the shadow.
    expect(j.chainAfter.map((l) => l.id).slice(1)).toEqual(j.chainBefore.map((l) => l.id));
    expect(j.walk.foundIn).toBe(j.chainAfter[0]!.id);
    expect(j.walk.copiedFrom).toBe(j.chainBefore[0]!.frame);
    expect(j.pteAfter.frame).toBe(j.walk.frame);
    expect(j.pteAfter.frame).not.toBe(j.walk.copiedFrom);
  });

  it('a deeper chain after two forks: the walk looks at three objects and copies from the bottom one', () => {
    const j = json('deep-chain');
    expect(j).toMatchObject({ shadowMade: true, resolution: 'cow', walk: { how: 'cow', depth: 3 } });
    expect(j.chainAfter).toHaveLength(3);
    expect(j.chainAfter.slice(0, 2).map((l) => l.frame === null || l.frame === j.walk.frame)).toEqual([true, true]);
    expect(j.walk.copiedFrom).toBe(j.chainAfter[2]!.frame);
    expect(explain('fault', { personality: 'freebsd', scenario: 'deep-chain' }).out).toMatch(/depth 3: object #\d+ .*: resident in frame/);
  });

  it('says what it does not tell', () => {
    expect(explain('fork', { personality: 'freebsd' }).code).toBe(2);
    const bad = explain('fault', { personality: 'freebsd', scenario: 'segv' });
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('-p freebsd tells the zero-fill, cow, deep-chain faults');
  });
});
