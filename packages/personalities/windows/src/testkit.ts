/**
 * A small harness for tests and benchmarks: a Windows machine, a process, and calls that return
 * what a C caller sees (the value, GetLastError's name, the record).
 */
import { Kernel, type CallRecord, type KernelOptions, type SyscallArg, type Thread } from '@polykernel/kernel';
import { windowsPersonality, type WindowsOptions } from './personality.js';
import type { P } from './mm.js';
import type { WindowsMachine, WindowsSpace } from './types.js';

export interface Win {
  k: Kernel<WindowsSpace, WindowsMachine>;
  p: P;
  t: Thread;
  /** Make a call; returns its value (the record and error through `last`). */
  call(name: string, ...args: SyscallArg[]): number;
  /** GetLastError() as a name ('ERROR_INVALID_PARAMETER'), or null if never set. */
  lastError(): string | null;
  /** SetLastError(0xdeadbeef), as the Wine tests do before each check. */
  resetError(): void;
  /** The record of the last call. */
  record(): Readonly<Record<string, unknown>>;
  last: { value: number; error: string | null; record?: CallRecord };
}

export function bootWindows(opts: WindowsOptions = {}, kernel: KernelOptions = {}): Win {
  const k = new Kernel(windowsPersonality(opts), { frames: 16384, contents: true, seed: 1, ...kernel });
  const p = k.createProcess(k.init, 'test');
  return harness(k, p);
}

export function harness(k: Kernel<WindowsSpace, WindowsMachine>, p: P): Win {
  const t = p.threads[0]!;
  const w: Win = {
    k, p, t,
    last: { value: 0, error: null },
    call(name, ...args) {
      const r = k.syscall(t, name, args);
      w.last = r;
      return r.value;
    },
    lastError: () => t.errors.win32?.name ?? null,
    resetError: () => {
      t.errors.win32 = { name: 'deadbeef', number: 0xdeadbeef };
    },
    record: () => w.last.record?.fields ?? {},
  };
  return w;
}
