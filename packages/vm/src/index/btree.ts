/**
 * A B-tree over ranges with gap tracking, modelled on the maple tree that replaced the red-black
 * tree and the vmacache in Linux 6.1 (lib/maple_tree.c): wide nodes (16 slots, as maple_range_64),
 * entries only in leaves, every node summarising the largest gap below it (maple's gap tracking in
 * ma_gaps) and the highest end below it (the pivots), so lookups touch ~log16(n) nodes and free-space
 * searches skip subtrees. Nodes split when full and borrow or merge when under half full.
 */
import { fitInGap, type AddressSpaceIndex, type GapQuery, type RangeEntry } from './types.js';

const MAX = 16;
const MIN = MAX / 2;

interface BNode<E> {
  leaf: boolean;
  parent: BNode<E> | null;
  /** Leaf: entries in order, their starts and ends (so scans do not touch the entries), and the gap before each. */
  entries: E[];
  starts: number[];
  ends: number[];
  gaps: number[];
  /** Internal: children in order, each child's highest end (maple's pivots) and largest gap. */
  children: BNode<E>[];
  pivots: number[];
  childGaps: number[];
  /** Summary of the subtree: largest gap, first start, last end. */
  maxGap: number;
  minStart: number;
  maxEnd: number;
  /** Leaves are linked in address order. */
  next: BNode<E> | null;
  prev: BNode<E> | null;
}

function newNode<E>(leaf: boolean): BNode<E> {
  return { leaf, parent: null, entries: [], starts: [], ends: [], gaps: [], children: [], pivots: [], childGaps: [], maxGap: 0, minStart: 0, maxEnd: 0, next: null, prev: null };
}

export class BTreeIndex<E extends RangeEntry> implements AddressSpaceIndex<E> {
  readonly kind = 'btree';
  /** A 256-byte maple node holds up to 16 entries: ~16 bytes of node per entry plus pivots. */
  readonly bytesPerEntry = 24;
  nodesVisited = 0;
  private root: BNode<E> = newNode<E>(true);
  private count = 0;

  get size(): number {
    return this.count;
  }

  // ---- summaries ----------------------------------------------------------------------------

  /** Recompute a node's summary from its slots. */
  private summarize(n: BNode<E>): void {
    let g = 0;
    if (n.leaf) {
      for (const x of n.gaps) if (x > g) g = x;
      n.minStart = n.starts.length > 0 ? n.starts[0]! : 0;
      n.maxEnd = n.ends.length > 0 ? n.ends[n.ends.length - 1]! : 0;
    } else {
      for (const x of n.childGaps) if (x > g) g = x;
      n.minStart = n.children[0]!.minStart;
      n.maxEnd = n.pivots[n.pivots.length - 1]!;
    }
    n.maxGap = g;
  }

  /** Recompute summaries from `n` up, refreshing each parent's pivot and gap for its child. */
  private summarizeUp(n: BNode<E> | null): void {
    for (; n !== null; n = n.parent) {
      this.summarize(n);
      const p = n.parent;
      if (p !== null) {
        const i = p.children.indexOf(n);
        p.pivots[i] = n.maxEnd;
        p.childGaps[i] = n.maxGap;
      }
    }
  }

  /** Index of the child of internal node n to descend into for `addr`. */
  private childFor(n: BNode<E>, addr: number): number {
    const pv = n.pivots;
    const last = pv.length - 1;
    let i = 0;
    while (i < last && pv[i]! <= addr) i++;
    return i;
  }

  // ---- search -------------------------------------------------------------------------------

  /** The leaf and slot of the first entry with end > addr, or null. */
  private seek(addr: number): [BNode<E>, number] | null {
    let n = this.root;
    let visited = 1;
    while (!n.leaf) {
      n = n.children[this.childFor(n, addr)]!;
      visited++;
    }
    this.nodesVisited += visited;
    const ends = n.ends;
    let i = 0;
    while (i < ends.length && ends[i]! <= addr) i++;
    if (i < ends.length) return [n, i];
    return n.next === null || n.next.entries.length === 0 ? null : [n.next, 0];
  }

