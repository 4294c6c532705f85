/**
 * Numeric constants of the ELF gABI, the GNU and FreeBSD extensions, and the names readelf prints.
 * Sources: the System V gABI, glibc elf/elf.h, binutils include/elf/common.h.
 */

export const ELFCLASS32 = 1;
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const ELFDATA2MSB = 2;

export const ET_NONE = 0;
export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;
export const ET_CORE = 4;

export const OSABI_NAMES: Record<number, string> = {
  0: 'UNIX - System V', 1: 'UNIX - HP-UX', 2: 'UNIX - NetBSD', 3: 'UNIX - GNU', 6: 'UNIX - Solaris',
  7: 'UNIX - AIX', 8: 'UNIX - IRIX', 9: 'UNIX - FreeBSD', 10: 'UNIX - TRU64', 12: 'UNIX - OpenBSD',
  97: 'ARM', 255: 'Standalone App',
};
/** Short OSABI names for JSON. */
export const OSABI_SHORT: Record<number, string> = {
  0: 'sysv', 1: 'hpux', 2: 'netbsd', 3: 'linux', 6: 'solaris', 9: 'freebsd', 12: 'openbsd', 97: 'arm', 255: 'standalone',
};

export const EM_386 = 3;
export const EM_MIPS = 8;
export const EM_PPC = 20;
export const EM_PPC64 = 21;
export const EM_S390 = 22;
export const EM_ARM = 40;
export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;
export const EM_RISCV = 243;
export const EM_LOONGARCH = 258;

/** readelf's "Machine:" text. */
export const MACHINE_NAMES: Record<number, string> = {
  0: 'None', 2: 'Sparc', 3: 'Intel 80386', 4: 'MC68000', 8: 'MIPS R3000', 20: 'PowerPC', 21: 'PowerPC64',
  22: 'IBM S/390', 40: 'ARM', 42: 'Renesas / SuperH SH', 43: 'Sparc v9', 50: 'Intel IA-64',
  62: 'Advanced Micro Devices X86-64', 183: 'AArch64', 243: 'RISC-V', 247: 'Linux BPF', 258: 'LoongArch',
};

/** The short machine names our JSON uses (uname -m style), by machine and class. */
export function machineShortName(machine: number, is64: boolean): string {
  switch (machine) {
    case EM_X86_64: return 'x86_64';
    case EM_386: return 'i386';
    case EM_AARCH64: return 'aarch64';
    case EM_ARM: return 'arm';
    case EM_RISCV: return is64 ? 'riscv64' : 'riscv32';
    case EM_PPC: return 'ppc';
    case EM_PPC64: return 'ppc64';
    case EM_MIPS: return is64 ? 'mips64' : 'mips';
    case EM_S390: return is64 ? 's390x' : 's390';
    case EM_LOONGARCH: return 'loongarch64';
    case 2: return 'sparc';
    case 43: return 'sparcv9';
    case 50: return 'ia64';
    case 247: return 'bpf';
    default: return `em${machine}`;
  }
}

export const PT_NULL = 0;
export const PT_LOAD = 1;
export const PT_DYNAMIC = 2;
export const PT_INTERP = 3;
export const PT_NOTE = 4;
export const PT_SHLIB = 5;
export const PT_PHDR = 6;
export const PT_TLS = 7;
export const PT_GNU_EH_FRAME = 0x6474e550;
export const PT_GNU_STACK = 0x6474e551;
export const PT_GNU_RELRO = 0x6474e552;
export const PT_GNU_PROPERTY = 0x6474e553;
export const PT_GNU_SFRAME = 0x6474e554;

export const PT_NAMES: Record<number, string> = {
  0: 'NULL', 1: 'LOAD', 2: 'DYNAMIC', 3: 'INTERP', 4: 'NOTE', 5: 'SHLIB', 6: 'PHDR', 7: 'TLS',
  0x6474e550: 'GNU_EH_FRAME', 0x6474e551: 'GNU_STACK', 0x6474e552: 'GNU_RELRO', 0x6474e553: 'GNU_PROPERTY',
  0x6474e554: 'GNU_SFRAME', 0x65a3dbe6: 'OPENBSD_RANDOMIZE', 0x65a3dbe7: 'OPENBSD_WXNEEDED', 0x70000001: 'LOPROC+0x1',
};

export const PF_X = 1;
export const PF_W = 2;
export const PF_R = 4;

