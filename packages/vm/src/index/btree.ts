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
  /** Leaf: entries in order and the gap before each. */
  entries: E[];
  gaps: number[];
  /** Internal: children in order. */
  children: BNode<E>[];
  /** Summary of the subtree: largest gap, first start, last end. */
  maxGap: number;
  minStart: number;
  maxEnd: number;
  /** Leaves are linked in address order. */
  next: BNode<E> | null;
  prev: BNode<E> | null;
}

function newNode<E>(leaf: boolean): BNode<E> {
  return { leaf, parent: null, entries: [], gaps: [], children: [], maxGap: 0, minStart: 0, maxEnd: 0, next: null, prev: null };
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

  private summarize(n: BNode<E>): void {
    if (n.leaf) {
      let g = 0;
      for (const x of n.gaps) if (x > g) g = x;
      n.maxGap = g;
      n.minStart = n.entries.length > 0 ? n.entries[0]!.start : 0;
      n.maxEnd = n.entries.length > 0 ? n.entries[n.entries.length - 1]!.end : 0;
    } else {
      let g = 0;
      for (const c of n.children) if (c.maxGap > g) g = c.maxGap;
      n.maxGap = g;
      n.minStart = n.children[0]!.minStart;
      n.maxEnd = n.children[n.children.length - 1]!.maxEnd;
    }
  }

  private summarizeUp(n: BNode<E> | null): void {
    for (; n !== null; n = n.parent) this.summarize(n);
  }

  // ---- search -------------------------------------------------------------------------------

  /** The leaf and slot of the first entry with end > addr, or null. */
  private seek(addr: number): [BNode<E>, number] | null {
    let n = this.root;
    this.nodesVisited++;
    while (!n.leaf) {
      const cs = n.children;
      let i = 0;
      while (i < cs.length - 1 && cs[i]!.maxEnd <= addr) i++;
      n = cs[i]!;
      this.nodesVisited++;
    }
    const es = n.entries;
    let i = 0;
    while (i < es.length && es[i]!.end <= addr) i++;
    if (i < es.length) return [n, i];
    return n.next === null ? null : [n.next, 0];
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
      const cs = n.children;
      let i = 0;
      while (i < cs.length - 1 && cs[i]!.maxEnd <= entry.start) i++;
      n = cs[i]!;
      this.nodesVisited++;
    }
    let i = 0;
    while (i < n.entries.length && n.entries[i]!.end <= entry.start) i++;
    const next = i < n.entries.length ? n.entries[i]! : n.next?.entries[0];
    if (next !== undefined && next.start < entry.end) return false;
    const prev = i > 0 ? n.entries[i - 1]! : n.prev?.entries[n.prev.entries.length - 1];
    n.entries.splice(i, 0, entry);
    n.gaps.splice(i, 0, entry.start - (prev === undefined ? 0 : prev.end));
    this.count++;
    this.setNextGap(n, i, entry.end);
    this.summarizeUp(n);
    if (n.entries.length > MAX) this.split(n);
    return true;
  }

  /** Set the gap of the entry after slot i of leaf n (which may be in the next leaf). */
  private setNextGap(n: BNode<E>, i: number, prevEnd: number): void {
    if (i + 1 < n.entries.length) {
      n.gaps[i + 1] = n.entries[i + 1]!.start - prevEnd;
    } else if (n.next !== null && n.next.entries.length > 0) {
      n.next.gaps[0] = n.next.entries[0]!.start - prevEnd;
      this.summarizeUp(n.next);
    }
  }

  private split(n: BNode<E>): void {
    const right = newNode<E>(n.leaf);
    const half = Math.ceil((n.leaf ? n.entries.length : n.children.length) / 2);
    if (n.leaf) {
      right.entries = n.entries.splice(half);
      right.gaps = n.gaps.splice(half);
      right.next = n.next;
      if (right.next !== null) right.next.prev = right;
      right.prev = n;
      n.next = right;
    } else {
      right.children = n.children.splice(half);
      for (const c of right.children) c.parent = right;
    }
    this.summarize(n);
    this.summarize(right);
    let p = n.parent;
    if (p === null) {
      p = newNode<E>(false);
      p.children = [n];
      n.parent = p;
      this.root = p;
    }
    right.parent = p;
    p.children.splice(p.children.indexOf(n) + 1, 0, right);
    this.summarizeUp(p);
    if (p.children.length > MAX) this.split(p);
  }

  // ---- remove -------------------------------------------------------------------------------

  remove(entry: E): boolean {
    const s = this.seek(entry.start);
    if (s === null || s[0].entries[s[1]] !== entry) return false;
    const [n, i] = s;
    const prevEnd = entry.start - n.gaps[i]!;
    n.entries.splice(i, 1);
    n.gaps.splice(i, 1);
    this.count--;
    // The successor's gap now reaches back to the predecessor's end.
    if (i < n.entries.length) n.gaps[i] = n.entries[i]!.start - prevEnd;
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
    if (to.leaf) {
      if (fromLeft) {
        to.entries.unshift(from.entries.pop()!);
        to.gaps.unshift(from.gaps.pop()!);
      } else {
        to.entries.push(from.entries.shift()!);
        to.gaps.push(from.gaps.shift()!);
      }
    } else {
      const c = fromLeft ? from.children.pop()! : from.children.shift()!;
      c.parent = to;
      if (fromLeft) to.children.unshift(c);
      else to.children.push(c);
    }
    this.summarize(from);
    this.summarizeUp(to);
  }

  /** Merge `right` into `left` and drop `right` from their parent. */
  private merge(left: BNode<E>, right: BNode<E>): void {
    if (left.leaf) {
      left.entries.push(...right.entries);
      left.gaps.push(...right.gaps);
      left.next = right.next;
      if (left.next !== null) left.next.prev = left;
    } else {
      for (const c of right.children) c.parent = left;
      left.children.push(...right.children);
    }
    const p = left.parent!;
    p.children.splice(p.children.indexOf(right), 1);
    this.summarize(left);
    this.summarizeUp(p);
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
        const e = n.entries[i]!;
        const a = fitInGap(e.start - n.gaps[i]!, e.start, q);
        if (a >= 0) return a;
      }
      return -1;
    }
    const len = n.children.length;
    for (let k = 0; k < len; k++) {
      const i = q.topDown ? len - 1 - k : k;
      const c = n.children[i]!;
      // Child i's gaps lie inside [previous sibling's maxEnd, c.maxEnd): skip it when that misses [low, high).
      if (c.maxEnd <= q.low) continue;
      if (i > 0 && n.children[i - 1]!.maxEnd >= q.high) continue;
      const a = this.search(c, q);
      if (a >= 0) return a;
    }
    return -1;
  }

  // ---- invariants ---------------------------------------------------------------------------

  checkInvariants(): void {
    let leafDepth = -1;
    let prevEnd = 0;
    let counted = 0;
    let prevLeaf: BNode<E> | null = null;
    const walk = (n: BNode<E>, depth: number, parent: BNode<E> | null): void => {
      if (n.parent !== parent) throw new Error('btree: bad parent link');
      const size = n.leaf ? n.entries.length : n.children.length;
      if (size > MAX) throw new Error(`btree: node with ${size} slots`);
      if (n !== this.root && size < MIN) throw new Error(`btree: underfull node (${size} < ${MIN})`);
      if (!n.leaf && n.children.length === 0) throw new Error('btree: empty internal node');
      if (n.leaf) {
        if (leafDepth < 0) leafDepth = depth;
        if (depth !== leafDepth) throw new Error('btree: leaves at different depths');
        if (n.prev !== prevLeaf) throw new Error('btree: leaf links broken');
        prevLeaf = n;
        n.entries.forEach((e, i) => {
          if (e.start < prevEnd) throw new Error(`btree: order broken at ${e.start}`);
          if (n.gaps[i] !== e.start - prevEnd) throw new Error(`btree: gap ${n.gaps[i]} != ${e.start - prevEnd} at ${e.start}`);
          prevEnd = e.end;
          counted++;
        });
      } else {
        for (const c of n.children) walk(c, depth + 1, n);
      }
      const before = { g: n.maxGap, s: n.minStart, e: n.maxEnd };
      this.summarize(n);
      if (before.g !== n.maxGap || before.s !== n.minStart || before.e !== n.maxEnd) throw new Error('btree: stale node summary');
    };
    walk(this.root, 0, null);
    if (counted !== this.count) throw new Error(`btree: count ${this.count} but ${counted} entries`);
    if (prevLeaf !== null && (prevLeaf as BNode<E>).next !== null) throw new Error('btree: last leaf has a next link');
  }
}
