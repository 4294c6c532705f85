/**
 * What the run-time linker needs from a kernel: system calls by name (so the kernel counts and
 * traces each one as the real ld.so makes it) and the program's own loads and stores (so every
 * page ld.so touches faults in as it would). The Linux personality supplies one for a process.
 */

export interface SyscallOutcome {
  /** The return value (an address, a count, a file descriptor, 0). */
  value: number;
  /** The errno name on failure, else null. */
  error: string | null;
}

export type RtldArg = number | string;

export interface RtldSystem {
  syscall(name: string, args: readonly RtldArg[]): SyscallOutcome;
  /** A user-mode load of `len` bytes; null when the access faults fatally (SIGSEGV). */
  load(va: number, len: number): Uint8Array | null;
  /** A user-mode store; false when the access faults fatally. */
  store(va: number, bytes: Uint8Array): boolean;
  /**
   * The contents of an open file descriptor, for parsing the object's tables. ld.so reads them
   * from the pages it just mapped; the simulated file system hands over the same bytes, so the
   * tables are parsed once instead of being loaded byte by byte through the MMU.
   */
  fileBytes(fd: number): Uint8Array | null;
}

/** A run-time linker failure as the real one reports it (message on stderr, exit status). */
export class RtldError extends Error {
  override name = 'RtldError';
  constructor(message: string, readonly exitStatus = 127) {
    super(message);
  }
}

// x86-64 Linux values of the flags ld.so passes (include/uapi/asm-generic/mman-common.h, fcntl.h).
export const PROT_NONE = 0;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;
export const MAP_PRIVATE = 0x02;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
/** Ignored by the kernel since 5.x but still passed by glibc (MAP_COPY|MAP_FILE|MAP_DENYWRITE). */
export const MAP_DENYWRITE = 0x800;
export const O_RDONLY = 0;
export const O_CLOEXEC = 0x80000;
export const AT_FDCWD = -100;
export const AT_EMPTY_PATH = 0x1000;
export const R_OK = 4;
export const ARCH_SET_FS = 0x1002;
export const RLIMIT_STACK = 3;
export const PAGE = 4096;

export const pageDown = (n: number): number => Math.floor(n / PAGE) * PAGE;
export const pageUp = (n: number): number => Math.ceil(n / PAGE) * PAGE;
export const alignUp = (n: number, a: number): number => (a <= 1 ? n : Math.ceil(n / a) * a);
