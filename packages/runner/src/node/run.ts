/**
 * The whole-workload run on the host: files come from the host's file system (exec and open under
 * --sysroot, mmap and mapFile of a workload-relative name from the workload's directory), then
 * every step runs by the session's scheduler (`runSession`, a loop over `Session.next()`).
 */
import { dirname, resolve } from 'node:path';
import type { Process } from '@polykernel/kernel';
import { sysrootLookup } from '@polykernel/kernel/node';
import { procMaps, type LinuxSpace } from '@polykernel/linux';
import type { Workload } from '@polykernel/workload';
import type { StreamedWorkload } from '@polykernel/workload/node';
import type { ResolvedPersonality } from '../registry.js';
import { openSession, runSession, type Execution, type RunHost, type RunOptions, type StepProgress, type StepResult } from '../run.js';
import { readRegular } from './read.js';

/** The host's files: node's path rules, and regular files only (readRegular). */
export const nodeHost: RunHost = { resolve: (dir, path) => resolve(dir, path), readFile: (path) => readRegular(path) };

/** The simulated machine a run gets: physical memory and swap in pages, page contents, where files come from, the seed. */
export interface Machine {
  frames: number;
  swapSlots: number;
  contents: boolean;
  sysroot: string;
  seed?: number;
}

/** Boot `resolved` on a fresh machine, create the workload's processes and run their steps. */
export async function execute(
  w: Workload, text: string, file: string, resolved: ResolvedPersonality, machine: Machine, opts: RunOptions, out: (s: string) => void, progress: StepProgress,
  streamed?: { workload: StreamedWorkload; emit: ((r: StepResult) => void) | null },
  measure?: { stepCycles: boolean },
): Promise<Execution> {
  const session = openSession(w, resolved, {
    frames: machine.frames, swapSlots: machine.swapSlots, contents: machine.contents, fs: sysrootLookup(machine.sysroot),
    ...(machine.seed !== undefined ? { seed: machine.seed } : {}), ...(typeof opts.profile === 'string' ? { profile: opts.profile } : {}),
  }, {
    file, text, dir: dirname(resolve(file)), host: nodeHost, trace: opts.trace === true, ...(streamed !== undefined ? { steps: streamed.workload.steps } : {}),
  });
  if (measure?.stepCycles === true) session.stepCycles = [];
  if (streamed !== undefined) {
    session.locate = (path) => streamed.workload.positionOf(path);
    session.emit = streamed.emit;
  }
  const eachStep = opts.mapsEachStep === true && opts.json !== true;
  const ending = await runSession(session, progress, (s, line) => {
    const p = s.lastProcess;
    if (eachStep && p !== null && p.state === 'running') out(`== ${line.process}[${p.pid}] ${line.step} -> ${line.result}\n${procMaps((p as Process<LinuxSpace>).space.mm)}`);
  });
  return { k: session.k, lp: session.lp, session, stalled: ending.stalled, trace: session.trace };
}
