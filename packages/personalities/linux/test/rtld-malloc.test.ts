/**
 * Oracle: ld.so's own allocations. A gdb breakpoint on the host ld.so's __minimal_malloc
 * (tools/fixtures/rtld/minimal-malloc.sh, needs gdb and ld.so's debug information: libc6-dbg)
 * lists every request, in order, while it loads a program; the simulated ld.so must make the same
 * requests (link maps, search paths, versions, TLS, DTV ...), since they decide where its
 * anonymous mmaps go.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { requires, runHarness } from '../../../../tools/test-support/oracle.js';
import { glibcProblem } from './host.js';
import { simulate } from './rtld-support.js';

const SCRIPT = fileURLToPath(new URL('../../../../tools/fixtures/rtld/minimal-malloc.sh', import.meta.url));
const PROGRAMS = ['/bin/true', '/bin/ls', '/usr/bin/python3', '/usr/bin/git'];

function problem(): string | null {
  const p = glibcProblem([['gdb', 'gdb']]);
  if (p !== null) return p;
  const g = spawnSync('gdb', ['-nx', '-batch', '-ex', 'info address __minimal_malloc', '/lib64/ld-linux-x86-64.so.2'], { encoding: 'utf8' });
  return g.stdout.includes('Symbol "__minimal_malloc" is') ? null : 'gdb finds no debug information for ld.so (Debian package libc6-dbg)';
}

describe('ld.so\'s minimal malloc against the host (gdb)', () => {
  if (!requires('the ld.so allocation oracle', problem())) return;
  for (const prog of PROGRAMS.filter((p) => existsSync(p))) {
    const host = runHarness(`minimal-malloc.sh ${prog}`, () => execFileSync('bash', [SCRIPT, '--', prog], { encoding: 'utf8' }));
    if (host === null) continue;
    it(`${prog}: the same requests in the same order`, () => {
      const sim = simulate(prog).result!.allocations.filter((a) => a.what !== 'free').map((a) => `malloc ${a.size}`);
      expect(sim).toEqual(host.trim().split('\n'));
    });
  }
});
