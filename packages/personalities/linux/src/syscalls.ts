/**
 * THE system-call table of the personality: x86-64 numbers (arch/x86/entry/syscalls/syscall_64.tbl),
 * argument names (as the SYSCALL_DEFINEn macros give them, for traces), and the handler — each in
 * the file named after the kernel source that implements it.
 */
import type { SyscallContext, SyscallSpec } from '@polykernel/kernel';
import { sysExecve } from './exec.js';
import { sysExit, sysExitGroup, sysWait4 } from './exit.js';
import { sysClose, sysFtruncate, sysOpenat, sysPwrite64, sysRead, sysWrite } from './files.js';
import { sysClone, sysFork, sysVfork } from './fork.js';
import type { LinuxSpace } from './machine.js';
import { sysMadvise } from './madvise.js';
import { sysBrk, sysMmap, sysMunmap } from './mmap.js';
import { sysPipe, sysPipe2 } from './pipe.js';
import { sysMlock, sysMlock2, sysMlockall, sysMunlock, sysMunlockall } from './mlock.js';
import { sysMprotect } from './mprotect.js';
import { sysMsync } from './msync.js';
import { sysMremap } from './mremap.js';
import { sysKill, sysRtSigaction, sysRtSigreturn } from './signal.js';
import { sysGetrlimit, sysPrlimit64, sysSetrlimit } from './rlimit.js';
import { sysAccess, sysArchPrctl, sysNewfstatat, sysPread64, sysReadlink, sysRseq, sysSetRobustList, sysSetTidAddress } from './startup.js';

/** kernel/sys.c: getpid (the thread group's id), getppid, gettid. */
const sysGetpid = (ctx: SyscallContext<LinuxSpace>): number => ctx.process.pid;
const sysGetppid = (ctx: SyscallContext<LinuxSpace>): number => ctx.process.ppid;
const sysGettid = (ctx: SyscallContext<LinuxSpace>): number => ctx.thread.tid;

const TABLE: readonly SyscallSpec<LinuxSpace>[] = [
  // mm/mmap.c, mm/mprotect.c, mm/mremap.c, mm/madvise.c
  { name: 'mmap', number: 9, args: ['addr', 'len', 'prot', 'flags', 'fd', 'off'], handler: sysMmap },
  { name: 'mprotect', number: 10, args: ['start', 'len', 'prot'], handler: sysMprotect },
  { name: 'munmap', number: 11, args: ['addr', 'len'], handler: sysMunmap },
  { name: 'brk', number: 12, args: ['brk'], handler: sysBrk },
  { name: 'mremap', number: 25, args: ['addr', 'old_len', 'new_len', 'flags', 'new_addr'], handler: sysMremap },
  { name: 'madvise', number: 28, args: ['start', 'len', 'advice'], handler: sysMadvise },
  // mm/msync.c, mm/mlock.c
  { name: 'msync', number: 26, args: ['start', 'len', 'flags'], handler: sysMsync },
  { name: 'mlock', number: 149, args: ['start', 'len'], handler: sysMlock },
  { name: 'munlock', number: 150, args: ['start', 'len'], handler: sysMunlock },
  { name: 'mlockall', number: 151, args: ['flags'], handler: sysMlockall },
  { name: 'munlockall', number: 152, args: [], handler: sysMunlockall },
  { name: 'mlock2', number: 325, args: ['start', 'len', 'flags'], handler: sysMlock2 },
  // kernel/sys.c
  { name: 'getpid', number: 39, args: [], handler: sysGetpid },
  // fs/exec.c
  { name: 'execve', number: 59, args: ['filename', 'argv', 'envp'], handler: sysExecve },
  // kernel/fork.c
  { name: 'clone', number: 56, args: ['flags', 'newsp', 'parent_tid', 'child_tid', 'tls'], handler: sysClone },
  { name: 'fork', number: 57, args: [], handler: sysFork },
  { name: 'vfork', number: 58, args: [], handler: sysVfork },
  // kernel/exit.c, kernel/signal.c
  { name: 'exit', number: 60, args: ['error_code'], handler: sysExit },
  { name: 'wait4', number: 61, args: ['pid', 'stat_addr', 'options', 'rusage'], handler: sysWait4 },
  { name: 'kill', number: 62, args: ['pid', 'sig'], handler: sysKill },
  { name: 'rt_sigaction', number: 13, args: ['sig', 'act', 'oact', 'sigsetsize'], handler: sysRtSigaction },
  { name: 'rt_sigreturn', number: 15, args: [], handler: sysRtSigreturn },
  // kernel/sys.c
  { name: 'getrlimit', number: 97, args: ['resource', 'rlim'], handler: sysGetrlimit },
  { name: 'setrlimit', number: 160, args: ['resource', 'rlim'], handler: sysSetrlimit },
  { name: 'prlimit64', number: 302, args: ['pid', 'resource', 'new_rlim', 'old_rlim'], handler: sysPrlimit64 },
  { name: 'getppid', number: 110, args: [], handler: sysGetppid },
  { name: 'gettid', number: 186, args: [], handler: sysGettid },
  // kernel/exit.c
  { name: 'exit_group', number: 231, args: ['error_code'], handler: sysExitGroup },
  // fs/read_write.c, fs/open.c
  { name: 'read', number: 0, args: ['fd', 'buf', 'count'], handler: sysRead },
  { name: 'write', number: 1, args: ['fd', 'buf', 'count'], handler: sysWrite },
  { name: 'close', number: 3, args: ['fd'], handler: sysClose },
  { name: 'openat', number: 257, args: ['dfd', 'filename', 'flags', 'mode'], handler: sysOpenat },
  { name: 'pwrite64', number: 18, args: ['fd', 'buf', 'count', 'pos'], handler: sysPwrite64 },
  { name: 'ftruncate', number: 77, args: ['fd', 'length'], handler: sysFtruncate },
  // fs/pipe.c
  { name: 'pipe', number: 22, args: ['fildes'], handler: sysPipe },
  { name: 'pipe2', number: 293, args: ['fildes', 'flags'], handler: sysPipe2 },
  // What a dynamically linked program's start-up adds (startup.ts): fs/read_write.c, fs/open.c,
  // fs/stat.c, arch/x86/kernel/process_64.c, kernel/fork.c, kernel/futex/syscalls.c, kernel/rseq.c, kernel/sys.c
  { name: 'pread64', number: 17, args: ['fd', 'buf', 'count', 'pos'], handler: sysPread64 },
  { name: 'access', number: 21, args: ['filename', 'mode'], handler: sysAccess },
  { name: 'readlink', number: 89, args: ['path', 'buf', 'bufsiz'], handler: sysReadlink },
  { name: 'arch_prctl', number: 158, args: ['option', 'arg2'], handler: sysArchPrctl },
  { name: 'set_tid_address', number: 218, args: ['tidptr'], handler: sysSetTidAddress },
  { name: 'newfstatat', number: 262, args: ['dfd', 'filename', 'statbuf', 'flag'], handler: sysNewfstatat },
  { name: 'set_robust_list', number: 273, args: ['head', 'len'], handler: sysSetRobustList },
  { name: 'rseq', number: 334, args: ['rseq', 'rseq_len', 'flags', 'sig'], handler: sysRseq },
];

/** Every entry is a trap of the x86-64 table (syscall_64.tbl), failing with -errno. */
export const LINUX_SYSCALLS: readonly SyscallSpec<LinuxSpace>[] = TABLE.map((spec) => ({ ...spec, table: 'x86_64', kind: 'trap' as const }));
