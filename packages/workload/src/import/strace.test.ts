import { readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseWorkload } from '../load.js';
import { importStraceText, StraceError, StraceImporter, type ImportedStep } from './strace.js';
import { workloadYaml } from './yaml.js';
import { allSteps, kind, real, REAL } from '../../test/real-logs.js';

describe('importing the real logs recorded here (examples/real/record.sh)', () => {
  const logs = readdirSync(REAL).filter((f) => f.endsWith('.strace'));

  it.each(logs)('%s imports into a workload the loader accepts, every call accounted for', (name) => {
    const r = importStraceText(real(name), name);
    expect(r.issues).toEqual([]);
    const w = parseWorkload(workloadYaml(r.workload, r.host), `${name}.yaml`);
    expect(w.processes.length).toBeGreaterThan(0);
    // The host field: each process's results, one per step, as the importer kept them.
    for (const [proc, list] of r.host) {
      if (list.length === 0) continue;
      expect(w.host?.[proc]).toEqual(list.map((h) => ({ at: `${h.file}:${h.line}`, call: h.call, result: h.result, ok: h.ok })));
    }
    // Every complete call is a step or a counted skip.
    expect(r.steps + r.skipped.reduce((n, s) => n + s.count, 0)).toBe(r.calls);
    // The first process starts with the program's execve.
    expect(kind(r.workload.processes[0]!.steps[0]!)).toBe('exec');
    for (const p of r.processes) expect(r.host.get(p.name)!.length).toBe(p.steps);
  });

  it('forker: the child is the fork step\'s own steps; addresses are places in the mapping that returned them', () => {
    const r = importStraceText(real('forker.strace'), 'forker.strace');
    expect(r.workload.processes).toHaveLength(1);
    const [parent, child] = r.processes;
    expect(child!.parent).toBe(parent!.pid);
    const steps = r.workload.processes[0]!.steps;
    const fork = steps.find((s) => kind(s) === 'fork')!.fork as { as: string; steps: ImportedStep[] };
    expect(fork.as).toBe(child!.name);
    expect(fork.steps[0]).toEqual({ exec: { path: '/bin/true', argv: ['true'] } });
    // forker.c: a 1 MiB mapping, its first page made read-only, its second half unmapped.
    const big = steps.find((s) => kind(s) === 'mmap' && (s.mmap as { length: number }).length === 1 << 20)!.mmap as { name: string };
    expect(steps).toContainEqual({ mprotect: { region: big.name, offset: 0, length: 4096, prot: 'r--' } });
    expect(steps).toContainEqual({ munmap: { region: big.name, offset: 0x80000, length: 0x80000 } });
    // ld.so's MAP_FIXED segments land inside libc's reservation, at the same offsets.
    expect(steps).toContainEqual({ mmap: expect.objectContaining({ addr: { region: 'libc.so.6', offset: 0x26000 }, prot: 'r-x', flags: ['private', 'fixed'], offset: 0x26000 }) as unknown });
    expect(steps.at(-3)).toEqual({ wait: { for: child!.name } });
    expect(r.host.get(parent!.name)!.at(-3)).toMatchObject({ call: 'wait4', ok: true, result: String(child!.pid) });
  });

  it('-ff files (one per pid, no prefixes) give the same workload as the -f log of the same program', () => {
    const files = readdirSync(REAL).filter((f) => f.startsWith('forker-ff.strace.')).sort();
    const imp = new StraceImporter();
    for (const f of files) real(f).split('\n').forEach((l, i) => { imp.line(l, f, i + 1, Number(f.split('.').at(-1))); });
    const ff = imp.finish();
    const f = importStraceText(real('forker.strace'), 'forker.strace');
    const shape = (steps: ImportedStep[]): string[] => allSteps(steps).map(kind);
    expect(shape(ff.workload.processes[0]!.steps)).toEqual(shape(f.workload.processes[0]!.steps));
  });

  it('threads: pthread_create\'s clone3 is a clone step with the thread flags; the thread\'s own exit is left to the end of its steps', () => {
    const r = importStraceText(real('threads.strace'), 'threads.strace');
    const clone = r.workload.processes[0]!.steps.find((s) => kind(s) === 'clone')!.clone as { flags: string[]; signal?: string; steps: ImportedStep[] };
    expect(clone.flags).toEqual(['vm', 'fs', 'files', 'sighand', 'thread', 'sysvsem', 'settls', 'parent_settid', 'child_cleartid']);
    expect(clone.signal).toBeUndefined();
    expect(clone.steps.map(kind)).toEqual(['mmap', 'munmap', 'madvise']);
    const stack = clone.steps[2]!.madvise as { region: string };
    // The thread frees its own stack (glibc's advise_stack_range): the stack is the main thread's mmap, named before the clone.
    expect(r.workload.processes[0]!.steps).toContainEqual({ mmap: expect.objectContaining({ name: stack.region, prot: '---' }) as unknown });
    expect(r.skipped).toContainEqual(expect.objectContaining({ call: 'exit', reason: 'a thread\'s exit: the replay ends a thread when its steps run out' }));
  });

  it('pipeline: sh -c "ls | wc -l" gives a shell with two forked children, each exec\'ing its program', () => {
    const r = importStraceText(real('pipeline.strace'), 'pipeline.strace');
    expect(r.processes).toHaveLength(3);
    const forks = r.workload.processes[0]!.steps.filter((s) => kind(s) === 'fork').map((s) => (s.fork as { steps: ImportedStep[] }).steps.find((x) => kind(x) === 'exec'));
    expect(forks.map((e) => (e!.exec as { path: string }).path)).toEqual(['/usr/bin/ls', '/usr/bin/wc']);
    expect(r.signals).toBeGreaterThan(0);
  });
});

