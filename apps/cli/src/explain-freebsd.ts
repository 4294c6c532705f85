/**
 * `polykernel explain fault -p freebsd`: one page fault on the FreeBSD personality, told from what
 * its vm_fault really did (sys/amd64/amd64/trap.c trap_pfault → sys/vm/vm_fault.c vm_fault_trap →
 * vm_fault, vm_map.c vm_map_lookup). Every figure comes from the run: the vm_map entry and its
 * eflags before and after, the object chain before and after (a shadow made for NEEDS_COPY shows
 * up as a new first object), the VM system's own record of the walk (`VmSystem.outcome`: how,
 * depth, the object that holds the frame, the frame copied from), the PTE before and after, the
 * fault counters and the cycle clock.
 */
import { Kernel, type Process } from '@polykernel/kernel';
import { freebsdPersonality, vmmap, type FreebsdMachine, type FreebsdSpace } from '@polykernel/freebsd';
import { ACCESS_WRITE, explainTranslation, formatPteFlags, type Access } from '@polykernel/mmu';
import type { VmObject } from '@polykernel/vm';

export const FREEBSD_FAULT_SCENARIOS = ['zero-fill', 'cow', 'deep-chain'] as const;
export type FreebsdFaultScenario = (typeof FREEBSD_FAULT_SCENARIOS)[number];

type FKernel = Kernel<FreebsdSpace, FreebsdMachine>;

/** sys/vm/vm_map.h MAP_ENTRY_* bits the story names (the personality's param.ts has the same values). */
const EFLAGS: readonly (readonly [number, string])[] = [
  [0x4, 'MAP_ENTRY_COW'], [0x8, 'MAP_ENTRY_NEEDS_COPY'], [0x20, 'MAP_ENTRY_USER_WIRED'], [0x1000, 'MAP_ENTRY_GROWS_DOWN'],
  [0x10000, 'MAP_ENTRY_GUARD'], [0x20000, 'MAP_ENTRY_STACK_GAP_DN'],
];
const MAP_ENTRY_NEEDS_COPY = 0x8;
/** sys/sys/mman.h */
const PROT_RW = 3;
const MAP_PRIVATE_ANON = 0x1002;
const PAGE = 4096;

const hex = (n: number): string => `0x${n.toString(16)}`;
const eflagNames = (f: number): string => EFLAGS.filter(([b]) => (f & b) !== 0).map(([, n]) => n).join('|') || '0';
const prot = (p: number): string => `${(p & 1) !== 0 ? 'r' : '-'}${(p & 2) !== 0 ? 'w' : '-'}${(p & 4) !== 0 ? 'x' : '-'}`;

/** One object of the chain as the fault found it. */
interface ChainLink { id: number; type: string; refCount: number; shadowCount: number; pindex: number; frame: number | null }

/** What `--json` prints: the same facts as the text. */
export interface FreebsdFaultRecord {
  pid: number;
  va: number;
  access: 'read' | 'write';
  entry: { start: number; end: number; protection: string; eflagsBefore: string; eflagsAfter: string } | null;
  chainBefore: ChainLink[];
  chainAfter: ChainLink[];
  shadowMade: boolean;
  objectMade: boolean;
  walk: { how: string; depth: number; foundIn: number | null; frame: number; copiedFrom: number | null } | null;
  pteBefore: { frame: number; flags: string } | null;
  pteAfter: { frame: number; flags: string } | null;
  resolution: string | null;
  cycles: number;
  faultCycles: number | null;
}

/** The chain from `first` down, each object with the page `pindex` of `first` becomes at its level. */
function chainOf(first: VmObject | null, pindex: number): ChainLink[] {
  const out: ChainLink[] = [];
  let p = pindex;
  for (let o = first; o !== null; o = o.backing) {
    out.push({ id: o.id, type: o.type, refCount: o.refCount, shadowCount: o.shadowCount, pindex: p, frame: o.pages.get(p) ?? null });
    p += o.backingOffset;
  }
  return out;
}

