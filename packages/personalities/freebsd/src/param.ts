/**
 * FreeBSD 14 constants the personality reproduces, each from the header that defines it. Flag
 * words that can reach bit 31 (rfork's RFPPWAIT, mmap's MAP_ALIGNED field) are read with the
 * arithmetic helpers at the end, never with 32-bit bit operators.
 */

/** amd64 PAGE_SIZE (sys/amd64/include/param.h). */
export const PAGE_SIZE = 4096;
/** amd64 NBPDR: a 2 MiB superpage (pagesizes[1]). */
export const SUPERPAGE_SIZE = 0x20_0000;

// ---- address-space layout, amd64 (sys/amd64/include/vmparam.h) -------------------------------
/** VM_MAXUSER_ADDRESS with 4-level paging (LA48): the top of user space. */
export const VM_MAXUSER_ADDRESS = 0x8000_0000_0000;
/** The shared page (sigcode, timekeep) is the last user page (SHAREDPAGE). */
export const SHAREDPAGE = VM_MAXUSER_ADDRESS - PAGE_SIZE;
/** sv_usrstack: the stack ends where the shared page begins. */
export const USRSTACK = SHAREDPAGE;
/** vm_map_min of a user map: page 0 stays unmapped (security.bsd.map_at_zero = 0). */
export const VM_MIN_USER = PAGE_SIZE;
/** MAXDSIZ (32 GiB): lim_max(RLIMIT_DATA), the space kept above vm_daddr for the heap. */
export const MAXDSIZ = 32 * 1024 * 1024 * 1024;
/** DFLDSIZ (32 GiB on amd64): lim_cur(RLIMIT_DATA), checked by break(2). */
export const DFLDSIZ = 32 * 1024 * 1024 * 1024;
/** MAXSSIZ (512 MiB): the stack's reserved size. */
export const MAXSSIZ = 512 * 1024 * 1024;
/** sgrowsiz (SGROWSIZ, 128 KiB): the initial stack entry and the grow increment. */
export const SGROWSIZ = 128 * 1024;
/** MAP_32BIT_MAX_ADDR (sys/sys/mman.h): 2 GiB. */
export const MAP_32BIT_MAX_ADDR = 0x8000_0000;

// ---- the machine-dependent layout: one per sysentvec (elf64_freebsd_sysvec) ------------------
/**
 * What differs between FreeBSD's amd64 and arm64 images: the ELF machine, the top of user space
 * (sys/<arch>/include/vmparam.h VM_MAXUSER_ADDRESS, SHAREDPAGE = USRSTACK one page below it), the
 * resource-limit defaults the layout uses (MAXDSIZ, DFLDSIZ, MAXSSIZ, DFLSSIZ), ET_DYN_LOAD_ADDR
 * (sys/<arch>/include/elf.h) and whether the sysentvec has sv_hwcap/sv_hwcap2 (AT_HWCAP/AT_HWCAP2).
 */
export interface FreebsdAbi {
  readonly arch: 'amd64' | 'arm64';
  /** e_machine the image activator accepts (ELF_MACHINE_OK). */
  readonly machine: number;
  readonly vmMaxUser: number;
  readonly sharedPage: number;
  readonly usrStack: number;
  readonly maxdsiz: number;
  readonly dfldsiz: number;
  readonly maxssiz: number;
  readonly dflssiz: number;
  readonly etDynLoadAddr: number;
  /** AT_HWCAP and AT_HWCAP2, or null when the sysentvec has no sv_hwcap (amd64). */
  readonly hwcap: readonly [number, number] | null;
}

/** amd64 (sys/amd64/include/vmparam.h with LA48, elf.h). */
export const ABI_AMD64: FreebsdAbi = {
  arch: 'amd64', machine: 62, vmMaxUser: VM_MAXUSER_ADDRESS, sharedPage: SHAREDPAGE, usrStack: USRSTACK, maxdsiz: MAXDSIZ,
  dfldsiz: DFLDSIZ, maxssiz: MAXSSIZ, dflssiz: 8 * 1024 * 1024, etDynLoadAddr: 0x0102_1000, hwcap: null,
};

