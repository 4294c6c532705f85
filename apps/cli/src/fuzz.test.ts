/**
 * CLI fuzz (issue 21): seeded random argv and random YAML workloads, run in-process. Every outcome
 * must be exit 0, or a defined exit status (1, 2; exec's 126, 127) with an error on stderr whose
 * every line is one of ours (no stack trace, no "internal error"); a simulated signal is a step
 * result in a 0 exit; and the host's resident memory stays within RSS_BOUND. 2,000 cases per CI
 * run: argv built per command (mostly valid, often wrong in one way), argv of random tokens from
 * every command's options and values, YAML workloads of random steps, and mutated binaries given to
 * inspect and exec. The seed is fixed so CI is reproducible; POLYKERNEL_FUZZ_SEED and
 * POLYKERNEL_FUZZ_RUNS explore further (docs/testing.md lists what such runs found).
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

const SEED = Number(process.env.POLYKERNEL_FUZZ_SEED ?? 21);
const RUNS = Number(process.env.POLYKERNEL_FUZZ_RUNS ?? 2000);
const dir = mkdtempSync(join(tmpdir(), 'pk-fuzz-'));
const PE = new URL('../../../packages/formats/pe/test/fixtures/delayed-x86_64.exe', import.meta.url);
const MACHO = new URL('../../../packages/formats/macho/test/fixtures/', import.meta.url);
const machoFixture = readdirSync(MACHO).find((f) => !f.includes('.') || f.endsWith('.dylib')) ?? '';
/** Starting points for mutation: this machine's /bin/true, a PE and a Mach-O fixture, and an ELF magic followed by zeros. */
const BINARIES: Record<string, Uint8Array> = {
  elf: new Uint8Array(readFileSync('/bin/true')),
  pe: new Uint8Array(readFileSync(PE)),
  macho: machoFixture === '' ? new Uint8Array(4096) : new Uint8Array(readFileSync(new URL(machoFixture, MACHO))),
  noise: Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, ...new Uint8Array(4089)),
};
let n = 0;
const file = (text: string | Uint8Array): string => {
  const f = join(dir, `f${n++}.yaml`);
  writeFileSync(f, text);
  return f;
};

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(['node', 'polykernel', ...argv], { out: (s) => (out += s + '\n'), err: (s) => (err += s + '\n') });
  return { code, out, err };
}

/** Every stderr line is a message of ours: `polykernel...`, `file:line:column: ...`, or commander's usage lines. */
function checkOutcome(argv: string[], r: { code: number; err: string }): void {
  const why = `argv: ${JSON.stringify(argv).slice(0, 400)}\nstderr: ${r.err.slice(0, 600)}`;
  expect([0, 1, 2, 126, 127], why).toContain(r.code);
  expect(r.err, why).not.toMatch(/^\s+at .+[:(]\d+/m);
  expect(r.err, why).not.toMatch(/internal error|TypeError|ReferenceError|Maximum call stack|Cannot read properties/);
  if (r.code !== 0) expect(r.err.trim(), why).not.toBe('');
}

// ---- values: mostly plausible, often wrong in one way --------------------------------------------

/** Mostly good values, sometimes a bad one: a workload usually gets far enough to run. */
const mostly = <T,>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<T>): fc.Arbitrary<T> => fc.oneof({ weight: 60, arbitrary: good }, { weight: 1, arbitrary: bad });
const size = mostly<number | string>(
  fc.oneof(fc.constantFrom(4096, 8192, 65536, '4K', '64K', '1M', '0x10000'), fc.integer({ min: 1, max: 1 << 20 })),
  fc.constantFrom(0, -1, -4096, 2 ** 53, 'INF', '1T', '0x7fffffffffff', '-4K', '8Q', '', '.nan', '1e309', 'x', 4096.5),
);
const prot = mostly(fc.constantFrom('rw-', 'r--', '---', 'rwx', 'r-x'), fc.constantFrom('bad', 7 as unknown as string));
const flags = mostly<readonly string[]>(fc.constantFrom<readonly string[]>(['private', 'anonymous'], ['shared', 'anonymous'], ['private', 'anonymous', 'populate']), fc.constantFrom<readonly string[]>(['private', 'anonymous', 'fixed'], ['private'], ['private', 'shared', 'anonymous'], ['bogus'], []));
const region = mostly(fc.constantFrom('A', 'B', 'C'), fc.constant('nope'));
const signal = mostly<string | number>(fc.constantFrom('SIGTERM', 'SIGKILL', 'SIGSEGV', 'TERM', 'SIGCHLD', 'SIGSTOP', 'SIGCONT', 9), fc.constantFrom('SIGFOO', 0, 65, 'sigterm'));
const raw = fc.oneof(fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }), fc.constantFrom(0, -1, -4096, 3, 34, 50, '8K', '0x10000', '-4K', '/etc/passwd', '8Q', 1.5));

