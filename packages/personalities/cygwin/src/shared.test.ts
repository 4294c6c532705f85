import { describe, expect, it } from 'vitest';
import { MAP_ANONYMOUS, MAP_FIXED, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from './posix.js';
import { bootCygwin, on, type Cyg } from './testkit.js';
import { renderMaps } from './views.js';

const RW = PROT_READ | PROT_WRITE;
const SHARED = MAP_SHARED | MAP_ANONYMOUS;

function child(c: Cyg, pid: number): Cyg {
  return on(c.k, c.k.processes.get(c.k.state.cygwin.byPid.get(pid)!.winpid)!);
}

describe('MAP_SHARED anonymous mappings (section views)', () => {
  it('are a pagefile-backed section viewed in the process: "rw-s" in maps, the handle kept in the record', () => {
    const c = bootCygwin();
    const a = c.call('mmap', 0, 100000, RW, SHARED, -1, 0).value;
    expect(a % 0x10000).toBe(0);
    const q = c.call('VirtualQuery', a).record!.fields;
    expect(q.Type).toBe(0x40000); // MEM_MAPPED
    const rec = c.k.state.cygwin.byWinpid.get(c.p.pid)!.mmaps.find((r) => r.addr === a)!;
    expect(rec.section).toBeGreaterThan(0);
    expect(c.call('GetHandleInformation', rec.section!).record!.fields.lpdwFlags).toBe(1); // HANDLE_FLAG_INHERIT
    const hex8 = (n: number): string => n.toString(16).padStart(8, '0');
    expect(renderMaps(c.k, c.p)).toContain(`${hex8(a)}-${hex8(a + 0x20000)} rw-s 00000000 0000:0000 0   `);
  });

  it('fork maps the same section at the same address in the child: writes are seen both ways, nothing is copied', () => {
    const c = bootCygwin();
    const a = c.call('mmap', 0, 0x40000, RW, SHARED, -1, 0).value;
    const p = c.call('mmap', 0, 0x40000, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0).value;
    c.k.copyToUser(c.t, a + 0x100, Uint8Array.of(1, 2, 3));
    c.k.copyToUser(c.t, p + 0x100, Uint8Array.of(1, 2, 3));
    const before = c.k.metrics.bytesCopiedCrossProcess;
    const pid = c.call('fork').value;
    expect(pid).toBeGreaterThan(0);
    const ch = child(c, pid);
    const copied = c.k.metrics.bytesCopiedCrossProcess - before;
    // The same process without the shared mapping copies exactly as much: the view is not copied.
    const d = bootCygwin();
    const dp = d.call('mmap', 0, 0x40000, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0).value;
    d.k.copyToUser(d.t, dp + 0x100, Uint8Array.of(1, 2, 3));
    const dBefore = d.k.metrics.bytesCopiedCrossProcess;
    d.call('fork');
    expect(copied).toBe(d.k.metrics.bytesCopiedCrossProcess - dBefore);
    expect(copied).toBeGreaterThanOrEqual(0x40000);
    expect([...c.k.copyFromUser(ch.t, a + 0x100, 3)]).toEqual([1, 2, 3]);
    ch.k.copyToUser(ch.t, a + 0x100, Uint8Array.of(9));
    ch.k.copyToUser(ch.t, p + 0x100, Uint8Array.of(9));
    expect([...c.k.copyFromUser(c.t, a + 0x100, 1)]).toEqual([9]);
    expect([...c.k.copyFromUser(c.t, p + 0x100, 1)]).toEqual([1]);
    expect(ch.call('VirtualQuery', a).record!.fields.Type).toBe(0x40000);
  });

  it('keeps a read-only part read-only in the child (protections replayed), and PROT_NONE', () => {
    const c = bootCygwin();
    const a = c.call('mmap', 0, 0x20000, RW, SHARED, -1, 0).value;
    expect(c.call('mprotect', a + 0x10000, 0x10000, PROT_READ).value).toBe(0);
    const n = c.call('mmap', 0, 0x10000, 0, SHARED, -1, 0).value;
    const ch = child(c, c.call('fork').value);
    expect(ch.call('VirtualQuery', a + 0x10000).record!.fields.Protect).toBe(2);
    expect(ch.call('VirtualQuery', a).record!.fields.Protect).toBe(4);
    expect(ch.call('VirtualQuery', n).record!.fields.Protect).toBe(1);
  });

  it('a child whose address is taken fails the fixup with Cygwin\'s lines, and fork fails with EAGAIN', () => {
    const c = bootCygwin();
    const a = c.call('mmap', 0x20_0000_0000, 0x10000, RW, SHARED + MAP_FIXED, -1, 0).value;
    expect(a).toBe(0x20_0000_0000);
    c.k.state.cygwin.injections.push({ name: 'hook.dll', at: a, size: 0x10000 });
    expect(c.call('fork').error).toBe('EAGAIN');
    const out = c.k.state.cygwin.console.join('\n');
    expect(out).toMatch(/requested 0x2000000000 != 0x0 mem alloc base 0x2000000000, state 0x1000, size 65536, Win32 error 487/);
    expect(out).toContain('fixup_mmap_after_fork for fd -1 failed, address 0x2000000000, Win32 error 487');
  });

  it('munmap of the whole mapping unmaps the view and closes the section: its commit is given back', () => {
    const c = bootCygwin();
    const commit = c.k.state.commitCharge;
    const a = c.call('mmap', 0, 0x100000, RW, SHARED, -1, 0).value;
    expect(c.k.state.commitCharge).toBeGreaterThan(commit);
    expect(c.call('munmap', a, 0x100000).value).toBe(0);
    expect(c.k.state.commitCharge).toBe(commit);
    expect(c.call('VirtualQuery', a).record!.fields.State).toBe(0x10000);
  });
});
