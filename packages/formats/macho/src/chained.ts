/**
 * LC_DYLD_CHAINED_FIXUPS (<mach-o/fixup-chains.h>): the header, the imports table with its symbol
 * names, the per-segment chain starts, and the chains themselves — each pointer-sized slot holds
 * either a rebase (a target address) or a bind (an import index), plus the distance to the next
 * fixup on the page. Decoded here for DYLD_CHAINED_PTR_64 and _64_OFFSET (x86_64, arm64) and the
 * arm64e formats' rebase/bind split; 64-bit fields are taken apart with BigInt, never `>>` on numbers.
 */
import { FormatError, type ByteReader } from '@polykernel/core';
import type { MachSegment } from './macho.js';

export interface ChainedImport {
  libOrdinal: number;
  weakImport: boolean;
  name: string;
  addend: number;
}

export interface ChainedSegmentStarts {
  segIndex: number;
  pageSize: number;
  pointerFormat: number;
  segmentOffset: number;
  maxValidPointer: number;
  pageStarts: number[];
}

export interface ChainedFixup {
  /** Virtual address of the slot. */
  address: number;
  /** The raw 64-bit value in the file (hex). */
  raw: string;
  kind: 'rebase' | 'bind';
  /** rebase: the target virtual address; bind: null. */
  target: number | null;
  /** bind: index into imports. */
  importIndex: number | null;
  addend: number;
}

export interface ChainedFixups {
  version: number;
  importsFormat: number;
  symbolsFormat: number;
  imports: ChainedImport[];
  starts: ChainedSegmentStarts[];
  fixups: ChainedFixup[];
}

const PTR_START_NONE = 0xffff;
const decoder = new TextDecoder();

const bits = (v: bigint, shift: number, width: number): number => Number((v >> BigInt(shift)) & ((1n << BigInt(width)) - 1n));

export function decodeChainedFixups(r: ByteReader, off: number, size: number, segs: MachSegment[], imageBase: number): ChainedFixups {
  r.check(off, Math.max(size, 28), 'LC_DYLD_CHAINED_FIXUPS');
  const end = off + size;
  const version = r.u32(off, 'fixups_version');
  const startsOff = r.u32(off + 4, 'starts_offset');
  const importsOff = r.u32(off + 8, 'imports_offset');
  const symbolsOff = r.u32(off + 12, 'symbols_offset');
  const importsCount = r.u32(off + 16, 'imports_count');
  const importsFormat = r.u32(off + 20, 'imports_format');
  const symbolsFormat = r.u32(off + 24, 'symbols_format');
  if (symbolsFormat !== 0) throw new FormatError('symbols_format', off + 24, `compressed symbol names (format ${symbolsFormat}) are not supported`);
  const imports = readImports(r, off, end, importsOff, symbolsOff, importsCount, importsFormat);
  const starts = readStarts(r, off + startsOff, end, segs.length);
  const fixups: ChainedFixup[] = [];
  for (const s of starts) {
    const seg = segs[s.segIndex];
    if (seg === undefined) throw new FormatError('seg_info_offset', off + startsOff, `chain starts for segment ${s.segIndex}, which does not exist`);
    s.pageStarts.forEach((start, page) => {
      if (start === PTR_START_NONE) return;
      walkChain(r, seg, s, page, start, imageBase, fixups);
    });
  }
  return { version, importsFormat, symbolsFormat, imports, starts, fixups };
}

function readImports(r: ByteReader, base: number, end: number, importsOff: number, symbolsOff: number, count: number, format: number): ChainedImport[] {
  const ent = format === 1 ? 4 : format === 2 ? 8 : format === 3 ? 16 : 0;
  if (ent === 0) throw new FormatError('imports_format', base + 20, `unknown imports_format ${format}`);
  if (base + importsOff + count * ent > end) throw new FormatError('imports_count', base + 16, `${count} imports do not fit the fixups blob`);
  const out: ChainedImport[] = [];
  for (let i = 0; i < count; i++) {
    const o = base + importsOff + i * ent;
    let libOrdinal: number;
    let weak: boolean;
    let nameOff: number;
    let addend = 0;
    if (format === 3) {
      const v = r.u64big(o, 'dyld_chained_import_addend64');
      libOrdinal = bits(v, 0, 16);
      if (libOrdinal >= 0xfff0) libOrdinal -= 0x10000; // special ordinals are sign-extended
      weak = bits(v, 16, 1) === 1;
      nameOff = bits(v, 32, 32);
      addend = Number(r.view.getBigInt64(o + 8, r.littleEndian));
    } else {
      const v = r.u32(o, 'dyld_chained_import');
      libOrdinal = v % 256;
      if (libOrdinal >= 0xf0) libOrdinal -= 256;
      weak = Math.floor(v / 256) % 2 === 1;
      nameOff = Math.floor(v / 512);
      if (format === 2) addend = r.i32(o + 4, 'dyld_chained_import_addend.addend');
    }
    const p = base + symbolsOff + nameOff;
    if (p >= end) throw new FormatError('name_offset', o, `import ${i}: name offset ${nameOff} outside the symbols`);
    let e = p;
    while (e < end && r.bytes[e] !== 0) e++;
    out.push({ libOrdinal, weakImport: weak, name: decoder.decode(r.bytes.subarray(p, e)), addend });
  }
  return out;
}

