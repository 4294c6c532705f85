/**
 * The command-line program as a function: `runCli(argv, io)` parses argv, runs the command with
 * its output going to `io`, and returns the exit status (0, 1, 2; exec also 126 and 127). Usage
 * errors are 2 for every command; an output that cannot be written or an internal error is one
 * line and 1 — never a stack trace. main.ts runs it on the process; tests run it in-process.
 */
import { Command, CommanderError, Option } from 'commander';
import { EXIT, outputFailure } from './exit.js';

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
}

export const processIo: CliIo = { out: (s) => void process.stdout.write(s + '\n'), err: (s) => void process.stderr.write(s + '\n') };

/**
 * `exec FILE ARGS...` with a huge ARGS (`$(seq 1 140000)`): commander spreads the arguments into
 * one call, which overflows the host's stack. The program's own arguments are set aside here and
 * handed to exec directly; commander sees the command, its options and FILE.
 */
const EXEC_VALUE_OPTIONS = new Set(['-p', '--personality', '--sysroot', '-e', '--env', '--argv0', '--cpu']);
function splitExecArgs(argv: string[]): { argv: string[]; rest: string[] } {
  const at = argv.indexOf('exec', 2);
  if (at < 0 || argv.length - at < 1000) return { argv, rest: [] };
  for (let i = at + 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return { argv: argv.slice(0, i + 2), rest: argv.slice(i + 2) };
    if (a.startsWith('-') && a !== '-') {
      if (EXEC_VALUE_OPTIONS.has(a)) i++;
      continue;
    }
    return { argv: argv.slice(0, i + 1), rest: argv.slice(i + 1) };
  }
  return { argv, rest: [] };
}
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
const split = splitExecArgs(argv);
let code: number = EXIT.ok;
const program = new Command();
program
  .name('polykernel')
  .description('Simulate the process model and virtual memory of real kernels, and inspect real binaries.')
  .version('0.1.0')
  .configureOutput({ writeOut: (s) => { io.out(s.replace(/\n$/, '')); }, writeErr: (s) => { io.err(s.replace(/\n$/, '')); } })
  .showHelpAfterError('(run with --help for usage)')
  .enablePositionalOptions()
  // Usage errors (unknown option, missing argument, bad value) exit with 2, for every command.
  .exitOverride((e: CommanderError) => {
    throw e;
  })
  .addHelpText('after', `
Exit status, for every command: 0 success; 1 a failure of the thing examined (a file that cannot
be read or is malformed, a workload that is not valid, an output that cannot be written); 2 a
usage error (unknown option or command, missing argument, bad value, an option that does not
apply). exec also uses the shell's 126 (cannot be run: ENOEXEC, EACCES) and 127 (no such file).`);

