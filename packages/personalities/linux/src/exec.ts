/**
 * execve (fs/exec.c: SYSCALL_DEFINE3(execve) → do_execveat_common → bprm_execve → exec_binprm →
 * search_binary_handler) with the two binary handlers every x86-64 kernel has: binfmt_script
 * (fs/binfmt_script.c, `#!`, here) and binfmt_elf (load_elf_binary, 6.x order, binfmt_elf.ts).
 * Address-space randomisation is off (as under `setarch -R`), so the layout is deterministic: PIE
 * executables at ELF_ET_DYN_BASE, the interpreter and the vDSO top-down from mmap_base, the stack at
 * STACK_TOP with 128 KiB below the argument pages.
 *
 * The loader reaches the kernel only through an ExecHost (the file system, the new mm at the point
 * of no return, copy_to_user); the system call below builds one for the calling process.
 *
 * Not modelled (documented): 32-bit (compat) ELF, set-uid credentials, binfmt_misc, close-on-exec,
 * ELF_HWCAP values other than the CPU description given.
 */
import { KernelError, type LinuxErrnoName } from '@polykernel/core';
import type { FileLookup, FsFile, SyscallArg, SyscallContext } from '@polykernel/kernel';
import { isScript, parseShebang } from '@polykernel/loader';
import { loadElfBinary } from './binfmt_elf.js';
import { execFileOf } from './filemap.js';
import { PAGE_SIZE } from './flags.js';
import { releaseVforkParent } from './fork.js';
import { machineOf, type LinuxMachine, type LinuxSpace } from './machine.js';
import type { MmStruct } from './mm.js';
import { copyRlimits } from './rlimit.js';
import { flushSignalHandlers } from './signal.js';
import { stringBytes } from './stack.js';
import { copyOut } from './uaccess.js';
import type { VmFile } from './vma.js';

// Files come from the kernel's file layer (one FileLookup for every personality).
export type { FsFile, FileLookup } from '@polykernel/kernel';

/** The CPU-dependent auxv values (ELF_HWCAP, ELF_HWCAP2, AT_MINSIGSTKSZ); defaults: a Zen 4 guest. */
export interface CpuDescription {
  hwcap: number;
  hwcap2: number;
  minSigStkSz: number;
}

/**
 * XSAVE state components (XCR0 bits) and where each ends in the standard (non-compacted) format a
 * signal frame uses: x87 and SSE in the 512-byte legacy area plus the 64-byte header, then AVX,
 * MPX, the AVX-512 opmask and ZMM registers, PKRU (Intel SDM vol. 1, 13.4 and table 13-1).
 */
const XSTATE_END: readonly [bit: number, end: number][] = [
  [0, 576], [1, 576], [2, 832], [3, 1024], [4, 1088], [5, 1152], [6, 1664], [7, 2688], [9, 2696],
];

/**
 * AT_MINSIGSTKSZ for a CPU with these XSAVE features: arch/x86/kernel/signal.c init_sigframe_size
 * — the rt_sigframe with siginfo and ucontext and the alignment padding (676 bytes on x86-64),
 * plus fpu__get_fpstate_size (the user XSAVE size and FP_XSTATE_MAGIC2), rounded up to 16.
 * A Zen 4 (x87 SSE AVX AVX-512 PKRU, XCR0 0x2e7) gives 3376; a CPU with AVX and MPX but no
 * AVX-512 (XCR0 0x1f) gives 1776, as its kernel does.
 */
export function minSigStkSz(xcr0: number): number {
  let size = 576;
  for (const [bit, end] of XSTATE_END) if (Math.floor(xcr0 / 2 ** bit) % 2 === 1) size = Math.max(size, end);
  return Math.ceil((size + 4 + 676) / 16) * 16;
}

/** The auxv values of a CPU described by its HWCAP words and XSAVE features (XCR0). */
export function describeCpu(hwcap: number, hwcap2: number, xcr0: number): CpuDescription {
  return { hwcap, hwcap2, minSigStkSz: minSigStkSz(xcr0) };
}

/** A Zen 4 guest: x87, SSE, AVX, AVX-512 and PKRU state (XCR0 0x2e7). */
export const DEFAULT_CPU: CpuDescription = describeCpu(0x178bfbff, 0x2, 0x2e7);

