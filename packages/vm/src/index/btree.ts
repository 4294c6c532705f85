/**
 * A B-tree over ranges with gap tracking, modelled on the maple tree that replaced the red-black
 * tree and the vmacache in Linux 6.1 (lib/maple_tree.c): wide nodes (16 slots, as maple_range_64),
 * entries only in leaves, and every slot of an internal node carrying its child's highest end (the
 * pivot), lowest start and largest gap (maple's ma_gaps), so lookups and free-space searches decide
 * where to go from the parent's slots alone, touching ~log16(n) nodes.
 *
 * Nodes live in typed-array pools (struct of arrays, 16 slots per node): a descent reads one
 * contiguous run of pivots per level instead of chasing objects, which is what makes it fast.
 */
import type { Metrics } from '@polykernel/core';
import { IndexBase } from './base.js';
import { fitInGap, type AddressSpaceIndex, type GapQuery, type RangeEntry } from './types.js';

const F = 16;
const MIN = F / 2;
const NONE = -1;
/**
 * Bytes of one node: a maple node is 256 bytes on 64-bit (include/linux/maple_tree.h, whose
 * MAPLE_NODE_SLOTS 31 and MAPLE_RANGE64_SLOTS 16 are commented "256 bytes including ->parent" and
 * "256 bytes").
 */
const NODE_BYTES = 256;

export class BTreeIndex<E extends RangeEntry> extends IndexBase implements AddressSpaceIndex<E> {
  readonly kind = 'btree';
  /**
   * A 256-byte maple node holds up to 16 entries: ~16 bytes of node per entry plus pivots. An
   * estimate for comparisons; `metadataBytes` counts the nodes themselves.
   */
  readonly bytesPerEntry = 24;

  // Per node.
  private leaf: Uint8Array = new Uint8Array(0);
  private used: Uint8Array = new Uint8Array(0);
  private parent: Int32Array = new Int32Array(0);
  private nextLeaf: Int32Array = new Int32Array(0);
  private prevLeaf: Int32Array = new Int32Array(0);
  // Per slot (node * F + k). Leaf: the entry's end/start, the gap before it, its entry id.
  // Internal: the child's max end (pivot), min start, max gap, node id.
  private hi: Float64Array = new Float64Array(0);
  private lo: Float64Array = new Float64Array(0);
  private gap: Float64Array = new Float64Array(0);
  private ref: Int32Array = new Int32Array(0);

  private capacity = 0;
  private freeNodes: number[] = [];
  private nodeCount = 0;
  private root: number;
  /** Internal levels above the leaves (all leaves are at the same depth), so a descent never reads the leaf flag. */
  private height = 0;
  private count = 0;
  private readonly entries: (E | undefined)[] = [];
  private freeEntries: number[] = [];
  /** metadataBytes as last added to the metrics sink. */
  private reportedBytes = 0;

  constructor(metrics?: Metrics) {
    super(metrics);
    this.grow(64);
    this.root = this.newNode(true);
  }

  get size(): number {
    return this.count;
  }

  /**
   * The real footprint: NODE_BYTES for every live node, leaves and internal nodes alike, which is
   * better than size × bytesPerEntry because nodes run from half to fully used. An empty tree counts
   * 0: Linux's empty maple tree has no node (ma_root is NULL), and an address space torn down entry
   * by entry must give all its bytes back.
   */
  get metadataBytes(): number {
    return this.count === 0 ? 0 : (this.nodeCount - this.freeNodes.length) * NODE_BYTES;
  }

  /** Bring the sink's metadataBytes up to date after an insert or remove (nodes may have split or merged). */
  private reportBytes(): void {
    if (this.metrics === null) return;
    const b = this.metadataBytes;
    this.metrics.metadataBytes += b - this.reportedBytes;
    this.reportedBytes = b;
  }

  // ---- pools -------------------------------------------------------------------------------

  private grow(cap: number): void {
    const g8 = (a: Uint8Array): Uint8Array => { const b = new Uint8Array(cap); b.set(a); return b; };
    const g32 = (a: Int32Array, perSlot: boolean): Int32Array => { const b = new Int32Array(perSlot ? cap * F : cap); b.set(a); return b; };
    const g64 = (a: Float64Array): Float64Array => { const b = new Float64Array(cap * F); b.set(a); return b; };
    this.leaf = g8(this.leaf);
    this.used = g8(this.used);
    this.parent = g32(this.parent, false);
    this.nextLeaf = g32(this.nextLeaf, false);
    this.prevLeaf = g32(this.prevLeaf, false);
    this.hi = g64(this.hi);
    this.lo = g64(this.lo);
    this.gap = g64(this.gap);
    this.ref = g32(this.ref, true);
    this.capacity = cap;
  }

