/**
 * Oracle tests: the parser against GNU readelf. On the committed fixtures the oracle is readelf's
 * saved output (always run, no tool needed); a separate check regenerates those saved outputs with
 * the live readelf and wants them byte for byte; and the parser is checked against readelf run live
 * on real files of this machine (a deterministic sample of /usr/bin, /usr/lib and the dynamic
 * linker). The live checks need readelf: under CI its absence fails, elsewhere it skips and says so.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { requires } from '../../../../tools/test-support/oracle.js';
import { parseElf, symbolDisplayName, type ElfFile } from '../src/index.js';
import { fixtureFiles, hostElfSample, readelfFacts, readelfFactsOf, readelfMissing, regenerateReadelf, savedReadelf, SAVED_OPTIONS, type ReadelfFacts } from './readelf.js';

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

describe('against readelf\'s saved output, fixtures (six architectures, FreeBSD)', () => {
  it.each(fixtureFiles())('%s', (file) => {
    compare(parseElf(readFileSync(file)), readelfFactsOf(savedReadelf(file)));
  });
});

describe(`the saved outputs regenerate byte for byte with the live readelf ${SAVED_OPTIONS.join(' ')}`, () => {
  if (requires('readelf (regenerating the saved outputs)', readelfMissing())) {
    it.each(fixtureFiles())('%s', (file) => {
      expect(regenerateReadelf(file)).toBe(savedReadelf(file));
    });
  }
});

describe('against readelf, live on this machine', () => {
  if (requires('readelf (live on this machine\'s binaries)', readelfMissing())) {
    const files = hostElfSample(40);
    it('found real files to check', () => {
      expect(files.length).toBeGreaterThan(10);
    });
    it.each(files)('%s', (file) => {
      compare(parseElf(readFileSync(file)), readelfFacts(file));
    });
  }
});
