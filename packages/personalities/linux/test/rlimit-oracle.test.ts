/**
 * Oracle: getrlimit, setrlimit and prlimit64 with the struct in user memory, run on the host kernel
 * (tools/fixtures/host-rlimits.sh: a static C program under `setarch -R`) and through the Linux
 * personality's system-call table on a machine that keeps page contents. The replay starts from
 * the host's own limits (its "init" lines) and capability ("priv"); every call's result and every
 * limit read back must match. The saved output (rlimit-calls.host.txt, Linux 6.18) always runs;
 * the live host too where it can run the harness.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Kernel, type Thread } from '@polykernel/kernel';
import { ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import { requires, runHarness } from '../../../../tools/test-support/oracle.js';
import { linuxPersonality, type LinuxSpace } from '../src/index.js';
import { doPrlimitExact, RLIM_INFINITY } from '../src/rlimit.js';
import { hostProblem } from './host.js';

const HOST = fileURLToPath(new URL('../../../../tools/fixtures/host-rlimits.sh', import.meta.url));
const STEPS = fileURLToPath(new URL('./rlimit-calls.steps', import.meta.url));
const SAVED = fileURLToPath(new URL('./rlimit-calls.host.txt', import.meta.url));
const RW = 3;
const PRIVATE_ANON = 0x22;
/** The harness's struct addresses: the program's own (static) and 8, which nothing maps. */
const BAD = 8;

interface Step { line: string; result: string; rlim: string | null }

function parse(out: string): { init: [number, bigint, bigint][]; priv: boolean; steps: Step[] } {
  const init: [number, bigint, bigint][] = [];
  const steps: Step[] = [];
  let priv = false;
  for (const l of out.split('\n')) {
    const i = /^init (\d+) (0x[0-9a-f]+) (0x[0-9a-f]+)$/.exec(l);
    const s = /^== (.*) -> (.*)$/.exec(l);
    if (i !== null) init.push([Number(i[1]), BigInt(i[2]!), BigInt(i[3]!)]);
    else if (l.startsWith('priv ')) priv = l === 'priv 1';
    else if (s !== null) steps.push({ line: s[1]!, result: s[2]!, rlim: null });
    else if (l.startsWith('rlim ')) steps[steps.length - 1]!.rlim = l;
  }
  return { init, priv, steps };
}

const value = (s: string): bigint => (s === 'inf' ? RLIM_INFINITY : BigInt(s));

/** The simulated process: a scratch page for the structs at `buf`. */
class Sim {
  readonly k = new Kernel(linuxPersonality(), { frames: 8192, contents: true });
  readonly t: Thread;
  readonly buf: number;

  constructor(init: [number, bigint, bigint][], priv: boolean) {
    const p = this.k.createProcess(this.k.init, 'rlimitcalls');
    this.t = p.threads[0]!;
    this.buf = this.k.syscall(this.t, 'mmap', [0, 4096, RW, PRIVATE_ANON, -1, 0]).value;
    const mm = p.space.mm;
    mm.privileged = true;
    for (const [res, cur, max] of init) doPrlimitExact(mm, res, { cur, max });
    mm.privileged = priv;
  }

  private get space(): LinuxSpace {
    return this.t.process.space as LinuxSpace;
  }

  private write(va: number, cur: bigint, max: bigint): void {
    const b = new Uint8Array(16);
    new DataView(b.buffer).setBigUint64(0, cur, true);
    new DataView(b.buffer).setBigUint64(8, max, true);
    this.k.mmu.frames.write(this.k.access(this.t, va, ACCESS_WRITE), b);
  }

  private read(va: number): string {
    const v = new DataView(this.k.mmu.frames.read(this.k.access(this.t, va, ACCESS_READ), 16).buffer);
    return `rlim 0x${v.getBigUint64(0, true).toString(16)} 0x${v.getBigUint64(8, true).toString(16)}`;
  }

  private call(name: string, args: number[]): string {
    const r = this.k.syscall(this.t, name, args);
    return r.value < 0 ? `-${r.error ?? '?'}` : `0x${r.value.toString(16)}`;
  }

  /** One step, printed as the harness prints it. */
  run(line: string): Step {
    const [op = '', a = '', b = '', c = '', d = ''] = line.split(/\s+/);
    switch (op) {
      case 'getrlimit': {
        const result = this.call('getrlimit', [Number(a), this.buf]);
        return { line, result, rlim: result === '0x0' ? this.read(this.buf) : null };
      }
      case 'setrlimit':
        if (b === 'bad') return { line, result: this.call('setrlimit', [Number(a), BAD]), rlim: null };
        this.write(this.buf, value(b), value(c));
        return { line, result: this.call('setrlimit', [Number(a), this.buf]), rlim: null };
      case 'prlimit': {
        if (b !== '-') this.write(this.buf, value(b), value(c));
        const old = d === 'old' ? this.buf + 16 : d === 'bad' ? BAD : 0;
        const result = this.call('prlimit64', [0, Number(a), b === '-' ? 0 : this.buf, old]);
        return { line, result, rlim: result === '0x0' && d === 'old' ? this.read(old) : null };
      }
      case 'mmap': {
        const prot = (b.includes('r') ? 1 : 0) | (b.includes('w') ? 2 : 0) | (b.includes('x') ? 4 : 0);
        const r = this.k.syscall(this.t, 'mmap', [0, Number(a), prot, PRIVATE_ANON, -1, 0]);
        return { line, result: r.value < 0 ? `-${r.error ?? '?'}` : this.call('munmap', [r.value, Number(a)]), rlim: null };
      }
      case 'mlock': {
        const r = this.k.syscall(this.t, 'mmap', [0, Number(a), RW, PRIVATE_ANON, -1, 0]);
        return { line, result: r.value < 0 ? `-${r.error ?? '?'}` : this.call('mlock', [r.value, Number(a)]), rlim: null };
      }
      case 'capdrop':
        this.space.mm.privileged = false;
        return { line, result: '0x0', rlim: null };
      default:
        throw new Error(`unknown step ${line}`);
    }
  }
}

function replay(out: string): void {
  const host = parse(out);
  const sim = new Sim(host.init, host.priv);
  for (const step of host.steps) {
    it(`${step.line} -> ${step.result}`, () => {
      expect(sim.run(step.line)).toEqual(step);
    });
  }
}

const scriptSteps = (): string[] => readFileSync(STEPS, 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));

describe('getrlimit/setrlimit/prlimit64 against the saved host output (Linux 6.18)', () => {
  const out = readFileSync(SAVED, 'utf8');
  it('the saved output ran this very script (regenerate it after editing the script)', () => {
    expect(parse(out).steps.map((s) => s.line)).toEqual(scriptSteps());
  });
  replay(out);
});

const ready = requires('the host rlimit oracle (tools/fixtures/host-rlimits.sh)', hostProblem());

describe.runIf(ready)('getrlimit/setrlimit/prlimit64 against this host\'s kernel', () => {
  const out = runHarness('host-rlimits.sh', () => execFileSync('bash', [HOST, STEPS], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  if (out !== null) replay(out);
});
