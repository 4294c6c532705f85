/**
 * Replay a lackey trace's references straight through the MMU and TLBs of a machine profile, on
 * the Linux personality: one process whose address space maps each referenced page on its first
 * touch (an anonymous read-write-execute page, MAP_FIXED at the trace's own address), then every
 * reference is an access: instruction fetches through the iTLB, loads through the dTLB, stores and
 * modifies as writes. Nothing is kept per reference: the trace is streamed once and each batch goes
 * to every profile's kernel.
 */
import { Kernel, type Thread } from '@polykernel/kernel';
import { linuxFlags as F, linuxPersonality, type LinuxSpace } from '@polykernel/linux';
import { ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE, type Access } from '@polykernel/mmu';
import { REF_INSTR, REF_LOAD, type RefBatch } from '@polykernel/workload';

const PAGE = 4096;

export interface RefsResult {
  profile: string;
  references: number;
  /** References whose page the simulated kernel refused to map (below mmap_min_addr, beyond TASK_SIZE) or that faulted fatally. */
  failed: number;
  /** References beyond the profile's virtual address bits, not replayed. */
  beyondAddressSpace: number;
  pagesMapped: number;
  tlb: { l1Hits: number; l2Hits: number; misses: number };
  walks: number;
  walkRefs: number;
  refills: number;
  faults: Record<string, number>;
  cycles: number;
  error: string | null;
}

/** One profile's machine: a kernel, a process, the pages mapped so far. */
export class RefsReplay {
  private readonly k: Kernel<LinuxSpace>;
  private readonly t: Thread;
  private readonly mapped = new Set<number>();
  private lastPage = -1;
  private references = 0;
  private failed = 0;
  /** References beyond what the profile's page tables can map (a 64-bit program's trace on the 31-bit MIPS32 profile). */
  private beyond = 0;
  private readonly vaLimit: number;
  /** A simulator error that stopped this profile's replay (the other profiles go on). */
  private error: string | null = null;

  constructor(readonly profile: string, frames = 262144) {
    this.k = new Kernel<LinuxSpace>(linuxPersonality({ variant: 'linux-6.x' }), { profile, frames });
    this.t = this.k.createProcess(this.k.init, 'lackey').threads[0]!;
    this.vaLimit = 2 ** this.k.mmu.profile.pageTable.vaBits;
  }

  /** The simulated machine (for tests comparing its final state). */
  get kernel(): Kernel<LinuxSpace> {
    return this.k;
  }

  /** The parser's callback: replay a batch. */
  readonly add = (b: RefBatch): void => {
    if (this.error !== null) return;
    try {
      this.replay(b);
    } catch (e) {
      this.error = `stopped after ${this.references.toLocaleString('en-US')} references: ${(e as Error).message}`;
    }
  };

  /** The batch's access kinds as MMU accesses (reused across batches). */
  private accesses = new Uint8Array(0);

  /**
   * Runs of references whose pages are already mapped go to Kernel.accessBatch in one call (the L1
   * TLB hits inline, the rest through Kernel.access); a first touch or an address beyond the
   * profile ends a run, so the mmap happens exactly where the one-by-one replay does it.
   */
  private replay(b: RefBatch): void {
    const mapped = this.mapped;
    const n = b.count;
    const addr = b.addr;
    const accesses = this.accessesOf(b);
    const limit = this.vaLimit;
    let start = 0;
    let lastPage = this.lastPage;
    let lo = lastPage < 0 ? -1 : lastPage * PAGE;
    let hi = lastPage < 0 ? -1 : lo + PAGE;
    for (let i = 0; i < n; i++) {
      const va = addr[i]!;
      // The Linux personality's TASK_SIZE is x86-64's whatever the profile: an address the profile's page table cannot hold is counted, not mapped.
      if (va >= limit) {
        this.run(start, i, addr, accesses);
        this.references++;
        this.beyond++;
        start = i + 1;
        continue;
      }
      // Most references stay on the page of the one before: two compares, no division.
      if (va >= lo && va < hi) continue;
      const page = Math.floor(va / PAGE);
      if (page !== lastPage && !mapped.has(page)) {
        this.run(start, i, addr, accesses);
        start = i;
        try {
          this.map(page);
        } catch (e) {
          this.references++;
          throw e;
        }
      }
      lastPage = page;
      this.lastPage = page;
      lo = page * PAGE;
      hi = lo + PAGE;
    }
    this.run(start, n, addr, accesses);
  }

  /** Replay references [from, to) of the batch, all on mapped pages. */
  private run(from: number, to: number, addr: Float64Array, accesses: Uint8Array): void {
    if (from >= to) return;
    try {
      this.failed += this.k.accessBatch(this.t, addr, accesses, from, to);
      this.references += to - from;
    } catch (e) {
      // As the one-by-one replay counted: every reference up to the one that threw.
      this.references += this.k.batchIndex - from + 1;
      throw e;
    }
  }

  private accessesOf(b: RefBatch): Uint8Array {
    if (this.accesses.length < b.count) this.accesses = new Uint8Array(b.kind.length);
    const out = this.accesses;
    const kind = b.kind;
    for (let i = 0; i < b.count; i++) {
      const x = kind[i];
      out[i] = x === REF_INSTR ? ACCESS_EXEC : x === REF_LOAD ? ACCESS_READ : ACCESS_WRITE;
    }
    return out;
  }

  /** The one-by-one replay (one Kernel.access per reference): the reference the batched path is tested against. */
  replayEach(b: RefBatch): void {
    const { k, t, mapped } = this;
    for (let i = 0; i < b.count; i++) {
      const va = b.addr[i]!;
      this.references++;
      if (va >= this.vaLimit) {
        this.beyond++;
        continue;
      }
      const page = Math.floor(va / PAGE);
      if (page !== this.lastPage && !mapped.has(page)) this.map(page);
      this.lastPage = page;
      const kind = b.kind[i];
      const access: Access = kind === REF_INSTR ? ACCESS_EXEC : kind === REF_LOAD ? ACCESS_READ : ACCESS_WRITE;
      if (k.access(t, va, access) < 0) this.failed++;
    }
  }

  /** First touch of a page: map it where the trace has it (mm/mmap.c: MAP_FIXED replaces nothing here, the page was never mapped). */
  private map(page: number): void {
    this.mapped.add(page);
    this.k.syscall(this.t, 'mmap', [page * PAGE, PAGE, 7, F.MAP_PRIVATE | F.MAP_ANONYMOUS | F.MAP_FIXED, -1, 0]);
  }

  result(): RefsResult {
    const m = this.k.metrics;
    const l2 = this.k.mmu.stats.l2Hits;
    return {
      profile: this.profile, references: this.references, failed: this.failed, beyondAddressSpace: this.beyond, pagesMapped: this.mapped.size,
      tlb: { l1Hits: m.tlbHits - l2, l2Hits: l2, misses: m.tlbMisses }, walks: this.k.mmu.stats.walks, walkRefs: m.walkRefs, refills: this.k.mmu.stats.refills,
      faults: Object.fromEntries(Object.entries(m.faults).filter(([, n]) => n > 0)), cycles: m.cycles, error: this.error,
    };
  }
}
