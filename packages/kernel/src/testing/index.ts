/**
 * The contract test kit (`@polykernel/kernel/testing`): the checks every personality runs in its
 * own suite, so a new kernel is held to the same rules as the others from its first commit.
 *
 *   import { contractSuite } from '@polykernel/kernel/testing';
 *   contractSuite('myos', { personality: () => myPersonality(), mapMemory, unmappedAddress, accessViolation: 'SIGSEGV' });
 *
 * It needs vitest (a peer dependency of this entry point only).
 */
import { describe, expect, it } from 'vitest';
import { ACCESS_READ, ACCESS_WRITE } from '@polykernel/mmu';
import type { MetricsData } from '@polykernel/core';
import type { MetricPath, Personality } from '../contract.js';
import { Kernel, type KernelOptions } from '../kernel.js';
import type { Process, Thread } from '../process.js';
import { portableChecks } from './portable-kit.js';

export interface ContractKitOptions<S, M> {
  /** A fresh personality object (the kit builds several kernels). */
  personality(): Personality<S, M>;
  /** Kernel options; the kit turns page contents on and picks a seed unless given. */
  kernel?: KernelOptions;
  /**
   * Map `bytes` of fresh private read-write memory in the thread's process through the
   * personality's own calls (mmap; VirtualAlloc with MEM_RESERVE | MEM_COMMIT) and return its
   * address, or a negative number if the call failed.
   */
  mapMemory(kernel: Kernel<S, M>, thread: Thread, bytes: number): number;
  /** An address that no mapping covers in a fresh process. */
  unmappedAddress: number;
  /** What a bad access becomes: 'SIGSEGV'; 'EXCEPTION_ACCESS_VIOLATION'. */
  accessViolation: string;
  /** Whatever else the personality wants the determinism and metrics checks to run (fork, exec ...). */
  exercise?(kernel: Kernel<S, M>, process: Process<S>): void;
}

const PAGE = 4096;

/** A process's whole life: created, maps and touches memory, exits, and its object is freed. */
function lifecycle<S, M>(o: ContractKitOptions<S, M>, k: Kernel<S, M>, pages: number): void {
  const p = k.createProcess(k.init, 'kit');
  const t = p.threads[0]!;
  const base = o.mapMemory(k, t, pages * PAGE);
  if (base < 0) throw new Error(`mapMemory failed (${String(t.lastError)}): the kit needs it to map ${pages} pages`);
  for (let i = 0; i < pages; i++) k.access(t, base + i * PAGE, i % 2 === 0 ? ACCESS_WRITE : ACCESS_READ);
  finish(k, p);
}

/** Exit and free the process object the way its kernel does (wait, or the last handle's close). */
function finish<S, M>(k: Kernel<S, M>, p: Process<S>): void {
  if (p.state === 'running') k.exitProcess(p, 0);
  if (p.state !== 'zombie') return;
  if (k.personality.processModel.lifetime === 'wait') k.reap(p);
  else while (p.handles > 0) k.closeHandle(p);
}

function build<S, M>(o: ContractKitOptions<S, M>): Kernel<S, M> {
  return new Kernel(o.personality(), { frames: 4096, seed: 7, ...o.kernel, contents: true });
}

/**
 * The kit's standard scenario, for the determinism and metrics checks: the metrics while its
 * processes are alive (gauges such as metadataBytes are back to zero once they are gone) and at
 * the end.
 */
function scenario<S, M>(o: ContractKitOptions<S, M>, k: Kernel<S, M>): { live: MetricsData; end: MetricsData } {
  lifecycle(o, k, 32);
  const p = k.createProcess(k.init, 'scenario');
  const t = p.threads[0]!;
  const base = o.mapMemory(k, t, 16 * PAGE);
  for (let i = 0; i < 16; i++) k.access(t, base + i * PAGE, ACCESS_WRITE);
  for (let i = 0; i < 16; i++) k.access(t, base + i * PAGE, ACCESS_READ);
  k.syscall(t, 0x7fff_0000);
  o.exercise?.(k, p);
  const bad = k.createProcess(k.init, 'bad');
  k.access(bad.threads[0]!, o.unmappedAddress, ACCESS_READ);
  const live = k.metrics.snapshot();
  finish(k, bad);
  finish(k, p);
  return { live, end: k.metrics.snapshot() };
}

function metricAt(m: MetricsData, path: MetricPath): number {
  const dot = path.indexOf('.');
  if (dot < 0) return m[path as keyof MetricsData] as number;
  const group = path.slice(0, dot) as 'faults' | 'traps';
  return (m[group] as Record<string, number>)[path.slice(dot + 1)] ?? Number.NaN;
}

