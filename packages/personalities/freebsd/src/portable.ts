/**
 * The FreeBSD portable driver: each portable intent as the system calls FreeBSD's libc makes for
 * it, through the kernel's gate — alloc is mmap(MAP_PRIVATE|MAP_ANON), free munmap, protect
 * mprotect, fork fork(2) (vmspace_fork), exit exit(2), wait wait4(2), open openat(2), read and
 * write read(2)/write(2), close close(2), mapFile openat + mmap + close, exec execve(2), spawn
 * what FreeBSD 14's libc posix_spawn does (lib/libc/gen/posix_spawn.c: rfork(RFSPAWN), the child
 * execve(2)s in the parent's address space while the parent sleeps; a failed execve: the child
 * _exit(127)s and the parent reaps it with waitpid(pid, NULL, WNOHANG) and returns the error).
 * Only FreeBSD images run: a Linux ELF is execve's ENOEXEC, as the brand check gives it.
 */
import {
  failure, gate, ok, openAccess, type ExecRequest, type Kernel, type MapFileRequest, type OpenRequest, type PortableChild, type PortableDriver,
  type PortableImage, type PortableOp, type PortableRegion, type PortableResult, type PortableWait, type Process, type Thread,
} from '@polykernel/kernel';
import { procOf, type FreebsdMachine, type FreebsdSpace } from './machine.js';
import { MAP_ANON, MAP_PRIVATE, MAP_SHARED, RFSPAWN, WNOHANG, roundPage } from './param.js';
import { vmmap } from './procstat/vm.js';
import { O } from './kern/kern_descrip.js';
import { AT_FDCWD } from './kern/vfs_syscalls.js';
import { ALL_SIGNALS } from './kern/kern_sig.js';

/** The exit status of a spawned child whose execve failed (_posix_spawn_thr: _exit(127)). */
const EXEC_FAILED = 127;
/** The environment a workload's programs get when it gives none. */
const DEFAULT_ENV = ['PATH=/sbin:/bin:/usr/sbin:/usr/bin'];

const NATIVE: Record<PortableOp, string> = {
  alloc: 'mmap(NULL, size, prot, MAP_PRIVATE|MAP_ANON, -1, 0) (477)',
  free: 'munmap(addr, len) (73)',
  protect: 'mprotect(addr, len, prot) (74)',
  fork: 'fork() (2): vmspace_fork, COW|NEEDS_COPY, shadows at the first write',
  spawn: 'rfork(RFSPAWN) (251): vfork semantics, the parent asleep; execve (59) in the child (on failure: exit(127) (1) and the parent\'s wait4(pid, NULL, WNOHANG) (7))',
  exec: 'execve(path, argv, envp) (59): imgact_elf, FreeBSD images only (a Linux ELF is ENOEXEC)',
  exit: 'exit(code) (1)',
  wait: 'wait4(pid or -1, &status, 0, NULL) (7)',
  mapFile: 'openat() (499) + mmap(fd, MAP_SHARED or MAP_PRIVATE) (477) + close() (6): the vnode\'s one OBJT_VNODE object',
  open: 'openat(AT_FDCWD, path, O_RDONLY, O_WRONLY or O_RDWR [|O_CREAT|O_TRUNC], 0666) (499)',
  read: 'read(fd, buf, nbyte) (3)',
  write: 'write(fd, buf, nbyte) (4)',
  close: 'close(fd) (6)',
};

type K = Kernel<FreebsdSpace, FreebsdMachine>;

function open(k: K, t: Thread, req: OpenRequest): PortableResult<number> {
  // O_RDONLY 0, O_WRONLY 1, O_RDWR 2 (sys/fcntl.h): an O_WRONLY descriptor has FWRITE alone, so a
  // read of it is EBADF (sys_generic.c: kern_readv → fget_read; kern_descrip.c: _fget wants FREAD).
  const access = { read: O.RDONLY, write: O.WRONLY, readwrite: O.RDWR }[openAccess(req)];
  const flags = access + (req.create === true ? O.CREAT : 0) + (req.truncate === true ? O.TRUNC : 0);
  const r = gate(k, t, 'openat', [AT_FDCWD, req.path, flags, 0o666]);
  return failure(k, 'openat', r) ?? ok(r.value);
}

function mapFile(k: K, t: Thread, req: MapFileRequest): PortableResult<PortableRegion> {
  const fd = open(k, t, { path: req.path, write: req.shared && (req.prot & 2) !== 0 });
  if (fd.kind !== 'ok') return fd;
  // The program would fstat(2) the file for st_size; a workload process may have no stack to
  // receive struct stat, so the size is read from the open file (the same st_size).
  const length = req.length ?? t.process.file(fd.value)?.bytes.length ?? 0;
  const r = gate(k, t, 'mmap', [0, length, req.prot, req.shared ? MAP_SHARED : MAP_PRIVATE, fd.value, req.offset ?? 0]);
  gate(k, t, 'close', [fd.value]);
  return failure(k, 'mmap', r) ?? ok({ addr: r.value, length: roundPage(length) });
}

function simple(k: K, t: Thread, call: string, args: number[]): PortableResult<number> {
  const r = gate(k, t, call, args);
  // A read of an empty pipe sleeps (the app calls again once the thread is woken).
  if (r.blocked === true) return { kind: 'blocked', call };
  return failure(k, call, r) ?? ok(r.value);
}

