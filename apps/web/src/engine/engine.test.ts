import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Engine } from './engine.js';
import type { Reply } from './protocol.js';

const repo = fileURLToPath(new URL('../../../../', import.meta.url));
const lectureFork = readFileSync(`${repo}examples/lecture-fork.yaml`, 'utf8');

function state(r: Reply): Extract<Reply, { type: 'state' }> {
  if (r.type !== 'state') throw new Error(`expected a state, got ${JSON.stringify(r)}`);
  return r;
}

describe('Engine (what the worker runs)', () => {
  it('steps two personalities in lock-step and stops at the next fork, exec or fault', async () => {
    const e = new Engine();
    const loaded = state(await e.handle({ type: 'load', yaml: lectureFork, file: 'lecture-fork.yaml', personalities: ['linux-6.x', 'linux-5.15'], seed: 1, step: 0 }));
    expect(loaded.sides.map((s) => s.snapshot.personality)).toEqual(['linux-6.x', 'linux-5.15']);
    expect(loaded.step).toBe(0);
    // mmap (no fault), then the store faults: "next event" stops after it.
    expect(state(await e.handle({ type: 'run', until: 'event' })).step).toBe(2);
    const fork = state(await e.handle({ type: 'run', until: 'event' }));
    expect(fork.step).toBe(3);
    expect(fork.sides.every((s) => s.snapshot.log.at(-1)?.kind === 'fork')).toBe(true);
    expect(fork.sides[0]!.series.step).toEqual([0, 1, 2, 3]);
    const end = state(await e.handle({ type: 'run', until: 'end' }));
    expect(end.sides.every((s) => s.snapshot.ending === 'done')).toBe(true);
    expect(end.sides[0]!.series.faults.at(-1)).toBeGreaterThanOrEqual(2);
  });

  it('replays to a linked step, and refuses an unknown personality or a bad workload with the reason', async () => {
    const e = new Engine();
    expect(state(await e.handle({ type: 'load', yaml: lectureFork, file: 'f.yaml', personalities: ['linux'], seed: 1, step: 4 })).step).toBe(4);
    expect(await e.handle({ type: 'load', yaml: lectureFork, file: 'f.yaml', personalities: ['plan9'], seed: 1, step: 0 }))
      .toEqual({ type: 'error', message: 'personality "plan9" is not registered (registered: linux-6.x, linux-5.15, freebsd-14, freebsd-14-nosuperpages, windows-11, cygwin)' });
    const bad = await e.handle({ type: 'load', yaml: 'name: x\nprocesses: 3\n', file: 'x.yaml', personalities: ['linux'], seed: 1, step: 0 });
    expect(bad.type === 'error' && bad.message).toMatch(/^x\.yaml:2:/);
  });

  it('walks a page of a live process and says why it cannot for a process that has exited', async () => {
    const e = new Engine();
    const s = state(await e.handle({ type: 'load', yaml: lectureFork, file: 'f.yaml', personalities: ['linux'], seed: 1, step: 2 }));
    const p = s.sides[0]!.snapshot.processes[0]!;
    const w = await e.handle({ type: 'walk', side: 0, pid: p.pid, va: p.areas[0]!.start });
    expect(w.type === 'walk' && w.walk?.pa).toBeGreaterThan(0);
    expect(await e.handle({ type: 'walk', side: 0, pid: 999, va: 0 })).toMatchObject({ type: 'walk', walk: null, error: 'no process 999' });
  });

  it('shows a dropped static ELF\'s segments and the address space execve gives it', async () => {
    const bytes = new Uint8Array(readFileSync(`${repo}packages/formats/elf/test/fixtures/static-x86_64.elf`));
    const e = new Engine();
    const s = state(await e.handle({ type: 'binary', name: 'static-x86_64.elf', bytes, personalities: ['linux-6.x'], seed: 1 }));
    expect(s.binary?.format).toBe('elf');
    expect(s.binary?.segments.length).toBeGreaterThan(0);
    const snap = s.sides[0]!.snapshot;
    expect(snap.log[0]?.result).toBe('0x0 (/static-x86_64.elf)');
    const maps = snap.processes[0]!.views.find((v) => v.name === 'maps')?.text ?? '';
    expect(maps).toContain('/static-x86_64.elf');
    expect(maps).toContain('[stack]');
    expect(snap.processes[0]!.areas.length).toBeGreaterThanOrEqual(4);
  });

  it('reports a file that is not a program as the loader does', async () => {
    const e = new Engine();
    const r = await e.handle({ type: 'binary', name: 'notes.txt', bytes: new TextEncoder().encode('just text'), personalities: ['linux'], seed: 1 });
    expect(r).toEqual({ type: 'error', message: expect.stringMatching(/^notes\.txt: .*exec format error/) as unknown });
  });
});
