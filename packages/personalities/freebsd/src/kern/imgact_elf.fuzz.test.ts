/**
 * Malformed images never crash execve: random byte changes in the headers and program headers of
 * a real FreeBSD ELF, and truncations, end in success or a FreeBSD errno (ENOEXEC, ENOMEM ...),
 * and a failed exec leaves the caller's address space as it was (fixed seed).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { Kernel, memoryFileSystem } from '@polykernel/kernel';
import { describe, expect, it } from 'vitest';
import { freebsdPersonality } from '../personality.js';

const NODE = new Uint8Array(readFileSync(fileURLToPath(new URL('../../../../formats/elf/test/fixtures/rollup.freebsd-x64.node', import.meta.url))));
const HEAD = NODE.subarray(0, 64 + 7 * 56);

function execOf(bytes: Uint8Array, profile = 'x86-64', files: Record<string, Uint8Array> = {}): { error: string | null; sameSpace: boolean; leaked: number } {
  const k = new Kernel(freebsdPersonality({ fs: memoryFileSystem({ '/x': bytes, ...files }) }), { frames: 8192, seed: 1, contents: false, profile });
  const p = k.createProcess(k.init, 'sh');
  const before = p.space;
  const r = k.syscall(p.threads[0]!, 'execve', ['/x', ['x'], []]);
  // A failure past the point of no return kills the process (SIGABRT); either way no vmspace is left behind.
  const live = [...k.processes.values()].filter((q) => q.state === 'running').length;
  return { error: r.error, sameSpace: p.space === before || p.killedBy === 'SIGABRT', leaked: k.state.spaces.size - live };
}

describe('execve on malformed images', () => {
  it('header and program-header mutations: an errno or success, never a throw; failures change nothing', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(HEAD.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), (edits) => {
      const bytes = NODE.slice();
      for (const [at, v] of edits) bytes[at] = v;
      const r = execOf(bytes);
      if (r.error !== null) {
        expect(['ENOEXEC', 'ENOMEM', 'ENOENT', 'EFAULT']).toContain(r.error);
        expect(r.sameSpace).toBe(true);
      }
      expect(r.leaked).toBe(0);
    }), { seed: 0xe1f, numRuns: 60 });
  });

  it('truncated files are ENOEXEC (or load when what execve needs is still there)', () => {
    for (const n of [0, 3, 16, 63, 64, 100, 400, 4096]) {
      const r = execOf(NODE.slice(0, n));
      expect(r.error, `${n} bytes`).toBe('ENOEXEC');
    }
  });

  // The arm64 sysvec on an LLVM-built PIE with PT_INTERP (tools/fixtures/build-freebsd.sh): the
  // interpreter's lookup and check are in the path too.
  const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(fileURLToPath(new URL(`../../test/fixtures/${name}`, import.meta.url))));
  const PIE = fixture('exit-pie-aarch64');
  const RTLD = fixture('ld-elf.so.1-aarch64');
  it('arm64: mutations of a PIE and of its interpreter are an errno or success, never a throw, and leak nothing', () => {
    fc.assert(fc.property(fc.boolean(), fc.array(fc.tuple(fc.nat(64 + 10 * 56 - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), (interp, edits) => {
      const prog = PIE.slice();
      const rtld = RTLD.slice();
      const target = interp ? rtld : prog;
      for (const [at, v] of edits) if (at < target.length) target[at] = v;
      const r = execOf(prog, 'arm64-a72', { '/libexec/ld-elf.so.1': rtld });
      if (r.error !== null) {
        expect(['ENOEXEC', 'ENOMEM', 'ENOENT', 'EFAULT']).toContain(r.error);
        expect(r.sameSpace).toBe(true);
      }
      expect(r.leaked).toBe(0);
    }), { seed: 0xa64, numRuns: 80 });
  });
});
