/**
 * headerViewsExtent: the first bytes of a file that the header views need. For every fixture the
 * file cut there parses to the same headers, sections, dynamic table and notes as the whole file,
 * and reading it took only positioned reads inside that extent (issue 21: lazy inspect).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { headerViewsExtent, parseElf } from '../src/index.js';
import { fixtureFiles } from './readelf.js';

const views = (bytes: Uint8Array) => {
  const elf = parseElf(bytes);
  return { header: elf.header, ph: elf.programHeaders, sh: elf.sections, dynamic: elf.dynamic, interp: elf.interpreter, kind: elf.kind, notes: elf.notes() };
};

describe('the header views need only the file up to headerViewsExtent', () => {
  it.each([...fixtureFiles(), '/bin/true', '/lib/x86_64-linux-gnu/libc.so.6'])('%s', async (file) => {
    const bytes = new Uint8Array(readFileSync(file));
    let furthest = 0;
    const read = (offset: number, length: number): Promise<Uint8Array> => {
      furthest = Math.max(furthest, offset + length);
      return Promise.resolve(bytes.subarray(offset, offset + length));
    };
    const end = await headerViewsExtent(read, bytes.length);
    expect(end).not.toBeNull();
    expect(furthest).toBeLessThanOrEqual(end!);
    expect(views(bytes.subarray(0, end!))).toEqual(views(bytes));
  });
  it('a limit below the section header table gives null: nothing past the limit is read', async () => {
    const bytes = new Uint8Array(readFileSync('/bin/true'));
    const reads: number[] = [];
    const end = await headerViewsExtent((o, l) => {
      reads.push(o + l);
      return Promise.resolve(bytes.subarray(o, o + l));
    }, 4096);
    expect(end).toBeNull();
    expect(Math.max(...reads)).toBeLessThanOrEqual(4096);
  });
});