/** What exec built, for `polykernel exec --auxv/--stack` and tests. */
export interface ExecImage {
  /** The file actually loaded (after any #! rewrites), and its interpreter. */
  path: string;
  interpreter: string | null;
  argv: string[];
  envp: string[];
  entry: number;
  /** Where the program starts: the interpreter's entry when there is one. */
  startAt: number;
  loadBias: number;
  interpBase: number;
  sp: number;
  auxv: [number, number][];
  /** The initial stack from sp to the stack's end, as the new program sees it. */
  stack: Uint8Array;
  /** Handlers tried in order, e.g. ['script', 'elf']. */
  handlers: string[];
}

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const MAX_ARG_STRLEN = 32 * PAGE_SIZE;
const ARG_MAX = 32 * PAGE_SIZE;
const STK_LIM = 8 * 1024 * 1024;
/** exec_binprm: more than 4 interpreter rewrites is ELOOP. */
const MAX_DEPTH = 5;

/** The parts of the personality exec drives (it builds the new mm through them). */
export interface ExecHost {
  lookup: FileLookup;
  /** RLIMIT_STACK (bprm->rlim_stack): limits the argument strings to a quarter of it. */
  stackRlimit: number;
  variant: 'linux-5.15' | 'linux-6.x';
  cpu: CpuDescription;
  uid: number;
  gid: number;
  euid: number;
  egid: number;
  /** The shared VmFile of a looked-up file (one page cache per inode). */
  vmFile(f: FsFile): VmFile;
  /** 16 bytes for AT_RANDOM from the kernel's seeded generator. */
  randomBytes(): Uint8Array;
  /** Point of no return: a fresh mm replaces the old one (exec_mmap). */
  newMm(): MmStruct;
  /** Write bytes into the new address space (faulting pages in as copy_to_user does). */
  copyToUser(va: number, bytes: Uint8Array): void;
  /** clear_user: zero [va, va+len) through the page tables (padzero of a bss's first page). */
  clearUser(va: number, len: number): void;
}

/** The KernelError exec fails with (its errno is the system call's). */
export function fail(e: LinuxErrnoName, detail: string): KernelError {
  return new KernelError('linux', e, detail);
}

/** open_exec: a regular file with an execute bit (may_open / path_noexec → EACCES). */
export function openExec(host: ExecHost, path: string): FsFile {
  const f = host.lookup(path);
  if (typeof f === 'string') throw fail(f, `${path}: cannot open`);
  if ((f.mode & S_IFMT) !== S_IFREG) throw fail('EACCES', `${path}: not a regular file`);
  if ((f.mode & 0o111) === 0) throw fail('EACCES', `${path}: no execute permission`);
  return f;
}

/** do_execveat_common → bprm_execve: returns what was built; throws KernelError before the point of no return. */
export function execve(host: ExecHost, filename: string, argvIn: readonly string[], envp: readonly string[]): ExecImage {
  // Since 5.18 an empty argv gets a single "" so argv[0] is never NULL (fs/exec.c, "exec: Force single empty string").
  const argv = argvIn.length === 0 && host.variant === 'linux-6.x' ? [''] : [...argvIn];
  let file = openExec(host, filename);
  const handlers: string[] = [];
  // bprm_stack_limits: the strings and pointers may use a quarter of RLIMIT_STACK (at least ARG_MAX).
  const limit = Math.max(Math.min(Math.floor(STK_LIM / 4) * 3, Math.floor(host.stackRlimit / 4)), ARG_MAX) - (Math.max(argv.length, 1) + envp.length) * 8;
  for (const s of [...argv, ...envp]) if (new TextEncoder().encode(s).length + 1 > MAX_ARG_STRLEN) throw fail('E2BIG', 'an argument is longer than MAX_ARG_STRLEN');
  if (limit <= 0 || stringBytes({ filename, argv, envp }) > limit) throw fail('E2BIG', 'arguments and environment exceed the stack limit');
  // exec_binprm: each handler may rewrite the program (binfmt_script) and go round again.
  for (let depth = 0; ; depth++) {
    if (depth > MAX_DEPTH) throw fail('ELOOP', 'too many levels of #! interpreters');
    const bytes = file.bytes;
    if (isScript(bytes)) {
      handlers.push('script');
      const h = parseShebang(bytes, 'linux');
      // binfmt_script: argv[0] is replaced by interpreter [arg] script-path.
      argv.splice(0, 1, ...[h.interpreter, ...(h.argument === null ? [] : [h.argument]), filenameOf(file, filename, depth)]);
      file = openExec(host, h.interpreter);
      continue;
    }
    if (bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46) {
      handlers.push('elf');
      // The head is enough for the checks above; the segments of a file too large to simulate are not there.
      if (file.partial !== undefined) throw fail('EFBIG', `${file.path}: an ELF file of ${file.partial.size} bytes is too large to simulate (files up to 1 GiB)`);
      return loadElfBinary(host, file, filename, argv, [...envp], handlers);
    }
    throw fail('ENOEXEC', `${file.path}: not an ELF file or #! script`);
  }
}

