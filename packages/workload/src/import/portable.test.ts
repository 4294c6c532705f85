import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseWorkload } from '../load.js';
import { nativeSteps } from '../schema.js';
import { portableWorkload } from './portable.js';
import { importStraceText, type ImportedStep } from './strace.js';
import { workloadYaml } from './yaml.js';
import { allSteps, kind, real, REAL } from '../../test/real-logs.js';

describe('portable form of the real logs (import strace --portable)', () => {
  const logs = readdirSync(REAL).filter((f) => f.endsWith('.strace'));

  it.each(logs)('%s: only portable steps, every native step a portable step or a counted no-op, host results aligned', (name) => {
    const r = importStraceText(real(name), name);
    const p = portableWorkload(r.workload, r.host);
    const w = parseWorkload(workloadYaml(p.workload, p.host), `${name}.yaml`);
    expect(nativeSteps(w)).toEqual([]);
    const written = p.workload.processes.flatMap((x) => allSteps(x.steps)).length;
    expect(p.steps).toBe(written);
    expect(p.steps + p.noops.reduce((n, s) => n + s.count, 0)).toBe(r.steps);
    // Every step still has the host's result of the call it replays.
    expect([...p.host.values()].reduce((n, l) => n + l.length, 0)).toBe(written);
    for (const n of p.noops) expect(n.reason).not.toBe('');
  });

  it('forker: fork + execve of /bin/true is one spawn; the anonymous mmaps are allocs and their whole munmaps frees', () => {
    const r = importStraceText(real('forker.strace'), 'forker.strace');
    const p = portableWorkload(r.workload, r.host);
    const steps = p.workload.processes[0]!.steps;
    const spawn = steps.find((s) => kind(s) === 'spawn')!.spawn as { path: string; argv: string[]; as: string; steps: ImportedStep[] };
    expect(spawn).toMatchObject({ path: '/bin/true', argv: ['true'], as: r.processes[1]!.name });
    // The child's own steps after its execve: its exit.
    expect(spawn.steps.at(-1)).toEqual({ exit: 0 });
    expect(steps.filter((s) => kind(s) === 'fork')).toEqual([]);
    expect(steps.some((s) => kind(s) === 'alloc' && (s.alloc as { size: number }).size === 1 << 20)).toBe(true);
    // forker.c protects one page of its 1 MiB mapping and unmaps half of it: parts, so no-ops.
    expect(p.noops.find((n) => n.call === 'mprotect' && n.reason.startsWith('protects part'))).toBeDefined();
    expect(p.noops.find((n) => n.call === 'munmap' && n.reason.startsWith('unmaps part'))).toBeDefined();
    expect(p.noops.find((n) => n.reason.startsWith('the execve a spawn makes'))?.count).toBe(1);
    // The 64 TiB MAP_NORESERVE reservation: an alloc would commit it (ENOMEM), so it is a no-op.
    expect(p.noops.find((n) => n.call === 'mmap' && n.reason.startsWith('MAP_NORESERVE'))?.count).toBe(1);
    expect(steps.find((s) => kind(s) === 'wait')).toEqual({ wait: { for: spawn.as } });
  });

  it('libraries: ld.so\'s reservation is a mapFile of the library; its MAP_FIXED segments are no-ops', () => {
    const r = importStraceText(real('true.strace'), 'true.strace');
    const p = portableWorkload(r.workload, r.host);
    const maps = p.workload.processes[0]!.steps.filter((s) => kind(s) === 'mapFile').map((s) => s.mapFile as { name: string; path: string });
    expect(maps.some((m) => m.path.endsWith('libc.so.6'))).toBe(true);
    expect(p.noops.find((n) => n.call === 'mmap' && n.reason.startsWith('MAP_FIXED'))!.count).toBeGreaterThan(0);
    expect(p.workload.processes[0]!.steps.at(-1)).toEqual({ exit: 0 });
  });

  it('pipeline: the shell\'s wait4(-1) calls wait for the child the host\'s call collected, by name', () => {
    const r = importStraceText(real('pipeline.strace'), 'pipeline.strace');
    const p = portableWorkload(r.workload, r.host);
    const steps = p.workload.processes[0]!.steps;
    const spawned = steps.filter((s) => kind(s) === 'spawn').map((s) => (s.spawn as { as: string }).as);
    expect(steps.filter((s) => kind(s) === 'wait')).toEqual(spawned.map((as) => ({ wait: { for: as } })));
  });

  it('a spawned child\'s own children keep their steps and host results', () => {
    const log = [
      '100 execve("/bin/sh", ["sh"], 0x7ffd12345678 /* 1 var */) = 0',
      '100 fork() = 101',
      '101 execve("/bin/prog", ["prog"], 0x7ffd12345678 /* 1 var */) = 0',
      '101 fork() = 102',
      '102 exit_group(3) = ?',
      '101 wait4(102, NULL, 0, NULL) = 102',
      '101 exit_group(0) = ?',
      '100 wait4(-1, NULL, 0, NULL) = 101',
      '100 exit_group(0) = ?',
    ].join('\n');
    const r = importStraceText(log, 'log');
    const p = portableWorkload(r.workload, r.host);
    expect(p.workload.processes[0]!.steps).toEqual([
      { exec: { path: '/bin/sh', argv: ['sh'] } },
      { spawn: { path: '/bin/prog', argv: ['prog'], as: 'pid101', steps: [{ fork: { as: 'pid102', steps: [{ exit: 3 }] } }, { wait: { for: 'pid102' } }, { exit: 0 }] } },
      { wait: { for: 'pid101' } },
      { exit: 0 },
    ]);
    expect(p.host.get('pid102')!.map((h) => h.call)).toEqual(['exit_group']);
    expect(p.host.get('pid101')!.map((h) => h.call)).toEqual(['fork', 'wait4', 'exit_group']);
  });

  it('threads: a clone with CLONE_VM is a no-op with every call of the thread', () => {
    const r = importStraceText(real('threads.strace'), 'threads.strace');
    const p = portableWorkload(r.workload, r.host);
    expect(allSteps(p.workload.processes[0]!.steps).some((s) => kind(s) === 'fork' || kind(s) === 'spawn')).toBe(false);
    expect(p.noops.find((n) => n.reason.startsWith('a thread'))!.count).toBeGreaterThan(0);
  });
});
