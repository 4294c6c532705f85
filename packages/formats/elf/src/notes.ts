/**
 * Notes (gABI "Note Section"): GNU build-id, ABI tag, GNU properties (x86 and AArch64 features,
 * ISA level), FreeBSD ABI tag and friends. PT_NOTE segments with p_align 8 use 8-byte padding.
 */
import { FormatError } from '@polykernel/core';
import type { ByteReader } from './reader.js';

export interface ElfNote {
  /** File offset of the note's header. */
  offset: number;
  owner: string;
  type: number;
  /** readelf's description of the type (NT_GNU_BUILD_ID, ...). */
  typeName: string;
  /** File offset and size of the descriptor. */
  descOffset: number;
  descSize: number;
  /** Decoded contents, e.g. "Build ID: 15df...", "OS: Linux, ABI: 3.2.0". */
  text: string;
}

const ABI_OS = ['Linux', 'Hurd', 'Solaris', 'FreeBSD', 'NetBSD', 'Syllable', 'NaCl'];

/** Parse the notes in [offset, offset + size) with the given descriptor alignment (4 or 8). */
export function readNotes(r: ByteReader, offset: number, size: number, align: number, is64 = true): ElfNote[] {
  r.check(offset, size, 'note segment');
  const a = align === 8 ? 8 : 4;
  const out: ElfNote[] = [];
  let o = offset;
  const end = offset + size;
  while (o + 12 <= end) {
    const namesz = r.u32(o, 'n_namesz');
    const descsz = r.u32(o + 4, 'n_descsz');
    const type = r.u32(o + 8, 'n_type');
    const nameOff = o + 12;
    // glibc ELF_NOTE_DESC_OFFSET / ELF_NOTE_NEXT_OFFSET: both padded to the note alignment.
    const descOff = o + alignUp(12 + namesz, a);
    const next = o + alignUp(descOff - o + descsz, a);
    if (nameOff + namesz > end || descOff + descsz > end) {
      throw new FormatError('n_descsz', o, `note at 0x${o.toString(16)} runs past its segment`);
    }
    const owner = namesz === 0 ? '' : r.cstring(nameOff, nameOff + namesz, 'note name');
    out.push({ offset: o, owner, type, typeName: noteTypeName(owner, type), descOffset: descOff, descSize: descsz, text: describe(r, owner, type, descOff, descsz, is64) });
    if (next <= o) break;
    o = next;
  }
  return out;
}

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

export function noteTypeName(owner: string, type: number): string {
  if (owner === 'GNU') {
    const names: Record<number, string> = {
      1: 'NT_GNU_ABI_TAG (ABI version tag)', 2: 'NT_GNU_HWCAP (DSO-supplied software HWCAP info)',
      3: 'NT_GNU_BUILD_ID (unique build ID bitstring)', 4: 'NT_GNU_GOLD_VERSION (gold version)', 5: 'NT_GNU_PROPERTY_TYPE_0',
    };
    return names[type] ?? `Unknown note type: (0x${hex8(type)})`;
  }
  if (owner === 'FreeBSD') {
    const names: Record<number, string> = { 1: 'NT_FREEBSD_ABI_TAG', 2: 'NT_FREEBSD_NOINIT_TAG', 3: 'NT_FREEBSD_ARCH_TAG', 4: 'NT_FREEBSD_FEATURE_CTL' };
    return names[type] ?? `Unknown note type: (0x${hex8(type)})`;
  }
  if (owner === 'FDO' && type === FDO_PACKAGING_METADATA) return 'FDO_PACKAGING_METADATA';
  if (owner === 'stapsdt' && type === 3) return 'NT_STAPSDT (SystemTap probe descriptors)';
  if (owner === 'Go' && type === 4) return 'GO BUILDID';
  return `Unknown note type: (0x${hex8(type)})`;
}

/** FDO_PACKAGING_METADATA (systemd's ELF package notes spec). */
const FDO_PACKAGING_METADATA = 0xcafe1a7e;