const LOG = `100 execve("/bin/x", ["x"], 0x7ffc /* 1 vars */) = 0
100 brk(NULL) = 0x555555559000
100 brk(0x55555557a000) = 0x55555557a000
100 mmap(NULL, 70368744177664, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = -1 ENOMEM (Cannot allocate memory)
100 openat(AT_FDCWD, "/nowhere/lib.so", O_RDONLY|O_CLOEXEC) = 3
100 mmap(NULL, 8192, PROT_READ, MAP_PRIVATE, 3, 0) = 0x7f0000000000
100 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD <unfinished ...>
101 munmap(0x7f0000001000, 4096 <unfinished ...>
100 <... clone resumed>, child_tidptr=0x7f01) = 101
101 <... munmap resumed>) = 0
100 wait4(-1,  <unfinished ...>
101 exit_group(3) = ?
101 +++ exited with 3 +++
100 <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 3}], 0, NULL) = 101
100 --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=101, si_uid=0, si_status=3, si_utime=0, si_stime=0} ---
100 futex(0x7f, FUTEX_WAKE, 1) = 0
100 exit_group(0) = ?
100 +++ exited with 0 +++
`;

describe('importing calls', () => {
  const r = importStraceText(LOG, 'log', { fileExists: (p) => !p.startsWith('/nowhere') });
  const steps = r.workload.processes[0]!.steps;

  it('moves the break relative to where it was, and keeps a failed call with the host\'s error', () => {
    expect(steps[1]).toEqual({ syscall: { name: 'brk', args: [0] } });
    expect(steps[2]).toEqual({ brk: { delta: 0x21000 } });
    expect(steps[3]).toMatchObject({ mmap: { length: 2 ** 46, flags: ['private', 'anonymous'] } });
    expect(r.host.get('pid100')![3]).toMatchObject({ ok: false, result: '-1 ENOMEM (Cannot allocate memory)', line: 4 });
  });

  it('maps a file the sysroot does not have as an anonymous stand-in, with a warning naming the line', () => {
    expect(steps[5]).toEqual({ mmap: { name: 'lib.so-standin', length: 8192, prot: 'r--', flags: ['private', 'anonymous'] } });
    expect(r.warnings).toEqual([{ file: 'log', line: 6, message: '/nowhere/lib.so: not in the sysroot; mapped as anonymous memory instead' }]);
  });

  it('joins unfinished and resumed halves; a child\'s calls printed before its parent\'s clone returns use the parent\'s mappings', () => {
    const fork = steps[6]!.fork as { as: string; steps: ImportedStep[] };
    expect(fork.as).toBe('pid101');
    expect(fork.steps).toEqual([{ munmap: { region: 'lib.so-standin', offset: 4096, length: 4096 } }, { exit: 3 }]);
    expect(steps[7]).toEqual({ wait: {} });
    expect(r.host.get('pid100')![7]).toMatchObject({ ok: true, result: '101', line: 11 });
    expect(r.processes.map((p) => p.end)).toEqual(['exited with 0', 'exited with 3']);
    expect(r.signals).toBe(1);
  });

  it('counts a call with no step, with its reason and first line', () => {
    expect(r.skipped).toEqual([{ call: 'futex', reason: 'no step kind, and the simulated kernels do not implement it', count: 1, file: 'log', line: 16 }]);
  });

  it('wait options become the step\'s; one it cannot say skips the call', () => {
    const w = importStraceText('1 wait4(-1, NULL, WNOHANG|__WALL, NULL) = 0\n1 wait4(-1, NULL, WCONTINUED, NULL) = 0\n', 'w');
    expect(w.workload.processes[0]!.steps).toEqual([{ wait: { options: ['nohang', 'all'] } }]);
    expect(w.skipped[0]).toMatchObject({ call: 'wait4', reason: 'option WCONTINUED has no equivalent in the workload format' });
  });

  it('-y\'s working directory makes a relative open absolute; -yy sockets and pipes are descriptors no open made', () => {
    const log = 'openat(AT_FDCWD</home/me>, "data.txt", O_WRONLY|O_CREAT|O_TRUNC, 0666) = 3</home/me/data.txt>\nclose(4<socket:[1234]>) = 0\nclose(3</home/me/data.txt>) = 0\n';
    const r = importStraceText(log, 'y');
    expect(r.workload.processes[0]!.steps).toEqual([{ open: { path: '/home/me/data.txt', as: 'fd3', flags: ['write', 'create', 'trunc'] } }, { close: { fd: 'fd3' } }]);
    expect(r.skipped[0]).toMatchObject({ call: 'close', line: 2 });
  });

  it('stops after --limit calls', () => {
    const lim = importStraceText(LOG, 'log', { limit: 3 });
    expect(lim.calls).toBe(3);
    expect(lim.limited).toBe(true);
  });
});

