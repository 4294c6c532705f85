/**
 * fork, vfork, rfork, exit, wait4 and kill: vmspace_fork's lazy shadows and their collapse,
 * inheritance, the vfork sleep, wait statuses and FreeBSD's errnos; procstat -v byte for byte.
 */
import { FREEBSD_ERRNO } from '@polykernel/core';
import { Kernel, type Process, type Thread } from '@polykernel/kernel';
import { ACCESS_WRITE } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import type { FreebsdMachine, FreebsdSpace } from '../machine.js';
import { MAP_ANON, MAP_PRIVATE, PAGE_SIZE, RFCFDG, RFFDG, RFPROC, VM_INHERIT_NONE, VM_INHERIT_SHARE, VM_INHERIT_ZERO } from '../param.js';
import { freebsdPersonality } from '../personality.js';

type K = Kernel<FreebsdSpace, FreebsdMachine>;

function boot(): { k: K; p: Process<FreebsdSpace>; t: Thread } {
  const k = new Kernel(freebsdPersonality(), { frames: 8192, seed: 3, contents: true });
  const p = k.createProcess(k.init, 'sh');
  return { k, p, t: p.threads[0]! };
}

function anon(k: K, t: Thread, pages: number): number {
  return k.syscall(t, 'mmap', [0, pages * PAGE_SIZE, 3, MAP_PRIVATE | MAP_ANON, -1, 0]).value;
}

function poke(k: K, t: Thread, va: number, v: number): void {
  expect(k.copyToUser(t, va, Uint8Array.of(v))).toBe(1);
}

function peek(k: K, t: Thread, va: number): number {
  return k.copyFromUser(t, va, 1)[0]!;
}

function child(k: K, p: Process<FreebsdSpace>, pid: number): Process<FreebsdSpace> {
  const c = k.processes.get(pid);
  expect(c?.parent).toBe(p);
  return c!;
}

function chain(p: Process<FreebsdSpace>, va: number): number {
  return p.space.map.lookupEntry(va)?.object?.chainLength ?? 0;
}

