import type { Metrics } from '@polykernel/core';
import { AvlTreeIndex } from './avl.js';
import { BTreeIndex } from './btree.js';
import { ListIndex } from './list.js';
import { RbTreeIndex } from './rbtree.js';
import { SplayTreeIndex } from './splay.js';
import type { AddressSpaceIndex, RangeEntry } from './types.js';

export const INDEX_KINDS = ['list', 'rbtree', 'splay', 'avl', 'btree'] as const;
export type IndexKind = (typeof INDEX_KINDS)[number];

export interface IndexOptions {
  /** Lookup caches (list: mmap_cache, rbtree: vmacache); on unless false. Other kinds have none. */
  cache?: boolean;
  /**
   * The kernel's metrics: the index adds every node it visits to `indexNodesVisited` and keeps
   * `metadataBytes` up to date as entries come and go. Several indexes may share one.
   */
  metrics?: Metrics;
}

/** A new, empty index of the given kind (lookup caches on for list and rbtree unless disabled). */
export function createIndex<E extends RangeEntry>(kind: IndexKind, opts: IndexOptions = {}): AddressSpaceIndex<E> {
  switch (kind) {
    case 'list': return new ListIndex<E>(opts.cache ?? true, opts.metrics);
    case 'rbtree': return new RbTreeIndex<E>(opts.cache ?? true, opts.metrics);
    case 'splay': return new SplayTreeIndex<E>(opts.metrics);
    case 'avl': return new AvlTreeIndex<E>(opts.metrics);
    case 'btree': return new BTreeIndex<E>(opts.metrics);
  }
}
