/**
 * strace import speed: a 10,000-line log (the target is ≤ 1 s) made of the real logs recorded
 * here (examples/real), each copy's pids shifted so every process stays distinct.
 * Run: npx vitest bench --run src/import/strace.bench.ts
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bench, describe } from 'vitest';
import { portableWorkload } from './portable.js';
import { importStraceText, type ImageFacts } from './strace.js';
import { workloadYaml } from './yaml.js';

const REAL = fileURLToPath(new URL('../../../../examples/real/', import.meta.url));
const logs = readdirSync(REAL).filter((f) => f.endsWith('.strace')).map((f) => readFileSync(REAL + f, 'utf8').trimEnd().split('\n'));
const lines: string[] = [];
for (let copy = 0; lines.length < 10_000; copy++) {
  for (const log of logs) for (const l of log) lines.push(l.replace(/^(\d+)/, (pid) => String(Number(pid) + copy * 100_000)));
}
const text = lines.slice(0, 10_000).join('\n');
console.log(`strace bench: ${lines.slice(0, 10_000).length} lines, ${text.length.toLocaleString('en-US')} bytes`);

/** Every program as a PIE with a one-page RELRO and an interpreter: the bias search runs at each RELRO mprotect. */
const PIE: ImageFacts = { relocatable: true, start: 0, end: 0x9378, relro: { vaddr: 0x8d70, memsz: 0x290 }, interpreter: '/lib64/ld-linux-x86-64.so.2' };
const image = (): ImageFacts => PIE;

describe('strace import', () => {
  bench('import 10,000 lines', () => {
    importStraceText(text, 'bench.strace');
  }, { iterations: 10, warmupIterations: 2 });
  bench('import 10,000 lines and write the YAML', () => {
    const r = importStraceText(text, 'bench.strace');
    workloadYaml(r.workload, r.host);
  }, { iterations: 10, warmupIterations: 2 });
  bench('import 10,000 lines with ELF facts (the [exe]/[interp] bias search)', () => {
    importStraceText(text, 'bench.strace', { image });
  }, { iterations: 10, warmupIterations: 2 });
  bench('import 10,000 lines, portable form, YAML written', () => {
    const r = importStraceText(text, 'bench.strace', { image });
    const p = portableWorkload(r.workload, r.host);
    workloadYaml(p.workload, p.host);
  }, { iterations: 10, warmupIterations: 2 });
});
