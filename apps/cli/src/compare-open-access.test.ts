/**
 * The access mode of a portable open is the same on every kernel: the flags OR together as the C
 * constants do (O_RDONLY 0, O_WRONLY 1, O_RDWR 2), and each driver opens with exactly that mode.
 * A read of a descriptor opened [write, create, trunc] (O_WRONLY) or [read, write] (also O_WRONLY)
 * fails as the real libc reports it: EBADF on Linux (vfs_read: no FMODE_READ), FreeBSD (_fget: no
 * FREAD) and Cygwin (syscalls.cc read: O_ACCMODE is O_WRONLY); on Windows ReadFile fails with
 * ERROR_ACCESS_DENIED, which the UCRT's _read turns into errno EBADF. A write to a [read] descriptor
 * fails the same way, and [rdwr] does both. Before the fix, FreeBSD, Windows and Cygwin opened every
 * writing open O_RDWR and read `0 bytes` of /dev/null.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCompare } from './compare.js';
import { PERSONALITIES } from './personalities.js';

interface Json { columns: { variant: string; na: string | null; steps: { step: string; result: string }[]; unsupported: unknown[] }[] }

const STEPS = [
  'alloc: { name: buf, size: 64K, prot: rw- }',
  'open: { path: /dev/null, as: out, flags: [write, create, trunc] }',
  'read: { fd: out, region: buf, length: 16 }',
  'write: { fd: out, region: buf, length: 16 }',
  'open: { path: /dev/null, as: in, flags: [read] }',
  'write: { fd: in, region: buf, length: 16 }',
  'read: { fd: in, region: buf, length: 16 }',
  'open: { path: /dev/null, as: both, flags: [read, write] }',
  'read: { fd: both, region: buf, length: 16 }',
  'open: { path: /dev/null, as: rw, flags: [rdwr] }',
  'read: { fd: rw, region: buf, length: 16 }',
  'write: { fd: rw, region: buf, length: 16 }',
];

function workloadFile(): string {
  const file = join(mkdtempSync(join(tmpdir(), 'pk-openaccess-')), 'open-access.yaml');
  writeFileSync(file, ['name: open-access', 'processes:', '  - name: p', '    steps:', ...STEPS.map((l) => `      - ${l}`), ''].join('\n'));
  return file;
}

/** A result's outcome class: a descriptor without the access (EBADF, or the Win32 error _read/_write turn into EBADF), bytes, or an open. */
function outcome(result: string): string {
  // Linux runs its native steps: the raw return value, -EBADF.
  if (result === '-EBADF' || /^EBADF \((read|write)\)$/.test(result)) return 'EBADF';
  if (/^ERROR_ACCESS_DENIED \((ReadFile|WriteFile)\): _(read|write) sets errno EBADF$/.test(result)) return 'EBADF';
  if (/^\d+ bytes$/.test(result)) return result;
  if (/^fd \d+$/.test(result)) return 'fd';
  return result;
}

describe('compare: an open\'s access mode on every registered variant', () => {
  it('read of [write, create, trunc] and [read, write], write of [read]: EBADF everywhere; [rdwr] reads and writes', async () => {
    let out = '';
    expect(await runCompare(workloadFile(), { json: true }, (s) => (out += s))).toBe(0);
    const { columns } = JSON.parse(out) as Json;
    expect(columns.map((c) => c.variant)).toEqual(PERSONALITIES.flatMap((e) => e.variants));
    expect(columns).toHaveLength(6);
    for (const c of columns) {
      expect(c.na, c.variant).toBeNull();
      expect(c.unsupported, c.variant).toEqual([]);
      expect(c.steps.slice(1).map((s) => outcome(s.result)), c.variant).toEqual([
        'fd', 'EBADF', '16 bytes',
        'fd', 'EBADF', '0 bytes',
        'fd', 'EBADF',
        'fd', '0 bytes', '16 bytes',
      ]);
    }
  });
});
