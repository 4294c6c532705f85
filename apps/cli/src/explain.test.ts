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
