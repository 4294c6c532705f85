/**
 * File mappings after mm/mmap.cc (the FH_FS branch, fhandler_disk_file::mmap, CreateMapping,
 * MapView, init_page_map, the pages past the end of the file) and their fork
 * (fixup_mmaps_after_fork): checked through the Windows personality's VirtualQuery and faults.
 */
import { memoryFileSystem } from '@polykernel/kernel';
import { ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';
import { MEM_MAPPED, MEM_RESERVE, PAGE_EXECUTE_READWRITE, PAGE_EXECUTE_WRITECOPY, PAGE_READWRITE, PAGE_WRITECOPY } from '@polykernel/windows';
import { describe, expect, it } from 'vitest';
import { O_RDONLY, O_RDWR } from './fdtab.js';
import { GRANULARITY, MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from './posix.js';
import { bootCygwin, on, type Cyg } from './testkit.js';

const RW = PROT_READ + PROT_WRITE;
const TEXT = new TextEncoder().encode('0123456789'.repeat(690)); // 6,900 bytes: two 4 KiB pages
const BIG = new Uint8Array(0x30000).map((_, i) => i % 251);

function boot(): Cyg {
  return bootCygwin({ fs: memoryFileSystem({ '/home/u/data.txt': TEXT, '/home/u/big.bin': BIG, '/tmp/conftest.txt': Uint8Array.of(0x41) }) });
}
const text = (c: Cyg, at: number, n: number): string => new TextDecoder().decode(c.k.copyFromUser(c.t, at, n));
const q = (c: Cyg, at: number) => c.call('VirtualQuery', at).record!.fields;
const childOf = (c: Cyg, pid: number): Cyg => on(c.k, c.k.processes.get(c.k.state.cygwin.byPid.get(pid)!.winpid)!);

describe('mmap of a file (mm/mmap.cc)', () => {
  it('MAP_PRIVATE is a WRITECOPY view of the file\'s section: its writes stay in the process, the file is unchanged', () => {
    const c = boot();
    const fd = c.call('open', '/home/u/data.txt', O_RDONLY, 0).value;
    const a = c.call('mmap', 0, TEXT.length, RW, MAP_PRIVATE, fd, 0).value;
    expect(a % GRANULARITY).toBe(0);
    expect(text(c, a, 12)).toBe('012345678901');
    const m = q(c, a);
    expect(m.Type).toBe(MEM_MAPPED);
    // gen_create_protect with the GENERIC_EXECUTE reopen: PAGE_EXECUTE_WRITECOPY; init_page_map: gen_protect = PAGE_WRITECOPY.
    expect(m.AllocationProtect).toBe(PAGE_EXECUTE_WRITECOPY);
    expect(m.Protect).toBe(PAGE_WRITECOPY);
    expect(m.RegionSize).toBe(0x2000);
    c.k.copyToUser(c.t, a, new TextEncoder().encode('ab'));
    expect(text(c, a, 4)).toBe('ab23');
    // Another mapping of the file and a read() see the file's bytes.
    const b = c.call('mmap', 0, TEXT.length, PROT_READ, MAP_PRIVATE, fd, 0).value;
    expect(text(c, b, 4)).toBe('0123');
    const buf = c.call('mmap', 0, GRANULARITY, RW, MAP_PRIVATE + MAP_ANONYMOUS, -1, 0).value;
    expect(c.call('read', fd, buf, 4).value).toBe(4);
    expect(text(c, buf, 4)).toBe('0123');
    // The fd can be closed: the mapping keeps the section.
    expect(c.call('close', fd).value).toBe(0);
    expect(text(c, a, 4)).toBe('ab23');
    expect(c.call('munmap', a, TEXT.length).value).toBe(0);
    expect(q(c, a).State).not.toBe(0x1000);
  });

  it('MAP_SHARED with PROT_WRITE needs the file open for writing (EACCES); an offset must be a 64 KiB multiple', () => {
    const c = boot();
    const ro = c.call('open', '/home/u/big.bin', O_RDONLY, 0).value;
    expect(c.call('mmap', 0, 0x1000, RW, MAP_SHARED, ro, 0).error).toBe('EACCES');
    expect(c.call('mmap', 0, 0x1000, PROT_READ, MAP_SHARED, ro, 0).value).toBeGreaterThan(0);
    expect(c.call('mmap', 0, 0x1000, PROT_READ, MAP_PRIVATE, ro, 0x1000).error).toBe('EINVAL');
    const at = c.call('mmap', 0, 0x1000, PROT_READ, MAP_PRIVATE, ro, 0x10000).value;
    expect([...c.k.copyFromUser(c.t, at, 3)]).toEqual([...BIG.subarray(0x10000, 0x10003)]);
    const rw = c.call('open', '/home/u/big.bin', O_RDWR, 0).value;
    const s = c.call('mmap', 0, 0x1000, RW, MAP_SHARED, rw, 0).value;
    expect(q(c, s).Protect).toBe(PAGE_READWRITE);
    expect(q(c, s).AllocationProtect).toBe(PAGE_EXECUTE_READWRITE);
    expect(c.call('mmap', 0, 0x1000, PROT_READ, MAP_SHARED, 99, 0).error).toBe('EBADF');
    expect(c.call('mmap', 0, 0x1000, PROT_READ, MAP_SHARED, 1, 0).error).toBe('ENODEV'); // the console
    // MAP_FIXED at a taken address fails as the view cannot go there.
    expect(c.call('mmap', s, 0x1000, PROT_READ, MAP_SHARED + MAP_FIXED, rw, 0).error).toBe('EINVAL');
  });

  it('past the end: zeros to the end of the last 4 KiB page, SIGSEGV in the rest of the 64 KiB block, SIGBUS after it', () => {
    const c = boot();
    const fd = c.call('open', '/home/u/data.txt', O_RDONLY, 0).value;
    const a = c.call('mmap', 0, 0x30000, PROT_READ, MAP_PRIVATE, fd, 0).value;
    expect([...c.k.copyFromUser(c.t, a + TEXT.length, 4)]).toEqual([0, 0, 0, 0]);
    // The attached pages: reserved, an allocation of their own at the next 64 KiB block.
    const tail = q(c, a + GRANULARITY);
    expect(tail.State).toBe(MEM_RESERVE);
    expect(tail.AllocationBase).toBe(a + GRANULARITY);
    expect(tail.RegionSize).toBe(0x20000);
    expect(q(c, a + 0x2000).State).toBe(0x10000); // MEM_FREE: the allocation gap
    const f1 = childOf(c, c.call('fork').value);
    expect(f1.k.access(f1.t, a + 0x2000, ACCESS_READ)).toBeLessThan(0);
    expect(f1.p.killedBy).toBe('SIGSEGV');
    const f2 = childOf(c, c.call('fork').value);
    expect(f2.k.access(f2.t, a + 0x10000, ACCESS_READ)).toBeLessThan(0);
    expect(f2.p.killedBy).toBe('SIGBUS');
    // A mapping that starts at or past the end of the file is attached pages only.
    const b = c.call('mmap', 0, 0x1000, PROT_READ, MAP_PRIVATE, fd, 0x10000).value;
    expect(q(c, b).State).toBe(MEM_RESERVE);
    expect(c.k.access(c.t, b, ACCESS_READ)).toBeLessThan(0);
    expect(c.p.killedBy).toBe('SIGBUS');
  });

  it('autoconf\'s conftest.txt (1 byte, one 64 KiB MAP_SHARED page) gets an anonymous mapping that reads as zeros', () => {
    const c = boot();
    const fd = c.call('open', '/tmp/conftest.txt', O_RDWR, 0).value;
    const a = c.call('mmap', 0, GRANULARITY, RW, MAP_SHARED, fd, 0).value;
    expect(q(c, a).Type).toBe(MEM_MAPPED);
    expect(q(c, a).RegionSize).toBe(GRANULARITY);
    expect([...c.k.copyFromUser(c.t, a, 2)]).toEqual([0, 0]);
  });
});

describe('the portable mapFile intent', () => {
  it('is open, lseek(SEEK_END), mmap of the fd and close: a private copy-on-write view of the file', () => {
    const c = boot();
    const D = c.k.personality.portable!;
    const before = c.k.state.cygwin.byWinpid.get(c.p.pid)!.fds.filter((f) => f !== null).length;
    const r = D.mapFile(c.k, c.t, { path: '/home/u/data.txt', prot: PROT_READ, shared: false });
    if (r.kind !== 'ok') throw new Error(JSON.stringify(r));
    expect(r.value.length).toBe(GRANULARITY);
    expect(text(c, r.value.addr, 3)).toBe('012');
    expect(c.k.state.cygwin.byWinpid.get(c.p.pid)!.fds.filter((f) => f !== null).length).toBe(before);
    expect(D.mapFile(c.k, c.t, { path: '/home/u/none', prot: PROT_READ, shared: false })).toMatchObject({ kind: 'failed', error: 'ENOENT' });
    expect(D.native.mapFile.startsWith('n/a')).toBe(false);
  });
});

describe('file mappings across fork (fixup_mmaps_after_fork)', () => {
  it('the child views the inherited section at the same address; a private mapping\'s pages are read from the parent, a shared one\'s are shared', () => {
    const c = boot();
    const fd = c.call('open', '/home/u/big.bin', O_RDWR, 0).value;
    const p = c.call('mmap', 0, 0x20000, RW, MAP_PRIVATE, fd, 0).value;
    const s = c.call('mmap', 0, 0x10000, RW, MAP_SHARED, fd, 0x10000).value;
    c.k.copyToUser(c.t, p + 5, Uint8Array.of(0xee));
    c.k.copyToUser(c.t, s, Uint8Array.of(0xdd));
    const copied = c.k.metrics.bytesCopiedCrossProcess;
    const ch = childOf(c, c.call('fork').value);
    expect(q(ch, p).Type).toBe(MEM_MAPPED);
    expect(q(ch, p).AllocationBase).toBe(p);
    expect(q(ch, s).AllocationBase).toBe(s);
    expect(ch.k.copyFromUser(ch.t, p + 5, 1)[0]).toBe(0xee);
    expect(ch.k.copyFromUser(ch.t, p + 6, 1)[0]).toBe(BIG[6]);
    expect(ch.k.copyFromUser(ch.t, s, 1)[0]).toBe(0xdd);
    // The private mapping's committed pages went across (all 32 of them: written or not); nothing of the shared one.
    expect(c.k.metrics.bytesCopiedCrossProcess - copied).toBeGreaterThanOrEqual(0x20000);
    // The written page (READWRITE in the parent) is asked for as WRITECOPY (mbi.Protect <<= 1); in the
    // child every page is already a private copy (ReadProcessMemory wrote it), so Windows makes it READWRITE.
    expect(q(c, p).Protect).toBe(PAGE_READWRITE);
    expect(q(c, p + 0x1000).Protect).toBe(PAGE_WRITECOPY);
    expect(q(ch, p + 0x1000).Protect).toBe(PAGE_READWRITE);
    ch.k.copyToUser(ch.t, p + 5, Uint8Array.of(0x11));
    ch.k.copyToUser(ch.t, s, Uint8Array.of(0x22));
    expect(c.k.copyFromUser(c.t, p + 5, 1)[0]).toBe(0xee);
    expect(c.k.copyFromUser(c.t, s, 1)[0]).toBe(0x22);
    // The section handle is the record's, inherited at the same value.
    const rec = (x: Cyg) => x.k.state.cygwin.byWinpid.get(x.p.pid)!.mmaps.find((r) => r.addr === s)!;
    expect(rec(ch).section).toBe(rec(c).section);
    expect(ch.p.space.handles.get(rec(ch).section!)?.kind).toBe('section');
  });

  it('an address taken in the child: Cygwin\'s "requested … != …" line and recreate_mmaps_after_fork_failed, fork fails with EAGAIN', () => {
    const c = boot();
    const fd = c.call('open', '/home/u/big.bin', O_RDONLY, 0).value;
    const a = c.call('mmap', 0, 0x10000, PROT_READ, MAP_PRIVATE, fd, 0).value;
    c.k.state.cygwin.injections.push({ name: 'hook.dll', at: a, size: 0x10000 });
    const r = c.call('fork');
    expect(r.error).toBe('EAGAIN');
    const log = c.k.state.cygwin.console.join('\n');
    expect(log).toContain(`requested 0x${a.toString(16)} != 0x0 mem alloc base 0x${a.toString(16)}`);
    expect(log).toContain('recreate_mmaps_after_fork_failed');
    expect(ACCESS_WRITE).toBeDefined();
  });
});
