/** What the host-kernel oracles need (tools/fixtures/host-maps.sh and host-exec.sh build C programs). */
import { spawnSync } from 'node:child_process';
import { missingTools } from '../../../../tools/test-support/oracle.js';

/** Null when this host can run the host-kernel oracles, else what is missing. */
export function hostProblem(): string | null {
  if (process.platform !== 'linux' || process.arch !== 'x64') return `the host is ${process.platform}/${process.arch}, not x86-64 Linux`;
  const tools = missingTools([['bash', 'bash'], ['gcc', 'gcc'], ['setarch', 'util-linux']]);
  if (tools !== null) return tools;
  // The harness programs link statically (mapsteps) or against crt1.o and the headers: libc6-dev.
  const libc = spawnSync('gcc', ['-print-file-name=libc.a'], { encoding: 'utf8' });
  if (libc.error !== undefined || !libc.stdout.trim().startsWith('/')) return 'gcc finds no C library to link with (libc.a; Debian package libc6-dev)';
  return null;
}
