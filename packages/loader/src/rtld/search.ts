/**
 * _dl_map_object (glibc elf/dl-load.c): find a DT_NEEDED name among the loaded objects, else
 * search for it — DT_RPATH of the loader chain (unless the loader has DT_RUNPATH),
 * LD_LIBRARY_PATH, the loader's DT_RUNPATH, /etc/ld.so.cache, the system directories — each
 * search-path directory tried with every capability subdirectory (open_path), a directory found
 * missing remembered so it is not tried again. $ORIGIN, $LIB and $PLATFORM are expanded.
 */
import { cacheLookup, parseLdCache } from './ldcache.js';
import { fileIdentity, mapSegments, openVerify, parseObject, rereadPhdrs, type Verified } from './map.js';
import type { ElfFile } from '@polykernel/elf';
import type { LinkMap, SearchDir, Session, TlsModule } from './session.js';
import { AT_FDCWD, AT_EMPTY_PATH, MAP_PRIVATE, O_CLOEXEC, O_RDONLY, PROT_READ, RtldError } from './system.js';

const DF_1_NODEFLIB = 0x800;
const DT_RPATH = 15;
const DT_RUNPATH = 29;
const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;

/** _dl_dst_substitute: $ORIGIN / ${ORIGIN}, $LIB, $PLATFORM. */
export function expandDst(path: string, origin: string, lib = 'lib/x86_64-linux-gnu', platform = 'x86_64'): string {
  return path.replace(/\$(\{ORIGIN\}|ORIGIN|\{LIB\}|LIB|\{PLATFORM\}|PLATFORM)/g, (_m, t: string) => {
    const k = t.replace(/[{}]/g, '');
    return k === 'ORIGIN' ? origin : k === 'LIB' ? lib : platform;
  });
}

/** _dl_get_origin for the program: readlink("/proc/self/exe"), its directory kept in a malloc'd copy. */
export function originOf(s: Session, l: LinkMap): string {
  if (l.kind !== 'main' || l.origin !== '') return l.origin;
  const r = s.sys.syscall('readlink', ['/proc/self/exe', s.scratch + 3072, 4096]);
  const raw = r.error === null ? s.sys.load(s.scratch + 3072, r.value) : null;
  const link = raw === null ? '' : new TextDecoder().decode(raw);
  let len = link.length;
  while (len > 1 && link[len - 1] !== '/') len--;
  s.malloc.malloc(len + 1, 'origin of the program');
  l.origin = len > 1 ? link.slice(0, len - 1) : '/';
  return l.origin;
}

const DST = /\$(\{ORIGIN\}|ORIGIN|\{LIB\}|LIB|\{PLATFORM\}|PLATFORM)/g;

/** expand_dynamic_string_token: a malloc'd copy of the element, with DL_DST_REQUIRED's room for each token. */
function expandElement(s: Session, l: LinkMap, elem: string): { text: string; at: number } {
  const count = (elem.match(DST) ?? []).length;
  if (count === 0) return { text: elem, at: s.malloc.malloc(elem.length + 1, `copy of ${elem}`) };
  const origin = originOf(s, l);
  const dstLen = Math.max(origin.length, 'x86_64'.length, 'lib/x86_64-linux-gnu'.length);
  const total = elem.length + (dstLen > 4 ? count * (dstLen - 4) : 0);
  return { text: expandDst(elem, origin), at: s.malloc.malloc(total + 1, `expansion of ${elem}`) };
}

/** fillin_rpath: split, expand, one trailing slash, share entries with the other lists (_dl_all_dirs). */
export function fillinRpath(s: Session, l: LinkMap, list: string, sep: RegExp, where: string | null): SearchDir[] {
  const out: SearchDir[] = [];
  for (const raw of list.split(sep)) {
    let d = '';
    let toFree = -1;
    if (raw !== '') {
      const e = expandElement(s, l, raw);
      toFree = e.at;
      if (e.text === '') {
        s.malloc.free(toFree);
        continue;
      }
      d = e.text.replace(/(.)\/+$/, '$1');
      if (!d.endsWith('/')) d += '/';
    }
    const known = s.dirs.get(d);
    if (known !== undefined) {
      if (!out.includes(known)) out.push(known);
    } else {
      const size = s.conv.sizes.searchPathElem + s.conv.capabilitySubdirs.length * 4 + (where === null ? 0 : where.length + 1) + d.length + 1;
      out.push(s.dir(d, size));
    }
    if (toFree >= 0) s.malloc.free(toFree);
  }
  return out;
}

