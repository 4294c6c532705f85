/**
 * `polykernel run`: replay a YAML workload on a personality and report each step's result (the
 * address, 0, or -ERRNO as the kernel returns it), the final /proc/<pid>/maps and status memory
 * lines of every process, and the kernel's metrics.
 *
 * Processes run one after another, each to its end (the simulation has no scheduler yet).
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { formatProt, Rng } from '@polykernel/core';
import { Kernel, type Process } from '@polykernel/kernel';
import { linuxFlags as F, linuxPersonality, procMaps, procStatusMemory, type LinuxSpace } from '@polykernel/linux';
import { ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE, type Access } from '@polykernel/mmu';
import { parseWorkload, WorkloadError, type Step } from '@polykernel/workload';

export type RunOptions = Record<string, boolean | string | undefined>;

interface StepResult { process: string; pid: number; step: string; result: string }

const MADVICE: Record<string, number> = { dontneed: 4, willneed: 3, free: 8 };

const PERSONALITIES: Record<string, 'linux-5.15' | 'linux-6.x'> = { linux: 'linux-6.x', 'linux-6.x': 'linux-6.x', 'linux-5.15': 'linux-5.15' };

function mmapFlags(flags: readonly string[]): number {
  let f = 0;
  for (const x of flags) {
    f |= x === 'private' ? F.MAP_PRIVATE : x === 'shared' ? F.MAP_SHARED : x === 'anonymous' ? F.MAP_ANONYMOUS : x === 'fixed' ? F.MAP_FIXED
      : x === 'fixed-noreplace' ? F.MAP_FIXED_NOREPLACE : x === 'populate' ? F.MAP_POPULATE : x === 'noreserve' ? F.MAP_NORESERVE : F.MAP_GROWSDOWN;
  }
  return f;
}

/** The page addresses a touch step visits, in order. */
function touchAddresses(base: number, length: number, pattern: string, stride: number, count: number | undefined, seed: number | string): number[] {
  const pages = Math.max(1, Math.ceil(length / 4096));
  const out: number[] = [];
  if (pattern === 'random') {
    const rng = new Rng(seed);
    const n = count ?? pages;
    for (let i = 0; i < n; i++) out.push(base + rng.below(pages) * 4096);
  } else {
    const step = pattern === 'stride' ? Math.max(stride, 1) : 4096;
    const n = count ?? Math.ceil(length / step);
    for (let i = 0; i < n; i++) out.push(base + ((i * step) % (pages * 4096)));
  }
  return out;
}

async function runStep(k: Kernel<LinuxSpace>, p: Process<LinuxSpace>, regions: Map<string, { addr: number; length: number }>, step: Step, dir: string): Promise<string> {
  const t = p.threads[0]!;
  const at = (name: string, offset: number): number => {
    const r = regions.get(name);
    if (r === undefined) throw new RangeError(`region "${name}" was not mapped by an earlier step`);
    return r.addr + offset;
  };
  const res = (v: number): string => (v < 0 ? `-${t.lastError ?? v}` : `0x${v.toString(16)}`);
  if ('mmap' in step) {
    const m = step.mmap;
    let fd = -1;
    if (m.file !== undefined) {
      const path = resolve(dir, m.file);
      fd = p.installFile({ path, bytes: new Uint8Array(await readFile(path)), readable: true, writable: true });
    }
    // The workload's protections use the same bits as Linux's PROT_READ/WRITE/EXEC (1, 2, 4).
    const v = k.syscall(t, 'mmap', [m.addr ?? 0, m.length, m.prot, mmapFlags(m.flags), fd, m.offset ?? 0]).value;
    if (v >= 0) regions.set(m.name, { addr: v, length: m.length });
    return res(v);
  }
  if ('munmap' in step) return res(k.syscall(t, 'munmap', [at(step.munmap.region, step.munmap.offset), step.munmap.length]).value);
  if ('mprotect' in step) {
    const s = step.mprotect;
    return res(k.syscall(t, 'mprotect', [at(s.region, s.offset), s.length, s.prot]).value);
  }
  if ('brk' in step) {
    const target = 'to' in step.brk ? step.brk.to : p.space.mm.brk + step.brk.delta;
    return res(k.syscall(t, 'brk', [target]).value);
  }
  if ('mremap' in step) {
    const s = step.mremap;
    const r = regions.get(s.region);
    if (r === undefined) throw new RangeError(`region "${s.region}" was not mapped by an earlier step`);
    const v = k.syscall(t, 'mremap', [r.addr, r.length, s.newLength, s.mayMove ? F.MREMAP_MAYMOVE : 0]).value;
    if (v >= 0) regions.set(s.region, { addr: v, length: s.newLength });
    return res(v);
  }
  if ('madvise' in step) {
    const s = step.madvise;
    return res(k.syscall(t, 'madvise', [at(s.region, s.offset), s.length, MADVICE[s.advice]!]).value);
  }
  const s = step.touch;
  const access: Access = s.access === 'write' ? ACCESS_WRITE : s.access === 'exec' ? ACCESS_EXEC : ACCESS_READ;
  for (const va of touchAddresses(at(s.region, s.offset), s.length, s.pattern, s.stride ?? 4096, s.count, s.seed ?? 1)) {
    if (k.access(t, va, access) < 0) return `${p.killedBy ?? 'signal'} at 0x${va.toString(16)}`;
  }
  return '0x0';
}

