/**
 * `polykernel run --refs TRACE` and `polykernel run W.yaml --refs TRACE`: a lackey trace through
 * the MMU and TLBs. Alone, each --profile gets a fresh machine with one empty Linux process that
 * maps every page on its first touch (refs.ts). With a workload (an imported strace log, or any
 * Linux workload), the workload runs first on the machine of the one --profile, and the trace is
 * replayed in its first process (in place of its closing exit step, if it has one): references that fall in the workload's mappings use them (their
 * protections, their page cache pages, the faults they take), the others are mapped on first touch.
 */
import type { Kernel } from '@polykernel/kernel';
import type { LinuxSpace } from '@polykernel/linux';
import { EXIT } from './exit.js';
import { resolvePersonality } from './personalities.js';
import { refsReport, refsSetup, RefsReplay, replayTrace, runRefs, traceProgress, type RefsOptions } from './refs.js';
import { execute, foreignSteps, loadWorkload, machineOf, Progress } from './run.js';

/** run's options that mean nothing to a trace replay. */
const NOT_FOR_REFS: [string, string][] = [['mapsEachStep', '--maps-each-step'], ['meminfo', '--meminfo'], ['trace', '--trace'], ['contents', '--contents']];

export async function runRefsCommand(file: string | undefined, opts: RefsOptions, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  if (typeof opts.refs !== 'string') {
    err(file === undefined ? "error: missing required argument 'workload'\n(run with --help for usage)" : 'polykernel run: --profile, --limit and --strict apply to --refs');
    return EXIT.usage;
  }
  for (const [key, flag] of NOT_FOR_REFS) {
    if (opts[key] === true) {
      err(`polykernel run: ${flag} does not apply to --refs (the trace's report is its TLB, walk and fault counts)`);
      return EXIT.usage;
    }
  }
  const personality = typeof opts.personality === 'string' ? opts.personality : 'linux';
  if (resolvePersonality(personality)?.entry.name !== 'linux') {
    err(`polykernel run: --refs replays the trace on the Linux personality (a lackey trace is a Linux program's); "${personality}" is not a Linux variant`);
    return EXIT.usage;
  }
  if (file === undefined) return runRefs(opts.refs, opts, out, err);
  return runWorkloadThenRefs(file, opts.refs, opts, out, err);
}

async function runWorkloadThenRefs(file: string, trace: string, opts: RefsOptions, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const setup = refsSetup(trace, opts, 'run --refs');
  if ('message' in setup) {
    err(setup.message);
    return setup.code;
  }
  if (setup.profiles.length !== 1) {
    err('polykernel run: with a workload, --refs replays on one machine profile (give --profile one name; without a workload several go side by side)');
    return EXIT.usage;
  }
  const loaded = await loadWorkload(file, 'run', err);
  if (typeof loaded === 'number') return loaded;
  const { text } = loaded;
  // A recorded program ends in exit_group: the trace's references happened before it, so the
  // first process's closing exit step is left out (and said) and the trace replays in its place.
  const steps0 = loaded.w.processes[0]?.steps ?? [];
  const endsInExit = steps0.length > 0 && 'exit' in steps0[steps0.length - 1]!;
  const w = endsInExit ? { ...loaded.w, processes: [{ ...loaded.w.processes[0]!, steps: steps0.slice(0, -1) }, ...loaded.w.processes.slice(1)] } : loaded.w;
  const resolved = resolvePersonality(typeof opts.personality === 'string' ? opts.personality : 'linux')!;
  const foreign = foreignSteps(w, text, file, resolved.entry.name, resolved.variant);
  if (foreign !== null) {
    err(foreign);
    return EXIT.failure;
  }
  const machine = machineOf(w, opts, file, 'run', err);
  if (typeof machine === 'number') return machine;
  const run = await execute(w, text, file, resolved, machine, { ...opts, profile: setup.profiles[0]! }, out, new Progress(0, null));
  const first = run.session.runners[0];
  if (first?.proc.state !== 'running' || first.thread.state === 'dead') {
    err(`polykernel run: ${file}: the workload's first process is not running after its steps: the trace has no address space to run in`);
    return EXIT.failure;
  }
  const replay = new RefsReplay(setup.profiles[0]!, machine.frames, { kernel: run.k as Kernel<LinuxSpace>, thread: first.thread });
  const progress = traceProgress('run --refs');
  const result = await replayTrace(trace, replay.add, { strict: opts.strict === true, ...(setup.limit !== undefined ? { limit: setup.limit } : {}) }, progress.tick);
  progress.clear();
  if (typeof result === 'string') {
    err(`polykernel run --refs: ${result}`);
    return EXIT.failure;
  }
  const where = `${first.name}[${first.proc.pid}]`;
  if (opts.json === true) {
    out(JSON.stringify({ workload: w.name, personality: resolved.variant, steps: run.session.results, stalled: run.stalled, process: where, exitLeftOut: endsInExit, refs: refsReport(trace, result, [replay.result()], true, out) }, null, 2));
    return EXIT.ok;
  }
  out(`${w.name} on ${resolved.variant} (${setup.profiles[0]!}): ${run.session.results.length} steps run${run.stalled !== null ? `; ${run.stalled}` : ''}; the trace replayed in ${where}, after its steps${endsInExit ? ' (before its closing exit step, left out)' : ''}`);
  refsReport(trace, result, [replay.result()], false, out);
  return EXIT.ok;
}
