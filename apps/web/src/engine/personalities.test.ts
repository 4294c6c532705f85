/**
 * Every personality the CLI offers, in the visualizer: the same portable workload stepped through
 * each kernel's own portable driver, each process's map from that kernel's own view (Linux's and
 * Cygwin's /proc/<pid>/maps, FreeBSD's procstat -v, Windows' VirtualQuery walk), steps a kernel
 * cannot do as n/a with the reason, and the comparison table with `polykernel compare`'s figures.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { foreignStepsNa } from '@polykernel/runner';
import { parseWorkload } from '@polykernel/workload';
import { describe, expect, it } from 'vitest';
import { compareModel } from './compare.js';
import { Engine } from './engine.js';
import type { Reply } from './protocol.js';
import { allVariants, resolveWebPersonality, type ResolvedWebPersonality } from './registry.js';
import { WebSession } from './session.js';
import { snapshot } from './snapshot.js';

const examples = fileURLToPath(new URL('../../../../examples/', import.meta.url));
const text = (name: string): string => readFileSync(`${examples}${name}.yaml`, 'utf8');
const workload = (name: string): ReturnType<typeof parseWorkload> => parseWorkload(text(name), `${name}.yaml`);

function resolved(variant: string): ResolvedWebPersonality {
  const r = resolveWebPersonality(variant);
  if (r === undefined) throw new Error(`${variant} is not registered`);
  return r;
}

async function runToEnd(name: string, variant: string): Promise<WebSession> {
  const s = new WebSession(workload(name), resolved(variant));
  while (await s.next() !== null);
  return s;
}

function state(r: Reply): Extract<Reply, { type: 'state' }> {
  if (r.type !== 'state') throw new Error(`expected a state, got ${JSON.stringify(r)}`);
  return r;
}

/** Each kernel's own region view: its name, its title for the process, and a line of it that shows the allocated page. */
const REGION_VIEWS: Record<string, { view: string; title: RegExp; line: (addr: number) => RegExp }> = {
  linux: { view: 'maps', title: /^\/proc\/\d+\/maps$/, line: (a) => new RegExp(`^${a.toString(16)}-${(a + 4096).toString(16)} rw-p 00000000 00:00 0`, 'm') },
  freebsd: { view: 'procstat-v', title: /^procstat -v \d+$/, line: (a) => new RegExp(`^ +\\d+ +0x${a.toString(16)} +0x${(a + 4096).toString(16)} rw- `, 'm') },
  cygwin: { view: 'maps', title: /^\/proc\/\d+\/maps \(Cygwin\)$/, line: (a) => new RegExp(`^${a.toString(16).padStart(9, '0')}-[0-9a-f]+ rw-p `, 'm') },
  windows: { view: 'address', title: /^WinDbg !address/, line: (a) => new RegExp(`^\\+ +0\`${a.toString(16).padStart(8, '0')} .* MEM_PRIVATE +MEM_COMMIT +PAGE_READWRITE`, 'm') },
};

