/**
 * `explain fork` for Cygwin: one fork of a Cygwin program with `pages` resident pages in a private
 * mapping, told step by step as fork.cc runs it — which side runs each step, what Cygwin's source
 * does there (FORK_STEP_NOTES), the simulated time it took and the bytes it copied across
 * processes — beside the totals Linux's COW fork would not pay (every resident page copied, the
 * child's commit). Scenarios make it fail the ways it really fails: a DLL in the way of a linked
 * DLL (and `rebaseall` as the fix), a child that dies while loading DLLs, the commit limit.
 */
import { Kernel, memoryFileSystem } from '@polykernel/kernel';
import { ACCESS_WRITE } from '@polykernel/mmu';
import type { WindowsSpace } from '@polykernel/windows';
import { cygwinPersonality } from './personality.js';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from './posix.js';
import { cygwinSysroot, rebaseall } from './sysroot.js';
import type { CygwinMachine, ForkStep } from './types.js';

export const CYGWIN_FORK_SCENARIOS = ['copy', 'dll-collision', 'rebaseall', 'dlopen-collision', 'died-dll-loading', 'commit-limit'] as const;
export type CygwinForkScenario = (typeof CYGWIN_FORK_SCENARIOS)[number];

/** What Cygwin's source does at each step, with where (winsup/cygwin/…). */
export const FORK_STEP_NOTES: Readonly<Record<string, string>> = {
  dofork: 'fork.cc dofork: fork() calls it, and once more "with forkables" if the first attempt failed',
  hold_everything: 'fork.cc hold_everything: signals blocked, the process lock and the malloc lock taken',
  'dlls.topsort': 'dll_init.cc dll_list::topsort: the dlopen\'d DLLs put in dependency order for the child',
  setjmp: 'fork.cc: setjmp (ch.jmp); the child resumes here by longjmp with the parent\'s registers',
  child_info_fork: 'child_info.h child_info_fork: what the child needs (stack base/limit, the parent\'s handle), passed through CreateProcess\'s lpReserved2',
  CreateEvent: 'fork.cc frok::parent: the forker_finished event the child waits on',
  '__malloc_lock, cygheap->lock': 'fork.cc: malloc and the cygheap are locked so that their copies are consistent',
  CreateProcessW: 'fork.cc frok::parent: CreateProcessW of the same program, CREATE_SUSPENDED — Windows has no fork',
  'dll_list::alloc': 'dll_init.cc dll_list::alloc: every linked DLL must have loaded where the parent has it, or child_info_fork::abort',
  'pinfo::thisproc': 'pinfo.cc pinfo::thisproc: the child takes its own Cygwin PID (create_cygwin_pid)',
  'dlls.reserve_space': 'dll_init.cc dll_list::reserve_space: each dlopen\'d DLL\'s range reserved at the parent\'s address, or "address space needed by … is already occupied"',
  cygheap_fixup_in_child: 'cygheap.cc cygheap_fixup_in_child: the cygheap reserved at the parent\'s address and read from it',
  'handle_fork: dll data/bss, user heap, exe data/bss': 'dcrt0.cc child_info_fork::handle_fork: cygwin1.dll\'s data/bss, the user heap and the program\'s data/bss read from the parent (ReadProcessMemory)',
  fixup_mmaps_after_fork: 'mm/mmap.cc fixup_mmaps_after_fork: each mapping re-made at its address; private pages committed and copied region by region',
  alloc_stack: 'dcrt0.cc child_info_fork::alloc_stack: the parent\'s stack range committed at the same address',
  longjmp: 'dcrt0.cc: longjmp to the parent\'s setjmp: the child now runs fork()\'s code with the parent\'s registers',
  sync_with_parent: 'sigproc.cc: the child signals subproc_ready and waits for the parent',
  'ch.sync': 'sigproc.cc child_info::sync: the parent waits for the child (or its death)',
  'child.remember': 'fork.cc: the child joins the parent\'s pinfo children (Cygwin PID beside the Windows PID)',
  child_copy: 'fork.cc child_copy: the parent writes into the child at the same addresses (WriteProcessMemory)',
  resume_child: 'fork.cc resume_child: SetEvent(forker_finished), the child runs on',
  fixup_shms_after_fork: 'shm.cc fixup_shms_after_fork: System V shared memory attached again at the same addresses',
  'dlls.load_after_fork': 'dll_init.cc dll_list::load_after_fork: dlopen\'d DLLs loaded at the parent\'s addresses (reserve_space first)',
  'fdtab.fixup_after_fork': 'dtable.cc dtable::fixup_after_fork: each fhandler fixed up (handles inherited, FD_CLOEXEC ones closed only by exec)',
  'child.attach': 'fork.cc: the parent keeps the child\'s process handle (pinfo::attach) for waitpid',
};

export interface CygwinForkStory {
  scenario: CygwinForkScenario;
  lines: string[];
  steps: (ForkStep & { us: number; bytes: number; note: string })[];
  /** fork()'s return: the child's Cygwin PID, or -1 with errno. */
  result: { pid: number; errno: string | null };
  console: string[];
  totals: { us: number; bytesCopied: number; childCommitPages: number; parentCommitPages: number };
}