export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_HASH = 5;
export const SHT_DYNAMIC = 6;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_DYNSYM = 11;
export const SHT_RELR = 19;
export const SHT_GNU_HASH = 0x6ffffff6;
export const SHT_GNU_VERDEF = 0x6ffffffd;
export const SHT_GNU_VERNEED = 0x6ffffffe;
export const SHT_GNU_VERSYM = 0x6fffffff;

export const SHT_NAMES: Record<number, string> = {
  0: 'NULL', 1: 'PROGBITS', 2: 'SYMTAB', 3: 'STRTAB', 4: 'RELA', 5: 'HASH', 6: 'DYNAMIC', 7: 'NOTE',
  8: 'NOBITS', 9: 'REL', 10: 'SHLIB', 11: 'DYNSYM', 14: 'INIT_ARRAY', 15: 'FINI_ARRAY', 16: 'PREINIT_ARRAY',
  17: 'GROUP', 18: 'SYMTAB SECTION INDICES', 19: 'RELR', 0x6ffffff5: 'GNU_ATTRIBUTES', 0x6ffffff6: 'GNU_HASH',
  0x6ffffff7: 'GNU_LIBLIST', 0x6ffffffd: 'VERDEF', 0x6ffffffe: 'VERNEED', 0x6fffffff: 'VERSYM',
  0x6fff4c00: 'LLVM_ODRTAB', 0x6fff4c01: 'LLVM_LINKER_OPTIONS', 0x6fff4c03: 'LLVM_ADDRSIG',
  0x6fff4c0c: 'LLVM_CALL_GRAPH_PROFILE', 0x70000001: 'LOPROC+0x1', 0x70000003: 'LOPROC+0x3',
  0x6ffffff9: 'GNU_SFRAME',
};

/** Section flags, with the letters readelf prints in its Flg column (W A X M S I L O G T C x o E). */
export const SECTION_FLAG_LETTERS: [number, string][] = [
  [0x1, 'W'], [0x2, 'A'], [0x4, 'X'], [0x10, 'M'], [0x20, 'S'], [0x40, 'I'], [0x80, 'L'], [0x100, 'O'],
  [0x200, 'G'], [0x400, 'T'], [0x800, 'C'], [0x200000, 'R'], [0x80000000, 'E'],
];

export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const SHN_XINDEX = 0xffff;

export const STB_NAMES = ['LOCAL', 'GLOBAL', 'WEAK'];
export const STT_NAMES = ['NOTYPE', 'OBJECT', 'FUNC', 'SECTION', 'FILE', 'COMMON', 'TLS'];
export const STV_NAMES = ['DEFAULT', 'INTERNAL', 'HIDDEN', 'PROTECTED'];

export function symbolBindName(bind: number): string {
  if (bind === 10) return 'UNIQUE';
  return STB_NAMES[bind] ?? `<OS specific>: ${bind}`;
}

export function symbolTypeName(type: number): string {
  if (type === 10) return 'IFUNC';
  return STT_NAMES[type] ?? `<OS specific>: ${type}`;
}

export const DT = {
  NULL: 0, NEEDED: 1, PLTRELSZ: 2, PLTGOT: 3, HASH: 4, STRTAB: 5, SYMTAB: 6, RELA: 7, RELASZ: 8,
  RELAENT: 9, STRSZ: 10, SYMENT: 11, INIT: 12, FINI: 13, SONAME: 14, RPATH: 15, SYMBOLIC: 16, REL: 17,
  RELSZ: 18, RELENT: 19, PLTREL: 20, DEBUG: 21, TEXTREL: 22, JMPREL: 23, BIND_NOW: 24, INIT_ARRAY: 25,
  FINI_ARRAY: 26, INIT_ARRAYSZ: 27, FINI_ARRAYSZ: 28, RUNPATH: 29, FLAGS: 30, PREINIT_ARRAY: 32,
  PREINIT_ARRAYSZ: 33, SYMTAB_SHNDX: 34, RELRSZ: 35, RELR: 36, RELRENT: 37, GNU_HASH: 0x6ffffef5,
  VERSYM: 0x6ffffff0, RELACOUNT: 0x6ffffff9, RELCOUNT: 0x6ffffffa, FLAGS_1: 0x6ffffffb,
  VERDEF: 0x6ffffffc, VERDEFNUM: 0x6ffffffd, VERNEED: 0x6ffffffe, VERNEEDNUM: 0x6fffffff,
} as const;

