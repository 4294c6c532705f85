/**
 * `polykernel-bench`: `list` the scenarios, `run` one as a sweep (parameters × personalities) on a
 * worker pool or as one shard of it, `sweep` a workload file over its `${name}` parameters the same
 * way, and `merge` shard results; each writes JSON, CSV and (for a whole sweep) a Markdown report
 * with an SVG chart. Returns the exit status: 0, 1 (a failure of the inputs), 2 (a usage error).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { resolvePersonality } from '@polykernel/runner';
import { readRegular } from '@polykernel/runner/node';
import { BENCH_PERSONALITIES } from './personalities.js';
import { defaultWorkers, runPoints } from './pool.js';
import { chartSvg, markdown, toCsv } from './report.js';
import { SCENARIOS } from './scenarios.js';
import { expandPoints, merge, parseShard, shardOf, specProblem, type SweepResults, type SweepSpec } from './sweep.js';
import { prepareWorkload, sweepName } from './workload-sweep.js';

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Progress on long sweeps (a terminal's stderr; null: none). */
  progress: ((s: string) => void) | null;
}

const stdio: Io = {
  out: (s) => void process.stdout.write(s + '\n'),
  err: (s) => void process.stderr.write(s + '\n'),
  progress: process.stderr.isTTY ? (s) => void process.stderr.write(s) : null,
};

interface RunOpts {
  param?: Record<string, string[]>;
  personality?: string;
  shard?: string;
  workers?: string;
  seed: string;
  memory: string;
  sysroot: string;
  out: string;
  /** sweep: the figure the chart plots. */
  chart?: string;
}

/** The largest workload file a sweep reads. */
const MAX_WORKLOAD_BYTES = 64 * 1024 ** 2;

/** `size=16M,256M` (repeatable) → { size: ['16M', '256M'] }. */
function collectParam(v: string, prev: Record<string, string[]> = {}): Record<string, string[]> {
  const eq = v.indexOf('=');
  if (eq <= 0) throw new CommanderError(2, 'bench.param', `--param takes name=v1,v2,...; got "${v}"`);
  return { ...prev, [v.slice(0, eq)]: v.slice(eq + 1).split(',').filter((x) => x !== '') };
}

/** Write results, CSV, report and chart into `dir`. */
export async function writeOutputs(dir: string, results: SweepResults, command: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const base = results.shard.count > 1 ? `${results.spec.scenario}.shard-${results.shard.index}-of-${results.shard.count}` : results.spec.scenario;
  const files = [`${base}.json`, `${base}.csv`];
  await writeFile(join(dir, files[0]!), JSON.stringify(results, null, 2) + '\n');
  await writeFile(join(dir, files[1]!), toCsv(results));
  if (results.shard.count === 1) {
    const svg = `${base}.svg`;
    await writeFile(join(dir, svg), await chartSvg(results));
    await writeFile(join(dir, `${base}.md`), markdown(results, command, svg));
    files.push(svg, `${base}.md`);
  }
  return files;
}

function reproduce(spec: SweepSpec, out: string): string {
  const params = Object.entries(spec.params).map(([k, v]) => ` --param ${k}=${v.join(',')}`).join('');
  const common = ` -p ${spec.personalities.join(',')} --seed ${spec.seed} --memory ${spec.memory / 1024 ** 2}M --out ${out}`;
  if (spec.workload !== undefined) return `polykernel-bench sweep ${spec.workload.file}${params}${spec.workload.y !== 'cycles' ? ` --chart ${spec.workload.y}` : ''}${common}`;
  return `polykernel-bench run ${spec.scenario}${params}${common}`;
}

/** -p: each a registered name (its default variant) or variant, as the CLI takes them; default every variant. */
function personalitiesOf(list: string | undefined): string[] {
  if (typeof list !== 'string') return BENCH_PERSONALITIES.map((p) => p.variant);
  return list.split(',').map((x) => x.trim()).filter((x) => x !== '').map((x) => resolvePersonality(x)?.variant ?? x);
}