function linkText(l: ChainLink): string {
  return `object #${l.id} (${l.type}, ref_count ${l.refCount}, shadow_count ${l.shadowCount})`;
}

function procstatLine(k: FKernel, p: Process<FreebsdSpace>, start: number): string {
  const line = (k.personality.views[0]?.render(k, p) ?? '').split('\n').find((l) => l.includes(` ${hex(start)} `));
  return line?.trim() ?? '(no procstat -v line)';
}

/** Make `p` fault at `va` and tell it: vm_map_lookup, NEEDS_COPY, the walk, the page, pmap_enter. */
export function narrateFreebsdFault(k: FKernel, p: Process<FreebsdSpace>, va: number, access: Access, out: (l: string) => void): FreebsdFaultRecord {
  const t = p.threads[0]!;
  const asid = k.asidOf(p);
  k.mmu.activate(t.cpu, asid);
  const write = access === ACCESS_WRITE;
  const e = p.space.map.lookupEntry(va);
  const pt = k.personality.pageTableOf(p.space);
  const before = pt.lookup(va);
  const pindexOf = (): number => (e === undefined ? 0 : e.offset + (va - va % PAGE - e.start) / PAGE);
  const objBefore = e?.object ?? null;
  const eflagsBefore = e?.eflags ?? 0;
  const chainBefore = chainOf(objBefore, pindexOf());
  const rec: FreebsdFaultRecord = {
    pid: p.pid, va, access: write ? 'write' : 'read', entry: null, chainBefore, chainAfter: [], shadowMade: false, objectMade: false, walk: null,
    pteBefore: before === null ? null : { frame: before.frame, flags: formatPteFlags(before.flags) }, pteAfter: null, resolution: null, cycles: 0, faultCycles: null,
  };
  out(`${p.comm}[${p.pid}] does a user-mode ${write ? 'write' : 'read'} at ${hex(va)}.`);
  out(`  procstat -v: ${e === undefined ? 'no entry contains it' : procstatLine(k, p, e.start)}`);
  out(`  Its PTE now: ${before === null ? 'none (not present)' : `frame ${hex(before.frame)}, ${formatPteFlags(before.flags)}`}`);
  out('');
  out('1. The MMU translates:');
  const x = explainTranslation(k.mmu, t.cpu, asid, va, access, true);
  for (const line of x.text.trimEnd().split('\n')) out(`   ${line}`);
  if (x.fault === null) {
    out(`   No fault: the translation succeeds (physical ${hex(x.pa ?? 0)}).`);
    return rec;
  }
  const code = (before !== null ? 1 : 0) | (write ? 2 : 0) | 4;
  out('');
  out(`2. Trap: #PF, error code ${hex(code)} (${before !== null ? 'P' : '!P'}, ${write ? 'W' : 'R'}, U); CR2 = ${hex(va)}.`);
  out('   trap → trap_pfault → vm_fault_trap → vm_fault (sys/vm/vm_fault.c).');
  const cycles0 = k.metrics.cycles;
  const counts0 = { zeroed: k.metrics.pagesZeroed, copied: k.metrics.pagesCopied };
  let fault: { resolution: string; cycles: number } | null = null;
  const off = k.bus.subscribe('fault', (f) => {
    fault ??= { resolution: f.resolution, cycles: f.cycles };
  });
  const pa = k.access(t, va, access);
  off();
  // The VM system's record of this fault's walk; read before anything else faults.
  const o = k.vm.outcome;
  const walk = { how: o.how, depth: o.depth, foundIn: o.object?.id ?? null, frame: o.frame, copiedFrom: o.source >= 0 ? o.source : null };
  rec.cycles = k.metrics.cycles - cycles0;
  const f = fault as { resolution: string; cycles: number } | null;
  rec.resolution = f?.resolution ?? null;
  rec.faultCycles = f?.cycles ?? null;
  out('');
  out('3. vm_map_lookup:');
  if (e === undefined) {
    out('   no entry contains the address: KERN_INVALID_ADDRESS → SIGSEGV (SEGV_MAPERR).');
    return rec;
  }
  rec.entry = { start: e.start, end: e.end, protection: prot(e.protection), eflagsBefore: eflagNames(eflagsBefore), eflagsAfter: eflagNames(e.eflags) };
  out(`   the entry [${hex(e.start)}, ${hex(e.end)}) ${prot(e.protection)} (max ${prot(e.maxProtection)}), eflags ${eflagNames(eflagsBefore)}; the ${write ? 'write' : 'read'} is allowed.`);
  const objAfter = e.object;
  if ((eflagsBefore & MAP_ENTRY_NEEDS_COPY) !== 0) {
    if (!write) out('   NEEDS_COPY and a read: no shadow now; the page is mapped read-only.');
    else if (objBefore !== null && objAfter !== objBefore) {
      rec.shadowMade = true;
      out(`   NEEDS_COPY and a write: vm_object_shadow makes ${linkText(chainOf(objAfter, 0)[0]!)} over object #${objBefore.id};`);
      out(`   the entry's reference moves to the shadow and NEEDS_COPY is cleared (eflags now ${eflagNames(e.eflags)}).`);
    } else out(`   NEEDS_COPY and a write, but object #${objBefore?.id ?? '?'} had one reference: no shadow is needed; NEEDS_COPY is cleared.`);
  }
  if (objBefore === null && objAfter !== null) {
    rec.objectMade = true;
    out(`   the entry had no object yet (anonymous memory never touched): vm_object_allocate makes object #${objAfter.id} (${objAfter.type}, ${objAfter.size} pages).`);
  }
  const chainAfter = chainOf(objAfter, pindexOf());
  // A link's page as it was before the fault (a shadow made by this fault had none).
  const had = new Map(chainBefore.map((l) => [l.id, l.frame]));
  rec.chainAfter = chainAfter;
  rec.walk = walk;
  out('');
  out(`4. vm_fault walks the shadow chain (${chainAfter.length} object${chainAfter.length === 1 ? '' : 's'} deep), looking for page ${chainAfter[0]?.pindex ?? '?'}:`);
  chainAfter.slice(0, walk.depth).forEach((l, i) => {
    const frame = had.get(l.id) ?? null;
    out(`   depth ${i + 1}: ${linkText(l)}, page ${l.pindex}: ${frame === null ? 'not resident' : `resident in frame ${hex(frame)}`}`);
  });
  if (walk.depth < chainAfter.length) out(`   (the walk stops there; ${chainAfter.length - walk.depth} object${chainAfter.length - walk.depth === 1 ? '' : 's'} below not looked at)`);
  out(`   ${walk.depth} object${walk.depth === 1 ? '' : 's'} looked at.`);
  out('');
  out('5. The page:');
  const first = chainAfter[0];
  switch (walk.how) {
    case 'zeroFill':
      out(`   no object in the chain has it: vm_page_alloc in the first object #${first?.id ?? '?'} and pmap_zero_page: frame ${hex(walk.frame)} (the pagesZeroed counter +${k.metrics.pagesZeroed - counts0.zeroed}, page-table pages pmap_enter needed included).`);
      break;
    case 'cow':
      out(`   found below the first object, and a write: vm_fault_cow copies frame ${hex(walk.copiedFrom ?? -1)} into a new page of object #${first?.id ?? '?'}: frame ${hex(walk.frame)} (the pagesCopied counter +${k.metrics.pagesCopied - counts0.copied}).`);
      break;
    case 'move':
      out(`   found in the backing object, which only the first object references: vm_fault_cow moves frame ${hex(walk.frame)} up into object #${first?.id ?? '?'} instead of copying it.`);
      break;
    case 'backing':
      out(`   found in backing object #${walk.foundIn ?? '?'} on a read: it is mapped read-only (a later write copies it up).`);
      break;
    default:
      out(`   ${walk.how}: frame ${hex(walk.frame)} in object #${walk.foundIn ?? '?'}.`);
  }
  const after = pt.lookup(va);
  rec.pteAfter = after === null ? null : { frame: after.frame, flags: formatPteFlags(after.flags) };
  out(`   pmap_enter: PTE ${after === null ? 'none' : `frame ${hex(after.frame)}, ${formatPteFlags(after.flags)}`}.`);
  out('');
  out(`6. Return from the trap; the access runs again: physical address ${hex(pa)}.`);
  out(`   Afterwards: ${procstatLine(k, p, e.start)}`);
  out('');
  out(`Simulated cost: ${rec.cycles.toLocaleString('en-US')} cycles (the fault alone: ${f?.cycles.toLocaleString('en-US') ?? '?'}; resolution ${rec.resolution ?? '?'}), at ${k.mmu.profile.hz / 1e9} GHz ≈ ${(rec.cycles / k.mmu.profile.hz * 1e6).toFixed(2)} µs.`);
  return rec;
}