/** decompose_rpath for DT_RPATH / DT_RUNPATH of `l`, allocating as ld.so does. */
export function decomposeRpath(s: Session, l: LinkMap, value: string): SearchDir[] {
  s.malloc.malloc(value.length + 1, 'rpath copy');
  const nelems = (value.match(/:/g) ?? []).length;
  s.malloc.malloc((nelems + 2) * 8, 'rpath list');
  return fillinRpath(s, l, value, /:/, l.name);
}

function dynString(l: LinkMap, tag: number): string | null {
  const d = l.elf?.dynamic;
  if (d === undefined || d === null) return null;
  return tag === DT_RPATH ? d.rpath : tag === DT_RUNPATH ? d.runpath : null;
}

function rpathOf(s: Session, l: LinkMap): SearchDir[] {
  const v = dynString(l, DT_RPATH);
  l.rpath ??= v === null ? [] : decomposeRpath(s, l, v);
  return l.rpath;
}

function runpathOf(s: Session, l: LinkMap): SearchDir[] {
  const v = dynString(l, DT_RUNPATH);
  l.runpath ??= v === null ? [] : decomposeRpath(s, l, v);
  return l.runpath;
}

/** stat(2) of a directory, as open_path checks whether a capability subdirectory exists. */
function isDirectory(s: Session, path: string): boolean {
  const buf = s.scratch + 2048;
  const r = s.sys.syscall('newfstatat', [AT_FDCWD, path, buf, 0]);
  if (r.error !== null) return false;
  const st = s.sys.load(buf, 32);
  if (st === null) return false;
  return (new DataView(st.buffer, st.byteOffset).getUint32(24, true) & S_IFMT) === S_IFDIR;
}

interface Found { fd: number; path: string }

/** open_path: every directory × capability subdirectory, skipping those known to be missing. */
function openPath(s: Session, name: string, dirs: readonly SearchDir[], other: { class: boolean }): Found | null {
  const caps = s.conv.capabilitySubdirs;
  for (const d of dirs) {
    for (let i = 0; i < caps.length; i++) {
      if (d.status[i] === 'nonexisting') continue;
      const path = d.dirname + caps[i]! + name;
      const v = openVerify(s, path, name);
      if (d.status[i] === 'unknown') {
        if ('fd' in v) d.status[i] = 'existing';
        else d.status[i] = isDirectory(s, (d.dirname + caps[i]!).replace(/\/$/, '')) ? 'existing' : 'nonexisting';
      }
      if ('fd' in v) {
        s.malloc.malloc(path.length + 1, `realname ${path}`);
        return v;
      }
      if (v.skip === 'other-class') other.class = true;
    }
  }
  return null;
}

/** _dl_load_cache_lookup: open, fstat and mmap the cache on first use, then look the name up. */
function cachePath(s: Session, name: string): string | null {
  if (s.cache === undefined) {
    s.cache = null;
    const path = s.conv.cachePath;
    const o = path === null ? null : s.sys.syscall('openat', [AT_FDCWD, path, O_RDONLY | O_CLOEXEC]);
    if (o !== null && o.error === null) {
      const fd = o.value;
      const buf = s.scratch + 2048;
      s.sys.syscall('newfstatat', [fd, '', buf, AT_EMPTY_PATH]);
      const st = s.sys.load(buf, 144);
      const size = st === null ? 0 : Number(new DataView(st.buffer, st.byteOffset).getBigUint64(48, true));
      const bytes = s.sys.fileBytes(fd);
      const m = s.sys.syscall('mmap', [0, size, PROT_READ, MAP_PRIVATE, fd, 0]);
      s.sys.syscall('close', [fd]);
      if (m.error === null && bytes !== null) {
        s.cacheMapping = { addr: m.value, size };
        s.cache = parseLdCache(bytes);
        s.step(`read ${path} (${s.cache.entries.length} entries, mapped at 0x${m.value.toString(16)})`);
      }
    }
  }
  if (s.cache === null) return null;
  const hit = cacheLookup(s.cache, name, s.conv.activeHwcaps);
  if (hit !== null) s.malloc.malloc(hit.length + 1, `realname ${hit} (cache)`);
  return hit;
}

function nameMatches(l: LinkMap, name: string): boolean {
  return l.name === name || l.libnames.includes(name);
}

