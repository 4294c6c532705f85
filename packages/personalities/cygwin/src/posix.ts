/**
 * cygwin1.dll's POSIX calls as library calls (table 'cygwin1') over the Windows personality's
 * kernel32/NT calls, made through the gate with ctx.call so every trap under them is counted.
 * Errors are Cygwin's errno (newlib numbering), from the Win32 error as errno.cc's errmap maps it.
 *
 * mmap follows winsup/cygwin/mm/mmap.cc: the page size is the 64 KiB allocation granularity
 * (wincap.allocation_granularity), an anonymous mapping's length is rounded up to it, MAP_FIXED
 * needs a 64 KiB aligned address, and private anonymous memory is VirtualAlloc'ed
 * (fhandler_dev_zero::mmap: MEM_TOP_DOWN | MEM_RESERVE, plus MEM_COMMIT unless MAP_NORESERVE,
 * whose pages are committed on first touch by the exception handler). munmap and mprotect work
 * on the records (mmap_record::unmap_pages: decommit a NORESERVE range, else PAGE_NOACCESS; the
 * whole record gone: VirtualFree MEM_RELEASE).
 */
import type { SyscallArg, SyscallContext, SyscallResult, SyscallSpec } from '@polykernel/kernel';
import {
  CURRENT_PROCESS, FILE_MAP_READ, FILE_MAP_WRITE, MEM_COMMIT, MEM_DECOMMIT, MEM_RELEASE, MEM_RESERVE, MEM_TOP_DOWN, PAGE_NOACCESS, PAGE_READONLY,
  PAGE_READWRITE, PAGE_WRITECOPY, type WindowsSpace,
} from '@polykernel/windows';
import { errnoFromWin32 } from './errno.js';
import * as fd from './fdtab.js';
import { cygwinExecve, cygwinFork, cygwinSpawnve } from './fork.js';
import { pinfoOf, releasePinfo } from './pinfo.js';
import { USERHEAP_START } from './sysroot.js';
import { mmapFile } from './filemap.js';
import * as sigs from './signals.js';
import { releaseChildPinfo } from './shared.js';
import { deliverPending, NSIG, SIGKILL, sendSignal, WCONTINUED, WUNTRACED } from './signals.js';
import type { CygProc, CygwinMachine, Fhandler, MmapRecord } from './types.js';

export type Ctx = SyscallContext<WindowsSpace, CygwinMachine>;
type Spec = SyscallSpec<WindowsSpace, CygwinMachine>;

/** sys/mman.h as Cygwin defines it. */
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_TYPE = 0x0f;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_NORESERVE = 0x4000;
/** sys/wait.h */
export const WNOHANG = 1;
export { WCONTINUED, WUNTRACED } from './signals.js';
/** wincap.allocation_granularity (): Cygwin's mmap "page size". */
export const GRANULARITY = 0x10000;
export const PAGE = 4096;
/** The user heap's reservation (heap.cc reserves in chunks; one chunk is modelled). */
export const HEAP_CHUNK = 0x200_0000;

const num = (a: SyscallArg | undefined): number => (typeof a === 'number' ? a : Number.NaN);
const str = (a: SyscallArg | undefined): string => (typeof a === 'string' ? a : '');
/** A char *const[] argument: undefined when the caller passed none (NULL). */
const strings = (a: SyscallArg | undefined): readonly string[] | undefined => (Array.isArray(a) ? (a as readonly string[]) : undefined);
const bit = (v: number, b: number): boolean => Math.floor(v / b) % 2 === 1;
const roundUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/** __seterrno after a failed Win32 call: errno from its GetLastError. */
export function winFail(ctx: Ctx, r: SyscallResult, detail?: string): number {
  return ctx.fail(errnoFromWin32(r.error), detail);
}