describe('fork: vmspace_fork by inheritance, shadows made at the first write', () => {
  it('shares the object COW|NEEDS_COPY, shadows it at the first write, and collapses it when the child exits', () => {
    const { k, p, t } = boot();
    const va = anon(k, t, 4);
    poke(k, t, va, 11);
    poke(k, t, va + PAGE_SIZE, 22);
    const objects = k.vm.liveObjects;
    const pid = k.syscall(t, 'fork').value;
    expect(pid).toBe(p.pid + 1);
    const c = child(k, p, pid);
    const ct = c.threads[0]!;
    // No copy and no shadow yet: both entries name one object, copy-on-write and needing a copy.
    expect(k.vm.liveObjects).toBe(objects);
    const pe = p.space.map.lookupEntry(va)!;
    const ce = c.space.map.lookupEntry(va)!;
    expect(pe.object).toBe(ce.object);
    expect(pe.object!.refCount).toBe(2);
    expect(peek(k, ct, va)).toBe(11);
    // The parent's first write makes its shadow and copies the page into it.
    const cow = k.metrics.faults.cow;
    poke(k, t, va, 12);
    expect(k.metrics.faults.cow).toBe(cow + 1);
    expect(chain(p, va)).toBe(2);
    expect(peek(k, ct, va)).toBe(11);
    expect(peek(k, t, va)).toBe(12);
    expect(peek(k, t, va + PAGE_SIZE)).toBe(22);
    // The child's write makes its own shadow.
    poke(k, ct, va + PAGE_SIZE, 33);
    expect(chain(c, va)).toBe(2);
    expect(peek(k, t, va + PAGE_SIZE)).toBe(22);
    expect(k.vm.liveObjects).toBe(objects + 2);
    // Exit: the child's shadow goes, the original object drops to one reference and is
    // collapsed into the parent's shadow: the chain is one object again.
    k.syscall(ct, 'exit', [0]);
    expect(k.syscall(t, 'wait4', [pid, 0, 0, 0]).value).toBe(pid);
    expect(chain(p, va)).toBe(1);
    expect(k.vm.liveObjects).toBe(objects);
    expect(peek(k, t, va)).toBe(12);
    expect(peek(k, t, va + PAGE_SIZE)).toBe(22);
  });

  it('a child that never wrote: its exit leaves the parent shadow with one reference below, and it collapses', () => {
    const { k, p, t } = boot();
    const va = anon(k, t, 2);
    poke(k, t, va, 1);
    poke(k, t, va + PAGE_SIZE, 2);
    const pid = k.syscall(t, 'fork').value;
    poke(k, t, va, 3);
    expect(chain(p, va)).toBe(2);
    k.syscall(k.processes.get(pid)!.threads[0]!, 'exit', [0]);
    expect(chain(p, va)).toBe(1);
    expect(peek(k, t, va)).toBe(3);
    expect(peek(k, t, va + PAGE_SIZE)).toBe(2);
  });

  it('a write after the other side exited needs no shadow (the object has one reference)', () => {
    const { k, t } = boot();
    const va = anon(k, t, 1);
    poke(k, t, va, 5);
    const pid = k.syscall(t, 'fork').value;
    const c = k.processes.get(pid)!;
    k.syscall(c.threads[0]!, 'exit', [3]);
    const objects = k.vm.liveObjects;
    poke(k, t, va, 6);
    expect(k.vm.liveObjects).toBe(objects);
    expect(k.syscall(t, 'wait4', [-1, 0, 0, 0]).value).toBe(pid);
  });

  it('minherit: NONE leaves the range out, SHARE shares writes both ways, ZERO gives fresh zeros', () => {
    const { k, p, t } = boot();
    const none = anon(k, t, 1);
    const shared = anon(k, t, 1) + 0;
    const zero = anon(k, t, 1);
    for (const va of [none, shared, zero]) poke(k, t, va, 7);
    expect(k.syscall(t, 'minherit', [none, PAGE_SIZE, VM_INHERIT_NONE]).value).toBe(0);
    expect(k.syscall(t, 'minherit', [shared, PAGE_SIZE, VM_INHERIT_SHARE]).value).toBe(0);
    expect(k.syscall(t, 'minherit', [zero, PAGE_SIZE, VM_INHERIT_ZERO]).value).toBe(0);
    const c = child(k, p, k.syscall(t, 'fork').value);
    const ct = c.threads[0]!;
    expect(c.space.map.lookupEntry(none)).toBeUndefined();
    expect(peek(k, ct, zero)).toBe(0);
    expect(peek(k, ct, shared)).toBe(7);
    poke(k, ct, shared, 9);
    expect(peek(k, t, shared)).toBe(9);
    poke(k, t, shared, 10);
    expect(peek(k, ct, shared)).toBe(10);
  });
});

describe('procstat -v', () => {
  it('prints the header and one line per entry, byte for byte as procstat_vm.c formats them', () => {
    const { k, p, t } = boot();
    const va = anon(k, t, 4);
    k.access(t, va, ACCESS_WRITE);
    k.access(t, va + 2 * PAGE_SIZE, ACCESS_WRITE);
    anon(k, t, 1);
    k.syscall(t, 'mmap', [0, 2 * PAGE_SIZE, 1, MAP_PRIVATE | MAP_ANON, -1, 0]);
    const view = k.personality.views.find((v) => v.name === 'procstat-v')!;
    expect(view.render(k, p)).toBe(
      '  PID              START                END PRT  RES PRES REF SHD FLAG  TP PATH\n'
      + '    2        0x800000000        0x800005000 rw-    2    2   2   0 ----- sw \n'
      // vm_map_insert extended the first entry's object over the read-only range too (the
      // entries' credentials match once the first has its object): a second entry, REF 2.
      + '    2        0x800005000        0x800007000 r--    0    2   2   0 ----- sw \n',
    );
    k.syscall(t, 'fork');
    const after = view.render(k, p).split('\n')[1];
    expect(after).toBe('    2        0x800000000        0x800005000 rw-    2    2   2   0 CN--- sw ');
    poke(k, t, va, 1);
    expect(view.render(k, p).split('\n')[1]).toBe('    2        0x800000000        0x800005000 rw-    2    0   1   0 C---- sw ');
    const rows = view.rows!(k, p);
    expect(rows[0]).toMatchObject({ kve_start: '0x800000000', kve_resident: 2, kve_ref_count: 1, copy_on_write: true, needs_copy: false, kve_type: 'swap' });
  });

  it('procstat -c prints the command line', () => {
    const { k, p } = boot();
    const view = k.personality.views.find((v) => v.name === 'procstat-c')!;
    expect(view.render(k, p)).toBe(`  PID COMM             ARGS${' '.repeat(49)}\n    2 sh               sh\n`);
  });
});

