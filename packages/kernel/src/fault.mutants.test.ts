// Tests written to kill surviving mutants of Kernel.access and its fault trap (docs/mutation.md,
// issue 22 §4): the retry bound, the refill shortcut, signal delivery from a fault, the trap's
// charge and the `fault` probe's fields.
import { describe, expect, it } from 'vitest';
import { ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE, MAP_OK, PTE_NX, PTE_USER, PTE_WRITE, getProfile, type PageTable } from '@polykernel/mmu';
import type { Delivery, FaultInfo, FaultResolution, Personality } from './contract.js';
import { linuxIds } from './ids.js';
import { Kernel } from './kernel.js';
import type { Process, Thread } from './process.js';

interface Space { pt: PageTable }

const PAGE = 0x10_0000;

interface Script {
  /** The personality's fault handler; `map` maps PAGE (not mapped before) writable or read-only. */
  fault: (f: FaultInfo, map: (writable: boolean) => void, call: number) => FaultResolution;
  deliver?: () => Delivery;
}

function scripted(script: Script): { personality: Personality<Space>; reasons: string[] } {
  const reasons: string[] = [];
  let calls = 0;
  const personality: Personality<Space> = {
    name: 'scripted',
    version: '0.1',
    defaultProfile: 'x86-64',
    errorSpace: 'freebsd',
    failureValue: () => -1,
    signals: { SIGSEGV: 11, SIGBUS: 10, SIGKILL: 9 },
    waitStatus: (code, signal) => (signal !== null ? 11 : (code ?? 0) * 256),
    processModel: { bootComm: 'init', adoptsOrphans: true, bootReaps: true, lifetime: 'wait' },
    ids: (k) => linuxIds(k.options.pidMax),
    attach: () => undefined,
    views: [],
    metricsFilled: [],
    syscalls: [],
    createAddressSpace: (k) => ({ pt: k.mmu.createPageTable() }),
    destroyAddressSpace: (_k, p) => {
      p.space.pt.destroy();
    },
    pageTableOf: (s) => s.pt,
    handleFault: (k, _thread, f) => {
      reasons.push(f.reason);
      const s = (f.process as Process<Space>).space;
      const map = (writable: boolean): void => {
        expect(s.pt.map(PAGE, k.mmu.frames.alloc(0), 4096, PTE_USER | PTE_NX | (writable ? PTE_WRITE : 0))).toBe(MAP_OK);
      };
      return script.fault(f, map, calls++);
    },
    ...(script.deliver ? { deliver: script.deliver } : {}),
  };
  return { personality, reasons };
}

function start(script: Script): { k: Kernel<Space>; t: Thread; p: Process<Space>; reasons: string[] } {
  const { personality, reasons } = scripted(script);
  const k = new Kernel(personality, { frames: 1024, initReaps: false });
  const p = k.createProcess(k.init, 'p');
  return { k, t: p.threads[0]!, p, reasons };
}

const SEGV: FaultResolution = { kind: 'signal', signal: 'SIGSEGV', code: 'SEGV_ACCERR' };

describe('Kernel.access: retries', () => {
  it('gives a handler that never fixes the fault exactly 4 attempts, then names the personality bug', () => {
    const { k, t, reasons } = start({ fault: () => ({ kind: 'resolved', how: 'zeroFill' }) });
    expect(() => k.access(t, PAGE, ACCESS_READ)).toThrow(new Error('scripted: fault at 0x100000 still unresolved after 4 attempts (personality bug)'));
    expect(reasons).toHaveLength(4);
  });

  it('a fault fixed on the third trap completes', () => {
    const { k, t, reasons } = start({ fault: (_f, map, call) => {
      if (call === 2) map(true);
      return { kind: 'resolved', how: 'zeroFill' };
    } });
    expect(k.access(t, PAGE + 8, ACCESS_WRITE)).toBeGreaterThan(0);
    expect(reasons).toHaveLength(3);
  });

  it('after a handled signal the access gets a fresh set of attempts', () => {
    // First trap: SIGSEGV, which the handler takes; then two traps that fix nothing and a third
    // that maps the page: four translations after the delivery, as many as a fresh access has.
    const { k, t, p } = start({
      fault: (_f, map, call) => {
        if (call === 0) return SEGV;
        if (call === 3) map(true);
        return { kind: 'resolved', how: 'zeroFill' };
      },
      deliver: () => 'retry',
    });
    expect(k.access(t, PAGE, ACCESS_WRITE)).toBeGreaterThan(0);
    expect(p.state).toBe('running');
  });
});

describe('Kernel.access: signals from a fault', () => {
  it("a handler that says 'handled' re-executes the access", () => {
    const { k, t, p } = start({
      fault: (_f, map, call) => {
        if (call === 0) return SEGV;
        map(true);
        return { kind: 'resolved', how: 'zeroFill' };
      },
      deliver: () => 'handled',
    });
    expect(k.access(t, PAGE, ACCESS_READ)).toBeGreaterThan(0);
    expect(p.state).toBe('running');
    expect(k.metrics.faults.segv).toBe(1);
  });

  it("a fault's signal cannot be ignored: the process takes the default action", () => {
    const { k, t, p } = start({ fault: () => SEGV, deliver: () => 'ignore' });
    expect(k.access(t, PAGE, ACCESS_READ)).toBe(-1);
    expect([p.state, p.killedBy]).toEqual(['zombie', 'SIGSEGV']);
  });

  it('a protection fault on a hardware-walked TLB goes to the personality, not to a TLB refill', () => {
    const { k, t, p, reasons } = start({ fault: (_f, map, call) => {
      if (call === 0) {
        map(false);
        return { kind: 'resolved', how: 'zeroFill' };
      }
      return SEGV;
    } });
    expect(k.access(t, PAGE, ACCESS_WRITE)).toBe(-1);
    expect(reasons).toEqual(['not-present', 'write-protect']);
    expect(p.killedBy).toBe('SIGSEGV');
  });
});

describe('Kernel fault trap: charge and probe', () => {
  it('charges trap entry plus exit and reports the reason, the resolution and the cycles to the fault probe', () => {
    const { k, t } = start({ fault: (f, map) => {
      if (f.access === ACCESS_WRITE) return { kind: 'fixup' };
      if (f.reason === 'not-present') {
        map(false);
        return { kind: 'resolved', how: 'zeroFill' };
      }
      return SEGV;
    } });
    const costs = getProfile('x86-64').costs;
    const events: string[] = [];
    k.bus.subscribe('fault', (e) => events.push(`${e.reason}:${e.resolution}:${e.cycles}:${e.user}`));
    const before = k.metrics.cycles;
    expect(k.accessIn(t, t.process as Process<Space>, PAGE, ACCESS_WRITE)).toBe(-1);
    const trap = costs.trapEntry + costs.trapExit;
    expect(k.metrics.cycles - before).toBe(trap + costs.walkRef); // the walk stopped at the empty top level
    expect(k.access(t, PAGE, ACCESS_READ)).toBeGreaterThan(0);
    expect(k.access(t, PAGE, ACCESS_EXEC)).toBe(-1);
    // The zero fill's handler also zeroed the three page-table pages its map() allocated.
    expect(events).toEqual([`not-present:fixup:${trap}:false`, `not-present:zeroFill:${trap + 3 * costs.zeroPage}:true`, `exec-protect:SIGSEGV:${trap}:true`]);
  });
});