program
  .command('inspect')
  .description('Show the headers, segments, sections, dynamic table, symbols, relocations and notes of a program file, like readelf -W')
  .argument('<file>', 'an ELF file (executable, shared object, object, core), a PE image or COFF object, a Mach-O file (thin or fat), or a #! script')
  .option('-h, --file-header', 'the ELF file header (readelf -h)')
  .option('-l, --program-headers', 'program headers and the section-to-segment map (readelf -l)')
  .option('-S, --sections', 'section headers (readelf -S)')
  .option('-d, --dynamic', 'the dynamic table, read through PT_DYNAMIC as ld.so does (readelf -d)')
  .option('--dyn-syms', 'the dynamic symbol table with symbol versions (readelf --dyn-syms)')
  .option('-s, --symbols', 'the static symbol table .symtab, then the dynamic one (readelf -s)')
  .option('-r, --relocs', 'relocation sections: REL, RELA and RELR expanded (readelf -r)')
  .option('-n, --notes', 'notes: build ID, ABI tag, GNU properties, FreeBSD tags (readelf -n)')
  .option('-D, --use-dynamic', 'read relocations and dynamic symbols through PT_DYNAMIC (DT_RELA, DT_JMPREL, DT_RELR, DT_SYMTAB), as ld.so does, even without section headers')
  .option('--coff-imports', 'PE: imported DLLs and symbols, by name (hint) or ordinal, and delay-load imports (llvm-readobj --coff-imports)')
  .option('--coff-exports', 'PE: exports by ordinal, name and RVA (llvm-readobj --coff-exports)')
  .option('--coff-basereloc', 'PE: base relocations (llvm-readobj --coff-basereloc)')
  .option('--arch <name>', 'Mach-O fat files: show one slice (x86_64, arm64/aarch64, ...)')
  .option('-a, --all', 'everything above (for ELF as readelf -a: also section groups, hash histograms and version sections; ARM unwind tables and non-RISC-V build attributes are not decoded)')
  .addOption(new Option('--json', 'print the executable image model as JSON (stable keys: format, bits, endian, machine, kind, entry, imageBase, interpreter, needed, segments, osabi)'))
  .addHelpText('after', `
With no view option: for ELF the file header, program headers and dynamic table (readelf -hld);
for PE the file headers, sections, imports and exports (llvm-readobj style), -h and -S also
applying; for Mach-O the header and load commands (llvm-objdump --macho --private-headers style),
and for a fat file its slices (--arch picks one).

Examples:
  polykernel inspect /bin/ls
  polykernel inspect --dyn-syms /lib/x86_64-linux-gnu/libc.so.6
  polykernel inspect --json /bin/ls | jq .segments
  polykernel inspect --coff-imports program.exe

Only regular files are read (a device or FIFO is named, not read), up to 1 GiB.

Exit status: 0 on success; 1 when the file cannot be read, is not an ordinary file, is malformed
(the error names the field and file offset) or is not a program file this tool understands
(ENOEXEC); 2 for a usage error, including a view option that does not apply to the file's format.`)
  .action(async (file: string, opts: Record<string, boolean | string | undefined>) => {
    const { runInspect } = await import('./inspect.js');
    code = await runInspect(file, opts, io.out, io.err);
  });