/** The sweep's machine options and shard, checked: the spec and shard, or the usage error. */
function specOf(base: Pick<SweepSpec, 'scenario' | 'params'> & Partial<Pick<SweepSpec, 'workload'>>, o: RunOpts): { spec: SweepSpec; shard: { index: number; count: number }; workers: number } | string {
  const shard = typeof o.shard === 'string' ? parseShard(o.shard) : { index: 1, count: 1 };
  if (typeof shard === 'string') return shard;
  const memory = /^(\d+)M$/i.exec(o.memory);
  const spec: SweepSpec = { ...base, personalities: personalitiesOf(o.personality), seed: Number(o.seed), memory: Number(memory?.[1] ?? Number.NaN) * 1024 ** 2, sysroot: o.sysroot };
  const problem = specProblem(spec) ?? (Number.isSafeInteger(spec.seed) ? null : `--seed takes a whole number; got "${o.seed}"`)
    ?? (spec.memory > 0 ? null : `--memory takes a size in MiB such as 4096M; got "${o.memory}"`);
  if (problem !== null) return problem;
  const workers = typeof o.workers === 'string' ? Number(o.workers) : defaultWorkers();
  if (!Number.isSafeInteger(workers) || workers < 1) return `--workers takes a whole number of at least 1; got "${o.workers ?? ''}"`;
  return { spec, shard, workers };
}

/** Run a sweep's points (its shard of them) on the pool and write the outputs. */
async function runSweep(spec: SweepSpec, shard: { index: number; count: number }, workers: number, out: string, io: Io): Promise<void> {
  const all = expandPoints(spec);
  const points = shardOf(all, shard);
  const results = await runPoints(spec, points, workers, (done, total) => io.progress?.(`\rpolykernel-bench: ${done}/${total} points${done === total ? '\n' : ''}`));
  const files = await writeOutputs(out, { spec, total: all.length, shard, results }, reproduce(spec, out));
  io.out(`${points.length} of ${all.length} points${shard.count > 1 ? ` (shard ${shard.index}/${shard.count})` : ''}: ${files.map((f) => join(out, f)).join(', ')}`);
}

