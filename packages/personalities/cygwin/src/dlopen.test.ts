import { describe, expect, it } from 'vitest';
import { bootCygwin, on, type Cyg } from './testkit.js';

const CYGZ = 0x3_ff4e_0000;

function child(c: Cyg, pid: number): Cyg {
  return on(c.k, c.k.processes.get(c.k.state.cygwin.byPid.get(pid)!.winpid)!);
}

describe('dlopen (LoadLibraryExW) and fork', () => {
  it('dlopen returns the HMODULE; dlclose frees it; a missing DLL is NULL with errno', () => {
    const c = bootCygwin();
    const h = c.call('dlopen', '/usr/bin/cygz.dll', 0);
    expect(h).toMatchObject({ value: CYGZ, error: null });
    expect(c.p.space.modules.some((m) => m.base === CYGZ)).toBe(true);
    expect(c.call('dlopen', '/usr/bin/cygz.dll', 0).value).toBe(CYGZ);
    expect(c.call('dlclose', CYGZ).value).toBe(0);
    expect(c.k.state.cygwin.byWinpid.get(c.p.pid)!.dlls.some((d) => d.loaded === true)).toBe(true);
    expect(c.call('dlclose', CYGZ).value).toBe(0);
    expect(c.k.state.cygwin.byWinpid.get(c.p.pid)!.dlls.some((d) => d.loaded === true)).toBe(false);
    const bad = c.call('dlopen', '/usr/bin/cygnothere.dll', 0);
    expect(bad.value).toBe(0);
    expect(bad.error).toBe('ENOENT');
  });

  it('fork reserves the dlopen\'d DLL\'s range, loads it again at the parent\'s address, and the parent copies its data/bss', () => {
    const c = bootCygwin();
    c.call('dlopen', '/usr/bin/cygz.dll', 0);
    const pid = c.call('fork').value;
    expect(pid).toBeGreaterThan(0);
    const ch = child(c, pid);
    expect(ch.p.space.modules.find((m) => m.name === 'cygz.dll')?.base).toBe(CYGZ);
    const steps = c.k.state.cygwin.forkSteps.map((s) => `${s.step} ${s.detail}`);
    expect(steps).toContain('dlls.reserve_space 1 dlopen\'d DLLs');
    expect(steps).toContain('dlls.load_after_fork cygz.dll');
    expect(steps.indexOf('child_copy loaded dll data/bss cygz.dll')).toBeGreaterThan(steps.indexOf('dlls.load_after_fork cygz.dll'));
  });

  it('its address taken in the child: "address space needed by … is already occupied", the retry, EAGAIN', () => {
    const c = bootCygwin();
    c.call('dlopen', '/usr/bin/cygz.dll', 0);
    c.k.state.cygwin.injections.push({ name: 'bloda.dll', at: CYGZ, size: 0x10000 });
    const procs = c.k.processes.size;
    expect(c.call('fork')).toMatchObject({ value: -1, error: 'EAGAIN' });
    expect(c.k.state.cygwin.console).toHaveLength(1);
    expect(c.k.state.cygwin.console[0]).toMatch(/^ {6}0 \[main\] bash \d+ child_info_fork::abort: address space needed by '\\\?\?\\C:\\cygwin64\\bin\\cygz\.dll' \(0x3FF4E0000\) is already occupied$/);
    expect(c.k.processes.size).toBe(procs);
  });
});
