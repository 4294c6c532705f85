/**
 * What every address-space index keeps besides its structure: the nodes it has visited, and an
 * optional metrics sink (the kernel's Metrics) that receives the same visits in
 * `indexNodesVisited` (and their cost in `cycles`, at the sink's `indexNodeCycles` per node) and
 * the index's metadata footprint in `metadataBytes`.
 *
 * Hot-path discipline: an operation counts visits in a local variable and reports them once, at
 * its end, through `visited` — one add to `nodesVisited` and, with a sink, one add to the sink.
 * No closure, no allocation; without a sink the extra cost is a null test.
 */
import type { Metrics } from '@polykernel/core';

export abstract class IndexBase {
  /** Nodes touched by all operations so far (the cost a kernel pays in cache misses). Writable: benchmarks reset it. */
  nodesVisited = 0;
  /** Where visits and metadata bytes are also reported, or null. Several indexes may share one. */
  readonly metrics: Metrics | null;

  constructor(metrics?: Metrics) {
    this.metrics = metrics ?? null;
  }

  /** Report `n` node visits of the operation now ending. */
  protected visited(n: number): void {
    this.nodesVisited += n;
    const m = this.metrics;
    if (m !== null) {
      m.indexNodesVisited += n;
      m.cycles += n * m.indexNodeCycles;
    }
  }

  /**
   * Report the visits an operation counted directly into `nodesVisited` since it read `before`
   * (the recursive gap searches do this, having no local counter to return through).
   */
  protected visitedSince(before: number): void {
    const m = this.metrics;
    if (m !== null) {
      const n = this.nodesVisited - before;
      m.indexNodesVisited += n;
      m.cycles += n * m.indexNodeCycles;
    }
  }

  /** Report metadata allocated (positive) or freed (negative), in bytes. */
  protected allocated(bytes: number): void {
    const m = this.metrics;
    if (m !== null) m.metadataBytes += bytes;
  }
}