function execArgs(req: ExecRequest): [string, string[], string[]] {
  return [req.path, [...req.argv], [...(req.env ?? DEFAULT_ENV)]];
}

/** The image a successful execve left: its path and the interpreter mapped at AT_BASE (none: null). */
function imageOf(k: K, p: Process<FreebsdSpace>, path: string): PortableImage {
  const base = procOf(k.state, p).auxv.find(([name]) => name === 'AT_BASE')?.[1];
  const interp = typeof base === 'number' && base !== 0 ? vmmap(p.space).find((e) => e.kve_start === base)?.kve_path ?? null : null;
  return { path, interpreter: interp };
}

const describeImage = (i: PortableImage): string => (i.interpreter === null ? i.path : `${i.path} + ${i.interpreter}`);

function exec(k: K, t: Thread, req: ExecRequest): PortableResult<PortableImage> {
  const r = gate(k, t, 'execve', execArgs(req));
  const f = failure(k, 'execve', r);
  if (f !== null) return f;
  const image = imageOf(k, t.process as Process<FreebsdSpace>, req.path);
  return ok(image, describeImage(image));
}

/**
 * posix_spawn: rfork(RFSPAWN) makes the child in the parent's vmspace with the parent asleep
 * (RFPPWAIT); the child's execve gives it a vmspace of its own and wakes the parent, whose rfork
 * then returns the child's PID. Nothing of the parent is copied.
 */
function spawn(k: K, t: Thread, req: ExecRequest): PortableResult<PortableChild<FreebsdSpace>> {
  const r = gate(k, t, 'rfork', [RFSPAWN]);
  const f = failure(k, 'rfork', r);
  if (f !== null) return f;
  const process = k.processes.get(r.value)!;
  const child = { process, thread: process.threads[0]!, ref: r.value };
  const e = gate(k, child.thread, 'execve', execArgs(req));
  const ef = failure(k, 'execve', e);
  // The child's exec or exit released the parent; its rfork returns the PID now.
  if (ef !== null && process.state === 'running') gate(k, child.thread, 'exit', [EXEC_FAILED]);
  if (t.pending !== null && t.state === 'runnable') k.resume(t);
  if (ef === null) return ok(child, describeImage(imageOf(k, process, req.path)));
  gate(k, t, 'wait4', [child.ref, 0, WNOHANG, 0]);
  return ef;
}

/** WIFEXITED / WEXITSTATUS / WTERMSIG of a wait status (sys/sys/wait.h). */
function decode(ref: number, status: number): PortableWait {
  const sig = status & 0x7f;
  if (sig === 0) return { ref, pid: ref, status, exitCode: (status >> 8) & 0xff, signal: null };
  const name = Object.entries(ALL_SIGNALS).find(([, n]) => n === sig)?.[0] ?? `SIG${sig}`;
  return { ref, pid: ref, status, exitCode: null, signal: name };
}

export const freebsdPortable: PortableDriver<FreebsdSpace, FreebsdMachine> = {
  native: NATIVE,
  alloc: (k, t, req) => {
    const r = gate(k, t, 'mmap', [req.addr ?? 0, req.size, req.prot, MAP_PRIVATE | MAP_ANON, -1, 0]);
    return failure(k, 'mmap', r) ?? ok({ addr: r.value, length: roundPage(req.size) });
  },
  free: (k, t, region) => {
    const r = gate(k, t, 'munmap', [region.addr, region.length]);
    return failure(k, 'munmap', r) ?? ok(r.value);
  },
  protect: (k, t, region, prot) => {
    const r = gate(k, t, 'mprotect', [region.addr, region.length, prot]);
    return failure(k, 'mprotect', r) ?? ok(r.value);
  },
  fork: (k, t) => {
    const r = gate(k, t, 'fork');
    const f = failure(k, 'fork', r);
    if (f !== null) return f;
    const process = k.processes.get(r.value)!;
    return ok({ process, thread: process.threads[0]!, ref: r.value });
  },
  spawn,
  exec,
  exit: (k, t, code) => {
    const r = gate(k, t, 'exit', [code]);
    return failure(k, 'exit', r) ?? ok(code);
  },
  wait: (k, t, ref): PortableResult<PortableWait> => {
    // libc's wait4 passes &status on the caller's stack; a process made without exec has no
    // stack here, so the status word is read from the zombie the call reaps (the same word
    // wait4 copies out).
    const statuses = new Map(t.process.children.map((c) => [c.pid, c.exitStatus]));
    const r = gate(k, t, 'wait4', [ref ?? -1, 0, 0, 0]);
    if (r.blocked === true) return { kind: 'blocked', call: 'wait4' };
    const f = failure(k, 'wait4', r);
    if (f !== null) return f;
    return ok(decode(r.value, statuses.get(r.value) ?? 0));
  },
  mapFile,
  open,
  read: (k, t, fd, addr, length) => simple(k, t, 'read', [fd, addr, length]),
  write: (k, t, fd, addr, length) => simple(k, t, 'write', [fd, addr, length]),
  close: (k, t, fd) => simple(k, t, 'close', [fd]),
};
