/**
 * `polykernel explain fault|fork`: narrate, step by step, one page fault or one fork on the Linux
 * personality, with the real program the user names (default /bin/true) exec'd first so the
 * address space is a real one. Every line comes from what the simulation did: the MMU's own
 * record of the translation (TLB probes, page-walk entries), the kernel's fault probe, the PTE
 * before and after, dup_mmap's report for each area, and the cycle clock. `-p windows` tells
 * MmAccessFault's faults and `-p freebsd` vm_fault's (explain-freebsd.ts); `-p cygwin` tells
 * fork.cc's emulated fork and its failures (explain-cygwin.ts).
 */
import { Kernel, type Process } from '@polykernel/kernel';
import { sysrootLookup } from '@polykernel/kernel/node';
import { linuxFlags as F, linuxPersonality, mapsLine, type LinuxSpace } from '@polykernel/linux';
import { ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE, explainTranslation, formatPteFlags, type Access } from '@polykernel/mmu';
import { explainWindowsFault, WINDOWS_FAULT_SCENARIOS, type WindowsFaultScenario } from '@polykernel/windows';
import { explainCygwin } from './explain-cygwin.js';
import { explainFreebsdFault, FREEBSD_FAULT_SCENARIOS, type FreebsdFaultScenario } from './explain-freebsd.js';
import { linuxVariant, notRegistered, resolvePersonality, type LinuxVariant } from './personalities.js';

export type ExplainOptions = Record<string, boolean | string | undefined>;

const SCENARIOS = ['zero-fill', 'zero-page', 'cow', 'file', 'segv', 'stack-growth'] as const;
type Scenario = (typeof SCENARIOS)[number];

interface Setup { k: Kernel<LinuxSpace>; lp: ReturnType<typeof linuxPersonality>; p: Process<LinuxSpace> }

/** The Linux variant -p names, or the error message. */
function variantOf(opts: ExplainOptions): LinuxVariant | { error: string } {
  const name = typeof opts.personality === 'string' ? opts.personality : 'linux';
  const resolved = resolvePersonality(name);
  if (resolved === undefined) return { error: notRegistered(name) };
  if (resolved.entry.name !== 'linux') return { error: `the fault and fork stories are told from Linux's code paths; ${resolved.variant} has none yet (polykernel personalities)` };
  return linuxVariant(resolved.variant);
}

function boot(opts: ExplainOptions, variant: LinuxVariant, err: (s: string) => void): Setup | null {
  const lp = linuxPersonality({ variant, fs: sysrootLookup(typeof opts.sysroot === 'string' ? opts.sysroot : '/') });
  const k = new Kernel<LinuxSpace>(lp, { contents: true, frames: 65536 });
  const p = k.createProcess(k.init, 'sh');
  const program = typeof opts.program === 'string' ? opts.program : '/bin/true';
  const r = k.syscall(p.threads[0]!, 'execve', [program, [program], ['PATH=/usr/bin:/bin']]);
  if (r.error !== null) {
    err(`polykernel explain: ${program}: execve failed: ${r.error} (-${r.errorNumber})`);
    return null;
  }
  return { k, lp, p };
}

const hex = (n: number): string => `0x${n.toString(16)}`;

/** x86's page-fault error code (P, W/R, U/S, I/D bits) for a fault the MMU reported. */
function errorCode(present: boolean, access: Access, user: boolean): string {
  const bits = (present ? 1 : 0) | (access === ACCESS_WRITE ? 2 : 0) | (user ? 4 : 0) | (access === ACCESS_EXEC ? 16 : 0);
  const parts = [present ? 'P (protection violation)' : '!P (page not present)', access === ACCESS_WRITE ? 'W (write)' : 'R (read)', user ? 'U (user mode)' : 'S (kernel mode)'];
  if (access === ACCESS_EXEC) parts.push('I (instruction fetch)');
  return `${hex(bits)} = ${parts.join(', ')}`;
}

