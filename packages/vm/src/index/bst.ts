/**
 * Shared machinery of the binary search trees (red-black, AVL, splay): nodes with parent links,
 * entries threaded in address order (Linux's vm_next/vm_prev, FreeBSD's entry list), rotations,
 * and the free-gap augmentation: each node records the gap before its entry (start minus the
 * previous entry's end) and the largest such gap in its subtree (Linux rb_subtree_gap, FreeBSD
 * max_free), which lets findGap skip whole subtrees.
 */
import { ThreadedIndex } from './threaded.js';
import { fitInGap, type AddressSpaceIndex, type GapQuery, type RangeEntry } from './types.js';

export interface TreeNode<E> {
  entry: E;
  /** Copies of entry.start/end, so a descent touches only nodes (entries must not change while inserted). */
  start: number;
  end: number;
  left: TreeNode<E> | null;
  right: TreeNode<E> | null;
  parent: TreeNode<E> | null;
  prev: TreeNode<E> | null;
  next: TreeNode<E> | null;
  /** entry.start - prev.end (or entry.start for the first entry). */
  gap: number;
  /** Largest gap in this subtree. */
  maxGap: number;
  /** Red-black colour (true = red) or AVL height. */
  aux: number;
}

export abstract class BinaryTreeIndex<E extends RangeEntry> extends ThreadedIndex<E> implements AddressSpaceIndex<E> {
  abstract readonly kind: string;
  abstract readonly bytesPerEntry: number;
  protected root: TreeNode<E> | null = null;
  protected count = 0;
  protected readonly nodes = new Map<E, TreeNode<E>>();
  protected first: TreeNode<E> | null = null;
  protected last: TreeNode<E> | null = null;

  /** Whether findGap may use the maxGap augmentation (Windows' VAD tree has none). */
  protected readonly augmented: boolean = true;

  get size(): number {
    return this.count;
  }

  get metadataBytes(): number {
    return this.count * this.bytesPerEntry;
  }

  // ---- augmentation -----------------------------------------------------------------------

  protected recompute(n: TreeNode<E>): void {
    let m = n.gap;
    if (n.left !== null && n.left.maxGap > m) m = n.left.maxGap;
    if (n.right !== null && n.right.maxGap > m) m = n.right.maxGap;
    n.maxGap = m;
  }

  /** Recompute maxGap from `n` up to the root. */
  protected updateUp(n: TreeNode<E> | null): void {
    if (!this.augmented) return;
    for (; n !== null; n = n.parent) this.recompute(n);
  }

  protected rotateLeft(x: TreeNode<E>): void {
    const y = x.right!;
    x.right = y.left;
    if (y.left !== null) y.left.parent = x;
    this.replaceChild(x, y);
    y.left = x;
    x.parent = y;
    if (this.augmented) {
      this.recompute(x);
      this.recompute(y);
    }
  }

  protected rotateRight(x: TreeNode<E>): void {
    const y = x.left!;
    x.left = y.right;
    if (y.right !== null) y.right.parent = x;
    this.replaceChild(x, y);
    y.right = x;
    x.parent = y;
    if (this.augmented) {
      this.recompute(x);
      this.recompute(y);
    }
  }

  /** Put `y` where `x` hangs (under x's parent, or as root). */
  protected replaceChild(x: TreeNode<E>, y: TreeNode<E> | null): void {
    const p = x.parent;
    if (y !== null) y.parent = p;
    if (p === null) this.root = y;
    else if (p.left === x) p.left = y;
    else p.right = y;
  }

  // ---- search -------------------------------------------------------------------------------

  /** The first node whose end is above addr. */
  protected findNode(addr: number): TreeNode<E> | null {
    let n = this.root;
    let best: TreeNode<E> | null = null;
    let visited = 0;
    while (n !== null) {
      visited++;
      if (n.end > addr) {
        best = n;
        if (n.start <= addr) break;
        n = n.left;
      } else {
        n = n.right;
      }
    }
    this.visited(visited);
    return best;
  }