/** gen_protect (mm/mmap.cc): PAGE_* for prot and flags (WRITECOPY for private file maps). */
export function genProtect(prot: number, flags: number): number {
  let ret = PAGE_NOACCESS;
  const priv = bit(flags, MAP_PRIVATE);
  const anon = bit(flags, MAP_ANONYMOUS);
  if (bit(prot, PROT_WRITE)) ret = priv && !anon ? PAGE_WRITECOPY : PAGE_READWRITE;
  else if (bit(prot, PROT_READ)) ret = PAGE_READONLY;
  // ret <<= 4: the EXECUTE_* value of the same access.
  if (bit(prot, PROT_EXEC)) ret *= 16;
  return ret;
}

function mmap(ctx: Ctx, a: readonly SyscallArg[]): number {
  let [addr, len] = [num(a[0]), num(a[1])];
  const [prot, flagsIn, fd, off] = [num(a[2]), num(a[3]), num(a[4] ?? -1), num(a[5] ?? 0)];
  let flags = flagsIn;
  const type = flags % (MAP_TYPE + 1);
  if (off % GRANULARITY !== 0 || !(prot >= 0 && prot <= 7) || (type !== MAP_SHARED && type !== MAP_PRIVATE) || (bit(flags, MAP_FIXED) && addr % GRANULARITY !== 0) || !(len > 0)) {
    return ctx.fail('EINVAL');
  }
  addr -= addr % GRANULARITY;
  if (!bit(flags, MAP_ANONYMOUS) && fd !== -1) {
    // cygheap_fdget: the fd must be open.
    const fh = Number.isInteger(fd) && fd >= 0 ? pinfoOf(ctx.kernel, ctx.process).fds[fd] ?? null : null;
    if (fh === null) return ctx.fail('EBADF');
    if (fh.file.kind === 'file' && !isConftest(ctx, fh, len, prot, flags, off)) return mmapFile(ctx, fd, fh, addr, len, prot, flags, off);
    // fhandler_base::mmap: a device without its own mmap is ENODEV; /dev/zero is MAP_ANONYMOUS.
    if (fh.file.kind !== 'zero' && fh.file.kind !== 'file') return ctx.fail('ENODEV');
  }
  if (!bit(flags, MAP_ANONYMOUS)) flags += MAP_ANONYMOUS;
  len = roundUp(len, GRANULARITY);
  if (type === MAP_SHARED) return mmapShared(ctx, addr, len, prot, flags);
  const noreserve = bit(flags, MAP_NORESERVE);
  const protect = genProtect(prot, flags);
  const allocType = MEM_TOP_DOWN + MEM_RESERVE + (noreserve ? 0 : MEM_COMMIT);
  let r = ctx.call('VirtualAlloc', [addr, len, allocType, protect]);
  if (r.error !== null && addr !== 0 && !bit(flags, MAP_FIXED)) r = ctx.call('VirtualAlloc', [0, len, allocType, protect]);
  if (r.error !== null) return winFail(ctx, r);
  const base = r.value;
  if (bit(flags, MAP_FIXED) && base !== addr) {
    ctx.call('VirtualFree', [base, 0, MEM_RELEASE]);
    return ctx.fail('EINVAL', 'VirtualAlloc: address shift with MAP_FIXED given');
  }
  const rec: MmapRecord = { addr: base, len, prot, flags, mapped: new Uint8Array(len / PAGE).fill(1) };
  pinfoOf(ctx.kernel, ctx.process).mmaps.push(rec);
  return base;
}

/**
 * mmap.cc's autoconf cheat: "conftest.txt" of 1 byte mapped MAP_SHARED, PROT_READ|PROT_WRITE,
 * one 64 KiB page at offset 0 gets an anonymous mapping, so that the whole page reads as zeros.
 */
