/**
 * Parse a real MSVC DLL (rollup's 2.6 MB Windows module: 3,500+ imports, thousands of base
 * relocations) side by side with the npm peer pe-library, each used as its README shows.
 * Run: npx nx bench @polykernel/pe
 */
import { readFileSync } from 'node:fs';
import { bench, describe } from 'vitest';
import * as PE from 'pe-library';
import { parsePe } from './index.js';

const bytes = readFileSync(new URL('../test/fixtures/rollup.win32-x64-msvc.dll', import.meta.url));
let sink = 0;

describe(`parse rollup.win32-x64-msvc.dll (${bytes.length} bytes)`, () => {
  bench('@polykernel/pe: headers + sections + imports + exports + base relocations + debug', () => {
    const pe = parsePe(bytes);
    sink += pe.imports().length + (pe.exports()?.entries.length ?? 0) + pe.baseRelocations().length + pe.debug().length;
  });
  bench('@polykernel/pe: headers + sections only', () => {
    sink += parsePe(bytes).sections.length;
  });
  bench('pe-library NtExecutable.from (headers + sections; no import/export decoding)', () => {
    sink += PE.NtExecutable.from(bytes).getAllSections().length;
  });
});

export const keep = (): number => sink;
