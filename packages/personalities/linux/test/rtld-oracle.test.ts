/**
 * Oracle: the host's own ld.so (glibc) runs each program under ptrace and strace with ASLR off
 * (tools/fixtures/rtld/host-entry.sh, host-strace.sh); the simulated kernel runs execve and the
 * loader's run-time linker on the same files. The calls ld.so makes must be the same calls in the
 * same order with the same arguments and results, and /proc/<pid>/maps when ld.so is done must
 * be the host's line for line (and at the entry point too, for programs whose constructors make
 * no system call). Needs x86-64 Linux with gcc, setarch and strace, and glibc 2.36 (the
 * conventions the simulation carries): otherwise it fails under CI and skips elsewhere.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { requires, runHarness } from '../../../../tools/test-support/oracle.js';
import { glibcProblem } from './host.js';
import { simulate, straceLines } from './rtld-support.js';

const ENTRY = fileURLToPath(new URL('../../../../tools/fixtures/rtld/host-entry.sh', import.meta.url));
const STRACE = fileURLToPath(new URL('../../../../tools/fixtures/rtld/host-strace.sh', import.meta.url));
const PROGRAMS = ['/bin/true', '/bin/cat', '/bin/dd', '/usr/bin/env', '/bin/ls', '/bin/bash', '/usr/bin/python3', '/usr/bin/git', '/bin/tar', '/usr/bin/gcc', '/usr/bin/readelf', '/usr/bin/strace'];

function hostMaps(out: string, tag: string): string[] {
  return out.split('\n').filter((l) => l.startsWith(`${tag} maps `)).map((l) => l.slice(tag.length + 6));
}

describe('ld.so against the host (glibc 2.36)', () => {
  if (!requires('the ld.so host oracle', glibcProblem([['strace', 'strace']]))) return;
  for (const prog of PROGRAMS.filter((p) => existsSync(p))) {
    const host = runHarness(`host-entry.sh ${prog}`, () => execFileSync('bash', [ENTRY, prog], { encoding: 'utf8' }));
    const trace = runHarness(`host-strace.sh ${prog}`, () => execFileSync('bash', [STRACE, '--', prog], { encoding: 'utf8' }));
    if (host === null || trace === null) continue;
    it(`${prog}: the same system calls in the same order`, () => {
      expect(simulate(prog).calls).toEqual(straceLines(trace));
    });
    it(`${prog}: the same maps when ld.so is done, and the same thread pointer`, () => {
      const sim = simulate(prog);
      expect(sim.maps).toEqual(hostMaps(host, 'ldso-done'));
      expect(`0x${sim.fsBase.toString(16)}`).toBe(/entry fs (0x[0-9a-f]+)/.exec(host)?.[1]);
    });
    const done = hostMaps(host, 'ldso-done');
    const entry = hostMaps(host, 'entry');
    if (JSON.stringify(done) === JSON.stringify(entry)) {
      it(`${prog}: the same maps at the entry point (its constructors make no system call)`, () => {
        expect(simulate(prog).maps).toEqual(entry);
      });
    }
  }
});
