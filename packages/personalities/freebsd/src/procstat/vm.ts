/**
 * usr.bin/procstat/procstat_vm.c over sys/kern/kern_proc.c kern_proc_vmmap_out: `procstat -v`.
 * One kinfo_vmentry per map entry: RES counts the entry's pages resident anywhere down the
 * shadow chain (kern_proc_vmmap_resident), PRES the top object's resident pages when it shadows
 * nothing, REF/SHD the top object's ref_count/shadow_count, TP the bottom object's type, PATH
 * the vnode's current name (vn_fullpath; empty once the file is unlinked). The text follows FreeBSD 14's xo_emit format strings: header
 *   "%5s %*s %*s %3s %4s %4s %3s %3s %-5s %-2s %-s\n", ptrwidth = 2 * sizeof(void *) + 2 = 18;
 * PRT three letters; FLAG five: C (KVME_FLAG_COW), N (NEEDS_COPY), S (SUPER), U or D (GROWS_UP,
 * GROWS_DOWN), W (USER_WIRED) — a guard entry shows only as its type, "gd" (KVME_TYPE_GUARD): the
 * "G" in the first column is CheriBSD's KVME_FLAG_GUARD, not FreeBSD's.
 * `--libxo json` (procstatVmRows): the fields procstat emits per "vm" instance — kve_start and
 * kve_end ("%#jx"), the kve_protection container {read, write, exec}, kve_resident,
 * kve_private_resident, kve_ref_count, kve_shadow_count, the kve_flags container {copy_on_write,
 * needs_copy, super_pages, grows_up, grows_down, wired}, kve_type by its long name ("default",
 * "vnode", "swap", "physical", "guard", ...) and kve_path. A view row is flat here, so the two
 * containers' members sit beside the other fields under their own names, and process_id (emitted
 * once per process by procstat) is repeated in each row.
 */
import type { Process, ViewRow } from '@polykernel/kernel';
import type { VmObject } from '@polykernel/vm';
import type { FreebsdKernel, FreebsdSpace } from '../machine.js';
import {
  MAP_ENTRY_COW, MAP_ENTRY_GROWS_DOWN, MAP_ENTRY_GROWS_UP, MAP_ENTRY_GUARD, MAP_ENTRY_NEEDS_COPY, MAP_ENTRY_NOCOREDUMP, MAP_ENTRY_USER_WIRED,
  PAGE_SIZE, SUPERPAGE_SIZE, VM_PROT_EXECUTE, VM_PROT_READ, VM_PROT_WRITE,
} from '../param.js';
import type { VmMapEntry } from '../vm/vm_map.js';
import { kvmeType, type KvmeType } from '../vm/vm_object.js';
import { visibleRefCount, vnodeObjectPath } from '../kern/vfs_vnode.js';

const PTRWIDTH = 18;

/** The fields of struct kinfo_vmentry this view fills. */
export interface KinfoVmentry {
  kve_start: number;
  kve_end: number;
  kve_offset: number;
  kve_protection: number;
  kve_resident: number;
  kve_private_resident: number;
  kve_ref_count: number;
  kve_shadow_count: number;
  cow: boolean;
  needsCopy: boolean;
  superPages: boolean;
  growsUp: boolean;
  growsDown: boolean;
  wired: boolean;
  guard: boolean;
  nocoredump: boolean;
  kve_type: KvmeType;
  kve_path: string;
}

const TYPE_CODE: Record<KvmeType, string> = {
  none: '--', default: 'df', vnode: 'vn', swap: 'sw', device: 'dv', phys: 'ph', dead: 'dd', sg: 'sg', mgtdevice: 'md', guard: 'gd', unknown: '??',
};

/** procstat_vm.c's lstr: kve_type as --libxo prints it. */
const TYPE_NAME: Record<KvmeType, string> = {
  none: 'none', default: 'default', vnode: 'vnode', swap: 'swap', device: 'device', phys: 'physical', dead: 'dead', sg: 'scatter/gather',
  mgtdevice: 'managed_device', guard: 'guard', unknown: 'unknown',
};

