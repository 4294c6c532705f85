/** LC_DYLD_CHAINED_FIXUPS against llvm-objdump 16's --dyld-info / --chained-fixups (saved). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MachOFile, parseMachO } from '../src/index.js';
import { FIXTURES } from './objdump.js';

describe.each(['chained-x86_64', 'chained-arm64'])('%s', (file) => {
  const m = parseMachO(readFileSync(join(FIXTURES, file))) as MachOFile;
  const text = readFileSync(join(FIXTURES, `${file}.fixups.txt`), 'utf8');
  const cf = m.chainedFixups()!;
  it('imports: ordinals and names', () => {
    const want = [...text.matchAll(/lib_ordinal = (-?\d+) .*\n\s+weak_import = (\d)\n\s+name_offset = \d+ \((.*)\)/g)].map((x) => [Number(x[1]), x[2] === '1', x[3]]);
    expect(cf.imports.map((i) => [i.libOrdinal, i.weakImport, i.name])).toEqual(want);
  });
  it('chain starts', () => {
    const fmt = [...text.matchAll(/pointer_format = (\d+)/g)].map((x) => Number(x[1]));
    expect(cf.starts.map((s) => s.pointerFormat)).toEqual(fmt);
    expect(cf.starts.map((s) => s.segmentOffset)).toEqual([...text.matchAll(/segment_offset = (0x[0-9a-f]+)/g)].map((x) => parseInt(x[1]!, 16)));
  });
  it('every fixup: address, raw pointer, rebase target or bound symbol', () => {
    const rows = [...text.matchAll(/^\S+\s+\S+\s+(0x[0-9A-F]+) (0x[0-9A-F]{16}) (rebase|bind)\s+(?:0x[0-9A-F]+\s+\S+\s+(\S+)|(0x[0-9A-F]+))$/gm)];
    expect(rows.length).toBeGreaterThan(0);
    expect(cf.fixups.map((f) => [f.address, f.raw, f.kind, f.kind === 'bind' ? cf.imports[f.importIndex!]!.name : f.target])).toEqual(
      rows.map((x) => [parseInt(x[1]!, 16), x[2], x[3], x[3] === 'bind' ? x[4] : parseInt(x[5]!, 16)]),
    );
  });
});
