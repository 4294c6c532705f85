import { describe, expect, it } from 'vitest';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from './posix.js';
import { bootCygwin } from './testkit.js';
import { mapsRows, renderMaps, renderPs } from './views.js';

describe('views', () => {
  it('/proc/<pid>/maps: format_process_maps\' lines, byte for byte', () => {
    const c = bootCygwin();
    c.call('sbrk', 10000);
    const a = c.call('mmap', 0, 100000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0).value;
    const text = renderMaps(c.k, c.p);
    const lines = text.split('\n');
    expect(lines.pop()).toBe('');
    // "%08lx-%08lx %s %08lx %04x:%04x %U   " padded with spaces to 62 columns, then the name.
    for (const l of lines) {
      expect(l).toMatch(/^[0-9a-f]{8,}-[0-9a-f]{8,} ([-r][-w][-x][psg]|===[ps]) [0-9a-f]{8} [0-9a-f]{4}:[0-9a-f]{4} \d+ {3}/);
      expect(l.length).toBeGreaterThanOrEqual(62);
    }
    const tid = String(c.p.threads[0]!.tid);
    // Images: stat()'s st_dev (major:minor) and st_ino of the file.
    const st = (path: string): string => {
      const f = c.k.state.fs(path);
      if (typeof f === 'string') throw new Error(f);
      return `${f.dev[0].toString(16).padStart(4, '0')}:${f.dev[1].toString(16).padStart(4, '0')} ${String(f.ino)}`;
    };
    expect(st('/usr/bin/bash.exe')).not.toBe('0000:0000 0');
    expect(text).toContain(`${`100401000-100402000 r-xp 00001000 ${st('/usr/bin/bash.exe')}   `.padEnd(62)}/usr/bin/bash.exe\n`);
    expect(text).toContain(`${`180040000-180041000 r--p 00000000 ${st('/usr/bin/cygwin1.dll')}   `.padEnd(62)}/usr/bin/cygwin1.dll\n`);
    // The shared regions (shared.cc open_shared from 0x1a0000000, one 64 KiB slot per attempt): views, "s".
    expect(text).toContain('1a0000000-1a0008000 rw-s 00000000 0000:0000 0                 [cygwin-shared]\n');
    expect(text).toContain('1a0010000-1a0018000 rw-s 00000000 0000:0000 0                 [cygwin-user-shared]\n');
    expect(text).toContain('1a0020000-1a0031000 rw-s 00000000 0000:0000 0                 [procinfo]\n');
    // Regions of one allocation keep its name; reserved parts are "===p"; the offset is from the allocation base.
    expect(text).toContain('a00000000-a00003000 rw-p 00000000 0000:0000 0                 [heap]\na00003000-a02000000 ===p 00003000 0000:0000 0                 [heap]\n');
    expect(text).toContain('800000000-800010000 rw-p 00000000 0000:0000 0                 [cygheap]\n');
    // The stack: reserved, the guard page ("g"), the committed top; RtlCreateHeap's heap is "win heap 0".
    expect(text).toMatch(new RegExp(`===p 00000000 0000:0000 0 {19}\\[stack \\(tid ${tid}\\)\\]\n[0-9a-f]+-[0-9a-f]+ rw-g [0-9a-f]{8} 0000:0000 0 {19}\\[stack \\(tid ${tid}\\)\\]\n`));
    expect(text).toContain('[win heap 0 default grow]\n');
    expect(text).toContain(`7fffffdd000-7fffffdf000 rw-p 00000000 0000:0000 0             [teb (tid ${tid})]\n7fffffdf000-7fffffe0000 rw-p 00000000 0000:0000 0             [peb]\n`);
    expect(text).toContain('7ffe0000-7ffe1000 r--p 00000000 0000:0000 0                   [shared-user-data]\n');
    // An anonymous mapping has no name, but its line is still padded to 62 columns.
    const anon = lines.find((l) => l.startsWith(a.toString(16)))!;
    expect(anon).toBe(`${a.toString(16)}-${(a + 0x20000).toString(16)} rw-p 00000000 0000:0000 0   `.padEnd(62));
    expect(mapsRows(c.k, c.p).find((r) => r.start === a)).toMatchObject({ perms: 'rw-p', end: a + 0x20000, pathname: '' });
  });

  it('a file mapping is named by its file with the file\'s dev and inode; the shared regions are one set of sections for every process', () => {
    const c = bootCygwin();
    const fd = c.call('open', '/usr/bin/true.exe', 0, 0).value;
    const a = c.call('mmap', 0, 0x1000, PROT_READ, MAP_PRIVATE, fd, 0).value;
    const f = c.k.state.fs('/usr/bin/true.exe');
    if (typeof f === 'string') throw new Error(f);
    const row = mapsRows(c.k, c.p).find((r) => r.start === a)!;
    expect(row).toMatchObject({ pathname: '/usr/bin/true.exe', inode: f.ino, dev: `${f.dev[0].toString(16).padStart(4, '0')}:${f.dev[1].toString(16).padStart(4, '0')}` });
    // format_process_maps: 's' for MEM_MAPPED unless the protection is WRITECOPY — a read-only private file map shows as r--s.
    expect(row.perms).toBe('r--s');
    const w = c.call('mmap', 0, 0x1000, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0).value;
    expect(mapsRows(c.k, c.p).find((r) => r.start === w)!.perms).toBe('rw-p');
    // A forked child maps the same named sections at the same addresses; its procinfo is its own PID's.
    const pid = c.call('fork').value;
    const ch = c.k.processes.get(c.k.state.cygwin.byPid.get(pid)!.winpid)!;
    const names = (p: typeof ch) => mapsRows(c.k, p).filter((r) => String(r.pathname).startsWith('[cygwin') || r.pathname === '[procinfo]').map((r) => `${Number(r.start).toString(16)} ${String(r.pathname)}`);
    expect(names(ch)).toEqual(names(c.p));
    const pinfoSections = [...c.k.state.namedSections.keys()].filter((n) => n.includes('cygpid.')).sort();
    expect(pinfoSections).toEqual([`cygpid.${String(c.call('getpid').value)}`, `cygpid.${String(pid)}`].map((n) => pinfoSections.find((x) => x.endsWith(n))!).sort());
    expect(pinfoSections).toHaveLength(2);
    const shared = [...c.k.state.namedSections.entries()].find(([n]) => n.endsWith('\\shared.5'))![1];
    expect(shared.views).toBe(2);
    // The parent's view of the child's pinfo (child.remember): the next slot after its own regions, unnamed, "rw-s".
    const mine = mapsRows(c.k, c.p).find((r) => r.start === 0x1a0040000)!;
    expect(mine).toMatchObject({ perms: 'rw-s', pathname: '', end: 0x1a0051000 });
    const pinfo = [...c.k.state.namedSections.entries()].find(([n]) => n.endsWith(`cygpid.${String(pid)}`))![1];
    expect(pinfo.views).toBe(2);
  });

  it('ps lists Cygwin PID, PPID, PGID (the parent\'s group: fork keeps it) and WINPID', () => {
    const c = bootCygwin();
    const child = c.call('fork').value;
    const winpid = c.k.state.cygwin.byPid.get(child)!.winpid;
    const ps = renderPs(c.k).split('\n');
    expect(ps[0]).toBe('      PID    PPID    PGID     WINPID   TTY         UID    STIME COMMAND');
    const pid = c.call('getpid').value;
    expect(ps.find((l) => l.trim().startsWith(`${String(child)} `))).toMatch(new RegExp(`^\\s+${String(child)}\\s+${String(pid)}\\s+${String(pid)}\\s+${String(winpid)}\\s+\\?`));
  });
});
