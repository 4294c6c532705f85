/** A Cygwin machine for tests and benchmarks: a kernel, a started program, calls returning what C sees. */
import { Kernel, type KernelOptions, type SyscallArg, type SyscallResult, type Thread } from '@polykernel/kernel';
import type { WindowsSpace } from '@polykernel/windows';
import { cygwinPersonality, type CygwinOptions } from './personality.js';
import type { CygwinMachine, K, P } from './types.js';

export interface Cyg {
  k: K;
  p: P;
  t: Thread;
  /** A cygwin1.dll (or Windows) call on `t`. */
  call(name: string, ...args: SyscallArg[]): SyscallResult;
  /** errno as its name after the last failure on `t`. */
  errno(): string | null;
}

export function bootCygwin(opts: CygwinOptions = {}, kernel: KernelOptions = {}, program = 'bash'): Cyg {
  const k: K = new Kernel<WindowsSpace, CygwinMachine>(cygwinPersonality(opts), { frames: 65536, contents: true, seed: 1, ...kernel });
  const child = k.personality.portable!.start!(k, program);
  return on(k, child.process);
}

export function on(k: K, p: P): Cyg {
  const t = p.threads[0]!;
  return { k, p, t, call: (name, ...args) => k.syscall(t, name, args), errno: () => t.errors.cygwin?.name ?? null };
}