/**
 * arm64 (sys/arm64/include/vmparam.h: VM_MAX_USER_ADDRESS 0x0001000000000000, MAXDSIZ and MAXSSIZ
 * 1 GiB, DFLDSIZ and DFLSSIZ 128 MiB; elf.h: ET_DYN_LOAD_ADDR 0x100000). elf_hwcap is what
 * identcpu.c reads from a Cortex-A72's ID registers (FP, ASIMD, AES, PMULL, SHA1, SHA2, CRC32) plus
 * HWCAP_CPUID for the emulated MRS — this model's estimate for the arm64-a72 profile, not read
 * from a board; elf_hwcap2 is 0 there.
 */
export const ABI_ARM64: FreebsdAbi = {
  arch: 'arm64', machine: 183, vmMaxUser: 0x1_0000_0000_0000, sharedPage: 0x1_0000_0000_0000 - PAGE_SIZE,
  usrStack: 0x1_0000_0000_0000 - PAGE_SIZE, maxdsiz: 1024 * 1024 * 1024, dfldsiz: 128 * 1024 * 1024, maxssiz: 1024 * 1024 * 1024,
  dflssiz: 128 * 1024 * 1024, etDynLoadAddr: 0x10_0000, hwcap: [0x1 + 0x2 + 0x8 + 0x10 + 0x20 + 0x40 + 0x80 + 0x800, 0],
};

/** The sysentvec for a machine profile: arm64 profiles get arm64's, everything else amd64's. */
export function abiForProfile(profileName: string): FreebsdAbi {
  return profileName.startsWith('arm64') ? ABI_ARM64 : ABI_AMD64;
}

// ---- protections (sys/vm/vm.h; PROT_* in sys/sys/mman.h share the values) ---------------------
export const VM_PROT_NONE = 0;
export const VM_PROT_READ = 1;
export const VM_PROT_WRITE = 2;
export const VM_PROT_EXECUTE = 4;
export const VM_PROT_ALL = 7;
/** PROT_MAX(prot) = prot << 16; PROT_MAX_EXTRACT / PROT_EXTRACT undo it. */
export const PROT_MAX_SHIFT = 16;

// ---- vm_map_entry eflags (sys/vm/vm_map.h) ----------------------------------------------------
export const MAP_ENTRY_NOSYNC = 0x1;
export const MAP_ENTRY_IS_SUB_MAP = 0x2;
export const MAP_ENTRY_COW = 0x4;
export const MAP_ENTRY_NEEDS_COPY = 0x8;
export const MAP_ENTRY_NOFAULT = 0x10;
export const MAP_ENTRY_USER_WIRED = 0x20;
export const MAP_ENTRY_BEHAV_SEQUENTIAL = 0x40;
export const MAP_ENTRY_BEHAV_RANDOM = 0x80;
export const MAP_ENTRY_IN_TRANSITION = 0x100;
export const MAP_ENTRY_NOCOREDUMP = 0x400;
export const MAP_ENTRY_VN_EXEC = 0x800;
export const MAP_ENTRY_GROWS_DOWN = 0x1000;
export const MAP_ENTRY_GROWS_UP = 0x2000;
export const MAP_ENTRY_WRITECNT = 0x8000;
export const MAP_ENTRY_GUARD = 0x10000;
export const MAP_ENTRY_STACK_GAP_DN = 0x20000;
export const MAP_ENTRY_STACK_GAP_UP = 0x40000;
export const MAP_ENTRY_HEADER = 0x80000;
/** MAP_ENTRY_SPLIT_BOUNDARY_MASK (largepage boundaries, bits 20-21). */
export const MAP_ENTRY_SPLIT_BOUNDARY_MASK = 0x300000;
export const MAP_ENTRY_BEHAV_MASK = MAP_ENTRY_BEHAV_SEQUENTIAL | MAP_ENTRY_BEHAV_RANDOM;
/** Entries with any of these never merge with a neighbour (MAP_ENTRY_NOMERGE_MASK). */
export const MAP_ENTRY_NOMERGE_MASK = MAP_ENTRY_GROWS_DOWN | MAP_ENTRY_GROWS_UP | MAP_ENTRY_IN_TRANSITION | MAP_ENTRY_IS_SUB_MAP
  | MAP_ENTRY_VN_EXEC | MAP_ENTRY_STACK_GAP_UP | MAP_ENTRY_STACK_GAP_DN;