describe('vfork, rfork, wait4, kill, getpid', () => {
  it('PIDs count up from the last one (fork_findpid); thread IDs come from above 100000', () => {
    const { k, p, t } = boot();
    expect(k.init.pid).toBe(1);
    expect(p.pid).toBe(2);
    const a = k.syscall(t, 'fork').value;
    const b = k.syscall(t, 'fork').value;
    expect([a, b]).toEqual([3, 4]);
    expect(p.threads[0]!.tid).toBeGreaterThan(100_000);
    expect(k.processes.get(b)!.threads[0]!.tid).toBeGreaterThan(p.threads[0]!.tid);
  });

  it('vfork shares the address space and the parent sleeps until the child exits', () => {
    const { k, p, t } = boot();
    const va = anon(k, t, 1);
    const r = k.syscall(t, 'vfork');
    expect(r.blocked).toBe(true);
    expect(t.state).toBe('blocked');
    const c = child(k, p, r.value);
    expect(c.space).toBe(p.space);
    poke(k, c.threads[0]!, va, 42);
    k.syscall(c.threads[0]!, 'exit', [0]);
    expect(t.state).toBe('runnable');
    expect(k.resume(t).value).toBe(c.pid);
    expect(peek(k, t, va)).toBe(42);
  });

  it('rfork refuses kernel-only and contradictory flags with EINVAL; RFPROC without RFMEM copies', () => {
    const { k, t } = boot();
    expect(k.syscall(t, 'rfork', [RFPROC | RFFDG | RFCFDG]).errorNumber).toBe(FREEBSD_ERRNO.EINVAL);
    expect(k.syscall(t, 'rfork', [2 ** 31 + RFPROC]).errorNumber).toBe(FREEBSD_ERRNO.EINVAL);
    expect(k.syscall(t, 'rfork', [RFPROC | 0x100]).errorNumber).toBe(FREEBSD_ERRNO.EINVAL);
    expect(k.syscall(t, 'rfork', [RFFDG]).value).toBe(0);
    expect(k.syscall(t, 'rfork', [RFPROC]).value).toBeGreaterThan(0);
  });

  it('wait4: ECHILD without children, 0 with WNOHANG, the exit status and the killing signal', () => {
    const { k, t, p } = boot();
    expect(k.syscall(t, 'wait4', [-1, 0, 0, 0]).errorNumber).toBe(FREEBSD_ERRNO.ECHILD);
    const a = k.syscall(t, 'fork').value;
    const b = k.syscall(t, 'fork').value;
    expect(b).toBe(a + 1);
    expect(k.syscall(t, 'wait4', [-1, 0, 1, 0]).value).toBe(0);
    const status = anon(k, t, 1);
    k.syscall(child(k, p, a).threads[0]!, 'exit', [7]);
    expect(k.syscall(t, 'wait4', [a, status, 0, 0]).value).toBe(a);
    expect([...k.copyFromUser(t, status, 2)]).toEqual([0, 7]);
    expect(k.syscall(t, 'kill', [b, 129]).errorNumber).toBe(FREEBSD_ERRNO.EINVAL);
    expect(k.syscall(t, 'kill', [99, 15]).errorNumber).toBe(FREEBSD_ERRNO.ESRCH);
    expect(k.syscall(t, 'kill', [b, 20]).value).toBe(0); // SIGCHLD: discarded by default
    expect(k.processes.get(b)?.state).toBe('running');
    const w = k.syscall(t, 'wait4', [b, status, 0, 0]);
    expect(w.blocked).toBe(true);
    expect(k.syscall(child(k, p, b).threads[0]!, 'kill', [b, 15]).value).toBe(0);
    expect(k.resume(t).value).toBe(b);
    expect([...k.copyFromUser(t, status, 2)]).toEqual([15, 0]);
    expect(k.syscall(t, 'getpid').value).toBe(p.pid);
    expect(k.syscall(t, 'getppid').value).toBe(1);
    expect(k.syscall(t, 'wait4', [-1, 0, 0x100, 0]).errorNumber).toBe(FREEBSD_ERRNO.EINVAL);
  });
});