function isConftest(ctx: Ctx, fh: Fhandler, len: number, prot: number, flags: number, off: number): boolean {
  if (len !== GRANULARITY || prot !== PROT_READ + PROT_WRITE || flags !== MAP_SHARED || off !== 0 || !fh.file.path.endsWith('/conftest.txt') || fh.handle === null) return false;
  const st = ctx.call('GetFileSizeEx', [fh.handle]);
  return st.error === null && st.record!.fields.lpFileSize === 1;
}

/** gen_create_protect (mm/mmap.cc): the section's protection for a shared mapping. */
function createProtect(prot: number): number {
  return bit(prot, PROT_WRITE) ? PAGE_READWRITE : PAGE_READONLY;
}

/** gen_access: the view's access for a shared mapping. */
function viewAccess(prot: number): number {
  return bit(prot, PROT_WRITE) ? FILE_MAP_WRITE : FILE_MAP_READ;
}

/**
 * A MAP_SHARED anonymous mapping (fhandler_dev_zero::mmap → CreateMapping + MapView): a
 * pagefile-backed section created inheritable (sec_none), viewed at `addr` or, without
 * MAP_FIXED, anywhere; the handle stays open in the record (mapping_hdl) for fork.
 */
function mmapShared(ctx: Ctx, addr: number, len: number, prot: number, flags: number): number {
  const h = ctx.call('CreateFileMappingW', [-1, createProtect(prot), len, '', 1]);
  if (h.error !== null) return winFail(ctx, h);
  const access = viewAccess(prot);
  let v = ctx.call('MapViewOfFileEx', [h.value, access, 0, len, addr]);
  if (v.error !== null && addr !== 0 && !bit(flags, MAP_FIXED)) v = ctx.call('MapViewOfFileEx', [h.value, access, 0, len, 0]);
  if (v.error !== null) {
    ctx.call('CloseHandle', [h.value]);
    return winFail(ctx, v);
  }
  // PROT_NONE: the view is made, then protected (mmap_record::gen_protect on the view).
  if (prot === 0) ctx.call('VirtualProtect', [v.value, len, PAGE_NOACCESS]);
  // MAP_NORESERVE applies to private anonymous maps only: a section is committed when created.
  const kept = bit(flags, MAP_NORESERVE) ? flags - MAP_NORESERVE : flags;
  pinfoOf(ctx.kernel, ctx.process).mmaps.push({ addr: v.value, len, prot, flags: kept, mapped: new Uint8Array(len / PAGE).fill(1), section: h.value });
  return v.value;
}

/** The whole record gone: the view unmapped and its section handle closed, or the private memory released. */
export function releaseRecord(ctx: Ctx, rec: MmapRecord): void {
  if (rec.section === undefined) {
    ctx.call('VirtualFree', [rec.addr, 0, MEM_RELEASE]);
    return;
  }
  ctx.call('UnmapViewOfFile', [rec.addr]);
  ctx.call('CloseHandle', [rec.section]);
}

/** mmap_record::match: the part of [addr, addr+len) inside the record, or null. */
function overlap(rec: MmapRecord, addr: number, len: number): [number, number] | null {
  const lo = Math.max(rec.addr, addr);
  const hi = Math.min(rec.addr + rec.len, addr + len);
  return lo < hi ? [lo, hi - lo] : null;
}

