/**
 * FreeBSD 14 (amd64, or arm64 on an arm64 machine profile): vm_map entries on a splay tree over Mach-style VM objects with
 * shadow chains (@polykernel/vm), vm_fault's walk down the chain, vmspace_fork by inheritance
 * with lazily made shadows, FreeBSD's system-call numbers, errnos and signals, fork_findpid PIDs
 * and TIDs above 100000, and procstat's views. See README.md for what is modelled and what is not.
 */
import { Rng } from '@polykernel/core';
import type { PageTable } from '@polykernel/mmu';
import { freebsdIds, memoryFileSystem, type FileLookup, type Personality } from '@polykernel/kernel';
import { fdescfree } from './kern/kern_descrip.js';
import { onExit } from './kern/kern_exit.js';
import { vnodeRecycle } from './kern/vfs_vnode.js';
import { ALL_SIGNALS, deliver } from './kern/kern_sig.js';
import type { FreebsdMachine, FreebsdSpace } from './machine.js';
import { procstatArgsRows, renderProcstatArgs } from './procstat/args.js';
import { procstatAuxvRows, renderProcstatAuxv } from './procstat/auxv.js';
import { procstatVmRows, renderProcstatVm } from './procstat/vm.js';
import { abiForProfile } from './param.js';
import { freebsdPortable } from './portable.js';
import { SYSCALLS } from './syscalls.js';
import { handleFault, pmapRemoveAll } from './vm/vm_fault.js';
import { vmspaceAlloc, vmspaceFree } from './vm/vmspace.js';
import { newPdeCounters } from './vm/pmap.js';
import { newPmapCopyCounters } from './vm/pmap_copy.js';
import { Reservations } from './vm/vm_reserv.js';

export type { FreebsdMachine, FreebsdSpace } from './machine.js';

export interface FreebsdOptions {
  /** The variant: 'freebsd-14' (superpages on) or 'freebsd-14-nosuperpages' (vm.pmap.pg_ps_enabled=0). */
  variant?: string | undefined;
  /** Where exec and open find files; default: none. */
  fs?: FileLookup | undefined;
  /** Seed of the kernel's own randomness; default: the Kernel's seed. */
  seed?: number | undefined;
  /** Superpage reservations and promotion (default on, as vm.pmap.pg_ps_enabled=1). */
  superpages?: boolean | undefined;
  /**
   * vmspace_fork's pmap_copy (default on, as FreeBSD 14 on amd64 and arm64 always does it). Off:
   * the child's page table starts empty and its first touch of each resident page soft-faults —
   * a model switch for comparing the two, not a FreeBSD tunable.
   */
  pmapCopy?: boolean | undefined;
}

/**
 * The variants apps offer: superpage reservations and promotion on (vm.pmap.pg_ps_enabled=1, the
 * default) and off (vm.pmap.pg_ps_enabled=0 in loader.conf).
 */
export const FREEBSD_VARIANTS = ['freebsd-14', 'freebsd-14-nosuperpages'] as const;

/**
 * One function for every personality instance, not a closure per instance: the kernel's access
 * path inlines this call, and a new closure (a new kernel) would be a new call target there.
 */
function pageTableOf(space: FreebsdSpace): PageTable {
  return space.pmap.pt;
}

export function freebsdPersonality(opts: FreebsdOptions = {}): Personality<FreebsdSpace, FreebsdMachine> {
  const variant = opts.variant ?? 'freebsd-14';
  const superpages = opts.superpages ?? variant !== 'freebsd-14-nosuperpages';
  return {
    name: variant,
    version: '14.x',
    defaultProfile: 'x86-64',
    errorSpace: 'freebsd',
    // The kernel sets the carry flag and returns errno; the libc stub returns -1 and stores errno
    // (lib/libc/amd64/SYS.h).
    failureValue: () => -1,
    syscalls: SYSCALLS,
    signals: ALL_SIGNALS,
    // sys/sys/wait.h W_EXITCODE(ret, sig): (ret << 8) | sig.
    waitStatus: (exitCode, signal) => (signal !== null ? (ALL_SIGNALS[signal] ?? 0) : ((exitCode ?? 0) & 0xff) * 256),
    // sys/kern/kern_exit.c exit1(): children go to their reaper (initproc), proc_reparent();
    // kern_wait6() → proc_reap() frees the zombie.
    processModel: { bootComm: 'init', adoptsOrphans: true, bootReaps: true, lifetime: 'wait' },
    // sys/kern/kern_fork.c fork_findpid(); threads: kern_thread.c tid_alloc() above 100000.
    ids: (k) => freebsdIds(k.options.pidMax !== undefined ? { pidMax: k.options.pidMax } : {}),
    attach: (k) => {
      const reserv = superpages ? new Reservations(k.mmu.frames) : null;
      const m: FreebsdMachine = {
        kernel: k, abi: abiForProfile(k.mmu.profile.name), rng: new Rng(opts.seed ?? k.options.seed ?? 1), fs: opts.fs ?? memoryFileSystem({}),
        spaces: new Set(), procs: new WeakMap(), superpages, sharedPage: null, reserv, pde: newPdeCounters(),
        pmapCopyEnabled: opts.pmapCopy ?? true, pmapCopy: newPmapCopyCounters(),
      };
      // vm_page_alloc → vm_reserv_alloc_page, vm_page_free → vm_reserv_free_page, and
      // vm_reserv_reclaim_inactive before the page daemon when the free lists run dry.
      k.vm.pageAllocator = reserv;
      // The page daemon takes a page only after every mapping of it is gone (pmap_remove_all).
      k.vm.onEvict = (_obj, _pindex, frame) => {
        pmapRemoveAll(m, frame);
      };
      return m;
    },
    createAddressSpace: (k, p) => {
      const s = vmspaceAlloc(k, k.state);
      s.pmap.owner = p;
      return s;
    },
    destroyAddressSpace: (k, p) => {
      vmspaceFree(k.state, p.space, 0);
    },
    pageTableOf,
    onExit: (k, p) => {
      // exit1: fdescfree (the files close; a vnode nothing uses any more is recycled), then the
      // parent is told.
      fdescfree(k, p);
      vnodeRecycle(k);
      onExit(k, p);
    },
    handleFault,
    deliver,
    views: [
      { name: 'procstat-v', title: 'procstat -v <pid>', render: renderProcstatVm, rows: procstatVmRows },
      { name: 'procstat-x', title: 'procstat -x <pid>', render: renderProcstatAuxv, rows: procstatAuxvRows },
      { name: 'procstat-c', title: 'procstat -c <pid>', render: renderProcstatArgs, rows: procstatArgsRows },
    ],
    portable: freebsdPortable,
    metricsFilled: [
      'syscalls', 'traps.syscall', 'traps.pageFault', 'faults.zeroFill', 'faults.cow', 'faults.soft', 'faults.segv', 'processesCreated',
      'indexNodesVisited', 'metadataBytes', 'pagesZeroed', 'pagesCopied',
    ],
  };
}
