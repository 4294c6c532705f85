/**
 * ld.so on small programs and libraries built here with gcc: the search (LD_LIBRARY_PATH with its
 * capability subdirectories, RUNPATH with $ORIGIN, a wrong-class library skipped), lazy binding
 * (a GOT entry read before and after the first call), and the failures — a missing library, an
 * undefined symbol under LD_BIND_NOW — compared with what the host's ld.so does with the same
 * files. Damaged libraries never crash the tool.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KernelError } from '@polykernel/core';
import { RtldError } from '@polykernel/loader';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { requires, runHarness } from '../../../../tools/test-support/oracle.js';
import { glibcProblem } from './host.js';
import { simulate, straceLines } from './rtld-support.js';

const STRACE = fileURLToPath(new URL('../../../../tools/fixtures/rtld/host-strace.sh', import.meta.url));

const problem = (): string | null => glibcProblem([['strace', 'strace']]);

function gcc(...args: string[]): void {
  execFileSync('gcc', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A directory with libx.so.1 (foo, bar, a TLS variable), prog (calls foo and bar lazily) and prog-origin (RUNPATH $ORIGIN/lib). */
function build(): string {
  const d = mkdtempSync(join(tmpdir(), 'pk-rtld-'));
  writeFileSync(join(d, 'x.c'), '__thread int tv = 7; int counter = 42; int foo(void) { return tv + counter; } int bar(void) { return 2; }\n');
  writeFileSync(join(d, 'x-nobar.c'), '__thread int tv = 7; int counter = 42; int foo(void) { return tv + counter; }\n');
  writeFileSync(join(d, 'prog.c'), 'extern int foo(void); extern int bar(void); extern int counter; int main(void) { return foo() + bar() + counter; }\n');
  mkdirSync(join(d, 'lib'));
  mkdirSync(join(d, 'bin'));
  gcc('-shared', '-fPIC', '-O1', '-Wl,-soname,libx.so.1', '-Wl,-z,lazy', '-o', join(d, 'lib/libx.so.1'), join(d, 'x.c'));
  gcc('-shared', '-fPIC', '-O1', '-Wl,-soname,libx.so.1', '-o', join(d, 'libx-nobar.so.1'), join(d, 'x-nobar.c'));
  gcc('-O1', '-Wl,-z,lazy', '-o', join(d, 'bin/prog'), join(d, 'prog.c'), join(d, 'lib/libx.so.1'));
  gcc('-O1', '-Wl,-z,lazy', '-Wl,--enable-new-dtags', '-Wl,-rpath,$ORIGIN/../lib', '-o', join(d, 'bin/prog-origin'), join(d, 'prog.c'), join(d, 'lib/libx.so.1'));
  return d;
}

function hostRun(prog: string, env: string[]): { status: number | null; stderr: string } {
  const r = spawnSync('env', ['-i', 'PATH=/usr/bin:/bin', ...env, prog], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr.trim() };
}

function rtldFailure(f: () => unknown): RtldError {
  try {
    f();
  } catch (e) {
    if (e instanceof RtldError) return e;
    throw e;
  }
  throw new Error('ld.so did not fail');
}

