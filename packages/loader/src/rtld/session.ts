/**
 * The run-time linker's state for one program: the link maps (glibc struct link_map), the search
 * directories with their per-capability status (struct r_search_path_elem), the minimal malloc,
 * the counters LD_DEBUG=statistics prints and the narration `explain ld.so` shows.
 */
import type { ElfFile } from '@polykernel/elf';
import type { RtldConventions } from './conventions.js';
import type { LdCache } from './ldcache.js';
import { MinimalMalloc } from './minimal-malloc.js';
import type { RtldSystem } from './system.js';

export type DirStatus = 'unknown' | 'nonexisting' | 'existing';

/** One search-path directory (dirname with its trailing slash) and the status of each capability subdirectory. */
export interface SearchDir {
  dirname: string;
  status: DirStatus[];
}

export interface TlsModule {
  modid: number;
  blocksize: number;
  align: number;
  firstbyte: number;
  /** TLS_TCB_AT_TP: the block starts `offset` bytes below the thread pointer. */
  offset: number;
  initAddr: number;
  initSize: number;
}

export interface LinkMap {
  /** l_name: the path it was opened by ('' for the program, its soname for the vDSO). */
  name: string;
  /** The names it answers to (l_libname): the DT_NEEDED strings that found it. */
  libnames: string[];
  kind: 'main' | 'rtld' | 'vdso' | 'lib';
  elf: ElfFile | null;
  /** l_addr: the load bias. */
  addr: number;
  mapStart: number;
  mapEnd: number;
  /** "dev:ino" of the file (_dl_map_object_from_fd's same-file check). */
  fileId: string;
  loader: LinkMap | null;
  /** This object's own dependencies, DT_NEEDED order, as link maps (its l_initfini before sorting). */
  deps: LinkMap[];
  origin: string;
  rpath: SearchDir[] | null;
  runpath: SearchDir[] | null;
  tls: TlsModule | null;
  relro: { start: number; end: number } | null;
  relocated: boolean;
  /** Where ld.so's struct link_map for it was allocated (GOT[1] under lazy binding). */
  structAddr: number;
  /** Segments mapped: [start, end, prot] at run-time addresses. */
  segments: [number, number, number][];
}

export interface RtldStats {
  /** Relocations processed, by type name (R_X86_64_RELATIVE ...). */
  relocations: Record<string, number>;
  /** Symbol lookups (_dl_lookup_symbol_x calls) and how many objects' hash tables they probed. */
  lookups: number;
  hashProbes: number;
  /** PLT slots left for lazy binding (their GOT entry points back at the PLT). */
  lazySlots: number;
  /** IFUNC resolvers and IRELATIVE relocations that would run code: recorded, not run. */
  ifuncNotRun: number;
  copies: number;
}

export class Session {
  readonly maps: LinkMap[] = [];
  readonly dirs = new Map<string, SearchDir>();
  readonly malloc: MinimalMalloc;
  cache: LdCache | null | undefined = undefined;
  cacheMapping: { addr: number; size: number } | null = null;
  readonly stats: RtldStats = { relocations: {}, lookups: 0, hashProbes: 0, lazySlots: 0, ifuncNotRun: 0, copies: 0 };
  readonly steps: string[] = [];
  envPath: SearchDir[] | null = null;
  systemDirs: SearchDir[] = [];
  nextModid = 1;

  constructor(readonly sys: RtldSystem, readonly conv: RtldConventions, rtldEnd: number, readonly argv0: string, readonly scratch: number) {
    this.malloc = new MinimalMalloc(sys, rtldEnd, conv.mallocAlign);
  }

  step(s: string): void {
    this.steps.push(s);
  }

  count(typeName: string): void {
    this.stats.relocations[typeName] = (this.stats.relocations[typeName] ?? 0) + 1;
  }

  /** The directory entry for `dirname`, shared by every path list that names it (_dl_all_dirs). */
  dir(dirname: string, allocSize: number | null): SearchDir {
    // Relative directories (and '', the current one) are never stat'ed: they count as existing.
    const hit = this.dirs.get(dirname);
    if (hit !== undefined) return hit;
    if (allocSize !== null) this.malloc.malloc(allocSize, `r_search_path_elem ${dirname}`);
    const init: DirStatus = dirname.startsWith('/') ? 'unknown' : 'existing';
    const d: SearchDir = { dirname, status: this.conv.capabilitySubdirs.map(() => init) };
    this.dirs.set(dirname, d);
    return d;
  }
}
