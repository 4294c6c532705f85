/**
 * `polykernel exec FILE [ARGS…]`: load a real program on a personality the way execve does, run its
 * interpreter (the run-time linker) up to the program's entry point (`--until entry`, the default;
 * `--until execve` stops where the kernel hands over) and show the address space there: the
 * /proc/<pid>/maps (default), the auxiliary vector (--auxv, in glibc's LD_SHOW_AUXV format), the
 * initial stack word by word (--stack) and /proc/<pid>/status (--status); or all of it as --json.
 * `--trace` lists ld.so's system calls and the page faults its loads and stores take.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { Kernel, type SyscallArg } from '@polykernel/kernel';
import { RtldError, type RtldResult } from '@polykernel/loader';
import { sysrootLookup } from '@polykernel/kernel/node';
import {
  AT, AT_NAMES, linuxPersonality, procMaps, procStatus, runLdSo, stateLetter, type ExecImage, type LinuxSpace,
} from '@polykernel/linux';
import { profileNames } from '@polykernel/mmu';
import { windowsExec } from '@polykernel/windows';
import { hostCpu } from './host-cpu.js';
import { sysrootProblem } from './read.js';
import { linuxVariant, notRegistered, resolvePersonality, type RegisteredPersonality } from './personalities.js';

export type ExecOptions = Record<string, boolean | string | string[] | undefined>;

/** glibc's _dl_show_auxv labels and formats (elf/dl-sysdep.c). */
const AUXV_FORMS: Record<number, ['dec' | 'hex' | 'hex0x' | 'str', string]> = {
  [AT.EXECFN]: ['str', 'EXECFN'], [AT.PHDR]: ['hex0x', 'PHDR'], [AT.PHENT]: ['dec', 'PHENT'], [AT.PHNUM]: ['dec', 'PHNUM'],
  [AT.PAGESZ]: ['dec', 'PAGESZ'], [AT.BASE]: ['hex0x', 'BASE'], [AT.FLAGS]: ['hex0x', 'FLAGS'], [AT.ENTRY]: ['hex0x', 'ENTRY'],
  [AT.UID]: ['dec', 'UID'], [AT.EUID]: ['dec', 'EUID'], [AT.GID]: ['dec', 'GID'], [AT.EGID]: ['dec', 'EGID'],
  [AT.PLATFORM]: ['str', 'PLATFORM'], [AT.HWCAP]: ['hex', 'HWCAP'], [AT.CLKTCK]: ['dec', 'CLKTCK'], [AT.SECURE]: ['dec', 'SECURE'],
  [AT.SYSINFO_EHDR]: ['hex0x', 'SYSINFO_EHDR'], [AT.RANDOM]: ['hex0x', 'RANDOM'], [AT.HWCAP2]: ['hex0x', 'HWCAP2'], [AT.MINSIGSTKSZ]: ['dec', 'MINSIGSTKSZ'],
};

/** A NUL-terminated string of the new stack at `addr`. */
function stackString(img: ExecImage, addr: number): string {
  const off = addr - img.sp;
  if (off < 0 || off >= img.stack.length) return '';
  const end = img.stack.indexOf(0, off);
  return new TextDecoder().decode(img.stack.subarray(off, end < 0 ? img.stack.length : end));
}

/** The auxv as LD_SHOW_AUXV=1 prints it (without AT_NULL). */
export function showAuxv(img: ExecImage): string {
  const lines: string[] = [];
  for (const [type, value] of img.auxv) {
    if (type === AT.NULL) break;
    const form = AUXV_FORMS[type];
    if (form === undefined) {
      lines.push(`AT_??? (0x${type.toString(16)}): 0x${value.toString(16)}`);
      continue;
    }
    const label = `AT_${form[1]}:`.padEnd(22);
    const shown = form[0] === 'dec' ? String(value) : form[0] === 'hex' ? value.toString(16) : form[0] === 'hex0x' ? `0x${value.toString(16)}` : stackString(img, value);
    lines.push(label + shown);
  }
  return lines.join('\n') + '\n';
}

