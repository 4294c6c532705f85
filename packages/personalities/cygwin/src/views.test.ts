import { describe, expect, it } from 'vitest';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from './posix.js';
import { bootCygwin } from './testkit.js';
import { mapsRows, renderMaps, renderPs } from './views.js';

describe('views', () => {
  it('/proc/<pid>/maps: Linux\'s line layout over the Windows regions, named as fhandler_process.cc names them', () => {
    const c = bootCygwin();
    c.call('sbrk', 10000);
    const a = c.call('mmap', 0, 100000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0).value;
    const text = renderMaps(c.k, c.p);
    const lines = text.trimEnd().split('\n');
    for (const l of lines) expect(l).toMatch(/^[0-9a-f]{8,}-[0-9a-f]{8,} [-r][-w][-x][ps] [0-9a-f]{8} 0000:0000 0( {19}.+)?$/);
    expect(text).toContain('100401000-100402000 r-xp 00001000 0000:0000 0                   /usr/bin/bash.exe');
    expect(text).toContain('180040000-180041000 r--p 00000000 0000:0000 0                   /usr/bin/cygwin1.dll');
    expect(text).toMatch(/a00000000-a00003000 rw-p 00000000 0000:0000 0 {19}\[heap\]/);
    expect(text).toMatch(/\[stack \(tid \d+\)\]/);
    expect(text).toContain('[peb]');
    expect(mapsRows(c.k, c.p).find((r) => r.start === a)).toMatchObject({ perms: 'rw-p', end: a + 0x20000, pathname: '' });
  });

  it('ps lists Cygwin PID, PPID and WINPID', () => {
    const c = bootCygwin();
    const child = c.call('fork').value;
    const winpid = c.k.state.cygwin.byPid.get(child)!.winpid;
    const ps = renderPs(c.k).split('\n');
    expect(ps[0]).toBe('      PID    PPID    PGID     WINPID   TTY         UID    STIME COMMAND');
    const pid = c.call('getpid').value;
    expect(ps.find((l) => l.trim().startsWith(`${String(child)} `))).toMatch(new RegExp(`^\\s+${String(child)}\\s+${String(pid)}\\s+${String(child)}\\s+${String(winpid)}\\s+\\?`));
  });
});