  private newNode(isLeaf: boolean): number {
    let n = this.freeNodes.pop();
    if (n === undefined) {
      if (this.nodeCount === this.capacity) this.grow(this.capacity * 2);
      n = this.nodeCount++;
    }
    this.leaf[n] = isLeaf ? 1 : 0;
    this.used[n] = 0;
    this.parent[n] = NONE;
    this.nextLeaf[n] = NONE;
    this.prevLeaf[n] = NONE;
    return n;
  }

  private freeNode(n: number): void {
    this.freeNodes.push(n);
  }

  // ---- summaries ----------------------------------------------------------------------------

  private maxGapOf(n: number): number {
    let g = 0;
    const b = n * F;
    for (let k = 0; k < this.used[n]!; k++) if (this.gap[b + k]! > g) g = this.gap[b + k]!;
    return g;
  }

  /**
   * Refresh the parent slots that summarise `n`, up to the root, stopping as soon as a parent's
   * slot already holds the new summary (nothing above it can change either).
   */
  private summarizeUp(n: number): void {
    for (let p = this.parent[n]!; p !== NONE; n = p, p = this.parent[n]!) {
      const k = this.slotOf(p, n);
      const b = n * F;
      const u = this.used[n]!;
      const s = p * F + k;
      const hi = this.hi[b + u - 1]!;
      const lo = this.lo[b]!;
      const gap = this.maxGapOf(n);
      if (this.hi[s] === hi && this.lo[s] === lo && this.gap[s] === gap) return;
      this.hi[s] = hi;
      this.lo[s] = lo;
      this.gap[s] = gap;
    }
  }

  private slotOf(p: number, child: number): number {
    const b = p * F;
    for (let k = 0; k < this.used[p]!; k++) if (this.ref[b + k] === child) return k;
    throw new Error('btree: child not found in its parent');
  }

  // ---- search -------------------------------------------------------------------------------

  /** The leaf node for `addr` (descending by pivots). */
  private descend(addr: number): number {
    let n = this.root;
    const hi = this.hi;
    const ref = this.ref;
    const used = this.used;
    for (let level = this.height; level > 0; level--) {
      const b = n * F;
      const last = b + used[n]! - 1;
      let s = b;
      while (s < last && hi[s]! <= addr) s++;
      n = ref[s]!;
    }
    this.visited(this.height + 1);
    return n;
  }

  /** Leaf and slot of the first entry with end > addr, packed as node * F + slot, or NONE. */
  private seek(addr: number): number {
    const n = this.descend(addr);
    const b = n * F;
    const e = b + this.used[n]!;
    let s = b;
    while (s < e && this.hi[s]! <= addr) s++;
    if (s < e) return s;
    const nx = this.nextLeaf[n]!;
    return nx === NONE || this.used[nx] === 0 ? NONE : nx * F;
  }

  find(addr: number): E | undefined {
    const s = this.seek(addr);
    return s === NONE ? undefined : this.entries[this.ref[s]!];
  }

  lookup(addr: number): E | undefined {
    const e = this.find(addr);
    return e !== undefined && e.start <= addr ? e : undefined;
  }

  *iterateFrom(addr: number): IterableIterator<E> {
    let s = this.seek(addr);
    while (s !== NONE) {
      yield this.entries[this.ref[s]!]!;
      s = this.nextSlot(s);
    }
  }

  private nextSlot(s: number): number {
    const n = Math.floor(s / F);
    if (s + 1 < n * F + this.used[n]!) return s + 1;
    const nx = this.nextLeaf[n]!;
    return nx === NONE || this.used[nx] === 0 ? NONE : nx * F;
  }

  overlapping(start: number, end: number): E[] {
    const out: E[] = [];
    for (let s = this.seek(start); s !== NONE && this.lo[s]! < end; s = this.nextSlot(s)) out.push(this.entries[this.ref[s]!]!);
    return out;
  }

  // ---- insert -------------------------------------------------------------------------------

