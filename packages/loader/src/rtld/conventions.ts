/**
 * What differs between run-time linkers that share the mechanism: file names, search
 * directories, the sizes of ld.so's own bookkeeping allocations and TLS constants. The glibc
 * values are glibc 2.36's (Debian 12) on x86-64; each is cited to its source. The structure
 * sizes were read from the host's ld.so debug information (libc6-dbg, `gdb -batch -ex 'p
 * sizeof(struct link_map)' /lib64/ld-linux-x86-64.so.2`), the allocation sequence they feed was
 * checked against a gdb breakpoint on __minimal_malloc (tools/fixtures/rtld/minimal-malloc.sh).
 */

export interface RtldConventions {
  name: string;
  /** The cache file of sonames (null: none). */
  cachePath: string | null;
  cacheKind: 'glibc-ld.so.cache' | 'freebsd-hints' | null;
  /** /etc/ld.so.preload, checked with access(R_OK) before anything is loaded (null: none). */
  preloadPath: string | null;
  /** The compiled-in default directories (SYSTEM_DIRS), trailing slash as ld.so keeps them. */
  systemDirs: string[];
  /**
   * The capability subdirectories tried in each search-path directory, best first, ending with
   * '' (the directory itself): glibc-hwcaps/… and the legacy platform/hwcap combinations
   * (elf/dl-hwcaps.c _dl_important_hwcaps; what strace shows under LD_LIBRARY_PATH).
   */
  capabilitySubdirs: string[];
  /** The glibc-hwcaps subdirectories the CPU supports, best first (cache entries for them win). */
  activeHwcaps: string[];
  /** open_verify's first read (sizeof fbp->buf: 832 bytes for ELFCLASS64). */
  headerRead: number;
  /** ld.so's own bookkeeping sizes. */
  sizes: {
    /** sizeof (struct link_map). */
    linkMap: number;
    /** sizeof (struct auditstate); the main map and vDSO reserve DL_NNS of them. */
    auditState: number;
    dlNns: number;
    /** sizeof (struct libname_list). */
    libnameList: number;
    /** sizeof (struct r_search_path_elem). */
    searchPathElem: number;
    /** sizeof (struct r_found_version). */
    foundVersion: number;
    /** compute_priorities' array for the glibc-hwcaps subdirectories (16 bytes each). */
    hwcapsPriorities: number;
    /** _dl_important_hwcaps' one allocation (r_strlenpair array and strings) for this CPU. */
    importantHwcaps: number;
    /** The vDSO's highest version index + 1 (its l_versions array, _dl_check_map_versions). */
    vdsoVersions: number;
    /** sizeof (struct dl_find_object_internal), one per initially loaded object. */
    findObject: number;
  };
  tls: {
    /** TLS_TCB_SIZE: sizeof (struct pthread). */
    tcbSize: number;
    /** TCB_ALIGNMENT. */
    tcbAlign: number;
    /** _dl_tls_static_surplus_init: (nns - 1) * LIBC_IE_TLS + nns * OTHER_IE_TLS + optional_static_tls. */
    staticSurplus: number;
    /** DTV_SURPLUS (elf/dl-tls.c). */
    dtvSurplus: number;
    /** TLS_SLOTINFO_SURPLUS (elf/dl-tls.c). */
    slotinfoSurplus: number;
    /** Offsets in struct pthread of tid, robust_head and the rseq area (__tls_init_tp's system calls), and the rseq size and signature; null: no such calls. */
    threadInit: { tid: number; robustHead: number; rseq: number; rseqSize: number; rseqSig: number } | null;
  };
  /** MALLOC_ALIGNMENT of the minimal malloc. */
  mallocAlign: number;
  /**
   * How the span is reserved: glibc maps the first segment over the whole span and makes the hole
   * PROT_NONE; FreeBSD reserves the span with an anonymous PROT_NONE mapping and lays every
   * segment over it, so the holes stay as guard entries.
   */
  holes: 'mprotect-none' | 'guard';
  /** The OS's mmap flag values (they differ: MAP_ANON is 0x20 on Linux, 0x1000 on FreeBSD). */
  mapFlags: { private: number; fixed: number; anonymous: number; denywrite: number; nocore: number };
}

