/**
 * fork as Cygwin 3.5 builds it on Windows (winsup/cygwin/fork.cc, dcrt0.cc, dll_init.cc,
 * mm/mmap.cc): no copy-on-write — a new Windows process of the same program, which must get
 * every DLL at the parent's address, receives the parent's memory by cross-process copies:
 *
 *   parent  dofork: hold_everything, dlls.topsort, setjmp → frok::parent: child_info_fork,
 *           forker_finished event, malloc/cygheap locked, CreateProcessW(same image)
 *   child   (cygwin1.dll start-up) linked DLLs checked against the parent's bases (dll_list::alloc),
 *           pinfo::thisproc (its own Cygwin PID), handle_fork: cygheap, cygwin1.dll data/bss, the
 *           user heap and the exe's data/bss read from the parent (ReadProcessMemory),
 *           fixup_mmaps_after_fork (each private mapping re-made at its address and copied region
 *           by region, NORESERVE pages committed), the stack committed, longjmp, sync_with_parent
 *   parent  ch.sync, cygwin_pid, child.remember, child_copy "stack" and each linked DLL's
 *           data/bss (WriteProcessMemory), resume_child
 *   child   fixup_shms_after_fork, dlls.load_after_fork, fdtab.fixup_after_fork, sync_with_parent
 *   parent  ch.sync ("died waiting for dll loading"), loaded DLLs' data/bss, child.attach,
 *           resume_child, the child's PID returned
 *
 * fork() retries dofork once (with "forkables"). Failures end the child (TerminateProcess) and set
 * errno (EAGAIN), with the console lines Cygwin prints. Simplified (README): the copies run one
 * after the other in the caller's call (the two processes do not run concurrently: the handshake's
 * events are real, but each wait polls an event the other side has already set), the stack copied
 * is the whole committed stack (the simulation has no stack pointer).
 */
import { errnoNumber, type ErrnoName } from '@polykernel/core';
import type { Kernel, SyscallResult, Thread } from '@polykernel/kernel';
import { parsePe } from '@polykernel/pe';
import { CURRENT_PROCESS, FILE_MAP_READ, FILE_MAP_WRITE, WAIT_OBJECT_0, MEM_COMMIT, MEM_RELEASE, MEM_RESERVE, PAGE_NOACCESS, PAGE_READONLY, PAGE_READWRITE, type WindowsSpace } from '@polykernel/windows';
import { errnoFromWin32 } from './errno.js';
import { fdsAfterExec, fdsAfterFork, stdioInit } from './fdtab.js';
import { cygwinPid, pinfoOf, releasePinfo } from './pinfo.js';
import type { Ctx } from './posix.js';
import { CYGHEAP_STORAGE_LOW } from './sysroot.js';
import type { CygProc, CygwinMachine, K, MmapRecord, P } from './types.js';
import { genCreateProtect, isAttached, viewAccessFor } from './filemap.js';
import { sigsAfterExec, sigsAfterFork } from './signals.js';
import { mapChildPinfo, mapSharedRegions } from './shared.js';

const PAGE = 4096;
/** The cygheap: reserved at CYGHEAP_STORAGE_LOW; the part in use is what a forkee reads. */
export const CYGHEAP_RESERVE = 0x10_0000;
export const CYGHEAP_IN_USE = 0x1_0000;
const PROCESS_ALL_ACCESS = 0x1fffff;
const MEM_COMMIT_STATE = 0x1000;

interface Fail { errno: string; msg: string | null }

function step(k: K, pid: number, side: 'parent' | 'child', name: string, detail = ''): void {
  k.state.cygwin.forkSteps.push({ pid, side, step: name, detail, cycles: k.metrics.cycles, bytesCopied: k.metrics.bytesCopiedCrossProcess });
}

const hex = (n: number): string => `0x${n.toString(16).toUpperCase()}`;
const ptr = (n: number): string => `0x${n.toString(16)}`;

/** A console line as Cygwin's system_printf / api_fatal writes it. */
function say(k: K, prog: string, pid: number, text: string): void {
  // strace's program name is the image name without .exe; the time column is 0 (no wall clock).
  k.state.cygwin.console.push(`${'0'.padStart(7)} [main] ${prog.replace(/\.exe$/i, '')} ${pid} ${text}`);
}

/** The committed, accessible regions of [lo, hi) in a process (no NOACCESS, no GUARD/NOCACHE modifiers), by VirtualQueryEx on `h` for `t`. */
function committedRegions(k: K, t: Thread, h: number, lo: number, hi: number): [number, number, number][] {
  return regionsWithProtect(k, t, h, lo, hi).filter(([, , protect]) => protect !== PAGE_NOACCESS && protect < 0x100);
}

