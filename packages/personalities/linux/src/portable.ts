/**
 * Linux's portable driver: each portable intent as the system calls a C program makes on Linux
 * (x86-64), through the kernel's gate so every trap, fault and cycle is counted as Linux counts
 * it. glibc is the model for what user space does between the calls: spawn is fork + execve in the
 * child (a failed execve: the child _exit(127)s and the parent reaps it and reports the error, as
 * posix_spawn's __spawni does), mapFile is open + mmap + close. No intent is unsupported on Linux.
 */
import {
  failure, gate, ok, openAccess, startProcess, type AllocRequest, type ExecRequest, type Kernel, type MapFileRequest, type OpenRequest, type PortableChild,
  type PortableDriver, type PortableRegion, type PortableResult, type PortableWait, type Process, type Thread,
} from '@polykernel/kernel';
import { MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED } from './flags.js';
import type { LinuxMachine, LinuxSpace } from './machine.js';
import { SIGNAL_NAMES } from './tasks.js';

type K = Kernel<LinuxSpace, LinuxMachine>;

const PAGE = 4096;
const AT_FDCWD = -100;
/** O_RDONLY, O_WRONLY, O_RDWR (include/uapi/asm-generic/fcntl.h). */
const O_ACCESS = { read: 0, write: 1, readwrite: 2 } as const;
const O_CREAT = 0x40;
const O_TRUNC = 0x200;
/** The exit code of a child whose execve failed (posix_spawn, and every shell: 127). */
const EXEC_FAILED = 127;
/** The environment a workload's programs get when it gives none. */
const DEFAULT_ENV = ['PATH=/usr/bin:/bin'];

const pages = (n: number): number => Math.ceil(n / PAGE) * PAGE;

function childOf(k: K, pid: number): PortableChild<LinuxSpace> {
  const process = k.processes.get(pid)!;
  return { process, thread: process.threads[0]!, ref: pid };
}

/** A wait(2) status word decoded: WIFEXITED → WEXITSTATUS, WIFSIGNALED → WTERMSIG by name. */
function decodeStatus(ref: number, pid: number, status: number): PortableWait {
  const sig = status % 128;
  if (sig === 0) return { ref, pid, status, exitCode: Math.floor(status / 256) % 256, signal: null };
  return { ref, pid, status, exitCode: null, signal: SIGNAL_NAMES[sig] ?? `signal ${sig}` };
}

function alloc(k: K, t: Thread, req: AllocRequest): PortableResult<PortableRegion> {
  const r = gate(k, t, 'mmap', [req.addr ?? 0, req.size, req.prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]);
  return failure(k, 'mmap', r) ?? ok({ addr: r.value, length: pages(req.size) });
}

function fork(k: K, t: Thread): PortableResult<PortableChild<LinuxSpace>> {
  const r = gate(k, t, 'fork');
  return failure(k, 'fork', r) ?? ok(childOf(k, r.value));
}

function imageOf(p: Process<LinuxSpace>): string {
  const img = p.space.image;
  return img === null ? '' : `${img.path}${img.interpreter !== null ? ` + ${img.interpreter}` : ''}`;
}

function exec(k: K, t: Thread, req: ExecRequest): PortableResult<{ path: string; interpreter: string | null }> {
  const r = gate(k, t, 'execve', [req.path, [...req.argv], [...(req.env ?? DEFAULT_ENV)]]);
  const f = failure(k, 'execve', r);
  if (f !== null) return f;
  const p = t.process as Process<LinuxSpace>;
  return ok({ path: p.space.image?.path ?? req.path, interpreter: p.space.image?.interpreter ?? null }, imageOf(p));
}

function spawn(k: K, t: Thread, req: ExecRequest): PortableResult<PortableChild<LinuxSpace>> {
  const forked = fork(k, t);
  if (forked.kind !== 'ok') return forked;
  const child = forked.value;
  const e = gate(k, child.thread, 'execve', [req.path, [...req.argv], [...(req.env ?? DEFAULT_ENV)]]);
  const f = failure(k, 'execve', e);
  if (f === null) return ok(child, imageOf(child.process));
  // The child reports the failure by dying with 127; the parent collects it (__spawni's waitpid).
  if (child.process.state === 'running') gate(k, child.thread, 'exit_group', [EXEC_FAILED]);
  gate(k, t, 'wait4', [child.ref, 0, 0, 0]);
  return f;
}

