/**
 * The bind opcodes that step by the pointer size, which no committed fixture's stream uses
 * (ld64 emits them only for long runs of pointers): BIND_OPCODE_DO_BIND_ULEB_TIMES_SKIPPING_ULEB,
 * BIND_OPCODE_DO_BIND_ADD_ADDR_IMM_SCALED and BIND_OPCODE_DO_BIND_ADD_ADDR_ULEB, in 64- and 32-bit
 * images. The streams and minimal images are built here byte by byte; the expected addresses
 * follow dyld's own decoder (ImageLoaderMachOCompressed::eachBind, dyld-852):
 *   DO_BIND:                      bind; address += sizeof(intptr_t)
 *   DO_BIND_ADD_ADDR_ULEB:        bind; address += uleb + sizeof(intptr_t)
 *   DO_BIND_ADD_ADDR_IMM_SCALED:  bind; address += immediate * sizeof(intptr_t) + sizeof(intptr_t)
 *   DO_BIND_ULEB_TIMES_SKIPPING_ULEB: count times { bind; address += skip + sizeof(intptr_t) }
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ByteReader } from '@polykernel/core';
import { describe, expect, it } from 'vitest';
import { decodeBinds, parseMachO, type MachOFile, type MachSegment } from '../src/index.js';
import { FIXTURES } from './objdump.js';

/** One stream exercising every pointer-stepping bind opcode, from __DATA + 0x10. */
const STREAM = [
  0x11, // BIND_OPCODE_SET_DYLIB_ORDINAL_IMM 1
  0x40, 0x5f, 0x61, 0x00, // BIND_OPCODE_SET_SYMBOL_TRAILING_FLAGS_IMM "_a"
  0x51, // BIND_OPCODE_SET_TYPE_IMM BIND_TYPE_POINTER
  0x71, 0x10, // BIND_OPCODE_SET_SEGMENT_AND_OFFSET_ULEB segment 1, offset 0x10
  0xc0, 0x03, 0x08, // BIND_OPCODE_DO_BIND_ULEB_TIMES_SKIPPING_ULEB count 3, skip 8
  0x90, // BIND_OPCODE_DO_BIND
  0xb2, // BIND_OPCODE_DO_BIND_ADD_ADDR_IMM_SCALED 2
  0x90, // BIND_OPCODE_DO_BIND
  0xa0, 0x08, // BIND_OPCODE_DO_BIND_ADD_ADDR_ULEB 8
  0x90, // BIND_OPCODE_DO_BIND
  0x00, // BIND_OPCODE_DONE
];
const DATA = 0x1_0000_1000;
/** The offsets from __DATA, worked out by hand from the rules above for each pointer size. */
const WANT: Record<4 | 8, number[]> = {
  // 0x10, +8+8, +8+8 | 0x40 | 0x48, then +2*8+8 | 0x60 | 0x68, then +8+8 | 0x78
  8: [0x10, 0x20, 0x30, 0x40, 0x48, 0x60, 0x68, 0x78],
  // 0x10, +8+4, +8+4 | 0x34 | 0x38, then +2*4+4 | 0x44 | 0x48, then +8+4 | 0x54
  4: [0x10, 0x1c, 0x28, 0x34, 0x38, 0x44, 0x48, 0x54],
};

const seg = (segname: string, vmaddr: number): MachSegment => ({ segname, vmaddr, vmsize: 0x1000, fileoff: 0, filesize: 0, maxprot: 3, initprot: 3, flags: 0, sections: [] });

