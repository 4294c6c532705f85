/**
 * A page-index → integer map for a VM object's resident pages (index → frame) and swapped pages
 * (index → swap slot). FreeBSD keeps resident pages in a per-object radix trie (sys/vm/vm_radix.c)
 * and swap blocks in a per-object pctrie (sys/vm/swap_pager.c); here both are one open-addressing
 * hash table over two Int32Arrays, so a fault's lookup, insert and removal touch no objects and
 * allocate nothing (the tables grow by doubling; an empty map holds no arrays at all).
 *
 * Keys are page indexes in [0, 2^31 - 1] and values are int32 (frames and swap slots), so the hash
 * may use 32-bit integer math on them: nothing wider than 31 bits ever reaches `Math.imul` or `>>>`.
 * Deletion leaves a tombstone (no entry ever moves), so deleting during an iteration or a slot walk
 * is safe; inserting during one is not (the table may be rebuilt).
 */

/** The largest page index a PageMap holds. */
export const MAX_PAGE_INDEX = 0x7fff_ffff;
const EMPTY = -1;
const TOMBSTONE = -2;
const MIN_CAPACITY = 8;
/** Fibonacci hashing: the golden-ratio multiplier spreads consecutive page indexes over the table. */
const GOLDEN = 0x9e37_79b9;
const NO_SLOTS = new Int32Array(0);

function isPageIndex(k: number): boolean {
  return k >= 0 && k <= MAX_PAGE_INDEX && Math.floor(k) === k;
}

function isInt32(v: number): boolean {
  return v >= -0x8000_0000 && v <= 0x7fff_ffff && Math.floor(v) === v;
}

export class PageMap {
  private keyOf: Int32Array = NO_SLOTS;
  private valueOf: Int32Array = NO_SLOTS;
  /** 32 - log2(capacity): the hash's top bits pick the slot. */
  private shift = 32;
  private live = 0;
  /** Live entries plus tombstones: what the load factor counts. */
  private used = 0;

  /** Entries held (as Map.size). */
  get size(): number {
    return this.live;
  }

  /** Slots in the table: walk 0 ≤ slot < slotCount with `keyAt` and `valueAt`, allocation-free. */
  get slotCount(): number {
    return this.keyOf.length;
  }

  /** The page index held in `slot`, or a negative number when the slot is free. */
  keyAt(slot: number): number {
    return this.keyOf[slot] ?? EMPTY;
  }

  /** The value held in `slot` (meaningful only when `keyAt(slot)` ≥ 0). */
  valueAt(slot: number): number {
    return this.valueOf[slot] ?? 0;
  }

  get(pindex: number): number | undefined {
    if (this.live === 0) return undefined;
    const slot = this.find(pindex);
    return slot < 0 ? undefined : this.valueOf[slot];
  }

  has(pindex: number): boolean {
    return this.live !== 0 && this.find(pindex) >= 0;
  }

  set(pindex: number, value: number): this {
    if (!isPageIndex(pindex)) throw new RangeError(`page index ${pindex} is not an integer in [0, ${MAX_PAGE_INDEX}]`);
    if (!isInt32(value)) throw new RangeError(`value ${value} for page ${pindex} is not a 32-bit integer`);
    if (2 * (this.used + 1) > this.keyOf.length) this.rebuild();
    const keys = this.keyOf;
    const mask = keys.length - 1;
    let free = -1;
    for (let i = this.home(pindex); ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === pindex) {
        this.valueOf[i] = value;
        return this;
      }
      if (k === TOMBSTONE) {
        if (free < 0) free = i;
      } else if (k === EMPTY) {
        if (free < 0) {
          free = i;
          this.used++;
        }
        break;
      }
    }
    keys[free] = pindex;
    this.valueOf[free] = value;
    this.live++;
    return this;
  }

  delete(pindex: number): boolean {
    if (this.live === 0) return false;
    const slot = this.find(pindex);
    if (slot < 0) return false;
    this.keyOf[slot] = TOMBSTONE;
    this.live--;
    if (this.live === 0) this.clear(); // nothing left to probe past: drop the tombstones too
    return true;
  }

  /** Remove every entry and give the table's memory back. */
  clear(): void {
    this.keyOf = NO_SLOTS;
    this.valueOf = NO_SLOTS;
    this.shift = 32;
    this.live = 0;
    this.used = 0;
  }

  /** After bulk removals: shrink the table if it is mostly empty (not during an iteration). */
  trim(): void {
    if (this.keyOf.length > MIN_CAPACITY && 8 * this.live < this.keyOf.length) this.rebuild();
  }

  *entries(): Generator<[number, number], void, undefined> {
    const keys = this.keyOf;
    const values = this.valueOf;
    for (let i = 0; i < keys.length; i++) if (keys[i]! >= 0) yield [keys[i]!, values[i]!];
  }

  *keys(): Generator<number, void, undefined> {
    const keys = this.keyOf;
    for (let i = 0; i < keys.length; i++) if (keys[i]! >= 0) yield keys[i]!;
  }

  *values(): Generator<number, void, undefined> {
    const keys = this.keyOf;
    const values = this.valueOf;
    for (let i = 0; i < keys.length; i++) if (keys[i]! >= 0) yield values[i]!;
  }

  [Symbol.iterator](): Generator<[number, number], void, undefined> {
    return this.entries();
  }

  forEach(fn: (value: number, pindex: number, map: PageMap) => void): void {
    const keys = this.keyOf;
    const values = this.valueOf;
    for (let i = 0; i < keys.length; i++) if (keys[i]! >= 0) fn(values[i]!, keys[i]!, this);
  }

  /** The slot holding `pindex`, or -1. */
  private find(pindex: number): number {
    if (!isPageIndex(pindex)) return -1;
    const keys = this.keyOf;
    const mask = keys.length - 1;
    for (let i = this.home(pindex); ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === pindex) return i;
      if (k === EMPTY) return -1;
    }
  }

  private home(pindex: number): number {
    return Math.imul(pindex, GOLDEN) >>> this.shift;
  }

  /** A table sized for the live entries (load ≤ 1/4 after it), without tombstones. */
  private rebuild(): void {
    const oldKeys = this.keyOf;
    const oldValues = this.valueOf;
    let capacity = MIN_CAPACITY;
    let bits = 3;
    while (capacity < 4 * (this.live + 1)) {
      capacity *= 2;
      bits++;
    }
    const keys = new Int32Array(capacity).fill(EMPTY);
    const values = new Int32Array(capacity);
    const shift = 32 - bits;
    this.keyOf = keys;
    this.valueOf = values;
    this.shift = shift;
    this.used = this.live;
    const mask = capacity - 1;
    // The same placement as set() would make, in the same order (home() inlined on locals).
    for (let j = 0; j < oldKeys.length; j++) {
      const k = oldKeys[j]!;
      if (k < 0) continue;
      let i = Math.imul(k, GOLDEN) >>> shift;
      while (keys[i] !== EMPTY) i = (i + 1) & mask;
      keys[i] = k;
      values[i] = oldValues[j]!;
    }
  }
}