/** readelf's names for dynamic tags (the text inside the parentheses). */
export const DT_NAMES: Record<number, string> = {
  0: 'NULL', 1: 'NEEDED', 2: 'PLTRELSZ', 3: 'PLTGOT', 4: 'HASH', 5: 'STRTAB', 6: 'SYMTAB', 7: 'RELA',
  8: 'RELASZ', 9: 'RELAENT', 10: 'STRSZ', 11: 'SYMENT', 12: 'INIT', 13: 'FINI', 14: 'SONAME', 15: 'RPATH',
  16: 'SYMBOLIC', 17: 'REL', 18: 'RELSZ', 19: 'RELENT', 20: 'PLTREL', 21: 'DEBUG', 22: 'TEXTREL',
  23: 'JMPREL', 24: 'BIND_NOW', 25: 'INIT_ARRAY', 26: 'FINI_ARRAY', 27: 'INIT_ARRAYSZ', 28: 'FINI_ARRAYSZ',
  29: 'RUNPATH', 30: 'FLAGS', 32: 'PREINIT_ARRAY', 33: 'PREINIT_ARRAYSZ', 34: 'SYMTAB_SHNDX', 35: 'RELRSZ',
  36: 'RELR', 37: 'RELRENT', 0x6ffffef5: 'GNU_HASH', 0x6ffffff0: 'VERSYM', 0x6ffffff9: 'RELACOUNT',
  0x6ffffffa: 'RELCOUNT', 0x6ffffffb: 'FLAGS_1', 0x6ffffffc: 'VERDEF', 0x6ffffffd: 'VERDEFNUM',
  0x6ffffffe: 'VERNEED', 0x6fffffff: 'VERNEEDNUM', 0x6ffffdf5: 'GNU_PRELINKED', 0x6ffffef6: 'TLSDESC_PLT',
  0x6ffffef7: 'TLSDESC_GOT', 0x6ffffdf8: 'CHECKSUM', 0x6ffffdfe: 'SYMINSZ', 0x6ffffdff: 'SYMINENT',
  0x6ffffeff: 'SYMINFO', 0x7ffffffd: 'AUXILIARY', 0x7fffffff: 'FILTER', 0x6000000d: 'FREEBSD: 0x6000000d',
};

export const DF_ORIGIN = 0x1;
export const DF_SYMBOLIC = 0x2;
export const DF_TEXTREL = 0x4;
export const DF_BIND_NOW = 0x8;
export const DF_STATIC_TLS = 0x10;
export const DF_NAMES: [number, string][] = [[1, 'ORIGIN'], [2, 'SYMBOLIC'], [4, 'TEXTREL'], [8, 'BIND_NOW'], [0x10, 'STATIC_TLS']];

export const DF_1_NOW = 0x1;
export const DF_1_PIE = 0x08000000;
export const DF_1_NAMES: [number, string][] = [
  [0x1, 'NOW'], [0x2, 'GLOBAL'], [0x4, 'GROUP'], [0x8, 'NODELETE'], [0x10, 'LOADFLTR'], [0x20, 'INITFIRST'],
  [0x40, 'NOOPEN'], [0x80, 'ORIGIN'], [0x100, 'DIRECT'], [0x200, 'TRANS'], [0x400, 'INTERPOSE'],
  [0x800, 'NODEFLIB'], [0x1000, 'NODUMP'], [0x2000, 'CONFALT'], [0x4000, 'ENDFILTEE'], [0x8000, 'DISPRELDNE'],
  [0x10000, 'DISPRELPND'], [0x20000, 'NODIRECT'], [0x40000, 'IGNMULDEF'], [0x80000, 'NOKSYMS'],
  [0x100000, 'NOHDR'], [0x200000, 'EDITED'], [0x400000, 'NORELOC'], [0x800000, 'SYMINTPOSE'],
  [0x1000000, 'GLOBAUDIT'], [0x2000000, 'SINGLETON'], [0x4000000, 'STUB'], [0x8000000, 'PIE'],
  [0x10000000, 'KMOD'], [0x20000000, 'WEAKFILTER'], [0x40000000, 'NOCOMMON'],
];

export const NT_GNU_ABI_TAG = 1;
export const NT_GNU_HWCAP = 2;
export const NT_GNU_BUILD_ID = 3;
export const NT_GNU_GOLD_VERSION = 4;
export const NT_GNU_PROPERTY_TYPE_0 = 5;
export const NT_FREEBSD_ABI_TAG = 1;
