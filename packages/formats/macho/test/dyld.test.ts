/** Rebase/bind opcode streams and the export trie against llvm-objdump's decoding (saved). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FatFile, parseMachO, type MachOFile } from '../src/index.js';
import { FIXTURES } from './objdump.js';

/** llvm-objdump's short dylib name: last path component, without ".dylib" or a version suffix. */
function shortName(m: MachOFile, ordinal: number): string {
  if (ordinal === -2) return 'flat-namespace';
  if (ordinal === -1) return 'main-executable';
  if (ordinal === 0) return 'this-image';
  const d = m.dylibs.filter((x) => x.kind !== 'id')[ordinal - 1];
  const base = (d?.name ?? '').split('/').pop() ?? '';
  return base.replace(/\.dylib$/, '').split('.')[0]!;
}

function sectionAt(m: MachOFile, addr: number): [string, string] {
  for (const s of m.segments) for (const x of s.sections) if (addr >= x.addr && addr < x.addr + x.size) return [s.segname, x.sectname];
  return ['?', '?'];
}

function table(text: string, title: string, header = true): string[][] {
  const part = text.split(`${title}:\n`)[1];
  if (part === undefined) return [];
  const lines = part.split('\n');
  const out: string[][] = [];
  for (const l of lines.slice(header ? 1 : 0)) {
    if (l.trim() === '' || /^[A-Z][a-z]+.*:$/.test(l)) break;
    out.push(l.trim().split(/\s+/));
  }
  return out;
}

const CASES: [string, string, string | null][] = [
  ['hello-x86_64', 'hello-x86_64.dyld.txt', null],
  ['hello-arm64', 'hello-arm64.dyld.txt', null],
  ['libgreet-x86_64.dylib', 'libgreet-x86_64.dylib.dyld.txt', null],
  ['libgreet-arm64.dylib', 'libgreet-arm64.dylib.dyld.txt', null],
  ['fsevents.node', 'fsevents.node.x86_64.dyld.txt', 'x86_64'],
  ['fsevents.node', 'fsevents.node.arm64.dyld.txt', 'aarch64'],
  // Bind streams with DO_BIND_ULEB_TIMES_SKIPPING_ULEB and DO_BIND_ADD_ADDR_IMM_SCALED, 8- and 4-byte pointers.
  ['binds-x86_64', 'binds-x86_64.dyld.txt', null],
  ['binds-arm64_32', 'binds-arm64_32.dyld.txt', null],
];

describe('dyld info against llvm-objdump', () => {
  it.each(CASES)('%s (%s)', (file, saved, arch) => {
    const p = parseMachO(readFileSync(join(FIXTURES, file)));
    const m = p instanceof FatFile ? p.arches.find((a) => a.machine === arch)!.image : p;
    const text = readFileSync(join(FIXTURES, saved), 'utf8');
    const base = m.imageBase ?? 0;
    expect(m.rebases().map((r) => [...sectionAt(m, r.address), r.address])).toEqual(table(text, 'Rebase table').map((c) => [c[0], c[1], parseInt(c[2]!, 16)]));
    const binds = m.binds();
    expect(binds.filter((b) => b.kind === 'bind').map((b) => [...sectionAt(m, b.address), b.address, b.addend, shortName(m, b.dylibOrdinal), b.symbol]))
      .toEqual(table(text, 'Bind table').map((c) => [c[0], c[1], parseInt(c[2]!, 16), Number(c[4]), c[5], c[6]]));
    expect(binds.filter((b) => b.kind === 'lazy').map((b) => [...sectionAt(m, b.address), b.address, shortName(m, b.dylibOrdinal), b.symbol]))
      .toEqual(table(text, 'Lazy bind table').map((c) => [c[0], c[1], parseInt(c[2]!, 16), c[3], c[4]]));
    expect(m.exports().map((e) => [base + (e.address ?? 0), e.name]).sort()).toEqual(table(text, 'Exports trie', false).map((c) => [parseInt(c[0]!, 16), c[1]]).sort());
  });
});