  // ---- insertion and removal (BST part; balancing in subclasses) ------------------------------

  /** Link a new node as a leaf in BST order and into the address-ordered thread. Null if it overlaps. */
  protected attachLeaf(entry: E): TreeNode<E> | null {
    let p: TreeNode<E> | null = null;
    let n = this.root;
    let goLeft = false;
    let v = 0;
    while (n !== null) {
      v++;
      p = n;
      if (entry.end <= n.start) {
        goLeft = true;
        n = n.left;
      } else if (entry.start >= n.end) {
        goLeft = false;
        n = n.right;
      } else {
        this.visited(v);
        return null; // overlap
      }
    }
    this.visited(v);
    const node: TreeNode<E> = { entry, start: entry.start, end: entry.end, left: null, right: null, parent: p, prev: null, next: null, gap: 0, maxGap: 0, aux: 0 };
    if (p === null) this.root = node;
    else if (goLeft) p.left = node;
    else p.right = node;
    // Thread: a left child's successor is its parent; a right child's predecessor is its parent.
    if (p === null) {
      this.first = this.last = node;
    } else if (goLeft) {
      node.next = p;
      node.prev = p.prev;
      p.prev = node;
      if (node.prev !== null) node.prev.next = node;
      else this.first = node;
    } else {
      node.prev = p;
      node.next = p.next;
      p.next = node;
      if (node.next !== null) node.next.prev = node;
      else this.last = node;
    }
    node.gap = entry.start - (node.prev === null ? 0 : node.prev.entry.end);
    node.maxGap = node.gap;
    this.nodes.set(entry, node);
    this.count++;
    this.allocated(this.bytesPerEntry);
    this.updateUp(node);
    if (node.next !== null) this.setGap(node.next, node.next.entry.start - entry.end);
    return node;
  }

  protected setGap(n: TreeNode<E>, gap: number): void {
    n.gap = gap;
    this.updateUp(n);
  }

  /**
   * Remove an entry: take it off the address thread, let the subclass unlink and rebalance its
   * node, then fix the gap of the entry that now follows the hole.
   */
  remove(entry: E): boolean {
    const z = this.nodes.get(entry);
    if (z === undefined) return false;
    this.visited(1);
    this.allocated(-this.bytesPerEntry);
    const prevEnd = z.prev === null ? 0 : z.prev.entry.end;
    const succ = this.unthread(z);
    this.removeNode(z);
    if (succ !== null) this.setGap(succ, succ.entry.start - prevEnd);
    return true;
  }

  /** Unlink `z` from the tree and restore the balance invariant (already off the thread). */
  protected abstract removeNode(z: TreeNode<E>): void;

  /**
   * CLRS delete with transplant: a node with at most one child is replaced by that child;
   * otherwise its in-order successor `y` takes its place. Returns the child that moved into the
   * vacated spot (`x`), the node the repair must start from going up (`x`'s new parent), and `y`
   * (null when `z` had at most one child).
   */
  protected spliceOut(z: TreeNode<E>): { x: TreeNode<E> | null; parent: TreeNode<E> | null; y: TreeNode<E> | null } {
    if (z.left === null || z.right === null) {
      const x = z.left ?? z.right;
      const parent = z.parent;
      this.replaceChild(z, x);
      return { x, parent, y: null };
    }
    let y = z.right;
    while (y.left !== null) y = y.left;
    const x = y.right;
    let parent: TreeNode<E>;
    if (y.parent === z) {
      parent = y;
    } else {
      parent = y.parent!;
      this.replaceChild(y, y.right);
      y.right = z.right;
      y.right.parent = y;
    }
    this.replaceChild(z, y);
    y.left = z.left;
    y.left.parent = y;
    return { x, parent, y };
  }

  /** Remove a node from the address thread and fix its successor's gap (the tree part is the subclass's). */
  protected unthread(node: TreeNode<E>): TreeNode<E> | null {
    const { prev, next } = node;
    if (prev !== null) prev.next = next;
    else this.first = next;
    if (next !== null) next.prev = prev;
    else this.last = prev;
    this.nodes.delete(node.entry);
    this.count--;
    return next;
  }