/** Every committed region of [lo, hi) in the process behind `h` with its protection (NOACCESS included). */
function regionsWithProtect(k: K, t: Thread, h: number, lo: number, hi: number): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let at = lo; at < hi;) {
    const q = k.syscall(t, 'VirtualQueryEx', [h, at]);
    if (q.error !== null) break;
    const f = q.record!.fields;
    const end = Math.min(hi, (f.BaseAddress as number) + (f.RegionSize as number));
    if (f.State === MEM_COMMIT_STATE) out.push([at, end, f.Protect as number]);
    at = end;
  }
  return out;
}

/**
 * child_copy (fork.cc) with write = true: the parent writes [lo, hi) of its own memory into the
 * child at the same addresses, one WriteProcessMemory (hp, here, here, todo, &done) per committed
 * region. False: a copy failed or came up short (the caller kills the child).
 */
function parentWrites(k: K, t: Thread, hChild: number, lo: number, hi: number): boolean {
  for (const [a, b] of committedRegions(k, t, CURRENT_PROCESS, lo, hi)) {
    const r = k.syscall(t, 'WriteProcessMemory', [hChild, a, a, b - a]);
    if (r.error !== null || r.record?.fields.lpNumberOfBytesWritten !== b - a) return false;
  }
  return true;
}

/**
 * child_copy with write = false, run by the child: ReadProcessMemory (hp, here, here, todo, &done)
 * from the parent into the same addresses, per committed region of the parent. Null: all copied.
 */
function childReads(k: K, t: Thread, hParent: number, lo: number, hi: number): SyscallResult | null {
  for (const [a, b] of committedRegions(k, t, hParent, lo, hi)) {
    const r = k.syscall(t, 'ReadProcessMemory', [hParent, a, a, b - a]);
    if (r.error !== null) return r;
  }
  return null;
}

/** The .data and .bss ranges of a loaded image (its per_module data_start..bss_end), from its PE headers. */
function dataBss(k: K, path: string, base: number): [number, number][] {
  const f = k.state.fs(path);
  if (typeof f === 'string') return [];
  const out: [number, number][] = [];
  for (const s of parsePe(f.bytes).sections) {
    if (s.name === '.data' || s.name === '.bss') out.push([base + s.virtualAddress, base + s.virtualAddress + Math.ceil(Math.max(s.virtualSize, 1) / PAGE) * PAGE]);
  }
  return out;
}

/**
 * dll_crt0 for a Cygwin program's first start (not a fork): pinfo::thisproc, the cygheap reserved
 * at CYGHEAP_STORAGE_LOW with the part in use committed, the linked DLLs recorded (dll_list).
 */
export interface StartupOptions {
  ppid?: number;
  cygstarted?: boolean;
  pgid?: number;
  /** The Cygwin process that spawned or exec'ed this one: its fd table is passed on without the close-on-exec fds. */
  from?: CygProc;
  argv?: readonly string[];
  envp?: readonly string[];
}

export function cygwinStartup(k: K, p: P, opts: StartupOptions = {}): CygProc | string {
  const t = p.threads[0]!;
  const proc = pinfoOf(k, p, opts);
  // child_info_spawn passes argv/envp and the cygheap's fd table; a program started from Windows
  // has its image path as argv[0] (no Windows command line or environment block is modelled) and
  // the console on 0, 1, 2.
  proc.argv = [...(opts.argv ?? [p.space.image?.path ?? p.comm])];
  proc.envp = [...(opts.envp ?? [])];
  if (opts.from === undefined) stdioInit(proc);
  else {
    proc.fds.splice(0, proc.fds.length, ...fdsAfterExec(opts.from));
    // A new program: handlers back to SIG_DFL, SIG_IGN kept, nothing pending.
    proc.sigs = sigsAfterExec(opts.from);
    proc.pending = [];
  }
  const r = k.syscall(t, 'VirtualAlloc', [CYGHEAP_STORAGE_LOW, CYGHEAP_RESERVE, MEM_RESERVE, PAGE_READWRITE]);
  if (r.error !== null) return r.error;
  const sh = mapSharedRegions(k, t, proc);
  if (sh !== null) return sh;
  const c = k.syscall(t, 'VirtualAlloc', [CYGHEAP_STORAGE_LOW, CYGHEAP_IN_USE, MEM_COMMIT, PAGE_READWRITE]);
  if (c.error !== null) return c.error;
  proc.cygheap = CYGHEAP_STORAGE_LOW;
  proc.cygheapUsed = CYGHEAP_IN_USE;
  proc.dlls = p.space.modules.slice(1).map((m) => ({ name: m.name, path: m.path, base: m.base }));
  return proc;
}

interface Child {
  p: P;
  t: Thread;
  /** The parent's handle to the child. */
  hProcess: number;
  proc: CygProc | null;
  /** ch.silentfail (!with_forkables): the first attempt's failures are debug output only. */
  silent: boolean;
  /** The handshake's events, inherited at the same values (child_info's subproc_ready, forker_finished). */
  subprocReady: number;
  forkerFinished: number;
}

/** pinfo.h: the exit code of a forkee that child_info_fork::abort ended. */
export const EXITCODE_FORK_FAILED = 0x80_0000;

