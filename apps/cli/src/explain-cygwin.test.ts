import { describe, expect, it } from 'vitest';
import { runExplain } from './explain.js';

function explain(what: string, opts: Record<string, string | boolean | undefined> = {}): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = runExplain(what, { personality: 'cygwin', ...opts }, (s) => (out += s + '\n'), (s) => (err += s + '\n'));
  return { code, out, err };
}

describe('polykernel explain fork -p cygwin', () => {
  it('tells fork.cc\'s steps in order, each with its source note, then Linux\'s COW fork of the same process', () => {
    const r = explain('fork');
    expect(r.code).toBe(0);
    const order = ['dofork', 'CreateProcessW', 'dll_list::alloc', 'cygheap_fixup_in_child', 'fixup_mmaps_after_fork', 'alloc_stack', 'longjmp', 'child_copy (stack)', 'resume_child', 'dlls.load_after_fork', 'child.attach'];
    let at = 0;
    for (const s of order) {
      const i = r.out.indexOf(s, at);
      expect(i, s).toBeGreaterThan(at - 1);
      at = i;
    }
    expect(r.out).toContain('mm/mmap.cc fixup_mmaps_after_fork');
    expect(r.out).toMatch(/fixup_mmaps_after_fork \(1 mappings\) +\d+\.\d µs 1,0\d\d,\d\d\d bytes copied/);
    expect(r.out).toMatch(/Linux's fork of the same process .*: [\d.]+ µs simulated, \d+ PTEs copied, \d+ of them write-protected, 0 pages copied\./);
    expect(r.out).toMatch(/Cygwin's fork took \d+\.\d× as long/);
  });

  it('--scenario dll-collision: the two attempts, the console line, EAGAIN', () => {
    const r = explain('fork', { scenario: 'dll-collision' });
    expect(r.code).toBe(0);
    expect(r.out).toContain('attempt 2 (with forkables):');
    expect(r.out).toMatch(/console: +0 \[main\] bash \d+ child_info_fork::abort: \\\?\?\\C:\\cygwin64\\bin\\cygreadline7\.dll: Loaded to different address: parent\(0x3FF880000\) != child\(0x[0-9A-F]+\)/);
    expect(r.out).toContain('fork() = -1, errno EAGAIN');
  });

  it('--json: the facts; a bad scenario and a fault are refused with the reason', () => {
    const j = explain('fork', { json: true, scenario: 'rebaseall' });
    const doc = JSON.parse(j.out) as { scenario: string; result: { pid: number; errno: string | null }; steps: { step: string }[] };
    expect(doc.scenario).toBe('rebaseall');
    expect(doc.result.errno).toBeNull();
    expect(doc.steps[0]!.step).toBe('dofork');
    const bad = explain('fork', { scenario: 'cow' });
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('copy, dll-collision, rebaseall, dlopen-collision, died-dll-loading, commit-limit');
    expect(explain('fault').err).toContain('explain fault -p windows');
  });
});