program
  .command('exec')
  .description('Load a real program as execve does on a simulated kernel and show the address space it starts with')
  .argument('<file>', 'the program: an ELF executable (static, dynamic, PIE) or a #! script, looked up in the sysroot')
  .argument('[args...]', 'its arguments (argv[1]...)')
  .option('-p, --personality <name>', 'a registered personality or variant with an execve: linux (= linux-6.x), linux-6.x, linux-5.15, freebsd (= freebsd-14: prints procstat -v, --auxv procstat -x) (polykernel personalities lists them)', 'linux')
  .option('--sysroot <dir>', 'the directory that is / for the simulated kernel (programs, interpreters, #! interpreters)', '/')
  .option('-e, --env <VAR=value>', 'one environment variable; repeat -e for more (default: PATH=/usr/bin:/bin)', (v: string, prev: string[] | undefined) => [...(prev ?? []), v])
  .option('--argv0 <name>', 'argv[0] (default: the file as given)')
  .option('--cpu <name>', 'the CPU whose AT_HWCAP, AT_HWCAP2 and AT_MINSIGSTKSZ the auxv carries: zen4 (the default) or host (this machine, from /proc/cpuinfo)')
  .option('--maps', '/proc/<pid>/maps (the default view)')
  .option('--auxv', 'the auxiliary vector, as LD_SHOW_AUXV=1 prints it')
  .option('--stack', 'the initial stack from the stack pointer up: argc, argv, envp, auxv, strings')
  .option('--status', '/proc/<pid>/status: identity, state and the memory lines')
  .option('--json', 'everything as JSON (keys: personality, pid, comm, path, interpreter, handlers, argv, envp, entry, startAt, loadBias, interpBase, sp, maps, auxv, status, metrics, until, rtld)')
  .option('--until <point>', 'where to stop: entry (the default: after the run-time linker, at the program\'s entry point) or execve (where the kernel hands over)')
  .option('--trace', 'list the run-time linker\'s system calls and the page faults they and its stores take')
  .option('--suspended', '-p windows: CreateProcess with CREATE_SUSPENDED (the image and ntdll only: the loader has not run)')
  .option('--view <name>', '-p freebsd: the native view to print: procstat-v (the default), procstat-x (= --auxv), procstat-c')
  .option('--profile <name>', '-p freebsd: the machine profile, which picks the sysvec: x86-64 (amd64, the default) or arm64-a72 (arm64)')
  .passThroughOptions()
  .addHelpText('after', `
By default the program's interpreter (glibc's ld.so, simulated) runs first, through the simulated
system calls: it maps every needed library, relocates them, applies RELRO and sets up TLS, and the
maps are those at the program's entry point — line for line what the host shows there under
"setarch -R" (constructors, which run code, are not run). A summary line with the objects,
relocations, lookups, system calls, page faults, cycles and host time goes to stderr.
--until execve stops where the kernel hands over instead: the executable, its interpreter
(PT_INTERP), [vvar]/[vdso], [stack] and, on x86-64, [vsyscall].

Examples:
  polykernel exec /bin/true
  polykernel exec --auxv /bin/ls -l /tmp
  polykernel exec --stack --status ./a.out one two
  polykernel exec -p linux-5.15 --json /bin/cat | jq .auxv
  polykernel exec -p windows --sysroot tools/fixtures/windows/sysroot /prog/hello-x86_64.exe
  polykernel exec -p freebsd --profile arm64-a72 --view procstat-c --sysroot /tmp/fbsd /bin/esbuild --version

Exit status: 0 when execve succeeded; 127 when the file does not exist (ENOENT), 126 when it
cannot be run (ENOEXEC: not a program; EACCES: not executable), as a shell gives them; 1 for other
execve errors (ELIBBAD, ELOOP, E2BIG, ETXTBSY), which are
reported as "execve failed: ERRNO (-N)"; 127 with ld.so's own message when it cannot find a
library ("error while loading shared libraries") or a symbol ("symbol lookup error").`)
  .action(async (file: string, args: string[], opts: Record<string, boolean | string | string[] | undefined>) => {
    const { runExec } = await import('./exec.js');
    code = runExec(file, split.rest.length > 0 ? args.concat(split.rest) : args, opts, (s) => { io.out(s.replace(/\n$/, '')); }, io.err);
  });

