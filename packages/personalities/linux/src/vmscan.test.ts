import { Kernel } from '@polykernel/kernel';
import { ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import { MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from './flags.js';
import type { FsFile } from './exec.js';
import { machineOf, type LinuxSpace } from './machine.js';
import { linuxPersonality } from './personality.js';
import { reclaimPageCache } from './vmscan.js';

const P = 4096;
const RW = PROT_READ | PROT_WRITE;
const O_RDWR = 2;

/** A host file's byte array that counts every store into it: the host file system must never be written. */
class HostBytes extends Uint8Array {
  stores = 0;
  override set(array: ArrayLike<number>, offset?: number): void {
    this.stores++;
    super.set(array, offset);
  }
}

type Proc = ReturnType<Kernel<LinuxSpace>['createProcess']>;

function boot(): { k: Kernel<LinuxSpace>; host: HostBytes; p: Proc; t: Proc['threads'][number] } {
  const host = new HostBytes(3 * P);
  for (let i = 0; i < host.length; i++) host[i] = (i * 7 + 3) % 251;
  host.stores = 0;
  const file: FsFile = { path: '/data/f', bytes: host, dev: [8, 1], ino: 77, mode: 0o100644 };
  const k = new Kernel(linuxPersonality({ fs: (p) => (p === file.path ? file : p === '/data' ? { ...file, path: '/data', mode: 0o040755 } : 'ENOENT') }), { frames: 4096, contents: true });
  const p = k.createProcess(k.init, 'reader');
  return { k, host, p, t: p.threads[0]! };
}

/** Every page of [va, va + len) read once through the MMU. */
function touch(k: Kernel<LinuxSpace>, t: Parameters<Kernel<LinuxSpace>['access']>[0], va: number, len: number): void {
  for (let a = va; a < va + len; a += P) expect(k.access(t, a, ACCESS_READ)).toBeGreaterThanOrEqual(0);
}

describe('reclaimPageCache (shrink_folio_list): only dirty pages are written back', () => {
  it('the clean pages of a host file opened read-only are dropped, never written into its bytes', () => {
    const { k, host, t } = boot();
    const before = host.slice();
    const fd = k.syscall(t, 'openat', [-100, '/data/f', 0, 0]).value;
    const shared = k.syscall(t, 'mmap', [0, 3 * P, PROT_READ, MAP_SHARED, fd, 0]).value;
    const priv = k.syscall(t, 'mmap', [0, 3 * P, RW, MAP_PRIVATE, fd, 0]).value;
    touch(k, t, shared, 3 * P);
    touch(k, t, priv, 3 * P);
    // A private write copies the page (do_cow_fault): the cache page stays clean.
    expect(k.access(t, priv + P, ACCESS_WRITE)).toBeGreaterThanOrEqual(0);
    k.syscall(t, 'munmap', [shared, 3 * P]);
    k.syscall(t, 'munmap', [priv, 3 * P]);
    expect(reclaimPageCache(machineOf(k))).toBe(3);
    expect(host.stores).toBe(0);
    expect(host).toEqual(before);
    // The next reader gets fresh cache pages, filled from the file.
    const again = k.syscall(t, 'mmap', [0, P, PROT_READ, MAP_SHARED, fd, 0]).value;
    expect(k.mmu.frames.read(k.access(t, again + 5, ACCESS_READ), 1)[0]).toBe(before[5]);
  });

  it('a page written through a MAP_SHARED mapping of a writable file survives reclaim; clean pages are not written; the host file keeps its bytes', () => {
    const { k, host, t } = boot();
    const before = host.slice();
    const m = machineOf(k);
    const fd = k.syscall(t, 'openat', [-100, '/data/f', O_RDWR, 0]).value;
    const own = m.overlay.get('/data/f')!.file.bytes as HostBytes; // the machine's copy-on-write copy
    expect(own).not.toBe(host);
    own.stores = 0;
    const a = k.syscall(t, 'mmap', [0, 3 * P, RW, MAP_SHARED, fd, 0]).value;
    touch(k, t, a, 3 * P);
    k.mmu.frames.write(k.access(t, a + P + 9, ACCESS_WRITE), new Uint8Array([222]));
    k.syscall(t, 'munmap', [a, 3 * P]);
    expect(own[P + 9]).toBe(before[P + 9]); // still only in the cache page
    expect(reclaimPageCache(m)).toBe(3);
    expect(own.stores).toBe(1); // the dirty page only
    expect(own[P + 9]).toBe(222);
    expect(host.stores).toBe(0);
    expect(host).toEqual(before);
    // read() sees the stored byte, from the file's bytes now that the page is gone.
    const buf = k.syscall(t, 'mmap', [0, P, RW, MAP_PRIVATE | 0x20, -1, 0]).value;
    expect(k.syscall(t, 'pread64', [fd, buf, 1, P + 9]).value).toBe(1);
    expect(k.mmu.frames.read(k.access(t, buf, ACCESS_READ), 1)[0]).toBe(222);
  });

  it('the dirty bit goes with the mapping at exit (exit_mmap): a child that wrote and exited leaves a dirty page', () => {
    const { k, p, t } = boot();
    const m = machineOf(k);
    const fd = k.syscall(t, 'openat', [-100, '/data/f', O_RDWR, 0]).value;
    const a = k.syscall(t, 'mmap', [0, P, RW, MAP_SHARED, fd, 0]).value;
    const child = k.createProcess(p, 'writer');
    const ct = child.threads[0]!;
    const fd2 = child.installFile(p.file(fd)!);
    const b = k.syscall(ct, 'mmap', [0, P, RW, MAP_SHARED, fd2, 0]).value;
    k.mmu.frames.write(k.access(ct, b + 1, ACCESS_WRITE), new Uint8Array([99]));
    k.exitProcess(child, 0);
    k.syscall(t, 'munmap', [a, P]);
    expect(reclaimPageCache(m)).toBe(1);
    expect(m.overlay.get('/data/f')!.file.bytes![1]).toBe(99);
  });
});
