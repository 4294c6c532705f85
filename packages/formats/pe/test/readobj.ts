/** Pull structured facts out of saved `llvm-readobj` output for the oracle tests. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

export function fixtureFiles(): string[] {
  return readdirSync(FIXTURES).filter((f) => !f.endsWith('.txt') && !f.endsWith('.md')).sort();
}

export interface ReadobjFacts {
  machine: number;
  sectionCount: number;
  entryRva: number | null;
  imageBase: number | null;
  sizeOfImage: number | null;
  sections: { name: string; virtualSize: number; virtualAddress: number; rawSize: number; pointerToRawData: number; characteristics: number }[];
  imports: { name: string; symbols: string[] }[];
  exports: { ordinal: number; name: string; rva: number }[];
  baseRelocs: string[];
  tlsCallbacks: number | null;
  pdb: string | null;
}

const num = (s: string | undefined): number => (s === undefined ? NaN : s.startsWith('0x') ? parseInt(s, 16) : Number(s));

export function readobjFacts(file: string): ReadobjFacts {
  const t = readFileSync(join(FIXTURES, `${file}.readobj.txt`), 'utf8');
  const one = (re: RegExp): string | undefined => re.exec(t)?.[1];
  const sections = [...t.matchAll(/ {2}Section \{\n {4}Number: \d+\n {4}Name: (\S*) \([^)]*\)\n {4}VirtualSize: (\S+)\n {4}VirtualAddress: (\S+)\n {4}RawDataSize: (\S+)\n {4}PointerToRawData: (\S+)\n[\s\S]*?Characteristics \[ \((0x[0-9A-F]+)\)/g)].map((m) => ({
    name: m[1]!, virtualSize: num(m[2]), virtualAddress: num(m[3]), rawSize: num(m[4]), pointerToRawData: num(m[5]), characteristics: num(m[6]),
  }));
  const imports = [...t.matchAll(/^Import \{\n {2}Name: (.*)\n[\s\S]*?\n\}/gm)].map((m) => ({
    name: m[1]!, symbols: [...m[0].matchAll(/^ {2}Symbol: (.*)$/gm)].map((s) => s[1]!),
  }));
  const exports = [...t.matchAll(/^Export \{\n {2}Ordinal: (\d+)\n {2}Name: (.*)\n {2}RVA: (\S+)/gm)].map((m) => ({ ordinal: Number(m[1]), name: m[2]!, rva: num(m[3]) }));
  const baseRelocs = [...t.matchAll(/^ {2}Entry \{\n {4}Type: (\S+)\n {4}Address: (\S+)/gm)].map((m) => `${m[1]!} ${num(m[2])}`);
  return {
    machine: num(one(/Machine: \S+ \((0x[0-9A-F]+)\)/)),
    sectionCount: num(one(/SectionCount: (\d+)/)),
    entryRva: one(/AddressOfEntryPoint: (\S+)/) === undefined ? null : num(one(/AddressOfEntryPoint: (\S+)/)),
    imageBase: one(/ImageBase: (\S+)/) === undefined ? null : num(one(/ImageBase: (\S+)/)),
    sizeOfImage: one(/SizeOfImage: (\S+)/) === undefined ? null : num(one(/SizeOfImage: (\S+)/)),
    sections, imports, exports, baseRelocs,
    tlsCallbacks: one(/AddressOfCallBacks: (\S+)/) === undefined ? null : num(one(/AddressOfCallBacks: (\S+)/)),
    pdb: one(/PDBFileName: (.*)/) ?? null,
  };
}