program
  .command('run')
  .description('Replay a YAML workload on a personality: each step\'s result, then every live process\'s /proc/<pid>/maps, status memory lines and oom_score, the kernel log and the metrics')
  .argument('[workload]', 'a workload file (see packages/workload/README.md for the format); with --refs it may be left out')
  .option('-p, --personality <name>', 'a registered personality or variant: linux (= linux-6.x), linux-6.x, linux-5.15, or another that polykernel personalities lists; default: the workload\'s own personality field, else linux')
  .option('--refs <trace>', 'replay a valgrind lackey trace (plain, .gz or .xz, streamed) through the MMU and TLBs of each --profile: TLB hits and misses by level, page walks, faults, simulated cycles and time')
  .option('--profile <names>', '--refs: machine profiles side by side, e.g. x86-64,arm64-a72,mips-swtlb (default x86-64)')
  .option('--limit <n>', '--refs: stop after N references')
  .option('--strict', '--refs: refuse the trace at its first bad line instead of reporting and skipping it')
  .option('-m, --memory <size>', 'physical memory of the simulated machine, e.g. 512M or 4G (default: the workload\'s memory field, else 1G)')
  .option('--swap <size>', 'a swap device of this size, e.g. 256M (default: the workload\'s swap field, else none)')
  .option('--maps-each-step', 'print /proc/<pid>/maps after every step')
  .option('--trace', 'probe aggregations: system calls by name and page faults by kind, with counts and simulated cycles')
  .option('--meminfo', 'also print /proc/meminfo at the end (MemTotal, MemFree, Cached, AnonPages, Mapped, Shmem, PageTables, commit ...; always in --json)')
  .option('--contents', 'keep page contents (also the workload\'s "contents: true"): store/load see real bytes')
  .option('--sysroot <dir>', 'where exec and open find files', '/')
  .option('--json', 'print everything as JSON (keys: workload, personality, steps, processes, metrics, meminfo, trace, dmesg, stalled, host: the steps compared with the host\'s results, or null; with --refs: file, references, byKind, badLines, issues, hostSeconds, hostCpuSeconds, profiles[])')
  .option('--progress', 'report loading and running progress on stderr even when it is not a terminal (one line every few seconds)')
  .addHelpText('after', `
Step results are what the system call returns: an address or 0x0 on success, -ERRNO on failure
(as strace prints them); fork/vfork/clone give the child's pid, wait the reaped child and its
decoded status (WIFEXITED/WIFSIGNALED ...); a touch that ends in a signal reports the signal and
the address, and the process then dies with it.

Portable steps (alloc, free, protect, touch, store, load, fork, spawn, exec, exit, wait, mapFile,
open, read, write, close) run on any registered personality: its portable driver makes that
kernel's native calls (Linux mmap+fork+execve, Windows VirtualAlloc+CreateProcess); what a kernel
cannot do is "n/a: <reason>", and a personality without a driver reports every step n/a. Native
steps (mmap, brk, mremap, madvise, vfork, clone, kill, sigaction, syscall ...) are Linux's: on
another personality they are refused, each named with its file:line:column. On a personality
other than Linux the end shows each process's native views (procstat -v, a VirtualQuery walk; in
--json under processes[].views). To put several side by side: polykernel compare.

Processes run round-robin, one step each per round; a fork, vfork or clone step starts a child
with its own steps, which exits with status 0 when they run out. A process the kernel put to
sleep (vfork parent, wait4, SIGSTOP) waits until the kernel wakes it.

A memory trace (polykernel run --refs TRACE): a valgrind lackey trace (valgrind --tool=lackey
--trace-mem=yes; plain, .gz or .xz, read as a stream, never whole) replayed through the MMU and
TLBs of each --profile in one Linux process that maps every page on its first touch: instruction
fetches through the iTLB, loads through the dTLB, stores and modifies as writes. The report:
TLB L1 and L2 hits and misses, page walks and the page-table references they made, software
refills (MIPS), page faults by kind, simulated cycles and time at the profile's clock, and the
host's time and speed. With a workload too (run W.yaml --refs TRACE), the workload runs first
and the trace is replayed in its first process, using its mappings where the references fall.

Examples:
  polykernel run --trace examples/dd.yaml
  polykernel run --refs examples/real/true.lackey.gz --profile x86-64,arm64-a72,mips-swtlb
  polykernel run examples/lecture-fork.yaml
  polykernel run packages/workload/examples/three-munmaps.yaml
  polykernel run --personality linux-5.15 --maps-each-step workload.yaml
  polykernel run --json workload.yaml | jq .metrics.faults
  polykernel run -p linux-5.15 examples/portable/fork-exec-storm.yaml

A step that cannot be carried out as written (a region or file no earlier step named, a store or
load without --contents, an unknown signal, a touch of more than 100,000,000 accesses) reports
"error: ..." at its own line and the run goes on; a region whose mmap failed holds MAP_FAILED, so
a touch of it is SIGSEGV and a munmap of it EINVAL, as in a real program. On a terminal, long runs
show their progress on stderr (on a pipe or file only with --progress; never on stdout). A workload
of 1 MB or more whose steps are one per line is streamed: its steps are read as they run and
their results printed as they come, so memory does not grow with its length.

Memory: --memory takes 64K to 16G, --swap 0 to 16G (K, M, G, T suffixes).

Exit status: 0 when the workload ran (whatever its steps returned); 1 when the file cannot be read
or is not a valid workload (each mistake is reported as file:line:column: field: message); 2 for a
usage error (a bad option value, an unknown personality, an option that does not apply).`)
  .action(async (file: string | undefined, opts: Record<string, boolean | string | undefined>) => {
    if (file === undefined || opts.refs !== undefined || opts.profile !== undefined || opts.limit !== undefined || opts.strict !== undefined) {
      const { runRefsCommand } = await import('./refs-run.js');
      code = await runRefsCommand(file, opts, io.out, io.err);
      return;
    }
    const { runWorkload } = await import('./run.js');
    code = await runWorkload(file, opts, io.out, io.err);
  });

