/**
 * The FreeBSD portable driver: each portable intent as the system calls FreeBSD's libc makes for
 * it, through the kernel's gate — alloc is mmap(MAP_PRIVATE|MAP_ANON), free munmap, protect
 * mprotect, fork fork(2) (vmspace_fork), exit exit(2), wait wait4(2). What this personality does
 * not model yet (execve, files) is `unsupported` with the reason.
 */
import {
  failure, gate, ok, unsupported, type PortableDriver, type PortableOp, type PortableResult, type PortableWait,
} from '@polykernel/kernel';
import type { FreebsdMachine, FreebsdSpace } from './machine.js';
import { MAP_ANON, MAP_PRIVATE, roundPage } from './param.js';
import { ALL_SIGNALS } from './kern/kern_sig.js';

const NO_EXEC = 'execve of FreeBSD images is not modelled by this personality yet';
const NO_FILES = 'open/read/write/close are not modelled by this personality yet';

const NATIVE: Record<PortableOp, string> = {
  alloc: 'mmap(NULL, size, prot, MAP_PRIVATE|MAP_ANON, -1, 0) (477)',
  free: 'munmap(addr, len) (73)',
  protect: 'mprotect(addr, len, prot) (74)',
  fork: 'fork() (2): vmspace_fork, COW|NEEDS_COPY, shadows at the first write',
  spawn: `n/a: ${NO_EXEC}`,
  exec: `n/a: ${NO_EXEC}`,
  exit: 'exit(code) (1)',
  wait: 'wait4(pid or -1, &status, 0, NULL) (7)',
  mapFile: `n/a: ${NO_FILES}`,
  open: `n/a: ${NO_FILES}`,
  read: `n/a: ${NO_FILES}`,
  write: `n/a: ${NO_FILES}`,
  close: `n/a: ${NO_FILES}`,
};

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
  spawn: () => unsupported(NO_EXEC),
  exec: () => unsupported(NO_EXEC),
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
  mapFile: () => unsupported(NO_FILES),
  open: () => unsupported(NO_FILES),
  read: () => unsupported(NO_FILES),
  write: () => unsupported(NO_FILES),
  close: () => unsupported(NO_FILES),
};
