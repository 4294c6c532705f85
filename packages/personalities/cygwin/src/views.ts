/**
 * Cygwin's own views: /proc/<pid>/maps as winsup/cygwin/fhandler/process.cc (format_process_maps,
 * Cygwin 3.5) prints it — a VirtualQueryEx walk whose regions of one allocation with the same
 * effective permissions are coalesced, each printed with
 * `"%08lx-%08lx %s %08lx %04x:%04x %U   "` padded with spaces to 62 columns, then the name — a
 * ps-style line per Cygwin process (PID, PPID, WINPID, COMMAND), and the Windows personality's
 * VirtualQuery walk. The device and inode columns are stat()'s of the image's or mapped file
 * (`st_dev >> 16`, `st_dev & 0xffff`, st_ino — here the simulated file's dev pair and inode), 0
 * for everything else; the shared regions are named from cygheap->shared_regions (shared.ts).
 */
import type { ViewRow, ViewSpec } from '@polykernel/kernel';
import {
  addressRows, MEM_FREE, MEM_IMAGE, MEM_MAPPED, MEM_RESERVE, PAGE_EXECUTE, PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE, PAGE_EXECUTE_WRITECOPY, PAGE_GUARD,
  PAGE_READONLY, PAGE_READWRITE, PAGE_WRITECOPY, query, renderAddress, walk, type MemoryBasicInformation, type WindowsSpace,
} from '@polykernel/windows';
import { fileObjectOf } from './fdtab.js';
import type { CygwinMachine, K, P } from './types.js';

/** The process heap's allocation (what !address calls "Heap"): RtlQueryProcessDebugInformation's heap 0. */
function heapBases(s: WindowsSpace): Set<number> {
  return new Set(addressRows(s).filter((r) => String(r.Usage).startsWith('Heap')).map((r) => r.AllocationBase as number));
}

const hex8 = (n: number): string => n.toString(16).padStart(8, '0');
const has = (p: number, bits: readonly number[]): boolean => bits.includes(p % 0x100);
const RO = [PAGE_EXECUTE_READ, PAGE_READONLY];
const RW = [PAGE_EXECUTE_READWRITE, PAGE_READWRITE, PAGE_EXECUTE_WRITECOPY, PAGE_WRITECOPY];
const X = [PAGE_EXECUTE, PAGE_EXECUTE_READ, PAGE_EXECUTE_READWRITE, PAGE_EXECUTE_WRITECOPY];
const WC = [PAGE_EXECUTE_WRITECOPY, PAGE_WRITECOPY];
/** KUSER_SHARED_DATA (&SharedUserData). */
const SHARED_USER_DATA = 0x7ffe_0000;

/** format_process_maps' access flags: "===p"/"===s" for reserved, rwx and s/g/p for committed, "" for free. */
function flagsOf(m: MemoryBasicInformation): string {
  if (m.State === MEM_FREE) return '';
  const mapped = m.Type === MEM_MAPPED;
  if (m.State === MEM_RESERVE) return `===${mapped ? 's' : 'p'}`;
  const p = m.Protect;
  const last = mapped && !has(p, WC) ? 's' : Math.floor(p / PAGE_GUARD) % 2 === 1 ? 'g' : 'p';
  return `${has(p, [...RO, ...RW]) ? 'r' : '-'}${has(p, RW) ? 'w' : '-'}${has(p, X) ? 'x' : '-'}${last}`;
}

/** conv_to_posix_path of an image's file: the sysroot's /usr/bin is Cygwin's; other drives are /cygdrive/c. */
function posixPath(path: string): string {
  return path.startsWith('/usr/') || path.startsWith('/bin/') ? path : `/cygdrive/c${path}`;
}

/** What format_process_maps names a new allocation: its name, and the st_dev / st_ino of the file it stat()ed (0 otherwise). */
interface Named { name: string; dev: [number, number]; ino: number }

/**
 * The file behind an image or a file view (NtQueryVirtualMemory's MemorySectionName): a loaded
 * module's path, or a data-file section's; a pagefile-backed section has none.
 */