  find(addr: number): E | undefined {
    const s = this.seek(addr);
    return s === null ? undefined : s[0].entries[s[1]];
  }

  lookup(addr: number): E | undefined {
    const e = this.find(addr);
    return e !== undefined && e.start <= addr ? e : undefined;
  }

  *iterateFrom(addr: number): IterableIterator<E> {
    const s = this.seek(addr);
    if (s === null) return;
    let [n, i] = s;
    for (;;) {
      for (; i < n.entries.length; i++) yield n.entries[i]!;
      if (n.next === null) return;
      n = n.next;
      i = 0;
    }
  }

  overlapping(start: number, end: number): E[] {
    const out: E[] = [];
    const s = this.seek(start);
    if (s === null) return out;
    let [n, i] = s;
    for (;;) {
      for (; i < n.entries.length; i++) {
        const e = n.entries[i]!;
        if (e.start >= end) return out;
        out.push(e);
      }
      if (n.next === null) return out;
      n = n.next;
      this.nodesVisited++;
      i = 0;
    }
  }

  // ---- insert -------------------------------------------------------------------------------

  insert(entry: E): boolean {
    let n = this.root;
    this.nodesVisited++;
    while (!n.leaf) {
      n = n.children[this.childFor(n, entry.start)]!;
      this.nodesVisited++;
    }
    let i = 0;
    while (i < n.ends.length && n.ends[i]! <= entry.start) i++;
    const nextStart = i < n.starts.length ? n.starts[i] : n.next?.starts[0];
    if (nextStart !== undefined && nextStart < entry.end) return false;
    const prevEnd = i > 0 ? n.ends[i - 1] : n.prev?.ends[n.prev.ends.length - 1];
    n.entries.splice(i, 0, entry);
    n.starts.splice(i, 0, entry.start);
    n.ends.splice(i, 0, entry.end);
    n.gaps.splice(i, 0, entry.start - (prevEnd ?? 0));
    this.count++;
    this.setNextGap(n, i, entry.end);
    this.summarizeUp(n);
    if (n.entries.length > MAX) this.split(n);
    return true;
  }

  /** Set the gap of the entry after slot i of leaf n (which may be in the next leaf). */
  private setNextGap(n: BNode<E>, i: number, prevEnd: number): void {
    if (i + 1 < n.entries.length) {
      n.gaps[i + 1] = n.starts[i + 1]! - prevEnd;
    } else if (n.next !== null && n.next.entries.length > 0) {
      n.next.gaps[0] = n.next.starts[0]! - prevEnd;
      this.summarizeUp(n.next);
    }
  }

  private split(n: BNode<E>): void {
    const right = newNode<E>(n.leaf);
    const half = Math.ceil((n.leaf ? n.entries.length : n.children.length) / 2);
    if (n.leaf) {
      right.entries = n.entries.splice(half);
      right.starts = n.starts.splice(half);
      right.ends = n.ends.splice(half);
      right.gaps = n.gaps.splice(half);
      right.next = n.next;
      if (right.next !== null) right.next.prev = right;
      right.prev = n;
      n.next = right;
    } else {
      right.children = n.children.splice(half);
      right.pivots = n.pivots.splice(half);
      right.childGaps = n.childGaps.splice(half);
      for (const c of right.children) c.parent = right;
    }
    this.summarize(n);
    this.summarize(right);
    let p = n.parent;
    if (p === null) {
      p = newNode<E>(false);
      p.children = [n];
      p.pivots = [n.maxEnd];
      p.childGaps = [n.maxGap];
      n.parent = p;
      this.root = p;
    }
    right.parent = p;
    const at = p.children.indexOf(n);
    p.pivots[at] = n.maxEnd;
    p.childGaps[at] = n.maxGap;
    p.children.splice(at + 1, 0, right);
    p.pivots.splice(at + 1, 0, right.maxEnd);
    p.childGaps.splice(at + 1, 0, right.maxGap);
    this.summarizeUp(p);
    if (p.children.length > MAX) this.split(p);
  }