  insert(entry: E): boolean {
    const n = this.descend(entry.start);
    const b = n * F;
    const u = this.used[n]!;
    let k = 0;
    while (k < u && this.hi[b + k]! <= entry.start) k++;
    const nx = this.nextLeaf[n]!;
    const nextStart = k < u ? this.lo[b + k] : nx !== NONE && this.used[nx]! > 0 ? this.lo[nx * F] : undefined;
    if (nextStart !== undefined && nextStart < entry.end) return false;
    const pv = this.prevLeaf[n]!;
    const prevEnd = k > 0 ? this.hi[b + k - 1]! : pv !== NONE && this.used[pv]! > 0 ? this.hi[pv * F + this.used[pv]! - 1]! : 0;
    let id = this.freeEntries.pop();
    id ??= this.entries.length;
    this.entries[id] = entry;
    this.openSlot(n, k);
    this.hi[b + k] = entry.end;
    this.lo[b + k] = entry.start;
    this.gap[b + k] = entry.start - prevEnd;
    this.ref[b + k] = id;
    this.count++;
    this.fixNextGap(n, k);
    this.summarizeUp(n);
    if (this.used[n]! > F - 1) this.split(n);
    this.reportBytes();
    return true;
  }

  /** Shift slots k.. of node n right by one (plain loops: cheaper than four copyWithin calls for ≤ 16 slots). */
  private openSlot(n: number, k: number): void {
    const b = n * F;
    const u = this.used[n]!;
    const { hi, lo, gap, ref } = this;
    for (let i = b + u; i > b + k; i--) {
      hi[i] = hi[i - 1]!;
      lo[i] = lo[i - 1]!;
      gap[i] = gap[i - 1]!;
      ref[i] = ref[i - 1]!;
    }
    this.used[n] = u + 1;
  }

  private closeSlot(n: number, k: number): void {
    const b = n * F;
    const u = this.used[n]!;
    const { hi, lo, gap, ref } = this;
    for (let i = b + k; i < b + u - 1; i++) {
      hi[i] = hi[i + 1]!;
      lo[i] = lo[i + 1]!;
      gap[i] = gap[i + 1]!;
      ref[i] = ref[i + 1]!;
    }
    this.used[n] = u - 1;
  }

  /** Recompute the gap of the entry after slot k of leaf n (possibly the next leaf's first). */
  private fixNextGap(n: number, k: number): void {
    const prevEnd = k >= 0 ? this.hi[n * F + k]! : this.prevEnd(n);
    if (k + 1 < this.used[n]!) {
      this.gap[n * F + k + 1] = this.lo[n * F + k + 1]! - prevEnd;
      return;
    }
    const nx = this.nextLeaf[n]!;
    if (nx !== NONE && this.used[nx]! > 0) {
      this.gap[nx * F] = this.lo[nx * F]! - prevEnd;
      this.summarizeUp(nx);
    }
  }

  /** End of the last entry before leaf n (0 if none). */
  private prevEnd(n: number): number {
    for (let p = this.prevLeaf[n]!; p !== NONE; p = this.prevLeaf[p]!) {
      if (this.used[p]! > 0) return this.hi[p * F + this.used[p]! - 1]!;
    }
    return 0;
  }

  /** Split a node that has reached F slots: its upper half moves to a new right sibling. */
  private split(n: number): void {
    const isLeaf = this.leaf[n] === 1;
    const r = this.newNode(isLeaf);
    const u = this.used[n]!;
    const half = Math.ceil(u / 2);
    const bn = n * F;
    const br = r * F;
    for (const a of [this.hi, this.lo, this.gap]) a.copyWithin(br, bn + half, bn + u);
    this.ref.copyWithin(br, bn + half, bn + u);
    this.used[r] = u - half;
    this.used[n] = half;
    if (isLeaf) {
      this.nextLeaf[r] = this.nextLeaf[n]!;
      if (this.nextLeaf[r] !== NONE) this.prevLeaf[this.nextLeaf[r]] = r;
      this.prevLeaf[r] = n;
      this.nextLeaf[n] = r;
    } else {
      for (let k = 0; k < u - half; k++) this.parent[this.ref[br + k]!] = r;
    }
    let p = this.parent[n]!;
    if (p === NONE) {
      p = this.newNode(false);
      this.used[p] = 1;
      this.ref[p * F] = n;
      this.parent[n] = p;
      this.root = p;
      this.height++;
    }
    const k = this.slotOf(p, n);
    this.openSlot(p, k + 1);
    this.ref[p * F + k + 1] = r;
    this.parent[r] = p;
    this.summarizeUp(n);
    this.summarizeUp(r);
    if (this.used[p]! > F - 1) this.split(p);
  }

