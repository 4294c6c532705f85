import { fileURLToPath } from 'node:url';
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
});
