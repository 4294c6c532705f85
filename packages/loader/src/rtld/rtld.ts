/**
 * The run-time linker from its first instruction to the program's entry point, in glibc 2.36's
 * order (elf/rtld.c _dl_start, dl_main): relocate itself, brk(0), the link maps of the program and
 * the vDSO, the search paths, /etc/ld.so.preload, the dependencies breadth first
 * (elf/dl-deps.c _dl_map_object_deps), the versions (elf/dl-version.c), the static TLS, the
 * relocation of every object in reverse initialisation order (elf/dl-sort-maps.c), RELRO,
 * __libc_early_init's getrlimit, and the unmapping of the cache. Constructors (DT_INIT,
 * DT_INIT_ARRAY) run code and are not run: the state returned is the one ld.so hands to _dl_init.
 */
import { FormatError } from '@polykernel/core';
import type { ElfFile } from '@polykernel/elf';
import type { RtldConventions } from './conventions.js';
import type { HashIndex } from './lookup.js';
import type { Allocation } from './minimal-malloc.js';
import { parseObject } from './map.js';
import { fixup, protectRelroOf, relocateObject, type RelocContext } from './reloc.js';
import { decomposeRpath, fillinRpath, mapObject, tlsModule } from './search.js';
import { Session, type LinkMap, type RtldStats } from './session.js';
import { initTls, type StaticTls } from './tls.js';
import { readVersions } from './versions.js';
import { R_OK, RLIMIT_STACK, RtldError, type RtldSystem } from './system.js';


export interface RtldInput {
  sys: RtldSystem;
  conventions: RtldConventions;
  /** argv[0], which ld.so's messages start with. */
  argv0: string;
  /** The environment strings (LD_LIBRARY_PATH, LD_BIND_NOW are honoured). */
  envp: readonly string[];
  program: { path: string; bytes: Uint8Array; loadBias: number };
  interpreter: { path: string; bytes: Uint8Array; base: number };
  /** A scratch buffer on the user stack for read/pread/fstat (ld.so's stack variables). */
  scratch: number;
}

export interface RtldResult {
  /** The global search list: the program, its dependencies breadth first, ld.so. */
  searchList: LinkMap[];
  /** Initialisation order (dependencies first), as _dl_init would run constructors. */
  initOrder: LinkMap[];
  tls: StaticTls;
  stats: RtldStats;
  allocations: Allocation[];
  steps: string[];
  /** Bind a lazy PLT slot of `object` (a path or '' for the program) as its first call would. */
  fixup(object: string, symbol: string): { got: number; before: bigint; after: bigint };
}

function env(envp: readonly string[], name: string): string | undefined {
  const e = envp.find((x) => x.startsWith(`${name}=`));
  return e?.slice(name.length + 1);
}

function fixedMap(kind: LinkMap['kind'], name: string, elf: ElfFile | null, addr: number, structAddr: number, origin: string): LinkMap {
  return {
    name, libnames: [], kind, elf, addr, mapStart: addr, mapEnd: addr, fileId: kind, loader: null, deps: [], origin,
    rpath: null, runpath: null, tls: null, relro: null, relocated: false, structAddr, segments: [],
  };
}

/** _dl_init_paths: capability strings, the system directories, the program's run paths, LD_LIBRARY_PATH. */
function initPaths(s: Session, main: LinkMap, llp: string | undefined): void {
  const sz = s.conv.sizes;
  if (sz.hwcapsPriorities > 0) s.malloc.malloc(sz.hwcapsPriorities, 'glibc-hwcaps priorities');
  if (sz.importantHwcaps > 0) s.malloc.malloc(sz.importantHwcaps, 'capability strings');
  const n = s.conv.systemDirs.length;
  s.malloc.malloc((n + 1) * 8, 'system search path list');
  const round = Math.floor((2 * sz.searchPathElem - 1 + s.conv.capabilitySubdirs.length * 4) / sz.searchPathElem);
  s.malloc.malloc(n * round * sz.searchPathElem, 'system search path elements');
  s.systemDirs = s.conv.systemDirs.map((d) => s.dir(d, null));
  const d = main.elf?.dynamic;
  if (d?.runpath !== null && d?.runpath !== undefined) main.runpath = decomposeRpath(s, main, d.runpath);
  else if (d?.rpath !== null && d?.rpath !== undefined) main.rpath = decomposeRpath(s, main, d.rpath);
  if (llp !== undefined && llp !== '') {
    const count = llp.split(/[:;]/).length;
    s.malloc.malloc((count + 1) * 8, 'LD_LIBRARY_PATH list');
    s.envPath = fillinRpath(s, main, llp, /[:;]/, null);
  }
}