/** Boot FreeBSD, set the scenario up through its system calls, and tell the fault. */
export function explainFreebsdFault(variant: string, scenario: FreebsdFaultScenario, out: (l: string) => void): { setup: string; record: FreebsdFaultRecord } {
  const k: FKernel = new Kernel(freebsdPersonality({ variant }), { contents: true, frames: 65536 });
  const p = k.createProcess(k.init, 'sh');
  const t = p.threads[0]!;
  const va = k.syscall(t, 'mmap', [0, 4 * PAGE, PROT_RW, MAP_PRIVATE_ANON, -1, 0]).value;
  if (scenario === 'zero-fill') {
    const setup = 'mmap(NULL, 4 pages, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANON) gave fresh memory; the program writes its first page.';
    out(`Setup (no exec: ${variant} runs FreeBSD ELF images only, so the process is a bare one): ${setup}\n`);
    return { setup, record: narrateFreebsdFault(k, p, va, ACCESS_WRITE, out) };
  }
  k.access(t, va, ACCESS_WRITE);
  const pid = k.syscall(t, 'fork').value;
  const child = k.processes.get(pid)!;
  if (scenario === 'deep-chain') return deepChain(k, child, va, out);
  const setup = `the parent wrote the first page of an anonymous mapping, then fork() (vmspace_fork); the child ${pid} writes the page (the child's view follows).`;
  out(`Setup: ${setup}`);
  const row = vmmap(child.space).find((r) => r.kve_start === va);
  out(`  vmspace_fork gave the child's entry COW${row?.needsCopy === true ? '|NEEDS_COPY' : ''} over the parent's object (ref_count ${row?.kve_ref_count ?? '?'}).\n`);
  return { setup, record: narrateFreebsdFault(k, child, va, ACCESS_WRITE, out) };
}


/**
 * Two generations of fork: the child writes another page (its shadow is made then) and forks; the
 * grandchild writes the page the first parent wrote, which only the chain's bottom object holds.
 */
function deepChain(k: FKernel, child: Process<FreebsdSpace>, va: number, out: (l: string) => void): { setup: string; record: FreebsdFaultRecord } {
  const ct = child.threads[0]!;
  k.access(ct, va + PAGE, ACCESS_WRITE);
  const gpid = k.syscall(ct, 'fork').value;
  const grandchild = k.processes.get(gpid)!;
  const setup = `the parent wrote page 0 of an anonymous mapping and forked; the child ${child.pid} wrote page 1 (its shadow was made then) and forked; the grandchild ${gpid} writes page 0 (its view follows).`;
  out(`Setup: ${setup}\n`);
  return { setup, record: narrateFreebsdFault(k, grandchild, va, ACCESS_WRITE, out) };
}
