/**
 * What the FreeBSD personality keeps: per process, a vmspace (sys/vm/vm_map.h struct vmspace:
 * the vm_map, its pmap, and the data/stack bookkeeping break(2) and exec use); per machine, the
 * set of live vmspaces (pmap_remove_all and the page daemon find mappings through it), the
 * seeded RNG, the files exec and open see, and the process-table extras the core does not keep
 * (vfork waits, wait4 sleepers).
 */
import type { Rng } from '@polykernel/core';
import type { FileLookup, Kernel, Process, Thread } from '@polykernel/kernel';
import type { VmObject } from '@polykernel/vm';
import type { FreebsdAbi } from './param.js';
import type { PdeCounters, Pmap } from './vm/pmap.js';
import type { PmapCopyCounters } from './vm/pmap_copy.js';
import type { VmMap } from './vm/vm_map.js';
import type { Reservations } from './vm/vm_reserv.js';

export interface FreebsdSpace {
  readonly map: VmMap;
  readonly pmap: Pmap;
  /** vm_taddr, vm_daddr: the text and data segments' starts (break(2) and mmap's heap rule). */
  taddr: number;
  daddr: number;
  /** vm_tsize, vm_dsize, vm_ssize in pages. */
  tsize: number;
  dsize: number;
  ssize: number;
  /** vm_maxsaddr: the lowest address the stack may grow to. */
  maxsaddr: number;
  /** The machine this vmspace lives on (the fault path needs no lookup). */
  readonly machine: FreebsdMachine;
}

/** Per-process state the core's Process does not hold. */
export interface FreebsdProc {
  /** P_PPWAIT: a vfork parent's thread sleeps until this child execs or exits. */
  vforkParent: Thread | null;
  /** The argument vector (procstat -c), set by exec; a forked child inherits its parent's. */
  args: readonly string[];
  /** p_osrel from the image's ABI note (0: none). */
  osrel: number;
  /** An exec happened: the auxv, ps_strings and image layout (procstat -x). */
  auxv: readonly (readonly [string, number | string])[];
}

export interface FreebsdMachine {
  readonly kernel: FreebsdKernel;
  /** The sysentvec's machine-dependent layout, chosen by the kernel's machine profile (amd64 or arm64). */
  readonly abi: FreebsdAbi;
  readonly rng: Rng;
  readonly fs: FileLookup;
  /** Every live vmspace (pmap_remove_all walks their pmaps; there are no pv lists here). */
  readonly spaces: Set<FreebsdSpace>;
  readonly procs: WeakMap<Process<FreebsdSpace>, FreebsdProc>;
  /** The shared page (sigcode, timekeep): one OBJT_PHYS object per machine, made at the first exec. */
  sharedPage: VmObject | null;
  /** vm.pmap.pg_ps_enabled: superpage reservations and promotion. */
  readonly superpages: boolean;
  /** The reservation system (vm_reserv), when superpages are enabled. */
  readonly reserv: Reservations | null;
  /** vm.pmap.pde.* counters. */
  readonly pde: PdeCounters;
  /**
   * vm_map_copy_entry calls pmap_copy (amd64/arm64: the child gets read-only copies of the
   * parent's managed PTEs). A model switch for comparison, not a FreeBSD tunable: FreeBSD always calls it.
   */
  readonly pmapCopyEnabled: boolean;
  /** What pmap_copy copied (model counters). */
  readonly pmapCopy: PmapCopyCounters;
}

export type FreebsdKernel = Kernel<FreebsdSpace, FreebsdMachine>;

/** The personality's record of a process (made on first use). */
export function procOf(m: FreebsdMachine, p: Process<FreebsdSpace>): FreebsdProc {
  let r = m.procs.get(p);
  if (r === undefined) {
    const parent = p.parent === null ? undefined : m.procs.get(p.parent);
    r = { vforkParent: null, args: parent?.args ?? [p.comm], osrel: parent?.osrel ?? 0, auxv: [] };
    m.procs.set(p, r);
  }
  return r;
}
