/**
 * AVL tree, as Windows keeps a process's Virtual Address Descriptors (the VAD tree, an AVL tree
 * since Windows 8: MiInsertVad / MiRemoveVad over RTL_AVL_TREE). The VAD tree carries no free-gap
 * augmentation: finding free space (MiFindEmptyAddressRange) walks the descriptors in order, and
 * this index does the same, so its findGap cost is linear.
 */
import { BinaryTreeIndex, type TreeNode } from './bst.js';
import type { RangeEntry } from './types.js';

const h = <E>(n: TreeNode<E> | null): number => (n === null ? 0 : n.aux);

export class AvlTreeIndex<E extends RangeEntry> extends BinaryTreeIndex<E> {
  readonly kind = 'avl';
  /** MMVAD_SHORT's tree links (3 words incl. balance) without a gap field. */
  readonly bytesPerEntry = 24;
  protected override readonly augmented = false;

  private fix(n: TreeNode<E>): void {
    n.aux = 1 + Math.max(h(n.left), h(n.right));
  }

  protected override rotateLeft(x: TreeNode<E>): void {
    super.rotateLeft(x);
    this.fix(x);
    this.fix(x.parent!);
  }

  protected override rotateRight(x: TreeNode<E>): void {
    super.rotateRight(x);
    this.fix(x);
    this.fix(x.parent!);
  }

  /** Walk up from `n`, restoring heights and balance. */
  private rebalance(n: TreeNode<E> | null): void {
    while (n !== null) {
      this.fix(n);
      const bal = h(n.left) - h(n.right);
      if (bal > 1) {
        if (h(n.left!.left) < h(n.left!.right)) this.rotateLeft(n.left!);
        this.rotateRight(n);
        n = n.parent!;
      } else if (bal < -1) {
        if (h(n.right!.right) < h(n.right!.left)) this.rotateRight(n.right!);
        this.rotateLeft(n);
        n = n.parent!;
      }
      n = n.parent;
    }
  }

  insert(entry: E): boolean {
    const node = this.attachLeaf(entry);
    if (node === null) return false;
    node.aux = 1;
    this.rebalance(node.parent);
    return true;
  }

  protected removeNode(z: TreeNode<E>): void {
    this.rebalance(this.spliceOut(z).parent);
  }

  protected checkBalance(): void {
    const height = (n: TreeNode<E> | null): number => {
      if (n === null) return 0;
      const l = height(n.left);
      const r = height(n.right);
      if (Math.abs(l - r) > 1) throw new Error(`avl: unbalanced at ${n.entry.start} (${l} vs ${r})`);
      if (n.aux !== 1 + Math.max(l, r)) throw new Error(`avl: stored height ${n.aux} wrong at ${n.entry.start}`);
      return 1 + Math.max(l, r);
    };
    height(this.root);
  }
}
