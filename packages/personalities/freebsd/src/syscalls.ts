/**
 * The system-call table: numbers from sys/kern/syscalls.master (FreeBSD 14). Every call is a
 * trap; failures return -1 with errno in FreeBSD's numbering (the personality's error space).
 */
import type { SyscallSpec } from '@polykernel/kernel';
import { sysExecve } from './kern/kern_exec.js';
import { sysExit, sysGetpid, sysGetppid, sysWait4 } from './kern/kern_exit.js';
import { sysFork, sysRfork, sysVfork } from './kern/kern_fork.js';
import { sysClose, sysDup, sysDup2, sysFcntl } from './kern/kern_descrip.js';
import { sysGetpgid, sysGetpgrp, sysKill, sysSetpgid, sysSigaction, sysSigprocmask, sysSigreturn } from './kern/kern_sig.js';
import { sysSigpending, sysSigsuspend } from './kern/kern_sig.js';
import { sysThrExit, sysThrKill, sysThrKill2, sysThrNew, sysThrSelf } from './kern/kern_thr.js';
import { sysPread, sysPwrite, sysRead, sysWrite } from './kern/sys_generic.js';
import { sysPipe2 } from './kern/sys_pipe.js';
import { sysFstat, sysLseek, sysOpen, sysOpenat } from './kern/vfs_syscalls.js';
import type { FreebsdMachine, FreebsdSpace } from './machine.js';
import { sysBreak, sysMadvise, sysMinherit, sysMmap, sysMprotect, sysMunmap } from './vm/vm_mmap.js';

type Spec = SyscallSpec<FreebsdSpace, FreebsdMachine>;

function call(name: string, number: number, args: readonly string[], handler: Spec['handler']): Spec {
  return { name, number, args, table: 'syscalls', kind: 'trap', handler };
}

export const SYSCALLS: readonly Spec[] = [
  call('exit', 1, ['rval'], sysExit),
  call('fork', 2, [], sysFork),
  call('read', 3, ['fd', 'buf', 'nbyte'], sysRead),
  call('write', 4, ['fd', 'buf', 'nbyte'], sysWrite),
  call('open', 5, ['path', 'flags', 'mode'], sysOpen),
  call('close', 6, ['fd'], sysClose),
  call('wait4', 7, ['pid', 'status', 'options', 'rusage'], sysWait4),
  call('break', 17, ['nsize'], sysBreak),
  call('getpid', 20, [], sysGetpid),
  call('kill', 37, ['pid', 'signum'], sysKill),
  call('getppid', 39, [], sysGetppid),
  call('dup', 41, ['fd'], sysDup),
  call('execve', 59, ['fname', 'argv', 'envv'], sysExecve),
  call('vfork', 66, [], sysVfork),
  call('munmap', 73, ['addr', 'len'], sysMunmap),
  call('mprotect', 74, ['addr', 'len', 'prot'], sysMprotect),
  call('madvise', 75, ['addr', 'len', 'behav'], sysMadvise),
  call('getpgrp', 81, [], sysGetpgrp),
  call('setpgid', 82, ['pid', 'pgid'], sysSetpgid),
  call('dup2', 90, ['from', 'to'], sysDup2),
  call('fcntl', 92, ['fd', 'cmd', 'arg'], sysFcntl),
  call('getpgid', 207, ['pid'], sysGetpgid),
  call('minherit', 250, ['addr', 'len', 'inherit'], sysMinherit),
  call('rfork', 251, ['flags'], sysRfork),
  call('sigprocmask', 340, ['how', 'set', 'oset'], sysSigprocmask),
  call('sigsuspend', 341, ['sigmask'], sysSigsuspend),
  call('sigpending', 343, ['set'], sysSigpending),
  call('sigaction', 416, ['sig', 'act', 'oact'], sysSigaction),
  call('sigreturn', 417, ['sigcntxp'], sysSigreturn),
  call('thr_exit', 431, ['state'], sysThrExit),
  call('thr_self', 432, ['id'], sysThrSelf),
  call('thr_kill', 433, ['id', 'sig'], sysThrKill),
  call('thr_new', 455, ['param', 'param_size'], sysThrNew),
  call('pread', 475, ['fd', 'buf', 'nbyte', 'offset'], sysPread),
  call('pwrite', 476, ['fd', 'buf', 'nbyte', 'offset'], sysPwrite),
  call('mmap', 477, ['addr', 'len', 'prot', 'flags', 'fd', 'pos'], sysMmap),
  call('lseek', 478, ['fd', 'offset', 'whence'], sysLseek),
  call('thr_kill2', 481, ['pid', 'id', 'sig'], sysThrKill2),
  call('openat', 499, ['fd', 'path', 'flag', 'mode'], sysOpenat),
  call('pipe2', 542, ['fildes', 'flags'], sysPipe2),
  call('fstat', 551, ['fd', 'sb'], sysFstat),
];