/** The script path binfmt_script passes on: the name the caller used for the first file. */
function filenameOf(file: FsFile, filename: string, depth: number): string {
  return depth === 0 ? filename : file.path;
}

// ---- the system call ------------------------------------------------------------------------------

/** execve(2): the image is built by execve() above; past the point of no return a failure is SIGSEGV. */
export function sysExecve(ctx: SyscallContext<LinuxSpace>, a: readonly SyscallArg[]): number {
  const path = typeof a[0] === 'string' ? a[0] : '';
  // getname_flags: an empty user pathname is ENOENT (the kernel's own open_exec of an empty #!
  // interpreter name goes through getname_kernel, which allows it: that one resolves and fails EACCES).
  if (path === '') return ctx.fail('ENOENT', 'empty pathname');
  const argv = Array.isArray(a[1]) ? (a[1] as readonly string[]) : [];
  const envp = Array.isArray(a[2]) ? (a[2] as readonly string[]) : [];
  const m = machineOf(ctx.kernel);
  const state = { committed: false };
  try {
    const image = execve(execHost(m, ctx, () => { state.committed = true; }), path, argv, envp);
    ctx.process.space.image = image;
    flushSignalHandlers(m, ctx.thread);
    releaseVforkParent(m, ctx.thread);
    ctx.kernel.bus.probe('exec').publish({ pid: ctx.process.pid, path: image.path, interpreter: image.interpreter });
    // __set_task_comm(kbasename(bprm->filename)), TASK_COMM_LEN 16.
    ctx.process.comm = (path.split('/').pop() ?? path).slice(0, 15);
    return 0;
  } catch (e) {
    if (!(e instanceof KernelError)) throw e;
    // Past the point of no return the old image is gone: the task gets SIGSEGV (bprm_execve).
    if (state.committed) {
      ctx.kernel.signal(ctx.process, 'SIGSEGV', e.message);
      return 0;
    }
    return ctx.fail(e.errno, e.message);
  }
}

/** The ExecHost of the calling process: the file system, a new mm at the point of no return, user copies. */
function execHost(m: LinuxMachine, ctx: SyscallContext<LinuxSpace>, onCommit: () => void): ExecHost {
  const k = ctx.kernel;
  const p = ctx.process;
  const c = p.creds;
  // copy_strings / create_elf_tables / padzero write the new image through copyOut, as read() does.
  const write = (va: number, len: number, bytes: Uint8Array | null): void => {
    if (!copyOut(ctx, va, len, bytes)) throw new KernelError('linux', 'EFAULT', `cannot write the new image at 0x${va.toString(16)}`);
  };
  return {
    lookup: m.lookup,
    stackRlimit: m.options.mm?.stackRlimit ?? 8 * 1024 * 1024,
    variant: m.variant,
    cpu: m.cpu,
    uid: c.uid, gid: c.gid, euid: c.euid, egid: c.egid,
    vmFile: (f) => execFileOf(m, f),
    randomBytes: () => Uint8Array.from({ length: 16 }, () => m.rng.below(256)),
    newMm: () => {
      onCommit();
      const old = p.space.mm;
      const space = k.personality.createAddressSpace(k, p);
      // The limits and capabilities are the task's: the new image keeps them (not its mm's locks).
      copyRlimits(space.mm, old);
      space.mm.privileged = old.privileged;
      k.replaceSpace(p, space);
      return space.mm;
    },
    copyToUser: (va, bytes) => {
      write(va, bytes.length, bytes);
    },
    clearUser: (va, len) => {
      write(va, len, null);
    },
  };
}