function wait(k: K, t: Thread, ref: number | null): PortableResult<PortableWait> {
  const r = gate(k, t, 'wait4', [ref ?? -1, 0, 0, 0]);
  if (r.blocked === true) return { kind: 'blocked', call: 'wait4' };
  const f = failure(k, 'wait4', r);
  if (f !== null) return f;
  // wait4 stores the status word at stat_addr; the driver passes none and reads the task's copy.
  const status = (t.process as Process<LinuxSpace>).space.machine.task(t).lastWait?.status ?? 0;
  return ok(decodeStatus(r.value, r.value, status));
}

function open(k: K, t: Thread, req: OpenRequest): PortableResult<number> {
  const flags = O_ACCESS[openAccess(req)] + (req.create === true ? O_CREAT : 0) + (req.truncate === true ? O_TRUNC : 0);
  const r = gate(k, t, 'openat', [AT_FDCWD, req.path, flags, 0o666]);
  return failure(k, 'openat', r) ?? ok(r.value);
}

function mapFile(k: K, t: Thread, req: MapFileRequest): PortableResult<PortableRegion> {
  const fd = open(k, t, { path: req.path, write: req.shared && (req.prot & 2) !== 0 });
  if (fd.kind !== 'ok') return fd;
  // The program would fstat the file for its size; the table has no fstat, so the open file says.
  const length = req.length ?? t.process.file(fd.value)?.bytes.length ?? 0;
  const r = gate(k, t, 'mmap', [0, length, req.prot, req.shared ? MAP_SHARED : MAP_PRIVATE, fd.value, req.offset ?? 0]);
  gate(k, t, 'close', [fd.value]);
  return failure(k, 'mmap', r) ?? ok({ addr: r.value, length: pages(length) });
}

function simple(call: string, args: (k: K, t: Thread) => number[]): (k: K, t: Thread) => PortableResult<number> {
  return (k, t) => {
    const r = gate(k, t, call, args(k, t));
    return failure(k, call, r) ?? ok(r.value);
  };
}

/** The Linux driver (the same for linux-6.x and linux-5.15: the variants differ inside the calls). */
export const LINUX_PORTABLE: PortableDriver<LinuxSpace, LinuxMachine> = {
  native: {
    alloc: 'mmap(addr, size, prot, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)',
    free: 'munmap(addr, length)',
    protect: 'mprotect(addr, length, prot)',
    fork: 'fork() (kernel_clone → dup_mmap: copy-on-write)',
    spawn: 'fork() + execve() in the child (exit 127 and the parent\'s wait4 when execve fails)',
    exec: 'execve(path, argv, envp)',
    exit: 'exit_group(code)',
    wait: 'wait4(pid or -1, &status, 0, NULL)',
    mapFile: 'openat() + mmap(fd, MAP_SHARED or MAP_PRIVATE) + close()',
    open: 'openat(AT_FDCWD, path, O_RDONLY, O_WRONLY or O_RDWR [|O_CREAT|O_TRUNC], 0666)',
    read: 'read(fd, buf, count)',
    write: 'write(fd, buf, count)',
    close: 'close(fd)',
  },
  start: startProcess,
  alloc,
  free: (k, t, region) => simple('munmap', () => [region.addr, region.length])(k, t),
  protect: (k, t, region, prot) => simple('mprotect', () => [region.addr, region.length, prot])(k, t),
  fork,
  spawn,
  exec,
  exit: (k, t, code) => simple('exit_group', () => [code])(k, t),
  wait,
  mapFile,
  open,
  read: (k, t, fd, addr, length) => simple('read', () => [fd, addr, length])(k, t),
  write: (k, t, fd, addr, length) => simple('write', () => [fd, addr, length])(k, t),
  close: (k, t, fd) => simple('close', () => [fd])(k, t),
};
