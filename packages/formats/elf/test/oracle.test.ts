/**
 * Oracle tests: the parser against GNU readelf, run live on real files of this machine (a
 * deterministic sample of /usr/bin, /usr/lib and the dynamic linker) and on the committed fixtures.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseElf, symbolDisplayName, type ElfFile } from '../src/index.js';
import { fixtureFiles, hasReadelf, hostElfSample, readelfFacts, type ReadelfFacts } from './readelf.js';

const PF = (flags: number): string => ((flags & 4) !== 0 ? 'R' : ' ') + ((flags & 2) !== 0 ? 'W' : ' ') + ((flags & 1) !== 0 ? 'E' : ' ');

function compare(elf: ElfFile, facts: ReadelfFacts): void {
  expect(elf.machineDescription).toBe(facts.machine);
  expect(elf.header.entry).toBe(facts.entry);
  expect(elf.header.phnum).toBe(facts.phnum);
  expect(elf.header.shnum).toBe(facts.shnum);
  expect(elf.programHeaders.map((p) => ({ offset: p.offset, vaddr: p.vaddr, filesz: p.filesz, memsz: p.memsz, flags: PF(p.flags) })))
    .toEqual(facts.segments.map(({ type: _t, ...rest }) => rest));
  expect((elf.dynamic?.entries ?? []).map((e) => e.tag)).toEqual(facts.dynamic.map((d) => d.tag));
  expect(elf.dynamic?.needed ?? []).toEqual(facts.needed);
  if (elf.sections.length > 0) {
    expect(elf.dynamicSymbols().map((s) => s.type === 3 && s.name === '' ? (elf.sections[s.shndx]?.name ?? '') : symbolDisplayName(s))).toEqual(facts.dynsyms);
    const counts = new Map<string, number>();
    for (const t of elf.relocations()) {
      for (const r of t.relocations) {
        const key = t.kind === 'relr' ? 'RELR' : r.typeName;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    expect(Object.fromEntries(counts)).toEqual(Object.fromEntries(facts.relocCounts));
    expect(elf.relocations().flatMap((t) => t.relocations.map((r) => `${r.offset} ${t.kind === 'relr' ? 'RELR' : r.typeName}`))).toEqual(facts.relocs);
  }
}

describe.runIf(hasReadelf())('against readelf, live on this machine', () => {
  const files = hostElfSample(40);
  it('found real files to check', () => {
    expect(files.length).toBeGreaterThan(10);
  });
  it.each(files)('%s', (file) => {
    compare(parseElf(readFileSync(file)), readelfFacts(file));
  });
});

describe.runIf(hasReadelf())('against readelf, fixtures (six architectures, FreeBSD)', () => {
  it.each(fixtureFiles())('%s', (file) => {
    compare(parseElf(readFileSync(file)), readelfFacts(file));
  });
});
