/**
 * A lackey trace as a workload: one process whose address space maps every page the trace
 * references (runs of adjacent pages as one anonymous read-write-execute mapping each, placed
 * wherever the simulated kernel chooses: a reference becomes a place in its mapping), then the
 * references in order as touch steps: consecutive references to the same page with the same access
 * are one touch with a count, so the number of accesses replayed is exactly the trace's.
 *
 * Simplified (and said in the summary): a modify (M) is replayed as a write (its load hits the
 * translation the store needs); a reference that straddles a page boundary touches its first page
 * only; the host's layout (where valgrind put the program) is not kept, only page adjacency.
 */
import type { ImportedStep, ImportedWorkload } from './strace.js';
import { REF_INSTR, REF_LOAD, type RefBatch } from './lackey.js';

const PAGE = 4096;
/** Instruction fetch, load, store (a modify is a store here). */
const ACCESS = ['exec', 'read', 'write'] as const;

export interface LackeyWorkloadOptions {
  name?: string;
  /** Join runs of touched pages separated by at most this many untouched pages into one mapping (default 0). */
  joinGap?: number;
}

export interface LackeyWorkload {
  workload: ImportedWorkload;
  pages: number;
  mappings: number;
  touches: number;
  accesses: number;
  /** References whose bytes run into the next page (replayed on their first page only). */
  straddling: number;
}

/** Collects references (feed it the parser's batches), then builds the workload. */
export class LackeyWorkloadBuilder {
  /** Run-length encoded references: page number, access kind, count. */
  private pagesOf: number[] = [];
  private kinds: number[] = [];
  private counts: number[] = [];
  private readonly seen = new Set<number>();
  private straddling = 0;
  private accesses = 0;

  constructor(private readonly opts: LackeyWorkloadOptions = {}) {}

  /** The parser's callback: add a batch of references. */
  readonly add = (b: RefBatch): void => {
    const { pagesOf, kinds, counts } = this;
    let last = pagesOf.length - 1;
    for (let i = 0; i < b.count; i++) {
      const a = b.addr[i]!;
      const page = Math.floor(a / PAGE);
      const kind = b.kind[i];
      const k = kind === REF_INSTR ? 0 : kind === REF_LOAD ? 1 : 2;
      if (Math.floor((a + Math.max(b.size[i]!, 1) - 1) / PAGE) !== page) this.straddling++;
      if (last >= 0 && pagesOf[last] === page && kinds[last] === k) counts[last]!++;
      else {
        pagesOf.push(page);
        kinds.push(k);
        counts.push(1);
        last++;
        this.seen.add(page);
      }
    }
    this.accesses += b.count;
  };

  finish(): LackeyWorkload {
    const pages = [...this.seen].sort((x, y) => x - y);
    const gap = this.opts.joinGap ?? 0;
    // Mappings: runs of pages (with gaps of at most `gap` pages), each named by its first page.
    const where = new Map<number, { region: string; offset: number }>();
    const steps: ImportedStep[] = [];
    let i = 0;
    while (i < pages.length) {
      let j = i;
      while (j + 1 < pages.length && pages[j + 1]! - pages[j]! <= gap + 1) j++;
      const first = pages[i]!;
      const name = `m${(first * PAGE).toString(16)}`;
      const length = (pages[j]! - first + 1) * PAGE;
      steps.push({ mmap: { name, length, prot: 'rwx', flags: ['private', 'anonymous'] } });
      for (let p = i; p <= j; p++) where.set(pages[p]!, { region: name, offset: (pages[p]! - first) * PAGE });
      i = j + 1;
    }
    const mappings = steps.length;
    for (let r = 0; r < this.pagesOf.length; r++) {
      const at = where.get(this.pagesOf[r]!)!;
      const n = this.counts[r]!;
      steps.push({ touch: { region: at.region, offset: at.offset, length: PAGE, access: ACCESS[this.kinds[r]!]!, ...(n > 1 ? { count: n } : {}) } });
    }
    const name = this.opts.name ?? 'lackey';
    return {
      workload: { name, description: `imported from a lackey trace: ${this.accesses} references to ${pages.length} pages`, processes: [{ name, steps }] },
      pages: pages.length, mappings, touches: this.pagesOf.length, accesses: this.accesses, straddling: this.straddling,
    };
  }
}
