/**
 * The portable driver: each portable intent as the cygwin1.dll call a Cygwin program makes
 * (mmap, munmap, mprotect, fork, spawnve, _exit, waitpid, open/read/write/close on the fd table).
 * mapFile is open, lseek(SEEK_END) for the size, mmap of the fd, close. exec is execve: the program
 * continues in the new Windows process under the same Cygwin PID (the result's continuesIn), the
 * old one left as the stub that waits for it.
 */

import { failure, gate, ok, openAccess, type Kernel, type PortableChild, type PortableDriver, type PortableResult, type PortableWait, type Thread } from '@polykernel/kernel';
import type { WindowsSpace } from '@polykernel/windows';
import { cygwinStartup, exePath } from './fork.js';
import { pinfoOf } from './pinfo.js';
import { O_CREAT, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, SEEK_END } from './fdtab.js';
import { GRANULARITY, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED } from './posix.js';
import type { CygwinMachine, K } from './types.js';

type D = PortableDriver<WindowsSpace, CygwinMachine>;

function childOf(k: K, pid: number): PortableChild<WindowsSpace> {
  const proc = k.state.cygwin.byPid.get(pid)!;
  const process = k.processes.get(proc.winpid)!;
  return { process, thread: process.threads[0]!, ref: pid };
}

/** A Cygwin program started from outside Cygwin (as from cmd.exe): CreateProcessW, then cygwin1.dll's start-up. */
function start(k: K, comm: string): PortableChild<WindowsSpace> {
  const t = k.init.threads[0]!;
  const own = `/usr/bin/${comm}.exe`;
  const path = typeof k.state.fs(own) === 'string' ? '/usr/bin/bash.exe' : own;
  const r = k.syscall(t, 'CreateProcessW', [path, 0]);
  if (r.error !== null) throw new Error(`cygwin: CreateProcessW(${path}) failed: ${r.error}`);
  const f = r.record!.fields;
  k.syscall(t, 'CloseHandle', [f.hThread as number]);
  k.syscall(t, 'CloseHandle', [f.hProcess as number]);
  const process = k.processes.get(f.dwProcessId as number)!;
  const proc = cygwinStartup(k, process);
  if (typeof proc === 'string') throw new Error(`cygwin: start-up of ${path} failed: ${proc}`);
  return { process, thread: process.threads[0]!, ref: proc.pid };
}

function decode(status: number): { exitCode: number | null; signal: string | null } {
  const sig = status % 128;
  return sig === 0 ? { exitCode: Math.floor(status / 256) % 256, signal: null } : { exitCode: null, signal: `signal ${String(sig)}` };
}