program
  .command('compare')
  .description('Run one workload on several personalities or variants (a fresh machine each, same seed, memory and swap) and print its metrics side by side, with ratios to the first')
  .argument('<workload>', 'a workload file; portable steps run everywhere, native (Linux) steps only on Linux')
  .option('-p, --personality <list>', 'comma-separated personalities or variants, e.g. linux-6.x,linux-5.15 (default: every registered variant)')
  .option('-m, --memory <size>', 'physical memory of each machine (default: the workload\'s memory field, else 1G)')
  .option('--swap <size>', 'a swap device of this size on each machine (default: the workload\'s swap field, else none)')
  .option('--seed <n>', 'the seed of every machine: the same seed gives the same output', '1')
  .option('--contents', 'keep page contents (also the workload\'s "contents: true")')
  .option('--sysroot <dir>', 'where exec, spawn and open find files', '/')
  .option('--steps', 'also each step\'s result side by side')
  .option('--views', 'also each process\'s final map in each kernel\'s own view (/proc/<pid>/maps, procstat -v, a VirtualQuery walk), side by side')
  .option('--all', 'show every metrics row, also those that are zero everywhere')
  .option('--json', 'everything as JSON (keys: workload, seed, memory, swap, columns[] with metrics, steps, unsupported, stalled, processes with --views; rows[] with values and ratios)')
  .addHelpText('after', `
What the table answers: what the same program costs on each kernel, counted each kernel's native
way. A portable step becomes each kernel's own calls through its portable driver — alloc is
mmap on Linux and FreeBSD, VirtualAlloc(MEM_RESERVE|MEM_COMMIT) on Windows; spawn is fork+execve
on Linux, CreateProcess on Windows; fork is Cygwin's emulated fork there and n/a on Windows.

Rows: system calls, traps by kind, page faults by how they were resolved, TLB misses and
shootdowns, pages zeroed and copied, bytes copied across processes, peak commit and resident
pages, address-space index nodes visited, kernel metadata bytes, processes created, simulated
cycles and time. Each cell is the value and its ratio to the first column (x0.52: about half).

Honest gaps: a personality that cannot run the workload at all (it has no portable driver, or
the workload has native steps of another kernel) is an n/a column with the reason; a step one
kernel cannot do (fork on Windows) is listed under the table as n/a, and "—" marks a field the
personality does not model. Nothing is filled in. Simulated cycles compare within a kernel family
(linux-6.x against linux-5.15) and between Linux and FreeBSD: Linux charges its software work
calibrated on a real host (docs/host-costs.md); FreeBSD charges borrowed software costs (the Linux
calibration for analogous work, not measured on FreeBSD); Windows charges process creation the
same way and otherwise, as Cygwin over it, the machine's hardware costs only, so their cycles are
lower bounds. The counts compare everywhere.

Examples:
  polykernel compare examples/portable/fork-exec-storm.yaml -p linux-6.x,linux-5.15
  polykernel compare examples/portable/lecture-fork.yaml --steps --views
  polykernel compare examples/dd.yaml -p linux-6.x,linux-5.15 --json | jq '.rows[] | select(.metric=="cycles")'

Exit status: 0 when the comparison ran (whatever the steps returned); 1 when the workload cannot
be read or is not valid; 2 for a usage error (an unknown personality: the registered ones are
listed; a bad --memory, --swap or --seed).`)
  .action(async (file: string, opts: Record<string, boolean | string | undefined>) => {
    const { runCompare } = await import('./compare.js');
    code = await runCompare(file, opts, io.out, io.err);
  });