function munmap(ctx: Ctx, a: readonly SyscallArg[]): number {
  const [addr, lenIn] = [num(a[0]), num(a[1])];
  if (!(addr > 0) || !(lenIn > 0)) return ctx.fail('EINVAL');
  // check_invalid_virtual_addr: every region of the range must be queryable.
  for (let at = addr; at < addr + lenIn;) {
    const q = ctx.call('VirtualQuery', [at]);
    if (q.error !== null) return ctx.fail('EINVAL');
    const f = q.record!.fields;
    at = (f.BaseAddress as number) + (f.RegionSize as number);
  }
  if (addr % GRANULARITY !== 0) return ctx.fail('EINVAL');
  const len = roundUp(lenIn, GRANULARITY);
  const proc = pinfoOf(ctx.kernel, ctx.process);
  for (const rec of [...proc.mmaps]) {
    const m = overlap(rec, addr, len);
    if (m === null) continue;
    const first = Math.floor((m[0] - rec.addr) / PAGE);
    // A file mapping's length is the file's: its last page is partial.
    rec.mapped.fill(0, first, Math.ceil((m[0] + m[1] - rec.addr) / PAGE));
    if (rec.mapped.every((x) => x === 0)) {
      releaseRecord(ctx, rec);
      proc.mmaps.splice(proc.mmaps.indexOf(rec), 1);
    } else if (bit(rec.flags, MAP_NORESERVE)) {
      ctx.call('VirtualFree', [m[0], m[1], MEM_DECOMMIT]);
    } else {
      ctx.call('VirtualProtect', [m[0], m[1], PAGE_NOACCESS]);
    }
  }
  return 0;
}

function mprotect(ctx: Ctx, a: readonly SyscallArg[]): number {
  const [addr, lenIn, prot] = [num(a[0]), num(a[1]), num(a[2])];
  if (!(addr >= 0) || addr % GRANULARITY !== 0) return ctx.fail('EINVAL');
  const len = roundUp(lenIn, GRANULARITY);
  let inMapped = false;
  for (const rec of pinfoOf(ctx.kernel, ctx.process).mmaps) {
    const m = overlap(rec, addr, len);
    if (m === null) continue;
    inMapped = true;
    const np = genProtect(prot, rec.flags);
    let r: SyscallResult;
    if (bit(rec.flags, MAP_NORESERVE)) r = np === PAGE_NOACCESS ? ctx.call('VirtualFree', [m[0], m[1], MEM_DECOMMIT]) : ctx.call('VirtualAlloc', [m[0], m[1], MEM_COMMIT, np]);
    else r = ctx.call('VirtualProtect', [m[0], m[1], np]);
    if (r.error !== null) return winFail(ctx, r);
    rec.prot = prot;
  }
  if (inMapped) return 0;
  const q = ctx.call('VirtualQuery', [addr]);
  if (q.error !== null) return winFail(ctx, q);
  const f = q.record!.fields;
  const wc = f.AllocationProtect === PAGE_WRITECOPY || f.AllocationProtect === 0x80;
  const np = genProtect(prot, bit(prot, PROT_WRITE) && wc ? MAP_PRIVATE : 0);
  const r = np !== PAGE_NOACCESS && f.State === MEM_RESERVE ? ctx.call('VirtualAlloc', [addr, len, MEM_COMMIT, np]) : ctx.call('VirtualProtect', [addr, len, np]);
  return r.error !== null ? winFail(ctx, r) : 0;
}

/** sbrk over the user heap (heap.cc): reserved at USERHEAP_START on first use, committed as the break rises. */
function sbrk(ctx: Ctx, a: readonly SyscallArg[]): number {
  const incr = num(a[0]);
  const proc = pinfoOf(ctx.kernel, ctx.process);
  if (proc.heapStart === 0) {
    const r = ctx.call('VirtualAlloc', [USERHEAP_START, HEAP_CHUNK, MEM_RESERVE, PAGE_NOACCESS]);
    if (r.error !== null) return winFail(ctx, r);
    proc.heapStart = proc.heapTop = r.value;
    proc.heapEnd = r.value + HEAP_CHUNK;
  }
  const old = proc.heapTop;
  const top = old + incr;
  if (!Number.isInteger(incr) || top < proc.heapStart || top > proc.heapEnd) return ctx.fail('ENOMEM');
  const committed = roundUp(old, PAGE);
  if (top > committed) {
    const r = ctx.call('VirtualAlloc', [committed, roundUp(top, PAGE) - committed, MEM_COMMIT, PAGE_READWRITE]);
    if (r.error !== null) return ctx.fail('ENOMEM');
  }
  proc.heapTop = top;
  return old;
}

