/**
 * Cygwin's shared memory regions (mm/shared.cc open_shared, pinfo.cc pinfo::init): named
 * pagefile-backed sections, each viewed at the first free 64 KiB slot from
 * SHARED_REGIONS_ADDRESS_LOW (0x1a0000000; next_address steps one allocation granularity per
 * attempt and is NO_COPY, so every process — a forkee too — starts from the bottom again):
 *
 *   memory_init → shared_info::create   "shared.5" (CYGWIN_VERSION_SHARED_DATA)  [cygwin-shared]
 *                 user_info::create     "<user SID>.1" (USER_VERSION)           [cygwin-user-shared]
 *   pinfo::init (SH_MYSELF)             "cygpid.<PID>"                          [procinfo]
 *
 * A parent views each live child's "cygpid.<PID>" too (mapChildPinfo), until it reaps the child.
 * Every Cygwin process opens the same named sections (CreateFileMapping of an existing name
 * returns it: ERROR_ALREADY_EXISTS), so the pages are shared machine-wide; the pinfo section
 * keeps its name across exec (the PID stays). The addresses go into cygheap->shared_regions, which
 * format_process_maps reads to name the regions.
 *
 * Simplified (README): the sizes are estimates, not sizeof values of a built cygwin1.dll —
 * _pinfo is dominated by `WCHAR progname[NT_MAX_PATH - 512]` (64,512 bytes), so its view takes
 * two 64 KiB slots; shared_info (tty_list of NTTYS = 128 ttys, the console HWNDs) and user_info
 * (mount_info of MAX_MOUNTS = 64 entries) are taken as 32 KiB each. The sections' directory
 * object (\BaseNamedObjects\cygwin1S5-<installation key>) is folded into the names.
 */
import type { Thread } from '@polykernel/kernel';
import { FILE_MAP_READ, FILE_MAP_WRITE, PAGE_READWRITE } from '@polykernel/windows';
import type { CygProc, K } from './types.js';

/** memory_layout.h */
export const SHARED_REGIONS_ADDRESS_LOW = 0x1_a000_0000;
export const SHARED_REGIONS_ADDRESS_HIGH = 0x2_0000_0000;
const GRANULARITY = 0x10000;
/** version.h CYGWIN_VERSION_SHARED_DATA, shared_info.h USER_VERSION. */
export const CYGWIN_VERSION_SHARED_DATA = 5;
export const USER_VERSION = 1;
/** Estimated sizes (see above). */
export const SHARED_INFO_SIZE = 0x8000;
export const USER_INFO_SIZE = 0x8000;
export const PINFO_SIZE = 0x1_0400;
/** The directory object Cygwin makes its shared objects in (get_shared_parent_dir), folded into the names. */
const DIR = 'cygwin1S5-d9f0a3b2c1e4';
/** The user's SID (the simulation has one user). */
export const USER_SID = 'S-1-5-21-2000000000-2000000000-2000000000-1001';

/** cygheap->shared_regions: where this process viewed each region (0: not mapped). */
export interface SharedRegions {
  cygwinShared: number;
  userShared: number;
  myself: number;
}

/**
 * open_shared: CreateFileMappingW of the named section (made or opened), then MapViewOfFileEx at
 * next_address, one granularity further per attempt until a view is made. The view's base, or
 * the Win32 error of the failure (api_fatal in Cygwin).
 */
function openShared(k: K, t: Thread, next: { at: number }, name: string, size: number, inherit: boolean): { view: number; handle: number } | string {
  const h = k.syscall(t, 'CreateFileMappingW', [-1, PAGE_READWRITE, size, `${DIR}\\${name}`, inherit ? 1 : 0]);
  if (h.error !== null) return h.error;
  for (let tries = 0; tries < (SHARED_REGIONS_ADDRESS_HIGH - SHARED_REGIONS_ADDRESS_LOW) / GRANULARITY; tries++) {
    const at = next.at;
    next.at += GRANULARITY;
    if (next.at >= SHARED_REGIONS_ADDRESS_HIGH) next.at = SHARED_REGIONS_ADDRESS_LOW;
    const v = k.syscall(t, 'MapViewOfFileEx', [h.value, FILE_MAP_READ + FILE_MAP_WRITE, 0, 0, at]);
    if (v.error === null) return { view: v.value, handle: h.value };
  }
  k.syscall(t, 'CloseHandle', [h.value]);
  return 'ERROR_NOT_ENOUGH_MEMORY';
}

/**
 * memory_init's two regions and pinfo::init's own procinfo, as a Cygwin process starts (dll_crt0,
 * or a forkee's start-up). Null, or the Win32 error that would make Cygwin api_fatal.
 */
export function mapSharedRegions(k: K, t: Thread, proc: CygProc): string | null {
  const next = { at: SHARED_REGIONS_ADDRESS_LOW };
  // sec_all_nih for shared_info, sec_none (inheritable) for user_info, sec_user_nih for the pinfo.
  const shared = openShared(k, t, next, `shared.${String(CYGWIN_VERSION_SHARED_DATA)}`, SHARED_INFO_SIZE, false);
  if (typeof shared === 'string') return shared;
  const user = openShared(k, t, next, `${USER_SID}.${String(USER_VERSION)}`, USER_INFO_SIZE, true);
  if (typeof user === 'string') return user;
  const myself = openShared(k, t, next, `cygpid.${String(proc.pid)}`, PINFO_SIZE, false);
  if (typeof myself === 'string') return myself;
  proc.shared = { cygwinShared: shared.view, userShared: user.view, myself: myself.view, next: next.at };
  return null;
}

/**
 * The parent's pinfo of a child it forked or spawned (fork.cc frok::parent `child.init (child_pid,
 * PID_IN_USE | PID_NEW, NULL)`, spawn.cc `pinfo child (cygpid, …)`): the child's "cygpid.<PID>"
 * section viewed at the parent's next_address and kept until the child is reaped (the parent's
 * /proc/<pid>/maps shows it as an unnamed rw-s region). False: it could not be mapped.
 */
export function mapChildPinfo(k: K, t: Thread, parent: CygProc, childPid: number): boolean {
  const next = { at: parent.shared.next === 0 ? SHARED_REGIONS_ADDRESS_LOW : parent.shared.next };
  const r = openShared(k, t, next, `cygpid.${String(childPid)}`, PINFO_SIZE, false);
  parent.shared.next = next.at;
  if (typeof r === 'string') return false;
  parent.childPinfo.set(childPid, r);
  return true;
}

/** The child reaped (pinfo's destructor, _pinfo_release): the parent's view unmapped and its handle closed. */
export function releaseChildPinfo(k: K, t: Thread, parent: CygProc, childPid: number): void {
  const v = parent.childPinfo.get(childPid);
  if (v === undefined) return;
  parent.childPinfo.delete(childPid);
  k.syscall(t, 'UnmapViewOfFile', [v.view]);
  k.syscall(t, 'CloseHandle', [v.handle]);
}