describe('the visualizer offers every personality the CLI offers', () => {
  it('registers the CLI\'s variants', () => {
    expect(allVariants()).toEqual(['linux-6.x', 'linux-5.15', 'freebsd-14', 'freebsd-14-nosuperpages', 'windows-11', 'cygwin']);
    expect(resolveWebPersonality('windows')?.variant).toBe('windows-11');
    expect(resolveWebPersonality('freebsd')?.variant).toBe('freebsd-14');
  });

  for (const variant of allVariants()) {
    it(`${variant}: the portable lecture fork through its own driver, its map in its own view`, async () => {
      const s = await runToEnd('portable/lecture-fork', variant);
      const family = s.personality.entry.name;
      expect(s.ending).toBe('done');
      const loads = s.log.filter((l) => l.kind === 'load').map((l) => `${l.process}: ${l.result}`);
      if (family === 'windows') {
        // Win32 has no fork: the step says so and nothing is made up; the parent's own page is untouched.
        expect(s.log.find((l) => l.kind === 'fork')?.result).toMatch(/^n\/a: Win32 has no fork/);
        expect(s.unsupported.map((l) => l.kind)).toEqual(['fork']);
        expect(loads).toEqual(['parent: value 100']);
      } else {
        expect(loads).toEqual(['child: value 100', 'child: value 200', 'parent: value 100']);
        // Linux's wait is wait4 itself (the CLI's text); the other kernels' goes through their driver.
        expect(s.log.find((l) => l.kind === 'wait')?.result).toMatch(family === 'linux' ? /^pid \d+ \(child\) status 0x0 WIFEXITED WEXITSTATUS=0$/ : /^pid \d+ \(child\) status 0x0: exit 0$/);
        expect(s.unsupported).toEqual([]);
      }
      const addr = Number.parseInt(/^0x([0-9a-f]+)$/.exec(s.log[0]!.result)?.[1] ?? 'NaN', 16);
      expect(addr).toBeGreaterThan(0);
      const parent = snapshot(s).processes[0]!;
      const spec = REGION_VIEWS[family]!;
      // The region view comes first and gives the address map its areas.
      expect(parent.views[0]?.name).toBe(spec.view);
      expect(parent.views[0]?.title).toMatch(spec.title);
      expect(parent.views[0]?.text).toMatch(spec.line(addr));
      expect(parent.areasFrom).toBe(spec.view);
      const area = parent.areas.find((a) => a.start <= addr && addr < a.end);
      expect(area?.perms).toMatch(/^rw-/);
    });
  }

  it('FreeBSD\'s procstat -v is the real layout (header and columns); the page is charged to swap-backed anonymous memory', async () => {
    const parent = snapshot(await runToEnd('portable/lecture-fork', 'freebsd-14')).processes[0]!;
    expect(parent.views[0]?.text).toMatch(/^ {2}PID +START +END PRT +RES PRES REF SHD FLAG +TP PATH\n/);
    expect(parent.areas.map((a) => a.label)).toContain('swap');
  });

  it('the frames show each kernel\'s fork: Linux copies the PTEs, and so does FreeBSD\'s pmap_copy (the page is shared at once, before the child touches it)', async () => {
    const sharedAfter = async (variant: string, steps: number): Promise<number> => {
      const s = new WebSession(workload('portable/lecture-fork'), resolved(variant));
      for (let i = 0; i < steps; i++) await s.next();
      return snapshot(s).frames.filter((f) => f.state === 'shared-cow').length;
    };
    expect(await sharedAfter('linux-6.x', 3)).toBeGreaterThan(0);
    // vm_map_copy_entry → pmap_copy: the child starts with a read-only copy of the parent's PTE.
    expect(await sharedAfter('freebsd-14', 3)).toBe(1);
    expect(await sharedAfter('freebsd-14', 4)).toBe(1);
  });

  it('Windows: a reservation is an area of its own kind, a free range is a gap, and its API steps run by their own names', async () => {
    const s = await runToEnd('windows-virtualalloc', 'windows-11');
    expect(s.log.map((l) => l.result)).toContain('TRUE (old PAGE_READWRITE)');
    expect(s.log.find((l) => l.step.startsWith('VirtualAlloc addr=heap+0x100000'))?.result).toBe('NULL (ERROR_INVALID_ADDRESS)');
    const w = parseWorkload('name: r\nprocesses:\n  - name: app\n    steps:\n      - VirtualAlloc: { size: 1M, type: MEM_RESERVE, protect: PAGE_NOACCESS, save: heap }\n      - VirtualAlloc: { addr: { region: heap, offset: 0 }, size: 64K, type: MEM_COMMIT, protect: PAGE_READWRITE }\n', 'r.yaml');
    const r = new WebSession(w, resolved('windows-11'));
    while (await r.next() !== null);
    const areas = snapshot(r).processes[0]!.areas;
    expect(areas.map((a) => [a.end - a.start, a.perms])).toEqual([[0x10000, 'rw-'], [0xf0000, 'reserved']]);
  });

  it('a native step of another kernel is an error naming the kernel it belongs to, on both sides (as polykernel run says it)', async () => {
    const onFreebsd = await runToEnd('lecture-fork', 'freebsd-14');
    expect(onFreebsd.log[0]?.result).toBe('error: mmap is a native step of linux; freebsd-14 runs portable steps only');
    const onLinux = await runToEnd('windows-virtualalloc', 'linux-6.x');
    expect(onLinux.log[0]?.result).toBe('error: VirtualAlloc is a native step of windows; linux-6.x cannot run it');
  });

  it('a step the driver cannot do is n/a; a native failure is the kernel\'s own error in its own space', async () => {
    const w = parseWorkload('name: s\nprocesses:\n  - name: sh\n    steps:\n      - spawn: { path: /bin/true }\n      - exec: { path: /bin/true }\n', 's.yaml');
    const results = async (variant: string): Promise<string[]> => {
      const s = new WebSession(w, resolved(variant));
      while (await s.next() !== null);
      return s.log.map((l) => l.result);
    };
    // The browser has no /bin/true: each kernel refuses it its own way.
    // (Linux's exec step is execve itself, as polykernel run makes it: the errno as the call returns it.)
    expect(await results('linux-6.x')).toEqual(['ENOENT (execve)', '-ENOENT']);
    expect(await results('windows-11')).toEqual(['ERROR_FILE_NOT_FOUND (CreateProcessW)', 'n/a: a Win32 process cannot replace its image: CreateProcess + ExitProcess is spawn']);
    expect((await results('cygwin'))[0]).toBe('ENOENT (spawnve)');
  });
});

