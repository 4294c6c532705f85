/**
 * dyld's compressed linkedit information (LC_DYLD_INFO[_ONLY], <mach-o/loader.h>): the rebase and
 * bind opcode streams, decoded into the fixups they describe, and the export trie. Every read is
 * bounded by its blob; loops are bounded by the blob size; malformed streams are FormatErrors.
 */
import { FormatError, type ByteReader } from '@polykernel/core';
import type { MachSegment } from './macho.js';

export interface Rebase {
  segment: number;
  address: number;
  type: number;
}

export interface Bind {
  segment: number;
  address: number;
  type: number;
  addend: number;
  /** 1-based dylib ordinal, 0 self, -1 main executable, -2 flat namespace, -3 weak lookup. */
  dylibOrdinal: number;
  symbol: string;
  weakImport: boolean;
  kind: 'bind' | 'lazy' | 'weak';
}

export interface ExportSymbol {
  name: string;
  flags: number;
  /** Offset from the image's __TEXT (mach header) for regular exports. */
  address: number | null;
  reexport: { ordinal: number; importName: string } | null;
  resolver: number | null;
}

const decoder = new TextDecoder();

/** Reads ULEB128/SLEB128 values and strings inside [start, end). */
class Cursor {
  constructor(private readonly r: ByteReader, public pos: number, readonly end: number, readonly field: string) {}

  get done(): boolean {
    return this.pos >= this.end;
  }

  u8(): number {
    if (this.pos >= this.end) throw new FormatError(this.field, this.pos, `${this.field}: stream ends early`);
    return this.r.bytes[this.pos++]!;
  }

  uleb(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.u8();
      v += (b % 128) * mul;
      if (b < 128) {
        if (!Number.isSafeInteger(v)) throw new FormatError(this.field, this.pos, `${this.field}: ULEB128 above 2^53`);
        return v;
      }
      mul *= 128;
    }
    throw new FormatError(this.field, this.pos, `${this.field}: ULEB128 longer than 10 bytes`);
  }

  /** A ULEB128 as a 64-bit unsigned bigint (dyld adds these modulo 2^64 to step backwards). */
  ulebBig(): bigint {
    let v = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      const b = this.u8();
      v |= BigInt(b & 0x7f) << shift;
      if (b < 128) return v & 0xffffffffffffffffn;
      shift += 7n;
    }
    throw new FormatError(this.field, this.pos, `${this.field}: ULEB128 longer than 10 bytes`);
  }

  /** offset + ULEB128 modulo 2^64 (ld64 encodes negative steps this way); must stay below 2^53. */
  addUleb(offset: number): number {
    const sum = (BigInt(offset) + this.ulebBig()) & 0xffffffffffffffffn;
    if (sum > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError(this.field, this.pos, `${this.field}: address step leaves the 53-bit range`);
    return Number(sum);
  }

  sleb(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.u8();
      v += (b % 128) * mul;
      mul *= 128;
      if (b < 128) return b >= 64 ? v - mul : v;
    }
    throw new FormatError(this.field, this.pos, `${this.field}: SLEB128 longer than 10 bytes`);
  }

  cstring(): string {
    const start = this.pos;
    while (this.u8() !== 0) { /* scan */ }
    return decoder.decode(this.r.bytes.subarray(start, this.pos - 1));
  }
}

function segmentAddress(segs: MachSegment[], index: number, offset: number, field: string, at: number): number {
  const s = segs[index];
  if (s === undefined) throw new FormatError(field, at, `${field}: segment index ${index} does not exist`);
  return s.vmaddr + offset;
}

/** Decode a rebase opcode stream. */
export function decodeRebases(r: ByteReader, off: number, size: number, segs: MachSegment[], ptrSize: number): Rebase[] {
  r.check(off, size, 'rebase_off');
  const c = new Cursor(r, off, off + size, 'rebase opcodes');
  const out: Rebase[] = [];
  let type = 0;
  let seg = -1;
  let offset = 0;
  const limit = size * 64 + 1024; // each opcode byte can emit at most a bounded run; guards hostile counts
  const emit = (): void => {
    if (out.length > limit) throw new FormatError('rebase opcodes', c.pos, 'rebase stream expands beyond any plausible size');
    out.push({ segment: seg, address: segmentAddress(segs, seg, offset, 'REBASE_OPCODE_SET_SEGMENT_AND_OFFSET_ULEB', c.pos), type });
  };
  while (!c.done) {
    const b = c.u8();
    const op = b & 0xf0;
    const imm = b & 0x0f;
    switch (op) {
      case 0x00: return out; // DONE
      case 0x10: type = imm; break;
      case 0x20: seg = imm; offset = c.uleb(); break;
      case 0x30: offset = c.addUleb(offset); break;
      case 0x40: offset += imm * ptrSize; break;
      case 0x50: for (let i = 0; i < imm; i++) { emit(); offset += ptrSize; } break;
      case 0x60: { const n = c.uleb(); for (let i = 0; i < n; i++) { emit(); offset += ptrSize; } break; }
      case 0x70: emit(); offset = c.addUleb(offset) + ptrSize; break;
      case 0x80: { const n = c.uleb(); const skip = c.uleb(); for (let i = 0; i < n; i++) { emit(); offset += skip + ptrSize; } break; }
      default: throw new FormatError('rebase opcodes', c.pos - 1, `unknown rebase opcode 0x${op.toString(16)}`);
    }
  }
  return out;
}

