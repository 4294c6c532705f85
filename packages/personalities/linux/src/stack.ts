/**
 * The initial user stack execve builds (fs/exec.c copy_strings, fs/binfmt_elf.c create_elf_tables),
 * byte for byte for x86-64 with address-space randomisation off. From the top down:
 *
 *   STACK_TOP_MAX - 8 .. top   a NULL pointer's worth of zeros (bprm->p starts below it)
 *   the file name (AT_EXECFN), then envp strings, then argv strings, each NUL-terminated, copied
 *     last one first so argv[0] ends up lowest
 *   (aligned down to 16: arch_align_stack)
 *   the platform string "x86_64" (AT_PLATFORM), then AT_RANDOM's 16 bytes
 *   padding, then from sp upwards: argc, argv[], NULL, envp[], NULL, the auxv pairs, AT_NULL
 *   (sp is rounded down to 16: STACK_ROUND)
 */

/** The auxiliary vector's entry types (include/uapi/linux/auxvec.h, arch/x86/include/uapi/asm/auxvec.h). */
export const AT = {
  NULL: 0, IGNORE: 1, EXECFD: 2, PHDR: 3, PHENT: 4, PHNUM: 5, PAGESZ: 6, BASE: 7, FLAGS: 8, ENTRY: 9,
  NOTELF: 10, UID: 11, EUID: 12, GID: 13, EGID: 14, PLATFORM: 15, HWCAP: 16, CLKTCK: 17, SECURE: 23,
  BASE_PLATFORM: 24, RANDOM: 25, HWCAP2: 26, RSEQ_FEATURE_SIZE: 27, RSEQ_ALIGN: 28, EXECFN: 31,
  SYSINFO_EHDR: 33, MINSIGSTKSZ: 51,
} as const;

/** Names of the AT_* types, for `polykernel exec --auxv` and LD_SHOW_AUXV-style listings. */
export const AT_NAMES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(AT).map(([k, v]) => [v, `AT_${k}`]));

export interface StackStrings {
  /** bprm->filename as the caller passed it (AT_EXECFN points at it). */
  filename: string;
  argv: readonly string[];
  envp: readonly string[];
}

/** Where copy_strings put everything: the strings' addresses and the lowest byte written. */
export interface StringLayout {
  execfn: number;
  argv: number[];
  envp: number[];
  /** bprm->p after the copies: mm->arg_start. */
  p: number;
  argEnd: number;
  envStart: number;
  envEnd: number;
}

const encoder = new TextEncoder();

/** The image of the stack being built: bytes from `base` up to `top`, written top-down. */
export class StackImage {
  readonly bytes: Uint8Array;
  private readonly view: DataView;
  constructor(readonly base: number, readonly top: number) {
    this.bytes = new Uint8Array(top - base);
    this.view = new DataView(this.bytes.buffer);
  }

  put(addr: number, data: Uint8Array): void {
    this.bytes.set(data, addr - this.base);
  }

  putWord(addr: number, value: number): void {
    this.view.setBigUint64(addr - this.base, BigInt(value), true);
  }

  /** The bytes from `from` to the top (what a debugger reads from sp upwards). */
  from(from: number): Uint8Array {
    return this.bytes.subarray(from - this.base);
  }
}

/**
 * copy_strings: the file name first (at the very top, below the NULL word), then the environment,
 * then the arguments, each vector last string first. `top` is STACK_TOP_MAX.
 */
export function copyStrings(img: StackImage, top: number, s: StackStrings): StringLayout {
  let p = top - 8;
  const push = (str: string): number => {
    const b = encoder.encode(str);
    p -= b.length + 1;
    img.put(p, b);
    return p;
  };
  const execfn = push(s.filename);
  const envEnd = p;
  const envp = s.envp.map(() => 0);
  for (let i = s.envp.length - 1; i >= 0; i--) envp[i] = push(s.envp[i]!);
  const envStart = p;
  const argv = s.argv.map(() => 0);
  for (let i = s.argv.length - 1; i >= 0; i--) argv[i] = push(s.argv[i]!);
  return { execfn, argv, envp, p, argEnd: envStart, envStart, envEnd };
}

/** Bytes copy_strings needs for these strings (to size the stack before building it). */
export function stringBytes(s: StackStrings): number {
  let n = 8 + encoder.encode(s.filename).length + 1;
  for (const a of [...s.argv, ...s.envp]) n += encoder.encode(a).length + 1;
  return n;
}

export interface ElfTables {
  sp: number;
  platform: number;
  random: number;
  auxvAt: number;
}

/**
 * create_elf_tables from `p` (the lowest string byte) down: platform string, random bytes, then
 * argc/argv/envp/auxv at the 16-aligned sp. `auxv` is given without AT_RANDOM's and AT_PLATFORM's
 * values (they are only known here): pass 0 for them and they are filled in; AT_NULL is added.
 */
export function createElfTables(img: StackImage, strings: StringLayout, platform: string, randomBytes: Uint8Array, auxv: [number, number][]): { tables: ElfTables; auxv: [number, number][] } {
  let p = strings.p - (strings.p % 16); // arch_align_stack without randomisation: sp & ~0xf
  const plat = encoder.encode(platform);
  p -= plat.length + 1;
  const uPlatform = p;
  img.put(p, plat);
  p -= 16;
  const uRandom = p;
  img.put(p, randomBytes.subarray(0, 16));
  const full: [number, number][] = auxv.map(([t, v]) => [t, t === AT.RANDOM ? uRandom : t === AT.PLATFORM ? uPlatform : v]);
  full.push([AT.NULL, 0]);
  const eiIndex = full.length * 2;
  let sp = p - eiIndex * 8;
  const items = strings.argv.length + 1 + (strings.envp.length + 1) + 1;
  sp -= items * 8;
  sp -= sp % 16; // STACK_ROUND
  let w = sp;
  const word = (v: number): void => {
    img.putWord(w, v);
    w += 8;
  };
  word(strings.argv.length);
  for (const a of strings.argv) word(a);
  word(0);
  for (const e of strings.envp) word(e);
  word(0);
  const auxvAt = w;
  for (const [t, v] of full) {
    word(t);
    word(v);
  }
  return { tables: { sp, platform: uPlatform, random: uRandom, auxvAt }, auxv: full };
}