/** pinfo::exit: record the UNIX exit code, then ExitProcess with it (byte-swapped for a non-Cygwin parent). */
function exit(ctx: Ctx, a: readonly SyscallArg[]): number {
  const proc = pinfoOf(ctx.kernel, ctx.process);
  const code = ((num(a[0]) % 256) + 256) % 256;
  proc.exitcode = code * 256;
  proc.exited = true;
  const win = proc.cygstarted ? proc.exitcode : code;
  ctx.call('TerminateProcess', [CURRENT_PROCESS, win]);
  return 0;
}

/** The processes kill(pid) reaches (signal.cc kill0 / kill_pgrp): one, the caller's group, a group, or all but the caller. */
function killTargets(ctx: Ctx, pid: number): CygProc[] {
  const s = ctx.kernel.state.cygwin;
  const me = pinfoOf(ctx.kernel, ctx.process);
  const live = [...s.byPid.values()].filter((p) => !p.exited);
  if (pid > 0) return live.filter((p) => p.pid === pid);
  if (pid === 0) return live.filter((p) => p.pgid === me.pgid);
  if (pid === -1) return live.filter((p) => p !== me);
  return live.filter((p) => p.pgid === -pid);
}

/**
 * The default action of a fatal signal (exceptions.cc sigpacket::process, exit_sig →
 * signal_exit): the process ends with the signal as its exit code, SIGQUIT and SIGABRT with the
 * core flag 0x80 (the stackdump), so waitpid's status is WIFSIGNALED with WTERMSIG = sig.
 */
function signalExit(ctx: Ctx, target: CygProc, sig: number): SyscallResult | null {
  const h = ctx.call('OpenProcess', [0x0001, 0, target.winpid]);
  if (h.error !== null) return h;
  target.exited = true;
  target.exitcode = sig + (sig === 3 || sig === 6 ? 0x80 : 0);
  ctx.call('TerminateProcess', [h.value, target.exitcode]);
  ctx.call('CloseHandle', [h.value]);
  return null;
}

/**
 * kill (signal.cc kill0 → sig_send): each target's action for the signal (signals.ts sendSignal):
 * SIGKILL and a fatal default end it; stop, continue, ignore or a pending handler otherwise.
 */
function kill(ctx: Ctx, a: readonly SyscallArg[]): number {
  const [pid, sig] = [num(a[0]), num(a[1])];
  if (!(sig >= 0 && sig < NSIG) || !Number.isInteger(pid) || !Number.isInteger(sig)) return ctx.fail('EINVAL');
  const targets = killTargets(ctx, pid);
  if (targets.length === 0) return ctx.fail('ESRCH');
  if (sig === 0) return 0;
  // The caller last: its own death ends the call.
  const me = pinfoOf(ctx.kernel, ctx.process);
  for (const t of [...targets.filter((x) => x !== me), ...targets.filter((x) => x === me)]) {
    if (sig !== SIGKILL && sendSignal(ctx.kernel, t, sig) === 'done') continue;
    const r = signalExit(ctx, t, sig);
    if (r !== null) return winFail(ctx, r);
  }
  return 0;
}

/** What waitpid found: a child that exited, or (WUNTRACED / WCONTINUED) one that stopped or continued. */
interface Found { child: CygProc; kind: 'exit' | 'stop' | 'cont' }

