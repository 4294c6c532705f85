import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseWorkload } from '@polykernel/workload';
import { describe, expect, it } from 'vitest';
import { resolveWebPersonality, type ResolvedWebPersonality } from './registry.js';
import { WebSession } from './session.js';
import { snapshot, walkFor } from './snapshot.js';

const examples = fileURLToPath(new URL('../../../../examples/', import.meta.url));
const lectureFork = parseWorkload(readFileSync(`${examples}lecture-fork.yaml`, 'utf8'), 'lecture-fork.yaml');

function linux(variant = 'linux-6.x'): ResolvedWebPersonality {
  const r = resolveWebPersonality(variant);
  if (r === undefined) throw new Error(`${variant} not registered`);
  return r;
}

function dataFrames(s: WebSession, pids: number[]): ReturnType<typeof snapshot>['frames'] {
  return snapshot(s).frames.filter((f) => f.pids.some((p) => pids.includes(p)));
}

describe('WebSession on the lecture fork example', () => {
  it('steps through the fork: the data page is shared copy-on-write, then splits on the child\'s store', async () => {
    const s = new WebSession(lectureFork, linux());
    const lines = [];
    for (let l = await s.next(); l !== null && l.kind !== 'fork'; l = await s.next()) lines.push(l);
    expect(lines.map((l) => l.kind)).toEqual(['mmap', 'store']);
    // The fork step itself has now run (the loop stopped on it).
    const atFork = snapshot(s);
    expect(atFork.log.at(-1)?.result).toMatch(/^pid \d+ \(child\)$/);
    const [parent, child] = atFork.processes;
    expect(child?.name).toBe('child');
    expect(atFork.lastFork).toMatchObject({ pid: parent!.pid, child: child!.pid });
    expect(atFork.lastFork!.ptes).toBeGreaterThan(0);
    expect(atFork.log.at(-1)?.step).toBe('fork as=child steps=[4 steps]');
    expect(atFork.log[0]?.step).toBe('mmap name=data length=0x1000 prot=rw- flags=[private,anonymous]');
    const shared = atFork.frames.filter((f) => f.state === 'shared-cow');
    expect(shared.length).toBeGreaterThan(0);
    expect(shared.every((f) => f.pids.includes(parent!.pid) && f.pids.includes(child!.pid))).toBe(true);

    // Run until the child's store, which faults (COW) and gets its own copy.
    let store = await s.next();
    while (store !== null && !(store.process === 'child' && store.kind === 'store')) store = await s.next();
    expect(store?.faults).toBeGreaterThan(0);
    const after = snapshot(s);
    const childOnly = after.frames.filter((f) => f.state === 'private' && f.pids.length === 1 && f.pids[0] === child!.pid);
    expect(childOnly.length).toBeGreaterThanOrEqual(1);
    expect(after.frames.filter((f) => f.state === 'shared-cow').length).toBeLessThan(shared.length + 1);
    expect(dataFrames(s, [child!.pid]).length).toBeGreaterThan(0);
  });

  it('runs to the end with the CLI\'s results: the child reads 200, the parent still 100', async () => {
    const s = new WebSession(lectureFork, linux());
    while (await s.next() !== null);
    expect(s.ending).toBe('done');
    const loads = s.log.filter((l) => l.kind === 'load').map((l) => `${l.process}: ${l.result}`);
    expect(loads).toEqual(['child: value 100', 'child: value 200', 'parent: value 100']);
    expect(s.log.find((l) => l.kind === 'wait')?.result).toMatch(/^pid \d+ \(child\) status 0x0 WIFEXITED WEXITSTATUS=0$/);
  });

  it('shows the address space from the maps view and walks the page table to the mapped frame', async () => {
    const s = new WebSession(lectureFork, linux('linux-5.15'));
    await s.next();
    await s.next();
    const snap = snapshot(s);
    const p = snap.processes[0]!;
    expect(p.areasFrom).toBe('maps');
    expect(p.views.map((v) => v.name)).toContain('maps');
    const area = p.areas[0]!;
    expect(area.end - area.start).toBe(4096);
    const proc = s.processes()[0]!.proc;
    const walk = walkFor(s.k, proc, area.start);
    expect(walk.levels.length).toBe(4);
    expect(walk.levels.at(-1)?.leaf).toBe(true);
    expect(walk.pa).not.toBeNull();
    expect(snap.frames.some((f) => f.frame === walk.levels.at(-1)!.frame)).toBe(true);
    // An address nothing maps ends at a not-present entry.
    expect(walkFor(s.k, proc, 0x1000).pa).toBeNull();
    expect(snap.tlb.length).toBeGreaterThan(0);
    expect(snap.metrics.find((m) => m.path === 'syscalls')?.value).toBe(1);
  });

  it('reports every portable step of a personality without a portable driver as n/a, naming it', async () => {
    const base = resolveWebPersonality('freebsd-14')!;
    const withoutDriver: ResolvedWebPersonality = {
      variant: base.variant,
      entry: { ...base.entry, create: (o) => { const { portable: _driver, ...rest } = base.entry.create(o); return rest; } },
    };
    const portableFork = parseWorkload(readFileSync(`${examples}portable/lecture-fork.yaml`, 'utf8'), 'lecture-fork.yaml');
    const s = new WebSession(portableFork, withoutDriver);
    while (await s.next() !== null);
    expect(s.log.find((l) => l.kind === 'fork')?.result).toBe('n/a: freebsd-14 has no portable driver (Personality.portable)');
    // Every step is n/a (no child was made), each listed for the comparison.
    expect(s.log.length).toBeGreaterThan(1);
    expect(s.unsupported).toEqual(s.log);
    expect(s.ending).toBe('done');
  });

  it('says when the workload stalls: a parent waiting for a child that stopped itself', async () => {
    const w = parseWorkload([
      'name: stall', 'processes:', '  - name: parent', '    steps:',
      '      - fork: { as: kid, steps: [{ kill: { process: self, signal: SIGSTOP } }, { exit: 0 }] }',
      '      - wait: { for: kid }', '',
    ].join('\n'), 'stall.yaml');
    const s = new WebSession(w, linux());
    while (await s.next() !== null);
    expect(s.ending).toMatch(/^stalled: no process can run — parent\[\d+\] \(blocked\) at step 2, kid\[\d+\] \(suspended\) at step 2 /);
    expect(s.log.map((l) => l.kind)).toEqual(['fork', 'kill']);
  });

  it('maps only the files it was given: the browser has no others', async () => {
    const w = parseWorkload('name: f\nprocesses:\n  - name: a\n    steps:\n      - mmap: { name: m, file: x.bin, length: 4K, prot: r--, flags: [private] }\n', 'f.yaml');
    expect((await new WebSession(w, linux()).next())?.result).toMatch(/^error: file x\.bin: No such file \(a mapped file must be a regular file/);
    const given = new WebSession(w, linux(), { files: { '/x.bin': new Uint8Array(4096).fill(7) } });
    expect((await given.next())?.result).toMatch(/^0x7f/);
  });
});
