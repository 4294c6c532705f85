/**
 * Oracle: writable opens of regular files (the copy-on-write overlay), read/pread/write/pwrite,
 * ftruncate, fstat's size, shared and private file mappings, msync and pipes, on the host kernel
 * (tools/fixtures/host-files.sh: a static C program under `setarch -R` on a scratch file it makes)
 * and through the Linux personality's system calls on a machine whose file system holds the same
 * file. Every result and every byte read must match. The saved output (file-calls.host.txt,
 * Linux 6.18) always runs; the live host too where it can. The host's bytes must stay untouched.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Kernel, type FsFile, type Thread } from '@polykernel/kernel';
import { ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import { requires, runHarness } from '../../../../tools/test-support/oracle.js';
import { linuxPersonality, type LinuxSpace } from '../src/index.js';
import { FAULT_HANDLER } from '../src/signal.js';
import { hostProblem } from './host.js';

const HOST = fileURLToPath(new URL('../../../../tools/fixtures/host-files.sh', import.meta.url));
const STEPS = fileURLToPath(new URL('./file-calls.steps', import.meta.url));
const SAVED = fileURLToPath(new URL('./file-calls.host.txt', import.meta.url));
const DIR = '/tmp/pk';

interface Step { line: string; result: string; data: string | null }

function parse(out: string): Step[] {
  const steps: Step[] = [];
  for (const l of out.split('\n')) {
    const m = /^== (.*) -> (.*)$/.exec(l);
    if (m !== null) steps.push({ line: m[1]!, result: m[2]!, data: null });
    else if (l.startsWith('data ')) steps[steps.length - 1]!.data = l.slice(5);
  }
  return steps;
}

const printable = (b: Uint8Array): string => [...b].map((c) => (c >= 0x20 && c <= 0x7e ? String.fromCharCode(c) : '.')).join('');
const OPEN: Record<string, number> = { ro: 0, wo: 1, rw: 2, creat: 0x40, excl: 0x80, trunc: 0x200, append: 0x400 };

class Sim {
  /** The host-backed file system's bytes: the simulation must never write them. */
  readonly hostBytes = Uint8Array.from({ length: 10000 }, (_, i) => 0x30 + (i % 10));
  readonly k: Kernel<LinuxSpace>;
  t: Thread;
  readonly names = new Map<string, number>();
  readonly buf: number;
  lastSignal: string | null = null;

  constructor() {
    const files: Record<string, FsFile> = {
      [DIR]: { path: DIR, bytes: new Uint8Array(0), dev: [0, 0x99], ino: 1, mode: 0o040700 },
      [`${DIR}/data`]: { path: `${DIR}/data`, bytes: this.hostBytes, dev: [0, 0x99], ino: 2, mode: 0o100600 },
    };
    this.k = new Kernel(linuxPersonality({ fs: (p) => files[p] ?? 'ENOENT' }), { frames: 4096, contents: true });
    this.t = this.k.createProcess(this.k.init, 'filecalls').threads[0]!;
    this.k.syscall(this.t, 'rt_sigaction', [11, FAULT_HANDLER.continue, 0, 8]);
    this.k.syscall(this.t, 'rt_sigaction', [7, FAULT_HANDLER.continue, 0, 8]);
    // SIG_IGN for SIGPIPE, as the harness sets it.
    this.k.syscall(this.t, 'rt_sigaction', [13, 1, 0, 8]);
    this.k.bus.subscribe('signal', (e: { signal: string }) => {
      this.lastSignal = e.signal;
    });
    this.buf = this.k.syscall(this.t, 'mmap', [0, 65536, 3, 0x22, -1, 0]).value;
  }

  private res(r: { value: number; error: string | null }): string {
    return r.value < 0 ? `-${r.error ?? '?'}` : `0x${r.value.toString(16)}`;
  }

  private put(text: string): number {
    const b = new TextEncoder().encode(text);
    this.k.mmu.frames.write(this.k.access(this.t, this.buf, ACCESS_WRITE), b);
    return b.length;
  }

  /** The signal the last access raised (the bus's subscriber sets it), clearing it. */
  private signalled(): string | null {
    const s = this.lastSignal;
    this.lastSignal = null;
    return s;
  }

  private bytesAt(va: number, n: number): Uint8Array | null {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      this.signalled();
      const pa = this.k.access(this.t, va + i, ACCESS_READ);
      const sig = this.signalled();
      if (sig !== null || pa < 0) {
        this.lastSignal = sig;
        return null;
      }
      out[i] = this.k.mmu.frames.read(pa, 1)[0]!;
    }
    return out;
  }

  private readResult(name: string, args: number[]): Step['result'] | [string, string] {
    const r = this.k.syscall(this.t, name, args);
    if (r.value < 0) return this.res(r);
    return [this.res(r), printable(this.k.mmu.frames.read(this.k.access(this.t, this.buf, ACCESS_READ), r.value))];
  }

  run(line: string): Step {
    const [op = '', a = '', b = '', c = '', d = '', e = '', f = ''] = line.split(/\s+/);
    const fd = (n: string): number => this.names.get(n) ?? -1;
    const path = (p: string): string => p.replace(/^@dir/, DIR);
    const withData = (r: string | [string, string]): Step => (typeof r === 'string' ? { line, result: r, data: null } : { line, result: r[0], data: r[1] });
    switch (op) {
      case 'open': {
        const r = this.k.syscall(this.t, 'openat', [-100, path(b), c.split(',').reduce((x, t) => x | (OPEN[t] ?? 0), 0), 0o644]);
        if (r.value >= 0) this.names.set(a, r.value);
        return { line, result: r.value < 0 ? this.res(r) : '0x0', data: null };
      }
      case 'close':
        return { line, result: this.res(this.k.syscall(this.t, 'close', [fd(a)])), data: null };
      case 'read':
        return withData(this.readResult('read', [fd(a), this.buf, Number(b)]));
      case 'pread':
        return withData(this.readResult('pread64', [fd(a), this.buf, Number(c), Number(b)]));
      case 'write':
        return { line, result: this.res(this.k.syscall(this.t, 'write', [fd(a), this.buf, this.put(b)])), data: null };
      case 'pwrite':
        return { line, result: this.res(this.k.syscall(this.t, 'pwrite64', [fd(a), this.buf, this.put(c), Number(b)])), data: null };
      case 'ftruncate':
        return { line, result: this.res(this.k.syscall(this.t, 'ftruncate', [fd(a), Number(b)])), data: null };
      case 'size': {
        const r = this.k.syscall(this.t, 'newfstatat', [fd(a), '', this.buf, 0x1000]);
        if (r.value < 0) return { line, result: this.res(r), data: null };
        const st = this.k.mmu.frames.read(this.k.access(this.t, this.buf, ACCESS_READ), 144);
        return { line, result: `0x${new DataView(st.buffer).getBigInt64(48, true).toString(16)}`, data: null };
      }
      case 'mmap': {
        const prot = (e.includes('r') ? 1 : 0) | (e.includes('w') ? 2 : 0);
        const r = this.k.syscall(this.t, 'mmap', [0, Number(d), prot, f === 'shared' ? 1 : 2, fd(b), Number(c)]);
        if (r.value >= 0) this.names.set(a, r.value);
        return { line, result: r.value < 0 ? this.res(r) : '0x0', data: null };
      }
      case 'munmap':
        return { line, result: this.res(this.k.syscall(this.t, 'munmap', [fd(a), Number(b)])), data: null };
      case 'msync':
        return { line, result: this.res(this.k.syscall(this.t, 'msync', [fd(a), Number(b), c === 'sync' ? 4 : 1])), data: null };
      case 'store': {
        const bytes = new TextEncoder().encode(c);
        for (let i = 0; i < bytes.length; i++) {
          this.signalled();
          const pa = this.k.access(this.t, fd(a) + Number(b) + i, ACCESS_WRITE);
          const sig = this.signalled();
          if (sig !== null || pa < 0) return { line, result: `-${sig ?? 'SIGSEGV'}`, data: null };
          this.k.mmu.frames.write(pa, bytes.subarray(i, i + 1));
        }
        return { line, result: '0x0', data: null };
      }
      case 'load': {
        const out = this.bytesAt(fd(a) + Number(b), Number(c));
        return out === null ? { line, result: `-${this.signalled() ?? 'SIGSEGV'}`, data: null } : { line, result: `0x${out.length.toString(16)}`, data: printable(out) };
      }
      case 'pipe': {
        const r = this.k.syscall(this.t, 'pipe2', [this.buf, b === 'nonblock' ? 0x800 : 0]);
        if (r.value === 0) {
          const v = new DataView(this.k.mmu.frames.read(this.k.access(this.t, this.buf, ACCESS_READ), 8).buffer);
          this.names.set(`${a}.r`, v.getInt32(0, true));
          this.names.set(`${a}.w`, v.getInt32(4, true));
        }
        return { line, result: this.res(r), data: null };
      }
      case 'fork': {
        const pid = this.k.syscall(this.t, 'fork', []).value;
        this.t = this.k.processes.get(pid)!.threads[0]!;
        return { line, result: '0x0', data: null };
      }
      default:
        throw new Error(`unknown step ${line}`);
    }
  }
}

function replay(out: string): void {
  const sim = new Sim();
  for (const step of parse(out)) {
    it(`${step.line} -> ${step.result}`, () => {
      expect(sim.run(step.line)).toEqual(step);
    });
  }
  it('never wrote the host-backed file system\'s bytes', () => {
    expect(sim.hostBytes).toEqual(Uint8Array.from({ length: 10000 }, (_, i) => 0x30 + (i % 10)));
  });
}

const scriptSteps = (): string[] => readFileSync(STEPS, 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));

describe('file calls, shared file mappings and pipes against the saved host output (Linux 6.18)', () => {
  const out = readFileSync(SAVED, 'utf8');
  it('the saved output ran this very script (regenerate it after editing the script)', () => {
    expect(parse(out).map((s) => s.line)).toEqual(scriptSteps());
  });
  replay(out);
});

const ready = requires('the host file-call oracle (tools/fixtures/host-files.sh)', hostProblem());

describe.runIf(ready)('file calls, shared file mappings and pipes against this host\'s kernel', () => {
  const out = runHarness('host-files.sh', () => execFileSync('bash', [HOST, STEPS], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  if (out !== null) replay(out);
});
