/**
 * Oracle: the same script of mmap/munmap/mprotect/brk steps runs on the host kernel (a static
 * program under `setarch -R`, tools/fixtures/host-maps.sh) and on the simulated Linux mm, starting
 * from the host process's own initial layout; every step's result (address or -errno) and every
 * /proc/self/maps line must match.
 *
 * The saved host outputs beside the scripts (`*.host.txt`, made by host-maps.sh on Linux 6.18 with
 * `bash tools/fixtures/host-maps.sh X.steps > X.host.txt`) are the primary oracle and always run.
 * Where the host can run the harness (x86-64 Linux with gcc, libc and setarch) the scripts also run
 * live and the personality must match that kernel too; without them the live oracle fails under CI
 * and skips (saying what is missing) elsewhere; a harness error fails.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KernelError } from '@polykernel/core';
import { describe, expect, it } from 'vitest';
import { requires, runHarness } from '../../../../tools/test-support/oracle.js';
import { MmStruct, VmCommit, parseVmFlags, procMaps, VmArea, vmFlagsLine, linuxFlags as F, type MmapFileMode, type MmOptions, type VmFile } from '../src/index.js';
import { ulong } from '../src/syscall-args.js';
import { hostProblem } from './host.js';

const HOST = fileURLToPath(new URL('../../../../tools/fixtures/host-maps.sh', import.meta.url));
const SCRIPTS = ['three-munmaps.steps', 'fixed-and-mremap.steps', 'accounting.steps', 'heap-and-fork.steps', 'mmap-args.steps', 'mprotect-edges.steps', 'mlock.steps', 'madvise.steps', 'rlimits.steps', 'overcommit.steps', 'mremap-span.steps', 'max-map-count.steps', 'guard-flags.steps'];

function runHost(steps: string): string {
  return execFileSync('bash', [HOST, fileURLToPath(new URL(`./${steps}`, import.meta.url))], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * One dump of the harness: after "#! counts" a step's dump has `areas` (the number of maps lines)
 * instead of maps and flags; a split step says how many of its calls succeeded (`done`).
 */
interface Block { step: string | null; result: string | null; maps: string[]; flags: string[]; status: string[]; brk: [number, number]; data: [number, number]; file: string | null; areas: number | null; done: number | null }

const emptyBlock = (step: string | null, result: string | null): Block => ({ step, result, maps: [], flags: [], status: [], brk: [0, 0], data: [0, 0], file: null, areas: null, done: null });

/** The host's "mem MEMTOTAL_KB SWAPTOTAL_KB MODE" line: its memory and overcommit mode. */
interface HostMem { ramKb: number; swapKb: number; mode: 0 | 1 | 2; minAddr: number }

/** The host's "mem MEMTOTAL_KB SWAPTOTAL_KB MODE MMAP_MIN_ADDR" line: its memory, overcommit mode and vm.mmap_min_addr. */
function hostMem(out: string): HostMem {
  const m = /^mem (\d+) (\d+) (\d) (\d+)$/m.exec(out);
  if (m === null) throw new Error('the host output has no "mem" line (tools/fixtures/src/linux/mapsteps.c prints it first)');
  return { ramKb: Number(m[1]), swapKb: Number(m[2]), mode: Number(m[3]) as 0 | 1 | 2, minAddr: Number(m[4]) };
}

