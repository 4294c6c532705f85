/**
 * A toy personality for the CLI's tests of the registry (not any real kernel): it boots, has two
 * traps and a library call, and two views — one that renders and one that is not written yet.
 */
import { freebsdIds, type Personality } from '@polykernel/kernel';
import type { PageTable } from '@polykernel/mmu';
import type { RegisteredPersonality } from '../src/personalities.js';

export interface ToySpace {
  pt: PageTable;
}

export function toyPersonality(variant = 'toyos-1'): Personality<ToySpace> {
  return {
    name: variant, version: '1.0', defaultProfile: 'x86-64', errorSpace: 'freebsd',
    failureValue: () => -1,
    syscalls: [
      { name: 'getpid', number: 20, args: [], handler: (ctx) => ctx.process.pid },
      { name: 'mmap', number: 477, args: ['addr', 'len'], handler: (ctx) => ctx.fail('ENOSYS') },
      { name: 'toy_getpid', number: -1, args: [], table: 'libtoy', kind: 'library', handler: (ctx) => ctx.call('getpid').value },
    ],
    signals: { SIGKILL: 9, SIGSEGV: 11 },
    waitStatus: (code, signal) => (signal !== null ? 11 : (code ?? 0) << 8),
    processModel: { bootComm: 'init', adoptsOrphans: true, bootReaps: true, lifetime: 'wait' },
    ids: () => freebsdIds(),
    attach: () => undefined,
    createAddressSpace: (k) => ({ pt: k.mmu.createPageTable() }),
    destroyAddressSpace: (_k, p) => {
      p.space.pt.destroy();
    },
    pageTableOf: (s) => s.pt,
    handleFault: (_k, _t, f) => (f.user ? { kind: 'signal', signal: 'SIGSEGV', code: 'SEGV_MAPERR' } : { kind: 'fixup' }),
    views: [
      { name: 'ps', title: 'ps -p <pid>', render: (_k, p) => `  PID COMMAND\n${String(p.pid).padStart(5)} ${p.comm}\n`, rows: (_k, p) => [{ pid: p.pid, comm: p.comm }] },
      { name: 'maps', title: 'toy maps of <pid>', render: () => { throw new Error('toyos: the maps view is not written yet'); } },
    ],
    metricsFilled: ['processesCreated'],
  };
}

export const TOY_ENTRY: RegisteredPersonality = {
  name: 'toyos',
  description: 'A toy for the CLI tests.',
  variants: ['toyos-1', 'toyos-2'],
  defaultVariant: 'toyos-1',
  create: ({ variant }) => toyPersonality(variant),
};