/** The initial stack from sp up: argc, argv, envp, auxv, then the string area, annotated. */
export function showStack(img: ExecImage): string {
  const view = new DataView(img.stack.buffer, img.stack.byteOffset, img.stack.byteLength);
  const word = (i: number): number => Number(view.getBigUint64(i * 8, true));
  const at = (i: number): string => `0x${(img.sp + i * 8).toString(16)}`;
  const lines: string[] = [];
  let i = 0;
  const argc = word(i);
  lines.push(`${at(i++)}  ${`0x${argc.toString(16)}`.padStart(18)}  argc = ${argc}`);
  for (let n = 0; n <= argc; n++, i++) {
    const v = word(i);
    lines.push(`${at(i)}  ${`0x${v.toString(16)}`.padStart(18)}  ${n < argc ? `argv[${n}] -> ${JSON.stringify(stackString(img, v))}` : 'argv[argc] = NULL'}`);
  }
  for (let n = 0; ; n++, i++) {
    const v = word(i);
    lines.push(`${at(i)}  ${`0x${v.toString(16)}`.padStart(18)}  ${v !== 0 ? `envp[${n}] -> ${JSON.stringify(stackString(img, v))}` : 'envp end = NULL'}`);
    if (v === 0) {
      i++;
      break;
    }
  }
  for (;;) {
    const t = word(i);
    const v = word(i + 1);
    const name = AT_NAMES[t] ?? `AT_${t}`;
    const str = t === AT.EXECFN || t === AT.PLATFORM ? ` -> ${JSON.stringify(stackString(img, v))}` : '';
    lines.push(`${at(i)}  ${`0x${t.toString(16)}`.padStart(18)}  auxv ${name}`);
    lines.push(`${at(i + 1)}  ${`0x${v.toString(16)}`.padStart(18)}    = ${v < 4096 ? v : `0x${v.toString(16)}`}${str}`);
    i += 2;
    if (t === AT.NULL) break;
  }
  const top = img.sp + img.stack.length;
  const random = img.auxv.find(([t]) => t === AT.RANDOM)?.[1] ?? 0;
  lines.push(`0x${(img.sp + i * 8).toString(16)}  … padding, AT_RANDOM's 16 bytes at 0x${random.toString(16)}, "x86_64", then the argument and environment strings up to 0x${top.toString(16)}`);
  return lines.join('\n') + '\n';
}

