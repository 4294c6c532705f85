import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { memoryFileSystem } from '@polykernel/kernel';
import { openSession, resolvePersonality, runSession } from '@polykernel/runner';
import { parseWorkload } from '@polykernel/workload';
import { describe, expect, it } from 'vitest';
import { runWorkload } from './run.js';

const DD = fileURLToPath(new URL('../../../examples/dd-freebsd.yaml', import.meta.url));

interface Agg { count: number; cycles: number; faultCycles: number }
interface Json {
  personality: string;
  steps: { process: string; step: string; result: string }[];
  metrics: { faults: Record<string, number>; syscalls: number };
  trace: { syscalls: Record<string, Agg>; faults: Record<string, { count: number; cycles: number }>; totals: { calls: number; own: number; faults: number; faultCycles: number } };
}

async function ddJson(): Promise<Json> {
  let out = '';
  const code = await runWorkload(DD, { personality: 'freebsd', trace: true, json: true }, (s) => (out += s + '\n'), () => undefined);
  expect(code).toBe(0);
  return JSON.parse(out) as Json;
}

describe('examples/dd-freebsd.yaml on FreeBSD', () => {
  it("reproduces the lesson: 2,560 zero-fill traps on the 10 MiB buffer cost far more than the system calls", async () => {
    const j = await ddJson();
    expect(j.personality).toBe('freebsd-14');
    const result = (prefix: string): string => j.steps.find((s) => s.step.startsWith(prefix))!.result;
    // jemalloc's extent: mmap(MAP_PRIVATE|MAP_ANON) of 10 MiB and its one-page pad.
    expect(result('alloc name=buf')).toMatch(/^0x[0-9a-f]+$/);
    expect(result('read fd=in')).toBe('10485760 bytes');
    expect(result('write fd=out')).toBe('10485760 bytes');
    expect(j.trace.faults.zeroFill!.count).toBe(2560);
    expect(j.metrics.faults.zeroFill).toBe(2560);
    for (const call of ['fork', 'mmap', 'openat', 'read', 'write', 'close', 'munmap', 'exit', 'wait4']) expect(j.trace.syscalls[call]!.count).toBeGreaterThanOrEqual(1);
    // The lesson: 2,560 traps against a dozen system calls, and the traps cost more than every
    // system call's own work — read's 10 MiB copyout of zeros and fork included (2.8× with
    // FreeBSD's borrowed software costs; Linux's dd.yaml shows 8.5×).
    expect(j.trace.totals.calls).toBeLessThan(20);
    expect(j.trace.totals.faultCycles).toBeGreaterThan(2 * j.trace.totals.own);
  });

  it('reads /dev/zero into the fresh buffer: every zero-fill fault is taken inside read(2), write(2) to /dev/null touches nothing', async () => {
    const j = await ddJson();
    const io = j.steps.filter((s) => /^(open|read|write|close) /.test(s.step));
    expect(io.map((s) => s.result)).toEqual(['fd 0', 'fd 1', '10485760 bytes', '10485760 bytes', '0x0', '0x0']);
    expect(j.trace.syscalls.read!.faultCycles).toBe(j.trace.faults.zeroFill!.cycles);
    expect(j.trace.syscalls.write!.faultCycles).toBe(0);
    expect(j.trace.syscalls.openat!.count).toBe(2);
  });

  it('procstat -v of dd after its write: the columns, the flag letters and the types the course\'s listing has', async () => {
    const text = readFileSync(DD, 'utf8');
    const w = parseWorkload(text, DD);
    const session = openSession(w, resolvePersonality('freebsd')!, { frames: 65536, swapSlots: 0, contents: true, fs: memoryFileSystem({}) }, { file: DD, text });
    let listing = '';
    await runSession(session, { tick: () => undefined, end: () => undefined }, (s, r) => {
      if (r.process === 'dd' && r.step.startsWith('write ')) {
        const p = s.k.processes.get(r.pid)!;
        listing = s.k.personality.views.find((v) => v.name === 'procstat-v')!.render(s.k, p);
      }
    });
    const lines = listing.split('\n').slice(0, -1);
    // usr.bin/procstat/procstat_vm.c: "%5s %*s %*s %3s %4s %4s %3s %3s %-5s %-2s %-s", ptrwidth 18.
    expect(lines[0]).toBe('  PID              START                END PRT  RES PRES REF SHD FLAG  TP PATH');
    expect(listing.endsWith(' sw \n')).toBe(true); // "%-2s " then the (empty) path
    // The forked dd (no exec: the shell's image, which has no mappings of its own) holds jemalloc's
    // 10 MiB + 4 KiB extent: read(2) wrote the 2,560 pages of the 10 MiB (the pad page is never
    // touched), RES = PRES, one reference, no shadow; the object is OBJT_SWAP (charged), type sw,
    // and its five full reservations were promoted: S.
    expect(lines.slice(1)).toEqual(['    3        0x800000000        0x800a01000 rw- 2560 2560   1   0 --S-- sw ']);
    for (const l of lines.slice(1)) expect(l).toMatch(/^ {0,4}\d+ +0x[0-9a-f]+ +0x[0-9a-f]+ [r-][w-][x-] +\d+ +\d+ +\d+ +\d+ [-C][-N][-S][-UD][-W] (--|df|vn|sw|dv|ph|dd|sg|md|gd|\?\?) /);
  });
});
