import { AvlTreeIndex } from './avl.js';
import { BTreeIndex } from './btree.js';
import { ListIndex } from './list.js';
import { RbTreeIndex } from './rbtree.js';
import { SplayTreeIndex } from './splay.js';
import type { AddressSpaceIndex, RangeEntry } from './types.js';

export const INDEX_KINDS = ['list', 'rbtree', 'splay', 'avl', 'btree'] as const;
export type IndexKind = (typeof INDEX_KINDS)[number];

/** A new, empty index of the given kind (lookup caches on for list and rbtree unless disabled). */
export function createIndex<E extends RangeEntry>(kind: IndexKind, opts: { cache?: boolean } = {}): AddressSpaceIndex<E> {
  switch (kind) {
    case 'list': return new ListIndex<E>(opts.cache ?? true);
    case 'rbtree': return new RbTreeIndex<E>(opts.cache ?? true);
    case 'splay': return new SplayTreeIndex<E>();
    case 'avl': return new AvlTreeIndex<E>();
    case 'btree': return new BTreeIndex<E>();
  }
}
