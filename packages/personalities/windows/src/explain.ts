/**
 * `polykernel explain fault -p windows`: one page fault told from what the simulation does — the
 * allocation, the MMU's translation, the trap, MmAccessFault's decision from the VAD (a demand-zero
 * page, a guard page, an access violation) and what the process sees (the PTE, the exception, the
 * VirtualQuery record before and after).
 */
import { Kernel, type Thread } from '@polykernel/kernel';
import { ACCESS_READ, ACCESS_WRITE, explainTranslation, formatPteFlags, type Access } from '@polykernel/mmu';
import { MEM_COMMIT, MEM_RESERVE, PAGE_GUARD, PAGE_READONLY, PAGE_READWRITE, protectName, stateName } from './constants.js';
import { vadAt } from './mm.js';
import { windowsPersonality } from './personality.js';
import type { WindowsMachine, WindowsSpace } from './types.js';

export const WINDOWS_FAULT_SCENARIOS = ['demand-zero', 'guard-page', 'access-violation'] as const;
export type WindowsFaultScenario = (typeof WINDOWS_FAULT_SCENARIOS)[number];

export interface WindowsFaultStory {
  lines: string[];
  facts: {
    va: number; access: string; vad: string | null; pteBefore: string | null; fault: string | null; resolution: string | null;
    exception: string | null; pteAfter: string | null; protectBefore: string; protectAfter: string; exitCode: number | null; cycles: number;
  };
}

const hex = (n: number): string => `0x${n.toString(16)}`;

function pte(k: Kernel<WindowsSpace, WindowsMachine>, space: WindowsSpace, va: number): string | null {
  const e = space.pt.lookup(va);
  return e === null ? null : `frame ${hex(e.frame)}, ${formatPteFlags(e.flags)}`;
}

function query(k: Kernel<WindowsSpace, WindowsMachine>, t: Thread, va: number): string {
  const f = k.syscall(t, 'VirtualQuery', [va]).record!.fields;
  return `State ${stateName(f.State as number)}, Protect ${protectName(f.Protect as number)}, RegionSize ${hex(f.RegionSize as number)}`;
}

export function explainWindowsFault(scenario: WindowsFaultScenario): WindowsFaultStory {
  const k = new Kernel(windowsPersonality(), { contents: true, frames: 16384 });
  const p = k.createProcess(k.init, 'demo');
  const t = p.threads[0]!;
  const lines: string[] = [];
  const out = (s: string): void => {
    lines.push(s);
  };
  const protect = scenario === 'guard-page' ? PAGE_READWRITE + PAGE_GUARD : scenario === 'access-violation' ? PAGE_READONLY : PAGE_READWRITE;
  const access: Access = scenario === 'guard-page' ? ACCESS_READ : ACCESS_WRITE;
  const va = k.syscall(t, 'VirtualAlloc', [0, 0x10000, MEM_RESERVE | MEM_COMMIT, protect]).value;
  out(`demo[${p.pid}] calls VirtualAlloc(NULL, 0x10000, MEM_RESERVE|MEM_COMMIT, ${protectName(protect)}) → ${hex(va)}: a VAD, 16 pages of commit charged, no frame yet.`);
  if (scenario === 'guard-page') {
    k.syscall(t, 'AddVectoredExceptionHandler', [1, -1]);
    out('It registers a vectored exception handler that returns EXCEPTION_CONTINUE_EXECUTION.');
  }
  const protectBefore = query(k, t, va);
  out(`VirtualQuery(${hex(va)}): ${protectBefore}.`);
  const v = vadAt(p.space, va)!;
  const pteBefore = pte(k, p.space, va);
  const name = access === ACCESS_WRITE ? 'write' : 'read';
  out(`It does a user-mode ${name} at ${hex(va)}. Its PTE now: ${pteBefore ?? 'none (committed, never touched)'}.`);
  out('');
  out('1. The MMU translates:');
  const asid = k.asidOf(p);
  k.mmu.activate(t.cpu, asid);
  const e = explainTranslation(k.mmu, t.cpu, asid, va, access, true);
  for (const l of e.text.trimEnd().split('\n')) out(`   ${l}`);
  const faults: { resolution: string; cycles: number }[] = [];
  const signals: string[] = [];
  k.bus.subscribe('fault', (f) => faults.push({ resolution: f.resolution, cycles: f.cycles }));
  k.bus.subscribe('signal', (s) => signals.push(`${s.signal} → ${s.action}`));
  const before = k.metrics.cycles;
  const pa = k.access(t, va, access);
  const cycles = k.metrics.cycles - before;
  out('');
  out(`2. Trap: #PF (${e.fault ?? 'fault'}); KiPageFault → MmAccessFault(${hex(va)}). MiLocateAddress finds the VAD [${hex(v.start)}, ${hex(v.end)}), MEM_PRIVATE, the page ${protectName(protect)}.`);
  const first = faults[0]?.resolution ?? null;
  if (scenario === 'demand-zero') {
    out('3. The page is committed and the write allowed; no PTE: MiResolveDemandZeroFault takes a zeroed frame and makes the PTE valid.');
  } else if (scenario === 'guard-page') {
    out('3. The page is committed with PAGE_GUARD: MmAccessFault clears the guard (the page is now PAGE_READWRITE) and returns STATUS_GUARD_PAGE_VIOLATION.');
    out(`   KiDispatchException → RtlDispatchException: ${signals.join(', ') || 'no handler'}; the access is retried and faults again, now an ordinary demand-zero fault.`);
  } else {
    out('3. The page is committed PAGE_READONLY and the access is a write: STATUS_ACCESS_VIOLATION.');
    out(`   KiDispatchException: ${signals.join(', ') || 'no handler'} — no handler takes it, so the process ends with the exception code as its exit code.`);
  }
  out(`4. ${pa >= 0 ? `The access completes: physical ${hex(pa)}.` : 'The access does not complete.'} Fault resolutions: ${faults.map((f) => f.resolution).join(', ')}; ${cycles.toLocaleString('en-US')} simulated cycles.`);
  const pteAfter = p.state === 'running' ? pte(k, p.space, va) : null;
  const protectAfter = p.state === 'running' ? query(k, t, va) : '(process gone)';
  out(`   PTE after: ${pteAfter ?? 'none'}. VirtualQuery: ${protectAfter}.${p.state !== 'running' ? ` Exit code ${hex(p.exitStatus ?? 0)}.` : ''}`);
  return {
    lines,
    facts: {
      va, access: name, vad: `[${hex(v.start)}, ${hex(v.end)})`, pteBefore, fault: e.fault, resolution: first, exception: signals[0] ?? null, pteAfter,
      protectBefore, protectAfter, exitCode: p.state === 'running' ? null : p.exitStatus, cycles,
    },
  };
}
