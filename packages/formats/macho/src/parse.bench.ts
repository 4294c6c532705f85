/**
 * Parse Mach-O files side by side with the npm peer `macho` (thin files only: it rejects fat
 * files). Run: npx nx bench @polykernel/macho
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { bench, describe } from 'vitest';
import { FatFile, parseMachO } from './index.js';

const require = createRequire(import.meta.url);
const macho = require('macho') as { parse(b: Buffer): { cmds: unknown[] } };
const fat = readFileSync(new URL('../test/fixtures/fsevents.node', import.meta.url));
const parsed = parseMachO(fat) as FatFile;
const arm = parsed.arches[1]!;
const thin = fat.subarray(arm.offset, arm.offset + arm.size);
let sink = 0;

describe(`parse the arm64 slice of fsevents.node (${thin.length} bytes)`, () => {
  bench('@polykernel/macho: header + load commands + symbols + rebases + binds + export trie', () => {
    const m = parseMachO(thin) as ReturnType<typeof parseMachO> & { symbols(): unknown[] };
    if (m instanceof FatFile) return;
    sink += m.symbols().length + m.rebases().length + m.binds().length + m.exports().length;
  });
  bench('@polykernel/macho: header + load commands', () => {
    const m = parseMachO(thin);
    if (!(m instanceof FatFile)) sink += m.commands.length;
  });
  bench('macho.parse (header + load commands; opcode streams undecoded)', () => {
    sink += macho.parse(thin).cmds.length;
  });
});

export const keep = (): number => sink;