describe('the comparison', () => {
  it('has polykernel compare\'s figures for the portable lecture fork (linux-6.x against linux-5.15)', async () => {
    const c = compareModel([await runToEnd('portable/lecture-fork', 'linux-6.x'), await runToEnd('portable/lecture-fork', 'linux-5.15')]);
    const row = (label: string): string[] => c.rows.find((r) => r.label === label)?.cells.map((x) => x.text) ?? [];
    // The same figures apps/cli/src/compare.test.ts asserts for `polykernel compare`: one code path.
    expect(row('system calls')).toEqual(['4', '4  ×1.00']);
    expect(row('faults: cow')).toEqual(['1', '1  ×1.00']);
    expect(row('index nodes visited')).toEqual(['17', '15  ×0.88']);
    expect(c.rows.some((r) => r.label === 'faults: swapIn')).toBe(false);
    expect(c.variants).toEqual(['linux-6.x', 'linux-5.15']);
  });

  it('Cygwin\'s fork copies what Linux\'s shares: pages copied and bytes across processes; a field a kernel does not model is "—"', async () => {
    const c = compareModel([await runToEnd('cygwin-fork', 'linux-6.x'), await runToEnd('cygwin-fork', 'cygwin')]);
    const row = (label: string): (number | null)[] => c.rows.find((r) => r.label === label)?.cells.map((x) => x.value) ?? [];
    expect(row('faults: cow')[0]).toBe(41);
    expect(row('bytes copied across processes')[0]).toBeNull();
    expect(row('bytes copied across processes')[1]).toBeGreaterThanOrEqual(16 * 1024 ** 2);
    expect(c.rows.find((r) => r.label === 'bytes copied across processes')?.cells[0]?.text).toBe('—');
  });

  it('lists each column\'s n/a steps and the step results side by side', async () => {
    const c = compareModel([await runToEnd('portable/lecture-fork', 'freebsd-14'), await runToEnd('portable/lecture-fork', 'windows-11')]);
    expect(c.unsupported[0]).toEqual([]);
    expect(c.unsupported[1]).toEqual([expect.stringMatching(/^parent: fork as=child steps=\[4 steps\] -> n\/a: Win32 has no fork/) as unknown]);
    const fork = c.steps.find((r) => r.label.startsWith('parent  fork'));
    expect(fork?.results[0]).toMatch(/^pid \d+ \(child\)$/);
    expect(c.steps.find((r) => r.label.startsWith('child  store'))?.results).toEqual(['ok', '(not reached)']);
  });

  it('a kernel that the workload\'s native steps do not belong to is an n/a column with polykernel compare\'s reason, not an error', async () => {
    const c = compareModel([await runToEnd('lecture-fork', 'linux-6.x'), await runToEnd('lecture-fork', 'freebsd-14')]);
    // The reason apps/cli/src/compare.test.ts asserts for `polykernel compare` (the runner's one rule).
    expect(c.na).toEqual([null, 'native steps of linux (mmap); write them as portable steps']);
    expect(c.na[1]).toBe(foreignStepsNa(workload('lecture-fork'), 'freebsd'));
    expect(c.steps.length).toBeGreaterThan(0);
    for (const r of c.steps) expect(r.results[1]).toBe('n/a');
    expect(c.steps.flatMap((r) => r.results).some((x) => x.startsWith('error:'))).toBe(false);
    expect(c.unsupported).toEqual([[], []]);
    expect(c.rows.find((r) => r.label === 'system calls')?.cells.map((x) => x.text)).toEqual(['4', 'n/a']);
    // The n/a column first: the ratios are to the first column that ran.
    const w = compareModel([await runToEnd('windows-virtualalloc', 'linux-6.x'), await runToEnd('windows-virtualalloc', 'windows-11')]);
    expect(w.na[0]).toBe('native steps of windows (VirtualAlloc and 9 more); write them as portable steps');
    expect(w.na[1]).toBeNull();
    const calls = w.rows.find((r) => r.label === 'system calls')?.cells;
    expect(calls?.[0]).toEqual({ value: null, ratio: null, text: 'n/a' });
    expect(calls?.[1]?.ratio).toBeNull();
  });

  it('looking does not change the figures: a snapshot after every step leaves the metrics as a run without one', async () => {
    for (const variant of ['linux-6.x', 'freebsd-14', 'cygwin']) {
      const plain = await runToEnd('portable/lecture-fork', variant);
      const watched = new WebSession(workload('portable/lecture-fork'), resolved(variant));
      snapshot(watched);
      while (await watched.next() !== null) snapshot(watched);
      expect(watched.k.metrics.snapshot()).toEqual(plain.k.metrics.snapshot());
    }
  });

  it('"next event" stops at a spawn as at a fork, on each kernel its own way', async () => {
    const e = new Engine();
    state(await e.handle({ type: 'load', yaml: text('portable/fork-exec-storm'), file: 'storm.yaml', personalities: ['windows-11', 'cygwin'], seed: 1, step: 0 }));
    // alloc, then the touch faults: the first stop.
    expect(state(await e.handle({ type: 'run', until: 'event' })).step).toBe(2);
    const spawn = state(await e.handle({ type: 'run', until: 'event' }));
    expect(spawn.step).toBe(3);
    expect(spawn.sides.map((s) => s.snapshot.log.at(-1)?.result)).toEqual(['ERROR_FILE_NOT_FOUND (CreateProcessW)', 'ENOENT (spawnve)']);
  });

  it('the engine steps two personalities in lock-step and sends the comparison with every state', async () => {
    const e = new Engine();
    const one = state(await e.handle({ type: 'load', yaml: text('portable/lecture-fork'), file: 'lecture-fork.yaml', personalities: ['linux-6.x'], seed: 1, step: 0 }));
    expect(one.compare).toBeNull();
    const two = state(await e.handle({ type: 'load', yaml: text('portable/lecture-fork'), file: 'lecture-fork.yaml', personalities: ['freebsd-14-nosuperpages', 'cygwin'], seed: 1, step: 3 }));
    expect(two.sides.map((s) => s.snapshot.personality)).toEqual(['freebsd-14-nosuperpages', 'cygwin']);
    expect(two.compare?.variants).toEqual(['freebsd-14-nosuperpages', 'cygwin']);
    expect(two.compare?.steps.map((r) => r.label.split('  ')[0])).toEqual(['parent', 'parent', 'parent']);
    const end = state(await e.handle({ type: 'run', until: 'end' }));
    expect(end.compare?.rows.find((r) => r.label === 'processes created')?.cells.map((c) => c.value)).toEqual([3, 3]);
  });
});
