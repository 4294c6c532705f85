import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../test/run-cli.js';
import { differenceReason, replaySucceeded, tallyReplay, type ReplayReport } from './import.js';

const REAL = fileURLToPath(new URL('../../../examples/real/', import.meta.url));
const ON = ['linux-6.x', 'freebsd-14', 'windows', 'cygwin'];

// forker.strace execs the program record.sh built at /tmp/polykernel-real/forker: rebuild it from forker.c when missing.
beforeAll(() => {
  if (existsSync('/tmp/polykernel-real/forker')) return;
  mkdirSync('/tmp/polykernel-real', { recursive: true });
  execFileSync('gcc', ['-O1', '-o', '/tmp/polykernel-real/forker', join(REAL, 'forker.c')]);
});

interface Summary {
  steps: number;
  portable: { steps: number; noops: { call: string; reason: string; count: number }[] };
  replays: ReplayReport[];
}

describe('polykernel import strace --portable: the recorded logs on every personality', () => {
  it.each(['true', 'ls', 'dd', 'python3', 'gcc', 'pipeline', 'forker'])('%s: portable steps run on linux, freebsd, windows and cygwin; every step is counted and every difference has its reason', async (name) => {
    const out = join(mkdtempSync(join(tmpdir(), 'pk-portable-')), `${name}.yaml`);
    const r = await cli('import', 'strace', join(REAL, `${name}.strace`), '--portable', '-o', out, '--check', '-p', ON.join(','), '--json');
    expect(r.code, r.err).toBe(0);
    const s = JSON.parse(r.out) as Summary;
    expect(s.portable.steps + s.portable.noops.reduce((n, x) => n + x.count, 0)).toBe(s.steps);
    expect(s.replays.map((x) => x.personality)).toEqual(ON);
    for (const rep of s.replays) {
      expect(rep.ran).toBeGreaterThan(0);
      expect(rep.succeeded + rep.failed + rep.na.reduce((n, x) => n + x.count, 0)).toBe(rep.ran);
      for (const d of rep.host.differences) expect(d.reason, `${rep.personality}: ${d.call} host ${d.host}, replay ${d.replay}`).not.toBe('');
    }
    // On Linux the portable replay keeps every step's outcome, bar the differences listed with a reason.
    const linux = s.replays[0]!;
    expect(linux.na).toEqual([]);
    expect(linux.host.notReplayed).toBe(0);
    expect(linux.host.compared).toBe(s.portable.steps);
    // The compare command runs it on all four: no n/a column.
    const c = await cli('compare', out, '-p', ON.join(','), '--json');
    expect(c.code, c.err).toBe(0);
    const columns = (JSON.parse(c.out) as { columns: { na: string | null }[] }).columns;
    expect(columns.map((x) => x.na)).toEqual([null, null, null, null]);
  }, 60_000);

  it('the native import is still refused on the other personalities (why --portable exists)', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'pk-portable-')), 'true.yaml');
    expect((await cli('import', 'strace', join(REAL, 'true.strace'), '-o', out)).code).toBe(0);
    const c = await cli('compare', out, '-p', 'linux-6.x,windows', '--json');
    const columns = (JSON.parse(c.out) as { columns: { na: string | null }[] }).columns;
    expect(columns[0]!.na).toBeNull();
    expect(columns[1]!.na).toMatch(/native steps of linux/);
  });

  it('-p and --portable are strace options', async () => {
    expect((await cli('import', 'lackey', join(REAL, 'true.lackey.gz'), '--portable')).code).toBe(2);
  });
});

describe('a portable driver\'s results', () => {
  it('a failure names its error and native call; it is not a success', () => {
    expect(replaySucceeded('ENOENT (open)')).toBe(false);
    expect(replaySucceeded('ERROR_BAD_EXE_FORMAT (CreateProcessW)')).toBe(false);
    expect(replaySucceeded('n/a: no fork in Win32')).toBe(false);
    expect(replaySucceeded('0x7f0000000000')).toBe(true);
    expect(replaySucceeded('pid 3 (child)')).toBe(true);
    expect(differenceReason('openat', 'EROFS (open)')).toMatch(/read-only/);
    expect(differenceReason('execve', 'ENOEXEC (spawnve)')).toMatch(/Linux ELF/);
  });

  it('a tally counts succeeded, failed and n/a by reason', () => {
    const host = { compared: 0, same: 0, differences: [], notReplayed: 0, stalled: null };
    const t = tallyReplay('windows', [{ result: '0x10000' }, { result: 'ERROR_INVALID_PARAMETER (VirtualFree)' }, { result: 'n/a: no fork' }, { result: 'n/a: no fork' }], host);
    expect(t).toMatchObject({ ran: 4, succeeded: 1, failed: 1, na: [{ reason: 'no fork', count: 2 }] });
  });
});
