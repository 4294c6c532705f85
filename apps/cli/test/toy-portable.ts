/**
 * A toy personality with a portable driver, for the CLI's tests of the generic path (not any real
 * kernel): regions first-fit from 0x10000000 with demand-zero pages, mmap/munmap/exit/wait4 as
 * traps (wait4 sleeps until a child exits), and a driver that makes those calls — fork, spawn and
 * files are n/a with the reason, as a driver must say of what its kernel lacks.
 */
import {
  failure, freebsdIds, gate, ok, PORTABLE_OPS, unsupported, type Kernel, type Personality, type PortableDriver, type PortableOp, type Process,
  type SyscallContext,
} from '@polykernel/kernel';
import { ACCESS_WRITE, MAP_OK, PTE_NX, PTE_USER, PTE_WRITE, type PageTable } from '@polykernel/mmu';
import type { RegisteredPersonality } from '../src/personalities.js';

const PAGE = 4096;
const BASE = 0x1000_0000;

interface Region { start: number; end: number; object: ReturnType<Kernel<unknown>['vm']['createObject']>; writable: boolean }
export interface PortSpace { pt: PageTable; regions: Region[] }
type K = Kernel<PortSpace>;

const at = (s: PortSpace, va: number): Region | undefined => s.regions.find((r) => va >= r.start && va < r.end);

function findSpace(s: PortSpace, len: number): number {
  let start = BASE;
  for (const r of [...s.regions].sort((x, y) => x.start - y.start)) {
    if (r.start - start >= len) break;
    start = Math.max(start, r.end);
  }
  return start;
}

function wait4(ctx: SyscallContext<PortSpace>): number {
  const zombie = ctx.process.children.find((c) => c.state === 'zombie');
  if (zombie !== undefined) {
    const pid = zombie.pid;
    ctx.record({ type: 'wait', fields: { status: zombie.exitStatus ?? 0 } });
    ctx.kernel.reap(zombie);
    return pid;
  }
  return ctx.process.children.length === 0 ? ctx.fail('ECHILD') : ctx.block('wait4', wait4);
}

const num = (a: unknown): number => (typeof a === 'number' ? a : Number.NaN);
const na = (op: string): ReturnType<typeof unsupported> => unsupported(`toyport has no ${op}`);

const DRIVER: PortableDriver<PortSpace> = {
  native: Object.fromEntries(PORTABLE_OPS.map((op) => [op, ({ alloc: 'mmap', free: 'munmap', exit: 'exit', wait: 'wait4' } as Partial<Record<PortableOp, string>>)[op] ?? `n/a: toyport has no ${op}`])) as Record<PortableOp, string>,
  alloc: (k, t, req) => {
    const r = gate(k, t, 'mmap', [req.size, req.prot]);
    return failure(k, 'mmap', r) ?? ok({ addr: r.value, length: Math.ceil(req.size / PAGE) * PAGE });
  },
  free: (k, t, region) => {
    const r = gate(k, t, 'munmap', [region.addr]);
    return failure(k, 'munmap', r) ?? ok(0);
  },
  protect: () => na('mprotect'),
  fork: () => na('fork'),
  spawn: () => na('exec'),
  exec: () => na('exec'),
  exit: (k, t, code) => {
    const r = gate(k, t, 'exit', [code]);
    return failure(k, 'exit', r) ?? ok(0);
  },
  wait: (k, t, ref) => {
    const r = gate(k, t, 'wait4', [ref ?? -1]);
    if (r.blocked === true) return { kind: 'blocked', call: 'wait4' };
    const f = failure(k, 'wait4', r);
    if (f !== null) return f;
    const status = Number(r.record?.fields.status ?? 0);
    return ok({ ref: r.value, pid: r.value, status, exitCode: Math.floor(status / 256), signal: null });
  },
  mapFile: () => na('files'),
  open: () => na('files'),
  read: () => na('files'),
  write: () => na('files'),
  close: () => na('files'),
};

