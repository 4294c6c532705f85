/**
 * The tables readelf -a prints beyond -hlSdrsn (issue 21): section groups (-g), the hash-table
 * bucket-length histograms (-I) and the version sections (-V). Checked against what readelf 2.40
 * shows for the committed fixtures, and live against readelf -gIVW on this machine's binaries (the
 * live check needs readelf: under CI its absence fails, elsewhere it skips and says so). The CLI's
 * inspect.test.ts compares the printed text byte for byte.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { requires } from '../../../../tools/test-support/oracle.js';
import { GRP_COMDAT, parseElf, type VersionSection } from '../src/index.js';
import { FIXTURES, hostElfSample, readelf, readelfMissing } from './readelf.js';

const fixture = (f: string) => parseElf(readFileSync(join(FIXTURES, f)));

describe('section groups (readelf -g)', () => {
  it('an i386 object\'s COMDAT group: flag word, signature symbol, member sections', () => {
    const { groups, rejected } = fixture('greet-i386.o').sectionGroups();
    expect(rejected).toEqual([]);
    expect(groups.map((g) => [g.section.index, g.section.name, g.flags, g.signature, g.members])).toEqual([[1, '.group', GRP_COMDAT, '__x86.get_pc_thunk.bx', [9]]]);
  });
  it('a group whose sh_link is not a SHT_SYMTAB is rejected with readelf\'s words, the rest read', () => {
    const bytes = new Uint8Array(readFileSync(join(FIXTURES, 'greet-i386.o')));
    const elf = parseElf(bytes);
    const g = elf.sections[1]!;
    const at = elf.header.shoff + g.index * elf.header.shentsize + 24; // Elf32_Shdr.sh_link
    new DataView(bytes.buffer).setUint32(at, 0, true);
    expect(parseElf(bytes).sectionGroups()).toEqual({ groups: [], rejected: ["Bad sh_link in group section `.group'"] });
  });
  it('an executable has none', () => {
    expect(fixture('hello-pie-x86_64.elf').sectionGroups().groups).toEqual([]);
  });
});

describe('bucket-length histograms (readelf -I)', () => {
  it('.gnu.hash of a PIE: 2 buckets, the first holding the one exported symbol, the second empty', () => {
    expect(fixture('hello-pie-x86_64.elf').hashHistograms()).toEqual({ sysv: null, gnu: [1, 0] });
  });
  it('a .gnu.hash with no hashed symbol has no histogram, as readelf shows none', () => {
    expect(fixture('static-pie-x86_64.elf').hashHistograms().gnu).toBeNull();
  });
  it('the chains cover every hashed dynamic symbol once', () => {
    const elf = parseElf(readFileSync('/lib/x86_64-linux-gnu/libc.so.6'));
    const { sysv, gnu } = elf.hashHistograms();
    const total = (l: number[] | undefined | null) => (l ?? []).reduce((a, b) => a + b, 0);
    expect(total(sysv?.lengths)).toBe(elf.dynamicSymbols().length - 1); // DT_HASH: every symbol but index 0
    expect(total(gnu)).toBe(elf.dynamicSymbols().filter((s) => s.shndx !== 0).length);
  });
});

const brief = (v: VersionSection): unknown => v.kind === 'versym'
  ? [v.kind, v.section.name, v.entries.map((e) => `${e.value}${e.name === null ? '' : ` ${e.name}`}`)]
  : v.kind === 'verneed'
    ? [v.kind, v.section.name, v.entries.map((n) => [n.at, n.file, n.aux.map((a) => [a.at, a.name, a.flags, a.other])])]
    : [v.kind, v.section.name, v.entries.map((d) => [d.at, d.index, d.flags, d.name, d.parents.length])];

describe('version sections (readelf -V)', () => {
  it('a PIE: .gnu.version and .gnu.version_r, with names as readelf finds them', () => {
    expect(fixture('hello-pie-x86_64.elf').versionSections().map(brief)).toEqual([
      ['versym', '.gnu.version', ['0', '2 GLIBC_2.34', '1', '3 GLIBC_2.2.5', '1', '1', '1', '3 GLIBC_2.2.5']],
      ['verneed', '.gnu.version_r', [[0, { text: 'libc.so.6' }, [[0x10, { text: 'GLIBC_2.2.5' }, 0, 3], [0x20, { text: 'GLIBC_2.34' }, 0, 2]]]]],
    ]);
  });
  it('a library\'s .gnu.version_d: the base version first, then each with its parents', () => {
    const vd = fixture('libgreet-x86_64.so').versionSections().find((v) => v.kind === 'verdef');
    const libc = parseElf(readFileSync('/lib/x86_64-linux-gnu/libc.so.6')).versionSections().find((v) => v.kind === 'verdef');
    for (const v of [vd, libc]) {
      if (v?.kind !== 'verdef') continue;
      expect(v.entries[0]).toMatchObject({ at: 0, index: 1, flags: 1 }); // VER_FLG_BASE
      expect(v.pastEnd).toBe(false);
    }
    expect(libc?.kind === 'verdef' && libc.entries.find((d) => d.name !== undefined && 'text' in d.name && d.name.text === 'GLIBC_2.2.6')?.parents.map((p) => p.name)).toEqual([{ text: 'GLIBC_2.2.5' }]);
  });
  it('a relocatable object has none', () => {
    expect(fixture('greet-x86_64.o').versionSections()).toEqual([]);
  });
});

describe('against readelf -gIVW, live on this machine', () => {
  if (requires('readelf (the -g -I -V tables live on this machine\'s binaries)', readelfMissing())) {
    const files = hostElfSample(20);
    it.each(files)('%s: group count, histogram totals, version section names and entry counts', (file) => {
      const text = readelf(['-gIVW'], file);
      const elf = parseElf(readFileSync(file));
      expect(elf.sectionGroups().groups.length).toBe([...text.matchAll(/group section \[/g)].length);
      const buckets = [...text.matchAll(/^Histogram for .*\(total of (\d+) buckets?\):$/gm)].map((m) => Number(m[1]));
      const { sysv, gnu } = elf.hashHistograms();
      expect([sysv?.lengths.length, gnu?.length].filter((n) => n !== undefined)).toEqual(buckets);
      const sections = [...text.matchAll(/^Version (?:symbols|needs|definition) section '([^']+)' contains (\d+) entr/gm)].map((m) => `${m[1]} ${m[2]}`);
      expect(elf.versionSections().map((v) => `${v.section.name} ${v.kind === 'versym' ? v.entries.length : v.section.info}`)).toEqual(sections);
    });
  }
});

describe('RISC-V build attributes (readelf -A)', () => {
  it('the riscv vendor subsection: stack alignment and the ISA string', () => {
    const [sec] = fixture('hello-pie-riscv64.elf').attributeSections();
    expect(sec?.section.name).toBe('.riscv.attributes');
    expect(sec?.vendors).toEqual([{ vendor: 'riscv', subsections: [{ tag: 1, numbers: [], attributes: [{ tag: 4, number: 16 }, { tag: 5, text: 'rv64i2p1_m2p0_a2p1_f2p2_d2p2_c2p0_zicsr2p0_zifencei2p0_zmmul1p0' }] }] }]);
  });
  it('other machines\' attribute rules are not read', () => {
    expect(fixture('hello-pie-armhf.elf').attributeSections()).toEqual([]);
    expect(fixture('hello-pie-x86_64.elf').attributeSections()).toEqual([]);
  });
});
