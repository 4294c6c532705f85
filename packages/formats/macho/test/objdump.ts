/**
 * Facts from saved `llvm-objdump --macho --private-headers --arch=all` output, per architecture;
 * and the live llvm-objdump that regenerates the saved outputs.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findTool, which } from '../../../../tools/test-support/oracle.js';

export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

export function fixtureFiles(): string[] {
  return readdirSync(FIXTURES).filter((f) => !f.endsWith('.txt') && !f.endsWith('.md') && !f.endsWith('.tbd')).sort();
}

/**
 * The llvm-objdump to run: llvm-objdump-14 (what made the saved outputs) if present, else any
 * llvm-objdump or llvm-objdump-NN on PATH (accepted when its output is identical).
 */
export function objdumpTool(): string | null {
  return which('llvm-objdump-14') ?? findTool('llvm-objdump');
}

export const objdumpMissing = (): string | null =>
  (objdumpTool() === null ? 'not found on PATH: llvm-objdump or llvm-objdump-NN (Debian package llvm-14)' : null);

/**
 * Every saved llvm-objdump output and the arguments that made it in the fixtures folder
 * (tools/fixtures/build-macho.sh). The chained-fixups dumps need llvm-objdump 16 and are not here.
 */
export function savedOutputs(): [saved: string, args: string[]][] {
  const headers = fixtureFiles().map((f): [string, string[]] => [`${f}.objdump.txt`, ['--macho', '--private-headers', '--arch=all', f]]);
  const dyld = ['--macho', '--rebase', '--bind', '--lazy-bind', '--weak-bind', '--exports-trie'];
  const streams = ['hello-x86_64', 'hello-arm64', 'libgreet-x86_64.dylib', 'libgreet-arm64.dylib'].map((f): [string, string[]] => [`${f}.dyld.txt`, [...dyld, f]]);
  const fat = ['x86_64', 'arm64'].map((a): [string, string[]] => [`fsevents.node.${a}.dyld.txt`, [...dyld, `--arch=${a}`, 'fsevents.node']]);
  return [...headers, ...streams, ...fat];
}

/** llvm-objdump's output now (stdout, then stderr), run as build-macho.sh runs it. */
export function regenerate(tool: string, args: string[]): string {
  const r = spawnSync(tool, args, { cwd: FIXTURES, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error !== undefined) throw r.error;
  return r.stdout + r.stderr;
}

export const savedText = (saved: string): string => readFileSync(join(FIXTURES, saved), 'utf8');

export interface ObjdumpSlice {
  arch: string | null;
  commands: { cmd: string; cmdsize: number }[];
  segments: { segname: string; vmaddr: number; vmsize: number; fileoff: number; filesize: number; nsects: number }[];
  dylibs: { name: string; current: string; compat: string }[];
  uuid: string | null;
  build: { platform: string; minos: string; sdk: string } | null;
  entryoff: number | null;
}

export function objdumpSlices(file: string): ObjdumpSlice[] {
  const text = readFileSync(join(FIXTURES, `${file}.objdump.txt`), 'utf8');
  const parts = text.split(/^.*\(architecture (\S+)\):$/m);
  const chunks: [string | null, string][] = parts.length === 1 ? [[null, text]] : [];
  for (let i = 1; i < parts.length; i += 2) chunks.push([parts[i]!, parts[i + 1]!]);
  return chunks.map(([arch, t]) => {
    const commands = [...t.matchAll(/^\s+cmd (\S+)\n\s+cmdsize (\d+)/gm)].map((m) => ({ cmd: m[1]!, cmdsize: Number(m[2]) }));
    const segments = [...t.matchAll(/^\s+cmd LC_SEGMENT(?:_64)?\n\s+cmdsize \d+\n\s+segname (\S*)\n\s+vmaddr (\S+)\n\s+vmsize (\S+)\n\s+fileoff (\d+)\n\s+filesize (\d+)\n[\s\S]*?nsects (\d+)/gm)].map((m) => ({
      segname: m[1]!, vmaddr: parseInt(m[2]!, 16), vmsize: parseInt(m[3]!, 16), fileoff: Number(m[4]), filesize: Number(m[5]), nsects: Number(m[6]),
    }));
    const dylibs = [...t.matchAll(/^\s+cmd LC_(?:LOAD|LOAD_WEAK|REEXPORT|LAZY_LOAD|LOAD_UPWARD|ID)_DYLIB\n\s+cmdsize \d+\n\s+name (.*) \(offset \d+\)\n.*\n\s+current version (\S+)\ncompatibility version (\S+)/gm)].map((m) => ({ name: m[1]!, current: m[2]!, compat: m[3]! }));
    const b = /platform (\S+)\n\s+sdk (\S+)\n\s+minos (\S+)/.exec(t);
    const e = /entryoff (\d+)/.exec(t);
    return { arch, commands, segments, dylibs, uuid: /uuid (\S+)/.exec(t)?.[1] ?? null, build: b === null ? null : { platform: b[1]!, sdk: b[2]!, minos: b[3]! }, entryoff: e === null ? null : Number(e[1]) };
  });
}