export function toyPortable(variant = 'toyport-1'): Personality<PortSpace> {
  return {
    name: variant, version: '1.0', defaultProfile: 'x86-64', errorSpace: 'freebsd',
    failureValue: () => -1,
    syscalls: [
      {
        name: 'mmap', number: 477, args: ['len', 'prot'],
        handler: (ctx, a) => {
          const len = num(a[0]);
          if (!(len > 0)) return ctx.fail('EINVAL');
          const s = ctx.process.space;
          const pages = Math.ceil(len / PAGE);
          const start = findSpace(s, pages * PAGE);
          s.regions.push({ start, end: start + pages * PAGE, object: ctx.kernel.vm.createObject('anonymous', pages), writable: (num(a[1]) & 2) !== 0 });
          return start;
        },
      },
      {
        name: 'munmap', number: 73, args: ['addr'],
        handler: (ctx, a) => {
          const p = ctx.process;
          const r = at(p.space, num(a[0]));
          if (r === undefined) return ctx.fail('EINVAL');
          if (p.space.pt.unmap(r.start, r.end - r.start) > 0) ctx.kernel.mmu.shootdown(0, ctx.kernel.asidOf(p), r.start, r.end - r.start);
          ctx.kernel.vm.deallocate(r.object);
          p.space.regions.splice(p.space.regions.indexOf(r), 1);
          return 0;
        },
      },
      { name: 'exit', number: 1, args: ['rval'], handler: (ctx, a) => { ctx.kernel.exitProcess(ctx.process, num(a[0])); return 0; } },
      { name: 'wait4', number: 7, args: ['pid'], handler: wait4 },
    ],
    signals: { SIGKILL: 9, SIGSEGV: 11 },
    waitStatus: (code, signal) => (signal !== null ? 11 : (code ?? 0) * 256),
    processModel: { bootComm: 'init', adoptsOrphans: true, bootReaps: true, lifetime: 'wait' },
    ids: () => freebsdIds(),
    attach: () => undefined,
    createAddressSpace: (k) => ({ pt: k.mmu.createPageTable(), regions: [] }),
    destroyAddressSpace: (k, p) => {
      p.space.pt.destroy();
      for (const r of p.space.regions) k.vm.deallocate(r.object);
    },
    pageTableOf: (s) => s.pt,
    onExit: (k, p) => {
      if (p.parent !== null) for (const t of p.parent.threads) if (t.pending?.reason === 'wait4') k.wake(t);
    },
    handleFault: (k: K, _t, f) => {
      const s = (f.process as Process<PortSpace>).space;
      const r = at(s, f.va);
      if (r === undefined || (f.access === ACCESS_WRITE && !r.writable)) return f.user ? { kind: 'signal', signal: 'SIGSEGV', code: 'SEGV_MAPERR' } : { kind: 'fixup' };
      const page = Math.floor((f.va - r.start) / PAGE);
      const frame = k.vm.fault(r.object, page, f.access === ACCESS_WRITE);
      if (frame < 0) return { kind: 'signal', signal: 'SIGKILL', code: 'out of memory' };
      if (s.pt.map(r.start + page * PAGE, frame, PAGE, PTE_USER | PTE_NX | (r.writable ? PTE_WRITE : 0)) !== MAP_OK) throw new Error('toyport: map failed');
      return { kind: 'resolved', how: 'zeroFill' };
    },
    views: [{ name: 'regions', title: 'regions of <pid>', render: (_k, p) => p.space.regions.map((r) => `${r.start.toString(16)}-${r.end.toString(16)} ${r.writable ? 'rw' : 'r-'}\n`).join('') }],
    metricsFilled: ['syscalls', 'faults.zeroFill'],
    portable: DRIVER,
  };
}

export const TOYPORT_ENTRY: RegisteredPersonality = {
  name: 'toyport',
  description: 'A toy with a portable driver, for the CLI tests.',
  variants: ['toyport-1'],
  defaultVariant: 'toyport-1',
  create: ({ variant }) => toyPortable(variant),
};
