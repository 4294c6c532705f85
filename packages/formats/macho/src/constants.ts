/** Mach-O constants (Apple's <mach-o/loader.h>, <mach-o/fat.h>, <mach/machine.h>). */

export const MH_MAGIC = 0xfeedface;
export const MH_CIGAM = 0xcefaedfe;
export const MH_MAGIC_64 = 0xfeedfacf;
export const MH_CIGAM_64 = 0xcffaedfe;
export const FAT_MAGIC = 0xcafebabe;
export const FAT_MAGIC_64 = 0xcafebabf;

export const CPU_ARCH_ABI64 = 0x01000000;
export const CPU_TYPE_NAMES: Record<number, string> = {
  7: 'I386', 0x01000007: 'X86_64', 12: 'ARM', 0x0100000c: 'ARM64', 0x0200000c: 'ARM64_32', 18: 'POWERPC', 0x01000012: 'POWERPC64',
};
/** uname-style names for the image model. */
export const CPU_SHORT: Record<number, string> = {
  7: 'i386', 0x01000007: 'x86_64', 12: 'arm', 0x0100000c: 'aarch64', 0x0200000c: 'arm64_32', 18: 'ppc', 0x01000012: 'ppc64',
};

export const MH_FILETYPES: Record<number, string> = {
  1: 'OBJECT', 2: 'EXECUTE', 3: 'FVMLIB', 4: 'CORE', 5: 'PRELOAD', 6: 'DYLIB', 7: 'DYLINKER', 8: 'BUNDLE',
  9: 'DYLIB_STUB', 10: 'DSYM', 11: 'KEXT_BUNDLE', 12: 'FILESET',
};
/** Kinds for the image model's `kind`. */
export const MH_KIND: Record<number, string> = {
  1: 'object', 2: 'exec', 4: 'core', 6: 'dylib', 7: 'dylinker', 8: 'bundle', 9: 'dylib', 10: 'dsym', 11: 'kext', 12: 'fileset',
};

export const MH_FLAGS: [number, string][] = [
  [0x1, 'NOUNDEFS'], [0x2, 'INCRLINK'], [0x4, 'DYLDLINK'], [0x8, 'BINDATLOAD'], [0x10, 'PREBOUND'], [0x20, 'SPLIT_SEGS'],
  [0x40, 'LAZY_INIT'], [0x80, 'TWOLEVEL'], [0x100, 'FORCE_FLAT'], [0x200, 'NOMULTIDEFS'], [0x400, 'NOFIXPREBINDING'],
  [0x800, 'PREBINDABLE'], [0x1000, 'ALLMODSBOUND'], [0x2000, 'SUBSECTIONS_VIA_SYMBOLS'], [0x4000, 'CANONICAL'],
  [0x8000, 'WEAK_DEFINES'], [0x10000, 'BINDS_TO_WEAK'], [0x20000, 'ALLOW_STACK_EXECUTION'], [0x40000, 'ROOT_SAFE'],
  [0x80000, 'SETUID_SAFE'], [0x100000, 'NO_REEXPORTED_DYLIBS'], [0x200000, 'PIE'], [0x400000, 'DEAD_STRIPPABLE_DYLIB'],
  [0x800000, 'HAS_TLV_DESCRIPTORS'], [0x1000000, 'NO_HEAP_EXECUTION'], [0x2000000, 'APP_EXTENSION_SAFE'],
];

export const LC_REQ_DYLD = 0x80000000;
export const LC = {
  SEGMENT: 0x1, SYMTAB: 0x2, THREAD: 0x4, UNIXTHREAD: 0x5, DYSYMTAB: 0xb, LOAD_DYLIB: 0xc, ID_DYLIB: 0xd,
  LOAD_DYLINKER: 0xe, ID_DYLINKER: 0xf, SUB_FRAMEWORK: 0x12, TWOLEVEL_HINTS: 0x16, LOAD_WEAK_DYLIB: 0x80000018,
  SEGMENT_64: 0x19, ROUTINES_64: 0x1a, UUID: 0x1b, RPATH: 0x8000001c, CODE_SIGNATURE: 0x1d, SEGMENT_SPLIT_INFO: 0x1e,
  REEXPORT_DYLIB: 0x8000001f, LAZY_LOAD_DYLIB: 0x20, ENCRYPTION_INFO: 0x21, DYLD_INFO: 0x22, DYLD_INFO_ONLY: 0x80000022,
  LOAD_UPWARD_DYLIB: 0x80000023, VERSION_MIN_MACOSX: 0x24, VERSION_MIN_IPHONEOS: 0x25, FUNCTION_STARTS: 0x26,
  DYLD_ENVIRONMENT: 0x27, MAIN: 0x80000028, DATA_IN_CODE: 0x29, SOURCE_VERSION: 0x2a, DYLIB_CODE_SIGN_DRS: 0x2b,
  ENCRYPTION_INFO_64: 0x2c, LINKER_OPTION: 0x2d, LINKER_OPTIMIZATION_HINT: 0x2e, VERSION_MIN_TVOS: 0x2f,
  VERSION_MIN_WATCHOS: 0x30, NOTE: 0x31, BUILD_VERSION: 0x32, DYLD_EXPORTS_TRIE: 0x80000033,
  DYLD_CHAINED_FIXUPS: 0x80000034, FILESET_ENTRY: 0x80000035,
} as const;

export const LC_NAMES: Record<number, string> = Object.fromEntries(Object.entries(LC).map(([k, v]) => [v, `LC_${k}`]));

export const PLATFORMS: Record<number, string> = {
  1: 'macos', 2: 'ios', 3: 'tvos', 4: 'watchos', 5: 'bridgeos', 6: 'maccatalyst', 7: 'iossimulator', 8: 'tvossimulator',
  9: 'watchossimulator', 10: 'driverkit', 11: 'visionos', 12: 'visionossimulator',
};