  // ---- remove -------------------------------------------------------------------------------

  remove(entry: E): boolean {
    const s = this.seek(entry.start);
    if (s?.[0].entries[s[1]] !== entry) return false;
    const [n, i] = s;
    const prevEnd = entry.start - n.gaps[i]!;
    n.entries.splice(i, 1);
    n.starts.splice(i, 1);
    n.ends.splice(i, 1);
    n.gaps.splice(i, 1);
    this.count--;
    // The successor's gap now reaches back to the predecessor's end.
    if (i < n.entries.length) n.gaps[i] = n.starts[i]! - prevEnd;
    else this.setNextGap(n, n.entries.length - 1, prevEnd);
    this.summarizeUp(n);
    this.rebalance(n);
    return true;
  }

  private rebalance(n: BNode<E>): void {
    const size = (x: BNode<E>): number => (x.leaf ? x.entries.length : x.children.length);
    if (n === this.root) {
      if (!n.leaf && n.children.length === 1) {
        this.root = n.children[0]!;
        this.root.parent = null;
      }
      return;
    }
    if (size(n) >= MIN) return;
    const p = n.parent!;
    const idx = p.children.indexOf(n);
    const left = idx > 0 ? p.children[idx - 1]! : null;
    const right = idx + 1 < p.children.length ? p.children[idx + 1]! : null;
    this.nodesVisited += 2;
    if (left !== null && size(left) > MIN) {
      this.moveOne(left, n, true);
    } else if (right !== null && size(right) > MIN) {
      this.moveOne(right, n, false);
    } else if (left !== null) {
      this.merge(left, n);
    } else if (right !== null) {
      this.merge(n, right);
    }
  }

  /** Move one slot from sibling `from` into `to` (from the end of a left sibling or the start of a right one). */
  private moveOne(from: BNode<E>, to: BNode<E>, fromLeft: boolean): void {
    const arrays = (x: BNode<E>): unknown[][] => (x.leaf ? [x.entries, x.starts, x.ends, x.gaps] : [x.children, x.pivots, x.childGaps]);
    const src = arrays(from);
    const dst = arrays(to);
    src.forEach((a, k) => {
      if (fromLeft) dst[k]!.unshift(a.pop());
      else dst[k]!.push(a.shift());
    });
    if (!to.leaf) (fromLeft ? to.children[0]! : to.children[to.children.length - 1]!).parent = to;
    this.summarizeUp(from);
    this.summarizeUp(to);
  }

  /** Merge `right` into `left` and drop `right` from their parent. */
  private merge(left: BNode<E>, right: BNode<E>): void {
    if (left.leaf) {
      left.entries.push(...right.entries);
      left.starts.push(...right.starts);
      left.ends.push(...right.ends);
      left.gaps.push(...right.gaps);
      left.next = right.next;
      if (left.next !== null) left.next.prev = left;
    } else {
      for (const c of right.children) c.parent = left;
      left.children.push(...right.children);
      left.pivots.push(...right.pivots);
      left.childGaps.push(...right.childGaps);
    }
    const p = left.parent!;
    const at = p.children.indexOf(right);
    p.children.splice(at, 1);
    p.pivots.splice(at, 1);
    p.childGaps.splice(at, 1);
    this.summarizeUp(left);
    if (left.leaf ? left.entries.length > MAX : left.children.length > MAX) this.split(left);
    this.rebalance(p);
  }

  // ---- gaps ---------------------------------------------------------------------------------

