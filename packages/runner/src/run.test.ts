import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Kernel, startProcess } from '@polykernel/kernel';
import { parseWorkload } from '@polykernel/workload';
import { describe, expect, it } from 'vitest';
import { PERSONALITIES, registeredList, resolvePersonality, type DesignChoices } from './index.js';
import { execute, type Machine } from './node/index.js';

const DD = fileURLToPath(new URL('../../../examples/portable/dd.yaml', import.meta.url));
const TEXT = readFileSync(DD, 'utf8');
const MACHINE: Machine = { frames: 65536, swapSlots: 0, contents: false, sysroot: '/', seed: 1 };
const QUIET = { tick: (): void => undefined, end: (): void => undefined };

async function run(name: string, machine = MACHINE): Promise<Awaited<ReturnType<typeof execute>>> {
  const resolved = resolvePersonality(name)!;
  return execute(parseWorkload(TEXT, DD), TEXT, DD, resolved, machine, {}, () => undefined, QUIET);
}

describe('the registry', () => {
  it('resolves a name to its default variant and a variant to itself; lists what is registered', () => {
    expect(resolvePersonality('linux')?.variant).toBe('linux-6.x');
    expect(resolvePersonality('linux-5.15')?.entry.name).toBe('linux');
    expect(resolvePersonality('freebsd-14-nosuperpages')?.entry.name).toBe('freebsd');
    expect(resolvePersonality('plan9')).toBeUndefined();
    expect(registeredList()).toBe(PERSONALITIES.map((e) => `${e.name} (${e.variants.join(', ')})`).join(', '));
  });

  it('passes a design choice to the personality that offers it', () => {
    const linux = PERSONALITIES.find((e) => e.name === 'linux')!;
    expect(linux.choices).toEqual(['vmaIndex']);
    const visits = (choices: DesignChoices): number => {
      const k = new Kernel<unknown>(linux.create({ variant: 'linux-6.x', fs: () => 'ENOENT', seed: 1, choices }), { frames: 4096, seed: 1 });
      const { thread } = startProcess(k, 'areas');
      // One-page areas with a gap between each (so none merge): the index holds 64 of them.
      for (let i = 0; i < 64; i++) k.syscall(thread, 'mmap', [0x10000000 + i * 0x2000, 4096, 3, 0x22 | 0x10, -1, 0]);
      for (let i = 0; i < 64; i++) k.access(thread, 0x10000000 + i * 0x2000, 1);
      return k.metrics.indexNodesVisited;
    };
    // The sorted list walks from the head on each lookup: far more nodes than the default B-tree.
    expect(visits({ vmaIndex: 'list' })).toBeGreaterThan(2 * visits({}));
  });
});

describe('execute', () => {
  it('runs the portable dd on Linux: the read demand-zeroes the 10 MiB buffer, one fault a page', async () => {
    const r = await run('linux-6.x');
    expect(r.stalled).toBeNull();
    expect(r.session.results.map((s) => s.result)).toContain('10485760 bytes');
    expect(r.k.metrics.faults.zeroFill).toBeGreaterThanOrEqual(2560);
  });

  it('the same workload, machine and seed give the same results and metrics', async () => {
    const [a, b] = [await run('freebsd-14'), await run('freebsd-14')];
    expect(b.session.results).toEqual(a.session.results);
    expect(b.k.metrics.snapshot()).toEqual(a.k.metrics.snapshot());
    expect(a.k.metrics.snapshot()).not.toEqual((await run('linux-5.15')).k.metrics.snapshot());
  });
});

describe('a portable exec that continues in another process (Cygwin\'s execve)', () => {
  const W = `name: exec-continues
processes:
  - name: parent
    steps:
      - fork:
          as: child
          steps:
            - exec: { path: /usr/bin/true.exe }
            - alloc: { name: m, size: 64K, prot: rw- }
            - touch: { region: m, length: 64K, access: write }
            - exit: 5
      - wait: { for: child }
`;
  it('runs the exec\'d program\'s next steps in the new Windows process; the parent reaps the Cygwin PID', async () => {
    const r = await execute(parseWorkload(W, 'exec.yaml'), W, 'exec.yaml', resolvePersonality('cygwin')!, MACHINE, {}, () => undefined, QUIET);
    expect(r.stalled).toBeNull();
    const results = r.session.results.map((s) => `${s.process}: ${s.step} → ${s.result}`);
    const child = r.session.results.filter((s) => s.process === 'child');
    const forked = Number(/pid (\d+)/.exec(r.session.results[0]!.result)![1]);
    // The steps after the exec ran in the new Windows process, not in the forked one (now the stub, ended with it).
    expect(child[0]!.result).toContain('/usr/bin/true.exe + /usr/bin/cygwin1.dll');
    expect(child.every((s) => s.pid !== forked)).toBe(true);
    expect(child[1]!.result).toMatch(/^0x[0-9a-f]+$/);
    expect(child[2]!.result).toBe('0x0');
    expect(r.k.processes.get(forked)?.state ?? 'dead').not.toBe('running');
    expect(results.at(-1)).toMatch(/status 0x500: exit 5/);
  });
});

describe('a stalled run names what holds it', () => {
  const W = `name: stall
processes:
  - name: parent
    steps:
      - fork: { as: kid, steps: [{ kill: { process: self, signal: SIGSTOP } }, { exit: 0 }] }
      - wait: { for: kid }
`;
  it('lists the sleeping parent as blocked and the stopped child as suspended, each with its step', async () => {
    const r = await execute(parseWorkload(W, 'stall.yaml'), W, 'stall.yaml', resolvePersonality('linux-6.x')!, MACHINE, {}, () => undefined, QUIET);
    expect(r.stalled).toMatch(/^stalled: no process can run — parent\[(\d+)\] \(blocked\) at step 2, kid\[(\d+)\] \(suspended\) at step 2 \(/);
  });
});