/** A POSIX path of the sysroot as the NT path Cygwin prints (/usr/bin is C:\cygwin64\bin). */
function ntPath(path: string): string {
  return `\\??\\C:\\cygwin64${path.replace(/^\/usr\/bin\//, '/bin/').replaceAll('/', '\\')}`;
}

/** child_info_fork::abort: printed unless silentfail, then ExitProcess (EXITCODE_FORK_FAILED). */
function abort(k: K, me: CygProc, c: Child, msg: string): string {
  if (!c.silent) say(k, me.progname, c.p.pid, `child_info_fork::abort: ${msg}`);
  k.syscall(c.t, 'TerminateProcess', [CURRENT_PROCESS, EXITCODE_FORK_FAILED]);
  return msg;
}

/** The child's side up to its first sync: null when it synced, else it has died (exit code set). */
function childStartup(k: K, parent: P, me: CygProc, c: Child): string | null {
  const { t } = c;
  const die = (msg: string): string => {
    say(k, me.progname, c.p.pid, `${c.p.space.image?.path ?? me.progname}: *** fatal error in forked process - ${msg}`);
    k.syscall(t, 'TerminateProcess', [CURRENT_PROCESS, 1]);
    return msg;
  };
  // dll_list::alloc, run for each linked DLL as the loader initialises it: it must be where the parent has it.
  step(k, c.p.pid, 'child', 'dll_list::alloc', 'linked DLLs at the parent\'s addresses');
  for (const d of me.dlls) {
    if (d.loaded === true) continue;
    const mine = c.p.space.modules.find((m) => m.name === d.name);
    if (mine !== undefined && mine.base !== d.base) {
      // child_info_fork::abort: printed unless silentfail, then ExitProcess (EXITCODE_FORK_FAILED).
      return abort(k, me, c, `${ntPath(d.path)}: Loaded to different address: parent(${hex(d.base)}) != child(${hex(mine.base)})`);
    }
  }
  if (k.state.cygwin.crashChildAt === 'startup') return die('injected crash during start-up');
  const proc = pinfoOf(k, c.p, { ppid: me.pid, cygstarted: true, pgid: me.pgid });
  c.proc = proc;
  step(k, c.p.pid, 'child', 'pinfo::thisproc', `Cygwin PID ${proc.pid}`);
  // memory_init and pinfo::init: the shared regions from SHARED_REGIONS_ADDRESS_LOW again (next_address is NO_COPY).
  const sh = mapSharedRegions(k, t, proc);
  if (sh !== null) return die(`CreateFileMapping, ${sh}.  Terminating.`);
  // dll_list::reserve_space: the dlopen'd DLLs' ranges reserved before anything else is allocated.
  step(k, c.p.pid, 'child', 'dlls.reserve_space', `${String(me.dlls.filter((d) => d.loaded === true).length)} dlopen'd DLLs`);
  for (const d of me.dlls) {
    if (d.loaded !== true) continue;
    if (k.syscall(t, 'VirtualAlloc', [d.base, d.size ?? 0x10000, MEM_RESERVE, PAGE_NOACCESS]).error !== null) {
      return abort(k, me, c, `address space needed by '${ntPath(d.path)}' (${hex(d.base)}) is already occupied`);
    }
  }
  const hp = k.syscall(t, 'OpenProcess', [PROCESS_ALL_ACCESS, 0, parent.pid]);
  if (hp.error !== null) return die(`couldn't open parent, ${hp.error}`);
  const hParent = hp.value;
  const fail = (what: string, r: SyscallResult): string => die(`${what} read copy failed, Win32 error ${String(r.errorNumber)} (${String(r.error)})`);
  // cygheap_fixup_in_child: reserve the cygheap where the parent has it and read the part in use.
  step(k, c.p.pid, 'child', 'cygheap_fixup_in_child');
  if (me.cygheap !== 0) {
    const a = k.syscall(t, 'VirtualAlloc', [me.cygheap, CYGHEAP_RESERVE, MEM_RESERVE, PAGE_READWRITE]);
    const b = a.error === null ? k.syscall(t, 'VirtualAlloc', [me.cygheap, me.cygheapUsed, MEM_COMMIT, PAGE_READWRITE]) : a;
    if (b.error !== null) return die(`couldn't reserve space for cygwin's heap (${ptr(me.cygheap)}), Win32 error ${String(b.errorNumber)}`);
    const r = childReads(k, t, hParent, me.cygheap, me.cygheap + me.cygheapUsed);
    if (r !== null) return fail('cygheap', r);
    proc.cygheap = me.cygheap;
    proc.cygheapUsed = me.cygheapUsed;
  }
  // The cygheap holds the fd table (the same open files, FD_CLOEXEC kept); environ and argv live
  // in the copied user memory.
  const fds = fdsAfterFork(k, t, hParent, me);
  if (typeof fds === 'string') return die(`fixup_after_fork: DuplicateHandle failed, ${fds}`);
  proc.fds.splice(0, proc.fds.length, ...fds);
  proc.argv = [...me.argv];
  proc.envp = [...me.envp];
  proc.dlls = me.dlls.map((d) => ({ ...d }));
  // global_sigs lives in cygwin1.dll's data (copied below): the same actions; nothing pending.
  proc.sigs = sigsAfterFork(me);
  // handle_fork: "dll data", "dll bss" of cygwin1.dll, "user heap", and the exe's data/bss.
  step(k, c.p.pid, 'child', 'handle_fork: dll data/bss, user heap, exe data/bss');
  const cyg1 = me.dlls.find((d) => d.name.toLowerCase() === 'cygwin1.dll');
  const ranges: [number, number][] = [];
  if (cyg1 !== undefined) ranges.push(...dataBss(k, cyg1.path, cyg1.base));
  if (me.heapStart !== 0) {
    const a = k.syscall(t, 'VirtualAlloc', [me.heapStart, me.heapEnd - me.heapStart, MEM_RESERVE, PAGE_NOACCESS]);
    const top = Math.ceil(me.heapTop / PAGE) * PAGE;
    const b = a.error === null && top > me.heapStart ? k.syscall(t, 'VirtualAlloc', [me.heapStart, top - me.heapStart, MEM_COMMIT, PAGE_READWRITE]) : a;
    if (b.error !== null) return die(`couldn't allocate heap, Win32 error ${String(b.errorNumber)}`);
    Object.assign(proc, { heapStart: me.heapStart, heapTop: me.heapTop, heapEnd: me.heapEnd });
    const rh = childReads(k, t, hParent, me.heapStart, top);
    if (rh !== null) return fail('user heap', rh);
  }
  const exe = parent.space.modules[0];
  if (exe !== undefined) ranges.push(...dataBss(k, exe.path, exe.base));
  for (const [lo, hi] of ranges) {
    const r = childReads(k, t, hParent, lo, hi);
    if (r !== null) return fail('data/bss/heap', r);
  }
  // fixup_mmaps_after_fork: each private mapping at the same address, its committed regions read.
  step(k, c.p.pid, 'child', 'fixup_mmaps_after_fork', `${String(me.mmaps.length)} mappings`);
  for (const rec of me.mmaps) {
    if (rec.fd !== undefined) {
      const err = fixupFileMapping(k, t, hParent, me, c, rec);
      if (err !== null) return die(err);
      proc.mmaps.push({ ...rec, mapped: Uint8Array.from(rec.mapped) });
      continue;
    }
    if (rec.section !== undefined) {
      // fhandler_dev_zero::fixup_mmap_after_fork: the inherited section handle viewed at the
      // parent's address — shared pages, nothing copied.
      const v = k.syscall(t, 'MapViewOfFileEx', [rec.section, Math.floor(rec.prot / 2) % 2 === 1 ? FILE_MAP_WRITE : FILE_MAP_READ, 0, rec.len, rec.addr]);
      if (v.error !== null || v.value !== rec.addr) {
        const q = k.syscall(t, 'VirtualQuery', [rec.addr]).record?.fields;
        say(k, me.progname, c.p.pid, `requested ${hex(rec.addr)} != ${hex(v.error === null ? v.value : 0)} mem alloc base ${hex((q?.AllocationBase as number | undefined) ?? 0)}, state ${hex((q?.State as number | undefined) ?? 0)}, size ${String(q?.RegionSize ?? 0)}, Win32 error ${String(v.errorNumber)}`);
        return die(`fixup_mmap_after_fork for fd -1 failed, address ${hex(rec.addr)}, Win32 error ${String(v.errorNumber)}`);
      }
      for (const [lo, hi, protect] of regionsWithProtect(k, t, hParent, rec.addr, rec.addr + rec.len)) {
        const own = k.syscall(t, 'VirtualQuery', [lo]).record?.fields.Protect;
        if (own !== protect) k.syscall(t, 'VirtualProtect', [lo, hi - lo, protect]);
      }
      proc.mmaps.push({ ...rec, mapped: Uint8Array.from(rec.mapped) });
      continue;
    }
    const a = k.syscall(t, 'VirtualAlloc', [rec.addr, rec.len, MEM_RESERVE, PAGE_READWRITE]);
    if (a.error !== null && isAttached(rec)) {
      // A mapping past a file's end that cannot be re-made is only a warning (fixup_mmaps_after_fork).
      say(k, me.progname, c.p.pid, 'Warning: Fixup mapping beyond EOF failed');
      continue;
    }
    if (a.error !== null) return die(`fixup_mmaps_after_fork: VirtualAlloc failed for MAP_PRIVATE address ${ptr(rec.addr)}, Win32 error ${String(a.errorNumber)}`);
    for (const [lo, hi, protect] of committedRegions(k, t, hParent, rec.addr, rec.addr + rec.len)) {
      const cm = k.syscall(t, 'VirtualAlloc', [lo, hi - lo, MEM_COMMIT, PAGE_READWRITE]);
      if (cm.error !== null) return die(`fixup_mmaps_after_fork: VirtualAlloc failed for MAP_PRIVATE address ${ptr(lo)}, Win32 error ${String(cm.errorNumber)}`);
      if (childReads(k, t, hParent, lo, hi) !== null) return die(`fixup_mmaps_after_fork: ReadProcessMemory failed for MAP_PRIVATE address ${ptr(lo)}`);
      if (protect !== PAGE_READWRITE) k.syscall(t, 'VirtualProtect', [lo, hi - lo, protect]);
    }
    proc.mmaps.push({ ...rec, mapped: Uint8Array.from(rec.mapped) });
  }
  // child_info_fork::alloc_stack: the parent's stack range, committed at the same address.
  step(k, c.p.pid, 'child', 'alloc_stack');
  if (c.p.space.stackBase !== parent.space.stackBase) {
    return die(`fork: can't reserve memory for parent stack ${ptr(parent.space.stackLimit)} - ${ptr(parent.space.stackBase)}, (child has ${ptr(c.p.space.stackLimit)} - ${ptr(c.p.space.stackBase)})`);
  }
  if (parent.space.stackLimit < c.p.space.stackLimit) {
    k.syscall(t, 'VirtualAlloc', [parent.space.stackLimit, c.p.space.stackLimit - parent.space.stackLimit, MEM_COMMIT, PAGE_READWRITE]);
  }
  k.syscall(t, 'CloseHandle', [hParent]);
  step(k, c.p.pid, 'child', 'longjmp');
  step(k, c.p.pid, 'child', 'sync_with_parent', 'after longjmp');
  k.syscall(t, 'SetEvent', [c.subprocReady]);
  return null;
}

