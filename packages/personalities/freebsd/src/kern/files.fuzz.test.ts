/**
 * Bad input to the file, name-space, descriptor and signal calls: random calls with random arguments (wild
 * descriptors, addresses, counts, offsets, flags, paths) never throw; each returns a value or -1
 * with an errno FreeBSD has, and once every process has exited no VM object or frame is left.
 */
import { FREEBSD_ERRNO } from '@polykernel/core';
import { Kernel, memoryFileSystem, type SyscallArg } from '@polykernel/kernel';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FreebsdMachine, FreebsdSpace } from '../machine.js';
import { MAP_ANON, MAP_PRIVATE, PAGE_SIZE } from '../param.js';
import { freebsdPersonality } from '../personality.js';
import { vnodeCounts } from './vfs_vnode.js';

const CALLS = ['open', 'openat', 'read', 'write', 'pread', 'pwrite', 'close', 'lseek', 'fstat', 'dup', 'dup2', 'fcntl', 'pipe2', 'mmap', 'munmap',
  'sigaction', 'sigprocmask', 'kill', 'setpgid', 'getpgid', 'fork', 'exit', 'unlink', 'unlinkat', 'rename', 'renameat', 'mkdir', 'mkdirat', 'rmdir',
  'chdir', 'fchdir', '__getcwd', 'execve'] as const;
const ERRNOS = new Set<number>(Object.values(FREEBSD_ERRNO));

const word: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ min: -3, max: 12 }),
  fc.constantFrom(-100, 0x200, 0x400, 0x20000, 0x100000, 0x40000, 3, 0x1002, 2 ** 31, 2 ** 32 - 1, 2 ** 53 - 1, 2 ** 63, PAGE_SIZE),
  fc.integer({ min: 0, max: 2 ** 48 }),
);
const argArb: fc.Arbitrary<SyscallArg> = fc.oneof(
  { weight: 5, arbitrary: word },
  { weight: 2, arbitrary: fc.constantFrom('/etc/motd', '/dev/zero', '/dev/null', '/tmp/new', '/tmp', '', 'etc/motd', '/etc/motd/x', '../..', '/nope', '.', '..', '/', '/tmp/d', 'd/e/', '/dev', '/etc') },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);
const callArb = fc.record({ who: fc.nat(3), call: fc.constantFrom(...CALLS), args: fc.array(argArb, { maxLength: 6 }), useBuf: fc.boolean() });

describe('file and signal calls under random arguments', () => {
  it('never throw, fail only with FreeBSD errnos, and leak nothing', () => {
    fc.assert(fc.property(fc.array(callArb, { minLength: 1, maxLength: 40 }), (calls) => {
      const fs = memoryFileSystem({ '/etc/motd': new TextEncoder().encode('hello\n'), '/tmp/.keep': new Uint8Array(0) });
      const k = new Kernel<FreebsdSpace, FreebsdMachine>(freebsdPersonality({ fs }), { frames: 2048, seed: 2, contents: true });
      const free0 = k.mmu.frames.freeFrames;
      const root = k.createProcess(k.init, 'fuzz');
      const buf = k.syscall(root.threads[0]!, 'mmap', [0, 2 * PAGE_SIZE, 3, MAP_PRIVATE | MAP_ANON, -1, 0]).value;
      for (const c of calls) {
        const live = [...k.processes.values()].filter((p) => p.state === 'running' && p !== k.init);
        if (live.length === 0) break;
        const p = live[c.who % live.length]!;
        if (c.call === 'fork' && live.length > 4) continue;
        // A buffer argument in the caller's memory half the time, so calls get past EFAULT.
        const args = c.useBuf && c.args.length > 1 ? [c.args[0]!, buf, ...c.args.slice(2)] : c.args;
        const r = k.syscall(p.threads[0]!, c.call, args);
        if (r.blocked === true) {
          k.exitProcess(p, 0); // a reader of an empty pipe: nobody will write; end it
          continue;
        }
        if (r.value === -1 && r.error !== null) expect(ERRNOS.has(r.errorNumber), `${c.call}: ${r.error}`).toBe(true);
      }
      for (const p of [...k.processes.values()]) if (p !== k.init && p.state === 'running') k.exitProcess(p, 0);
      expect(vnodeCounts(k.state).objects).toBe(0);
      expect(vnodeCounts(k.state).orphans).toBe(0);
      expect(k.vm.liveObjects).toBe(0);
      expect(k.mmu.frames.freeFrames).toBe(free0);
    }), { seed: 0xbad, numRuns: 150 });
  });
});