/** Split the host output into the initial dump and one block per step. */
function blocks(out: string): Block[] {
  const res: Block[] = [emptyBlock(null, null)];
  for (const line of out.split('\n')) {
    const m = /^== (.*) -> (.*)$/.exec(line);
    const b = res[res.length - 1]!;
    if (m !== null) res.push(emptyBlock(m[1]!, m[2]!));
    else if (line.startsWith('file ')) b.file = line.slice(5);
    else if (line.startsWith('areas ')) b.areas = Number(line.slice(6));
    else if (line.startsWith('done ')) b.done = Number(line.slice(5));
    else if (line.startsWith('brk ')) {
      const [sb = 0, br = 0, sd = 0, ed = 0] = line.slice(4).split(' ').map(Number);
      b.brk = [sb, br];
      b.data = [sd, ed];
    }
    else if (line.startsWith('status ')) b.status.push(line.slice(7));
    else if (line.startsWith('flags ')) b.flags.push(line.slice(6).trimEnd());
    else if (line.startsWith('#') || line.startsWith('mem ')) continue;
    else if (line !== '') b.maps.push(line);
  }
  // [vsyscall] is not an area of the mm (it lives in the fixmap): drop it and its flags.
  for (const b of res) {
    const i = b.maps.findIndex((l) => l.includes('[vsyscall]'));
    if (i >= 0) {
      b.maps.splice(i, 1);
      b.flags.splice(i, 1);
    }
  }
  return res;
}

/** Rebuild the host's initial layout in a simulated mm (exec's job, issue 8). */
function fromHostMaps(lines: string[], vmFlags: string[], brk: [number, number], data: [number, number], shmemInodes: number[], mem: HostMem): MmStruct {
  // Inode numbers of shmem files are host state (get_next_ino); hand out the host's, in order.
  const inodes = [...shmemInodes];
  // The overcommit heuristic judges against the host's RAM and swap (totalram_pages, total_swap_pages).
  const commit = new VmCommit({ mode: mem.mode, totalRamPages: mem.ramKb / 4, swapPages: mem.swapKb / 4 });
  const mm = new MmStruct({ ...mmOptions(inodes, mem), commit });
  for (const [i, l] of lines.entries()) {
    const [range = '', , off = '0', dev = '00:00', ino = '0', ...rest] = l.trim().split(/\s+/);
    const [s, e] = range.split('-').map((x) => parseInt(x, 16)) as [number, number];
    const name = rest.join(' ') || null;
    // The host's own vm_flags, from smaps, so exec's choices (VM_ACCOUNT, VM_DONTDUMP ...) carry over.
    const flags = parseVmFlags(vmFlags[i] ?? '');
    const isFile = name?.startsWith('/') === true;
    const [maj = 0, min = 0] = dev.split(':').map((x) => parseInt(x, 16));
    const file = isFile ? { path: name, dev: [maj, min] as [number, number], ino: Number(ino) } : null;
    const v = new VmArea(s, e, flags, isFile ? parseInt(off, 16) / 4096 : s / 4096, file, isFile || name === '[heap]' ? null : name);
    mm.addArea(v);
  }
  [mm.startBrk, mm.brk] = brk;
  [mm.startData, mm.endData] = data;
  return mm;
}

function mmOptions(inodes: number[], mem: HostMem): MmOptions {
  return { mmapMinAddr: mem.minAddr, shmemInode: () => inodes.shift() ?? 0 };
}

/** The harness's prot_of: r, w, x, G (PROT_GROWSDOWN), U (PROT_GROWSUP); any other letter is PROT_SEM here (ignored on x86, as the harness ignores it). */
const PROT = (s: string): number => (s.includes('r') ? 1 : 0) | (s.includes('w') ? 2 : 0) | (s.includes('x') ? 4 : 0) | (/[^rwxGU-]/.test(s) ? 8 : 0)
  | (s.includes('G') ? 0x01000000 : 0) | (s.includes('U') ? 0x02000000 : 0);
const FLAG_NAMES: Record<string, number> = {
  private: F.MAP_PRIVATE, shared: F.MAP_SHARED, validate: F.MAP_SHARED_VALIDATE, anon: F.MAP_ANONYMOUS, noreplace: F.MAP_FIXED_NOREPLACE,
  fixed: F.MAP_FIXED, populate: F.MAP_POPULATE, noreserve: F.MAP_NORESERVE, growsdown: F.MAP_GROWSDOWN, hugetlb: F.MAP_HUGETLB,
  '32bit': F.MAP_32BIT, droppable: F.MAP_DROPPABLE,
};
/** The harness's flags_of: each comma-separated name, or a number. */
const FLAGS = (s: string): number => s.split(',').reduce((f, t) => f | (FLAG_NAMES[t] ?? Number(t)), 0);

