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
    expect(result('touch region=buf')).toBe('0x0');
    expect(j.trace.faults.zeroFill!.count).toBe(2560);
    expect(j.metrics.faults.zeroFill).toBe(2560);
    for (const call of ['fork', 'mmap', 'munmap', 'exit', 'wait4']) expect(j.trace.syscalls[call]!.count).toBeGreaterThanOrEqual(1);
    // The lesson: the buffer's traps cost more than every system call's own work, fork included
    // (38× with FreeBSD's borrowed software costs; Linux's dd.yaml shows 8.5×).
    expect(j.trace.totals.faultCycles).toBeGreaterThan(10 * j.trace.totals.own);
  });

  it('says honestly that the files are not modelled: open, read, write and close are n/a with the reason', async () => {
    const j = await ddJson();
    const io = j.steps.filter((s) => /^(open|read|write|close) /.test(s.step));
    expect(io).toHaveLength(6);
    for (const s of io) expect(s.result).toBe('n/a: open/read/write/close are not modelled by this personality yet');
    expect(j.trace.syscalls.read).toBeUndefined();
  });
});
