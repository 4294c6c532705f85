/**
 * usr.bin/procstat/procstat_args.c: `procstat -c`, the command line of a process as exec left it
 * (kern.proc.args): header "%5s %-16s %-53s\n" (PID COMM ARGS), then "%5d %-16s" and each
 * argument after a space; "-" when there are none.
 */
import type { Process, ViewRow } from '@polykernel/kernel';
import { procOf, type FreebsdKernel, type FreebsdSpace } from '../machine.js';

export const PROCSTAT_ARGS_HEADER = `${'PID'.padStart(5)} ${'COMM'.padEnd(16)} ${'ARGS'.padEnd(53)}\n`;

export function renderProcstatArgs(k: FreebsdKernel, p: Process<FreebsdSpace>): string {
  const args = procOf(k.state, p).args;
  const tail = args.length === 0 ? ' -' : args.map((a) => ` ${a}`).join('');
  return `${PROCSTAT_ARGS_HEADER}${String(p.pid).padStart(5)} ${p.comm.padEnd(16)}${tail}\n`;
}

export function procstatArgsRows(k: FreebsdKernel, p: Process<FreebsdSpace>): ViewRow[] {
  return [{ process_id: p.pid, command: p.comm, args: [...procOf(k.state, p).args] }];
}