function describeStep(step: Step): string {
  const [op, args] = Object.entries(step)[0] as [string, Record<string, unknown>];
  const show = (key: string, v: unknown): string => (key === 'prot' && typeof v === 'number' ? formatProt(v) : typeof v === 'number' && v >= 4096 ? `0x${v.toString(16)}` : String(v));
  return `${op} ${Object.entries(args).map(([key, v]) => `${key}=${show(key, v)}`).join(' ')}`;
}

export async function runWorkload(file: string, opts: RunOptions, out: (s: string) => void = (s) => process.stdout.write(s + '\n'), err: (s: string) => void = (s) => process.stderr.write(s + '\n')): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    err(`polykernel run: ${file}: ${(e as Error).message}`);
    return 1;
  }
  let w;
  try {
    w = parseWorkload(text, file);
  } catch (e) {
    if (e instanceof WorkloadError) {
      err(e.message);
      return 1;
    }
    throw e;
  }
  const name = (typeof opts.personality === 'string' ? opts.personality : undefined) ?? w.personality ?? 'linux';
  const variant = PERSONALITIES[name];
  if (variant === undefined) {
    err(`polykernel run: personality "${name}" is not built yet (available: ${Object.keys(PERSONALITIES).join(', ')})`);
    return 1;
  }
  const frames = typeof opts.memory === 'string' ? Math.floor(parseMemory(opts.memory) / 4096) : 262144;
  const k = new Kernel(linuxPersonality({ variant }), { frames });
  const results: StepResult[] = [];
  const views: { process: string; pid: number; maps: string; status: string; killedBy: string | null }[] = [];
  for (const spec of w.processes) {
    const p = k.createProcess(k.init, spec.name);
    const regions = new Map<string, { addr: number; length: number }>();
    for (const step of spec.steps) {
      if (p.state !== 'running') break;
      let result: string;
      try {
        result = await runStep(k, p, regions, step, dirname(resolve(file)));
      } catch (e) {
        err(`polykernel run: ${file}: process ${spec.name}: ${(e as Error).message}`);
        return 1;
      }
      results.push({ process: spec.name, pid: p.pid, step: describeStep(step), result });
      if (opts.mapsEachStep === true && opts.json !== true) out(`== ${spec.name}[${p.pid}] ${describeStep(step)} -> ${result}\n${procMaps(p.space.mm)}`);
    }
    views.push({ process: spec.name, pid: p.pid, maps: p.state === 'running' ? procMaps(p.space.mm) : '', status: p.state === 'running' ? procStatusMemory(p.space) : '', killedBy: p.killedBy });
  }
  const m = k.metrics;
  const metrics = { syscalls: m.syscalls, faults: { ...m.faults }, pagesZeroed: m.pagesZeroed, tlbShootdowns: m.tlbShootdowns, cycles: m.cycles };
  if (opts.json === true) {
    out(JSON.stringify({ workload: w.name, personality: variant, steps: results, processes: views, metrics }, null, 2));
    return 0;
  }
  out(`workload ${w.name} on ${variant}`);
  const width = Math.max(...results.map((r) => r.step.length), 4);
  for (const r of results) out(`  ${`${r.process}[${r.pid}]`.padEnd(12)} ${r.step.padEnd(width)}  -> ${r.result}`);
  for (const v of views) {
    out(`\n/proc/${v.pid}/maps (${v.process})${v.killedBy !== null ? `: killed by ${v.killedBy}` : ''}`);
    if (v.killedBy === null) out(v.maps.trimEnd() + '\n\n' + v.status.trimEnd());
  }
  const faults = Object.entries(metrics.faults).filter(([, n]) => n > 0).map(([kind, n]) => `${kind} ${n}`).join(', ');
  out(`\nsyscalls ${metrics.syscalls}; faults: ${faults === '' ? 'none' : faults}; pages zeroed ${metrics.pagesZeroed}; simulated cycles ${metrics.cycles}`);
  return 0;
}

function parseMemory(s: string): number {
  const m = /^(\d+)([KMG]?)$/i.exec(s.trim());
  if (m === null) throw new RangeError(`--memory: expected a size such as 512M or 4G, got "${s}"`);
  return Number(m[1]) * ({ '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 } as Record<string, number>)[m[2]!.toUpperCase()]!;
}