/** The do_user_addr_fault → handle_mm_fault path a resolution took (mm/memory.c). */
const PATHS: Record<string, string> = {
  zeroFill: 'handle_pte_fault → do_anonymous_page: a write to a never-touched private page; a zeroed frame is allocated and mapped writable',
  zeroPage: 'handle_pte_fault → do_anonymous_page: a read of a never-touched private page; the shared zero page is mapped read-only',
  cow: 'handle_pte_fault → do_wp_page → wp_page_copy: the page is shared (after fork, or a page-cache page of a private mapping); it is copied and the copy mapped writable',
  cowReuse: 'handle_pte_fault → do_wp_page → wp_page_reuse: the write-protected page has no other user left, so it is made writable in place',
  file: 'handle_pte_fault → do_read_fault → filemap_fault: the page comes from the page cache (read from the file on first use) and is mapped',
};

/** What `--json` prints for a fault: the same facts as the text, as data. */
export interface FaultRecord {
  pid: number;
  va: number;
  access: string;
  area: string | null;
  pteBefore: { frame: number; flags: string } | null;
  translation: import('@polykernel/mmu').ExplainStep[];
  fault: string | null;
  errorCode: number | null;
  resolution: string | null;
  pteAfter: { frame: number; flags: string } | null;
  pa: number | null;
  signal: string | null;
  cycles: number;
}

function narrateAccess(s: Setup, va: number, access: Access, out: (l: string) => void): FaultRecord {
  const { k, p } = s;
  const t = p.threads[0]!;
  const asid = k.asidOf(p);
  k.mmu.activate(t.cpu, asid);
  const name = access === ACCESS_WRITE ? 'write' : access === ACCESS_EXEC ? 'instruction fetch' : 'read';
  out(`${p.comm}[${p.pid}] does a user-mode ${name} at ${hex(va)}.`);
  const area = p.space.mm.vmas.lookup(va);
  out(area === undefined ? '  No area of the mm contains it.' : `  It lies in the area ${mapsLine(p.space.mm, area).trimEnd()}`);
  const before = p.space.pt.lookup(va);
  const pteBefore = before === null ? null : { frame: before.frame, flags: formatPteFlags(before.flags) };
  const rec: FaultRecord = {
    pid: p.pid, va, access: access === ACCESS_WRITE ? 'write' : access === ACCESS_EXEC ? 'exec' : 'read', area: area === undefined ? null : mapsLine(p.space.mm, area).trimEnd(),
    pteBefore, translation: [], fault: null, errorCode: null, resolution: null, pteAfter: null, pa: null, signal: null, cycles: 0,
  };
  out(`  Its PTE now: ${before === null ? 'none (not present)' : `frame ${hex(before.frame)}, ${formatPteFlags(before.flags)}`}`);
  out('');
  out('1. The MMU translates:');
  // A side-effect-free look at the TLBs and tables first (explainTranslation performs the real one).
  const e = explainTranslation(k.mmu, t.cpu, asid, va, access, true);
  rec.translation = e.steps;
  rec.fault = e.fault;
  for (const line of e.text.trimEnd().split('\n')) out(`   ${line}`);
  if (e.fault === null) {
    out(`   No fault: the translation succeeds (physical ${hex(e.pa ?? 0)}).`);
    rec.pa = e.pa;
    return rec;
  }
  const present = before !== null;
  out('');
  rec.errorCode = (present ? 1 : 0) | (access === ACCESS_WRITE ? 2 : 0) | 4 | (access === ACCESS_EXEC ? 16 : 0);
  out(`2. Trap: #PF, error code ${errorCode(present, access, true)}; CR2 = ${hex(va)}.`);
  out('   The CPU enters the kernel (exc_page_fault → do_user_addr_fault).');
  const cycles0 = k.metrics.cycles;
  let fault: { resolution: string; cycles: number } | null = null;
  const off = k.bus.subscribe('fault', (f) => {
    fault ??= f;
  });
  const pa = k.access(t, va, access);
  off();
  out('');
  out('3. The kernel handles it:');
  if (area === undefined) {
    const grown = p.state === 'running' ? p.space.mm.vmas.lookup(va) : undefined;
    if (grown !== undefined && (grown.flags & F.VM_GROWSDOWN) !== 0) out(`   lock_mm_and_find_vma: the next area is a stack (VM_GROWSDOWN): expand_downwards grows it to ${mapsLine(p.space.mm, grown).trimEnd()}`);
    else out('   lock_mm_and_find_vma: no area → bad_area → SIGSEGV with si_code SEGV_MAPERR.');
  } else out('   lock_mm_and_find_vma finds the area; access_error checks its vm_flags against the access.');
  const res = (fault as { resolution: string; cycles: number } | null)?.resolution ?? 'none';
  rec.resolution = res;
  if (PATHS[res] !== undefined) out(`   ${PATHS[res]}.`);
  else if (res === 'SIGSEGV') out('   access_error: the area does not allow this access → bad_area_access_error → SIGSEGV with si_code SEGV_ACCERR.');
  else if (res !== 'none') out(`   Outcome: ${res}.`);
  if (p.state !== 'running') {
    out(`   ${p.comm}[${p.pid}] is killed by ${p.killedBy ?? 'a signal'} (exit status ${hex(p.exitStatus ?? 0)}).`);
    out('');
    out(`Simulated cost: ${(k.metrics.cycles - cycles0).toLocaleString('en-US')} cycles.`);
    rec.signal = p.killedBy;
    rec.cycles = k.metrics.cycles - cycles0;
    return rec;
  }
  const after = p.space.pt.lookup(va);
  rec.pteAfter = after === null ? null : { frame: after.frame, flags: formatPteFlags(after.flags) };
  rec.pa = pa;
  rec.cycles = k.metrics.cycles - cycles0;
  out(`   PTE after: ${after === null ? 'none' : `frame ${hex(after.frame)}, ${formatPteFlags(after.flags)}`}; the TLB entry for the page is invalidated.`);
  out('');
  out('4. Return from the trap; the instruction runs again and the MMU translates again:');
  out(`   the walk finds the new PTE and fills the TLB: physical address ${hex(pa)}.`);
  out('');
  out(`Simulated cost: ${(k.metrics.cycles - cycles0).toLocaleString('en-US')} cycles (the fault alone: ${(fault as { cycles: number } | null)?.cycles.toLocaleString('en-US') ?? '?'}), at ${k.mmu.profile.hz / 1e9} GHz ≈ ${((k.metrics.cycles - cycles0) / k.mmu.profile.hz * 1e6).toFixed(2)} µs.`);
  return rec;
}