/** A child that matches `pid` (-1: any) and has something to report, or undefined; null when there is no such child at all. */
function findChild(ctx: Ctx, proc: CygProc, pid: number, options: number): Found | undefined | null {
  const s = ctx.kernel.state.cygwin;
  let any = false;
  for (const cpid of proc.children.keys()) {
    const c = s.byPid.get(cpid);
    if (c === undefined) continue;
    // pid > 0: that child; -1: any; 0: one in the caller's process group; < -1: one in group -pid.
    if (pid > 0 ? cpid !== pid : pid === 0 ? c.pgid !== proc.pgid : pid < -1 ? c.pgid !== -pid : false) continue;
    any = true;
    if (c.exited || ctx.kernel.processes.get(c.winpid)?.state !== 'running') return { child: c, kind: 'exit' };
    if (bit(options, WUNTRACED) && c.stopped !== 0 && c.stopUnreported) return { child: c, kind: 'stop' };
    if (bit(options, WCONTINUED) && c.continuedUnreported) return { child: c, kind: 'cont' };
  }
  return any ? undefined : null;
}

/** A stopped (status (sig << 8) | 0x7f: WIFSTOPPED) or continued (0xffff: WIFCONTINUED) child, reported once, not reaped. */
function reportState(ctx: Ctx, f: Found): number {
  const status = f.kind === 'stop' ? f.child.stopped * 256 + 0x7f : 0xffff;
  if (f.kind === 'stop') f.child.stopUnreported = false;
  else f.child.continuedUnreported = false;
  ctx.record({ type: 'wait', fields: { pid: f.child.pid, status } });
  return f.child.pid;
}

/** Reap: the status, the parent's process handle closed, the pinfo released (PID_REAPED). */
function reap(ctx: Ctx, proc: CygProc, child: CygProc): number {
  if (!child.exited) {
    // Died without pinfo::exit (killed from outside): the Windows exit code (maybe_set_exit_code_from_windows).
    const w = ctx.kernel.processes.get(child.winpid);
    child.exitcode = ((w?.exitStatus ?? 0) % 256) * 256;
    child.exited = true;
  }
  const h = proc.children.get(child.pid)!;
  proc.children.delete(child.pid);
  ctx.call('CloseHandle', [h]);
  releaseChildPinfo(ctx.kernel, ctx.thread, proc, child.pid);
  releasePinfo(ctx.kernel, child);
  ctx.record({ type: 'wait', fields: { pid: child.pid, status: child.exitcode } });
  return child.pid;
}

function waitpid(ctx: Ctx, a: readonly SyscallArg[]): number {
  const [pid, options] = [num(a[0]), num(a[1] ?? 0)];
  const proc = pinfoOf(ctx.kernel, ctx.process);
  const poll = (c: Ctx): number => {
    const found = findChild(c, proc, pid, options);
    if (found === null) return c.fail('ECHILD');
    if (found !== undefined) return found.kind === 'exit' ? reap(c, proc, found.child) : reportState(c, found);
    if (bit(options, WNOHANG)) return 0;
    return c.block('waitpid', poll);
  };
  return poll(ctx);
}

/**
 * The return from a Cygwin call: the caller's pending signals are delivered (signals.ts; the model
 * has no sig thread), unless the call is blocked or the process is gone. A fatal default ends it.
 */
function afterCall(ctx: Ctx, name: string): void {
  if (ctx.thread.pending !== null || ctx.process.state !== 'running') return;
  const proc = ctx.kernel.state.cygwin.byWinpid.get(ctx.process.pid);
  if (proc === undefined || proc.pending.length === 0) return;
  const fatal = deliverPending(ctx.kernel, proc, name);
  if (fatal !== 0) signalExit(ctx, proc, fatal);
}

function cyg(name: string, args: string[], handler: Spec['handler'], failureValue = -1): Spec {
  const withSignals: Spec['handler'] = (ctx, a) => {
    const v = handler(ctx, a);
    afterCall(ctx, name);
    return v;
  };
  return { name, number: -1, args, table: 'cygwin1', kind: 'library', errors: 'cygwin', failureValue: () => failureValue, handler: withSignals };
}

/**
 * dlopen (dlfcn.cc): LoadLibraryExW of the path; the HMODULE (the DLL's base) is the handle, and the
 * DLL joins dll_list as DLL_LOAD (what fork reserves and loads again at the same address). NULL and
 * errno from the Win32 error on failure.
 */
