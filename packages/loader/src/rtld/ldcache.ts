/**
 * glibc's /etc/ld.so.cache (sysdeps/generic/dl-cache.h, elf/dl-cache.c). Two layouts exist:
 * the old "ld.so-1.7.0" table (12-byte entries), optionally followed by the new table, and the
 * new "glibc-ld.so.cache1.1" table alone (glibc ≥ 2.32 writes only it). String offsets of the new
 * format count from the start of the new header; its extension area names the glibc-hwcaps
 * subdirectories an entry's hwcap field points at (DL_CACHE_HWCAP_EXTENSION, bit 62).
 */
import { ByteReader, FormatError } from '@polykernel/core';

const OLD_MAGIC = 'ld.so-1.7.0';
const NEW_MAGIC = 'glibc-ld.so.cache';
const NEW_VERSION = '1.1';
const NEW_HEADER = 48;
const NEW_ENTRY = 24;
const OLD_HEADER = 16;
const OLD_ENTRY = 12;
const EXTENSION_MAGIC = 0xeaa42174;
const EXTENSION_TAG_GLIBC_HWCAPS = 1;
/** FLAG_ELF_LIBC6 | FLAG_X8664_LIB64: what _dl_cache_check_flags accepts on x86-64. */
export const CACHE_FLAGS_X86_64 = 0x0303;

export interface CacheEntry {
  flags: number;
  /** The library's soname (what DT_NEEDED names). */
  key: string;
  /** Its path. */
  value: string;
  /** The glibc-hwcaps subdirectory the entry is for ('' for the baseline entry). */
  hwcaps: string;
}

export interface LdCache {
  format: 'new' | 'old' | 'old+new';
  entries: CacheEntry[];
  /** The glibc-hwcaps subdirectory names of the extension area, by index. */
  hwcapsSubdirs: string[];
}

function ascii(bytes: Uint8Array, off: number, len: number): string {
  let s = '';
  for (let i = 0; i < len && off + i < bytes.length; i++) s += String.fromCharCode(bytes[off + i]!);
  return s;
}

function cstring(r: ByteReader, off: number, field: string): string {
  r.check(off, 1, field);
  const end = r.bytes.indexOf(0, off);
  if (end < 0) throw new FormatError(field, off, `${field}: string at 0x${off.toString(16)} has no terminating NUL`);
  return new TextDecoder().decode(r.bytes.subarray(off, end));
}

/** Parse an ld.so.cache image; malformed → FormatError naming the field and offset. */
export function parseLdCache(bytes: Uint8Array): LdCache {
  const r = new ByteReader(bytes, true);
  if (ascii(bytes, 0, OLD_MAGIC.length) === OLD_MAGIC) {
    const nlibs = r.u32(12, 'nlibs');
    const oldEnd = OLD_HEADER + nlibs * OLD_ENTRY;
    r.check(OLD_HEADER, nlibs * OLD_ENTRY, 'file_entry[]');
    // The new table follows the old one, aligned to its alignment (cache.c: ALIGN_CACHE).
    const newAt = Math.ceil(oldEnd / 8) * 8;
    if (bytes.length >= newAt + NEW_HEADER && ascii(bytes, newAt, NEW_MAGIC.length) === NEW_MAGIC) {
      return { ...parseNew(r, newAt), format: 'old+new' };
    }
    const entries: CacheEntry[] = [];
    for (let i = 0; i < nlibs; i++) {
      const o = OLD_HEADER + i * OLD_ENTRY;
      // Old-format string offsets count from the end of the entry table.
      entries.push({
        flags: r.i32(o, 'file_entry.flags'),
        key: cstring(r, oldEnd + r.u32(o + 4, 'file_entry.key'), 'file_entry.key'),
        value: cstring(r, oldEnd + r.u32(o + 8, 'file_entry.value'), 'file_entry.value'),
        hwcaps: '',
      });
    }
    return { format: 'old', entries, hwcapsSubdirs: [] };
  }
  if (ascii(bytes, 0, NEW_MAGIC.length) !== NEW_MAGIC) {
    throw new FormatError('magic', 0, `not an ld.so.cache: magic "${ascii(bytes, 0, 17).replace(/[^\x20-\x7e]/g, '.')}"`);
  }
  return { ...parseNew(r, 0), format: 'new' };
}