/** The harness's advice_of names. */
const ADVICE: Record<string, number> = {
  normal: 0, random: 1, sequential: 2, willneed: 3, dontneed: 4, free: 8, remove: 9, dontfork: 10, dofork: 11, hugepage: 14, nohugepage: 15,
  dontdump: 16, dodump: 17, wipeonfork: 18, keeponfork: 19, cold: 20, pageout: 21, populate_read: 22, populate_write: 23, guard_install: 102, guard_remove: 103,
};

/** A step's number as the harness's strtoul reads it: exact past 2^53 (a bigint there). */
const big = (s: string): bigint => BigInt(s);
/** A length or address argument as the syscall layer gives it to the mm (syscall-args.ts ulong). */
const ULONG = (s: string): number => ulong(big(s));

/** Run one step on the simulated mm; the result printed like the host program prints it. */
function simulate(sim: Sim, names: Map<string, number>, step: string, fileLine: string | null): string {
  const [op = '', a = '', b = '', c = '', d = '', e = '', g = '-1', h = '0'] = step.split(/\s+/);
  const mm = sim.mm;
  const addrOf = (n: string): number => (n === 'HEAP' ? mm.startBrk : names.get(n) ?? Number(n));
  try {
    switch (op) {
      case 'mmap': {
        const fd = openFile(sim, g, fileLine);
        if (fd === 'EBADF') return '-EBADF';
        // The syscall's checks on the offset come first (sys_x86_64.c), then do_mmap's.
        const r = mm.mmap(addrOf(b), lenOf(sim, c), PROT(d), FLAGS(e), fd?.file ?? null, big(h), fd?.mode);
        names.set(a, r);
        return '0x' + r.toString(16);
      }
      case 'munmap':
        return '0x' + mm.munmap(addrOf(a) + Number(b), lenOf(sim, c)).toString(16);
      case 'mprotect':
        return '0x' + mm.mprotect(addrOf(a) + Number(b), big(c), PROT(d)).toString(16);
      case 'mremap': {
        const fl = d === 'maymove' ? F.MREMAP_MAYMOVE : d === 'dontunmap' ? F.MREMAP_MAYMOVE | F.MREMAP_DONTUNMAP : d === 'fixed' ? F.MREMAP_MAYMOVE | F.MREMAP_FIXED : 0;
        const r = mm.mremap(addrOf(a), big(b), big(c), fl, e === '' ? 0 : addrOf(e));
        names.set(a, r);
        return '0x' + r.toString(16);
      }
      case 'brk': {
        // The harness calls glibc's sbrk (brk for @start), which says ENOMEM when the kernel
        // leaves the break short of what was asked.
        const want = a === '@start' ? mm.startBrk : mm.brk + Number(a);
        const r = mm.brkSyscall(want);
        return r === want ? '0x' + r.toString(16) : '-ENOMEM';
      }
      case 'fork': {
        // The script goes on in the child (dup_mmap); the parent only waits for it.
        const child = new MmStruct({ ...mmOptions(sim.inodes, sim.mem), commit: mm.commit });
        child.forkFrom(mm);
        sim.mm = child;
        return '0x0';
      }
      case 'madvise':
        return '0x' + mm.madvise(addrOf(a) + Number(b), big(c), ADVICE[d] ?? Number(d)).toString(16);
      case 'mlock':
        return '0x' + mm.mlock(addrOf(a) + Number(b), big(c)).toString(16);
      case 'mlock2': {
        const fl = d === 'onfault' ? 1 : Number(d);
        // sys_mlock2's own check, then do_mlock.
        if ((fl & ~1) !== 0) return '-EINVAL';
        return '0x' + mm.mlock(addrOf(a) + Number(b), big(c), F.VM_LOCKED | (fl === 1 ? F.VM_LOCKONFAULT : 0)).toString(16);
      }
      case 'munlock':
        return '0x' + mm.munlock(addrOf(a) + Number(b), big(c)).toString(16);
      case 'mlockall':
        return '0x' + mm.mlockall(a.split(',').reduce((f, t) => f | (({ current: 1, future: 2, onfault: 4 } as Record<string, number>)[t] ?? Number(t)), 0)).toString(16);
      case 'munlockall':
        return '0x' + mm.munlockall().toString(16);
      case 'msync':
        return '0x' + mm.msync(addrOf(a) + Number(b), big(c), d.split(',').reduce((f, t) => f | (({ async: 1, invalidate: 2, sync: 4 } as Record<string, number>)[t] ?? Number(t)), 0)).toString(16);
      case 'setrlimit': {
        const lim = b === 'inf' ? Infinity : Number(b);
        mm.prlimit(({ data: 2, stack: 3, memlock: 8, as: 9 } as Record<string, number>)[a] ?? 8, { cur: lim, max: lim });
        return '0x0';
      }
      case 'capdrop':
        mm.privileged = false;
        return '0x0';
      case 'split': {
        // The harness's split: single-page mprotects two pages apart until one fails.
        const base = addrOf(a) + Number(b);
        let r = '0x0';
        sim.done = 0;
        for (; sim.done < Number(c); sim.done++) {
          r = mprotectResult(mm, base + sim.done * 8192, PROT(d));
          if (r !== '0x0') break;
        }
        return r;
      }
      case 'touch':
        for (let o = 0; o < Number(c); o += 4096) mm.touch(addrOf(a) + Number(b) + o);
        return '0x0';
      default:
        throw new Error(`unsupported step ${op}`);
    }
  } catch (err) {
    if (err instanceof KernelError) return `-${err.errno}`;
    throw err;
  }
}