export function runExplain(what: string, opts: ExplainOptions, out: (s: string) => void = (s) => process.stdout.write(s + '\n'), err: (s: string) => void = (s) => process.stderr.write(s + '\n')): number {
  if (what !== 'fault' && what !== 'fork') {
    err(`polykernel explain: explain "fault" or "fork", not "${what}"`);
    return 2;
  }
  const chosen = resolvePersonality(typeof opts.personality === 'string' ? opts.personality : 'linux');
  if (chosen?.entry.name === 'cygwin') return explainCygwin(what, opts, out, err);
  if (what === 'fork' && typeof opts.scenario === 'string') {
    err(`polykernel explain: --scenario applies to "fault" only (a fork has one story; -p cygwin has failure scenarios)`);
    return 2;
  }
  if (chosen?.entry.name === 'windows') return explainWindows(what, opts, out, err);
  if (chosen?.entry.name === 'freebsd') return explainFreebsd(what, chosen.variant, opts, out, err);
  const variant = variantOf(opts);
  if (typeof variant !== 'string') {
    err(`polykernel explain: ${variant.error}`);
    return 2;
  }
  const s = boot(opts, variant, err);
  if (s === null) return 1;
  const { k, p } = s;
  // With --json the story's text is dropped and its facts printed as one JSON document.
  const json = opts.json === true;
  const emit = out;
  if (json) out = (): void => undefined;
  const t = p.threads[0]!;
  const mm = p.space.mm;
  if (what === 'fork') {
    const r = explainFork(s, out);
    if (json && r.report !== null) emit(JSON.stringify({ what: 'fork', ...r.report, cycles: r.cycles }, null, 2));
    return r.code;
  }
  const scenario = (typeof opts.scenario === 'string' ? opts.scenario : 'zero-fill') as Scenario;
  if (!SCENARIOS.includes(scenario)) {
    err(`polykernel explain: --scenario must be one of ${SCENARIOS.join(', ')}`);
    return 2;
  }
  const anon = (): number => k.syscall(t, 'mmap', [0, 4096, F.PROT_READ | F.PROT_WRITE, F.MAP_PRIVATE | F.MAP_ANONYMOUS, -1, 0]).value;
  let va: number;
  let access: Access = ACCESS_WRITE;
  let setup: string;
  switch (scenario) {
    case 'zero-fill':
      va = anon();
      setup = 'mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS) gave a fresh page; the program writes to it.';
      break;
    case 'zero-page':
      va = anon();
      access = ACCESS_READ;
      setup = 'mmap gave a fresh anonymous page; the program reads it before ever writing.';
      break;
    case 'cow': {
      va = anon();
      k.access(t, va, ACCESS_WRITE);
      const child = k.processes.get(k.syscall(t, 'fork').value)!;
      setup = `the parent wrote a page, then forked; the child ${child.pid} writes to it (the child's view follows).`;
      out(`Setup: ${setup}\n`);
      const rec = narrateAccess({ ...s, p: child }, va, ACCESS_WRITE, out);
      if (json) emit(JSON.stringify({ what: 'fault', scenario, setup, ...rec }, null, 2));
      return 0;
    }
    case 'file':
      va = mm.startCode;
      access = ACCESS_EXEC;
      setup = `the program's first instruction fetch from its text (${hex(mm.startCode)}), which exec mapped but never touched.`;
      break;
    case 'segv':
      va = mm.startCode;
      setup = 'the program writes to its own text, which is mapped r-x.';
      break;
    case 'stack-growth': {
      const stack = [...mm.vmas.iterateFrom(0)].find((v) => v.name === '[stack]')!;
      va = stack.start - 8;
      setup = `the program pushes below its stack area (${hex(stack.start)}), as a deep call chain does.`;
      break;
    }
  }
  out(`Setup: ${setup}\n`);
  const rec = narrateAccess(s, va, access, out);
  if (json) emit(JSON.stringify({ what: 'fault', scenario, setup, ...rec }, null, 2));
  return 0;
}