// ---- vm_map_insert's cow argument (sys/vm/vm_map.h MAP_*) --------------------------------------
export const MAP_COPY_ON_WRITE = 0x4;
export const MAP_NOFAULT = 0x8;
export const MAP_PREFAULT = 0x10;
export const MAP_PREFAULT_PARTIAL = 0x20;
export const MAP_DISABLE_SYNCER = 0x40;
export const MAP_CHECK_EXCL = 0x80;
export const MAP_CREATE_GUARD = 0x100;
export const MAP_DISABLE_COREDUMP = 0x200;
export const MAP_PREFAULT_MADVISE = 0x400;
export const MAP_WRITECOUNT = 0x800;
export const MAP_REMAP = 0x1000;
export const MAP_STACK_GROWS_DOWN = 0x2000;
export const MAP_STACK_GROWS_UP = 0x4000;
export const MAP_ACC_CHARGED = 0x8000;
export const MAP_ACC_NO_CHARGE = 0x10000;
export const MAP_CREATE_STACK_GAP_UP = 0x20000;
export const MAP_CREATE_STACK_GAP_DN = 0x40000;
export const MAP_VN_EXEC = 0x80000;
export const MAP_INHERIT_SHARE = 0x100000;

// ---- inheritance (sys/vm/vm_inherit.h, INHERIT_* in sys/sys/mman.h) ----------------------------
export const VM_INHERIT_SHARE = 0;
export const VM_INHERIT_COPY = 1;
export const VM_INHERIT_NONE = 2;
export const VM_INHERIT_ZERO = 3;
export const VM_INHERIT_DEFAULT = VM_INHERIT_COPY;

// ---- mmap(2) flags (sys/sys/mman.h) ------------------------------------------------------------
export const MAP_SHARED = 0x0001;
export const MAP_PRIVATE = 0x0002;
export const MAP_FIXED = 0x0010;
export const MAP_HASSEMAPHORE = 0x0200;
export const MAP_STACK = 0x0400;
export const MAP_NOSYNC = 0x0800;
export const MAP_ANON = 0x1000;
export const MAP_GUARD = 0x2000;
export const MAP_EXCL = 0x4000;
export const MAP_NOCORE = 0x20000;
export const MAP_PREFAULT_READ = 0x40000;
export const MAP_32BIT = 0x80000;
/** MAP_ALIGNED(n) = n << MAP_ALIGNMENT_SHIFT; MAP_ALIGNMENT_MASK = MAP_ALIGNED(0xff). */
export const MAP_ALIGNMENT_SHIFT = 24;
export const MAP_ALIGNMENT_UNIT = 2 ** MAP_ALIGNMENT_SHIFT;
/** MAP_ALIGNED_SUPER = MAP_ALIGNED(1). */
export const MAP_ALIGNED_SUPER_FIELD = 1;
/** MAP_ALIGNED(n) as a flag word. */
export function mapAligned(n: number): number {
  return n * MAP_ALIGNMENT_UNIT;
}

// ---- madvise(2) (sys/sys/mman.h) ---------------------------------------------------------------
export const MADV_NORMAL = 0;
export const MADV_RANDOM = 1;
export const MADV_SEQUENTIAL = 2;
export const MADV_WILLNEED = 3;
export const MADV_DONTNEED = 4;
export const MADV_FREE = 5;
export const MADV_NOSYNC = 6;
export const MADV_AUTOSYNC = 7;
export const MADV_NOCORE = 8;
export const MADV_CORE = 9;
export const MADV_PROTECT = 10;

