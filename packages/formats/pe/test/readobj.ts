/** Pull structured facts out of saved `llvm-readobj` output for the oracle tests; run the live llvm-readobj. */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findTool, which } from '../../../../tools/test-support/oracle.js';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

export function fixtureFiles(): string[] {
  return readdirSync(FIXTURES).filter((f) => !f.endsWith('.txt') && !f.endsWith('.md')).sort();
}

/**
 * The llvm-readobj to run: llvm-readobj-14 (what made the saved outputs) if present, else any
 * llvm-readobj or llvm-readobj-NN on PATH (accepted when its output is identical).
 */
export function readobjTool(): string | null {
  return which('llvm-readobj-14') ?? findTool('llvm-readobj');
}

export const readobjMissing = (): string | null =>
  (readobjTool() === null ? 'not found on PATH: llvm-readobj or llvm-readobj-NN (Debian package llvm-14)' : null);

/** The options every saved `<fixture>.readobj.txt` was made with (tools/fixtures/build-pe.sh, fetch-msvc-pe.sh). */
export const SAVED_OPTIONS = ['--file-headers', '--sections', '--coff-imports', '--coff-exports', '--coff-basereloc', '--coff-tls-directory', '--coff-debug-directory'];

/** What build-pe.sh saves for a fixture, made now by the live llvm-readobj (stdout, then stderr). */
export function regenerateReadobj(tool: string, file: string): string {
  const r = spawnSync(tool, [...SAVED_OPTIONS, file], { cwd: FIXTURES, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error !== undefined) throw r.error;
  return r.stdout + r.stderr;
}

export const savedReadobj = (file: string): string => readFileSync(join(FIXTURES, `${file}.readobj.txt`), 'utf8');

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