  // ---- remove -------------------------------------------------------------------------------

  remove(entry: E): boolean {
    const s = this.seek(entry.start);
    if (s === NONE || this.entries[this.ref[s]!] !== entry) return false;
    const n = Math.floor(s / F);
    const k = s - n * F;
    const prevEnd = entry.start - this.gap[s]!;
    const id = this.ref[s]!;
    this.entries[id] = undefined;
    this.freeEntries.push(id);
    this.closeSlot(n, k);
    this.count--;
    if (k < this.used[n]!) this.gap[n * F + k] = this.lo[n * F + k]! - prevEnd;
    else this.fixNextGapFrom(n, prevEnd);
    if (this.used[n]! > 0) this.summarizeUp(n);
    this.rebalance(n);
    this.reportBytes();
    return true;
  }

  private fixNextGapFrom(n: number, prevEnd: number): void {
    const nx = this.nextLeaf[n]!;
    if (nx !== NONE && this.used[nx]! > 0) {
      this.gap[nx * F] = this.lo[nx * F]! - prevEnd;
      this.summarizeUp(nx);
    }
  }

  private rebalance(n: number): void {
    if (n === this.root) {
      if (this.leaf[n] === 0 && this.used[n] === 1) {
        this.root = this.ref[n * F]!;
        this.parent[this.root] = NONE;
        this.freeNode(n);
        this.height--;
      }
      return;
    }
    if (this.used[n]! >= MIN) return;
    const p = this.parent[n]!;
    const k = this.slotOf(p, n);
    const left = k > 0 ? this.ref[p * F + k - 1]! : NONE;
    const right = k + 1 < this.used[p]! ? this.ref[p * F + k + 1]! : NONE;
    this.visited(2);
    if (left !== NONE && this.used[left]! > MIN) this.borrow(left, n, true);
    else if (right !== NONE && this.used[right]! > MIN) this.borrow(right, n, false);
    else if (left !== NONE) this.merge(left, n);
    else if (right !== NONE) this.merge(n, right);
  }

  /** Move one slot from sibling `from` into `to`. */
  private borrow(from: number, to: number, fromLeft: boolean): void {
    const src = fromLeft ? from * F + this.used[from]! - 1 : from * F;
    const dstK = fromLeft ? 0 : this.used[to]!;
    this.openSlot(to, dstK);
    const dst = to * F + dstK;
    this.hi[dst] = this.hi[src]!;
    this.lo[dst] = this.lo[src]!;
    this.gap[dst] = this.gap[src]!;
    this.ref[dst] = this.ref[src]!;
    if (this.leaf[to] === 0) this.parent[this.ref[dst]] = to;
    this.closeSlot(from, src - from * F);
    this.summarizeUp(from);
    this.summarizeUp(to);
  }

  /** Append `right`'s slots to `left`, unlink and free `right`. */
  private merge(left: number, right: number): void {
    const ul = this.used[left]!;
    const ur = this.used[right]!;
    const bl = left * F;
    const br = right * F;
    for (const a of [this.hi, this.lo, this.gap]) a.copyWithin(bl + ul, br, br + ur);
    this.ref.copyWithin(bl + ul, br, br + ur);
    this.used[left] = ul + ur;
    if (this.leaf[left] === 1) {
      this.nextLeaf[left] = this.nextLeaf[right]!;
      if (this.nextLeaf[left] !== NONE) this.prevLeaf[this.nextLeaf[left]] = left;
    } else {
      for (let k = 0; k < ur; k++) this.parent[this.ref[br + k]!] = left;
    }
    const p = this.parent[right]!;
    this.closeSlot(p, this.slotOf(p, right));
    this.freeNode(right);
    if (this.used[left] > 0) this.summarizeUp(left);
    if (this.used[left] > F - 1) this.split(left);
    this.rebalance(p);
  }

  // ---- gaps ---------------------------------------------------------------------------------

  private lastEnd(): number {
    let n = this.root;
    while (this.leaf[n] === 0) n = this.ref[n * F + this.used[n]! - 1]!;
    return this.used[n]! > 0 ? this.hi[n * F + this.used[n]! - 1]! : 0;
  }

  findGap(q: GapQuery): number {
    const before = this.nodesVisited;
    const a = this.gapFind(q);
    this.visitedSince(before);
    return a;
  }