/** _dl_map_object_deps: breadth first from the program; returns the search list. */
function mapDeps(s: Session, main: LinkMap): LinkMap[] {
  const list: LinkMap[] = [main];
  for (let i = 0; i < list.length; i++) {
    const l = list[i]!;
    for (const name of l.elf?.dynamic?.needed ?? []) {
      const dep = mapObject(s, l, name);
      if (!l.deps.includes(dep)) l.deps.push(dep);
      if (!list.includes(dep)) list.push(dep);
    }
    if (l !== main && l.deps.length > 0) s.malloc.malloc((2 * (l.deps.length + 1) + 1) * 8, `l_initfini of ${l.name}`);
  }
  s.malloc.malloc((2 * list.length + 1) * 8, 'search list');
  return list;
}

/** _dl_sort_maps_dfs: depth-first from the end, each object after everything that needs it. */
export function sortMaps(maps: readonly LinkMap[]): LinkMap[] {
  const visited = new Set<LinkMap>();
  const rpo: LinkMap[] = [];
  const visit = (m: LinkMap): void => {
    if (visited.has(m)) return;
    visited.add(m);
    for (const d of m.deps) if (!visited.has(d) && d.kind !== 'main') visit(d);
    rpo.unshift(m);
  };
  for (let i = maps.length - 1; i >= 0; i--) visit(maps[i]!);
  const main = maps[0]!;
  return [main, ...rpo.filter((m) => m !== main)];
}

/**
 * _dl_check_map_versions for each loaded object: its l_versions array, and each version it needs
 * defined by the file that should define it (a missing one is fatal unless weak; a file without
 * version definitions only earns a warning in the real ld.so, so it passes here).
 */
function checkVersions(s: Session, loaded: readonly LinkMap[]): void {
  for (const l of loaded) {
    if (l.kind === 'vdso') {
      if (s.conv.sizes.vdsoVersions > 0) s.malloc.calloc(s.conv.sizes.vdsoVersions, s.conv.sizes.foundVersion, 'l_versions of the vDSO');
      continue;
    }
    if (l.elf === null) continue;
    const v = readVersions(l.elf);
    if (v.needs.length === 0 && v.defs.length === 0) continue;
    s.malloc.calloc(v.highest + 1, s.conv.sizes.foundVersion, `l_versions of ${l.name || s.argv0}`);
    for (const need of v.needs) {
      const provider = loaded.find((m) => m.libnames.includes(need.file) || m.name === need.file || m.elf?.dynamic?.soname === need.file);
      if (provider?.elf === null || provider === undefined) continue;
      const defined = readVersions(provider.elf).defs;
      if (defined.length === 0) continue;
      const missing = need.versions.find((x) => !x.weak && !defined.some((d) => d.name === x.name));
      if (missing !== undefined) {
        throw new RtldError(`${s.argv0}: ${provider.name}: version \`${missing.name}' not found (required by ${l.name || s.argv0})`);
      }
    }
  }
}

/** The loaded list (l_next order): program, vDSO, libraries in load order, ld.so after its predecessor in the search list. */
function loadedOrder(s: Session, search: readonly LinkMap[], rtld: LinkMap): LinkMap[] {
  const others = s.maps.filter((m) => m !== rtld);
  const at = search.indexOf(rtld);
  if (at <= 0) return [...others, rtld];
  const prev = search[at - 1]!;
  const i = others.indexOf(prev);
  return [...others.slice(0, i + 1), rtld, ...others.slice(i + 1)];
}

/**
 * Run ld.so: everything up to the program's entry point (constructors excepted). A malformed
 * object is ld.so's fatal error (RtldError, exit status 127), never an exception of another kind.
 */
export function runRtld(input: RtldInput): RtldResult {
  try {
    return dlMain(input);
  } catch (e) {
    if (e instanceof FormatError) throw new RtldError(`${input.argv0}: error while loading shared libraries: ${e.message}`);
    throw e;
  }
}