  abstract insert(entry: E): boolean;

  // ---- gaps ---------------------------------------------------------------------------------

  findGap(q: GapQuery): number {
    const before = this.nodesVisited;
    const a = this.gapFind(q);
    this.visitedSince(before);
    return a;
  }

  /** findGap proper; it and gapSearch count straight into nodesVisited (findGap reports the sum). */
  private gapFind(q: GapQuery): number {
    if (q.topDown) {
      const tail = fitInGap(this.last === null ? 0 : this.last.entry.end, Number.MAX_SAFE_INTEGER, q);
      this.nodesVisited++;
      if (tail >= 0) return tail;
      return this.gapSearch(this.root, q);
    }
    const a = this.gapSearch(this.root, q);
    if (a >= 0) return a;
    this.nodesVisited++;
    return fitInGap(this.last === null ? 0 : this.last.entry.end, Number.MAX_SAFE_INTEGER, q);
  }

  /**
   * In-order (or reverse) search of the gaps before each entry, skipping subtrees whose largest
   * gap is too small or which lie entirely outside [low, high). Exact: alignment and bounds are
   * checked on each candidate gap, so the answer equals a linear scan's.
   */
  private gapSearch(n: TreeNode<E> | null, q: GapQuery): number {
    if (n === null) return -1;
    this.nodesVisited++;
    if (this.augmented && n.maxGap < q.length) return -1;
    const visitLeft = n.entry.start > q.low; // gaps on the left end at or before n.start
    const visitRight = n.entry.end < q.high; // gaps on the right start at or after n.end
    // The gap before n's own entry is [start - gap, start).
    if (q.topDown) {
      let a = visitRight ? this.gapSearch(n.right, q) : -1;
      if (a >= 0) return a;
      a = fitInGap(n.entry.start - n.gap, n.entry.start, q);
      if (a >= 0) return a;
      return visitLeft ? this.gapSearch(n.left, q) : -1;
    }
    let a = visitLeft ? this.gapSearch(n.left, q) : -1;
    if (a >= 0) return a;
    a = fitInGap(n.entry.start - n.gap, n.entry.start, q);
    if (a >= 0) return a;
    return visitRight ? this.gapSearch(n.right, q) : -1;
  }

  // ---- invariants ---------------------------------------------------------------------------

  checkInvariants(): void {
    let counted = 0;
    let prevInOrder: TreeNode<E> | null = null;
    const walk = (n: TreeNode<E> | null, parent: TreeNode<E> | null): number => {
      if (n === null) return -Infinity;
      if (n.parent !== parent) throw new Error(`${this.kind}: bad parent link at [${n.entry.start}, ${n.entry.end})`);
      const lm = walk(n.left, n);
      if (prevInOrder !== null && prevInOrder.entry.end > n.entry.start) throw new Error(`${this.kind}: order broken at ${n.entry.start}`);
      if (n.prev !== prevInOrder) throw new Error(`${this.kind}: thread prev broken at ${n.entry.start}`);
      const gap = n.entry.start - (prevInOrder === null ? 0 : prevInOrder.entry.end);
      if (n.gap !== gap) throw new Error(`${this.kind}: gap ${n.gap} != ${gap} at ${n.entry.start}`);
      prevInOrder = n;
      counted++;
      const rm = walk(n.right, n);
      const m = Math.max(n.gap, lm, rm);
      if (this.augmented && n.maxGap !== m) throw new Error(`${this.kind}: maxGap ${n.maxGap} != ${m} at ${n.entry.start}`);
      return m;
    };
    walk(this.root, null);
    if (counted !== this.count) throw new Error(`${this.kind}: count ${this.count} but ${counted} nodes`);
    if (this.last !== prevInOrder) throw new Error(`${this.kind}: last pointer wrong`);
    this.checkBalance();
  }

  /** Subclasses check their balance invariant (colours, heights). */
  protected abstract checkBalance(): void;
}
