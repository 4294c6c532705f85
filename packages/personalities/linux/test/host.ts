/** What the host-kernel oracles need (tools/fixtures/host-maps.sh and host-exec.sh build C programs). */
import { spawnSync } from 'node:child_process';
import { missingTools } from '../../../../tools/test-support/oracle.js';

type Tools = readonly (readonly [tool: string, debianPackage: string])[];

/**
 * Null when this host can run the host-kernel oracles, else what is missing: every missing tool at
 * once (the harness's own — bash, gcc, setarch — and `extra`), so one run names them all.
 */
export function hostProblem(extra: Tools = []): string | null {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `the host is ${process.platform}/${process.arch}, not x86-64 Linux`;
  const tools = missingTools([['bash', 'bash'], ['gcc', 'gcc'], ['setarch', 'util-linux'], ...extra]);
  if (tools !== null) return tools;
  // The harness programs link statically (mapsteps) or against crt1.o and the headers: libc6-dev.
  const libc = spawnSync('gcc', ['-print-file-name=libc.a'], { encoding: 'utf8' });
  if (libc.error !== undefined || !libc.stdout.trim().startsWith('/')) return 'gcc finds no C library to link with (libc.a; Debian package libc6-dev)';
  return null;
}

/**
 * Null when the run-time linker's host oracles can run here, else why not: the host harness, the
 * extra tools, and glibc 2.36 (the simulated ld.so carries its conventions: Debian bookworm).
 */
export function glibcProblem(extra: Tools = []): string | null {
  const p = hostProblem([['ldd', 'libc-bin'], ...extra]);
  if (p !== null) return p;
  const r = spawnSync('ldd', ['--version'], { encoding: 'utf8' });
  const v = r.error === undefined ? (r.stdout.split('\n')[0] ?? '') : '';
  return /\b2\.36\b/.test(v) ? null : `the host's glibc is not 2.36 (${v || 'ldd --version printed nothing'}): the simulated ld.so carries 2.36's conventions (Debian bookworm)`;
}