/**
 * fhandler_disk_file::fixup_mmap_after_fork and the region loop of fixup_mmaps_after_fork for a
 * file mapping: the inherited section handle viewed at the parent's address with the protection
 * mmap gave it; then, per committed region of the parent's view, a private mapping's pages are
 * read from the parent ("Copy-on-write pages must be copied to the child": every committed page,
 * written or not; a NOACCESS region made READONLY in the parent for the read and put back; a
 * written WRITECOPY page, READWRITE in the parent, is given WRITECOPY — `mbi.Protect <<= 1`), and
 * every region gets the parent's protection. Null, or api_fatal's message.
 */
function fixupFileMapping(k: K, t: Thread, hParent: number, me: CygProc, c: Child, rec: MmapRecord): string | null {
  const protect = genCreateProtect(rec.openflags ?? 0, rec.flags);
  const v = k.syscall(t, 'MapViewOfFileEx', [rec.section ?? 0, viewAccessFor(protect), rec.offset ?? 0, rec.len, rec.addr]);
  if (v.error !== null || v.value !== rec.addr) {
    const q = k.syscall(t, 'VirtualQuery', [rec.addr]).record?.fields;
    say(k, me.progname, c.p.pid, `requested ${ptr(rec.addr)} != ${ptr(v.error === null ? v.value : 0)} mem alloc base ${ptr((q?.AllocationBase as number | undefined) ?? 0)}, state ${ptr((q?.State as number | undefined) ?? 0)}, size ${String(q?.RegionSize ?? 0)}, Win32 error ${String(v.errorNumber)}`);
    return 'recreate_mmaps_after_fork_failed';
  }
  const priv = Math.floor(rec.flags / 2) % 2 === 1;
  for (let at = rec.addr; at < rec.addr + rec.len;) {
    const q = k.syscall(t, 'VirtualQueryEx', [hParent, at]);
    if (q.error !== null) {
      say(k, me.progname, c.p.pid, `VirtualQueryEx failed for MAP_PRIVATE address ${ptr(at)}, Win32 error ${String(q.errorNumber)}`);
      return 'recreate_mmaps_after_fork_failed';
    }
    const f = q.record!.fields;
    const size = Math.min(rec.addr + rec.len, (f.BaseAddress as number) + (f.RegionSize as number)) - at;
    let prot = f.Protect as number;
    if (f.State === MEM_COMMIT_STATE) {
      if (priv) {
        if (prot === PAGE_NOACCESS) k.syscall(t, 'VirtualProtectEx', [hParent, at, size, PAGE_READONLY]);
        else if ((f.AllocationProtect === 0x08 || f.AllocationProtect === 0x80) && (prot === PAGE_READWRITE || prot === 0x40)) prot *= 2;
        const r = k.syscall(t, 'ReadProcessMemory', [hParent, at, at, size]);
        if (r.error !== null) {
          say(k, me.progname, c.p.pid, `ReadProcessMemory failed for MAP_PRIVATE address ${ptr(at)}, Win32 error ${String(r.errorNumber)}`);
          return 'recreate_mmaps_after_fork_failed';
        }
        if (prot === PAGE_NOACCESS) k.syscall(t, 'VirtualProtectEx', [hParent, at, size, PAGE_NOACCESS]);
      }
      // "Set child page protection to parent protection" — its failure ends the fixup.
      const vp = k.syscall(t, 'VirtualProtect', [at, size, prot]);
      if (vp.error !== null) {
        const m = k.syscall(t, 'VirtualQuery', [at]).record?.fields;
        say(k, me.progname, c.p.pid, `VirtualProtect failed for address ${ptr(at)}, parentstate: ${ptr(f.State)}, state: ${ptr((m?.State as number | undefined) ?? 0)}, parentprot: ${ptr(prot)}, prot: ${ptr((m?.Protect as number | undefined) ?? 0)}, Win32 error ${String(vp.errorNumber)}`);
        return 'recreate_mmaps_after_fork_failed';
      }
    }
    at += size;
  }
  return null;
}