function readStarts(r: ByteReader, at: number, end: number, segCount: number): ChainedSegmentStarts[] {
  const n = r.u32(at, 'seg_count');
  if (n > segCount + 64 || at + 4 + n * 4 > end) throw new FormatError('seg_count', at, `seg_count ${n} is implausible`);
  const out: ChainedSegmentStarts[] = [];
  for (let i = 0; i < n; i++) {
    const rel = r.u32(at + 4 + i * 4, 'seg_info_offset');
    if (rel === 0) continue;
    const s = at + rel;
    if (s + 22 > end) throw new FormatError('seg_info_offset', at + 4 + i * 4, `segment ${i}'s chain starts lie outside the blob`);
    const pageCount = r.u16(s + 20, 'page_count');
    if (s + 22 + pageCount * 2 > end) throw new FormatError('page_count', s + 20, `${pageCount} page starts do not fit`);
    const pageStarts: number[] = [];
    for (let p = 0; p < pageCount; p++) pageStarts.push(r.u16(s + 22 + p * 2, 'page_start'));
    out.push({
      segIndex: i, pageSize: r.u16(s + 4, 'page_size'), pointerFormat: r.u16(s + 6, 'pointer_format'),
      segmentOffset: r.u64(s + 8, 'segment_offset'), maxValidPointer: r.u32(s + 16, 'max_valid_pointer'), pageStarts,
    });
  }
  return out;
}

/** Follow one page's chain. */
function walkChain(r: ByteReader, seg: MachSegment, s: ChainedSegmentStarts, page: number, start: number, imageBase: number, out: ChainedFixup[]): void {
  const fmt = s.pointerFormat;
  const arm64e = fmt === 1 || fmt === 9 || fmt === 12;
  const stride = arm64e ? 8 : 4;
  if (!arm64e && fmt !== 2 && fmt !== 6) throw new FormatError('pointer_format', 0, `chained pointer format ${fmt} is not supported`);
  let off = page * s.pageSize + start;
  for (let guard = 0; guard <= s.pageSize / stride; guard++) {
    const fileOff = seg.fileoff + off;
    const v = r.u64big(fileOff, 'chained pointer');
    const address = imageBase + s.segmentOffset + off;
    const raw = '0x' + v.toString(16).toUpperCase().padStart(16, '0');
    let next: number;
    if (arm64e) {
      const auth = bits(v, 63, 1) === 1;
      const bind = bits(v, 62, 1) === 1;
      next = bits(v, 51, 11);
      if (bind) out.push({ address, raw, kind: 'bind', target: null, importIndex: bits(v, 0, fmt === 12 ? 24 : 16), addend: auth ? 0 : bits(v, 32, 19) });
      else out.push({ address, raw, kind: 'rebase', target: auth ? imageBase + bits(v, 0, 32) : bits(v, 0, 43), importIndex: null, addend: 0 });
    } else {
      const bind = bits(v, 63, 1) === 1;
      next = bits(v, 51, 12);
      if (bind) {
        out.push({ address, raw, kind: 'bind', target: null, importIndex: bits(v, 0, 24), addend: bits(v, 24, 8) });
      } else {
        // target is 36 bits; high8 goes to the top byte; _64_OFFSET targets are relative to the image.
        const target = bits(v, 0, 36) + bits(v, 36, 8) * 2 ** 56;
        out.push({ address, raw, kind: 'rebase', target: fmt === 6 ? imageBase + target : target, importIndex: null, addend: 0 });
      }
    }
    if (next === 0) return;
    off += next * stride;
  }
  throw new FormatError('chained pointer', seg.fileoff + off, 'fixup chain runs past its page');
}