  /** findGap proper; it and search count straight into nodesVisited (findGap reports the sum). */
  private gapFind(q: GapQuery): number {
    if (q.topDown) {
      this.nodesVisited++;
      const t = fitInGap(this.lastEnd(), Number.MAX_SAFE_INTEGER, q);
      if (t >= 0) return t;
      return this.count === 0 ? -1 : this.search(this.root, q);
    }
    const a = this.count === 0 ? -1 : this.search(this.root, q);
    return a >= 0 ? a : fitInGap(this.lastEnd(), Number.MAX_SAFE_INTEGER, q);
  }

  private search(n: number, q: GapQuery): number {
    this.nodesVisited++;
    const b = n * F;
    const u = this.used[n]!;
    for (let j = 0; j < u; j++) {
      const k = q.topDown ? u - 1 - j : j;
      const s = b + k;
      if (this.leaf[n] === 1) {
        const a = fitInGap(this.lo[s]! - this.gap[s]!, this.lo[s]!, q);
        if (a >= 0) return a;
        continue;
      }
      // Child k's gaps lie inside [pivot k-1, pivot k): skip it when that misses [low, high) or
      // when its largest gap is too small — decided from this node's slots, without touching the child.
      if (this.gap[s]! < q.length || this.hi[s]! <= q.low) continue;
      if (k > 0 && this.hi[s - 1]! >= q.high) continue;
      const a = this.search(this.ref[s]!, q);
      if (a >= 0) return a;
    }
    return -1;
  }

  // ---- invariants ---------------------------------------------------------------------------

  checkInvariants(): void {
    let leafDepth = -1;
    let prevEnd = 0;
    let counted = 0;
    let prevLeafSeen = NONE;
    let nodesSeen = 0;
    const walk = (n: number, depth: number, parent: number): void => {
      nodesSeen++;
      if (this.parent[n] !== parent) throw new Error('btree: bad parent link');
      const u = this.used[n]!;
      if (u > F - 1) throw new Error(`btree: node with ${u} slots`);
      if (n !== this.root && u < MIN) throw new Error(`btree: underfull node (${u} < ${MIN})`);
      const b = n * F;
      if (this.leaf[n] === 1) {
        if (leafDepth < 0) leafDepth = depth;
        if (depth !== leafDepth) throw new Error('btree: leaves at different depths');
        if (this.prevLeaf[n] !== prevLeafSeen) throw new Error('btree: leaf links broken');
        if (prevLeafSeen !== NONE && this.nextLeaf[prevLeafSeen] !== n) throw new Error('btree: leaf next link broken');
        prevLeafSeen = n;
        for (let k = 0; k < u; k++) {
          const e = this.entries[this.ref[b + k]!]!;
          if (this.lo[b + k] !== e.start || this.hi[b + k] !== e.end) throw new Error('btree: cached start/end out of date');
          if (e.start < prevEnd) throw new Error(`btree: order broken at ${e.start}`);
          if (this.gap[b + k] !== e.start - prevEnd) throw new Error(`btree: gap ${this.gap[b + k]} != ${e.start - prevEnd} at ${e.start}`);
          prevEnd = e.end;
          counted++;
        }
      } else {
        if (u === 0) throw new Error('btree: empty internal node');
        for (let k = 0; k < u; k++) {
          const c = this.ref[b + k]!;
          walk(c, depth + 1, n);
          const cb = c * F;
          const cu = this.used[c]!;
          if (this.hi[b + k] !== this.hi[cb + cu - 1] || this.lo[b + k] !== this.lo[cb] || this.gap[b + k] !== this.maxGapOf(c)) {
            throw new Error('btree: stale pivot, start or gap in a parent slot');
          }
        }
      }
    };
    walk(this.root, 0, NONE);
    if (this.count > 0 && leafDepth !== this.height) throw new Error(`btree: height ${this.height} but leaves at depth ${leafDepth}`);
    if (counted !== this.count) throw new Error(`btree: count ${this.count} but ${counted} entries`);
    if (prevLeafSeen !== NONE && this.nextLeaf[prevLeafSeen] !== NONE) throw new Error('btree: last leaf has a next link');
    // metadataBytes counts live nodes as allocated minus freed: every one must be in the tree.
    if (nodesSeen !== this.nodeCount - this.freeNodes.length) throw new Error(`btree: ${nodesSeen} nodes reachable but ${this.nodeCount - this.freeNodes.length} live`);
  }
}