/** OBJT_PHYS / OBJT_DEVICE: every page is resident (wired memory, not paged). */
function isPhysical(o: VmObject): boolean {
  return o.type === 'physical' || o.type === 'device';
}

/** resident_page_count. */
function residentPages(o: VmObject): number {
  return isPhysical(o) ? o.size : o.pages.size;
}

/** The frame of page `p` of the chain under `obj` (-1: not resident; -2: a physical object's page). */
function frameInChain(obj: VmObject, pindex: number): number {
  let p = pindex;
  for (let o: VmObject | null = obj; o !== null; o = o.backing) {
    const f = o.pages.get(p);
    if (f !== undefined) return f;
    if (isPhysical(o) && p < o.size) return -2;
    p += o.backingOffset;
  }
  return -1;
}

/**
 * kern_proc_vmmap_resident: pages of the entry resident in some object of its chain, and whether
 * a superpage backs part of it — a 2 MiB-aligned address, 2 MiB inside the entry, whose page is
 * the first of a fully populated reservation (m->psind != 0) and which this pmap maps with a
 * 2 MiB page (pmap_mincore's MINCORE_SUPER); such a run counts its 512 pages at once.
 */
function resident(s: FreebsdSpace, e: VmMapEntry): { count: number; superPages: boolean } {
  const obj = e.object;
  if (obj === null) return { count: 0, superPages: false };
  const reserv = s.machine.reserv;
  let n = 0;
  let superPages = false;
  for (let i = 0; i < e.pages; i++) {
    const f = frameInChain(obj, e.offset + i);
    if (f === -1) continue;
    const addr = e.start + i * PAGE_SIZE;
    // A largepage shm mapping (OBJT_PHYS): pmap_mincore reports its 2 MiB PDE or 1 GiB PDPE.
    const large = f >= 0 && isPhysical(obj) ? s.pmap.pt.lookup(addr) : null;
    if (large !== null && large.pageSize >= SUPERPAGE_SIZE && addr % large.pageSize === 0 && addr + large.pageSize <= e.end) {
      superPages = true;
      n += large.pageSize / PAGE_SIZE;
      i += large.pageSize / PAGE_SIZE - 1;
      continue;
    }
    if (reserv !== null && f >= 0 && reserv.psind(f) !== 0 && addr % SUPERPAGE_SIZE === 0 && addr + SUPERPAGE_SIZE <= e.end
      && s.pmap.isSuperpage(addr)) {
      superPages = true;
      n += SUPERPAGE_SIZE / PAGE_SIZE;
      i += SUPERPAGE_SIZE / PAGE_SIZE - 1;
      continue;
    }
    n++;
  }
  return { count: n, superPages };
}

/** kern_proc_vmmap_out: the kinfo_vmentry records of a process. */
export function vmmap(s: FreebsdSpace): KinfoVmentry[] {
  const out: KinfoVmentry[] = [];
  for (const e of s.map.entries()) {
    const obj = e.object;
    let offset = e.offset * PAGE_SIZE;
    let bottom = obj;
    for (let o = obj; o !== null; o = o.backing) {
      offset += o.backingOffset * PAGE_SIZE;
      bottom = o;
    }
    const guard = (e.eflags & MAP_ENTRY_GUARD) !== 0;
    const res = resident(s, e);
    out.push({
      kve_start: e.start,
      kve_end: e.end,
      kve_offset: offset,
      kve_protection: e.protection,
      kve_resident: res.count,
      kve_private_resident: obj !== null && obj.backing === null ? residentPages(obj) : 0,
      kve_ref_count: obj === null ? 0 : visibleRefCount(obj),
      kve_shadow_count: obj?.shadowCount ?? 0,
      cow: (e.eflags & MAP_ENTRY_COW) !== 0,
      needsCopy: (e.eflags & MAP_ENTRY_NEEDS_COPY) !== 0,
      superPages: res.superPages,
      growsUp: (e.eflags & MAP_ENTRY_GROWS_UP) !== 0,
      growsDown: (e.eflags & MAP_ENTRY_GROWS_DOWN) !== 0,
      wired: (e.eflags & MAP_ENTRY_USER_WIRED) !== 0,
      guard,
      nocoredump: (e.eflags & MAP_ENTRY_NOCOREDUMP) !== 0,
      kve_type: bottom !== null ? kvmeType(bottom) : guard ? 'guard' : 'none',
      // vn_fullpath: empty for a file whose name was removed (vfs_vnode.ts vnodeObjectPath).
      kve_path: bottom?.type === 'vnode' ? vnodeObjectPath(bottom) : '',
    });
  }
  return out;
}