  findGap(q: GapQuery): number {
    const lastEnd = this.count === 0 ? 0 : this.root.maxEnd;
    if (q.topDown) {
      this.nodesVisited++;
      const t = fitInGap(lastEnd, Number.MAX_SAFE_INTEGER, q);
      if (t >= 0) return t;
      return this.count === 0 ? -1 : this.search(this.root, q);
    }
    const a = this.count === 0 ? -1 : this.search(this.root, q);
    return a >= 0 ? a : fitInGap(lastEnd, Number.MAX_SAFE_INTEGER, q);
  }

  private search(n: BNode<E>, q: GapQuery): number {
    this.nodesVisited++;
    if (n.maxGap < q.length) return -1;
    if (n.leaf) {
      const len = n.entries.length;
      for (let k = 0; k < len; k++) {
        const i = q.topDown ? len - 1 - k : k;
        const a = fitInGap(n.starts[i]! - n.gaps[i]!, n.starts[i]!, q);
        if (a >= 0) return a;
      }
      return -1;
    }
    const len = n.children.length;
    for (let k = 0; k < len; k++) {
      const i = q.topDown ? len - 1 - k : k;
      // Child i's gaps lie inside [pivot i-1, pivot i): skip it when that misses [low, high) or
      // when its largest gap is too small — decided from this node's slots, without touching the child.
      if (n.childGaps[i]! < q.length || n.pivots[i]! <= q.low) continue;
      if (i > 0 && n.pivots[i - 1]! >= q.high) continue;
      const a = this.search(n.children[i]!, q);
      if (a >= 0) return a;
    }
    return -1;
  }

  // ---- invariants ---------------------------------------------------------------------------

  checkInvariants(): void {
    let leafDepth = -1;
    let prevEnd = 0;
    let counted = 0;
    const leaves: BNode<E>[] = [];
    let prevLeaf: BNode<E> | null = null;
    const walk = (n: BNode<E>, depth: number, parent: BNode<E> | null): void => {
      if (n.parent !== parent) throw new Error('btree: bad parent link');
      const size = n.leaf ? n.entries.length : n.children.length;
      if (size > MAX) throw new Error(`btree: node with ${size} slots`);
      if (n !== this.root && size < MIN) throw new Error(`btree: underfull node (${size} < ${MIN})`);
      if (!n.leaf && n.children.length === 0) throw new Error('btree: empty internal node');
      if (n.leaf) {
        n.entries.forEach((e, i) => {
          if (n.starts[i] !== e.start || n.ends[i] !== e.end) throw new Error('btree: cached start/end out of date');
        });
        if (leafDepth < 0) leafDepth = depth;
        if (depth !== leafDepth) throw new Error('btree: leaves at different depths');
        if (n.prev !== prevLeaf) throw new Error('btree: leaf links broken');
        prevLeaf = n;
        leaves.push(n);
        n.entries.forEach((e, i) => {
          if (e.start < prevEnd) throw new Error(`btree: order broken at ${e.start}`);
          if (n.gaps[i] !== e.start - prevEnd) throw new Error(`btree: gap ${n.gaps[i]} != ${e.start - prevEnd} at ${e.start}`);
          prevEnd = e.end;
          counted++;
        });
      } else {
        n.children.forEach((c, i) => {
          walk(c, depth + 1, n);
          if (n.pivots[i] !== c.maxEnd || n.childGaps[i] !== c.maxGap) throw new Error('btree: stale pivot or child gap');
        });
      }
      const before = { g: n.maxGap, s: n.minStart, e: n.maxEnd };
      this.summarize(n);
      if (before.g !== n.maxGap || before.s !== n.minStart || before.e !== n.maxEnd) throw new Error('btree: stale node summary');
    };
    walk(this.root, 0, null);
    if (counted !== this.count) throw new Error(`btree: count ${this.count} but ${counted} entries`);
    if (leaves.length > 0 && leaves[leaves.length - 1]!.next !== null) throw new Error('btree: last leaf has a next link');
  }
}