function dlopen(ctx: Ctx, a: readonly SyscallArg[]): number {
  const path = str(a[0]);
  const r = ctx.call('LoadLibraryExW', [path, 0, 0]);
  if (r.error !== null) return winFail(ctx, r);
  const proc = pinfoOf(ctx.kernel, ctx.process);
  const have = proc.dlls.find((d) => d.base === r.value);
  if (have !== undefined) {
    if (have.loaded === true) have.count = (have.count ?? 1) + 1;
    return r.value;
  }
  const mod = ctx.process.space.modules.find((m) => m.base === r.value);
  proc.dlls.push({ name: mod?.name ?? path.slice(path.lastIndexOf('/') + 1), path: mod?.path ?? path, base: r.value, loaded: true, size: mod?.size ?? GRANULARITY, count: 1 });
  return r.value;
}

/** dlclose: FreeLibrary; the last close takes the DLL out of dll_list. */
function dlclose(ctx: Ctx, a: readonly SyscallArg[]): number {
  const h = num(a[0]);
  const proc = pinfoOf(ctx.kernel, ctx.process);
  const d = proc.dlls.find((x) => x.base === h && x.loaded === true);
  const r = ctx.call('FreeLibrary', [h]);
  if (r.error !== null) return winFail(ctx, r);
  if (d !== undefined) {
    d.count = (d.count ?? 1) - 1;
    if (d.count <= 0) proc.dlls.splice(proc.dlls.indexOf(d), 1);
  }
  return 0;
}

export function cygwinCalls(): Spec[] {
  return [
    cyg('mmap', ['addr', 'len', 'prot', 'flags', 'fd', 'off'], mmap),
    cyg('munmap', ['addr', 'len'], munmap),
    cyg('mprotect', ['addr', 'len', 'prot'], mprotect),
    cyg('sbrk', ['incr'], sbrk),
    cyg('getpid', [], (c) => pinfoOf(c.kernel, c.process).pid),
    cyg('getppid', [], (c) => pinfoOf(c.kernel, c.process).ppid),
    cyg('_exit', ['status'], exit),
    cyg('kill', ['pid', 'sig'], kill),
    cyg('sigaction', ['sig', 'sa_handler', 'sa_flags'], sigs.sigaction),
    // signal() returns the previous handler, SIG_ERR (-1) on failure.
    cyg('signal', ['sig', 'func'], sigs.signal),
    cyg('setpgid', ['pid', 'pgid'], sigs.setpgid),
    cyg('getpgid', ['pid'], sigs.getpgid),
    cyg('getpgrp', [], (c) => sigs.getpgid(c, [0])),
    cyg('waitpid', ['pid', 'options'], waitpid),
    cyg('fork', [], cygwinFork),
    cyg('execve', ['path', 'argv', 'envp'], (c, a) => cygwinExecve(c, str(a[0]), strings(a[1]), strings(a[2]))),
    // spawnve(_P_NOWAIT, path, argv, envp)
    cyg('spawnve', ['mode', 'path', 'argv', 'envp'], (c, a) => cygwinSpawnve(c, str(a[1]), strings(a[2]), strings(a[3]))),
    cyg('dlopen', ['path', 'flags'], dlopen, 0),
    cyg('dlclose', ['handle'], dlclose),
    cyg('open', ['path', 'flags', 'mode'], fd.open),
    cyg('close', ['fd'], fd.close),
    cyg('dup', ['oldfd'], fd.dup),
    cyg('dup2', ['oldfd', 'newfd'], fd.dup2),
    cyg('fcntl', ['fd', 'cmd', 'arg'], fd.fcntl),
    cyg('read', ['fd', 'buf', 'count'], fd.read),
    cyg('write', ['fd', 'buf', 'count'], fd.write),
    cyg('lseek', ['fd', 'offset', 'whence'], fd.lseek),
  ];
}