const step: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  step: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.record({ mmap: fc.record({ name: region, length: size, prot, flags }, { requiredKeys: ['name', 'length', 'prot', 'flags'] }) }),
    fc.record({ munmap: fc.record({ region, offset: size, length: size }, { requiredKeys: ['region', 'length'] }) }),
    fc.record({ mprotect: fc.record({ region, length: size, prot }) }),
    fc.record({ brk: fc.oneof(fc.record({ delta: fc.constantFrom(8192, '-4K', '+1M', -8192, 'x') }), fc.record({ to: size })) }),
    fc.record({ mremap: fc.record({ region, newLength: size, mayMove: fc.boolean() }) }),
    fc.record({ madvise: fc.record({ region, length: size, advice: fc.constantFrom('dontneed', 'willneed', 'free', 'bogus') }) }),
    fc.record({ touch: fc.record({ region, length: size, access: fc.constantFrom('read', 'write', 'exec'), pattern: fc.constantFrom('sequential', 'random', 'stride'), count: fc.constantFrom(1, 100, 2_000_000_000, 0, -1) }, { requiredKeys: ['region', 'length'] }) }),
    fc.record({ store: fc.record({ region, offset: size, value: fc.constantFrom(0, 7, 2 ** 40, -1), size: fc.constantFrom(1, 2, 4, 8, 3) }, { requiredKeys: ['region', 'value'] }) }),
    fc.record({ load: fc.record({ region, size: fc.constantFrom(1, 4, 8) }) }),
    fc.record({ fork: fc.record({ steps: fc.array(tie('step'), { maxLength: 3 }) }) }),
    fc.record({ vfork: fc.record({ steps: fc.array(tie('step'), { maxLength: 2 }) }) }),
    fc.record({ wait: fc.record({ options: fc.constantFrom([], ['nohang'], ['bogus']) }) }),
    fc.record({ kill: fc.record({ process: fc.constantFrom('self', 'parent', 'ghost', '99999'), signal }) }),
    fc.record({ sigaction: fc.record({ signal, action: fc.constantFrom('default', 'ignore', 'handle'), onFault: fc.constantFrom('continue', 'mprotect') }) }),
    fc.record({ exit: fc.constantFrom(0, 1, 255, 256, -1) }),
    fc.record({ open: fc.record({ path: fc.constantFrom('/etc/hostname', '/nonexistent', '/', '/dev/zero'), as: fc.constantFrom('f', 'g'), flags: fc.constantFrom(['read'], ['write'], ['rdwr', 'create']) }) }),
    fc.record({ read: fc.record({ fd: fc.constantFrom('f', 'g', 0, 99), region, length: size }) }),
    fc.record({ close: fc.record({ fd: fc.constantFrom('f', 'g', 3, 99) }) }),
    fc.record({ syscall: fc.record({ name: fc.constantFrom('mmap', 'munmap', 'mprotect', 'madvise', 'mremap', 'brk', 'getpid', 'kill', 'nosuchcall'), args: fc.array(raw, { maxLength: 7 }) }) }),
    fc.record({ oomScoreAdj: fc.constantFrom(0, 1000, -1000, 1001) }),
    { weight: 1, arbitrary: fc.constantFrom('junk', null, 42, { nothing: 1 }) },
  ),
})).step;

/** JSON is YAML (flow style); 'INF' becomes 1e309, a number too large for a double. */
const yamlOf = (v: unknown): string => JSON.stringify(v).replace(/"INF"/g, '1e309');

const workloadText = fc.oneof(
  { weight: 6, arbitrary: fc.record({ steps: fc.array(step, { maxLength: 8 }), memory: fc.option(fc.constantFrom('4K', '1M', '64G', '1T', -1), { nil: undefined, freq: 20 }), contents: fc.option(fc.boolean(), { nil: undefined }) })
    .map(({ steps, memory, contents }) => `name: fuzz\n${memory !== undefined ? `memory: ${yamlOf(memory)}\n` : ''}${contents !== undefined ? `contents: ${contents}\n` : ''}processes:\n  - name: p\n    steps:\n${steps.map((s) => `      - ${yamlOf(s)}`).join('\n')}\n`) },
  { weight: 1, arbitrary: fc.constantFrom('', ':', 'name: [', '- - -', 'a: &a [1]\nb: *a\n', 'name: x\nprocesses: []\n', '\t\tname: x', '{{{{', 'name: x\nprocesses:\n  - name: p\n    steps: 7\n') },
);