// ---- rfork(2) (sys/sys/unistd.h) ---------------------------------------------------------------
export const RFNAMEG = 1;
export const RFENVG = 2;
export const RFFDG = 4;
export const RFNOTEG = 8;
export const RFPROC = 16;
export const RFMEM = 32;
export const RFNOWAIT = 64;
export const RFCNAMEG = 1024;
export const RFCENVG = 2048;
export const RFCFDG = 4096;
export const RFTHREAD = 8192;
export const RFSIGSHARE = 16384;
export const RFLINUXTHPN = 65536;
export const RFSTOPPED = 131072;
export const RFHIGHPID = 262144;
export const RFTSIGZMB = 524288;
export const RFTSIGSHIFT = 20;
export const RFTSIGMASK = 0xff;
export const RFPROCDESC = 2 ** 28;
/** RFSPAWN and RFPPWAIT are both bit 31 (1U << 31): rfork takes it alone as RFSPAWN (posix_spawn), refuses it with other flags; vfork sets RFPPWAIT inside the kernel. */
export const RFPPWAIT = 2 ** 31;
export const RFSPAWN = 2 ** 31;
/** RFKERNELONLY = RFSTOPPED | RFHIGHPID | RFPPWAIT. */
export const RFKERNELONLY = RFSTOPPED + RFHIGHPID + RFPPWAIT;
/** RFFLAGS: every flag fork1 accepts. */
export const RFFLAGS = RFFDG + RFPROC + RFMEM + RFNOWAIT + RFCFDG + RFTHREAD + RFSIGSHARE + RFLINUXTHPN + RFSTOPPED + RFHIGHPID + RFTSIGZMB
  + RFPROCDESC + RFPPWAIT;

// ---- wait(2) (sys/sys/wait.h) ------------------------------------------------------------------
export const WNOHANG = 1;
export const WUNTRACED = 2;
export const WCONTINUED = 4;
export const WNOWAIT = 8;
export const WEXITED = 16;
export const WTRAPPED = 32;

/** Signals (sys/sys/signal.h); _SIG_MAXSIG is 128. */
export const SIGNALS: Readonly<Record<string, number>> = {
  SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGILL: 4, SIGTRAP: 5, SIGABRT: 6, SIGEMT: 7, SIGFPE: 8, SIGKILL: 9, SIGBUS: 10,
  SIGSEGV: 11, SIGSYS: 12, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15, SIGURG: 16, SIGSTOP: 17, SIGTSTP: 18, SIGCONT: 19,
  SIGCHLD: 20, SIGTTIN: 21, SIGTTOU: 22, SIGIO: 23, SIGXCPU: 24, SIGXFSZ: 25, SIGVTALRM: 26, SIGPROF: 27, SIGWINCH: 28,
  SIGINFO: 29, SIGUSR1: 30, SIGUSR2: 31, SIGTHR: 32, SIGLIBRT: 33,
};
export const SIG_MAXSIG = 128;
/** Signals whose default action is to discard them (sys/kern/kern_sig.c sigproptbl: SIGPROP_IGNORE). */
export const SIGNALS_IGNORED_BY_DEFAULT: ReadonlySet<string> = new Set(['SIGURG', 'SIGCONT', 'SIGCHLD', 'SIGIO', 'SIGWINCH', 'SIGINFO']);

/** Whether the single-bit `bit` (a power of two, possibly 2^31 or more) is set in `word`. */
export function hasBit(word: number, bit: number): boolean {
  return Math.floor(word / bit) % 2 === 1;
}

/** `word` has a bit outside `allowed` (both unsigned words of at most 53 bits). */
export function hasBitsOutside(word: number, allowed: number): boolean {
  for (let b = 1; b <= word; b *= 2) if (hasBit(word, b) && !hasBit(allowed, b)) return true;
  return false;
}

export function roundPage(x: number): number {
  return Math.ceil(x / PAGE_SIZE) * PAGE_SIZE;
}

export function truncPage(x: number): number {
  return Math.floor(x / PAGE_SIZE) * PAGE_SIZE;
}