/** frok::child after the parent's copies: fixups, then the second sync (or death while loading DLLs). */
function childFixups(k: K, me: CygProc, c: Child): boolean {
  // The parent's copies are done when forker_finished is set (resume_child): the child's wait returns.
  if (k.syscall(c.t, 'WaitForSingleObject', [c.forkerFinished, 0]).value !== WAIT_OBJECT_0) return false;
  step(k, c.p.pid, 'child', 'fixup_shms_after_fork');
  const loaded = me.dlls.filter((d) => d.loaded === true);
  step(k, c.p.pid, 'child', 'dlls.load_after_fork', loaded.length === 0 ? 'no dlopen\'d DLLs' : loaded.map((d) => d.name).join(', '));
  // dll_list::load_after_fork: the reservation given back, the DLL loaded again; it must land there.
  for (const d of loaded) {
    k.syscall(c.t, 'VirtualFree', [d.base, 0, MEM_RELEASE]);
    const r = k.syscall(c.t, 'LoadLibraryExW', [d.path, 0, 0]);
    if (r.error !== null || r.value !== d.base) {
      abort(k, me, c, `unable to remap ${ntPath(d.path)} to same address as parent (${hex(d.base)}) - try running rebaseall`);
      return false;
    }
  }
  if (k.state.cygwin.crashChildAt === 'dll-loading') {
    say(k, me.progname, c.p.pid, `${c.p.space.image?.path ?? me.progname}: *** fatal error in forked process - injected crash while loading DLLs`);
    k.syscall(c.t, 'TerminateProcess', [CURRENT_PROCESS, 1]);
    return false;
  }
  step(k, c.p.pid, 'child', 'fdtab.fixup_after_fork');
  step(k, c.p.pid, 'child', 'sync_with_parent', 'performed fork fixups and dynamic dll loading');
  k.syscall(c.t, 'SetEvent', [c.subprocReady]);
  // The child is done with the handshake: its inherited copies of the events are closed.
  k.syscall(c.t, 'CloseHandle', [c.subprocReady]);
  k.syscall(c.t, 'CloseHandle', [c.forkerFinished]);
  return true;
}

