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
apply). exec also uses the shell's 126 (not a program: ENOEXEC) and 127 (no such file).`);

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
  .option('-a, --all', 'everything above (for ELF a subset of readelf -a: no section groups, hash histogram or version sections)')
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
  .option('--json', 'everything as JSON (keys: personality, pid, comm, path, interpreter, handlers, argv, envp, entry, startAt, loadBias, interpBase, sp, maps, auxv, status, metrics)')
  .passThroughOptions()
  .addHelpText('after', `
The program is stopped where the kernel hands over to it: before the dynamic linker has run, so
the maps show the executable, its interpreter (PT_INTERP), [vvar]/[vdso], [stack] and, on x86-64,
[vsyscall] — the layout the host shows for the same file under "setarch -R" (no ASLR). Mapping the
shared libraries is the run-time linker's work, which comes later.

Examples:
  polykernel exec /bin/true
  polykernel exec --auxv /bin/ls -l /tmp
  polykernel exec --stack --status ./a.out one two
  polykernel exec -p linux-5.15 --json /bin/cat | jq .auxv

Exit status: 0 when execve succeeded; 127 when the file does not exist (ENOENT), 126 when it is
not a program (ENOEXEC), 1 for other execve errors (EACCES, ELIBBAD, ELOOP, E2BIG), which are
reported as "execve failed: ERRNO (-N)".`)
  .action(async (file: string, args: string[], opts: Record<string, boolean | string | string[] | undefined>) => {
    const { runExec } = await import('./exec.js');
    code = runExec(file, split.rest.length > 0 ? args.concat(split.rest) : args, opts, (s) => { io.out(s.replace(/\n$/, '')); }, io.err);
  });

program
  .command('run')
  .description('Replay a YAML workload on a personality: each step\'s result, then every live process\'s /proc/<pid>/maps, status memory lines and oom_score, the kernel log and the metrics')
  .argument('<workload>', 'a workload file (see packages/workload/README.md for the format)')
  .option('-p, --personality <name>', 'a registered personality or variant: linux (= linux-6.x), linux-6.x, linux-5.15, or another that polykernel personalities lists; default: the workload\'s own personality field, else linux')
  .option('-m, --memory <size>', 'physical memory of the simulated machine, e.g. 512M or 4G (default: the workload\'s memory field, else 1G)')
  .option('--swap <size>', 'a swap device of this size, e.g. 256M (default: the workload\'s swap field, else none)')
  .option('--maps-each-step', 'print /proc/<pid>/maps after every step')
  .option('--trace', 'probe aggregations: system calls by name and page faults by kind, with counts and simulated cycles')
  .option('--meminfo', 'also print /proc/meminfo at the end (MemTotal, MemFree, Cached, AnonPages, Mapped, Shmem, PageTables, commit ...; always in --json)')
  .option('--contents', 'keep page contents (also the workload\'s "contents: true"): store/load see real bytes')
  .option('--sysroot <dir>', 'where exec and open find files', '/')
  .option('--json', 'print everything as JSON (keys: workload, personality, steps, processes, metrics, meminfo, trace, dmesg, stalled)')
  .addHelpText('after', `
Step results are what the system call returns: an address or 0x0 on success, -ERRNO on failure
(as strace prints them); fork/vfork/clone give the child's pid, wait the reaped child and its
decoded status (WIFEXITED/WIFSIGNALED ...); a touch that ends in a signal reports the signal and
the address, and the process then dies with it.

A registered personality other than Linux is booted and the workload's processes are created on
it, but its steps are reported as n/a (no driver for them yet: portable steps arrive with the
compare issue); then come the metrics and each process's native views (the personality's own,
e.g. procstat -v or a VirtualQuery walk; in --json under processes[].views).

Processes run round-robin, one step each per round; a fork, vfork or clone step starts a child
with its own steps, which exits with status 0 when they run out. A process the kernel put to
sleep (vfork parent, wait4, SIGSTOP) waits until the kernel wakes it.

Examples:
  polykernel run --trace examples/dd.yaml
  polykernel run examples/lecture-fork.yaml
  polykernel run packages/workload/examples/three-munmaps.yaml
  polykernel run --personality linux-5.15 --maps-each-step workload.yaml
  polykernel run --json workload.yaml | jq .metrics.faults

A step that cannot be carried out as written (a region or file no earlier step named, a store or
load without --contents, an unknown signal, a touch of more than 100,000,000 accesses) reports
"error: ..." at its own line and the run goes on; a region whose mmap failed holds MAP_FAILED, so
a touch of it is SIGSEGV and a munmap of it EINVAL, as in a real program. On a terminal, long runs
show their progress on stderr (never on a pipe or file).

Memory: --memory takes 64K to 16G, --swap 0 to 16G (K, M, G, T suffixes).

Exit status: 0 when the workload ran (whatever its steps returned); 1 when the file cannot be read
or is not a valid workload (each mistake is reported as file:line:column: field: message); 2 for a
usage error (a bad option value, an unknown personality, an option that does not apply).`)
  .action(async (file: string, opts: Record<string, boolean | string | undefined>) => {
    const { runWorkload } = await import('./run.js');
    code = await runWorkload(file, opts, io.out, io.err);
  });

program
  .command('explain')
  .description('Narrate one page fault or one fork on the Linux personality, step by step, from what the simulation does')
  .argument('<what>', '"fault" or "fork"')
  .option('-s, --scenario <name>', 'for fault: zero-fill (default), zero-page, cow, file, segv, stack-growth')
  .option('--program <file>', 'the program exec\'d first, whose address space the story happens in', '/bin/true')
  .option('-p, --personality <name>', 'linux (= linux-6.x, the default) or linux-5.15: the stories follow Linux\'s code paths')
  .option('--sysroot <dir>', 'where the program and its interpreter are found', '/')
  .option('--json', 'the facts instead of the story: for a fault va, access, area, pteBefore, translation (TLB and walk steps), fault, errorCode, resolution, pteAfter, pa, signal, cycles; for a fork the areas with their action, PTE counts and cycles')
  .addHelpText('after', `
A fault is told in four parts: the MMU's translation (TLB probes and each page-table entry
visited), the trap with its x86 error code, the kernel's path through do_user_addr_fault and
handle_mm_fault to the PTE it installs (or the signal it sends), and the retried translation, with
the simulated cycles. A fork is told as copy_process's steps, with dup_mmap's decision for every
area of the parent (copied or not, PTEs write-protected for copy-on-write).

Examples:
  polykernel explain fault
  polykernel explain fault --scenario cow
  polykernel explain fault --scenario stack-growth --program /bin/ls
  polykernel explain fork`)
  .action(async (what: string, opts: Record<string, boolean | string | undefined>) => {
    const { runExplain } = await import('./explain.js');
    code = runExplain(what, opts, io.out, io.err);
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