program
  .command('import')
  .description('Turn a real program\'s recording into a workload polykernel run replays: a strace -f log (its calls) or a valgrind lackey trace (its memory references)')
  .argument('<format>', 'strace (a log from strace -f) or lackey (a trace from valgrind --tool=lackey --trace-mem=yes)')
  .argument('<logs...>', 'strace: the log file(s), strace -o LOG, or with -ff the LOG name whose LOG.<pid> files strace wrote; lackey: the trace (plain, .gz or .xz, streamed)')
  .option('-o, --output <file>', 'write the workload here (default: standard output, the summary then goes to stderr)')
  .option('--sysroot <dir>', 'where the files the program opened and mapped are looked for (a file not found there is mapped as anonymous memory, with a warning)', '/')
  .option('--name <name>', 'the workload\'s name (default: the log\'s file name)')
  .option('--limit <n>', 'stop after N calls (strace) or N references (lackey)')
  .option('--strict', 'refuse the log at its first bad line (not strace output, truncated, a resume with no start) instead of reporting and skipping it')
  .option('--check', 'strace: replay the workload on the Linux personality (or each of -p) and list every call whose success or failure differs from the host\'s')
  .option('--portable', 'strace: write portable steps (alloc, free, protect, mapFile, fork, spawn, exec, exit, wait, open, read, write, close) so the workload runs on every personality; calls with no portable form are counted no-ops with their reason')
  .option('-p, --personality <list>', 'strace --check: the personalities to replay on, comma-separated, e.g. linux-6.x,freebsd-14,windows,cygwin (default linux); each gets steps ran, succeeded, failed, n/a with reasons')
  .option('--replay', 'lackey: replay the references through the MMU and TLBs instead of writing a workload (streamed, nothing kept per reference)')
  .option('--profile <names>', 'lackey --replay: machine profiles side by side, e.g. x86-64,arm64-a72,mips-swtlb (default x86-64; implies --replay)')
  .option('--json', 'print the summary as JSON (strace keys: workload, files, output, lines, calls, steps, signals, limited, processes, skipped, warnings, issues, check; lackey: references, byKind, pages, mappings, touches, badLines, issues, or with --replay profiles[])')
  .addHelpText('after', `
Record a program (strace 5.x or 6.x) with -f to follow its children; -tt/-ttt, -T and -y/-yy
are understood and make the log easier to read, -ff writes one file per pid:
  strace -f -tt -T -y -o ls.strace ls -l /usr
  polykernel import strace ls.strace -o ls.yaml --check
  polykernel run --trace ls.yaml
On other kernels, import it as portable steps (fork + execve in the child becomes one spawn; ld.so's
MAP_FIXED segments, brk, partial munmap/mprotect and other Linux-only calls are counted no-ops):
  polykernel import strace ls.strace --portable -o ls-portable.yaml --check -p linux,freebsd,windows,cygwin
  polykernel compare ls-portable.yaml -p linux-6.x,freebsd-14,windows,cygwin

What becomes a step: execve, mmap, munmap, mprotect, mremap, madvise, brk, clone/clone3/fork/
vfork (the child's calls become the fork step's own steps), wait4, kill, rt_sigaction,
exit_group, open/openat/creat and close, getpid/getppid/gettid. Addresses become places in the
mapping that returned them ({ region: libc.so.6, offset: 0x1d5000 }), so the replay works wherever
the simulated kernel puts things. Everything else is counted and skipped with its reason: calls
the simulated kernels do not implement (fstat, pread64, futex ...), read/write (strace prints a
buffer's contents, not its address), and calls on the stack, whose place strace never prints.
Addresses in the executable and its interpreter become { region: "[exe]" or "[interp]", offset:
ELF vaddr } (the load bias is found at ld.so's RELRO mprotect, from the sysroot's ELF files), and
in the brk heap { region: "[heap]", offset from the first break }. Each step carries the line and the host's result as a comment;
--check replays and compares them.

A lackey trace (every instruction fetch, load, store and modify) becomes one process that maps
every page the trace references, adjacent pages as one anonymous mapping, and touches them in the
trace's order (consecutive references to one page with one access are one touch with a count):
  valgrind --tool=lackey --trace-mem=yes --log-file=true.lackey /bin/true
  polykernel import lackey true.lackey -o true-refs.yaml
  polykernel run --trace true-refs.yaml | tail
or, for traces of millions of references, replayed directly through the MMU of each profile:
  polykernel import lackey true.lackey --profile x86-64,arm64-a72

Bad lines (not strace output, truncated, an unfinished call never resumed; for lackey anything but
"I  addr,size", " L|S|M addr,size" and valgrind's "==pid==" lines) are listed with their line and
skipped; --strict refuses the input at the first one.

Exit status: 0 when the log was imported; 1 when a file cannot be read, or --strict met a bad line
(file:line: reason), or the replay of --check could not run; 2 for a usage error.`)
  .action(async (format: string, logs: string[], opts: Record<string, boolean | string | undefined>) => {
    if (format !== 'strace' && format !== 'lackey') {
      io.err(`polykernel import: unknown format "${format}" (known: strace, lackey)`);
      code = EXIT.usage;
      return;
    }
    const { runImportLackey, runImportStrace } = await import('./import.js');
    const misplaced = format === 'lackey' ? (opts.check === true || opts.sysroot !== '/' || opts.portable === true || opts.personality !== undefined ? '--check, --portable, -p and --sysroot apply to strace logs' : null)
      : opts.replay === true || opts.profile !== undefined ? '--replay and --profile apply to lackey traces' : null;
    if (misplaced !== null || (format === 'lackey' && logs.length !== 1)) {
      io.err(`polykernel import ${format}: ${misplaced ?? 'takes one trace'}`);
      code = EXIT.usage;
      return;
    }
    code = format === 'lackey' ? await runImportLackey(logs[0]!, opts, io.out, io.err) : await runImportStrace(logs, opts, io.out, io.err);
  });