/** frok::parent: the child's PID, or why it failed (errno and the errmsg fork.cc formats). */
function frokParent(ctx: Ctx, me: CygProc, silent: boolean): number | Fail {
  const k = ctx.kernel;
  const t = ctx.thread;
  const parent = ctx.process;
  step(k, parent.pid, 'parent', 'child_info_fork', `stackbase ${ptr(parent.space.stackBase)}, stacklimit ${ptr(parent.space.stackLimit)}`);
  // child_info's constructor: subproc_ready, auto-reset, inheritable (sec_all); frok::parent: forker_finished.
  const ready = ctx.call('CreateEventW', [1, 0, 0, '']);
  step(k, parent.pid, 'parent', 'CreateEvent', 'forker_finished');
  const finished = ctx.call('CreateEventW', [1, 0, 0, '']);
  if (ready.error !== null || finished.error !== null) return { errno: errnoFromWin32(ready.error ?? finished.error), msg: 'unable to allocate forker_finished event' };
  const closeEvents = (): void => {
    ctx.call('CloseHandle', [ready.value]);
    ctx.call('CloseHandle', [finished.value]);
  };
  step(k, parent.pid, 'parent', '__malloc_lock, cygheap->lock');
  const image = parent.space.image?.path ?? '';
  step(k, parent.pid, 'parent', 'CreateProcessW', image);
  // Created suspended here so that what a workload injects is in place before the loader runs.
  // bInheritHandles: the child gets the parent's inheritable handles at the same values (the
  // sections behind MAP_SHARED mappings among them).
  const cp = ctx.call('CreateProcessW', [image, 0x4, 1]);
  if (cp.error !== null) {
    closeEvents();
    return { errno: errnoFromWin32(cp.error), msg: `CreateProcessW failed for '${image === '' ? me.progname : image}'` };
  }
  const info = cp.record!.fields;
  const child: Child = { p: k.processes.get(info.dwProcessId as number)!, t: null as unknown as Thread, hProcess: info.hProcess as number, proc: null, silent, subprocReady: ready.value, forkerFinished: finished.value };
  child.t = child.p.threads[0]!;
  for (const inj of k.state.cygwin.injections) {
    ctx.call('VirtualAllocEx', [child.hProcess, inj.at, inj.size, MEM_RESERVE + MEM_COMMIT, PAGE_READONLY]);
  }
  ctx.call('ResumeThread', [info.hThread as number]);
  ctx.call('CloseHandle', [info.hThread as number]);
  const cleanup = (f: Fail): Fail => {
    if (child.p.state === 'running') ctx.call('TerminateProcess', [child.hProcess, 1]);
    ctx.call('CloseHandle', [child.hProcess]);
    closeEvents();
    if (child.proc !== null) releasePinfo(k, child.proc);
    return f;
  };
  const alive = (): boolean => child.p.state === 'running';
  // child_info::sync: wait for subproc_ready or the child's process handle (its death).
  const sync = (): boolean => ctx.call('WaitForMultipleObjects', [2, [String(ready.value), String(child.hProcess)], 0, 0]).value === WAIT_OBJECT_0;
  if (alive()) childStartup(k, parent, me, child);
  step(k, parent.pid, 'parent', 'ch.sync', 'subproc_ready');
  // frok::error: a child that child_info_fork::abort ended leaves errmsg unset (nothing printed).
  if (!sync()) {
    const code = child.p.exitStatus ?? 0;
    return cleanup({ errno: 'EAGAIN', msg: code === EXITCODE_FORK_FAILED ? null : `forked process ${String(child.p.pid)} died unexpectedly, retry 0, exit code ${hex(code)}` });
  }
  const childPid = cygwinPid(k, child.p.pid);
  step(k, parent.pid, 'parent', 'child.remember', `Cygwin PID ${String(childPid)}, Windows PID ${String(child.p.pid)}`);
  if (!mapChildPinfo(k, t, me, childPid)) return cleanup({ errno: 'EAGAIN', msg: 'child remember failed' });
  step(k, parent.pid, 'parent', 'child_copy', 'stack');
  if (!parentWrites(k, t, child.hProcess, parent.space.stackLimit, parent.space.stackBase)) return cleanup({ errno: 'EAGAIN', msg: `pid ${String(child.p.pid)}, exitval ${hex(0)}` });
  for (const d of me.dlls) {
    if (d.name.toLowerCase() === 'cygwin1.dll' || d.loaded === true) continue;
    step(k, parent.pid, 'parent', 'child_copy', `linked dll data/bss ${d.name}`);
    for (const [lo, hi] of dataBss(k, d.path, d.base)) {
      if (!parentWrites(k, t, child.hProcess, lo, hi)) return cleanup({ errno: 'EAGAIN', msg: 'couldn\'t copy linked dll data/bss' });
    }
  }
  step(k, parent.pid, 'parent', 'resume_child');
  ctx.call('SetEvent', [finished.value]);
  childFixups(k, me, child);
  step(k, parent.pid, 'parent', 'ch.sync', 'dll loading');
  if (!sync()) return cleanup({ errno: 'EAGAIN', msg: child.p.exitStatus === EXITCODE_FORK_FAILED ? null : 'died waiting for dll loading' });
  // fork.cc: "Now fill data/bss of any DLLs that were loaded in the parent process".
  for (const d of me.dlls) {
    if (d.loaded !== true) continue;
    step(k, parent.pid, 'parent', 'child_copy', `loaded dll data/bss ${d.name}`);
    for (const [lo, hi] of dataBss(k, d.path, d.base)) {
      if (!parentWrites(k, t, child.hProcess, lo, hi)) return cleanup({ errno: 'EAGAIN', msg: 'couldn\'t copy loaded dll data/bss' });
    }
  }
  step(k, parent.pid, 'parent', 'child.attach');
  step(k, parent.pid, 'parent', 'resume_child');
  ctx.call('SetEvent', [finished.value]);
  closeEvents();
  me.children.set(childPid, child.hProcess);
  return childPid;
}

