import { describe, expect, it } from 'vitest';
import { explainCygwinFork } from './explain.js';

describe('explain fork -p cygwin', () => {
  it('tells every step with its time and bytes; the mapping\'s copy dominates as it grows', () => {
    const small = explainCygwinFork(16);
    const big = explainCygwinFork(1024);
    expect(big.steps.map((s) => s.step)).toEqual(small.steps.map((s) => s.step));
    expect(big.steps.reduce((n, s) => n + s.bytes, 0)).toBe(big.totals.bytesCopied);
    const mmaps = (st: typeof big): number => st.steps.find((s) => s.step === 'fixup_mmaps_after_fork')!.bytes;
    expect(mmaps(big)).toBeGreaterThanOrEqual(1024 * 4096);
    expect(mmaps(big) - mmaps(small)).toBe((1024 - 16) * 4096);
    expect(big.totals.us).toBeGreaterThan(small.totals.us);
    expect(big.totals.childCommitPages).toBeGreaterThan(1024);
    expect(big.lines.join('\n')).toMatch(/child {2}fixup_mmaps_after_fork \(1 mappings\) +\d+\.\d µs 4,1\d\d,\d\d\d bytes copied/);
  });
});

describe('explain fork -p cygwin: the failures', () => {
  it('every step the fork ran has a note from Cygwin\'s source', () => {
    const st = explainCygwinFork(16);
    for (const s of st.steps) expect(s.note, s.step).not.toBe('');
    expect(st.result.errno).toBeNull();
  });

  it('dll-collision: both attempts die in dll_list::alloc, the retry prints the abort, fork fails with EAGAIN', () => {
    const st = explainCygwinFork({ pages: 16, scenario: 'dll-collision' });
    expect(st.result).toEqual({ pid: -1, errno: 'EAGAIN' });
    expect(st.steps.filter((s) => s.step === 'dofork').map((s) => s.detail)).toEqual(['', 'with forkables']);
    expect(st.console).toHaveLength(1);
    expect(st.lines.join('\n')).toContain('Loaded to different address: parent(0x3FF880000) != child(0x');
    expect(st.lines.join('\n')).toContain('fork: retry: Resource temporarily unavailable');
    // Nothing of the parent's memory was copied: the child died before handle_fork.
    expect(st.steps.some((s) => s.step === 'fixup_mmaps_after_fork')).toBe(false);
  });

  it('dlopen-collision: reserve_space finds the dlopen\'d DLL\'s range taken', () => {
    const st = explainCygwinFork({ pages: 16, scenario: 'dlopen-collision' });
    expect(st.result.errno).toBe('EAGAIN');
    expect(st.console.join('\n')).toContain("child_info_fork::abort: address space needed by '\\??\\C:\\cygwin64\\bin\\cygz.dll' (0x3FF4E0000) is already occupied");
  });

  it('rebaseall: the same injection, and fork succeeds', () => {
    const st = explainCygwinFork({ pages: 16, scenario: 'rebaseall' });
    expect(st.result.errno).toBeNull();
    expect(st.result.pid).toBeGreaterThan(1);
    expect(st.console).toEqual([]);
  });

  it('died-dll-loading and commit-limit print Cygwin\'s lines', () => {
    const died = explainCygwinFork({ pages: 16, scenario: 'died-dll-loading' });
    expect(died.result.errno).toBe('EAGAIN');
    expect(died.console.join('\n')).toContain('dofork: child -1 - died waiting for dll loading, errno 11');
    const commit = explainCygwinFork({ scenario: 'commit-limit' });
    expect(commit.result.errno).toBe('EAGAIN');
    expect(commit.console.join('\n')).toMatch(/fixup_mmaps_after_fork: VirtualAlloc failed for MAP_PRIVATE address 0x[0-9a-f]+, Win32 error 1455/);
  });
});