describe('bind opcodes that step by the pointer size', () => {
  it.each([8, 4] as const)('decodeBinds with %i-byte pointers', (ptr) => {
    const bytes = Uint8Array.from(STREAM);
    const binds = decodeBinds(new ByteReader(bytes, true), 0, bytes.length, [seg('__TEXT', 0x1_0000_0000), seg('__DATA', DATA)], ptr, 'bind');
    expect(binds.map((b) => b.address - DATA)).toEqual(WANT[ptr]);
    for (const b of binds) expect([b.segment, b.symbol, b.dylibOrdinal, b.type, b.kind]).toEqual([1, '_a', 1, 1, 'bind']);
  });

  /** A Mach-O image with __TEXT, __DATA and LC_DYLD_INFO_ONLY whose bind stream is STREAM. */
  function image(is64: boolean): Uint8Array {
    const w = is64 ? 8 : 4;
    const segCmd = is64 ? 72 : 56;
    const dyldInfo = 48;
    const header = is64 ? 32 : 28;
    const sizeofcmds = 2 * segCmd + dyldInfo;
    const bindOff = 0x200;
    const out = new Uint8Array(0x300);
    const v = new DataView(out.buffer);
    v.setUint32(0, is64 ? 0xfeedfacf : 0xfeedface, true);
    v.setUint32(4, is64 ? 0x0100000c : 12, true); // CPU_TYPE_ARM64 / CPU_TYPE_ARM
    v.setUint32(12, 6, true); // MH_DYLIB
    v.setUint32(16, 3, true); // ncmds
    v.setUint32(20, sizeofcmds, true);
    let o = header;
    const base = is64 ? 0x1_0000_0000 : 0x1000;
    for (const [name, vmaddr] of [['__TEXT', base], ['__DATA', base + 0x1000]] as const) {
      v.setUint32(o, is64 ? 0x19 : 0x1, true); // LC_SEGMENT_64 / LC_SEGMENT
      v.setUint32(o + 4, segCmd, true);
      out.set(new TextEncoder().encode(name), o + 8);
      const word = (at: number, x: number): void => {
        if (is64) v.setBigUint64(at, BigInt(x), true);
        else v.setUint32(at, x, true);
      };
      word(o + 24, vmaddr);
      word(o + 24 + w, 0x1000); // vmsize; fileoff and filesize 0
      o += segCmd;
    }
    v.setUint32(o, 0x80000022, true); // LC_DYLD_INFO_ONLY
    v.setUint32(o + 4, dyldInfo, true);
    v.setUint32(o + 16, bindOff, true);
    v.setUint32(o + 20, STREAM.length, true);
    out.set(STREAM, bindOff);
    return out;
  }

  it.each([true, false])('binds() of a minimal image (64-bit: %s) uses the header\'s pointer size', (is64) => {
    const m = parseMachO(image(is64)) as MachOFile;
    expect(m.header.is64).toBe(is64);
    const data = m.segments.find((s) => s.segname === '__DATA')!.vmaddr;
    expect(m.binds().map((b) => b.address - data)).toEqual(WANT[is64 ? 8 : 4]);
  });
});

/**
 * The same opcodes from a real linker: binds-x86_64 and binds-arm64_32 (tools/fixtures/src/macho/binds.s,
 * ld64.lld 15 with -O2, whose optimizeOpcodes packs the runs). The stream of each is
 *   SET_SYMBOL "_printf", SET_TYPE pointer, SET_DYLIB_ORDINAL 1, SET_SEGMENT_AND_OFFSET segment 2 + 0,
 *   DO_BIND_ULEB_TIMES_SKIPPING_ULEB 4 × skip one pointer, DO_BIND_ADD_ADDR_IMM_SCALED 3, DO_BIND,
 *   DO_BIND_ADD_ADDR_IMM_SCALED 4, DO_BIND, DONE
 * No tool here prints the opcodes themselves (llvm-objdump 14 prints the decoded table), so the
 * stream bytes are checked literally. The offsets below are derived by hand from dyld's rules; the
 * saved llvm-objdump bind tables (dyld.test.ts) agree with them.
 */
describe('bind opcodes that step by the pointer size, in files linked by ld64.lld -O2', () => {
  const LINKED: [file: string, ptr: 4 | 8, skip: number, want: number[]][] = [
    // 0, 0x10, 0x20, 0x30 (+8+8 each) | 0x40, +3*8+8 | 0x60 | 0x68, +4*8+8 | 0x90
    ['binds-x86_64', 8, 0x08, [0x00, 0x10, 0x20, 0x30, 0x40, 0x60, 0x68, 0x90]],
    // 0, 0x08, 0x10, 0x18 (+4+4 each) | 0x20, +3*4+4 | 0x30 | 0x34, +4*4+4 | 0x48
    ['binds-arm64_32', 4, 0x04, [0x00, 0x08, 0x10, 0x18, 0x20, 0x30, 0x34, 0x48]],
  ];
  it.each(LINKED)('%s (%i-byte pointers)', (file, ptr, skip, want) => {
    const bytes = new Uint8Array(readFileSync(join(FIXTURES, file)));
    const m = parseMachO(bytes) as MachOFile;
    expect(m.header.is64).toBe(ptr === 8);
    const d = m.dyldInfo!;
    const stream = [...bytes.subarray(d.bindOff, d.bindOff + d.bindSize)];
    // The linker really used the two opcodes: ULEB_TIMES_SKIPPING_ULEB (count 4, the skip), IMM_SCALED 3 and 4.
    expect(stream.slice(13, 21)).toEqual([0xc0, 0x04, skip, 0xb3, 0x90, 0xb4, 0x90, 0x00]);
    const data = m.segments.find((s) => s.segname === '__DATA')!.vmaddr;
    const binds = m.binds();
    expect(binds.map((b) => b.address - data)).toEqual(want);
    for (const b of binds) expect([b.symbol, b.kind]).toEqual(['_printf', 'bind']);
  });
});
