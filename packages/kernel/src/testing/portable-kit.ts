/**
 * The contract kit's checks for a personality's portable driver (`Personality.portable`): they run
 * only when the personality has one, and hold every driver to the same rules — each intent names
 * its native path, calls go through the gate (system calls are counted), failures come back in an
 * error space instead of being thrown, an unsupported intent says why, a fork's child is isolated
 * and its exit code comes back through wait, and nothing leaks.
 */
import { expect, it } from 'vitest';
import { PROT_READ, PROT_WRITE } from '@polykernel/core';
import { ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';
import type { Personality } from '../contract.js';
import type { Kernel } from '../kernel.js';
import { PORTABLE_OPS, startProcess, type PortableDriver, type PortableResult } from '../portable.js';
import type { Process } from '../process.js';

const PAGE = 4096;
const RW = PROT_READ | PROT_WRITE;

function value<T>(r: PortableResult<T>, what: string): T {
  if (r.kind !== 'ok') throw new Error(`${what}: ${JSON.stringify(r)}`);
  return r.value;
}

/** Register the portable-driver checks (inside contractSuite's describe). */
export function portableChecks<S, M>(personality: () => Personality<S, M>, build: () => Kernel<S, M>, finish: (k: Kernel<S, M>, p: Process<S>) => void): void {
  const driver = personality().portable;
  if (driver === undefined) return;
  const begin = (k: Kernel<S, M>, d: PortableDriver<S, M>): Process<S> => (d.start ?? startProcess)(k, 'portable').process;

  it('portable: every intent names its native path (or why it has none)', () => {
    for (const op of PORTABLE_OPS) expect(driver.native[op].trim(), op).not.toBe('');
  });

  it('portable: alloc goes through the gate, its memory is usable, free gives it back', () => {
    const k = build();
    const d = k.personality.portable!;
    const p = begin(k, d);
    const t = p.threads[0]!;
    const before = k.metrics.syscalls + k.metrics.traps.syscall;
    const r = value(d.alloc(k, t, { size: 16 * PAGE, prot: RW }), 'alloc');
    expect(r.length).toBeGreaterThanOrEqual(16 * PAGE);
    expect(k.metrics.syscalls + k.metrics.traps.syscall, 'alloc made no native call through the gate').toBeGreaterThan(before);
    for (let i = 0; i < 16; i++) expect(k.access(t, r.addr + i * PAGE, ACCESS_WRITE), `write page ${i}`).toBeGreaterThanOrEqual(0);
    expect(p.state).toBe('running');
    const f = d.free(k, t, r);
    expect(f.kind === 'ok' || f.kind === 'unsupported', JSON.stringify(f)).toBe(true);
    finish(k, p);
  });

  it('portable: a refused alloc fails in an error space, it does not throw', () => {
    const k = build();
    const d = k.personality.portable!;
    const t = begin(k, d).threads[0]!;
    const r = d.alloc(k, t, { size: 0, prot: RW });
    expect(r.kind).toBe('failed');
    if (r.kind === 'failed') expect(r.error).toMatch(/^[A-Z_0-9]+$/);
  });

  it('portable: fork is isolated and wait returns the exit code, or fork says why it is n/a', () => {
    const k = build();
    const d = k.personality.portable!;
    const p = begin(k, d);
    const t = p.threads[0]!;
    const region = value(d.alloc(k, t, { size: 4 * PAGE, prot: RW }), 'alloc');
    expect(k.copyToUser(t, region.addr, Uint8Array.of(1, 2, 3))).toBe(3);
    const f = d.fork(k, t);
    if (f.kind === 'unsupported') {
      expect(f.reason.trim()).not.toBe('');
      return;
    }
    const child = value(f, 'fork');
    expect(child.process).not.toBe(p);
    expect(k.copyToUser(t, region.addr, Uint8Array.of(9, 9, 9))).toBe(3);
    expect([...k.copyFromUser(child.thread, region.addr, 3)], "the child's copy after the parent's write").toEqual([1, 2, 3]);
    expect(k.access(child.thread, region.addr, ACCESS_READ)).toBeGreaterThanOrEqual(0);
    value(d.exit(k, child.thread, 3), 'exit');
    const w = value(d.wait(k, t, child.ref), 'wait');
    expect(w.exitCode).toBe(3);
    expect(w.signal).toBeNull();
    finish(k, p);
  });
}