program
  .command('explain')
  .description('Narrate one page fault or one fork on the Linux personality, step by step, from what the simulation does')
  .argument('<what>', '"fault" or "fork"')
  .option('-s, --scenario <name>', 'for fault: zero-fill (default), zero-page, cow, file, segv, stack-growth; with -p windows: demand-zero (default), guard-page, access-violation; with -p freebsd: zero-fill (default), cow, deep-chain; for fork with -p cygwin: copy (default), dll-collision, rebaseall, dlopen-collision, died-dll-loading, commit-limit')
  .option('--program <file>', 'the program exec\'d first, whose address space the story happens in', '/bin/true')
  .option('-p, --personality <name>', 'linux (= linux-6.x, the default) or linux-5.15; windows and freebsd for fault, cygwin for fork')
  .option('--sysroot <dir>', 'where the program and its interpreter are found', '/')
  .option('--json', 'the facts instead of the story: for a fault va, access, area, pteBefore, translation (TLB and walk steps), fault, errorCode, resolution, pteAfter, pa, signal, cycles; for a fork the areas with their action, PTE counts and cycles')
  .addHelpText('after', `
A fault is told in four parts: the MMU's translation (TLB probes and each page-table entry
visited), the trap with its x86 error code, the kernel's path through do_user_addr_fault and
handle_mm_fault to the PTE it installs (or the signal it sends), and the retried translation, with
the simulated cycles. A fork is told as copy_process's steps, with dup_mmap's decision for every
area of the parent (copied or not, PTEs write-protected for copy-on-write). With -p cygwin a fork
is told as Cygwin's fork.cc runs it over Windows: CreateProcess of the same program, DLLs at the
parent's addresses, every resident page copied across processes, and the ways it fails.

Examples:
  polykernel explain fault
  polykernel explain fault --scenario cow
  polykernel explain fault --scenario stack-growth --program /bin/ls
  polykernel explain fault -p windows --scenario guard-page
  polykernel explain fault -p freebsd --scenario cow
  polykernel explain fork
  polykernel explain fork -p cygwin
  polykernel explain fork -p cygwin --scenario dll-collision`)
  .action(async (what: string, opts: Record<string, boolean | string | undefined>) => {
    const { runExplain } = await import('./explain.js');
    code = runExplain(what, opts, io.out, io.err);
  });