/** _dl_map_object: the loaded object answering to `name`, or a newly loaded one. */
export function mapObject(s: Session, loader: LinkMap, name: string): LinkMap {
  for (const l of s.maps) {
    if (nameMatches(l, name)) return l;
    if (l.elf?.dynamic?.soname === name) {
      // A new name for a loaded object is remembered (add_name_to_object).
      s.malloc.malloc(s.conv.sizes.libnameList + name.length + 1, `libname ${name}`);
      l.libnames.push(name);
      return l;
    }
  }
  const other = { class: false };
  let found: Found | null = null;
  if (name.includes('/')) {
    const v: Verified = openVerify(s, expandDst(name, originOf(s, loader)), name);
    if ('fd' in v) {
      s.malloc.malloc(v.path.length + 1, `realname ${v.path}`);
      found = v;
    }
  } else {
    found = searchNeeded(s, loader, name, other);
  }
  if (found === null) {
    const why = other.class ? 'wrong ELF class: ELFCLASS32' : 'cannot open shared object file: No such file or directory';
    throw new RtldError(`${s.argv0}: error while loading shared libraries: ${name}: ${why}`);
  }
  return mapFromFd(s, loader, name, found);
}

function searchNeeded(s: Session, loader: LinkMap, name: string, other: { class: boolean }): Found | null {
  let found: Found | null = null;
  if (dynString(loader, DT_RUNPATH) === null) {
    for (let l: LinkMap | null = loader; l !== null && found === null; l = l.loader) found = openPath(s, name, rpathOf(s, l), other);
  }
  if (found === null && s.envPath !== null) found = openPath(s, name, s.envPath, other);
  found ??= openPath(s, name, runpathOf(s, loader), other);
  const nodeflib = ((loader.elf?.dynamic?.flags1 ?? 0) & DF_1_NODEFLIB) !== 0;
  if (found === null && !nodeflib) {
    const cached = cachePath(s, name);
    if (cached !== null) {
      const v = openVerify(s, cached, name);
      if ('fd' in v) found = v;
      else if (v.skip === 'other-class') other.class = true;
    }
  }
  if (found === null && !nodeflib) found = openPath(s, name, s.systemDirs, other);
  return found;
}

/** _dl_map_object_from_fd: same file already loaded? else a new link map, mapped. */
function mapFromFd(s: Session, loader: LinkMap, name: string, f: Found): LinkMap {
  const id = fileIdentity(s, f.fd);
  const same = s.maps.find((l) => l.fileId === id);
  if (same !== undefined) {
    s.sys.syscall('close', [f.fd]);
    same.libnames.push(name);
    return same;
  }
  const bytes = s.sys.fileBytes(f.fd);
  if (bytes === null) throw new RtldError(`${s.argv0}: error while loading shared libraries: ${name}: cannot read file data`);
  const elf = parseObject(bytes, f.path, name, s.argv0);
  const sz = s.conv.sizes;
  const structAddr = s.malloc.calloc(sz.linkMap + 8 + sz.libnameList + name.length + 1, 1, `link_map ${name}`);
  const origin = f.path.slice(0, Math.max(1, f.path.lastIndexOf('/')));
  s.malloc.malloc(f.path.length + 1, `l_origin ${f.path}`);
  rereadPhdrs(s, f.fd, elf);
  const m = mapSegments(s, f.fd, elf);
  s.sys.syscall('close', [f.fd]);
  const l: LinkMap = {
    name: f.path, libnames: [name], kind: 'lib', elf, addr: m.addr, mapStart: m.mapStart, mapEnd: m.mapEnd, fileId: id, loader, deps: [],
    origin, rpath: null, runpath: null, tls: null, relro: null, relocated: false, structAddr, segments: m.segments,
  };
  l.tls = tlsModule(s, elf, m.addr);
  s.maps.push(l);
  s.step(`${name} → ${f.path} at 0x${m.addr.toString(16)} (${m.segments.length} segments)`);
  return l;
}

/** PT_TLS: the module's block and the next module id (_dl_assign_tls_modid, in load order). */
export function tlsModule(s: Session, elf: ElfFile, addr: number): TlsModule | null {
  const t = elf.tls;
  if (t === null || t.memsz === 0) return null;
  const align = t.align === 0 ? 1 : t.align;
  return { modid: s.nextModid++, blocksize: t.memsz, align, firstbyte: t.align === 0 ? 0 : t.vaddr % align, offset: 0, initAddr: addr + t.vaddr, initSize: t.filesz };
}
