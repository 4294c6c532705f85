/**
 * The Windows API as workload steps (native steps of this personality): `VirtualAlloc: { addr,
 * size, type: [MEM_RESERVE, MEM_COMMIT], protect: PAGE_READWRITE, save: A }`, `VirtualFree`,
 * `VirtualProtect`, `VirtualQuery`, their `Ex` forms with `process: current | <name> | NULL`, and
 * `CreateProcessW: { path, flags, as, inheritHandles }`. Each runs the kernel32 call with the
 * parameter names of its documentation and reports what a C caller sees: the return value,
 * GetLastError's name when it failed, the old protection (VirtualProtect) or the
 * MEMORY_BASIC_INFORMATION (VirtualQuery).
 */
import type { RecordValue, SyscallArg, Thread } from '@polykernel/kernel';
import { CURRENT_PROCESS, NAMED_CONSTANTS, protectName, stateName, typeName } from './constants.js';
import type { K } from './mm.js';

/** The step kinds this module runs (the workload schema lists them as windows' native steps). */
export const WINDOWS_STEP_KINDS = [
  'VirtualAlloc', 'VirtualAllocEx', 'VirtualFree', 'VirtualFreeEx', 'VirtualProtect', 'VirtualProtectEx', 'VirtualQuery', 'VirtualQueryEx', 'CreateProcessW',
] as const;

export type WindowsStepKind = (typeof WINDOWS_STEP_KINDS)[number];

/** What the workload's names refer to: regions saved by earlier steps and processes by name. */
export interface WindowsStepNames {
  regions: Map<string, { addr: number; length: number }>;
  /** A HANDLE for a process name (`process: <name>`): one CreateProcessW saved with `as`, or another of the workload's processes; undefined if unknown. */
  processHandle(name: string): number | undefined;
  /** Remember a process CreateProcessW made (`as`): its HANDLE. */
  saveProcess(name: string, handle: number, pid: number): void;
}

export interface WindowsStepOutcome {
  /** One line for the run's output: `0x10000`, `NULL (ERROR_INVALID_ADDRESS)`, `TRUE (old PAGE_READWRITE)` ... */
  result: string;
  value: number;
  lastError: string | null;
  record: Readonly<Record<string, RecordValue>> | null;
}

export class WindowsStepError extends Error {}

type Address = number | { region: string; offset: number };

function flags(v: unknown, what: string): number {
  const one = (x: unknown): number => {
    if (typeof x === 'number') return x;
    const n = NAMED_CONSTANTS[String(x).trim()];
    if (n === undefined) throw new WindowsStepError(`${what}: unknown constant ${JSON.stringify(x)} (known: ${Object.keys(NAMED_CONSTANTS).join(', ')})`);
    return n;
  };
  if (Array.isArray(v)) return v.reduce((sum: number, x) => sum + one(x), 0);
  if (typeof v === 'string' && v.includes('|')) return v.split('|').reduce((sum, x) => sum + one(x), 0);
  return one(v);
}

function address(names: WindowsStepNames, a: unknown): number {
  const v = a as Address | undefined;
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  const reg = names.regions.get(v.region);
  if (reg === undefined) throw new WindowsStepError(`region "${v.region}" was not saved by an earlier step`);
  return reg.addr + v.offset;
}

function processArg(names: WindowsStepNames, v: unknown): number {
  if (v === null) return 0;
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  if (s === 'current') return CURRENT_PROCESS;
  if (s === 'NULL') return 0;
  const h = names.processHandle(s);
  if (h === undefined) throw new WindowsStepError(`process "${s}" is not known (current, NULL, a CreateProcessW step's "as", or a process of the workload)`);
  return h;
}

const hex = (v: number): string => `0x${v.toString(16)}`;

/** Run one Windows API step for `t`. */
export function runWindowsStep(k: K, t: Thread, kind: WindowsStepKind, args: Readonly<Record<string, unknown>>, names: WindowsStepNames): WindowsStepOutcome {
  const ex = kind.endsWith('Ex');
  const pre: SyscallArg[] = ex ? [processArg(names, args.process)] : [];
  const num = (key: string, fallback = 0): number => (typeof args[key] === 'number' ? args[key] : fallback);
  const call = (name: string, rest: SyscallArg[]): { value: number; error: string | null; record: Readonly<Record<string, RecordValue>> | null } => {
    const r = k.syscall(t, name, [...pre, ...rest]);
    return { value: r.value, error: r.error, record: r.record?.fields ?? null };
  };
  const failed = (r: { error: string | null }, shown: string): string => `${shown} (${r.error ?? 'no error'})`;
  switch (kind) {
    case 'VirtualAlloc':
    case 'VirtualAllocEx': {
      const size = num('size');
      const r = call(kind, [address(names, args.addr), size, flags(args.type, 'type'), flags(args.protect, 'protect')]);
      // The program's variable holds the result: NULL after a failure (a later touch of it faults).
      if (typeof args.save === 'string') names.regions.set(args.save, { addr: r.value, length: size });
      return { result: r.error === null ? hex(r.value) : failed(r, 'NULL'), value: r.value, lastError: r.error, record: r.record };
    }
    case 'VirtualFree':
    case 'VirtualFreeEx': {
      const r = call(kind, [address(names, args.addr), num('size'), flags(args.type, 'type')]);
      return { result: r.error === null ? 'TRUE' : failed(r, 'FALSE'), value: r.value, lastError: r.error, record: r.record };
    }
    case 'VirtualProtect':
    case 'VirtualProtectEx': {
      const r = call(kind, [address(names, args.addr), num('size'), flags(args.protect, 'protect')]);
      const old = r.record?.lpflOldProtect;
      return { result: r.error === null ? `TRUE (old ${protectName(Number(old ?? 0))})` : failed(r, 'FALSE'), value: r.value, lastError: r.error, record: r.record };
    }
    case 'VirtualQuery':
    case 'VirtualQueryEx': {
      const r = call(kind, [address(names, args.addr)]);
      const m = r.record;
      const shown = m === null ? '' : ` BaseAddress=${hex(Number(m.BaseAddress))} AllocationBase=${hex(Number(m.AllocationBase))} RegionSize=${hex(Number(m.RegionSize))} State=${stateName(Number(m.State))} Protect=${protectName(Number(m.Protect))} Type=${typeName(Number(m.Type)) || '0'}`;
      return { result: r.error === null ? `${r.value}${shown}` : failed(r, '0'), value: r.value, lastError: r.error, record: r.record };
    }
    case 'CreateProcessW': {
      const creation = args.flags === undefined ? 0 : flags(args.flags, 'flags');
      const r = call(kind, [String(args.path), creation, args.inheritHandles === true ? 1 : 0]);
      const info = r.record;
      if (r.error === null && info !== null && typeof args.as === 'string') names.saveProcess(args.as, Number(info.hProcess), Number(info.dwProcessId));
      const shown = info === null ? '' : ` (dwProcessId ${String(info.dwProcessId)}, hProcess ${hex(Number(info.hProcess))})`;
      return { result: r.error === null ? `TRUE${shown}` : failed(r, 'FALSE'), value: r.value, lastError: r.error, record: r.record };
    }
  }
}
