/** A sorted array with binary search: the reference every index is tested against. */
import { IndexBase } from './base.js';
import { fitInGap, type AddressSpaceIndex, type GapQuery, type RangeEntry } from './types.js';

export class SortedArrayIndex<E extends RangeEntry> extends IndexBase implements AddressSpaceIndex<E> {
  readonly kind = 'array';
  /** One pointer per entry in the array. */
  readonly bytesPerEntry = 8;
  private items: E[] = [];

  get size(): number {
    return this.items.length;
  }

  get metadataBytes(): number {
    return this.items.length * this.bytesPerEntry;
  }

  /** Index of the first entry with end > addr. */
  private firstAbove(addr: number): number {
    let lo = 0;
    let hi = this.items.length;
    let v = 0;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1; // array indexes, far below 2^31
      v++;
      if (this.items[mid]!.end > addr) hi = mid;
      else lo = mid + 1;
    }
    this.visited(v);
    return lo;
  }

  insert(entry: E): boolean {
    const i = this.firstAbove(entry.start);
    const next = this.items[i];
    if (next !== undefined && next.start < entry.end) return false;
    this.items.splice(i, 0, entry);
    this.allocated(this.bytesPerEntry);
    return true;
  }

  remove(entry: E): boolean {
    const i = this.firstAbove(entry.start);
    if (this.items[i] !== entry) return false;
    this.items.splice(i, 1);
    this.allocated(-this.bytesPerEntry);
    return true;
  }

  find(addr: number): E | undefined {
    return this.items[this.firstAbove(addr)];
  }

  lookup(addr: number): E | undefined {
    const e = this.find(addr);
    return e !== undefined && e.start <= addr ? e : undefined;
  }

  overlapping(start: number, end: number): E[] {
    const out: E[] = [];
    for (let i = this.firstAbove(start); i < this.items.length && this.items[i]!.start < end; i++) out.push(this.items[i]!);
    return out;
  }

  *iterateFrom(addr: number): IterableIterator<E> {
    for (let i = this.firstAbove(addr); i < this.items.length; i++) yield this.items[i]!;
  }

  findGap(q: GapQuery): number {
    const n = this.items.length;
    const gapStart = (i: number): number => (i === 0 ? 0 : this.items[i - 1]!.end);
    const gapEnd = (i: number): number => (i === n ? Number.MAX_SAFE_INTEGER : this.items[i]!.start);
    if (q.topDown) {
      for (let i = n; i >= 0; i--) {
        const a = fitInGap(gapStart(i), gapEnd(i), q);
        if (a >= 0) return a;
      }
    } else {
      for (let i = 0; i <= n; i++) {
        const a = fitInGap(gapStart(i), gapEnd(i), q);
        if (a >= 0) return a;
      }
    }
    return -1;
  }

  checkInvariants(): void {
    for (let i = 1; i < this.items.length; i++) {
      if (this.items[i - 1]!.end > this.items[i]!.start) throw new Error(`array: entries ${i - 1} and ${i} overlap`);
    }
  }
}
