/**
 * What every index whose entries are threaded in address order shares (Linux's vm_next/vm_prev,
 * FreeBSD's entry list): once find_vma's descent has found the first node ending above an address,
 * lookups, overlap queries and iteration just follow the thread. Subclasses supply the descent.
 */
import type { RangeEntry } from './types.js';

export interface ThreadedNode<E> {
  entry: E;
  next: ThreadedNode<E> | null;
}

export abstract class ThreadedIndex<E extends RangeEntry> {
  /** Nodes touched by all operations so far (the cost a kernel pays in cache misses). */
  nodesVisited = 0;

  /** The first node whose entry ends above `addr` (find_vma's descent), counting nodes visited. */
  protected abstract findNode(addr: number): ThreadedNode<E> | null;

  find(addr: number): E | undefined {
    return this.findNode(addr)?.entry;
  }

  lookup(addr: number): E | undefined {
    const e = this.find(addr);
    return e !== undefined && e.start <= addr ? e : undefined;
  }

  overlapping(start: number, end: number): E[] {
    const out: E[] = [];
    for (let n = this.findNode(start); n !== null && n.entry.start < end; n = n.next) {
      this.nodesVisited++;
      out.push(n.entry);
    }
    return out;
  }

  *iterateFrom(addr: number): IterableIterator<E> {
    for (let n = this.findNode(addr); n !== null; n = n.next) yield n.entry;
  }
}
