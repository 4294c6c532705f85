/**
 * `polykernel-bench`: `list` the scenarios, `run` one as a sweep (parameters × personalities) on a
 * worker pool or as one shard of it, `merge` shard results, and `report` results as Markdown with
 * an SVG chart. Returns the exit status: 0, 1 (a failure of the inputs), 2 (a usage error).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { BENCH_PERSONALITIES } from './personalities.js';
import { defaultWorkers, runPoints } from './pool.js';
import { chartSvg, markdown, toCsv } from './report.js';
import { SCENARIOS } from './scenarios.js';
import { expandPoints, merge, parseShard, shardOf, specProblem, type SweepResults, type SweepSpec } from './sweep.js';

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
}

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
  return `polykernel-bench run ${spec.scenario}${params} -p ${spec.personalities.join(',')} --seed ${spec.seed} --memory ${spec.memory / 1024 ** 2}M --out ${out}`;
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
      const shard = typeof o.shard === 'string' ? parseShard(o.shard) : { index: 1, count: 1 };
      if (typeof shard === 'string') {
        io.err(`polykernel-bench: ${shard}`);
        code = 2;
        return;
      }
      const memory = /^(\d+)M$/i.exec(o.memory);
      const spec: SweepSpec = {
        scenario: name, params: o.param ?? {},
        personalities: typeof o.personality === 'string' ? o.personality.split(',').filter((x) => x !== '') : BENCH_PERSONALITIES.map((p) => p.variant),
        seed: Number(o.seed), memory: Number(memory?.[1] ?? Number.NaN) * 1024 ** 2, sysroot: o.sysroot,
      };
      const problem = specProblem(spec) ?? (Number.isSafeInteger(spec.seed) ? null : `--seed takes a whole number; got "${o.seed}"`)
        ?? (spec.memory > 0 ? null : `--memory takes a size in MiB such as 4096M; got "${o.memory}"`);
      if (problem !== null) {
        io.err(`polykernel-bench: ${problem}`);
        code = 2;
        return;
      }
      const workers = typeof o.workers === 'string' ? Number(o.workers) : defaultWorkers();
      if (!Number.isSafeInteger(workers) || workers < 1) {
        io.err(`polykernel-bench: --workers takes a whole number of at least 1; got "${o.workers ?? ''}"`);
        code = 2;
        return;
      }
      const all = expandPoints(spec);
      const points = shardOf(all, shard);
      const results = await runPoints(spec, points, workers, (done, total) => io.progress?.(`\rpolykernel-bench: ${done}/${total} points${done === total ? '\n' : ''}`));
      const out = o.out;
      const files = await writeOutputs(out, { spec, total: all.length, shard, results }, reproduce(spec, out));
      io.out(`${points.length} of ${all.length} points${shard.count > 1 ? ` (shard ${shard.index}/${shard.count})` : ''}: ${files.map((f) => join(out, f)).join(', ')}`);
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
