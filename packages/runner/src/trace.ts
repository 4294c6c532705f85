/**
 * `--trace`: probe aggregations over a run, like the lecture's DTrace one-liners
 * (`syscall:::entry { @[probefunc] = count(); }`, `fbt::trap:entry { @[...] = count(); }`):
 * system calls by name and page faults by kind, each with its count and simulated cycles. A fault
 * taken inside a system call (read() filling a fresh buffer) is counted as a fault and its cycles
 * are shown apart from the call's own, so traps and system calls can be compared.
 */
import type { Kernel } from '@polykernel/kernel';

interface Agg { count: number; cycles: number; faultCycles: number }

export class Trace {
  private readonly calls = new Map<string, Agg>();
  private readonly faults = new Map<string, Agg>();
  /** Fault cycles taken inside the system call now running (per nesting level). */
  private readonly open: number[] = [];

  /** Cycles of one kernel entry and exit (the profile's trap costs): what every system call pays at least. */
  private readonly gate: number;

  constructor(k: Kernel<unknown>) {
    this.gate = k.mmu.profile.costs.trapEntry + k.mmu.profile.costs.trapExit;
    k.bus.subscribe('syscall:entry', () => this.open.push(0));
    k.bus.subscribe('syscall:return', (e) => {
      const inFaults = this.open.pop() ?? 0;
      const a = this.calls.get(e.name) ?? { count: 0, cycles: 0, faultCycles: 0 };
      a.count++;
      a.cycles += e.cycles;
      a.faultCycles += inFaults;
      this.calls.set(e.name, a);
    });
    k.bus.subscribe('fault', (e) => {
      const kind = e.resolution;
      const a = this.faults.get(kind) ?? { count: 0, cycles: 0, faultCycles: 0 };
      a.count++;
      a.cycles += e.cycles;
      this.faults.set(kind, a);
      if (this.open.length > 0) this.open[this.open.length - 1]! += e.cycles;
    });
  }

  private totals(): { calls: number; callCycles: number; own: number; faults: number; faultCycles: number } {
    let calls = 0;
    let callCycles = 0;
    let inside = 0;
    for (const a of this.calls.values()) {
      calls += a.count;
      callCycles += a.cycles;
      inside += a.faultCycles;
    }
    let faults = 0;
    let faultCycles = 0;
    for (const a of this.faults.values()) {
      faults += a.count;
      faultCycles += a.cycles;
    }
    return { calls, callCycles, own: callCycles - inside, faults, faultCycles };
  }

  json(): { syscalls: Record<string, Agg>; faults: Record<string, Omit<Agg, 'faultCycles'>>; totals: ReturnType<Trace['totals']> } {
    return {
      syscalls: Object.fromEntries(this.calls),
      faults: Object.fromEntries([...this.faults].map(([key, a]) => [key, { count: a.count, cycles: a.cycles }])),
      totals: this.totals(),
    };
  }

  text(): string {
    const n = (x: number): string => x.toLocaleString('en-US');
    const lines = ['trace (probe aggregations: count and sum of simulated cycles)', `  ${'system call'.padEnd(16)} ${'count'.padStart(8)} ${'cycles'.padStart(14)} ${'in faults'.padStart(14)}`];
    for (const [name, a] of [...this.calls].sort((x, y) => y[1].cycles - x[1].cycles)) lines.push(`  ${name.padEnd(16)} ${n(a.count).padStart(8)} ${n(a.cycles).padStart(14)} ${n(a.faultCycles).padStart(14)}`);
    lines.push(`  ${'page fault'.padEnd(16)} ${'count'.padStart(8)} ${'cycles'.padStart(14)}`);
    for (const [kind, a] of [...this.faults].sort((x, y) => y[1].cycles - x[1].cycles)) lines.push(`  ${kind.padEnd(16)} ${n(a.count).padStart(8)} ${n(a.cycles).padStart(14)}`);
    const t = this.totals();
    const ratio = t.own > 0 ? ` (${(t.faultCycles / t.own).toFixed(1)}× the system calls)` : '';
    lines.push(`  ${n(t.calls)} system calls: ${n(t.own)} cycles of their own work (faults taken inside them excluded)`);
    lines.push(`  ${n(t.faults)} page faults: ${n(t.faultCycles)} cycles${ratio}`);
    if (t.calls > 0 && t.faults > 0) {
      lines.push(`  on average a system call cost ${n(Math.round(t.own / t.calls))} cycles, a page fault ${n(Math.round(t.faultCycles / t.faults))}`);
      const gates = t.calls * this.gate;
      lines.push(`  entering and leaving the kernel for the system calls: ${n(gates)} cycles; the page faults cost ${n(Math.round(t.faultCycles / gates))}× that`);
    }
    return lines.join('\n');
  }
}