/** Decode a bind, weak-bind or lazy-bind opcode stream (lazy entries are separated by DONE). */
export function decodeBinds(r: ByteReader, off: number, size: number, segs: MachSegment[], ptrSize: number, kind: Bind['kind']): Bind[] {
  r.check(off, size, `${kind}_bind_off`);
  const c = new Cursor(r, off, off + size, `${kind} bind opcodes`);
  const out: Bind[] = [];
  let seg = -1;
  let offset = 0;
  let type = 1;
  let addend = 0;
  let ordinal = 0;
  let symbol = '';
  let weakImport = false;
  const limit = size * 64 + 1024;
  const emit = (): void => {
    if (out.length > limit) throw new FormatError(c.field, c.pos, 'bind stream expands beyond any plausible size');
    out.push({ segment: seg, address: segmentAddress(segs, seg, offset, 'BIND_OPCODE_SET_SEGMENT_AND_OFFSET_ULEB', c.pos), type, addend, dylibOrdinal: ordinal, symbol, weakImport, kind });
  };
  while (!c.done) {
    const b = c.u8();
    const op = b & 0xf0;
    const imm = b & 0x0f;
    switch (op) {
      case 0x00: if (kind !== 'lazy') return out; break; // DONE (lazy streams hold many entries)
      case 0x10: ordinal = imm; break;
      case 0x20: ordinal = c.uleb(); break;
      case 0x30: ordinal = imm === 0 ? 0 : imm - 16; break; // sign-extended special ordinals
      case 0x40: weakImport = (imm & 1) !== 0; symbol = c.cstring(); break;
      case 0x50: type = imm; break;
      case 0x60: addend = c.sleb(); break;
      case 0x70: seg = imm; offset = c.uleb(); break;
      case 0x80: offset = c.addUleb(offset); break;
      case 0x90: emit(); offset += ptrSize; break;
      case 0xa0: emit(); offset = c.addUleb(offset) + ptrSize; break;
      case 0xb0: emit(); offset += imm * ptrSize + ptrSize; break;
      case 0xc0: { const n = c.uleb(); const skip = c.uleb(); for (let i = 0; i < n; i++) { emit(); offset += skip + ptrSize; } break; }
      default: throw new FormatError(c.field, c.pos - 1, `unsupported bind opcode 0x${op.toString(16)}`);
    }
  }
  return out;
}

/** Walk the export trie (terminal info, then edges to children), depth-first in edge order. */
export function decodeExportTrie(r: ByteReader, off: number, size: number): ExportSymbol[] {
  r.check(off, size, 'export_off');
  const out: ExportSymbol[] = [];
  const visited = new Set<number>();
  const walk = (node: number, prefix: string, depth: number): void => {
    if (node >= size) throw new FormatError('export trie', off + node, `child offset ${node} outside the trie`);
    if (visited.has(node) || depth > 512) throw new FormatError('export trie', off + node, 'export trie has a cycle');
    visited.add(node);
    const c = new Cursor(r, off + node, off + size, 'export trie');
    const terminal = c.uleb();
    const childrenAt = c.pos + terminal;
    if (terminal > 0) {
      const flags = c.uleb();
      const e: ExportSymbol = { name: prefix, flags, address: null, reexport: null, resolver: null };
      if ((flags & 0x08) !== 0) { // EXPORT_SYMBOL_FLAGS_REEXPORT
        e.reexport = { ordinal: c.uleb(), importName: c.cstring() };
      } else {
        e.address = c.uleb();
        if ((flags & 0x10) !== 0) e.resolver = c.uleb(); // STUB_AND_RESOLVER
      }
      out.push(e);
    }
    c.pos = childrenAt;
    const n = c.u8();
    for (let i = 0; i < n; i++) {
      const edge = c.cstring();
      walk(c.uleb(), prefix + edge, depth + 1);
    }
  };
  if (size > 0) walk(0, '', 0);
  return out;
}