/** dofork: hold_everything, dlls.topsort, setjmp, frok::parent; a failure is logged as Cygwin does. */
function dofork(ctx: Ctx, me: CygProc, withForkables: boolean): number | Fail {
  const k = ctx.kernel;
  step(k, ctx.process.pid, 'parent', 'dofork', withForkables ? 'with forkables' : '');
  step(k, ctx.process.pid, 'parent', 'hold_everything');
  step(k, ctx.process.pid, 'parent', 'dlls.topsort');
  step(k, ctx.process.pid, 'parent', 'setjmp');
  const r = frokParent(ctx, me, !withForkables);
  if (typeof r === 'number') return r;
  k.state.cygwin.forkFailures++;
  // system_printf, or debug_printf only when the attempt was silentfail (the first, without forkables).
  if (r.msg !== null && withForkables) say(k, me.progname, me.pid, `dofork: child -1 - ${r.msg}, errno ${String(errnoNumberOf(r.errno))}`);
  return r;
}

function errnoNumberOf(name: string): number {
  return errnoNumber('cygwin', name as ErrnoName) ?? 0;
}

/** fork(): dofork, and once more with forkables if it failed (fork.cc). */
export function cygwinFork(ctx: Ctx): number {
  const k = ctx.kernel;
  const me = pinfoOf(k, ctx.process);
  const before = k.metrics.cycles;
  const copied = k.metrics.bytesCopiedCrossProcess;
  let r = dofork(ctx, me, false);
  if (typeof r !== 'number') r = dofork(ctx, me, true);
  if (typeof r !== 'number') return ctx.fail(r.errno, r.msg ?? undefined);
  const probe = k.bus.probe('fork');
  if (probe.active) {
    const child = k.state.cygwin.byPid.get(r);
    probe.fire({ pid: ctx.process.pid, child: child?.winpid ?? 0, flags: 0, vmas: me.mmaps.length, ptes: Math.round((k.metrics.bytesCopiedCrossProcess - copied) / PAGE), tables: 0, cycles: k.metrics.cycles - before });
  }
  return r;
}