/** Register the contract checks for one personality (call at the top level of a test file). */
export function contractSuite<S, M>(name: string, o: ContractKitOptions<S, M>): void {
  describe(`${name}: the personality contract (draft 3)`, () => {
    it('creating and destroying address spaces leaks no frame, page-table page or ASID', () => {
      const k = build(o);
      lifecycle(o, k, 8); // per-machine pages made on first use (a zero page, a vDSO) are not leaks
      const frames = k.mmu.frames.freeFrames;
      const asids = k.asids.inUse;
      for (let i = 0; i < 20; i++) lifecycle(o, k, 1 + (i % 5) * 7);
      expect(k.mmu.frames.freeFrames, 'free frames after 20 process lifetimes').toBe(frames);
      expect(k.asids.inUse, 'ASIDs in use after 20 process lifetimes').toBe(asids);
    });

    it('exit and reap (or the last handle) free the process, its IDs and its table entry', () => {
      const k = build(o);
      const ids = k.ids.inUse;
      const count = k.processes.size;
      for (let i = 0; i < 10; i++) lifecycle(o, k, 2);
      expect(k.ids.inUse, 'IDs in use').toBe(ids);
      expect(k.processes.size, 'processes in the table').toBe(count);
    });

    it('the memory of one process is invisible to another', () => {
      const k = build(o);
      const a = k.createProcess(k.init, 'a');
      const b = k.createProcess(k.init, 'b');
      const [ta, tb] = [a.threads[0]!, b.threads[0]!];
      const va = o.mapMemory(k, ta, 4 * PAGE);
      const vb = o.mapMemory(k, tb, 4 * PAGE);
      expect(va, 'mapMemory in a').toBeGreaterThanOrEqual(0);
      expect(vb, 'mapMemory in b').toBeGreaterThanOrEqual(0);
      const secret = new Uint8Array([0x5e, 0xc2, 0xe7, 0x01, 0x02, 0x03]);
      expect(k.copyToUser(ta, va + PAGE + 100, secret)).toBe(secret.length);
      expect([...k.copyFromUser(ta, va + PAGE + 100, secret.length)]).toEqual([...secret]);
      expect([...k.copyFromUser(tb, vb + PAGE + 100, secret.length)], "b's page at the same offset").toEqual([0, 0, 0, 0, 0, 0]);
      if (va === vb) expect(k.accessIn(tb, b, va + PAGE + 100, ACCESS_READ)).not.toBe(k.accessIn(ta, a, va + PAGE + 100, ACCESS_READ));
      finish(k, a);
      finish(k, b);
    });

    it(`an access outside any mapping ends in ${o.accessViolation}`, () => {
      const k = build(o);
      const p = k.createProcess(k.init, 'bad');
      const signals: string[] = [];
      k.bus.subscribe('signal', (e) => {
        if (e.pid === p.pid) signals.push(e.signal);
      });
      expect(k.access(p.threads[0]!, o.unmappedAddress, ACCESS_READ)).toBe(-1);
      expect(signals).toEqual([o.accessViolation]);
      expect(p.killedBy ?? signals[0]).toBe(o.accessViolation);
      expect(k.metrics.faults.segv).toBe(1);
    });

    it('a kernel-mode access to a bad address fails without a signal (fixup)', () => {
      const k = build(o);
      const p = k.createProcess(k.init, 'copy');
      const t = p.threads[0]!;
      expect(k.copyFromUser(t, o.unmappedAddress, 16).length).toBe(0);
      expect(p.state).toBe('running');
    });

    it('an unknown call fails in the personality\'s error space', () => {
      const k = build(o);
      const t = k.createProcess(k.init, 'p').threads[0]!;
      const r = k.syscall(t, 0x7fff_0000);
      expect(r.error).not.toBeNull();
      expect(r.value).toBe(k.personality.failureValue(r.errorNumber));
    });

    it('the same seed gives the same metrics twice', () => {
      expect(scenario(o, build(o))).toEqual(scenario(o, build(o)));
    });

    it('every metrics field the personality claims is filled', () => {
      const { live, end } = scenario(o, build(o));
      const empty = o.personality().metricsFilled.filter((path) => !(metricAt(live, path) > 0 || metricAt(end, path) > 0));
      expect(empty, 'claimed metrics that the scenario left at zero').toEqual([]);
    });

    it('every view renders for a live process', () => {
      const k = build(o);
      const p = k.createProcess(k.init, 'views');
      o.mapMemory(k, p.threads[0]!, 4 * PAGE);
      for (const v of k.personality.views) {
        const text = v.render(k, p);
        expect(typeof text, v.name).toBe('string');
        if (v.rows !== undefined) expect(Array.isArray(v.rows(k, p)), v.name).toBe(true);
      }
    });

    portableChecks(() => o.personality(), () => build(o), finish);
  });
}