/** One mprotect's result as the harness prints it. */
function mprotectResult(mm: MmStruct, start: number, prot: number): string {
  try {
    return '0x' + mm.mprotect(start, 4096, prot).toString(16);
  } catch (e) {
    if (e instanceof KernelError) return `-${e.errno}`;
    throw e;
  }
}

/** The VmSize, VmData and VmStk lines of /proc/self/status (vm_stat_account), as task_mem prints them. */
function statusOf(mm: MmStruct): string[] {
  const kb = (pages: number): string => `${String(pages * 4).padStart(8)} kB`;
  return [`VmSize:\t${kb(mm.totalVm)}`, `VmLck:\t${kb(mm.lockedVm)}`, `VmData:\t${kb(mm.dataVm)}`, `VmStk:\t${kb(mm.stackVm)}`];
}

/** Every area's smaps VmFlags line, in address order. */
function flagsOf(mm: MmStruct): string[] {
  return [...mm.vmas.iterateFrom(0)].map((v) => vmFlagsLine(v).trimEnd());
}

/** The simulated process the script runs in: after a fork step, the child; the files it mapped, by path. */
interface Sim { mm: MmStruct; inodes: number[]; files: Map<string, VmFile>; mem: HostMem; done: number | null }

/** The harness's len_of: a number, or RAM/2 / RAM+SWAP+N from the host's memory. */
function lenOf(sim: Sim, s: string): number {
  const ram = sim.mem.ramKb * 1024;
  if (s === 'RAM/2') return Math.floor(ram / 2 / 4096) * 4096;
  if (s.startsWith('RAM+SWAP+')) return ram + sim.mem.swapKb * 1024 + Number(s.slice(9));
  return ULONG(s);
}

/**
 * The descriptor a mmap step names (the harness's fd_of): none (-1), EBADF (O_PATH, which fget
 * refuses, or a number not open), or a file with the device and inode the host printed for it.
 */
