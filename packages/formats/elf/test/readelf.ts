/**
 * Test helpers: pull structured facts out of readelf's output (saved beside each fixture, or run
 * live), and list the fixtures and a deterministic sample of the host's ELF files.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { missingTools } from '../../../../tools/test-support/oracle.js';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

export function fixtureFiles(): string[] {
  return readdirSync(FIXTURES).filter((f) => !f.endsWith('.txt') && !f.endsWith('.md')).sort().map((f) => join(FIXTURES, f));
}

/** Null when readelf is on PATH, else what is missing. */
export const readelfMissing = (): string | null => missingTools([['readelf', 'binutils']]);

/** The options every saved `<fixture>.readelf.txt` was made with (tools/fixtures/build-elf.sh). */
export const SAVED_OPTIONS = ['-hlSdrsnW', '--dyn-syms'];

/** The saved readelf output of a fixture (a path from fixtureFiles()). */
export function savedReadelf(file: string): string {
  return readFileSync(`${file}.readelf.txt`, 'utf8');
}

/** What tools/fixtures/build-elf.sh saves for a fixture, made now by the live readelf (stdout, then stderr). */
export function regenerateReadelf(file: string): string {
  const r = spawnSync('readelf', [...SAVED_OPTIONS, basename(file)], { cwd: FIXTURES, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.error !== undefined) throw r.error;
  return r.stdout + r.stderr;
}

export function readelf(args: string[], file: string): string {
  return execFileSync('readelf', [...args, file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] });
}

function isElfFile(path: string): boolean {
  try {
    const st = statSync(path);
    if (!st.isFile() || st.size < 64) return false;
    const fd = openSync(path, 'r');
    const b = Buffer.alloc(4);
    readSync(fd, b, 0, 4, 0);
    closeSync(fd);
    return b[0] === 0x7f && b.toString('latin1', 1, 4) === 'ELF';
  } catch {
    return false;
  }
}

/**
 * A deterministic sample of real ELF files on this machine: the named ones that exist, plus every
 * k-th ELF file (sorted) of the given directories, up to `max`.
 */
export function hostElfSample(max: number): string[] {
  const named = ['/bin/ls', '/bin/bash', '/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2', '/usr/lib/x86_64-linux-gnu/libstdc++.so.6']
    .filter(isElfFile);
  const pool: string[] = [];
  for (const dir of ['/usr/bin', '/usr/lib/x86_64-linux-gnu', '/usr/sbin']) {
    try {
      for (const f of readdirSync(dir).sort()) {
        const p = join(dir, f);
        if (statSync(p).size < 64 * 1024 * 1024 && isElfFile(p)) pool.push(p);
      }
    } catch {
      // directory missing on this machine
    }
  }
  const step = Math.max(1, Math.floor(pool.length / Math.max(1, max - named.length)));
  const picked = pool.filter((_, i) => i % step === 0).slice(0, Math.max(0, max - named.length));
  return [...new Set([...named, ...picked])];
}

export interface ReadelfFacts {
  type: string;
  machine: string;
  entry: number;
  phnum: number;
  shnum: number;
  segments: { type: string; offset: number; vaddr: number; filesz: number; memsz: number; flags: string }[];
  dynamic: { tag: number; type: string }[];
  needed: string[];
  dynsyms: string[];
  relocCounts: Map<string, number>;
  /** Every relocation as "offset type" (RELR: "offset RELR"), in readelf's order. */
  relocs: string[];
}

/** Structured facts from `readelf -hldrW --dyn-syms` run live on a file. */
export function readelfFacts(file: string): ReadelfFacts {
  return readelfFactsOf(readelf(['-hldrW', '--dyn-syms'], file));
}

/** Structured facts from readelf output holding at least -hldrW --dyn-syms (the saved outputs add -Ssn). */
export function readelfFactsOf(text: string): ReadelfFacts {
  const field = (label: string): string => new RegExp(`^\\s+${label}:\\s+(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
  const segments = [...text.matchAll(/^ {2}([A-Z_0-9+x]+)\s+0x([0-9a-f]+) 0x([0-9a-f]+) 0x[0-9a-f]+ 0x([0-9a-f]+) 0x([0-9a-f]+) ([R ][W ][E ]) 0x[0-9a-f]+$/gm)].map((m) => ({
    type: m[1]!, offset: parseInt(m[2]!, 16), vaddr: parseInt(m[3]!, 16), filesz: parseInt(m[4]!, 16), memsz: parseInt(m[5]!, 16), flags: m[6]!,
  }));
  const dynamic = [...text.matchAll(/^ 0x([0-9a-f]+) \(([^)]+)\)/gm)].map((m) => ({ tag: Number(BigInt.asIntN(64, BigInt('0x' + m[1]!))), type: m[2]! }));
  const needed = [...text.matchAll(/\(NEEDED\)\s+Shared library: \[(.*)\]$/gm)].map((m) => m[1]!);
  const dynsymSection = /Symbol table '\.dynsym' contains \d+ entr(?:y|ies):\n.*\n([\s\S]*?)(?:\n\n|$)/.exec(text)?.[1] ?? '';
  const dynsyms = dynsymSection.split('\n').filter((l) => /^\s+\d+:/.test(l)).map((l) => l.trim().split(/\s+/).slice(7).join(' '));
  const relocCounts = new Map<string, number>();
  for (const m of text.matchAll(/^[0-9a-f]{8,16} {2}[0-9a-f]{8,16} (R_[A-Z0-9_]+)/gm)) relocCounts.set(m[1]!, (relocCounts.get(m[1]!) ?? 0) + 1);
  for (const m of text.matchAll(/^ {2}(\d+) offsets$/gm)) relocCounts.set('RELR', (relocCounts.get('RELR') ?? 0) + Number(m[1]));
  const relocs: string[] = [];
  let inRelr = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('Relocation section')) inRelr = line.includes('.relr');
    let m = /^([0-9a-f]{8,16}) {2}[0-9a-f]{8,16} (R_[A-Z0-9_]+)/.exec(line);
    if (m !== null) relocs.push(`${parseInt(m[1]!, 16)} ${m[2]!}`);
    else if (inRelr && (m = /^([0-9a-f]{8,16})$/.exec(line)) !== null) relocs.push(`${parseInt(m[1]!, 16)} RELR`);
  }
  return {
    relocs,
    type: field('Type'), machine: field('Machine'), entry: parseInt(field('Entry point address'), 16),
    phnum: Number(field('Number of program headers')), shnum: Number(field('Number of section headers')),
    segments, dynamic, needed, dynsyms, relocCounts,
  };
}
