/** The personality contract kit, and the draft-3 mechanisms as Linux fills them. */
import { Kernel, type Thread } from '@polykernel/kernel';
import { contractSuite } from '@polykernel/kernel/testing';
import { ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';
import { describe, expect, it } from 'vitest';
import { MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE } from './flags.js';
import { linuxPersonality } from './personality.js';
import { FAULT_HANDLER } from './signal.js';
import { SIGNALS } from './tasks.js';

const P = 4096;
const mapMemory = (k: Kernel<import('./machine.js').LinuxSpace>, t: Thread, bytes: number): number =>
  k.syscall(t, 'mmap', [0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]).value;

for (const variant of ['linux-6.x', 'linux-5.15'] as const) {
  contractSuite(variant, {
    personality: () => linuxPersonality({ variant }),
    mapMemory,
    unmappedAddress: 0x5000,
    accessViolation: 'SIGSEGV',
    // What the claimed metrics need beyond mapping and touching: a zero-page read then a write
    // (cowReuse... of the zero page), and a fork whose child writes a shared page (COW copy).
    exercise: (k, p) => {
      const t = p.threads[0]!;
      const a = mapMemory(k, t, 4 * P);
      k.access(t, a, ACCESS_READ);
      k.access(t, a, ACCESS_WRITE);
      k.access(t, a + P, ACCESS_WRITE);
      const pid = k.syscall(t, 'fork').value;
      const child = k.processes.get(pid)!;
      k.access(child.threads[0]!, a + P, ACCESS_WRITE);
      k.access(t, a + P, ACCESS_WRITE); // the parent is the page's only user again: reused
      k.syscall(child.threads[0]!, 'exit_group', [0]);
      k.syscall(t, 'wait4', [pid, 0, 0, 0]);
    },
  });
}

describe('SIGSEGV handlers (rt_sigaction) are delivered by the core', () => {
  function boot(): { k: Kernel<import('./machine.js').LinuxSpace, import('./machine.js').LinuxMachine>; t: Thread } {
    const k = new Kernel(linuxPersonality(), { frames: 4096, contents: true });
    return { k, t: k.createProcess(k.init, 'gc').threads[0]! };
  }

  it('a handler that mprotects the page makes the write retry and succeed (one delivery, mprotect and rt_sigreturn through the gate)', () => {
    const { k, t } = boot();
    const a = k.syscall(t, 'mmap', [0, 2 * P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0]).value;
    expect(k.syscall(t, 'rt_sigaction', [SIGNALS.SIGSEGV!, FAULT_HANDLER.mprotect, 0, 8]).value).toBe(0);
    const calls: string[] = [];
    k.bus.subscribe('syscall:entry', (e) => calls.push(e.name));
    const actions: string[] = [];
    k.bus.subscribe('signal', (e) => actions.push(`${e.signal}:${e.code}:${e.action}`));
    const c0 = k.metrics.cycles;
    expect(k.access(t, a + P + 8, ACCESS_WRITE)).toBeGreaterThan(0);
    expect(actions).toEqual(['SIGSEGV:SEGV_ACCERR:retry']);
    expect(calls).toEqual(['mprotect', 'rt_sigreturn']);
    expect(k.state.task(t).signalsHandled).toBe(1);
    expect(k.metrics.cycles - c0).toBeGreaterThan(37_700);
    expect(k.access(t, a, ACCESS_WRITE)).toBeGreaterThan(0); // the first page: a second delivery, retried too
    expect(k.state.task(t).signalsHandled).toBe(2);
    expect(k.access(t, a + P + 16, ACCESS_WRITE)).toBeGreaterThan(0); // no delivery once writable
    expect(k.state.task(t).signalsHandled).toBe(2);
  });

  it('a handler that continues counts each fault and resumes past the access; SIG_DFL kills', () => {
    const { k, t } = boot();
    k.syscall(t, 'rt_sigaction', [SIGNALS.SIGSEGV!, FAULT_HANDLER.continue, 0, 8]);
    for (let i = 0; i < 3; i++) expect(k.access(t, 0x5000 + i * P, ACCESS_READ)).toBe(-1);
    expect([t.process.state, k.state.task(t).signalsHandled, k.metrics.faults.segv]).toEqual(['running', 3, 3]);
    k.syscall(t, 'rt_sigaction', [SIGNALS.SIGSEGV!, 0, 0, 8]);
    expect(k.access(t, 0x5000, ACCESS_READ)).toBe(-1);
    expect([t.process.state, (t.process as { killedBy: string | null }).killedBy]).toEqual(['dead', 'SIGSEGV']);
  });

  it('an ignored SIGSEGV from a fault is forced back to the default action (force_sig_fault)', () => {
    const { k, t } = boot();
    k.syscall(t, 'rt_sigaction', [SIGNALS.SIGSEGV!, 1, 0, 8]);
    k.access(t, 0x5000, ACCESS_READ);
    expect(t.process.state).toBe('dead');
  });
});
