// Oracle tests and the host tools they need (types in oracle.d.ts; plain JavaScript so every
// project's tests can import it by relative path without stepping outside their tsconfig rootDir).
//
// The rule: an oracle never vanishes silently. When what an oracle needs is missing (a tool, a
// fetched file, a host harness that does not run), `requires` registers one test that names it:
// under CI (CI=true) that test FAILS; elsewhere it is skipped with the reason as its note, and a
// line goes to the console.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { it } from 'vitest';

export const underCi = /^(1|true|yes)$/i.test(process.env.CI ?? '');

function pathDirs() {
  return (process.env.PATH ?? '').split(delimiter).filter((d) => d !== '');
}

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function which(name) {
  for (const dir of pathDirs()) {
    const p = join(dir, name);
    if (executable(p)) return p;
  }
  return null;
}

export function findTool(base) {
  const plain = which(base);
  if (plain !== null) return plain;
  const re = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)$`);
  let best = null;
  for (const dir of pathDirs()) {
    let names;
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const n of names) {
      const m = re.exec(n);
      if (m === null || !executable(join(dir, n))) continue;
      const v = Number(m[1]);
      if (best === null || v > best.version) best = { version: v, path: join(dir, n) };
    }
  }
  return best?.path ?? null;
}

export function toolVersion(path) {
  const r = spawnSync(path, ['--version'], { encoding: 'utf8' });
  return (r.stdout ?? '').split('\n').map((l) => l.trim()).find((l) => /\d+\.\d+/.test(l)) ?? '(unknown version)';
}

export function missingTools(tools) {
  const missing = tools.filter(([name]) => which(name) === null);
  if (missing.length === 0) return null;
  return `not found on PATH: ${missing.map(([name, pkg]) => `${name} (Debian package ${pkg})`).join(', ')}`;
}

export function requires(what, problem) {
  if (problem === null) return true;
  const message = `${what} cannot run: ${problem}`;
  if (underCi) {
    it(`oracle ${what}: required under CI`, () => {
      throw new Error(`${message}. Under CI a missing oracle is a failure, not a skip (install it: see .ci/run).`);
    });
  } else {
    console.warn(`[oracle skipped] ${message}`);
    it(`oracle ${what}: skipped, ${problem}`, (ctx) => {
      ctx.skip(message);
    });
  }
  return false;
}

export function runHarness(what, run) {
  try {
    return run();
  } catch (err) {
    const e = /** @type {{ message?: string, stderr?: unknown }} */ (err);
    const stderr = typeof e.stderr === 'string' ? e.stderr : Buffer.isBuffer(e.stderr) ? e.stderr.toString('utf8') : '';
    const message = e.message ?? String(err);
    const detail = message.includes(stderr.trim()) ? message : `${message}\n${stderr.trim()}`;
    it(`host harness ${what} runs`, () => {
      throw new Error(`${what} failed (its tools are present, so this is an error, not a skip):\n${detail}`);
    });
    return null;
  }
}
