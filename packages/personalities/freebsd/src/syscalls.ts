/**
 * The system-call table: numbers from sys/kern/syscalls.master (FreeBSD 14). Every call is a
 * trap; failures return -1 with errno in FreeBSD's numbering (the personality's error space).
 */
import type { SyscallSpec } from '@polykernel/kernel';
import { sysExecve } from './kern/kern_exec.js';
import { sysExit, sysGetpid, sysGetppid, sysWait4 } from './kern/kern_exit.js';
import { sysFork, sysRfork, sysVfork } from './kern/kern_fork.js';
import { sysClose, sysDup, sysDup2, sysFcntl } from './kern/kern_descrip.js';
import {
  sysGetpgid, sysGetpgrp, sysKill, sysSetpgid, sysSigaction, sysSigpending, sysSigprocmask, sysSigreturn, sysSigsuspend,
} from './kern/kern_sig.js';
import { sysThrExit, sysThrKill, sysThrKill2, sysThrNew, sysThrSelf } from './kern/kern_thr.js';
import { sysPread, sysPwrite, sysRead, sysWrite } from './kern/sys_generic.js';
import { sysFtruncate } from './kern/sys_ftruncate.js';
import { sysIoctl } from './kern/sys_ioctl.js';
import { sysPipe2 } from './kern/sys_pipe.js';
import { sysShmOpen2, sysShmUnlink } from './kern/uipc_shm_open.js';
import { sysGetcwd } from './kern/vfs_cache.js';
import {
  sysChdir, sysFchdir, sysFstat, sysLseek, sysMkdir, sysMkdirat, sysOpen, sysOpenat, sysRename, sysRenameat, sysRmdir, sysUnlink, sysUnlinkat,
} from './kern/vfs_syscalls.js';
import { sysMunmapRecycle } from './kern/vfs_vnops.js';
import type { FreebsdMachine, FreebsdSpace } from './machine.js';
import { sysBreak, sysMadvise, sysMinherit, sysMmap, sysMprotect } from './vm/vm_mmap.js';

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
  call('unlink', 10, ['path'], sysUnlink),
  call('chdir', 12, ['path'], sysChdir),
  call('fchdir', 13, ['fd'], sysFchdir),
  call('break', 17, ['nsize'], sysBreak),
  call('getpid', 20, [], sysGetpid),
  call('kill', 37, ['pid', 'signum'], sysKill),
  call('getppid', 39, [], sysGetppid),
  call('dup', 41, ['fd'], sysDup),
  call('ioctl', 54, ['fd', 'com', 'data'], sysIoctl),
  call('execve', 59, ['fname', 'argv', 'envv'], sysExecve),
  call('vfork', 66, [], sysVfork),
  call('munmap', 73, ['addr', 'len'], sysMunmapRecycle),
  call('mprotect', 74, ['addr', 'len', 'prot'], sysMprotect),
  call('madvise', 75, ['addr', 'len', 'behav'], sysMadvise),
  call('getpgrp', 81, [], sysGetpgrp),
  call('setpgid', 82, ['pid', 'pgid'], sysSetpgid),
  call('dup2', 90, ['from', 'to'], sysDup2),
  call('fcntl', 92, ['fd', 'cmd', 'arg'], sysFcntl),
  call('rename', 128, ['from', 'to'], sysRename),
  call('mkdir', 136, ['path', 'mode'], sysMkdir),
  call('rmdir', 137, ['path'], sysRmdir),
  call('getpgid', 207, ['pid'], sysGetpgid),
  call('minherit', 250, ['addr', 'len', 'inherit'], sysMinherit),
  call('rfork', 251, ['flags'], sysRfork),
  call('__getcwd', 326, ['buf', 'buflen'], sysGetcwd),
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
  call('ftruncate', 480, ['fd', 'length'], sysFtruncate),
  call('thr_kill2', 481, ['pid', 'id', 'sig'], sysThrKill2),
  call('shm_unlink', 483, ['path'], sysShmUnlink),
  call('mkdirat', 496, ['fd', 'path', 'mode'], sysMkdirat),
  call('openat', 499, ['fd', 'path', 'flag', 'mode'], sysOpenat),
  call('renameat', 501, ['oldfd', 'old', 'newfd', 'new'], sysRenameat),
  call('unlinkat', 503, ['fd', 'path', 'flag'], sysUnlinkat),
  call('pipe2', 542, ['fildes', 'flags'], sysPipe2),
  call('fstat', 551, ['fd', 'sb'], sysFstat),
  call('shm_open2', 571, ['path', 'flags', 'mode', 'shmflags', 'name'], sysShmOpen2),
];
