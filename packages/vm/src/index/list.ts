/**
 * A sorted doubly linked list of entries, as Linux kept VMAs before the red-black tree (and beside
 * it until 6.1: vm_next/vm_prev), with an optional one-entry last-hit cache: 2.4/2.6's
 * mm->mmap_cache, whose comment in mm/mmap.c find_vma read "Cache hit rate is typically around 35%".
 */
import type { Metrics } from '@polykernel/core';
import { ThreadedIndex } from './threaded.js';
import { fitInGap, type AddressSpaceIndex, type GapQuery, type RangeEntry } from './types.js';

interface ListNode<E> {
  entry: E;
  prev: ListNode<E> | null;
  next: ListNode<E> | null;
}

export class ListIndex<E extends RangeEntry> extends ThreadedIndex<E> implements AddressSpaceIndex<E> {
  readonly kind = 'list';
  /** vm_next + vm_prev pointers. */
  readonly bytesPerEntry = 16;
  cacheLookups = 0;
  cacheHits = 0;
  private head: ListNode<E> | null = null;
  private tail: ListNode<E> | null = null;
  private count = 0;
  private cache: ListNode<E> | null = null;
  private readonly nodes = new Map<E, ListNode<E>>();

  constructor(readonly useCache = true, metrics?: Metrics) {
    super(metrics);
  }

  get size(): number {
    return this.count;
  }

  get metadataBytes(): number {
    return this.count * this.bytesPerEntry;
  }

  /** First node with end > addr, walking from the head (or answering from the cache). */
  protected findNode(addr: number): ListNode<E> | null {
    if (this.useCache) {
      this.cacheLookups++;
      const c = this.cache;
      if (c !== null && c.entry.start <= addr && c.entry.end > addr) {
        this.cacheHits++;
        this.visited(1);
        return c;
      }
    }
    let n = this.head;
    let v = 0;
    while (n !== null) {
      v++;
      if (n.entry.end > addr) break;
      n = n.next;
    }
    this.visited(v);
    if (n !== null && this.useCache) this.cache = n;
    return n;
  }

  insert(entry: E): boolean {
    // Find the first node that ends after entry.start without disturbing the cache statistics.
    let n = this.head;
    let v = 0;
    while (n !== null && n.entry.end <= entry.start) {
      v++;
      n = n.next;
    }
    this.visited(v);
    if (n !== null && n.entry.start < entry.end) return false;
    const node: ListNode<E> = { entry, prev: n === null ? this.tail : n.prev, next: n };
    if (node.prev !== null) node.prev.next = node;
    else this.head = node;
    if (n !== null) n.prev = node;
    else this.tail = node;
    this.nodes.set(entry, node);
    this.count++;
    this.allocated(this.bytesPerEntry);
    return true;
  }

  remove(entry: E): boolean {
    const node = this.nodes.get(entry);
    if (node === undefined) return false;
    this.visited(1);
    this.allocated(-this.bytesPerEntry);
    if (node.prev !== null) node.prev.next = node.next;
    else this.head = node.next;
    if (node.next !== null) node.next.prev = node.prev;
    else this.tail = node.prev;
    this.nodes.delete(entry);
    this.count--;
    if (this.cache === node) this.cache = null; // vmacache/mmap_cache invalidation on unmap
    return true;
  }

  /** Linear walk over the gaps (early Linux arch_get_unmapped_area did exactly this). */
  findGap(q: GapQuery): number {
    let v = 0;
    if (q.topDown) {
      let prevEnd: number;
      for (let n = this.tail, above = Number.MAX_SAFE_INTEGER; ; ) {
        v++;
        prevEnd = n === null ? 0 : n.entry.end;
        const a = fitInGap(prevEnd, above, q);
        if (a >= 0 || n === null || prevEnd <= q.low) {
          this.visited(v);
          return a >= 0 ? a : -1;
        }
        above = n.entry.start;
        n = n.prev;
      }
    }
    let prevEnd = 0;
    for (let n = this.head; ; n = n.next) {
      v++;
      const a = fitInGap(prevEnd, n === null ? Number.MAX_SAFE_INTEGER : n.entry.start, q);
      if (a >= 0 || n === null || n.entry.start >= q.high) {
        this.visited(v);
        return a >= 0 ? a : -1;
      }
      prevEnd = n.entry.end;
    }
  }

  checkInvariants(): void {
    let n = this.head;
    let prev: ListNode<E> | null = null;
    let count = 0;
    while (n !== null) {
      if (n.prev !== prev) throw new Error('list: broken prev link');
      if (prev !== null && prev.entry.end > n.entry.start) throw new Error('list: entries out of order or overlapping');
      prev = n;
      n = n.next;
      count++;
    }
    if (this.tail !== prev) throw new Error('list: tail is not the last node');
    if (count !== this.count) throw new Error(`list: count ${this.count} but ${count} nodes`);
  }
}
