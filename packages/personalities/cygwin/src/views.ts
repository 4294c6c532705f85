/**
 * Cygwin's own views: /proc/<pid>/maps as winsup/cygwin/fhandler/process.cc (format_process_maps)
 * prints it — Linux's line layout over the Windows regions of a VirtualQuery walk, named after
 * what lives there ([peb], [teb (tid N)], [stack (tid N)], [heap], the image's POSIX path) — a
 * ps-style line per Cygwin process (PID, PPID, WINPID, COMMAND), and the Windows personality's
 * VirtualQuery walk. Simplified: device and inode columns are 0 (no file system identity).
 */
import type { ViewRow, ViewSpec } from '@polykernel/kernel';
import { MEM_FREE, MEM_MAPPED, MEM_RESERVE, query, renderAddress, walk, type MemoryBasicInformation, type WindowsSpace } from '@polykernel/windows';
import type { CygwinMachine, K, P } from './types.js';

const hex8 = (n: number): string => n.toString(16).padStart(8, '0');

/** rwx and p/s of a PAGE_* protection and the region's type. */
function perms(m: MemoryBasicInformation): string {
  if (m.State === MEM_RESERVE) return '---p';
  const base = m.Protect % 0x100;
  const r = [0x02, 0x04, 0x08, 0x20, 0x40, 0x80].includes(base);
  const w = [0x04, 0x08, 0x40, 0x80].includes(base);
  const x = base >= 0x10;
  return `${r ? 'r' : '-'}${w ? 'w' : '-'}${x ? 'x' : '-'}${m.Type === MEM_MAPPED ? 's' : 'p'}`;
}

function nameOf(k: K, p: P, m: MemoryBasicInformation): string {
  const s = p.space;
  const at = m.BaseAddress;
  const mod = s.modules.find((x) => at >= x.base && at < x.base + x.size);
  if (mod !== undefined) return mod.path;
  if (at === s.peb) return '[peb]';
  if (at >= s.teb && at < s.teb + 0x2000) return `[teb (tid ${String(p.threads[0]?.tid ?? 0)})]`;
  const stack = s.stackBase > 0 ? query(s, s.stackBase - 1)?.AllocationBase : undefined;
  if (m.AllocationBase === stack) return `[stack (tid ${String(p.threads[0]?.tid ?? 0)})]`;
  if (at === 0x7ffe_0000) return '[shared-user-data]';
  const proc = k.state.cygwin.byWinpid.get(p.pid);
  if (proc !== undefined && proc.heapStart !== 0 && at >= proc.heapStart && at < proc.heapEnd) return '[heap]';
  if (proc !== undefined && proc.cygheap !== 0 && m.AllocationBase === proc.cygheap) return '[cygheap]';
  return '';
}

export function mapsRows(k: K, p: P): ViewRow[] {
  return walk(p.space)
    .filter((m) => m.State !== MEM_FREE)
    .map((m) => {
      const mod = p.space.modules.find((x) => m.BaseAddress >= x.base && m.BaseAddress < x.base + x.size);
      return { start: m.BaseAddress, end: m.BaseAddress + m.RegionSize, perms: perms(m), offset: mod === undefined ? 0 : m.BaseAddress - mod.base, dev: '0000:0000', inode: 0, pathname: nameOf(k, p, m) };
    });
}

export function renderMaps(k: K, p: P): string {
  return mapsRows(k, p)
    .map((r) => `${hex8(r.start as number)}-${hex8(r.end as number)} ${String(r.perms)} ${hex8(r.offset as number)} 0000:0000 0${r.pathname === '' ? '' : ' '.repeat(19) + String(r.pathname)}`)
    .join('\n') + '\n';
}

export function psRows(k: K): ViewRow[] {
  return [...k.state.cygwin.byPid.values()].sort((a, b) => a.pid - b.pid).map((c) => ({
    PID: c.pid, PPID: c.ppid, PGID: c.pid, WINPID: c.winpid, STATUS: c.exited ? 'exited' : '', COMMAND: k.processes.get(c.winpid)?.space.image?.path ?? c.progname,
  }));
}

/** ps(1) as Cygwin's procps-less ps prints it: PID PPID PGID WINPID TTY UID STIME COMMAND (TTY, UID and STIME not modelled). */
export function renderPs(k: K): string {
  const head = '      PID    PPID    PGID     WINPID   TTY         UID    STIME COMMAND';
  const lines = psRows(k).map((r) => `${String(r.PID).padStart(9)}${String(r.PPID).padStart(8)}${String(r.PGID).padStart(8)}${String(r.WINPID).padStart(11)}  ?      ${'0'.padStart(10)} 00:00:00 ${String(r.COMMAND)}`);
  return [head, ...lines].join('\n') + '\n';
}

export function cygwinViews(): ViewSpec<WindowsSpace, CygwinMachine>[] {
  return [
    { name: 'maps', title: '/proc/<pid>/maps (Cygwin)', render: (k, p) => renderMaps(k, p), rows: (k, p) => mapsRows(k, p) },
    { name: 'ps', title: 'ps (Cygwin PID and WINPID)', render: (k) => renderPs(k), rows: (k) => psRows(k) },
    { name: 'address', title: '!address (the Windows VirtualQuery walk)', render: (_k, p) => renderAddress(p.space) },
  ];
}