export function cygwinDriver(): D {
  const prot = (p: number): number => p % 8;
  return {
    native: {
      alloc: 'mmap(NULL, size, prot, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) → VirtualAlloc(MEM_TOP_DOWN|MEM_RESERVE|MEM_COMMIT)',
      free: 'munmap(addr, length) → VirtualFree(MEM_RELEASE)',
      protect: 'mprotect(addr, length, prot) → VirtualProtect',
      fork: 'fork() → CreateProcessW of the same image + ReadProcessMemory/WriteProcessMemory copies (fork.cc)',
      spawn: 'spawnve(_P_NOWAIT, path, argv, envp) → CreateProcessW (argv, envp and the fd table passed on)',
      exec: 'execve(path, argv, envp) → CreateProcessW of the program; the Cygwin PID moves to it, the caller stays as a stub until it exits (spawn.cc _P_OVERLAY)',
      exit: '_exit(code) → pinfo::exit → TerminateProcess(GetCurrentProcess())',
      wait: 'waitpid(pid, &status, 0)',
      mapFile: 'open(path), lseek(fd, 0, SEEK_END), mmap(NULL, len, prot, MAP_SHARED|MAP_PRIVATE, fd, off) → CreateFileMappingW + MapViewOfFileEx, close(fd)',
      open: 'open(path, O_RDONLY or O_RDWR [|O_CREAT|O_TRUNC]) → CreateFileW (OPEN_EXISTING, OPEN_ALWAYS, CREATE_ALWAYS or TRUNCATE_EXISTING) held by an fhandler in the cygheap\'s fd table',
      read: 'read(fd, buf, count) → ReadFile (NtReadFile)',
      write: 'write(fd, buf, count) → WriteFile (NtWriteFile)',
      close: 'close(fd) → CloseHandle',
    },
    start: (k, comm) => start(k, comm),
    alloc(k, t, req) {
      const r = k.syscall(t, 'mmap', [req.addr ?? 0, req.size, prot(req.prot), MAP_PRIVATE + MAP_ANONYMOUS, -1, 0]);
      const f = failure(k, 'mmap', r);
      return f ?? ok({ addr: r.value, length: Math.ceil(req.size / 0x10000) * 0x10000 });
    },
    free(k, t, region) {
      const r = k.syscall(t, 'munmap', [region.addr, region.length]);
      return failure(k, 'munmap', r) ?? ok(0);
    },
    protect(k, t, region, p) {
      const r = k.syscall(t, 'mprotect', [region.addr, region.length, prot(p)]);
      return failure(k, 'mprotect', r) ?? ok(0);
    },
    fork(k, t) {
      const r = k.syscall(t, 'fork');
      return failure(k, 'fork', r) ?? ok(childOf(k, r.value));
    },
    spawn(k, t, req) {
      const r = k.syscall(t, 'spawnve', [1, req.path, req.argv, req.env ?? []]);
      return failure(k, 'spawnve', r) ?? ok(childOf(k, r.value), `${req.path} + /usr/bin/cygwin1.dll`);
    },
    exec(k, t, req) {
      // The caller's pinfo: after execve its dwProcessId is the new Windows process's.
      const proc = pinfoOf(k, k.processes.get(t.process.pid)!);
      const r = gate(k, t, 'execve', [req.path, [...req.argv], [...(req.env ?? proc.envp)]]);
      const f = failure(k, 'execve', r);
      if (f !== null) return f;
      const process = k.processes.get(proc.winpid)!;
      const path = exePath(k, req.path);
      return ok({ path, interpreter: null, continuesIn: { process, thread: process.threads[0]! } }, `${path} + /usr/bin/cygwin1.dll`);
    },
    exit(k, t, code) {
      const r = k.syscall(t, '_exit', [code]);
      return failure(k, '_exit', r) ?? ok(code);
    },
    wait(k: Kernel<WindowsSpace, CygwinMachine>, t: Thread, ref: number | null): PortableResult<PortableWait> {
      const r = gate(k, t, 'waitpid', [ref ?? -1, 0]);
      if (r.blocked === true) return { kind: 'blocked', call: 'waitpid' };
      const f = failure(k, 'waitpid', r);
      if (f !== null) return f;
      const status = (r.record?.fields.status as number | undefined) ?? 0;
      return ok({ ref: r.value, pid: r.value, status, ...decode(status) });
    },
    mapFile(k, t, req) {
      const write = req.shared && req.prot % 4 >= 2;
      const fd = k.syscall(t, 'open', [req.path, write ? O_RDWR : O_RDONLY, 0]);
      const bad = failure(k, 'open', fd);
      if (bad !== null) return bad;
      // The program would fstat the file for its size; lseek to the end says the same.
      const size = k.syscall(t, 'lseek', [fd.value, 0, SEEK_END]).value;
      const length = req.length ?? size;
      const r = gate(k, t, 'mmap', [0, length, req.prot, req.shared ? MAP_SHARED : MAP_PRIVATE, fd.value, req.offset ?? 0]);
      k.syscall(t, 'close', [fd.value]);
      return failure(k, 'mmap', r) ?? ok({ addr: r.value, length: Math.ceil(length / GRANULARITY) * GRANULARITY });
    },
    open(k, t, req) {
      // O_RDONLY 0, O_WRONLY 1, O_RDWR 2 (newlib sys/_default_fcntl.h): a read of an O_WRONLY fd is
      // EBADF (winsup/cygwin/syscalls.cc read: `(cfd->get_flags () & O_ACCMODE) == O_WRONLY`).
      const access = { read: O_RDONLY, write: O_WRONLY, readwrite: O_RDWR }[openAccess(req)];
      const flags = access + (req.create === true ? O_CREAT : 0) + (req.truncate === true ? O_TRUNC : 0);
      const r = k.syscall(t, 'open', [req.path, flags, 0o666]);
      return failure(k, 'open', r) ?? ok(r.value);
    },
    read(k, t, fd, addr, length) {
      const r = k.syscall(t, 'read', [fd, addr, length]);
      return failure(k, 'read', r) ?? ok(r.value);
    },
    write(k, t, fd, addr, length) {
      const r = k.syscall(t, 'write', [fd, addr, length]);
      return failure(k, 'write', r) ?? ok(r.value);
    },
    close(k, t, fd) {
      const r = k.syscall(t, 'close', [fd]);
      return failure(k, 'close', r) ?? ok(0);
    },
  };
}


