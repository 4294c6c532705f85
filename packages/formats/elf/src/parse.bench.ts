/**
 * Parse libc.so.6 (headers, dynamic symbols with versions, relocations) side by side with the npm
 * peers elfy and elfinfo, each used the way its README shows. Run: npx nx bench @polykernel/elf
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { bench, describe } from 'vitest';
import { parseElf } from './index.js';

const require = createRequire(import.meta.url);
const elfy = require('elfy') as { parse(b: Buffer): unknown };
const elfinfo = require('elfinfo') as { open(b: Buffer): Promise<{ success: boolean }> };

const LIBC = ['/lib/x86_64-linux-gnu/libc.so.6', '/usr/lib/x86_64-linux-gnu/libc.so.6'].find((p) => {
  try {
    readFileSync(p);
    return true;
  } catch {
    return false;
  }
});
const bytes = LIBC === undefined ? Buffer.alloc(0) : readFileSync(LIBC);
let sink = 0;

describe.runIf(LIBC !== undefined)(`parse ${LIBC ?? 'libc.so.6'} (${bytes.length} bytes)`, () => {
  bench('@polykernel/elf: headers + dynamic symbols (versions) + relocations', () => {
    const e = parseElf(bytes);
    sink += e.dynamicSymbols().length + e.relocations().reduce((n, t) => n + t.relocations.length, 0);
  });
  bench('@polykernel/elf: headers only', () => {
    sink += parseElf(bytes).sections.length;
  });
  bench('elfy.parse (headers and section data; no symbols)', () => {
    sink += elfy.parse(bytes) === null ? 0 : 1;
  });
  bench('elfinfo.open (headers, symbols, relocations)', async () => {
    sink += (await elfinfo.open(bytes)).success ? 1 : 0;
  });
});

export const keep = (): number => sink;
