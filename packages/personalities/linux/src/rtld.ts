/**
 * Running the program's interpreter (glibc's ld.so) after execve: the personality-neutral
 * run-time linker of @polykernel/loader drives this process through the system-call table (so
 * each openat, read, pread64, newfstatat, mmap, mprotect, munmap and close is counted and traced
 * like any other call) and loads and stores its memory in user mode (so each page it touches
 * faults in, and each relocated page of a private file mapping is copied on write).
 */
import type { Kernel, Process, Thread } from '@polykernel/kernel';
import { GLIBC_2_36_X86_64, runRtld, type RtldConventions, type RtldResult, type RtldSystem } from '@polykernel/loader';
import { parseElf } from '@polykernel/elf';
import { ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';
import { PAGE_SIZE } from './flags.js';
import { machineOf, type LinuxSpace } from './machine.js';
import { threadStartup } from './startup.js';

/** The x86-64 glibc interpreter's file name (PT_INTERP ends with it). */
export const GLIBC_INTERPRETER = '/ld-linux-x86-64.so.2';

export interface RunLdSoOptions {
  conventions?: RtldConventions;
}

/** A user-mode access of `len` bytes page by page; `src` null reads. False/null when a page cannot be accessed. */
function userAccess(k: Kernel<LinuxSpace>, t: Thread, va: number, len: number, src: Uint8Array | null): Uint8Array | null {
  const frames = k.mmu.frames;
  const out = src ?? new Uint8Array(len);
  for (let done = 0; done < len;) {
    const at = va + done;
    const n = Math.min(PAGE_SIZE - (at % PAGE_SIZE), len - done);
    const pa = k.access(t, at, src === null ? ACCESS_READ : ACCESS_WRITE, true);
    if (pa < 0) return null;
    if (frames.contentsEnabled) {
      if (src === null) out.set(frames.read(pa, n), done);
      else frames.write(pa, src.subarray(done, done + n));
    }
    done += n;
  }
  return out;
}

/** The RtldSystem of a process's first thread. */
export function rtldSystem(k: Kernel<LinuxSpace>, p: Process<LinuxSpace>): RtldSystem {
  const t = p.threads[0]!;
  return {
    syscall: (name, args) => {
      const r = k.syscall(t, name, args);
      return { value: r.value, error: r.error };
    },
    load: (va, len) => userAccess(k, t, va, len, null),
    store: (va, bytes) => userAccess(k, t, va, bytes.length, bytes) !== null,
    fileBytes: (fd) => p.file(fd)?.bytes ?? null,
  };
}

/**
 * Run the interpreter of the program `execve` just loaded into `p`, up to the program's entry
 * point. Null when the program has no interpreter (static) or its interpreter is not glibc's
 * ld.so (the only one modelled, unless `conventions` are given). RtldError for ld.so's own failures.
 */
export function runLdSo(k: Kernel<LinuxSpace>, p: Process<LinuxSpace>, opts: RunLdSoOptions = {}): (RtldResult & { fsBase: number }) | null {
  const img = p.space.image;
  if (img?.interpreter == null) return null;
  const m = machineOf(k);
  const prog = m.lookup(img.path);
  const interp = m.lookup(img.interpreter);
  if (typeof prog === 'string' || typeof interp === 'string') return null;
  // ld.so's own l_name is PT_INTERP as written in the program (the kernel shows the resolved path).
  const interpName = parseElf(prog.bytes, { view: 'exec' }).interpreter ?? img.interpreter;
  // Only glibc's ld.so is modelled (musl's or another loader would make other calls).
  if (opts.conventions === undefined && !interpName.endsWith(GLIBC_INTERPRETER)) return null;
  const r = runRtld({
    sys: rtldSystem(k, p),
    conventions: opts.conventions ?? GLIBC_2_36_X86_64,
    argv0: img.argv[0] ?? img.path,
    envp: img.envp,
    program: { path: img.path, bytes: prog.bytes, loadBias: img.loadBias },
    interpreter: { path: interpName, bytes: interp.bytes, base: img.interpBase },
    // ld.so's stack frame: a few pages below the initial stack pointer.
    scratch: Math.floor((img.sp - 4 * PAGE_SIZE) / PAGE_SIZE) * PAGE_SIZE,
  });
  return { ...r, fsBase: threadStartup(p.threads[0]!).fsBase };
}
