/**
 * usr.bin/procstat/procstat_auxv.c: `procstat -x`, the auxiliary vector exec gave the process:
 * header "%5s %-19s %-16s %-16s\n" (PID COMM AUXV VALUE), then per entry the prefix "%5d %-19s",
 * the name in 16 columns and the value as the tool formats each type: pointers with %p, sizes
 * and counts with %ld, flags with %#lx, AT_STACKPROT as EXECUTABLE / NONEXECUTABLE; it stops at
 * AT_NULL.
 */
import type { Process, ViewRow } from '@polykernel/kernel';
import { procOf, type FreebsdKernel, type FreebsdSpace } from '../machine.js';
import { VM_PROT_EXECUTE } from '../param.js';

const POINTERS = new Set(['AT_PHDR', 'AT_BASE', 'AT_ENTRY', 'AT_EXECPATH', 'AT_CANARY', 'AT_PAGESIZES', 'AT_TIMEKEEP', 'AT_ARGV', 'AT_ENVV', 'AT_PS_STRINGS', 'AT_FXRNG', 'AT_KPRELOAD']);
const FLAGS = new Set(['AT_FLAGS', 'AT_EHDRFLAGS', 'AT_HWCAP', 'AT_HWCAP2', 'AT_BSDFLAGS', 'AT_USRSTACKBASE', 'AT_USRSTACKLIM']);

export const PROCSTAT_AUXV_HEADER = `${'PID'.padStart(5)} ${'COMM'.padEnd(19)} ${'AUXV'.padEnd(16)} ${'VALUE'.padEnd(16)}\n`;

/** One value as procstat prints it. */
export function formatAuxValue(name: string, v: number | string): string {
  if (typeof v === 'string') return v;
  if (name === 'AT_STACKPROT') return (v & VM_PROT_EXECUTE) !== 0 ? 'EXECUTABLE' : 'NONEXECUTABLE';
  if (POINTERS.has(name)) return `0x${v.toString(16)}`;
  if (FLAGS.has(name)) return v === 0 ? '0' : `0x${v.toString(16)}`;
  return String(v);
}

export function renderProcstatAuxv(k: FreebsdKernel, p: Process<FreebsdSpace>): string {
  const prefix = `${String(p.pid).padStart(5)} ${p.comm.padEnd(19)}`;
  let out = PROCSTAT_AUXV_HEADER;
  for (const [name, v] of procOf(k.state, p).auxv) {
    if (name === 'AT_NULL') break;
    if (name === 'AT_IGNORE') continue;
    out += `${prefix} ${name.padEnd(16)} ${formatAuxValue(name, v)}\n`;
  }
  return out;
}

export function procstatAuxvRows(k: FreebsdKernel, p: Process<FreebsdSpace>): ViewRow[] {
  return procOf(k.state, p).auxv.filter(([n]) => n !== 'AT_NULL').map(([name, v]) => ({ process_id: p.pid, command: p.comm, [name]: formatAuxValue(name, v) }));
}