function sectionFile(p: P, m: MemoryBasicInformation): string | null {
  const mod = p.space.modules.find((x) => m.AllocationBase === x.base);
  if (mod !== undefined) return mod.path;
  const v = p.space.vads.overlapping(m.AllocationBase, m.AllocationBase + 1)[0];
  return v?.section?.path ?? null;
}

/**
 * The name format_process_maps gives a new allocation: for an image or a file view, the file's
 * POSIX path and stat()'s st_dev / st_ino; otherwise thread_info, heap_info, then the fixed places
 * and cygheap->shared_regions.
 */
function allocationName(k: K, p: P, m: MemoryBasicInformation): Named {
  const s = p.space;
  const abase = m.AllocationBase;
  const tid = String(p.threads[0]?.tid ?? 0);
  const plain = (name: string): Named => ({ name, dev: [0, 0], ino: 0 });
  if (m.Type === MEM_IMAGE || m.Type === MEM_MAPPED) {
    const path = sectionFile(p, m);
    if (path !== null) {
      const st = k.state.fs(path);
      return typeof st === 'string' ? plain(posixPath(path)) : { name: posixPath(path), dev: st.dev, ino: st.ino };
    }
  }
  // thread_info::fill_if_match: the TEB (two pages) and the stack [DeallocationStack, StackBase).
  const shared = m.Type === MEM_MAPPED ? ' shared' : '';
  if (s.teb > 0 && abase >= s.teb && abase < s.teb + 0x2000) return plain(`[teb (tid ${tid})${shared}]`);
  const stackLow = s.stackBase > 0 ? query(s, s.stackBase - 1)?.AllocationBase : undefined;
  if (stackLow !== undefined && abase >= stackLow && abase < s.stackBase) return plain(`[stack (tid ${tid})${shared}]`);
  // heap_info::fill_if_match: the process heap is heap 0, the default one, HEAP_GROWABLE.
  if (heapBases(s).has(abase)) return plain('[win heap 0 default grow]');
  if (abase === s.peb) return plain('[peb]');
  if (abase === SHARED_USER_DATA) return plain('[shared-user-data]');
  const proc = k.state.cygwin.byWinpid.get(p.pid);
  if (proc !== undefined && abase !== 0) {
    if (abase === proc.shared.cygwinShared) return plain('[cygwin-shared]');
    if (abase === proc.shared.userShared) return plain('[cygwin-user-shared]');
    if (abase === proc.shared.myself) return plain('[procinfo]');
    if (abase === proc.cygheap) return plain('[cygheap]');
    if (abase === proc.heapStart) return plain('[heap]');
  }
  return plain('');
}

interface Region { flags: string; abase: number; rbase: number; rend: number; name: string; dev: [number, number]; ino: number }

/**
 * format_process_maps' loop: VirtualQueryEx from 0; a region of the same allocation with the same
 * flags extends the current one; otherwise the current one is printed (if not free) and a new
 * allocation is named. The last pass clears the name first, as the C code does (st is kept).
 */
export function mapsRegions(k: K, p: P): Region[] {
  const out: Region[] = [];
  const mbis = walk(p.space);
  let cur: Region = { flags: '', abase: 1, rbase: 0, rend: 0, name: '', dev: [0, 0], ino: 0 };
  let named: Named = { name: '', dev: [0, 0], ino: 0 };
  for (let i = 0; i <= mbis.length; i++) {
    const last = i === mbis.length;
    if (last) named = { ...named, name: '' };
    const m = mbis[Math.min(i, mbis.length - 1)]!;
    const next: Region = { flags: flagsOf(m), abase: m.AllocationBase, rbase: m.BaseAddress, rend: m.BaseAddress + m.RegionSize, name: '', dev: [0, 0], ino: 0 };
    const newbase = next.abase !== cur.abase;
    if (!last && !newbase && next.flags === cur.flags) {
      cur.rend = next.rend;
      continue;
    }
    if (cur.flags !== '') out.push({ ...cur, ...named });
    cur = next;
    if (newbase && !last && m.State !== MEM_FREE) named = allocationName(k, p, m);
  }
  return out;
}