function explainFork(s: Setup, out: (l: string) => void): { code: number; report: import('@polykernel/linux').ForkReport | null; cycles: number } {
  const { k, lp, p } = s;
  const t = p.threads[0]!;
  // Give the parent something to copy: a written heap page and stack page, and a read-only zero-page mapping.
  const brk0 = p.space.mm.brk;
  k.syscall(t, 'brk', [brk0 + 8192]);
  k.access(t, brk0, ACCESS_WRITE);
  const ro = k.syscall(t, 'mmap', [0, 4096, F.PROT_READ | F.PROT_WRITE, F.MAP_PRIVATE | F.MAP_ANONYMOUS, -1, 0]).value;
  k.access(t, ro, ACCESS_READ);
  const cycles0 = k.metrics.cycles;
  out(`${p.comm}[${p.pid}] (after execve, a 2-page heap written once, an anonymous page only read) calls fork() = clone(SIGCHLD).`);
  out('');
  out('kernel_clone → copy_process (kernel/fork.c), in order:');
  const pid = k.syscall(t, 'fork').value;
  const rep = lp.lastFork(k);
  const child = k.processes.get(pid);
  if (pid < 0 || rep === null || child === undefined) {
    out(`  fork failed: ${t.lastError ?? pid}`);
    return { code: 1, report: null, cycles: 0 };
  }
  const steps = [
    'flag checks: CLONE_THREAD needs CLONE_SIGHAND, CLONE_SIGHAND needs CLONE_VM, ... (none set: a plain fork)',
    'dup_task_struct: a new task_struct and kernel stack, copied from the parent',
    'copy_creds, RLIMIT_NPROC check; sched_fork: TASK_NEW, the parent\'s priority (SCHED_NORMAL, prio 120)',
    'copy_files: the descriptor table is duplicated; copy_fs, copy_sighand, copy_signal: private copies',
    'copy_mm → dup_mm → dup_mmap: a new mm_struct; each area copied, each VM_ACCOUNT area charged again:',
  ];
  steps.forEach((l, i) => { out(`  ${i + 1}. ${l}`); });
  for (const a of rep.areas) {
    out(`       ${a.line}`);
    out(`         → ${a.action}${a.ptes > 0 ? ` (${a.ptes} PTE${a.ptes > 1 ? 's' : ''}, ${a.writeProtected} write-protected)` : ''}`);
  }
  if (rep.dontCopy > 0) out(`       (${rep.dontCopy} VM_DONTCOPY area${rep.dontCopy > 1 ? 's' : ''} left out)`);
  out(`     ${rep.ptes} PTEs copied into ${rep.tables} new page-table pages; ${rep.flushed ? 'the parent\'s TLB is flushed (flush_tlb_mm), since some of its PTEs lost their write bit' : 'no PTE was write-protected, no flush needed'}.`);
  out(`  6. copy_namespaces, copy_io, copy_thread (the child will return 0 from fork)`);
  out(`  7. alloc_pid: pid ${pid}; the child joins the process tree under ${p.pid}`);
  out('  8. wake_up_new_task: the child is runnable; the parent gets the pid as fork\'s return value');
  out('');
  out(`Simulated cost: ${(k.metrics.cycles - cycles0).toLocaleString('en-US')} cycles ≈ ${((k.metrics.cycles - cycles0) / k.mmu.profile.hz * 1e6).toFixed(1)} µs.`);
  out(`Now the first write by either side to a write-protected page is a COW fault: try "polykernel explain fault --scenario cow".`);
  return { code: 0, report: rep, cycles: k.metrics.cycles - cycles0 };
}

