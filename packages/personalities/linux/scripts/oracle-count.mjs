#!/usr/bin/env node
/* global URL, console, process */
/**
 * How many host-oracle steps the Linux personality's oracle tests compare, and how many match:
 * runs test/host-oracle, rlimit-oracle, guard-oracle and file-oracle with vitest's JSON reporter
 * and counts each step test (a title "<step> -> <host result>"), by script and by oracle (the saved
 * Linux 6.18 outputs, and this host's kernel where it can run the harnesses).
 * Usage: npm run oracle-count -w @polykernel/linux   (or node scripts/oracle-count.mjs)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const files = ['test/host-oracle.test.ts', 'test/rlimit-oracle.test.ts', 'test/guard-oracle.test.ts', 'test/file-oracle.test.ts'];
const dir = mkdtempSync(join(tmpdir(), 'oracle-count-'));
const out = join(dir, 'report.json');
spawnSync('npx', ['vitest', 'run', ...files, '--reporter=json', `--outputFile=${out}`], { cwd: pkg, stdio: ['ignore', 'ignore', 'inherit'] });
const report = JSON.parse(readFileSync(out, 'utf8'));
rmSync(dir, { recursive: true, force: true });

const rows = new Map();
for (const file of report.testResults) {
  for (const t of file.assertionResults) {
    if (!t.title.includes(' -> ')) continue;
    const suite = t.ancestorTitles.join(' › ');
    const live = /this host/.test(suite) ? 'live' : 'saved';
    const script = /: (\S+\.steps)$/.exec(suite)?.[1] ?? file.name.replace(/.*\/test\//, '').replace('.test.ts', '');
    const key = `${script}\t${live}`;
    const r = rows.get(key) ?? { script, live, steps: 0, match: 0, skipped: 0 };
    if (t.status === 'passed') { r.steps++; r.match++; } else if (t.status === 'failed') r.steps++; else r.skipped++;
    rows.set(key, r);
  }
}
const total = { saved: { steps: 0, match: 0 }, live: { steps: 0, match: 0 } };
console.log('script\toracle\tsteps\tmatch');
for (const r of [...rows.values()].sort((a, b) => a.script.localeCompare(b.script) || a.live.localeCompare(b.live))) {
  console.log(`${r.script}\t${r.live}\t${r.steps}\t${r.match}${r.skipped ? `\t(${r.skipped} skipped)` : ''}`);
  total[r.live].steps += r.steps;
  total[r.live].match += r.match;
}
console.log(`total saved (Linux 6.18 outputs): ${total.saved.match} of ${total.saved.steps} steps match`);
console.log(`total live (this host's kernel): ${total.live.match} of ${total.live.steps} steps match`);
process.exitCode = total.saved.match === total.saved.steps && total.live.match === total.live.steps ? 0 : 1;