function parseNew(r: ByteReader, base: number): Omit<LdCache, 'format'> {
  const version = ascii(r.bytes, base + NEW_MAGIC.length, 3);
  if (version !== NEW_VERSION) throw new FormatError('version', base + NEW_MAGIC.length, `ld.so.cache version "${version}" is not ${NEW_VERSION}`);
  r.check(base, NEW_HEADER, 'cache_file_new');
  const nlibs = r.u32(base + 20, 'nlibs');
  const lenStrings = r.u32(base + 24, 'len_strings');
  const flags = r.u8(base + 28, 'flags');
  // cache_file_new_flags_endian_big (3) on a little-endian reader is another machine's cache.
  if (flags === 3) throw new FormatError('flags', base + 28, 'a big-endian ld.so.cache');
  const extOff = r.u32(base + 32, 'extension_offset');
  r.check(base + NEW_HEADER, nlibs * NEW_ENTRY, 'file_entry_new[]');
  const stringsEnd = base + NEW_HEADER + nlibs * NEW_ENTRY + lenStrings;
  if (stringsEnd > r.length) throw new FormatError('len_strings', base + 24, `string table (0x${lenStrings.toString(16)} bytes) runs past the end of the file`);
  const hwcapsSubdirs = extOff === 0 ? [] : readHwcaps(r, base, extOff);
  const entries: CacheEntry[] = [];
  for (let i = 0; i < nlibs; i++) {
    const o = base + NEW_HEADER + i * NEW_ENTRY;
    const hwLo = r.u32(o + 16, 'file_entry_new.hwcap');
    const hwHi = r.u32(o + 20, 'file_entry_new.hwcap');
    // DL_CACHE_HWCAP_EXTENSION (1 << 62): the low 32 bits index the glibc-hwcaps subdirectories.
    const ext = Math.floor(hwHi / 0x40000000) % 2 === 1;
    if (ext && hwLo >= hwcapsSubdirs.length) throw new FormatError('file_entry_new.hwcap', o + 16, `glibc-hwcaps index ${hwLo} beyond the ${hwcapsSubdirs.length} subdirectories`);
    entries.push({
      flags: r.i32(o, 'file_entry_new.flags'),
      key: cstring(r, base + r.u32(o + 4, 'file_entry_new.key'), 'file_entry_new.key'),
      value: cstring(r, base + r.u32(o + 8, 'file_entry_new.value'), 'file_entry_new.value'),
      hwcaps: ext ? hwcapsSubdirs[hwLo]! : '',
    });
  }
  return { entries, hwcapsSubdirs };
}

function readHwcaps(r: ByteReader, base: number, extOff: number): string[] {
  const at = base + extOff;
  const magic = r.u32(at, 'cache_extension.magic');
  if (magic !== EXTENSION_MAGIC) throw new FormatError('cache_extension.magic', at, `extension magic 0x${magic.toString(16)} is not 0x${EXTENSION_MAGIC.toString(16)}`);
  const count = r.u32(at + 4, 'cache_extension.count');
  r.check(at + 8, count * 16, 'cache_extension_section[]');
  for (let i = 0; i < count; i++) {
    const s = at + 8 + i * 16;
    if (r.u32(s, 'cache_extension_section.tag') !== EXTENSION_TAG_GLIBC_HWCAPS) continue;
    const off = r.u32(s + 8, 'cache_extension_section.offset');
    const size = r.u32(s + 12, 'cache_extension_section.size');
    if (size % 4 !== 0) throw new FormatError('cache_extension_section.size', s + 12, `glibc-hwcaps section size ${size} is not a multiple of 4`);
    r.check(base + off, size, 'glibc-hwcaps section');
    const out: string[] = [];
    for (let k = 0; k < size / 4; k++) out.push(cstring(r, base + r.u32(base + off + k * 4, 'glibc-hwcaps string'), 'glibc-hwcaps string'));
    return out;
  }
  return [];
}

/**
 * _dl_load_cache_lookup: the path for `soname`, among entries whose flags the machine accepts,
 * preferring the glibc-hwcaps subdirectory of highest priority in `activeHwcaps` (best first),
 * then the baseline entry. Null when the cache does not know the name.
 */
export function cacheLookup(cache: LdCache, soname: string, activeHwcaps: readonly string[], flags = CACHE_FLAGS_X86_64): string | null {
  let best: CacheEntry | null = null;
  let bestRank = Number.MAX_SAFE_INTEGER;
  for (const e of cache.entries) {
    if (e.key !== soname || e.flags !== flags) continue;
    const rank = e.hwcaps === '' ? activeHwcaps.length : activeHwcaps.indexOf(e.hwcaps);
    if (rank < 0 || rank >= bestRank) continue;
    best = e;
    bestRank = rank;
  }
  return best?.value ?? null;
}