/** `explain fault -p windows`: MmAccessFault's story (demand-zero, guard-page, access-violation); Windows has no fork. */
function explainWindows(what: string, opts: ExplainOptions, out: (s: string) => void, err: (s: string) => void): number {
  if (what === 'fork') {
    err('polykernel explain: windows has no fork: a process is made from an image with CreateProcess (polykernel exec -p windows)');
    return 2;
  }
  const scenario = typeof opts.scenario === 'string' ? opts.scenario : 'demand-zero';
  if (!(WINDOWS_FAULT_SCENARIOS as readonly string[]).includes(scenario)) {
    err(`polykernel explain: -p windows tells the ${WINDOWS_FAULT_SCENARIOS.join(', ')} faults, not "${scenario}"`);
    return 2;
  }
  const story = explainWindowsFault(scenario as WindowsFaultScenario);
  if (opts.json === true) out(JSON.stringify({ what: 'fault', scenario, ...story.facts }, null, 2));
  else for (const l of story.lines) out(l);
  return 0;
}

/** `explain fault -p freebsd`: vm_fault's story (zero-fill, COW after fork), from what the FreeBSD personality did. */
function explainFreebsd(what: string, variant: string, opts: ExplainOptions, out: (s: string) => void, err: (s: string) => void): number {
  if (what === 'fork') {
    err(`polykernel explain: the fork story is told from Linux's copy_process; for ${variant} see "explain fault -p freebsd --scenario cow" (vmspace_fork's lazy shadows)`);
    return 2;
  }
  const scenario = typeof opts.scenario === 'string' ? opts.scenario : 'zero-fill';
  if (!(FREEBSD_FAULT_SCENARIOS as readonly string[]).includes(scenario)) {
    err(`polykernel explain: -p freebsd tells the ${FREEBSD_FAULT_SCENARIOS.join(', ')} faults, not "${scenario}"`);
    return 2;
  }
  const json = opts.json === true;
  const r = explainFreebsdFault(variant, scenario as FreebsdFaultScenario, json ? () => undefined : out);
  if (json) out(JSON.stringify({ what: 'fault', scenario, setup: r.setup, ...r.record }, null, 2));
  return 0;
}