/** Options of every command (web excepted: it serves until stopped), and values for them. */
const OPTIONS = [
  '-h', '-l', '-S', '-d', '--dyn-syms', '-s', '-r', '-n', '-D', '--coff-imports', '--coff-exports', '--coff-basereloc', '--arch', '-a', '--all',
  '-p', '--sysroot', '-e', '--argv0', '--cpu', '--maps', '--auxv', '--stack', '--status', '--json', '--until', '--trace', '--suspended',
  '--refs', '--profile', '--limit', '--strict', '-m', '--memory', '--swap', '--maps-each-step', '--meminfo', '--contents', '--progress',
  '--seed', '--steps', '--views', '-o', '--name', '--check', '--replay', '--program', '--scenario', '--help', '--', '-', '-x', '--no-such-option',
];
const GOOD = join(dir, 'good.yaml');
writeFileSync(GOOD, 'name: good\nprocesses:\n  - name: p\n    steps:\n      - mmap: { name: A, length: 64K, prot: rw-, flags: [private, anonymous] }\n      - touch: { region: A, length: 64K, access: write }\n');
const STRACE = join(dir, 'log.strace');
writeFileSync(STRACE, '100 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000000000\n100 munmap(0x7f0000000000, 8192) = 0\n');
const VALUES = [
  '4M', '64K', '0', '1T', '16G', 'x', '', '-1', '1e309', '0x10000', 'linux', 'freebsd', 'windows', 'cygwin', 'linux,freebsd', 'LINUX', 'arm64', 'x86_64',
  '/', '/nonexistent', '/bin/true', '/dev/zero', GOOD, STRACE, join(dir, 'out.yaml'), 'strace', 'lackey', 'entry', 'execve', 'host', 'zen4',
  'fault', 'fork', 'cow', 'zero-fill', 'A=1', 'x86-64-4level', '10', '99999999999999999999',
];
const token = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...OPTIONS) }, { weight: 4, arbitrary: fc.constantFrom(...VALUES) }, { weight: 1, arbitrary: fc.string({ maxLength: 10 }) });

/** A workload's text with characters overwritten, inserted or deleted: YAML that is nearly right. */
const mutatedWorkload = fc.record({
  w: workloadText,
  edits: fc.array(fc.tuple(fc.nat(), fc.constantFrom('replace', 'insert', 'delete'), fc.constantFrom(' ', '\n', '\t', ':', '-', '[', ']', '{', '}', ',', '"', "'", '&', '*', '!', '#', '|', '>', '%', '@', '0', '9', 'x', '\u0000', '\u00e9', '\ud83d\ude00')), { minLength: 1, maxLength: 4 }),
}).map(({ w, edits }) => {
  let t = w;
  for (const [at, op, ch] of edits) {
    const i = at % (t.length + 1);
    t = op === 'replace' ? t.slice(0, i) + ch + t.slice(i + 1) : op === 'insert' ? t.slice(0, i) + ch + t.slice(i) : t.slice(0, i) + t.slice(i + 1);
  }
  return t;
});

