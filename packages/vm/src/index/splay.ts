/**
 * Splay tree of map entries with the max_free augmentation, as FreeBSD's vm_map has kept them
 * since 2002 (sys/vm/vm_map.c: vm_map_lookup_entry splays the found entry to the root; each entry's
 * max_free bounds the free space in its subtree for vm_map_findspace). Recently used entries stay
 * near the root, so repeated lookups of a working set are cheap and cold ones pay the splay.
 * Splaying here is bottom-up (zig, zig-zig, zig-zag) with parent links.
 */
import { BinaryTreeIndex, type TreeNode } from './bst.js';
import type { RangeEntry } from './types.js';

export class SplayTreeIndex<E extends RangeEntry> extends BinaryTreeIndex<E> {
  readonly kind = 'splay';
  /** left, right, max_free (vm_map_entry also has next/prev). */
  readonly bytesPerEntry = 40;

  private splay(x: TreeNode<E>): void {
    while (x.parent !== null) {
      const p = x.parent;
      const g = p.parent;
      if (g === null) {
        if (p.left === x) this.rotateRight(p);
        else this.rotateLeft(p);
      } else if (g.left === p && p.left === x) {
        this.rotateRight(g);
        this.rotateRight(p);
      } else if (g.right === p && p.right === x) {
        this.rotateLeft(g);
        this.rotateLeft(p);
      } else if (g.left === p) {
        this.rotateLeft(p);
        this.rotateRight(g);
      } else {
        this.rotateRight(p);
        this.rotateLeft(g);
      }
    }
  }

  protected override findNode(addr: number): TreeNode<E> | null {
    // Descend, remember the answer and the last node touched, then splay (vm_map_lookup_entry).
    let n = this.root;
    let best: TreeNode<E> | null = null;
    let lastTouched: TreeNode<E> | null = null;
    let v = 0;
    while (n !== null) {
      v++;
      lastTouched = n;
      if (n.end > addr) {
        best = n;
        if (n.start <= addr) break;
        n = n.left;
      } else {
        n = n.right;
      }
    }
    this.visited(v);
    const target = best ?? lastTouched;
    if (target !== null) this.splay(target);
    return best;
  }

  insert(entry: E): boolean {
    const node = this.attachLeaf(entry);
    if (node === null) return false;
    this.splay(node);
    return true;
  }

  protected removeNode(z: TreeNode<E>): void {
    this.splay(z);
    // z is the root: join its subtrees by splaying the left subtree's maximum to its top.
    const l = z.left;
    const r = z.right;
    if (l !== null) l.parent = null;
    if (r !== null) r.parent = null;
    if (l === null) {
      this.root = r;
    } else {
      this.root = l;
      let m = l;
      while (m.right !== null) m = m.right;
      this.splay(m);
      m.right = r;
      if (r !== null) r.parent = m;
      this.recompute(m);
    }
  }

  protected checkBalance(): void {
    // A splay tree has no balance invariant: amortised O(log n) comes from splaying.
  }
}