function dlMain(input: RtldInput): RtldResult {
  const { sys, conventions: conv } = input;
  const rtldElf = parseObject(input.interpreter.bytes, input.interpreter.path, input.interpreter.path, input.argv0);
  const rtldEnd = Math.max(...rtldElf.loadSegments.map((p) => p.vaddr + p.memsz)) + input.interpreter.base;
  const s = new Session(sys, conv, rtldEnd, input.argv0, input.scratch);
  const rtldPath = input.interpreter.path;
  const rtld = fixedMap('rtld', rtldPath, rtldElf, input.interpreter.base, 0, rtldPath.slice(0, rtldPath.lastIndexOf('/')));
  rtld.libnames.push(rtldPath);
  if (rtldElf.dynamic?.soname !== null && rtldElf.dynamic?.soname !== undefined) rtld.libnames.push(rtldElf.dynamic.soname);
  const ctx: RelocContext = { s, scope: [rtld], indexes: new Map<LinkMap, HashIndex>(), bindNow: true };
  // _dl_start: ld.so relocates itself before it can call anything (no system calls, only stores).
  relocateObject(ctx, rtld, { protectRelro: false, skipRelr: false, lazy: false });
  s.step(`ld.so relocated itself at 0x${rtld.addr.toString(16)}`);
  sys.syscall('brk', [0]);

  const progElf = parseObject(input.program.bytes, input.program.path, input.program.path, input.argv0);
  const sz = conv.sizes;
  const mainStruct = sz.linkMap > 0 ? s.malloc.calloc(sz.linkMap + sz.auditState * sz.dlNns + 8 + sz.libnameList + 1, 1, 'link_map of the program') : 0;
  // The program's origin is found when first needed ($ORIGIN): readlink of /proc/self/exe.
  const main = fixedMap('main', '', progElf, input.program.loadBias, mainStruct, '');
  main.tls = tlsModule(s, progElf, main.addr);
  s.maps.push(main);
  const vdsoStruct = sz.linkMap > 0 ? s.malloc.calloc(sz.linkMap + sz.auditState * sz.dlNns + 8 + sz.libnameList + 1, 1, 'link_map of the vDSO') : 0;
  const vdso = fixedMap('vdso', 'linux-vdso.so.1', null, 0, vdsoStruct, '');
  vdso.libnames.push('linux-vdso.so.1');
  if (conv.name.startsWith('glibc')) s.maps.push(vdso);
  s.maps.push(rtld);
  initPaths(s, main, env(input.envp, 'LD_LIBRARY_PATH'));
  if (conv.preloadPath !== null) {
    const pre = sys.syscall('access', [conv.preloadPath, R_OK]);
    if (pre.error === null) s.step(`${conv.preloadPath} exists: preloading is not modelled`);
  }

  const searchList = mapDeps(s, main);
  const loaded = loadedOrder(s, searchList, rtld);
  checkVersions(s, loaded);
  const tls = initTls(s, loaded);

  const initOrder = sortMaps(searchList);
  ctx.scope = searchList;
  ctx.bindNow = (env(input.envp, 'LD_BIND_NOW') ?? '') !== '';
  rtld.relocated = true;
  for (let i = initOrder.length - 1; i >= 0; i--) {
    const l = initOrder[i]!;
    if (l === rtld) continue;
    relocateObject(ctx, l);
    s.step(`relocated ${l.name || input.argv0}${l.relro !== null && l.relro.end > l.relro.start ? `, RELRO 0x${l.relro.start.toString(16)}-0x${l.relro.end.toString(16)} read-only` : ''}`);
  }
  if (sz.findObject > 0) s.malloc.malloc(loaded.filter((l) => l.kind !== 'vdso').length * sz.findObject, '_dl_find_object data');
  if (searchList.includes(rtld)) {
    // The program's libraries name ld.so: it is relocated again with their definitions visible.
    rtld.relocated = false;
    relocateObject(ctx, rtld, { protectRelro: false, skipRelr: true, lazy: false });
  }
  protectRelroOf(s, rtld);
  // __libc_early_init → __pthread_early_init: the stack size limit for new threads.
  if (conv.name.startsWith('glibc')) sys.syscall('prlimit64', [0, RLIMIT_STACK, 0, input.scratch + 1024]);
  if (s.cacheMapping !== null) sys.syscall('munmap', [s.cacheMapping.addr, s.cacheMapping.size]);
  s.step(`entry point reached with ${searchList.length} objects in the global scope`);
  return {
    searchList, initOrder, tls, stats: s.stats, allocations: s.malloc.allocations, steps: s.steps,
    fixup: (object, symbol) => {
      const l = s.maps.find((m) => m.name === object || m.libnames.includes(object));
      if (l === undefined) throw new RtldError(`${object}: not loaded`);
      return fixup(ctx, l, symbol);
    },
  };
}