function openFile(sim: Sim, spec: string, fileLine: string | null): { file: VmFile; mode: MmapFileMode } | 'EBADF' | null {
  if (spec === '-1') return null;
  const m = /^(ro|rw|dir|opath):(.*)$/.exec(spec);
  if (m === null || m[1] === 'opath' || fileLine === null) return 'EBADF';
  const [dev = '00:00', ino = '0', kind = 'regular'] = fileLine.split(' ');
  const path = m[2]!;
  let file = sim.files.get(path);
  if (file === undefined) {
    const [maj = 0, min = 0] = dev.split(':').map((x) => parseInt(x, 16));
    file = { path, dev: [maj, min], ino: Number(ino) };
    sim.files.set(path, file);
  }
  const mode: MmapFileMode = { read: true, write: m[1] === 'rw', kind: kind === 'directory' ? 'directory' : path === '/dev/zero' ? 'zero' : 'regular' };
  return { file, mode };
}

/** Replay one host output (saved or live) step by step on the personality. */
function replay(out: string): void {
  const bs = blocks(out);
  const mem = hostMem(out);
  const shm = new Set<number>();
  for (const b of bs.slice(1)) for (const l of b.maps) if (l.endsWith('/dev/zero (deleted)')) shm.add(Number(l.trim().split(/\s+/)[4]));
  const inodes = [...shm];
  const sim: Sim = { mem, mm: fromHostMaps(bs[0]!.maps, bs[0]!.flags, bs[0]!.brk, bs[0]!.data, inodes, mem), inodes, files: new Map(), done: null };
  // The maps lines the host counts but that are no area of the mm ([vsyscall], dropped above).
  const gate = out.slice(0, out.indexOf('\n== ')).includes('[vsyscall]') ? 1 : 0;
  const names = new Map<string, number>();
  it('starts from the same layout', () => {
    expect(procMaps(sim.mm).trimEnd().split('\n')).toEqual(bs[0]!.maps);
    expect(statusOf(sim.mm)).toEqual(bs[0]!.status);
    expect(flagsOf(sim.mm)).toEqual(bs[0]!.flags);
  });
  for (const b of bs.slice(1)) {
    it(`${b.step ?? ''} -> ${b.result ?? ''}`, () => {
      sim.done = null;
      expect(simulate(sim, names, b.step!, b.file)).toBe(b.result);
      expect(sim.done).toBe(b.done);
      if (b.areas !== null) {
        // A "#! counts" script: the number of areas, the counters and the break.
        expect(sim.mm.mapCount + gate).toBe(b.areas);
        expect(statusOf(sim.mm)).toEqual(b.status);
        expect([sim.mm.startBrk, sim.mm.brk]).toEqual(b.brk);
        return;
      }
      expect(procMaps(sim.mm).trimEnd().split('\n')).toEqual(b.maps);
      expect(statusOf(sim.mm)).toEqual(b.status);
      expect(flagsOf(sim.mm)).toEqual(b.flags);
      expect([sim.mm.startBrk, sim.mm.brk]).toEqual(b.brk);
    });
  }
}

/** The steps of a script as mapsteps reads them: neither comments nor empty lines. */
const scriptSteps = (text: string): string[] => text.split('\n').map((l) => l.trimEnd()).filter((l) => l.trim() !== '' && !l.startsWith('#'));

const saved = (script: string): URL => new URL(`./${script.replace(/\.steps$/, '.host.txt')}`, import.meta.url);

for (const script of SCRIPTS) {
  describe(`Linux mm against the saved host output (Linux 6.18): ${script}`, () => {
    it('has a saved host output', () => {
      expect(existsSync(saved(script))).toBe(true);
    });
    if (!existsSync(saved(script))) return;
    const out = readFileSync(saved(script), 'utf8');
    // The replay takes its steps from the output: an edited script must not pass on a stale one.
    it('the saved output ran this very script (regenerate it after editing the script)', () => {
      expect(blocks(out).slice(1).map((b) => b.step)).toEqual(scriptSteps(readFileSync(new URL(`./${script}`, import.meta.url), 'utf8')));
    });
    replay(out);
  });
}

const ready = requires('the host mm oracle (tools/fixtures/host-maps.sh)', hostProblem());

for (const script of ready ? SCRIPTS : []) {
  describe(`Linux mm against this host's kernel, step by step: ${script}`, () => {
    const out = runHarness(`host-maps.sh ${script}`, () => runHost(script));
    if (out !== null) replay(out);
  });
}
