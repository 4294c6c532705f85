/**
 * The address-space index interface every implementation provides. An index holds
 * non-overlapping half-open ranges [start, end) — VMAs, vm_map entries, VADs — ordered by address.
 */

export interface RangeEntry {
  start: number;
  end: number;
}

export interface GapQuery {
  length: number;
  /** The start must be a multiple of this (a power of two, at least 1). */
  alignment: number;
  /** The gap must lie inside [low, high). */
  low: number;
  high: number;
  /** Highest fitting address (Linux's top-down mmap layout) instead of the lowest. */
  topDown: boolean;
}

export interface AddressSpaceIndex<E extends RangeEntry> {
  /** Implementation name: 'list', 'rbtree', 'splay', 'avl', 'btree'. */
  readonly kind: string;
  readonly size: number;
  /**
   * Nodes touched by all operations so far (the cost a kernel pays in cache misses). An index given
   * a metrics sink adds the same visits to `metrics.indexNodesVisited`.
   */
  nodesVisited: number;
  /** Insert an entry that overlaps none present. Returns false (and changes nothing) if it overlaps. */
  insert(entry: E): boolean;
  /** Remove an entry (the same object that was inserted). Returns false if absent. */
  remove(entry: E): boolean;
  /** The first entry whose end is above `addr` (Linux find_vma), or undefined. */
  find(addr: number): E | undefined;
  /** The entry containing `addr`, or undefined. */
  lookup(addr: number): E | undefined;
  /** Entries overlapping [start, end), in address order. */
  overlapping(start: number, end: number): E[];
  /** Entries in address order, starting with the first whose end is above `addr`. */
  iterateFrom(addr: number): IterableIterator<E>;
  /** The start of a free, aligned range of `length` bytes inside [low, high), or -1. */
  findGap(q: GapQuery): number;
  /** Host-side metadata bytes per entry this structure would cost a kernel (for comparisons). */
  readonly bytesPerEntry: number;
  /**
   * Metadata bytes the index holds now: size × bytesPerEntry, or for the B-tree its nodes' real
   * footprint. An index given a metrics sink keeps `metrics.metadataBytes` moving by the same amounts.
   */
  readonly metadataBytes: number;
  /** Throws an Error describing the first broken invariant (tests call this after every step). */
  checkInvariants(): void;
}

/** First aligned address >= a. */
export function alignUp(a: number, alignment: number): number {
  const r = a % alignment;
  return r === 0 ? a : a + (alignment - r);
}

/** Last aligned address <= a. */
export function alignDown(a: number, alignment: number): number {
  return a - (a % alignment);
}

/**
 * Where a request fits in the free interval [gapStart, gapEnd), honouring the query's bounds and
 * alignment: the lowest (bottom-up) or highest (top-down) start, or -1.
 */
export function fitInGap(gapStart: number, gapEnd: number, q: GapQuery): number {
  const s = Math.max(gapStart, q.low);
  const e = Math.min(gapEnd, q.high);
  if (e - s < q.length) return -1;
  if (q.topDown) {
    const a = alignDown(e - q.length, q.alignment);
    return a >= s ? a : -1;
  }
  const a = alignUp(s, q.alignment);
  return a + q.length <= e ? a : -1;
}