const hex4 = (n: number): string => n.toString(16).padStart(4, '0');

export function mapsRows(k: K, p: P): ViewRow[] {
  return mapsRegions(k, p).map((r) => ({ start: r.rbase, end: r.rend, perms: r.flags, offset: r.rbase - r.abase, dev: `${hex4(r.dev[0])}:${hex4(r.dev[1])}`, inode: r.ino, pathname: r.name }));
}

/** The text: `%08lx-%08lx %s %08lx %04x:%04x %U   ` padded to 62 columns, then the name and '\n'. */
export function renderMaps(k: K, p: P): string {
  return mapsRegions(k, p).map((r) => `${`${hex8(r.rbase)}-${hex8(r.rend)} ${r.flags} ${hex8(r.rbase - r.abase)} ${hex4(r.dev[0])}:${hex4(r.dev[1])} ${String(r.ino)}   `.padEnd(62)}${r.name}\n`).join('');
}

export function psRows(k: K): ViewRow[] {
  return [...k.state.cygwin.byPid.values()].sort((a, b) => a.pid - b.pid).map((c) => ({
    PID: c.pid, PPID: c.ppid, PGID: c.pgid, WINPID: c.winpid, STATUS: c.exited ? 'exited' : '', COMMAND: k.processes.get(c.winpid)?.space.image?.path ?? c.progname,
  }));
}

/** ps(1) as Cygwin's procps-less ps prints it: PID PPID PGID WINPID TTY UID STIME COMMAND (TTY, UID and STIME not modelled). */
export function renderPs(k: K): string {
  const head = '      PID    PPID    PGID     WINPID   TTY         UID    STIME COMMAND';
  const lines = psRows(k).map((r) => `${String(r.PID).padStart(9)}${String(r.PPID).padStart(8)}${String(r.PGID).padStart(8)}${String(r.WINPID).padStart(11)}  ?      ${'0'.padStart(10)} 00:00:00 ${String(r.COMMAND)}`);
  return [head, ...lines].join('\n') + '\n';
}

/** /proc/<pid>/cmdline and environ (format_process_cmdline / _environ): each string NUL-terminated. */
function nulJoined(list: readonly string[]): string {
  return list.map((x) => `${x}\0`).join('');
}

/** /proc/<pid>/fd as `ls -l` names it: each open fd and what it refers to, with FD_CLOEXEC. */
export function fdRows(k: K, p: P): ViewRow[] {
  const proc = k.state.cygwin.byWinpid.get(p.pid);
  if (proc === undefined) return [];
  return proc.fds.flatMap((h, fd) => (h === null ? [] : [{ fd, path: h.file.path, cloexec: h.cloexec, position: fileObjectOf(p, h)?.position ?? h.file.position, handle: h.handle ?? 0 }]));
}

export function cygwinViews(): ViewSpec<WindowsSpace, CygwinMachine>[] {
  const pinfo = (k: K, p: P) => k.state.cygwin.byWinpid.get(p.pid);
  return [
    { name: 'maps', title: '/proc/<pid>/maps (Cygwin)', render: (k, p) => renderMaps(k, p), rows: (k, p) => mapsRows(k, p) },
    { name: 'ps', title: 'ps (Cygwin PID and WINPID)', render: (k) => renderPs(k), rows: (k) => psRows(k) },
    { name: 'address', title: '!address (the Windows VirtualQuery walk)', render: (_k, p) => renderAddress(p.space) },
    { name: 'cmdline', title: '/proc/<pid>/cmdline', render: (k, p) => nulJoined(pinfo(k, p)?.argv ?? []) },
    { name: 'environ', title: '/proc/<pid>/environ', render: (k, p) => nulJoined(pinfo(k, p)?.envp ?? []) },
    { name: 'fd', title: '/proc/<pid>/fd', render: (k, p) => fdRows(k, p).map((r) => `${String(r.fd)} -> ${String(r.path)}${r.cloexec === true ? ' (FD_CLOEXEC)' : ''}\n`).join(''), rows: (k, p) => fdRows(k, p) },
  ];
}