export type CygwinKernel = Kernel<WindowsSpace, CygwinMachine>;

/** spawnve(_P_NOWAIT) (spawn.cc child_info_spawn::worker): CreateProcessW of the program, no copies; the child's PID. */
export function cygwinSpawnve(ctx: Ctx, path: string, argv?: readonly string[], envp?: readonly string[]): number {
  const k = ctx.kernel;
  const me = pinfoOf(k, ctx.process);
  const made = createForSpawn(ctx, path);
  if (typeof made === 'number') return made;
  const proc = cygwinStartup(k, made.child, { ppid: me.pid, cygstarted: true, pgid: me.pgid, from: me, argv: argv ?? [path], envp: envp ?? me.envp });
  if (typeof proc === 'string') {
    ctx.call('TerminateProcess', [made.hProcess, 1]);
    ctx.call('CloseHandle', [made.hProcess]);
    return ctx.fail(errnoFromWin32(proc));
  }
  me.children.set(proc.pid, made.hProcess);
  mapChildPinfo(k, ctx.thread, me, proc.pid);
  return proc.pid;
}

/**
 * path_conv with exe_suffixes (path.cc, spawn.cc perhaps_suffix): "/usr/bin/true" finds
 * "/usr/bin/true.exe" when only that exists.
 */
export function exePath(k: K, path: string): string {
  if (typeof k.state.fs(path) !== 'string' || path.toLowerCase().endsWith('.exe')) return path;
  return typeof k.state.fs(`${path}.exe`) === 'string' ? path : `${path}.exe`;
}

/**
 * What spawnve and execve share (spawn.cc child_info_spawn::worker): CreateProcessW of the
 * program, its thread handle closed; the child and its process handle, or the failure's return
 * value (the Win32 error as errno, ENOEXEC when the loader ended the child).
 */
function createForSpawn(ctx: Ctx, pathIn: string): { child: P; hProcess: number } | number {
  const path = exePath(ctx.kernel, pathIn);
  // bInheritHandles: the fds' inheritable handles (not close-on-exec) arrive at the same values.
  const cp = ctx.call('CreateProcessW', [path, 0, 1]);
  if (cp.error !== null) return ctx.fail(errnoFromWin32(cp.error));
  const info = cp.record!.fields;
  ctx.call('CloseHandle', [info.hThread as number]);
  const child = ctx.kernel.processes.get(info.dwProcessId as number)!;
  if (child.state !== 'running') {
    ctx.call('CloseHandle', [info.hProcess as number]);
    return ctx.fail('ENOEXEC', `the loader ended ${path} with ${hex(child.exitStatus ?? 0)}`);
  }
  return { child, hProcess: info.hProcess as number };
}

/**
 * execve (spawn.cc, _P_OVERLAY): a new Windows process for the program that keeps the caller's
 * Cygwin PID (pinfo's dwProcessId moves to it); the old Windows process stays as a stub that
 * waits for the new one and exits with its exit code (here: when the new one exits, onExit ends
 * the stub). Its mappings and heap are not inherited. Returns 0 to the stub.
 */
export function cygwinExecve(ctx: Ctx, path: string, argv?: readonly string[], envp?: readonly string[]): number {
  const k = ctx.kernel;
  const me = pinfoOf(k, ctx.process);
  const made = createForSpawn(ctx, path);
  if (typeof made === 'number') return made;
  const next = made.child;
  const s = k.state.cygwin;
  const stub = me.winpid;
  s.byWinpid.delete(stub);
  me.winpid = next.pid;
  me.stubWinpid = stub;
  me.stubHandle = made.hProcess;
  me.mmaps.length = 0;
  Object.assign(me, { heapStart: 0, heapTop: 0, heapEnd: 0, cygheap: 0, cygheapUsed: 0, progname: next.comm });
  s.byWinpid.set(next.pid, me);
  const r = cygwinStartup(k, next, { ppid: me.ppid, cygstarted: me.cygstarted, from: me, argv: argv ?? [path], envp: envp ?? me.envp });
  if (typeof r === 'string') return ctx.fail(errnoFromWin32(r));
  return 0;
}
