/**
 * Oracle for /proc/<pid>/smaps: a step script runs on the host kernel (tools/fixtures/host-maps.sh
 * with MAPSTEPS_SMAPS=1, which prints the smaps entries of the areas in [0x40000000, 0x80000000))
 * and, through the kernel core, on the Linux personality; after every step those entries must be
 * identical byte for byte — Rss, Pss, dirty and referenced pages included. The saved host output
 * (smaps.host.txt) is replayed everywhere; the live run needs x86-64 Linux with gcc and static libc:
 * without them it fails under CI and skips (saying what is missing) elsewhere.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Kernel } from '@polykernel/kernel';
import { ACCESS_WRITE } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import { requires, runHarness } from '../../../../tools/test-support/oracle.js';
import { linuxFlags as F, linuxPersonality, smapsEntry } from '../src/index.js';
import { hostProblem } from './host.js';

const HOST = fileURLToPath(new URL('../../../../tools/fixtures/host-maps.sh', import.meta.url));
const STEPS = fileURLToPath(new URL('./smaps.steps', import.meta.url));
const SAVED = fileURLToPath(new URL('./smaps.host.txt', import.meta.url));
const LOW = 0x40000000;
const HIGH = 0x80000000;

function runHost(): string {
  return execFileSync('bash', [HOST, STEPS], { encoding: 'utf8', env: { ...process.env, MAPSTEPS_SMAPS: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
}

interface Block { step: string; result: string; smaps: string }

function blocks(out: string): Block[] {
  const res: Block[] = [];
  for (const line of out.split('\n')) {
    const m = /^== (.*) -> (.*)$/.exec(line);
    if (m !== null) res.push({ step: m[1]!, result: m[2]!, smaps: '' });
    else if (line.startsWith('smaps ') && res.length > 0) res[res.length - 1]!.smaps += line.slice(6) + '\n';
  }
  return res;
}

const PROT = (s: string): number => (s.includes('r') ? 1 : 0) | (s.includes('w') ? 2 : 0) | (s.includes('x') ? 4 : 0);
const FLAGS = (s: string): number => (s.includes('private') ? F.MAP_PRIVATE : 0) | (s.includes('shared') ? F.MAP_SHARED : 0)
  | (s.includes('anon') ? F.MAP_ANONYMOUS : 0) | (s.includes('fixed') ? F.MAP_FIXED : 0);

/** Replay one host output (saved or live) step by step on the personality. */
function replay(out: string): void {
  const bs = blocks(out);
  it('the host printed smaps blocks', () => {
    expect(bs.length).toBeGreaterThan(0);
  });
  const inodes = [...new Set([...out.matchAll(/ 00:01 (\d+) +\/dev\/zero \(deleted\)/g)].map((m) => Number(m[1])))];
  const k = new Kernel(linuxPersonality({ mm: { shmemInode: () => inodes.shift() ?? 0 } }), { frames: 4096 });
  const p = k.createProcess(k.init, 'mapsteps');
  const t = p.threads[0]!;
  const names = new Map<string, number>();
  const addr = (n: string): number => names.get(n) ?? Number(n);

  function step(line: string): string {
    const [op = '', a = '', b = '', c = '', d = '', e = ''] = line.split(/\s+/);
    let r: number;
    if (op === 'mmap') {
      r = k.syscall(t, 'mmap', [addr(b), Number(c), PROT(d), FLAGS(e), -1, 0]).value;
      if (r >= 0) names.set(a, r);
    } else if (op === 'munmap') r = k.syscall(t, 'munmap', [addr(a) + Number(b), Number(c)]).value;
    else if (op === 'mprotect') r = k.syscall(t, 'mprotect', [addr(a) + Number(b), Number(c), PROT(d)]).value;
    else if (op === 'madvise') r = k.syscall(t, 'madvise', [addr(a) + Number(b), Number(c), d === 'free' ? 8 : 4]).value;
    else if (op === 'touch') {
      for (let o = 0; o < Number(c); o += 4096) k.access(t, addr(a) + Number(b) + o, ACCESS_WRITE);
      r = 0;
    } else throw new Error(`unsupported step ${op}`);
    return r < 0 ? `-${p.threads[0]!.lastError ?? '?'}` : `0x${r.toString(16)}`;
  }

  for (const b of bs) {
    it(`${b.step} -> ${b.result}`, () => {
      expect(step(b.step)).toBe(b.result);
      const mine = p.space.mm.vmas.overlapping(LOW, HIGH).filter((v) => v.start >= LOW).map((v) => smapsEntry(k, p, v)).join('');
      expect(mine).toBe(b.smaps);
    });
  }
}

// The saved output (MAPSTEPS_SMAPS=1 TMPDIR=/tmp/pkh bash tools/fixtures/host-maps.sh smaps.steps on
// Linux 6.18, x86-64) is the oracle everywhere; the live host kernel is a second one where it runs.
describe('smaps against the saved host output (Linux 6.18), step by step', () => {
  it('has a saved host output', () => {
    expect(existsSync(SAVED)).toBe(true);
  });
  if (!existsSync(SAVED)) return;
  const out = readFileSync(SAVED, 'utf8');
  // The replay takes its steps from the output: an edited script must not pass on a stale one.
  it('the saved output ran this very script (regenerate it after editing smaps.steps)', () => {
    const steps = readFileSync(STEPS, 'utf8').split('\n').map((l) => l.trimEnd()).filter((l) => l.trim() !== '' && !l.startsWith('#'));
    expect(blocks(out).map((b) => b.step)).toEqual(steps);
  });
  replay(out);
});

describe('smaps against this host\'s kernel, step by step', () => {
  if (!requires('the host smaps oracle (tools/fixtures/host-maps.sh)', hostProblem())) return;
  const out = runHarness('host-maps.sh smaps.steps', runHost);
  if (out !== null) replay(out);
});
