/**
 * The system-call table: numbers from sys/kern/syscalls.master (FreeBSD 14). Every call is a
 * trap; failures return -1 with errno in FreeBSD's numbering (the personality's error space).
 */
import type { SyscallSpec } from '@polykernel/kernel';
import { sysExecve } from './kern/kern_exec.js';
import { sysExit, sysGetpid, sysGetppid, sysWait4 } from './kern/kern_exit.js';
import { sysFork, sysRfork, sysVfork } from './kern/kern_fork.js';
import { sysKill } from './kern/kern_sig.js';
import type { FreebsdMachine, FreebsdSpace } from './machine.js';
import { sysBreak, sysMadvise, sysMinherit, sysMmap, sysMprotect, sysMunmap } from './vm/vm_mmap.js';

type Spec = SyscallSpec<FreebsdSpace, FreebsdMachine>;

function call(name: string, number: number, args: readonly string[], handler: Spec['handler']): Spec {
  return { name, number, args, table: 'syscalls', kind: 'trap', handler };
}

export const SYSCALLS: readonly Spec[] = [
  call('exit', 1, ['rval'], sysExit),
  call('fork', 2, [], sysFork),
  call('wait4', 7, ['pid', 'status', 'options', 'rusage'], sysWait4),
  call('break', 17, ['nsize'], sysBreak),
  call('getpid', 20, [], sysGetpid),
  call('kill', 37, ['pid', 'signum'], sysKill),
  call('getppid', 39, [], sysGetppid),
  call('execve', 59, ['fname', 'argv', 'envv'], sysExecve),
  call('vfork', 66, [], sysVfork),
  call('munmap', 73, ['addr', 'len'], sysMunmap),
  call('mprotect', 74, ['addr', 'len', 'prot'], sysMprotect),
  call('madvise', 75, ['addr', 'len', 'behav'], sysMadvise),
  call('minherit', 250, ['addr', 'len', 'inherit'], sysMinherit),
  call('rfork', 251, ['flags'], sysRfork),
  call('mmap', 477, ['addr', 'len', 'prot', 'flags', 'fd', 'pos'], sysMmap),
];
