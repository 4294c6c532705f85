/**
 * Oracle: guard regions (MADV_GUARD_INSTALL / MADV_GUARD_REMOVE) page by page — what a load, a
 * store or a kernel copy at each page does — on the host kernel (tools/fixtures/host-guards.sh, a
 * static C program under `setarch -R` that catches SIGSEGV) and through the Linux personality's
 * system calls and faults on a machine that keeps page contents, with a SIGSEGV handler that
 * resumes past the access (signal.ts FAULT_HANDLER.continue). The saved output
 * (guard-regions.host.txt, Linux 6.18) always runs; the live host too where it can.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Kernel, type Thread } from '@polykernel/kernel';
import { ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import { requires, runHarness } from '../../../../tools/test-support/oracle.js';
import { linuxPersonality, type LinuxSpace } from '../src/index.js';
import { machineOf } from '../src/machine.js';
import { FAULT_HANDLER } from '../src/signal.js';
import { hostProblem } from './host.js';

const HOST = fileURLToPath(new URL('../../../../tools/fixtures/host-guards.sh', import.meta.url));
const STEPS = fileURLToPath(new URL('./guard-regions.steps', import.meta.url));
const SAVED = fileURLToPath(new URL('./guard-regions.host.txt', import.meta.url));
const ADVICE: Record<string, number> = { guard_install: 102, guard_remove: 103, dontneed: 4, free: 8, wipeonfork: 18, populate_read: 22, populate_write: 23 };
const prot = (s: string): number => (s.includes('r') ? 1 : 0) | (s.includes('w') ? 2 : 0) | (s.includes('x') ? 4 : 0);

interface Step { line: string; result: string }

const parse = (out: string): Step[] => out.split('\n').flatMap((l) => {
  const m = /^== (.*) -> (.*)$/.exec(l);
  return m === null ? [] : [{ line: m[1]!, result: m[2]! }];
});

class Sim {
  readonly k = new Kernel(linuxPersonality(), { frames: 4096, contents: true });
  t: Thread;
  readonly names = new Map<string, number>();

  constructor() {
    this.t = this.k.createProcess(this.k.init, 'guardcalls').threads[0]!;
    this.k.syscall(this.t, 'rt_sigaction', [11, FAULT_HANDLER.continue, 0, 8]);
    this.k.syscall(this.t, 'rt_sigaction', [7, FAULT_HANDLER.continue, 0, 8]);
  }

  private call(name: string, args: number[]): string {
    const r = this.k.syscall(this.t, name, args);
    return r.value < 0 ? `-${r.error ?? '?'}` : '0x0';
  }

  /** A user access; the handler counts the signal and the access is skipped. */
  private access(va: number, write: number | null): string {
    const task = machineOf(this.k).task(this.t);
    const before = task.signalsHandled;
    const pa = this.k.access(this.t, va, write === null ? ACCESS_READ : ACCESS_WRITE);
    if (task.signalsHandled !== before || pa < 0) return '-SIGSEGV';
    if (write !== null) {
      this.k.mmu.frames.write(pa, Uint8Array.of(write));
      return '0x0';
    }
    return `0x${this.k.mmu.frames.read(pa, 1)[0]!.toString(16)}`;
  }

  run(line: string): Step {
    const [op = '', a = '', b = '', c = '', d = ''] = line.split(/\s+/);
    const at = (this.names.get(a) ?? 0) + Number(b || 0);
    const result = ((): string => {
      switch (op) {
        case 'mmap': {
          const r = this.k.syscall(this.t, 'mmap', [0, Number(b), prot(c), (d === 'shared' ? 1 : 2) | 0x20, -1, 0]);
          if (r.value >= 0) this.names.set(a, r.value);
          return r.value < 0 ? `-${r.error ?? '?'}` : '0x0';
        }
        case 'madvise':
          return this.call('madvise', [at, Number(c), ADVICE[d] ?? Number(d)]);
        case 'store':
          return this.access(at, Number(c));
        case 'probe':
          return this.access(at, null);
        case 'mprotect':
          return this.call('mprotect', [at, Number(c), prot(d)]);
        case 'munmap':
          return this.call('munmap', [at, Number(c)]);
        case 'mlock':
          return this.call('mlock', [at, Number(c)]);
        case 'mremap': {
          const r = this.k.syscall(this.t, 'mremap', [this.names.get(a)!, Number(b), Number(c), 1, 0]);
          if (r.value >= 0) this.names.set(a, r.value);
          return r.value < 0 ? `-${r.error ?? '?'}` : '0x0';
        }
        case 'remap':
          return this.call('mmap', [at, Number(c), 3, 0x32, -1, 0]);
        case 'kwrite':
          return this.call('getrlimit', [2, at]);
        case 'kread':
          return this.call('setrlimit', [4, at]);
        case 'fork': {
          // The script goes on in the child; the parent waits.
          const pid = this.k.syscall(this.t, 'fork', []).value;
          this.t = this.k.processes.get(pid)!.threads[0]!;
          return '0x0';
        }
        default:
          throw new Error(`unknown step ${line}`);
      }
    })();
    return { line, result };
  }

  get space(): LinuxSpace {
    return this.k.processes.get(this.t.process.pid)!.space;
  }
}

function replay(out: string): void {
  const sim = new Sim();
  for (const step of parse(out)) {
    it(`${step.line} -> ${step.result}`, () => {
      expect(sim.run(step.line)).toEqual(step);
    });
  }
  it('leaves no guard marker outside an area', () => {
    for (const va of sim.space.guards) expect(sim.space.mm.vmas.lookup(va)).toBeDefined();
  });
}

const scriptSteps = (): string[] => readFileSync(STEPS, 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));

describe('guard regions against the saved host output (Linux 6.18)', () => {
  const out = readFileSync(SAVED, 'utf8');
  it('the saved output ran this very script (regenerate it after editing the script)', () => {
    expect(parse(out).map((s) => s.line)).toEqual(scriptSteps());
  });
  replay(out);
});

const ready = requires('the host guard-region oracle (tools/fixtures/host-guards.sh)', hostProblem());

describe.runIf(ready)('guard regions against this host\'s kernel', () => {
  const out = runHarness('host-guards.sh', () => execFileSync('bash', [HOST, STEPS], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  if (out !== null) replay(out);
});
