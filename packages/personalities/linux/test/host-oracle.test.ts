/**
 * Oracle: the same script of mmap/munmap/mprotect/brk steps runs on the host kernel (a static
 * program under `setarch -R`, tools/fixtures/host-maps.sh) and on the simulated Linux mm, starting
 * from the host process's own initial layout; every step's result (address or -errno) and every
 * /proc/self/maps line must match. Needs x86-64 Linux with gcc, static libc and setarch: without
 * them the oracle fails under CI and skips (saying what is missing) elsewhere; a harness error fails.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KernelError } from '@polykernel/core';
import { describe, expect, it } from 'vitest';
import { requires, runHarness } from '../../../../tools/test-support/oracle.js';
import { MmStruct, parseVmFlags, procMaps, VmArea, vmFlagsLine, linuxFlags as F } from '../src/index.js';
import { hostProblem } from './host.js';

const HOST = fileURLToPath(new URL('../../../../tools/fixtures/host-maps.sh', import.meta.url));
const SCRIPTS = ['three-munmaps.steps', 'fixed-and-mremap.steps', 'accounting.steps'];

function runHost(steps: string): string {
  return execFileSync('bash', [HOST, fileURLToPath(new URL(`./${steps}`, import.meta.url))], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

interface Block { step: string | null; result: string | null; maps: string[]; flags: string[]; status: string[] }

/** Split the host output into the initial dump and one block per step. */
function blocks(out: string): Block[] {
  const res: Block[] = [{ step: null, result: null, maps: [], flags: [], status: [] }];
  for (const line of out.split('\n')) {
    const m = /^== (.*) -> (.*)$/.exec(line);
    const b = res[res.length - 1]!;
    if (m !== null) res.push({ step: m[1]!, result: m[2]!, maps: [], flags: [], status: [] });
    else if (line.startsWith('status ')) b.status.push(line.slice(7));
    else if (line.startsWith('flags ')) b.flags.push(line.slice(6).trimEnd());
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
function fromHostMaps(lines: string[], vmFlags: string[], shmemInodes: number[]): MmStruct {
  const minAddr = Number(readFileSync('/proc/sys/vm/mmap_min_addr', 'utf8').trim());
  // Inode numbers of shmem files are host state (get_next_ino); hand out the host's, in order.
  const inodes = [...shmemInodes];
  const mm = new MmStruct({ mmapMinAddr: minAddr, shmemInode: () => inodes.shift() ?? 0 });
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
    if (name === '[heap]') {
      mm.startBrk = s;
      mm.brk = e;
    }
  }
  return mm;
}

const PROT = (s: string): number => (s.includes('r') ? 1 : 0) | (s.includes('w') ? 2 : 0) | (s.includes('x') ? 4 : 0) | (/[^rwx-]/.test(s) ? 8 : 0);
const FLAGS = (s: string): number => (s.includes('private') ? F.MAP_PRIVATE : 0) | (s.includes('shared') ? F.MAP_SHARED : 0) | (s.includes('anon') ? F.MAP_ANONYMOUS : 0)
  | (s.includes('noreplace') ? F.MAP_FIXED_NOREPLACE : s.includes('fixed') ? F.MAP_FIXED : 0)
  | (s.includes('noreserve') ? F.MAP_NORESERVE : 0) | (s.includes('populate') ? F.MAP_POPULATE : 0) | (s.includes('growsdown') ? F.MAP_GROWSDOWN : 0);

/** Run one step on the simulated mm; the result printed like the host program prints it. */
function simulate(mm: MmStruct, names: Map<string, number>, step: string): string {
  const [op = '', a = '', b = '', c = '', d = '', e = ''] = step.split(/\s+/);
  const addrOf = (n: string): number => names.get(n) ?? Number(n);
  try {
    switch (op) {
      case 'mmap': {
        const r = mm.mmap(addrOf(b), Number(c), PROT(d), FLAGS(e));
        names.set(a, r);
        return '0x' + r.toString(16);
      }
      case 'munmap':
        return '0x' + mm.munmap(addrOf(a) + Number(b), Number(c)).toString(16);
      case 'mprotect':
        return '0x' + mm.mprotect(addrOf(a) + Number(b), Number(c), PROT(d)).toString(16);
      case 'mremap': {
        const r = mm.mremap(addrOf(a), Number(b), Number(c), d === 'maymove' ? F.MREMAP_MAYMOVE : d === 'dontunmap' ? F.MREMAP_MAYMOVE | F.MREMAP_DONTUNMAP : 0);
        names.set(a, r);
        return '0x' + r.toString(16);
      }
      case 'brk':
        return '0x' + mm.brkSyscall(mm.brk + Number(a)).toString(16);
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

/** The VmSize, VmData and VmStk lines of /proc/self/status (vm_stat_account), as task_mem prints them. */
function statusOf(mm: MmStruct): string[] {
  const kb = (pages: number): string => `${String(pages * 4).padStart(8)} kB`;
  return [`VmSize:\t${kb(mm.totalVm)}`, `VmData:\t${kb(mm.dataVm)}`, `VmStk:\t${kb(mm.stackVm)}`];
}

/** Every area's smaps VmFlags line, in address order. */
function flagsOf(mm: MmStruct): string[] {
  return [...mm.vmas.iterateFrom(0)].map((v) => vmFlagsLine(v).trimEnd());
}

const ready = requires('the host mm oracle (tools/fixtures/host-maps.sh)', hostProblem());

for (const script of ready ? SCRIPTS : []) {
  describe(`Linux mm against the host kernel, step by step: ${script}`, () => {
    const out = runHarness(`host-maps.sh ${script}`, () => runHost(script));
    if (out === null) return;
    const bs = blocks(out);
    const shm = new Set<number>();
    for (const b of bs.slice(1)) for (const l of b.maps) if (l.endsWith('/dev/zero (deleted)')) shm.add(Number(l.trim().split(/\s+/)[4]));
    const mm = fromHostMaps(bs[0]!.maps, bs[0]!.flags, [...shm]);
    const names = new Map<string, number>();
    it('starts from the same layout', () => {
      expect(procMaps(mm).trimEnd().split('\n')).toEqual(bs[0]!.maps);
      expect(statusOf(mm)).toEqual(bs[0]!.status);
      expect(flagsOf(mm)).toEqual(bs[0]!.flags);
    });
    for (const b of bs.slice(1)) {
      it(`${b.step ?? ''} -> ${b.result ?? ''}`, () => {
        expect(simulate(mm, names, b.step!)).toBe(b.result);
        expect(procMaps(mm).trimEnd().split('\n')).toEqual(b.maps);
        expect(statusOf(mm)).toEqual(b.status);
        expect(flagsOf(mm)).toEqual(b.flags);
      });
    }
  });
}
