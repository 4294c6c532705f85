import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../test/run-cli.js';
import { compareWithHost, logFiles, replaySucceeded } from './import.js';
import { runWorkload } from './run.js';

const REAL = fileURLToPath(new URL('../../../examples/real/', import.meta.url));

// forker.strace execs the program record.sh built at /tmp/polykernel-real/forker: rebuild it from forker.c (gcc is one of CI's oracle tools).
beforeAll(() => {
  if (existsSync('/tmp/polykernel-real/forker')) return;
  mkdirSync('/tmp/polykernel-real', { recursive: true });
  execFileSync('gcc', ['-O1', '-o', '/tmp/polykernel-real/forker', join(REAL, 'forker.c')]);
});

const tmp = (): string => mkdtempSync(join(tmpdir(), 'pk-import-'));

interface Summary {
  steps: number;
  calls: number;
  processes: { name: string; parent: number | null }[];
  check: { compared: number; same: number; notReplayed: number; stalled: string | null; differences: { reason: string; host: string; replay: string }[] };
}

describe('polykernel import strace', () => {
  it('imports a real fork+exec program and replays it on Linux with every call\'s outcome as on the host', async () => {
    const out = join(tmp(), 'forker.yaml');
    const r = await cli('import', 'strace', join(REAL, 'forker.strace'), '-o', out, '--check', '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out) as Summary;
    expect(s.processes).toHaveLength(2);
    expect(s.check.differences).toEqual([]);
    expect(s.check.compared).toBe(s.steps);
    // The written workload runs on its own: the child execs /bin/true, the parent reaps it.
    let text = '';
    expect(await runWorkload(out, {}, (x) => (text += x + '\n'), () => undefined)).toBe(0);
    expect(text).toMatch(/exec path=\/bin\/true .* -> 0x0 \(\/(usr\/)?bin\/true/);
    expect(text).toMatch(/wait for=pid\d+ .*-> pid \d+ \(pid\d+\) status 0x0 WIFEXITED WEXITSTATUS=0/);
    expect(readFileSync(out, 'utf8')).toMatch(/# .*forker\.strace:\d+ mmap = 0x/);
  });

  it.each(['true', 'ls', 'dd', 'pipeline', 'python3', 'gcc'])('round trip of %s: a call that succeeded on the host succeeds in the replay, or the difference says why', async (name) => {
    const r = await cli('import', 'strace', join(REAL, `${name}.strace`), '-o', join(tmp(), `${name}.yaml`), '--check', '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out) as Summary;
    expect(s.check.stalled).toBeNull();
    expect(s.check.notReplayed).toBe(0);
    expect(s.check.compared).toBe(s.steps);
    for (const d of s.check.differences) expect(d.reason, `${d.host} vs ${d.replay}`).not.toBe('');
  });

  it('-ff: the LOG name stands for its LOG.<pid> files, lowest pid first', async () => {
    const files = logFiles(join(REAL, 'forker-ff.strace'));
    expect(files.map((f) => f.slice(REAL.length))).toEqual(readdirSync(REAL).filter((f) => f.startsWith('forker-ff.strace.')).sort());
    const r = await cli('import', 'strace', join(REAL, 'forker-ff.strace'), '--json', '--check');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out) as Summary;
    expect(s.processes[1]!.parent).not.toBeNull();
    expect(s.check.differences).toEqual([]);
  });

  it('without -o prints the workload and sends the summary to stderr', async () => {
    const r = await cli('import', 'strace', join(REAL, 'true.strace'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^# Imported by polykernel import strace/);
    expect(r.out).toContain('- exec: { path: /bin/true');
    expect(r.err).toMatch(/imported .*true\.strace: 31 lines, 30 calls, 1 process/);
  });

  it('bad input: a missing file and --strict are failures (1), a bad option a usage error (2)', async () => {
    const dir = tmp();
    const bad = join(dir, 'bad.strace');
    writeFileSync(bad, 'execve("/bin/true", ["true"], 0x0) = 0\nGarbage!\n');
    expect((await cli('import', 'strace', join(dir, 'none'))).err).toMatch(/none: No such file/);
    const strict = await cli('import', 'strace', bad, '--strict');
    expect(strict.code).toBe(1);
    expect(strict.err).toContain(`${bad}:2: not a line strace prints: "Garbage!"`);
    const lenient = await cli('import', 'strace', bad, '--json');
    expect(lenient.code).toBe(0);
    expect((JSON.parse(lenient.out) as { issues: { line: number }[] }).issues[0]!.line).toBe(2);
    expect((await cli('import', 'strace', bad, '--limit', 'x')).code).toBe(2);
    expect((await cli('import', 'ktrace', bad)).code).toBe(2);
  });

  it('--help teaches how to record and what becomes a step', async () => {
    const r = await cli('import', '--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain('strace -f -tt -T -y -o ls.strace ls -l /usr');
    expect(r.out).toContain('--check');
  });
});

describe('comparing a replay with the host', () => {
  it('pairs each process\'s steps in order and reports a different outcome', () => {
    const host = new Map([['p', [{ file: 'l', line: 3, call: 'openat', ok: true, result: '3' }, { file: 'l', line: 4, call: 'close', ok: true, result: '0' }]]]);
    const c = compareWithHost(host, [{ process: 'p', result: '-EROFS' }, { process: 'p', result: '-EBADF' }], null);
    expect(c.compared).toBe(2);
    expect(c.differences.map((d) => d.reason)).toEqual([expect.stringMatching(/read-only/), expect.stringMatching(/open failed/)]);
    expect(replaySucceeded('pid 12 (x) status 0x0 exited 0')).toBe(true);
    expect(replaySucceeded('SIGSEGV at 0x0')).toBe(false);
  });
});

describe('polykernel import lackey', () => {
  it('imports the real trace of /bin/true (--limit) into a workload that replays every reference', async () => {
    const out = join(tmp(), 'true-refs.yaml');
    const r = await cli('import', 'lackey', join(REAL, 'true.lackey.gz'), '--limit', '20000', '-o', out, '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out) as { references: number; pages: number; touches: number; limited: boolean; badLines: number };
    expect(s).toMatchObject({ references: 20000, limited: true, badLines: 0 });
    let json = '';
    expect(await runWorkload(out, { json: true }, (x) => (json += x), () => undefined)).toBe(0);
    const run = JSON.parse(json) as { steps: { step: string; result: string }[]; metrics: { faults: Record<string, number>; tlbHits: number; tlbMisses: number } };
    const touches = run.steps.filter((x) => x.step.startsWith('touch'));
    expect(touches).toHaveLength(s.touches);
    expect(touches.every((x) => x.result === '0x0')).toBe(true);
    // Each referenced page faults at least once (first touch), at most twice (a read, then a write: COW of the zero page).
    const faults = Object.values(run.metrics.faults).reduce((a, b) => a + b, 0);
    expect(faults).toBeGreaterThanOrEqual(s.pages);
    expect(faults).toBeLessThanOrEqual(2 * s.pages + 4);
    // Every access is a TLB lookup.
    expect(run.metrics.tlbHits + run.metrics.tlbMisses).toBeGreaterThanOrEqual(20000);
  });

  it('reads .xz through xz, and a damaged .xz is a one-line failure, not a short trace', async () => {
    const dir = tmp();
    const plain = join(dir, 't.lackey');
    writeFileSync(plain, '==1== x\nI  0400,3\n L 0800,4\n');
    execFileSync('xz', ['-k', plain]);
    const ok = await cli('import', 'lackey', `${plain}.xz`, '--json');
    expect(JSON.parse(ok.out)).toMatchObject({ references: 2 });
    writeFileSync(join(dir, 'bad.xz'), 'not xz at all');
    const bad = await cli('import', 'lackey', join(dir, 'bad.xz'));
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/xz -dc failed: .*format/i);
  });

  it('a trace with garbage lines is imported with the lines listed; --strict refuses it', async () => {
    const f = join(tmp(), 'bad.lackey');
    writeFileSync(f, '==1== Lackey\nI  0400,3\nGARBAGE\n L 0800,4\n');
    const ok = await cli('import', 'lackey', f, '--json');
    expect(JSON.parse(ok.out)).toMatchObject({ references: 2, badLines: 1, issues: [{ line: 3 }] });
    const strict = await cli('import', 'lackey', f, '--strict');
    expect(strict.code).toBe(1);
    expect(strict.err).toContain(`${f}:3: not a lackey reference line`);
    expect((await cli('import', 'lackey', f, '--check')).code).toBe(2);
  });
});

describe('polykernel import lackey --replay', () => {
  it('replays the references of /bin/true through each profile\'s TLBs and page walker', async () => {
    const r = await cli('import', 'lackey', join(REAL, 'true.lackey.gz'), '--limit', '30000', '--profile', 'x86-64,arm64-a72', '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out) as { references: number; profiles: { profile: string; references: number; failed: number; pagesMapped: number; tlb: { l1Hits: number; l2Hits: number; misses: number }; walks: number; cycles: number; faults: Record<string, number>; error: string | null }[] };
    expect(s.references).toBe(30000);
    const pages = s.profiles[0]!.pagesMapped;
    for (const p of s.profiles) {
      expect(p).toMatchObject({ references: 30000, failed: 0, error: null, pagesMapped: pages });
      // Each access is one lookup, plus one retry after each fault.
      const faults = Object.values(p.faults).reduce((a, b) => a + b, 0);
      expect(p.tlb.l1Hits + p.tlb.l2Hits + p.tlb.misses).toBe(30000 + faults);
      // A hardware walker: every miss is a walk; each first touch of a page faults.
      expect(p.walks).toBe(p.tlb.misses);
      expect(faults).toBeGreaterThanOrEqual(pages);
    }
    // The same references cost differently on each machine (walk and fault costs differ).
    expect(s.profiles[0]!.cycles).not.toBe(s.profiles[1]!.cycles);
  });

  it('on the 31-bit MIPS32 profile, references beyond its address space are counted, not replayed', async () => {
    const r = await cli('import', 'lackey', join(REAL, 'true.lackey.gz'), '--limit', '5000', '--profile', 'mips-swtlb', '--json');
    const p = (JSON.parse(r.out) as { profiles: { references: number; beyondAddressSpace: number; error: string | null; refills: number }[] }).profiles[0]!;
    expect(p.error).toBeNull();
    expect(p.references).toBe(5000);
    // valgrind's stack is at 0x1fff000000: above 2^31.
    expect(p.beyondAddressSpace).toBeGreaterThan(0);
    expect(p.beyondAddressSpace).toBeLessThan(5000);
    expect(p.refills).toBeGreaterThan(0);
  });

  it('an unknown profile is a usage error; --replay does not apply to strace logs', async () => {
    expect((await cli('import', 'lackey', join(REAL, 'true.lackey.gz'), '--profile', 'vax')).code).toBe(2);
    expect((await cli('import', 'strace', join(REAL, 'true.strace'), '--replay')).code).toBe(2);
  });
});
