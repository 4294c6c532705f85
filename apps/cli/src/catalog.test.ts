import { describe, expect, it } from 'vitest';
import { TOY_ENTRY } from '../test/toy.js';
import { runPersonalities, type PersonalityInfo } from './catalog.js';
import { PERSONALITIES } from './personalities.js';

function list(opts: Record<string, boolean | undefined> = {}, registry = [...PERSONALITIES, TOY_ENTRY]): { code: number; out: string } {
  let out = '';
  const code = runPersonalities(opts, (s) => (out += s + '\n'), registry);
  return { code, out };
}

describe('polykernel personalities', () => {
  it('lists every registered personality with its variants, model, calls, views and commands', () => {
    const r = list();
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^linux: Linux: /m);
    expect(r.out).toMatch(/^ {2}variants +linux-6\.x \(default\), linux-5\.15$/m);
    expect(r.out).toMatch(/^ {2}error space +linux$/m);
    expect(r.out).toMatch(/^ {2}calls +x86_64: \d+ traps$/m);
    expect(r.out).toContain('maps (/proc/<pid>/maps)');
    expect(r.out).toMatch(/^ {2}commands +run \(every workload step\), exec \(ELF programs and #! scripts\), explain/m);
    expect(r.out).toMatch(/^toyos: A toy for the CLI tests\.$/m);
    expect(r.out).toMatch(/^ {2}variants +toyos-1 \(default\), toyos-2$/m);
    expect(r.out).toMatch(/^ {2}process model +boot process init; orphans are re-parented to init; init reaps its zombie children at once; an exited process stays a zombie until its parent waits$/m);
    expect(r.out).toMatch(/^ {2}calls +syscalls: 2 traps; libtoy: 1 library call$/m);
    expect(r.out).toMatch(/^ {2}views +ps \(ps -p <pid>\), maps \(toy maps of <pid>\)$/m);
    expect(r.out).toMatch(/^ {2}commands +run \(boots it and creates the workload's processes; steps are n\/a/m);
    expect(r.out).toContain('3 personalities registered. A new one: npx nx g @polykernel/tools:personality <name>');
  });

  it('--json: one object per personality', () => {
    const infos = JSON.parse(list({ json: true }).out) as PersonalityInfo[];
    expect(infos.map((i) => i.name)).toEqual(['linux', 'freebsd', 'toyos']);
    const linux = infos[0]!;
    expect(linux).toMatchObject({ variants: ['linux-6.x', 'linux-5.15'], defaultVariant: 'linux-6.x', errorSpace: 'linux', processModel: { bootComm: 'init', lifetime: 'wait' } });
    expect(linux.calls[0]!.trap).toBeGreaterThan(20);
    expect(linux.commands.map((c) => c.command)).toEqual(['run', 'exec', 'explain']);
    const { commands, ...toy } = infos[2]!;
    expect(toy).toEqual({
      name: 'toyos', description: 'A toy for the CLI tests.', variants: ['toyos-1', 'toyos-2'], defaultVariant: 'toyos-1',
      version: '1.0', defaultProfile: 'x86-64', errorSpace: 'freebsd',
      processModel: { bootComm: 'init', adoptsOrphans: true, bootReaps: true, lifetime: 'wait' },
      calls: [{ table: 'syscalls', trap: 2, library: 0 }, { table: 'libtoy', trap: 0, library: 1 }],
      signals: ['SIGKILL', 'SIGSEGV'],
      views: [{ name: 'ps', title: 'ps -p <pid>' }, { name: 'maps', title: 'toy maps of <pid>' }],
      metricsFilled: ['processesCreated'],
    });
    expect(commands).toHaveLength(1);
    expect(commands[0]!.command).toBe('run');
    expect(commands[0]!.support).toContain('steps are n/a');
  });
});
