/**
 * What every index whose entries are threaded in address order shares (Linux's vm_next/vm_prev,
 * FreeBSD's entry list): once find_vma's descent has found the first node ending above an address,
 * lookups, overlap queries and iteration just follow the thread. Subclasses supply the descent.
 */
import { IndexBase } from './base.js';
import type { RangeEntry } from './types.js';

export interface ThreadedNode<E> {
  entry: E;
  next: ThreadedNode<E> | null;
}

export abstract class ThreadedIndex<E extends RangeEntry> extends IndexBase {
  /** The first node whose entry ends above `addr` (find_vma's descent), reporting the nodes it visited. */
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
    let v = 0;
    for (let n = this.findNode(start); n !== null && n.entry.start < end; n = n.next) {
      v++;
      out.push(n.entry);
    }
    this.visited(v);
    return out;
  }

  *iterateFrom(addr: number): IterableIterator<E> {
    for (let n = this.findNode(addr); n !== null; n = n.next) yield n.entry;
  }
}