export async function main(argv: string[], io: Io = stdio): Promise<number> {
  let code = 0;
  const program = new Command()
    .name('polykernel-bench')
    .description('Named benchmark scenarios and parameter sweeps across personalities and variants, with JSON/CSV results and a Markdown report with SVG charts')
    .configureOutput({ writeOut: (s) => { io.out(s.replace(/\n$/, '')); }, writeErr: (s) => { io.err(s.replace(/\n$/, '')); } })
    .exitOverride((e) => {
      throw e;
    });

  program.command('list').description('The scenarios, their questions and parameters, and the personalities').action(() => {
    for (const s of SCENARIOS) io.out(`${s.name.padEnd(11)} ${s.question}\n            params: ${Object.entries(s.params).map(([k, v]) => `${k}=${v.join(',')}`).join(' ')}; chart: ${s.y} by ${s.x}`);
    io.out(`personalities: ${BENCH_PERSONALITIES.map((p) => p.variant).join(', ')}`);
    io.out('any workload file: polykernel-bench sweep W.yaml --param name=v1,v2 (the file says ${name} where a value goes; sweep --help)');
  });

  program.command('run')
    .description('Run a scenario\'s sweep (its parameters × personalities), or one shard of it')
    .argument('<scenario>', 'a scenario name (polykernel-bench list)')
    .option('--param <name=v1,v2>', 'sweep these values of a parameter (repeatable); default: the scenario\'s own', collectParam)
    .option('-p, --personality <list>', 'comma-separated variants (default: every registered one)')
    .option('--shard <i/n>', 'run only the i-th of n slices of the sweep (1-based); join them with merge')
    .option('--workers <n>', 'worker threads (default: one per core; 1 runs in this thread)')
    .option('--seed <n>', 'the seed of every machine', '1')
    .option('--memory <size>', 'physical memory of each machine, in MiB (e.g. 4096M)', '4096M')
    .option('--sysroot <dir>', 'where spawn finds programs', '/')
    .option('--out <dir>', 'where results go: <scenario>.json, .csv and, for a whole sweep, .md and .svg', 'bench-results')
    .addHelpText('after', `
Each point (one parameter combination on one personality) runs on a fresh simulated machine with
the same seed and memory: the numbers depend on the point only, not on the workers or shards.

Examples:
  polykernel-bench run fork-cost --param size=16M,256M,1G -p linux-6.x,linux-5.15
  polykernel-bench run dd --shard 2/3 --out shards/   # on a batch system, i from the job index
  polykernel-bench merge shards/dd.shard-*.json --out results/`)
    .action(async (name: string, o: RunOpts) => {
      const checked = specOf({ scenario: name, params: o.param ?? {} }, o);
      if (typeof checked === 'string') {
        io.err(`polykernel-bench: ${checked}`);
        code = 2;
        return;
      }
      await runSweep(checked.spec, checked.shard, checked.workers, o.out, io);
    });

  program.command('sweep')
    .description('Run a workload file at every combination of its ${name} parameters on each personality, or one shard of that sweep')
    .argument('<workload>', 'a workload file (YAML) that uses ${name} where a value goes')
    .option('--param <name=v1,v2>', 'the values of a parameter the workload uses as ${name} (repeatable; every parameter it uses needs values)', collectParam)
    .option('-p, --personality <list>', 'comma-separated personalities or variants (default: every registered variant)')
    .option('--chart <figure>', 'the figure the chart plots: a metrics path (cycles, faults.zeroFill, pagesCopied, tlbMisses ...) or the cycles of a process\'s steps of a kind as <process>.<kind> (parent.fork)', 'cycles')
    .option('--shard <i/n>', 'run only the i-th of n slices of the sweep (1-based); join them with merge')
    .option('--workers <n>', 'worker threads (default: one per core; 1 runs in this thread)')
    .option('--seed <n>', 'the seed of every machine', '1')
    .option('--memory <size>', 'physical memory of each machine, in MiB (e.g. 4096M); a workload\'s own memory field wins', '4096M')
    .option('--sysroot <dir>', 'where spawn and exec find programs', '/')
    .option('--out <dir>', 'where results go: <file name>.json, .csv and, for a whole sweep, .md and .svg', 'bench-results')
    .addHelpText('after', `
Parameters: \${name} in the workload file (a letter or _, then letters, digits, _) is replaced by
each value before the YAML is read; $$ is a literal $. A parameter the file uses without a value,
or a value for a parameter it does not use, is an error naming the file and line. Each point runs
the workload as polykernel run does, on a fresh machine with the sweep's seed: the numbers depend
on the point alone, not on the workers or shards.

Examples:
  polykernel-bench sweep examples/sweep/spawn-size.yaml --param size=16M,256M,1G -p linux-6.x,linux-5.15,freebsd,windows,cygwin
  polykernel-bench sweep W.yaml --param size=16M,256M --shard 2/3 --out shards/
  polykernel-bench merge shards/W.shard-*.json --out results/`)
    .action(async (file: string, o: RunOpts) => {
      const params = o.param ?? {};
      const bytes = await readRegular(file, MAX_WORKLOAD_BYTES);
      if (typeof bytes === 'string') {
        io.err(`polykernel-bench sweep: ${file}: ${bytes}`);
        code = 1;
        return;
      }
      const ref = prepareWorkload(file, new TextDecoder().decode(bytes), params, o.chart);
      if (typeof ref === 'string') {
        io.err(ref);
        code = 1;
        return;
      }
      const checked = specOf({ scenario: sweepName(file), params, workload: ref }, o);
      if (typeof checked === 'string') {
        io.err(`polykernel-bench: ${checked}`);
        code = 2;
        return;
      }
      await runSweep(checked.spec, checked.shard, checked.workers, o.out, io);
    });

  program.command('merge')
    .description('Join shard results (their .json files) into one result set, report and chart')
    .argument('<files...>', 'the shards\' <scenario>.shard-i-of-n.json files')
    .option('--out <dir>', 'where the merged results go', 'bench-results')
    .action(async (files: string[], o: { out: string }) => {
      let merged: SweepResults;
      try {
        merged = merge(await Promise.all(files.map(async (f) => JSON.parse(await readFile(f, 'utf8')) as SweepResults)));
      } catch (e) {
        io.err(`polykernel-bench merge: ${(e as Error).message}`);
        code = 1;
        return;
      }
      const written = await writeOutputs(o.out, merged, reproduce(merged.spec, o.out));
      io.out(`${merged.results.length} points merged from ${files.length} shards: ${written.map((f) => join(o.out, f)).join(', ')}`);
    });

  try {
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'bench.param') io.err(`polykernel-bench: ${e.message}`);
      return e.exitCode === 0 ? 0 : 2;
    }
    throw e;
  }
}