const SETUP: Readonly<Record<CygwinForkScenario, string>> = {
  copy: 'a plain fork',
  'dll-collision': 'an injected DLL (a "BLODA", as antivirus and hook DLLs are) sits at cygreadline7.dll\'s base 0x3FF880000 in every new process',
  rebaseall: 'the same injected DLL at 0x3FF880000, after `rebaseall` moved every DLL but cygwin1.dll to new bases',
  'dlopen-collision': 'bash dlopen()ed /usr/bin/cygz.dll (at 0x3FF4E0000), and an injected DLL sits there in every new process',
  'died-dll-loading': 'the child dies while loading its DLLs (after the parent\'s copies)',
  'commit-limit': 'a 20 MiB mapping on a 32 MiB machine without a paging file: the child cannot commit its copy',
};

/** Run one fork of bash in the scenario and tell it. */
export function explainCygwinFork(opts: number | { pages?: number; scenario?: CygwinForkScenario } = {}): CygwinForkStory {
  const o = typeof opts === 'number' ? { pages: opts } : opts;
  const scenario = o.scenario ?? 'copy';
  const commitLimit = scenario === 'commit-limit';
  const pages = commitLimit ? 5120 : (o.pages ?? 256);
  const fs = scenario === 'rebaseall' ? memoryFileSystem(rebaseall(cygwinSysroot()).files) : undefined;
  const frames = commitLimit ? 8192 : pages * 2 + 65_536;
  const k = new Kernel<WindowsSpace, CygwinMachine>(cygwinPersonality({ fs }), { frames, contents: false });
  const parent = k.personality.portable!.start!(k, 'bash');
  const t = parent.thread;
  const a = k.syscall(t, 'mmap', [0, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]).value;
  for (let i = 0; i < pages; i++) k.access(t, a + i * 4096, ACCESS_WRITE);
  const s = k.state.cygwin;
  if (scenario === 'dll-collision' || scenario === 'rebaseall') s.injections.push({ name: 'bloda.dll', at: 0x3_ff88_0000, size: 0x10000 });
  if (scenario === 'dlopen-collision') {
    const h = k.syscall(t, 'dlopen', ['/usr/bin/cygz.dll', 0]).value;
    s.injections.push({ name: 'bloda.dll', at: h, size: 0x10000 });
  }
  if (scenario === 'died-dll-loading') s.crashChildAt = 'dll-loading';
  const c0 = k.metrics.cycles;
  const b0 = k.metrics.bytesCopiedCrossProcess;
  const r = k.syscall(t, 'fork');
  const end = { cycles: k.metrics.cycles, bytesCopied: k.metrics.bytesCopiedCrossProcess };
  const raw = s.forkSteps;
  const perUs = 1e6 / k.mmu.profile.hz;
  const steps = raw.map((x, i) => {
    const next = raw[i + 1] ?? end;
    return { ...x, us: (next.cycles - x.cycles) * perUs, bytes: next.bytesCopied - x.bytesCopied, note: FORK_STEP_NOTES[x.step] ?? '' };
  });
  const childProc = r.error === null ? s.byPid.get(r.value) : undefined;
  const child = childProc === undefined ? undefined : k.processes.get(childProc.winpid);
  const totals = { us: (end.cycles - c0) * perUs, bytesCopied: end.bytesCopied - b0, childCommitPages: child?.space.commitCharge ?? 0, parentCommitPages: parent.process.space.commitCharge };
  const story: CygwinForkStory = { scenario, lines: [], steps, result: { pid: r.error === null ? r.value : -1, errno: r.error }, console: [...s.console], totals };
  story.lines = tell(story, pages);
  return story;
}

function tell(st: CygwinForkStory, pages: number): string[] {
  const out = [
    `Cygwin fork() of bash with ${String(pages)} resident pages (${String((pages * 4096) / 1024)} KiB) in a private mapping: ${SETUP[st.scenario]}.`,
    '',
  ];
  let attempt = 0;
  for (const s of st.steps) {
    if (s.step === 'dofork') {
      attempt++;
      if (attempt > 1) out.push('');
      out.push(`attempt ${String(attempt)}${s.detail === '' ? '' : ` (${s.detail})`}:`);
    }
    const what = `${s.step}${s.detail === '' || s.step === 'dofork' ? '' : ` (${s.detail})`}`;
    out.push(`  ${s.side.padEnd(6)} ${what.padEnd(70)} ${s.us.toFixed(1).padStart(9)} µs${s.bytes > 0 ? ` ${s.bytes.toLocaleString('en-US')} bytes copied` : ''}`);
    if (s.note !== '') out.push(`         ${s.note}`);
  }
  out.push('');
  for (const l of st.console) out.push(`console: ${l}`);
  if (st.console.length > 0) out.push('');
  if (st.result.errno !== null) {
    out.push(`  fork() = -1, errno ${st.result.errno}: bash prints "fork: retry: Resource temporarily unavailable" and tries again later.`);
    out.push(`  ${st.totals.us.toFixed(1)} µs simulated and ${st.totals.bytesCopied.toLocaleString('en-US')} bytes copied for nothing.`);
  } else {
    out.push(`  fork() = ${String(st.result.pid)}: it took ${st.totals.us.toFixed(1)} µs simulated and copied ${st.totals.bytesCopied.toLocaleString('en-US')} bytes across processes;`);
    out.push(`  the child is charged ${String(st.totals.childCommitPages)} pages of commit (the parent ${String(st.totals.parentCommitPages)}): copy-on-fork, not copy-on-write.`);
  }
  return out;
}