/** Why an ELF file is ENOEXEC here when the reason is the machine: a 32-bit x86 program, or another architecture's. */
export function elfHint(sysroot: string, file: string): string {
  let head: Buffer;
  try {
    const fd = openSync(join(sysroot, file), 'r');
    try {
      head = Buffer.alloc(20);
      readSync(fd, head, 0, 20, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
  }
  if (head.readUInt32BE(0) !== 0x7f454c46) return '';
  const machine = head[5] === 2 ? head.readUInt16BE(18) : head.readUInt16LE(18);
  if (head[4] === 1 && (machine === 3 || machine === 62)) return ' — a 32-bit x86 program: IA-32 emulation is not modelled (x86-64 programs only)';
  if (machine !== 62) return ` — an ELF for another machine (e_machine ${machine}): only x86-64 programs are modelled`;
  return '';
}

/** A usage error in exec's strings (a C string ends at its first NUL) or its sysroot, or null. */
function badExecInput(file: string, args: readonly string[], opts: ExecOptions): string | null {
  const env = Array.isArray(opts.env) ? opts.env : [];
  const argv0 = typeof opts.argv0 === 'string' ? [opts.argv0] : [];
  const withNul = [file, ...argv0, ...args, ...env].find((s) => s.includes('\0'));
  if (withNul !== undefined) return `${JSON.stringify(withNul)}: an argument, environment string or path cannot contain a NUL byte (a C string ends at its first)`;
  return typeof opts.sysroot === 'string' ? sysrootProblem(opts.sysroot) : null;
}

export function runExec(file: string, args: string[], opts: ExecOptions, out: (s: string) => void = (s) => process.stdout.write(s), err: (s: string) => void = (s) => process.stderr.write(s + '\n')): number {
  const name = typeof opts.personality === 'string' ? opts.personality : 'linux';
  const resolved = resolvePersonality(name);
  if (resolved === undefined) {
    err(`polykernel exec: ${notRegistered(name)}`);
    return 2;
  }
  const bad = badExecInput(file, args, opts);
  if (bad !== null) {
    err(`polykernel exec: ${bad}`);
    return 2;
  }
  const viewsOnly = ['view', 'profile'].find((o) => opts[o] !== undefined && (resolved.entry.name === 'linux' || resolved.entry.name === 'windows'));
  if (viewsOnly !== undefined) {
    err(`polykernel exec: --${viewsOnly} applies to the personalities shown through their native views (-p freebsd), not -p ${name}`);
    return 2;
  }
  if (resolved.entry.name === 'windows') return runWindowsExec(file, opts, out, err);
  if (resolved.entry.name !== 'linux') return runExecViaViews(resolved.entry, resolved.variant, file, args, opts, out, err);
  const variant = linuxVariant(resolved.variant);
  const sysroot = typeof opts.sysroot === 'string' ? opts.sysroot : '/';
  const env = Array.isArray(opts.env) ? opts.env : ['PATH=/usr/bin:/bin'];
  const cpu = opts.cpu === 'host' ? hostCpu() : undefined;
  if (opts.cpu === 'host' && cpu === undefined) {
    err('polykernel exec: --cpu host: this machine has no x86 flags line in /proc/cpuinfo');
    return 2;
  }
  if (opts.cpu !== undefined && opts.cpu !== 'host' && opts.cpu !== 'zen4') {
    err(`polykernel exec: --cpu takes host or zen4, not "${String(opts.cpu)}"`);
    return 2;
  }
  const until = opts.until ?? 'entry';
  if (until !== 'entry' && until !== 'execve') {
    err(`polykernel exec: --until takes entry or execve, not "${String(until)}"`);
    return 2;
  }
  const started = performance.now();
  const lp = linuxPersonality({ variant, fs: sysrootLookup(sysroot), ...(cpu !== undefined ? { cpu } : {}) });
  const k = new Kernel<LinuxSpace>(lp, { contents: true, frames: 65536 });
  const p = k.createProcess(k.init, 'polykernel');
  // Descriptors 0, 1 and 2 are open, as a shell leaves them (so ld.so's files get 3, as on the host).
  for (const writable of [false, true, true]) p.installFile({ path: '/dev/null', bytes: new Uint8Array(0), readable: !writable, writable, device: 'null', offset: 0 });
  const argv = [typeof opts.argv0 === 'string' ? opts.argv0 : file, ...args];
  const r = k.syscall(p.threads[0]!, 'execve', [file, argv, env]);
  if (r.error !== null || p.state !== 'running') {
    const why = r.error ?? p.killedBy ?? 'failed';
    err(`polykernel exec: ${file}: execve failed: ${why}${r.error !== null ? ` (-${r.errorNumber})` : ''}${r.error === 'ENOEXEC' ? elfHint(sysroot, file) : r.error === 'EFBIG' ? ' — the file is too large to simulate (the simulated file system reads files up to 1 GiB; only its header was read)' : ''}`);
    return execStatus(r.error);
  }
  const execMetrics = { syscalls: k.metrics.syscalls, faults: k.metrics.totalFaults, cycles: k.metrics.cycles };
  const trace: string[] = [];
  let rtld: RtldResult | null = null;
  if (until === 'entry') {
    const stop = opts.trace === true ? traceCalls(k, trace) : () => undefined;
    try {
      rtld = runLdSo(k, p);
    } catch (e) {
      if (!(e instanceof RtldError)) throw e;
      stop();
      if (opts.trace === true) out(trace.join('\n') + '\n');
      // ld.so's own message, and its exit status (127 for a library or symbol it cannot find).
      err(e.message);
      return e.exitStatus;
    }
    stop();
  }
  const img0 = p.space.image;
  if (until === 'entry' && rtld === null && img0?.interpreter != null) {
    err(`# ld.so: ${img0.interpreter} is not glibc's ld.so (the only run-time linker modelled): the maps are the kernel's hand-over`);
  }
  const hostMs = performance.now() - started;
  const s = p.space;
  const img = s.image!;
  const status = procStatus(p, stateLetter(lp.task(p.threads[0]!)), lp.task(p.threads[0]!));
  if (opts.json === true) {
    out(JSON.stringify({
      personality: variant, pid: p.pid, comm: p.comm, path: img.path, interpreter: img.interpreter, handlers: img.handlers,
      argv: img.argv, envp: img.envp, entry: img.entry, startAt: img.startAt, loadBias: img.loadBias, interpBase: img.interpBase, sp: img.sp,
      maps: procMaps(s.mm).trimEnd().split('\n'),
      auxv: img.auxv.map(([type, value]) => ({ type, name: AT_NAMES[type] ?? null, value })),
      status: Object.fromEntries(status.trimEnd().split('\n').map((l) => l.split(':\t') as [string, string]).map(([key, v]) => [key, v.trim()])),
      metrics: { syscalls: k.metrics.syscalls, faults: k.metrics.faults, cycles: k.metrics.cycles },
      until,
      rtld: rtld === null ? null : rtldJson(rtld, execMetrics, k),
    }, null, 2) + '\n');
    return 0;
  }
  if (opts.trace === true) out(trace.join('\n') + '\n');
  const views = [opts.auxv === true, opts.stack === true, opts.status === true];
  if (!views.some(Boolean) || opts.maps === true) out(procMaps(s.mm));
  if (opts.auxv === true) out(showAuxv(img));
  if (opts.stack === true) out(showStack(img));
  if (opts.status === true) out(status);
  if (rtld !== null) err(rtldSummary(rtld, execMetrics, k, hostMs));
  return 0;
}

type LinuxKernel = Kernel<LinuxSpace>;
interface Counts { syscalls: number; faults: number; cycles: number }

function argText(a: SyscallArg): string {
  if (typeof a === 'string') return JSON.stringify(a);
  if (typeof a === 'number') return a < 0 || a < 4096 ? String(a) : `0x${a.toString(16)}`;
  return JSON.stringify(a);
}

/** Subscribe to the calls and faults: one line each, in order. Returns the unsubscriber. */
function traceCalls(k: LinuxKernel, lines: string[]): () => void {
  let pending = '';
  const offs = [
    k.bus.probe('syscall:entry').subscribe((e) => {
      pending = `${e.name}(${e.args.map(argText).join(', ')})`;
    }),
    k.bus.probe('syscall:return').subscribe((e) => {
      lines.push(`${pending.padEnd(39)} = ${e.error !== null ? `-1 ${e.error}` : e.value < 4096 ? String(e.value) : `0x${e.value.toString(16)}`}`);
    }),
    k.bus.probe('fault').subscribe((e) => {
      lines.push(`  fault 0x${e.va.toString(16)} ${['read', 'write', 'exec'][e.access] ?? 'access'} ${e.user ? 'user' : 'kernel'} ${e.reason} → ${e.resolution}`);
    }),
  ];
  return () => {
    for (const off of offs) off();
  };
}

function since(k: LinuxKernel, before: Counts): Counts {
  return { syscalls: k.metrics.syscalls - before.syscalls, faults: k.metrics.totalFaults - before.faults, cycles: k.metrics.cycles - before.cycles };
}

/** LD_DEBUG=statistics-style counts and what ld.so did, for --json. */
function rtldJson(r: RtldResult, before: Counts, k: LinuxKernel): Record<string, unknown> {
  return {
    objects: r.searchList.map((l) => ({ name: l.name, libnames: l.libnames, base: l.addr, kind: l.kind })),
    initOrder: r.initOrder.map((l) => l.name),
    relocations: r.stats.relocations,
    totalRelocations: Object.values(r.stats.relocations).reduce((a, b) => a + b, 0),
    lookups: r.stats.lookups,
    hashProbes: r.stats.hashProbes,
    lazySlots: r.stats.lazySlots,
    ifuncNotRun: r.stats.ifuncNotRun,
    copies: r.stats.copies,
    threadPointer: r.tls.tp,
    staticTlsSize: r.tls.size,
    allocations: r.allocations.map((a) => ({ size: a.size, what: a.what, at: a.at })),
    steps: r.steps,
    work: since(k, before),
  };
}

function rtldSummary(r: RtldResult, before: Counts, k: LinuxKernel, hostMs: number): string {
  const w = since(k, before);
  const rel = Object.values(r.stats.relocations).reduce((a, b) => a + b, 0);
  return `# ld.so: ${r.searchList.length} objects, ${rel} relocations, ${r.stats.lookups} symbol lookups, ${r.stats.lazySlots} lazy PLT slots; ${w.syscalls} system calls, ${w.faults} page faults, ${w.cycles} cycles; ${hostMs.toFixed(0)} ms host time`;
}

/**
 * `exec -p windows`: CreateProcess of a PE image from the sysroot; the new process's VirtualQuery
 * walk in WinDbg's !address layout (--suspended: as CREATE_SUSPENDED leaves it, before the loader).
 */
function runWindowsExec(file: string, opts: ExecOptions, out: (s: string) => void, err: (s: string) => void): number {
  const r = windowsExec(file, { fs: sysrootLookup(typeof opts.sysroot === 'string' ? opts.sysroot : '/'), suspended: opts.suspended === true });
  if (r.error !== null) {
    err(`polykernel exec: ${file}: CreateProcess failed: ${r.error} (${r.errorNumber})`);
    return r.error === 'ERROR_FILE_NOT_FOUND' || r.error === 'ERROR_PATH_NOT_FOUND' ? 127 : r.error === 'ERROR_BAD_EXE_FORMAT' || r.error === 'ERROR_ACCESS_DENIED' ? 126 : 1;
  }
  if (opts.json === true) {
    out(JSON.stringify({ personality: 'windows', pid: r.pid, exitCode: r.exitCode, modules: r.modules, commitCharge: r.commitCharge, regions: r.rows }, null, 2) + '\n');
    return r.exitCode === null ? 0 : 1;
  }
  if (r.exitCode !== null) {
    err(`polykernel exec: ${file}: the process ended while loading: exit code 0x${r.exitCode.toString(16)}${r.exitCode === 0xc0000135 ? ' (STATUS_DLL_NOT_FOUND: put its DLLs in the sysroot\'s /Windows/System32, or run with --suspended)' : ''}`);
    return 1;
  }
  out(r.text);
  for (const m of r.modules) {
    out(`${m.name.padEnd(24)} base 0x${m.base.toString(16)} size 0x${m.size.toString(16)}${m.base !== m.preferredBase ? ` relocated from 0x${m.preferredBase.toString(16)} (${m.fixups} fixups)` : ''}${m.iatSlots > 0 ? `, ${m.iatSlots} IAT slots` : ''}${m.tlsCallbacks > 0 ? `, ${m.tlsCallbacks} TLS callbacks` : ''}\n`);
  }
  return 0;
}

/**
 * exec on a personality other than Linux, through the contract alone: its own execve call, then
 * its native views — the first one by default (FreeBSD: procstat -v), `--auxv` the view named
 * like procstat -x, `--json` every view's rows.
 */
function runExecViaViews(entry: RegisteredPersonality, variant: string, file: string, args: string[], opts: ExecOptions, out: (s: string) => void, err: (s: string) => void): number {
  const sysroot = typeof opts.sysroot === 'string' ? opts.sysroot : '/';
  const env = Array.isArray(opts.env) ? opts.env : ['PATH=/usr/bin:/bin'];
  const personality = entry.create({ variant, fs: sysrootLookup(sysroot) });
  if (personality.syscalls.find((c) => c.name === 'execve') === undefined) {
    err(`polykernel exec: ${variant} cannot exec programs yet (it has no execve call)`);
    return 2;
  }
  const profile = typeof opts.profile === 'string' ? opts.profile : undefined;
  if (profile !== undefined && !profileNames().includes(profile)) {
    err(`polykernel exec: unknown machine profile '${profile}' (known: ${profileNames().join(', ')})`);
    return 2;
  }
  const wanted = typeof opts.view === 'string' ? personality.views.find((v) => v.name === opts.view) : undefined;
  if (typeof opts.view === 'string' && wanted === undefined) {
    err(`polykernel exec: ${variant} has no view '${opts.view}' (its views: ${personality.views.map((v) => v.name).join(', ')})`);
    return 2;
  }
  const k = new Kernel(personality, { contents: true, frames: 65536, ...(profile !== undefined ? { profile } : {}) });
  const p = k.createProcess(k.init, 'polykernel');
  const argv = [typeof opts.argv0 === 'string' ? opts.argv0 : file, ...args];
  const r = k.syscall(p.threads[0]!, 'execve', [file, argv, env]);
  if (r.error !== null || p.state !== 'running') {
    err(`polykernel exec: ${file}: execve failed: ${r.error ?? p.killedBy ?? 'failed'}${r.error !== null ? ` (${r.errorNumber})` : ''}`);
    return execStatus(r.error);
  }
  if (opts.json === true) {
    out(JSON.stringify({ personality: variant, pid: p.pid, comm: p.comm, views: Object.fromEntries(personality.views.map((v) => [v.name, v.rows?.(k, p) ?? v.render(k, p)])) }, null, 2) + '\n');
    return 0;
  }
  const auxv = personality.views.find((v) => v.name.endsWith('-x'));
  const shown = wanted !== undefined ? [wanted] : opts.auxv === true && auxv !== undefined ? [auxv] : personality.views.slice(0, 1);
  for (const v of shown) out(v.render(k, p));
  return 0;
}

/**
 * The exit status a shell gives a failed exec (bash's execute_cmd.c, POSIX "Exit Status for
 * Commands"): 127 when the file does not exist, 126 when it exists but cannot be run — not a
 * program (ENOEXEC) or not executable (EACCES) — and 1 for any other execve error.
 */
function execStatus(error: string | null): number {
  if (error === 'ENOENT') return 127;
  return error === 'ENOEXEC' || error === 'EACCES' ? 126 : 1;
}