/** glibc 2.36 (Debian 12 "bookworm") on an x86-64-v4 CPU. */
export const GLIBC_2_36_X86_64: RtldConventions = {
  name: 'glibc-2.36-x86_64',
  cachePath: '/etc/ld.so.cache',
  cacheKind: 'glibc-ld.so.cache',
  preloadPath: '/etc/ld.so.preload',
  // Debian's multiarch SYSTEM_DIRS (elf/dl-load.c with debian/patches/any/local-ldso-multiarch).
  systemDirs: ['/lib/x86_64-linux-gnu/', '/usr/lib/x86_64-linux-gnu/', '/lib/', '/usr/lib/'],
  capabilitySubdirs: [
    'glibc-hwcaps/x86-64-v4/', 'glibc-hwcaps/x86-64-v3/', 'glibc-hwcaps/x86-64-v2/',
    // The legacy combinations of "tls", the platform and the hwcap name (2.36 still has them).
    'tls/x86_64/x86_64/', 'tls/x86_64/', 'tls/x86_64/', 'tls/', 'x86_64/x86_64/', 'x86_64/', 'x86_64/', '',
  ],
  activeHwcaps: ['x86-64-v4', 'x86-64-v3', 'x86-64-v2'],
  headerRead: 832,
  sizes: {
    linkMap: 1192, auditState: 16, dlNns: 16, libnameList: 24, searchPathElem: 40, foundVersion: 24,
    hwcapsPriorities: 48, importantHwcaps: 274, vdsoVersions: 3, findObject: 32,
  },
  tls: {
    tcbSize: 2368,
    tcbAlign: 64,
    // nns = 4 (DEFAULT_NNS), LIBC_IE_TLS 192, OTHER_IE_TLS 144, optional_static_tls 512.
    staticSurplus: 3 * 192 + 4 * 144 + 512,
    dtvSurplus: 14,
    slotinfoSurplus: 62,
    // sysdeps/nptl/dl-tls_init_tp.c; the offsets are struct pthread's (gdb: p &((struct pthread *) 0)->tid).
    threadInit: { tid: 720, robustHead: 736, rseq: 2336, rseqSize: 32, rseqSig: 0x53053053 },
  },
  mallocAlign: 16,
  holes: 'mprotect-none',
  mapFlags: { private: 0x02, fixed: 0x10, anonymous: 0x20, denywrite: 0x800, nocore: 0 },
};

/**
 * FreeBSD 14 ld-elf.so.1 (libexec/rtld-elf): the hints file instead of a cache, /lib:/usr/lib
 * as the standard path, no capability subdirectories, and segments mapped one by one with the
 * hole between them left as a guard (rtld-elf/map_object.c: the whole span is reserved
 * PROT_NONE by mmap, then each segment MAP_FIXED over it; the `---` entries procstat shows).
 */
export const FREEBSD_14_X86_64: RtldConventions = {
  name: 'freebsd-14-x86_64',
  cachePath: '/var/run/ld-elf.so.hints',
  cacheKind: 'freebsd-hints',
  preloadPath: null,
  // STANDARD_LIBRARY_PATH (libexec/rtld-elf/paths.h).
  systemDirs: ['/lib/casper/', '/lib/', '/usr/lib/'],
  capabilitySubdirs: [''],
  activeHwcaps: [],
  headerRead: 4096,
  sizes: {
    linkMap: 0, auditState: 0, dlNns: 0, libnameList: 0, searchPathElem: 0, foundVersion: 0,
    hwcapsPriorities: 0, importantHwcaps: 0, vdsoVersions: 0, findObject: 0,
  },
  // RTLD_STATIC_TLS_EXTRA (rtld-elf/rtld.h); the TCB is two words (struct tcb: tcb_self, tcb_dtv).
  tls: { tcbSize: 16, tcbAlign: 16, staticSurplus: 128, dtvSurplus: 0, slotinfoSurplus: 0, threadInit: null },
  mallocAlign: 16,
  holes: 'guard',
  // sys/sys/mman.h: MAP_PRIVATE 0x2, MAP_FIXED 0x10, MAP_ANON 0x1000, MAP_NOCORE 0x20000.
  mapFlags: { private: 0x02, fixed: 0x10, anonymous: 0x1000, denywrite: 0, nocore: 0x20000 },
};