function hexWidth(v: number): string {
  // %#*jx: "0x" and lower-case hex (plain "0" for zero), right-aligned in PTRWIDTH.
  const t = v === 0 ? '0' : `0x${v.toString(16)}`;
  return t.padStart(PTRWIDTH);
}

function flagLetters(k: KinfoVmentry): string {
  return (k.cow ? 'C' : '-') + (k.needsCopy ? 'N' : '-') + (k.superPages ? 'S' : '-')
    + (k.growsUp ? 'U' : k.growsDown ? 'D' : '-') + (k.wired ? 'W' : '-');
}

function protLetters(prot: number): string {
  return ((prot & VM_PROT_READ) !== 0 ? 'r' : '-') + ((prot & VM_PROT_WRITE) !== 0 ? 'w' : '-') + ((prot & VM_PROT_EXECUTE) !== 0 ? 'x' : '-');
}

/** The header line procstat prints unless -h. */
export const PROCSTAT_VM_HEADER = `${'PID'.padStart(5)} ${'START'.padStart(PTRWIDTH)} ${'END'.padStart(PTRWIDTH)} ${'PRT'.padStart(3)} ${'RES'.padStart(4)} ${'PRES'.padStart(4)} ${'REF'.padStart(3)} ${'SHD'.padStart(3)} ${'FLAG'.padEnd(5)} ${'TP'.padEnd(2)} PATH\n`;

export function renderProcstatVm(_k: FreebsdKernel, p: Process<FreebsdSpace>): string {
  let out = PROCSTAT_VM_HEADER;
  for (const k of vmmap(p.space)) {
    out += `${String(p.pid).padStart(5)} ${hexWidth(k.kve_start)} ${hexWidth(k.kve_end)} ${protLetters(k.kve_protection)} `
      + `${String(k.kve_resident).padStart(4)} ${String(k.kve_private_resident).padStart(4)} ${String(k.kve_ref_count).padStart(3)} `
      + `${String(k.kve_shadow_count).padStart(3)} ${flagLetters(k)} ${TYPE_CODE[k.kve_type].padEnd(2)} ${k.kve_path}\n`;
  }
  return out;
}

/** The same records as libxo's --json names them. */
export function procstatVmRows(_k: FreebsdKernel, p: Process<FreebsdSpace>): ViewRow[] {
  return vmmap(p.space).map((k) => ({
    process_id: p.pid,
    kve_start: `0x${k.kve_start.toString(16)}`,
    kve_end: `0x${k.kve_end.toString(16)}`,
    read: (k.kve_protection & VM_PROT_READ) !== 0,
    write: (k.kve_protection & VM_PROT_WRITE) !== 0,
    exec: (k.kve_protection & VM_PROT_EXECUTE) !== 0,
    kve_resident: k.kve_resident,
    kve_private_resident: k.kve_private_resident,
    kve_ref_count: k.kve_ref_count,
    kve_shadow_count: k.kve_shadow_count,
    copy_on_write: k.cow,
    needs_copy: k.needsCopy,
    super_pages: k.superPages,
    grows_up: k.growsUp,
    grows_down: k.growsDown,
    wired: k.wired,
    kve_type: TYPE_NAME[k.kve_type],
    kve_path: k.kve_path,
  }));
}