describe('bad input', () => {
  const BAD = 'execve("/bin/x", ["x"], 0x0) = 0\nthis is not strace\nclose(3\n<... read resumed>) = 0\nmmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x1000\n';

  it('reports each bad line with its number and goes on', () => {
    const r = importStraceText(BAD, 'bad.log');
    expect(r.issues.map((i) => i.line)).toEqual([2, 3, 4]);
    expect(r.issues[0]!.message).toMatch(/not a line strace prints/);
    expect(r.issues[1]!.message).toMatch(/truncated/);
    expect(r.issues[2]!.message).toMatch(/no unfinished read call/);
    expect(r.steps).toBe(2);
  });

  it('--strict refuses the log at the first bad line, naming the file and line', () => {
    expect(() => importStraceText(BAD, 'bad.log', { strict: true })).toThrow(StraceError);
    expect(() => importStraceText(BAD, 'bad.log', { strict: true })).toThrow('bad.log:2: not a line strace prints: "this is not strace"');
  });

  it('an unfinished call that is never resumed is reported at its own line', () => {
    const r = importStraceText('1 wait4(-1,  <unfinished ...>\n1 close(3) = 0\n', 'l');
    expect(r.issues).toEqual([{ file: 'l', line: 1, message: 'pid 1: this unfinished call is never resumed (another call of the same pid starts at line 2)' }]);
  });

  const lines = real('pipeline.strace').split('\n').slice(0, 120);
  const mutation = fc.oneof(
    fc.record({ op: fc.constant('cut' as const), at: fc.nat(), n: fc.nat(200) }),
    fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: fc.string({ maxLength: 20, unit: fc.constantFrom(...'()[]{}<>",=|. -+?0123456789abcxyzSIGEN\\'.split('')) }) }),
    fc.record({ op: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }),
    fc.record({ op: fc.constant('drop' as const), a: fc.nat() }),
  );
  function mutate(src: string[], ms: readonly (typeof mutation extends fc.Arbitrary<infer T> ? T : never)[]): string[] {
    const out = [...src];
    for (const m of ms) {
      if (m.op === 'cut') {
        const i = m.at % out.length;
        out[i] = out[i]!.slice(0, m.n);
      } else if (m.op === 'insert') {
        const i = m.at % out.length;
        const l = out[i]!;
        const p = m.at % (l.length + 1);
        out[i] = l.slice(0, p) + m.text + l.slice(p);
      } else if (m.op === 'swap') {
        const a = m.a % out.length;
        const b = m.b % out.length;
        [out[a], out[b]] = [out[b]!, out[a]!];
      } else out.splice(m.a % out.length, 1);
    }
    return out;
  }

  it('property: a mutated real log never makes the importer throw; its workload always loads; strict mode throws only StraceError', () => {
    fc.assert(fc.property(fc.array(mutation, { minLength: 1, maxLength: 12 }), (ms) => {
      const text = mutate(lines, ms).join('\n');
      const r = importStraceText(text, 'm.log');
      parseWorkload(workloadYaml(r.workload, r.host), 'm.yaml');
      try {
        importStraceText(text, 'm.log', { strict: true });
      } catch (e) {
        if (!(e instanceof StraceError)) throw e;
      }
    }), { numRuns: 300 });
  });
});