describe('ld.so with libraries built here', () => {
  if (!requires('the ld.so library oracle', problem())) return;
  const d = runHarness('gcc building libx.so.1 and prog', build);
  if (d === null) return;
  const lib = join(d, 'lib');
  const env = ['PATH=/usr/bin:/bin', `LD_LIBRARY_PATH=/nonexistent:${lib}`];

  it('LD_LIBRARY_PATH: every capability subdirectory tried, missing directories remembered — the host\'s calls exactly', () => {
    const prog = join(d, 'bin/prog');
    const host = execFileSync('bash', [STRACE, `LD_LIBRARY_PATH=/nonexistent:${lib}`, '--', prog], { encoding: 'utf8' });
    const sim = simulate(prog, [prog], env);
    expect(sim.calls).toEqual(straceLines(host));
    expect(sim.calls.some((c) => c.startsWith(`newfstatat(0xffffffffffffff9c`) || c.startsWith('newfstatat(-100, /nonexistent/glibc-hwcaps/x86-64-v4'))).toBe(true);
  });

  it('RUNPATH with $ORIGIN finds ../lib beside the program — the host\'s calls exactly', () => {
    const prog = join(d, 'bin/prog-origin');
    const host = execFileSync('bash', [STRACE, '--', prog], { encoding: 'utf8' });
    const sim = simulate(prog);
    expect(sim.calls).toEqual(straceLines(host));
    expect(sim.result?.searchList.map((l) => l.name)).toContain(`${d}/bin/../lib/libx.so.1`);
  });

  it('a library of the wrong class is skipped and the search goes on, as on the host', () => {
    const bad = join(d, 'bad32');
    mkdirSync(bad, { recursive: true });
    const bytes = new Uint8Array(readFileSync(join(lib, 'libx.so.1')));
    bytes[4] = 1; // ELFCLASS32
    writeFileSync(join(bad, 'libx.so.1'), bytes);
    const prog = join(d, 'bin/prog');
    const host = execFileSync('bash', [STRACE, `LD_LIBRARY_PATH=${bad}:${lib}`, '--', prog], { encoding: 'utf8' });
    const sim = simulate(prog, [prog], ['PATH=/usr/bin:/bin', `LD_LIBRARY_PATH=${bad}:${lib}`]);
    expect(sim.calls).toEqual(straceLines(host));
    expect(sim.result?.searchList[1]?.name).toBe(`${lib}/libx.so.1`);
  });

  it('a missing library: the real message and exit status 127', () => {
    const prog = join(d, 'bin/prog');
    const host = hostRun(prog, []);
    const e = rtldFailure(() => simulate(prog));
    expect(host.status).toBe(127);
    expect(e.exitStatus).toBe(127);
    expect(e.message).toBe(host.stderr);
  });

  it('an undefined symbol under LD_BIND_NOW: the real "symbol lookup error"', () => {
    const alt = join(d, 'nobar');
    mkdirSync(alt, { recursive: true });
    copyFileSync(join(d, 'libx-nobar.so.1'), join(alt, 'libx.so.1'));
    const prog = join(d, 'bin/prog');
    const host = hostRun(prog, [`LD_LIBRARY_PATH=${alt}`, 'LD_BIND_NOW=1']);
    const e = rtldFailure(() => simulate(prog, [prog], ['PATH=/usr/bin:/bin', `LD_LIBRARY_PATH=${alt}`, 'LD_BIND_NOW=1']));
    expect(host.status).toBe(127);
    expect(e.message).toBe(host.stderr);
    // Lazily bound, the same program starts: bar is only looked up at its first call.
    expect(simulate(prog, [prog], ['PATH=/usr/bin:/bin', `LD_LIBRARY_PATH=${alt}`]).result).not.toBeNull();
  });

  it('lazy binding: the GOT entry points back into the PLT until the first call binds it', () => {
    const prog = join(d, 'bin/prog');
    const sim = simulate(prog, [prog], env);
    const r = sim.result!;
    const main = r.searchList[0]!;
    const libx = r.searchList.find((l) => l.name.endsWith('libx.so.1'))!;
    const pltSec = main.elf!.section('.plt')!;
    const first = r.fixup('', 'foo');
    // Before: the address of foo's PLT entry's push (inside .plt, relocated); after: foo in libx.
    expect(Number(first.before)).toBeGreaterThanOrEqual(main.addr + pltSec.addr);
    expect(Number(first.before)).toBeLessThan(main.addr + pltSec.addr + pltSec.size);
    const foo = libx.elf!.dynamicSymbols().find((s) => s.name === 'foo')!;
    expect(first.after).toBe(BigInt(libx.addr + foo.value));
    expect(r.stats.lazySlots).toBeGreaterThan(0);
  });

  it('COPY and TLS relocations: counter copied into the program, the TLS variable in the static block', () => {
    const prog = join(d, 'bin/prog');
    const sim = simulate(prog, [prog], env);
    const r = sim.result!;
    expect(r.stats.relocations.R_X86_64_COPY).toBeGreaterThan(0);
    const main = r.searchList[0]!;
    const counter = main.elf!.dynamicSymbols().find((s) => s.name === 'counter')!;
    const bytes = sim.kernel.readProcessMemory(sim.kernel.init.threads[0]!, [...sim.kernel.processes.values()].at(-1)!, main.addr + counter.value, 4);
    expect(new DataView(bytes.buffer, bytes.byteOffset).getInt32(0, true)).toBe(42);
    const libx = r.searchList.find((l) => l.name.endsWith('libx.so.1'))!;
    expect(libx.tls?.offset).toBeGreaterThan(0);
  });

  it('damaged libraries never crash the tool (fuzz)', () => {
    const good = new Uint8Array(readFileSync(join(lib, 'libx.so.1')));
    const fuzz = join(d, 'fuzz');
    mkdirSync(fuzz, { recursive: true });
    const prog = join(d, 'bin/prog');
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 16 }), fc.nat(good.length), (edits, cut) => {
      const b = good.slice(0, Math.max(cut, 64));
      for (const [at, v] of edits) if (at < b.length) b[at] = v;
      writeFileSync(join(fuzz, 'libx.so.1'), b);
      try {
        simulate(prog, [prog], ['PATH=/usr/bin:/bin', `LD_LIBRARY_PATH=${fuzz}`]);
      } catch (e) {
        if (!(e instanceof RtldError) && !(e instanceof KernelError)) throw e;
      }
    }), { numRuns: 25 });
  });

  it('cleans up', () => {
    rmSync(d, { recursive: true, force: true });
  });
});
