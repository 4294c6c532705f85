/** Property: after random fork / spawn / exec / shared, private and file mmap / open / write / kill / stop / exit / wait
 * sequences, every Windows process, handle, section (its commit) and page of commit is gone. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memoryFileSystem } from '@polykernel/kernel';
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, PROT_READ, PROT_WRITE } from './posix.js';
import { bootCygwin, on, type Cyg } from './testkit.js';

interface Op { kind: 'fork' | 'spawn' | 'exec' | 'mmap' | 'shared' | 'open' | 'file' | 'kill' | 'stop' | 'exit' | 'wait'; who: number }

const op = fc.record({ kind: fc.constantFrom<Op['kind']>('fork', 'spawn', 'exec', 'mmap', 'shared', 'open', 'file', 'kill', 'stop', 'exit', 'wait'), who: fc.nat(7) });

function live(c: Cyg): Cyg[] {
  return [...c.k.state.cygwin.byPid.values()].filter((p) => !p.exited).map((p) => on(c.k, c.k.processes.get(p.winpid)!));
}

describe('lifecycle property', () => {
  it('after any fork/spawn/exit/wait sequence and everyone exiting and being reaped, nothing is left', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 10 }), (ops) => {
        const c = bootCygwin({ fs: memoryFileSystem({ '/home/u/f.bin': new Uint8Array(0x18000).fill(7) }) }, { frames: 16384 });
        const baseline = c.k.processes.size - 1;
        // The first process's own commit and the shared regions' sections (system commit) go when it exits.
        const sharedCommit = [...c.k.state.namedSections.values()].reduce((n, s) => n + s.charged, 0);
        expect(sharedCommit).toBeGreaterThan(0);
        const commitBaseline = c.k.state.commitCharge - c.p.space.commitCharge - sharedCommit;
        for (const o of ops) {
          const ps = live(c);
          if (ps.length === 0) break;
          const x = ps[o.who % ps.length]!;
          if (o.kind === 'fork') x.call('fork');
          else if (o.kind === 'spawn') x.call('spawnve', 1, '/usr/bin/true.exe');
          else if (o.kind === 'mmap') x.call('mmap', 0, 0x10000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
          else if (o.kind === 'shared') x.call('mmap', 0, 0x20000, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
          else if (o.kind === 'open') x.call('open', '/dev/null', 2, 0);
          else if (o.kind === 'exec' && x.p !== c.p) x.call('execve', '/usr/bin/true.exe', ['true'], []);
          else if (o.kind === 'file') {
            // A regular file's handle, a shared and a private view of it (the private one past its end: attached pages), a write.
            const fd = x.call('open', '/home/u/f.bin', 2, 0).value;
            x.call('mmap', 0, 0x18000, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            x.call('mmap', 0, 0x40000, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
            x.call('write', fd, 0x800000000, 16);
          } else if (o.kind === 'stop' && x.p !== c.p) {
            const pid = x.call('getpid').value;
            c.call('kill', pid, 17);
            c.call('kill', pid, 19);
          }
          else if (o.kind === 'kill' && x.p !== c.p) c.call('kill', x.call('getpid').value, 15);
          else if (o.kind === 'exit' && x.p !== c.p) x.call('_exit', 1);
          else if (o.kind === 'wait') x.call('waitpid', -1, 1);
        }
        // Everyone but the first exits, children first; every parent reaps.
        for (let round = 0; round < 20 && live(c).length > 1; round++) {
          for (const x of live(c).reverse()) if (x.p !== c.p && x.k.state.cygwin.byWinpid.get(x.p.pid)!.children.size === 0) x.call('_exit', 0);
          for (const x of [...live(c)]) while (x.call('waitpid', -1, 1).value > 0);
        }
        while (c.call('waitpid', -1, 1).value > 0);
        c.call('_exit', 0);
        expect(c.k.processes.size).toBe(baseline);
        expect(c.k.state.commitCharge).toBe(commitBaseline);
        expect(c.k.state.cygwin.byPid.size).toBe(0);
        expect(c.k.state.namedSections.size).toBe(0);
      }),
      { numRuns: 25, seed: 42 },
    );
  });
});