/** The bytes [start, end) up to the first NUL, as text. */
function cstringWithin(r: ByteReader, start: number, end: number): string {
  let i = start;
  while (i < end && r.bytes[i] !== 0) i++;
  return new TextDecoder().decode(r.bytes.subarray(start, i));
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function describe(r: ByteReader, owner: string, type: number, off: number, size: number, is64: boolean): string {
  if (owner === 'stapsdt' && type === 3) return describeStapsdt(r, off, size, is64);
  if (owner === 'GNU' && type === 3) {
    let s = '';
    for (let i = 0; i < size; i++) s += r.bytes[off + i]!.toString(16).padStart(2, '0');
    return `Build ID: ${s}`;
  }
  if (owner === 'GNU' && type === 1 && size >= 16) {
    const os = r.u32(off, 'abi tag os');
    return `OS: ${ABI_OS[os] ?? `Unknown (${os})`}, ABI: ${r.u32(off + 4, 'abi')}.${r.u32(off + 8, 'abi')}.${r.u32(off + 12, 'abi')}`;
  }
  if (owner === 'GNU' && type === 5) return describeProperties(r, off, size);
  // binutils print_gnu_note: the gold version is printed up to its NUL.
  if (owner === 'GNU' && type === 4) return `Version: ${cstringWithin(r, off, off + size)}`;
  // binutils print_fdo_note (printf "%.*s": also up to a NUL): the systemd package metadata JSON.
  if (owner === 'FDO' && type === FDO_PACKAGING_METADATA && size > 0) return `Packaging Metadata: ${cstringWithin(r, off, off + size)}`;
  if (owner === 'FreeBSD' && type === 1 && size >= 4) return `FreeBSD version: ${r.u32(off, 'freebsd abi tag')}`;
  if (owner === 'FreeBSD' && type === 3) return `Arch: ${new TextDecoder().decode(r.bytes.subarray(off, off + size)).replace(/\0+$/, '')}`;
  return `description data: ${size} bytes`;
}

/** GNU property notes (x86-64 psABI, AArch64 ELF ABI): pr_type, pr_datasz, data, 8-byte aligned on 64-bit. */
function describeProperties(r: ByteReader, off: number, size: number): string {
  const parts: string[] = [];
  let o = off;
  const end = off + size;
  while (o + 8 <= end) {
    const prType = r.u32(o, 'pr_type');
    const dsz = r.u32(o + 4, 'pr_datasz');
    const data = o + 8;
    if (data + dsz > end) break;
    const v = dsz >= 4 ? r.u32(data, 'pr_data') : 0;
    parts.push(propertyText(prType, v));
    o = data + Math.ceil(dsz / 8) * 8;
  }
  return `Properties: ${parts.join(', ')}`;
}

function propertyText(type: number, v: number): string {
  const bits = (names: [number, string][]): string => {
    const on = names.filter(([b]) => (v & b) !== 0).map(([, n]) => n);
    return on.length > 0 ? on.join(', ') : '<None>';
  };
  switch (type) {
    case 0xc0000002: return `x86 feature: ${bits([[1, 'IBT'], [2, 'SHSTK'], [4, 'LAM_U48'], [8, 'LAM_U57']])}`;
    case 0xc0008002: return `x86 ISA needed: ${bits([[1, 'x86-64-baseline'], [2, 'x86-64-v2'], [4, 'x86-64-v3'], [8, 'x86-64-v4']])}`;
    case 0xc0010001: return `x86 feature used: ${bits([[1, 'x86'], [2, 'x87'], [4, 'MMX'], [8, 'XMM'], [16, 'YMM'], [32, 'ZMM']])}`;
    case 0xc0000000: return `AArch64 feature: ${bits([[1, 'BTI'], [2, 'PAC'], [4, 'GCS']])}`;
    case 1: return `stack size: 0x${v.toString(16)}`;
    case 2: return 'no copy on protected';
    case 0xb0008000: return `1_needed: ${bits([[1, 'indirect external access']])}`;
    default: return `<unknown: 0x${type.toString(16)}>`;
  }
}

/**
 * SystemTap SDT probe (sys/sdt.h): pc, base, semaphore (address-sized), then provider, name and
 * argument strings. Printed over several lines as readelf does.
 */
function describeStapsdt(r: ByteReader, off: number, size: number, is64: boolean): string {
  const w = is64 ? 8 : 4;
  if (size < 3 * w) return `description data: ${size} bytes`;
  const pc = r.word(off, is64, 'stapsdt pc');
  const base = r.word(off + w, is64, 'stapsdt base');
  const sem = r.word(off + 2 * w, is64, 'stapsdt semaphore');
  const end = off + size;
  let p = off + 3 * w;
  const next = (): string => {
    if (p >= end) return '';
    const str = r.cstring(p, end, 'stapsdt string');
    p += str.length + 1;
    return str;
  };
  const provider = next();
  const name = next();
  const args = next();
  const hx = (v: number): string => '0x' + v.toString(16).padStart(w * 2, '0');
  const lines = [`Provider: ${provider}`, `    Name: ${name}`, `    Location: ${hx(pc)}, Base: ${hx(base)}, Semaphore: ${hx(sem)}`];
  if (args !== '') lines.push(`    Arguments: ${args}`);
  return lines.join('\n');
}