program
  .command('web')
  .description('Serve the visualizer (address spaces, page tables, TLBs, frames, two kernels side by side) on 127.0.0.1 and print its URL')
  .option('--port <n>', 'the port on 127.0.0.1 (0: any free port)', '4178')
  .option('--dir <dir>', 'serve this build of the app instead of apps/web/dist')
  .addHelpText('after', `
The app is static files: the simulation runs in the browser, in a Web Worker, and nothing leaves
it. The server listens on the loopback interface only, serves GET and HEAD of files under the app's
directory (anything outside it is refused with 403), and stops cleanly on Ctrl-C (SIGINT) or SIGTERM.

Examples:
  npx nx run-many -t build -p @polykernel/web @polykernel/cli && polykernel web
  polykernel web --port 8080

Exit status: 0 after a clean stop; 1 when the app is not built or the port cannot be used; 2 for a
usage error (a bad --port).`)
  .action(async (opts: Record<string, boolean | string | undefined>) => {
    const { runWeb } = await import('./web.js');
    code = await runWeb(opts, io.out, io.err);
  });

program
  .command('personalities')
  .description('List the kernel personalities this CLI knows: variants, error space, process model, calls, views, and which commands drive them')
  .option('--json', 'print them as a JSON array (keys: name, description, variants, defaultVariant, version, defaultProfile, errorSpace, processModel, calls, signals, views, metricsFilled, commands)')
  .addHelpText('after', `
Each personality is described from its default variant's own object: its error space (whose
error numbers its calls return), its process model (the boot process, whether orphans are
re-parented, what keeps an exited process), its calls by table and kind (traps enter the kernel;
library calls are user-mode code over them), its signals or exceptions, its native views, the
metrics it fills, and the commands with a driver for it. -p/--personality of run, exec and
explain takes a name listed here or one of its variants.

A new personality: npx nx g @polykernel/tools:personality <name> (docs/new-personality.md).

Examples:
  polykernel personalities
  polykernel personalities --json | jq '.[] | {name, variants, calls}'`)
  .action(async (opts: Record<string, boolean | string | undefined>) => {
    const { runPersonalities } = await import('./catalog.js');
    code = runPersonalities(opts, io.out);
  });

try {
  await program.parseAsync(split.argv);
  return code;
} catch (e) {
  if (e instanceof CommanderError) {
    // --help and --version end with exit code 0; every parse error is a usage error. Commander has printed the message.
    return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  // EPIPE (| head) ends the output quietly, as for any Unix tool.
  if ((e as NodeJS.ErrnoException | null)?.code === 'EPIPE') return EXIT.ok;
  try {
    io.err(outputFailure(e));
    if (process.env.POLYKERNEL_DEBUG !== undefined && e instanceof Error) io.err(e.stack ?? '');
  } catch {
    // stderr is gone too: the status still says it.
  }
  return EXIT.failure;
}
}
