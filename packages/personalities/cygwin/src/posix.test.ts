import { ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import { errnoFromWin32 } from './errno.js';
import { GRANULARITY, MAP_ANONYMOUS, MAP_FIXED, MAP_NORESERVE, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE, WNOHANG, genProtect } from './posix.js';
import { bootCygwin, on } from './testkit.js';

const RW = PROT_READ | PROT_WRITE;
const ANON = MAP_PRIVATE | MAP_ANONYMOUS;

describe('errno from Win32 errors (errno.cc errmap)', () => {
  it('maps as errmap does, EACCES for a code it does not list', () => {
    expect(errnoFromWin32('ERROR_COMMITMENT_LIMIT')).toBe('EAGAIN');
    expect(errnoFromWin32('ERROR_INVALID_PARAMETER')).toBe('EINVAL');
    expect(errnoFromWin32('ERROR_NOT_ENOUGH_MEMORY')).toBe('ENOMEM');
    expect(errnoFromWin32('ERROR_PARTIAL_COPY')).toBe('EACCES');
    expect(errnoFromWin32(null)).toBe('EACCES');
  });
});

describe('mmap (mm/mmap.cc)', () => {
  it('rounds an anonymous mapping up to the 64 KiB granularity and VirtualAllocs it committed, top down', () => {
    const c = bootCygwin();
    const r = c.call('mmap', 0, 5000, RW, ANON, -1, 0);
    expect(r.error).toBeNull();
    expect(r.value % GRANULARITY).toBe(0);
    expect(r.value).toBeGreaterThan(0x7000_0000_0000);
    const q = c.call('VirtualQuery', r.value).record!.fields;
    expect(q.RegionSize).toBe(GRANULARITY);
    expect(q.State).toBe(0x1000);
    expect(q.Protect).toBe(4);
  });

  it('refuses what SUSv3 and Cygwin refuse, with newlib errno numbers', () => {
    const c = bootCygwin();
    expect(c.call('mmap', 0x1001_0000 + 0x1000, 4096, RW, ANON + MAP_FIXED, -1, 0)).toMatchObject({ value: -1, error: 'EINVAL', errorNumber: 22 });
    expect(c.call('mmap', 0, 0, RW, ANON, -1, 0).error).toBe('EINVAL');
    expect(c.call('mmap', 0, 4096, RW, MAP_ANONYMOUS, -1, 0).error).toBe('EINVAL');
    expect(c.call('mmap', 0, 4096, RW, ANON, -1, 4096).error).toBe('EINVAL');
    expect(c.call('mmap', 0, 4096, RW, MAP_SHARED + MAP_PRIVATE + MAP_ANONYMOUS, -1, 0).error).toBe('EINVAL');
    expect(c.errno()).toBe('EINVAL');
  });

  it('places a MAP_FIXED mapping at its address and fails when it is taken', () => {
    const c = bootCygwin();
    const at = 0x20_0000_0000;
    expect(c.call('mmap', at, GRANULARITY, RW, ANON + MAP_FIXED, -1, 0).value).toBe(at);
    const again = c.call('mmap', at, GRANULARITY, RW, ANON + MAP_FIXED, -1, 0);
    expect(again.value).toBe(-1);
    expect(again.error).toBe('EINVAL'); // ERROR_INVALID_ADDRESS through errmap
  });

  it('MAP_NORESERVE reserves only; the first touch commits the page (the exception handler)', () => {
    const c = bootCygwin();
    const before = c.p.space.commitCharge;
    const a = c.call('mmap', 0, 16 * GRANULARITY, RW, ANON + MAP_NORESERVE, -1, 0).value;
    expect(c.p.space.commitCharge).toBe(before);
    expect(c.k.access(c.t, a + 5 * 4096, ACCESS_WRITE)).toBeGreaterThanOrEqual(0);
    expect(c.p.space.commitCharge).toBe(before + 1);
    expect(c.p.state).toBe('running');
  });

  it('a failed commit is errno EAGAIN (ERROR_COMMITMENT_LIMIT)', () => {
    const c = bootCygwin({}, { frames: 4096 });
    const r = c.call('mmap', 0, 64 * 1024 * 1024, RW, ANON, -1, 0);
    expect(r.value).toBe(-1);
    expect(r.error).toBe('EAGAIN');
  });

  it('gen_protect: WRITECOPY for private file maps, EXECUTE_* for PROT_EXEC', () => {
    expect(genProtect(RW, ANON)).toBe(0x04);
    expect(genProtect(RW, MAP_PRIVATE)).toBe(0x08);
    expect(genProtect(PROT_READ, ANON)).toBe(0x02);
    expect(genProtect(PROT_READ | 4, ANON)).toBe(0x20);
    expect(genProtect(0, ANON)).toBe(0x01);
  });
});

describe('munmap and mprotect', () => {
  it('munmap needs a 64 KiB aligned address; unmapping the whole record releases it', () => {
    const c = bootCygwin();
    const a = c.call('mmap', 0, 2 * GRANULARITY, RW, ANON, -1, 0).value;
    expect(c.call('munmap', a + 4096, 4096).error).toBe('EINVAL');
    expect(c.call('munmap', a, GRANULARITY).value).toBe(0);
    expect(c.k.access(c.t, a + 4096, ACCESS_READ)).toBeLessThan(0);
    expect(c.p.killedBy).toBe('SIGSEGV');
  });

  it('a whole record unmapped is released (VirtualQuery: MEM_FREE)', () => {
    const c = bootCygwin();
    const a = c.call('mmap', 0, GRANULARITY, RW, ANON, -1, 0).value;
    expect(c.call('munmap', a, 1).value).toBe(0);
    expect(c.call('VirtualQuery', a).record!.fields.State).toBe(0x10000);
  });

  it('mprotect PROT_READ makes a write fault into SIGSEGV', () => {
    const c = bootCygwin();
    const a = c.call('mmap', 0, GRANULARITY, RW, ANON, -1, 0).value;
    expect(c.call('mprotect', a + 4096, 4096, PROT_READ).error).toBe('EINVAL');
    expect(c.call('mprotect', a, 4096, PROT_READ).value).toBe(0);
    expect(c.k.access(c.t, a, ACCESS_READ)).toBeGreaterThanOrEqual(0);
    expect(c.k.access(c.t, a, ACCESS_WRITE)).toBeLessThan(0);
    expect(c.p.killedBy).toBe('SIGSEGV');
  });
});

describe('processes: pinfo PIDs, exit codes, waitpid, kill', () => {
  it('a Cygwin PID is not the Windows PID; getppid of a spawned child is its parent', () => {
    const c = bootCygwin();
    const pid = c.call('getpid').value;
    expect(pid).toBeGreaterThanOrEqual(2);
    expect(pid).not.toBe(c.p.pid);
    const child = c.call('spawnve', 1, '/usr/bin/true.exe').value;
    const cp = c.k.state.cygwin.byPid.get(child)!;
    const cc = on(c.k, c.k.processes.get(cp.winpid)!);
    expect(cc.call('getppid').value).toBe(pid);
    expect(cc.call('getpid').value).toBe(child);
  });

  it('_exit(3): waitpid sees 0x300; Windows sees 0x300 from a Cygwin-started child, 3 from a top-level one', () => {
    const c = bootCygwin();
    const child = c.call('spawnve', 1, '/usr/bin/true.exe').value;
    const cp = c.k.state.cygwin.byPid.get(child)!;
    const w = c.k.processes.get(cp.winpid)!;
    on(c.k, w).call('_exit', 3);
    expect(w.exitStatus).toBe(0x300);
    const r = c.call('waitpid', child, 0);
    expect(r.value).toBe(child);
    expect(r.record!.fields.status).toBe(0x300);
    expect(c.k.state.cygwin.byPid.has(child)).toBe(false);
    expect(c.k.processes.has(cp.winpid)).toBe(false);
    c.call('_exit', 3);
    expect(c.p.exitStatus).toBe(3);
  });

  it('waitpid: ECHILD without children, 0 with WNOHANG, sleeps and wakes when the child exits', () => {
    const c = bootCygwin();
    expect(c.call('waitpid', -1, 0)).toMatchObject({ error: 'ECHILD', errorNumber: 10 });
    const child = c.call('spawnve', 1, '/usr/bin/true.exe').value;
    expect(c.call('waitpid', -1, WNOHANG).value).toBe(0);
    expect(c.call('waitpid', -1, 0).blocked).toBe(true);
    const cp = c.k.state.cygwin.byPid.get(child)!;
    on(c.k, c.k.processes.get(cp.winpid)!).call('_exit', 7);
    expect(c.t.state).toBe('runnable');
    const r = c.k.resume(c.t);
    expect(r.value).toBe(child);
    expect(r.record!.fields.status).toBe(0x700);
  });

  it('kill: 0 probes, ESRCH for no process, SIGTERM ends it with status 15', () => {
    const c = bootCygwin();
    const child = c.call('spawnve', 1, '/usr/bin/true.exe').value;
    expect(c.call('kill', child, 0).value).toBe(0);
    expect(c.call('kill', 4242, 0)).toMatchObject({ error: 'ESRCH', errorNumber: 3 });
    expect(c.call('kill', child, 99).error).toBe('EINVAL');
    expect(c.call('kill', child, 15).value).toBe(0);
    expect(c.call('waitpid', child, 0).record!.fields.status).toBe(15);
  });

  it('sbrk reserves the user heap at USERHEAP_START and commits as the break rises', () => {
    const c = bootCygwin();
    const old = c.call('sbrk', 10000).value;
    expect(old).toBe(0xa_0000_0000);
    expect(c.call('sbrk', 0).value).toBe(old + 10000);
    expect(c.k.access(c.t, old + 9000, ACCESS_WRITE)).toBeGreaterThanOrEqual(0);
    expect(c.call('sbrk', 0x4000_0000).error).toBe('ENOMEM');
  });
});

describe('execve (spawn.cc _P_OVERLAY)', () => {
  it('a new Windows process keeps the Cygwin PID; the old one lingers as a stub until the new one exits', () => {
    const c = bootCygwin();
    const child = c.call('spawnve', 1, '/usr/bin/bash.exe').value;
    const before = c.k.state.cygwin.byPid.get(child)!;
    const oldWin = before.winpid;
    const old = on(c.k, c.k.processes.get(oldWin)!);
    expect(old.call('execve', '/usr/bin/true.exe').value).toBe(0);
    const after = c.k.state.cygwin.byPid.get(child)!;
    expect(after.winpid).not.toBe(oldWin);
    const next = on(c.k, c.k.processes.get(after.winpid)!);
    expect(next.call('getpid').value).toBe(child);
    expect(next.p.space.image!.path).toBe('/usr/bin/true.exe');
    expect(old.p.state).toBe('running');
    expect(c.call('waitpid', child, 1).value).toBe(0);
    next.call('_exit', 5);
    expect(old.p.state).not.toBe('running');
    expect(c.call('waitpid', child, 0).record!.fields.status).toBe(0x500);
    expect(c.call('execve', '/usr/bin/nope.exe')).toMatchObject({ value: -1, error: 'ENOENT' });
    expect(c.p.state).toBe('running');
  });
});
