/**
 * Red-black tree of VMAs, as Linux kept them before 6.1 (mm->mm_rb, lib/rbtree.c with the
 * rb_subtree_gap augmentation of mm/mmap.c), plus the per-thread 4-entry vmacache
 * (mm/vmacache.c): looked up first by find_vma, invalidated by bumping mm->vmacache_seqnum on
 * every change, refilled at slot VMACACHE_HASH(addr) = (addr >> PAGE_SHIFT) & 3.
 */
import type { Metrics } from '@polykernel/core';
import { BinaryTreeIndex, type TreeNode } from './bst.js';
import type { RangeEntry } from './types.js';

const RED = 1;
const BLACK = 0;
const VMACACHE_SIZE = 4;

interface VmaCache<E> {
  seq: number;
  slots: (TreeNode<E> | null)[];
}

export class RbTreeIndex<E extends RangeEntry> extends BinaryTreeIndex<E> {
  readonly kind = 'rbtree';
  /** rb_node (3 words) + rb_subtree_gap + vm_next/vm_prev. */
  readonly bytesPerEntry = 48;
  cacheLookups = 0;
  cacheHits = 0;
  /** mm->vmacache_seqnum. */
  private seq = 0;
  private readonly caches = new Map<number, VmaCache<E>>();
  /** The thread whose vmacache find() uses (`current`). */
  currentThread = 0;

  constructor(readonly useCache = true, metrics?: Metrics) {
    super(metrics);
  }

  private cache(): VmaCache<E> {
    let c = this.caches.get(this.currentThread);
    if (c === undefined) {
      c = { seq: this.seq, slots: new Array<TreeNode<E> | null>(VMACACHE_SIZE).fill(null) };
      this.caches.set(this.currentThread, c);
    }
    if (c.seq !== this.seq) {
      // vmacache_valid: a stale sequence number flushes this thread's cache.
      c.seq = this.seq;
      c.slots.fill(null);
    }
    return c;
  }

  protected override findNode(addr: number): TreeNode<E> | null {
    if (!this.useCache) return super.findNode(addr);
    this.cacheLookups++;
    const c = this.cache();
    for (let i = 0; i < VMACACHE_SIZE; i++) {
      const n = c.slots[i];
      if (n != null && n.entry.start <= addr && n.entry.end > addr) {
        this.cacheHits++;
        this.visited(1);
        return n;
      }
    }
    const n = super.findNode(addr);
    if (n !== null) c.slots[Math.floor(addr / 4096) % VMACACHE_SIZE] = n;
    return n;
  }

  insert(entry: E): boolean {
    const node = this.attachLeaf(entry);
    if (node === null) return false;
    this.seq++;
    node.aux = RED;
    this.insertFixup(node);
    return true;
  }

  private insertFixup(z: TreeNode<E>): void {
    while (z.parent !== null && z.parent.aux === RED) {
      const p = z.parent;
      const g = p.parent!;
      if (p === g.left) {
        const u = g.right;
        if (u !== null && u.aux === RED) {
          p.aux = BLACK;
          u.aux = BLACK;
          g.aux = RED;
          z = g;
        } else {
          if (z === p.right) {
            z = p;
            this.rotateLeft(z);
          }
          z.parent!.aux = BLACK;
          g.aux = RED;
          this.rotateRight(g);
        }
      } else {
        const u = g.left;
        if (u !== null && u.aux === RED) {
          p.aux = BLACK;
          u.aux = BLACK;
          g.aux = RED;
          z = g;
        } else {
          if (z === p.left) {
            z = p;
            this.rotateRight(z);
          }
          z.parent!.aux = BLACK;
          g.aux = RED;
          this.rotateLeft(g);
        }
      }
    }
    this.root!.aux = BLACK;
  }

  protected removeNode(z: TreeNode<E>): void {
    this.seq++; // vmacache_invalidate
    // CLRS RB-DELETE: the colour that leaves the tree is z's, or its successor's when that moves up.
    const zColor = z.aux;
    const { x, parent, y } = this.spliceOut(z);
    let removedColor = zColor;
    if (y !== null) {
      removedColor = y.aux;
      y.aux = zColor;
    }
    this.updateUp(parent);
    if (removedColor === BLACK) this.deleteFixup(x, parent);
  }

  private deleteFixup(x: TreeNode<E> | null, parent: TreeNode<E> | null): void {
    while (x !== this.root && (x === null || x.aux === BLACK)) {
      if (parent === null) break;
      if (x === parent.left) {
        let w = parent.right!;
        if (w.aux === RED) {
          w.aux = BLACK;
          parent.aux = RED;
          this.rotateLeft(parent);
          w = parent.right!;
        }
        if ((w.left === null || w.left.aux === BLACK) && (w.right === null || w.right.aux === BLACK)) {
          w.aux = RED;
          x = parent;
          parent = x.parent;
        } else {
          if (w.right === null || w.right.aux === BLACK) {
            w.left!.aux = BLACK;
            w.aux = RED;
            this.rotateRight(w);
            w = parent.right!;
          }
          w.aux = parent.aux;
          parent.aux = BLACK;
          w.right!.aux = BLACK;
          this.rotateLeft(parent);
          x = this.root;
          parent = null;
        }
      } else {
        let w = parent.left!;
        if (w.aux === RED) {
          w.aux = BLACK;
          parent.aux = RED;
          this.rotateRight(parent);
          w = parent.left!;
        }
        if ((w.right === null || w.right.aux === BLACK) && (w.left === null || w.left.aux === BLACK)) {
          w.aux = RED;
          x = parent;
          parent = x.parent;
        } else {
          if (w.left === null || w.left.aux === BLACK) {
            w.right!.aux = BLACK;
            w.aux = RED;
            this.rotateLeft(w);
            w = parent.left!;
          }
          w.aux = parent.aux;
          parent.aux = BLACK;
          w.left!.aux = BLACK;
          this.rotateRight(parent);
          x = this.root;
          parent = null;
        }
      }
    }
    if (x !== null) x.aux = BLACK;
  }

  protected checkBalance(): void {
    if (this.root !== null && this.root.aux !== BLACK) throw new Error('rbtree: red root');
    const blackHeight = (n: TreeNode<E> | null): number => {
      if (n === null) return 1;
      if (n.aux === RED && ((n.left !== null && n.left.aux === RED) || (n.right !== null && n.right.aux === RED))) {
        throw new Error(`rbtree: red node ${n.entry.start} has a red child`);
      }
      const l = blackHeight(n.left);
      const r = blackHeight(n.right);
      if (l !== r) throw new Error(`rbtree: black heights ${l} != ${r} under ${n.entry.start}`);
      return l + (n.aux === BLACK ? 1 : 0);
    };
    blackHeight(this.root);
  }
}