const argvArb = fc.oneof(
  // run: a workload with options, often one that is wrong or does not apply
  { weight: 5, arbitrary: fc.record({ w: workloadText, opts: mostly(fc.subarray(['--json', '--trace', '--meminfo', '--contents', '-p']), fc.subarray(['--json', '--maps-each-step', '-m', '-p', '--swap', '--bogus'])), m: fc.constantFrom('4M', '0', '8K', '1T', '64G', 'lots', ''), p: mostly(fc.constantFrom('linux', 'linux-5.15'), fc.constantFrom('LINUX', '', 'freebsd')) })
    .map(({ w, opts, m, p }) => ['run', ...opts.flatMap((o) => (o === '-m' ? ['-m', m === '64G' ? '4M' : m] : o === '--swap' ? ['--swap', m] : o === '-p' ? ['-p', p] : [o])), ...(opts.includes('-m') ? [] : ['-m', '4M']), file(w)]) },
  // run and compare of nearly-right YAML
  { weight: 2, arbitrary: fc.record({ w: mutatedWorkload, cmd: fc.constantFrom(['run'], ['run', '--json'], ['run', '--trace'], ['compare', '-p', 'linux,freebsd']) }).map(({ w, cmd }) => [...cmd, '-m', '4M', file(w)]) },
  // inspect: files of every kind, with options for every format
  { weight: 2, arbitrary: fc.record({ f: fc.constantFrom('/bin/true', '/dev/zero', '/dev/null', '/', '/nonexistent', '/etc/hostname'), opts: fc.subarray(['-h', '-l', '-S', '-d', '-s', '-r', '-n', '-D', '--coff-imports', '--arch', '--json', '-a', '--what']) })
    .map(({ f, opts }) => ['inspect', ...opts.flatMap((o) => (o === '--arch' ? ['--arch', 'arm64'] : [o])), f]) },
  // inspect and exec of mutated binaries: a real program with bytes overwritten, or a magic number and noise
  { weight: 2, arbitrary: fc.record({
    base: fc.constantFrom('elf', 'pe', 'macho', 'noise'),
    edits: fc.array(fc.tuple(fc.nat({ max: 4095 }), fc.nat({ max: 255 })), { maxLength: 12 }),
    cut: fc.option(fc.nat({ max: 8192 }), { nil: undefined }),
    cmd: fc.constantFrom(['inspect'], ['inspect', '-a'], ['inspect', '--json'], ['inspect', '-l'], ['inspect', '-D', '-r', '--dyn-syms'], ['exec']),
  }).map(({ base, edits, cut, cmd }) => {
    let b = new Uint8Array(BINARIES[base]!);
    for (const [at, v] of edits) if (at < b.length) b[at] = v;
    if (cut !== undefined) b = b.subarray(0, cut);
    const f = file(b);
    return [...cmd, f];
  }) },
  // exec and explain
  { weight: 1, arbitrary: fc.record({ f: fc.constantFrom('/bin/true', '/nonexistent', '/etc/hostname', '/dev/zero', '/'), e: fc.boolean(), args: fc.array(fc.constantFrom('a', '-l', '--', ''), { maxLength: 3 }) }).map(({ f, e, args }) => ['exec', ...(e ? ['-e', 'FOO=bar'] : []), f, ...args]) },
  { weight: 1, arbitrary: fc.record({ what: fc.constantFrom('fault', 'fork', 'nothing'), s: fc.option(fc.constantFrom('zero-fill', 'cow', 'segv', 'bogus'), { nil: undefined }), p: fc.option(fc.constantFrom('linux', 'freebsd', ''), { nil: undefined }) })
    .map(({ what, s, p }) => ['explain', what, ...(s !== undefined ? ['--scenario', s] : []), ...(p !== undefined ? ['-p', p] : [])]) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom('personalities', '--json', '--help', 'frobnicate', '-x', 'run', 'inspect', ''), { maxLength: 3 }) },
  // random argv: a command, then any of every command's options and values in any order
  { weight: 3, arbitrary: fc.record({ cmd: fc.constantFrom('run', 'compare', 'exec', 'inspect', 'import', 'explain', 'personalities', 'catalog', 'frobnicate'), tokens: fc.array(token, { maxLength: 7 }) })
    .map(({ cmd, tokens }) => [cmd, ...tokens]) },
);

/**
 * The host-memory bound: the resident set may grow by at most this much over the whole run (one
 * case that read /dev/zero, built an array per touched page or kept every step would pass it at
 * once). Sampled after every case.
 */
const RSS_BOUND = 1024 ** 3;

/** CI runs RUNS cases in BATCHES tests of their own seeds (SEED, SEED + 1, ...), so a report names the batch. */
const BATCHES = 4;

describe('CLI fuzz: every outcome is a defined exit with our own one-line errors, in bounded host memory', () => {
  const codes = new Map<string, number>();
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  for (let b = 0; b < BATCHES; b++) {
    const runs = Math.ceil(RUNS / BATCHES);
    it(`${runs} random command lines and workloads (seed ${SEED + b})`, async () => {
      await fc.assert(
        fc.asyncProperty(argvArb, async (argv) => {
          const r = await cli(argv);
          checkOutcome(argv, r);
          const key = `${argv[0] ?? ''} ${r.code}`;
          codes.set(key, (codes.get(key) ?? 0) + 1);
          peak = Math.max(peak, process.memoryUsage().rss);
          expect(peak - rss0, `argv: ${JSON.stringify(argv).slice(0, 400)}`).toBeLessThan(RSS_BOUND);
        }),
        { seed: SEED + b, numRuns: runs, endOnFailure: true },
      );
    }, 600_000);
  }
  it('the generator reaches the simulation, not only the validators', () => {
    if (process.env.POLYKERNEL_FUZZ_RUNS !== undefined) {
      console.log([...codes].sort().map(([k, v]) => `${k}: ${v}`).join(', '));
      console.log(`peak RSS growth ${((peak - rss0) / 1024 ** 2).toFixed(0)} MB`);
    }
    // Workloads run to the end and programs are inspected and executed.
    expect(codes.get('run 0') ?? 0).toBeGreaterThan(RUNS / 30);
    expect(codes.get('inspect 0') ?? 0).toBeGreaterThan(RUNS / 100);
    expect(codes.get('exec 0') ?? 0).toBeGreaterThan(RUNS / 200);
  });
});
