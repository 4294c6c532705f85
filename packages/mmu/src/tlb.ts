/**
 * A TLB: one or more set-associative arrays, each holding one page size, with ASID tags, global
 * entries and a replacement policy.
 *
 * Hot path design (lookup): no objects, no closures, no Map, no `%` on doubles (V8 compiles a
 * float modulo into a C call). For an array with page size P and S sets, the virtual page number is
 * vpn = floor(va * (1/P)) and the tag is q = floor(vpn * (1/S)); the set is vpn - q*S. Multiplying by
 * the reciprocal of a power of two is exact, so this is integer arithmetic done in doubles, correct
 * for every address below 2^53. Tags are compared as doubles (as fast as int compares).
 */
import { Rng } from '@polykernel/core';
import type { Replacement, TlbSpec } from './profiles.js';

/** Permission bits cached in an entry (small flags). */
export const TLB_W = 1;
export const TLB_X = 2;
export const TLB_U = 4;
export const TLB_D = 8;

const REPL_LRU = 0;
const REPL_FIFO = 1;
const REPL_PLRU = 2;
const REPL_RANDOM = 3;
const REPL_CODES: Record<Replacement, number> = { lru: REPL_LRU, fifo: REPL_FIFO, plru: REPL_PLRU, random: REPL_RANDOM };

const INVALID = -1;

export class Tlb {
  readonly name: string;
  readonly replacement: Replacement;
  private readonly repl: number;
  readonly arrayCount: number;
  /** Per array: page size, its reciprocal, set count, reciprocal, ways, first slot, first set. */
  readonly pageSize: Float64Array;
  private readonly invPage: Float64Array;
  private readonly sets: Float64Array;
  private readonly invSets: Float64Array;
  private readonly ways: Int32Array;
  private readonly slotBase: Int32Array;
  private readonly setBase: Int32Array;
  /** Per slot. tag = vpn / sets (INVALID when empty). */
  readonly tag: Float64Array;
  readonly asid: Int32Array;
  readonly global: Uint8Array;
  /** First 4 KiB frame of the page the entry maps. */
  readonly frame: Int32Array;
  readonly perm: Uint8Array;
  private readonly stamp: Float64Array;
  /**
   * Per array: 1 once an entry has been inserted since the last full flush. An array never used
   * (no huge page mapped yet) is not searched: a lookup there could only miss.
   */
  private readonly used: Uint8Array;
  /** Per set: FIFO next victim, or tree-PLRU bits. */
  private readonly setState: Uint32Array;
  private clock = 0;
  private readonly rng: Rng;
  /** Array index of the last hit (valid right after a successful lookup). */
  lastArray = 0;
  /**
   * Entries written so far (every insert() adds one). Only insert() makes a lookup hit where it
   * missed before (flushes and invalidations only remove entries), so a lookup that missed while
   * this count was n still misses while it is n: Mmu.translateAgain relies on that.
   */
  inserts = 0;
  readonly totalEntries: number;
  /**
   * Array 0 (the smallest page size) as plain fields, for the inline fast path in Mmu.translate:
   * page size and its reciprocal, set count and its reciprocal, ways.
   */
  readonly page0: number;
  readonly invPage0: number;
  readonly sets0: number;
  readonly invSets0: number;
  readonly ways0: number;
  /** Tree-PLRU update masks per way (bits = (bits & plruAnd[w]) | plruOr[w]), per array. */
  private readonly plruAnd: Uint32Array[];
  private readonly plruOr: Uint32Array[];

  constructor(spec: TlbSpec, seed = 1) {
    this.name = spec.name;
    this.replacement = spec.replacement;
    this.repl = REPL_CODES[spec.replacement];
    this.rng = new Rng(seed);
    const n = spec.arrays.length;
    this.arrayCount = n;
    this.pageSize = new Float64Array(n);
    this.invPage = new Float64Array(n);
    this.sets = new Float64Array(n);
    this.invSets = new Float64Array(n);
    this.ways = new Int32Array(n);
    this.slotBase = new Int32Array(n);
    this.setBase = new Int32Array(n);
    let slots = 0;
    let sets = 0;
    // Smallest page size first: the common case (4 KiB) is probed first.
    const arrays = [...spec.arrays].sort((a, b) => a.pageSize - b.pageSize);
    arrays.forEach((a, i) => {
      const s = a.entries / a.ways;
      this.pageSize[i] = a.pageSize;
      this.invPage[i] = 1 / a.pageSize;
      this.sets[i] = s;
      this.invSets[i] = 1 / s;
      this.ways[i] = a.ways;
      this.slotBase[i] = slots;
      this.setBase[i] = sets;
      slots += a.entries;
      sets += s;
    });
    this.totalEntries = slots;
    this.page0 = this.pageSize[0]!;
    this.invPage0 = this.invPage[0]!;
    this.sets0 = this.sets[0]!;
    this.invSets0 = this.invSets[0]!;
    this.ways0 = this.ways[0]!;
    this.plruAnd = arrays.map((a) => plruMasks(a.ways)[0]);
    this.plruOr = arrays.map((a) => plruMasks(a.ways)[1]);
    this.tag = new Float64Array(slots).fill(INVALID);
    this.used = new Uint8Array(n);
    this.asid = new Int32Array(slots);
    this.global = new Uint8Array(slots);
    this.frame = new Int32Array(slots);
    this.perm = new Uint8Array(slots);
    this.stamp = new Float64Array(slots);
    this.setState = new Uint32Array(sets);
  }

  /**
   * Find the entry translating `va` for `asid` (or a global entry). Returns its slot or -1.
   * Updates the replacement state on a hit.
   */
  lookup(va: number, asid: number): number {
    return this.lookupFrom(va, asid, 0);
  }

  /** lookup() starting at array `first` (Mmu.translate probes array 0 inline, then calls this with 1). */
  lookupFrom(va: number, asid: number, first: number): number {
    const n = this.arrayCount;
    const tag = this.tag;
    for (let a = first; a < n; a++) {
      if (this.used[a] === 0) continue;
      const vpn = Math.floor(va * this.invPage[a]!);
      const q = Math.floor(vpn * this.invSets[a]!);
      const set = (vpn - q * this.sets[a]!) | 0;
      const ways = this.ways[a]!;
      const base = this.slotBase[a]! + set * ways;
      const end = base + ways;
      for (let i = base; i < end; i++) {
        if (tag[i] === q && (this.asid[i] === asid || this.global[i] !== 0)) {
          this.touch(a, i, this.setBase[a]! + set, i - base);
          this.lastArray = a;
          return i;
        }
      }
    }
    return -1;
  }

  /** Tag computed by the last locate() call. */
  private locTag = 0;

  /**
   * First slot of the set `va` falls in within array `a`; the tag it would carry is left in
   * `locTag`. (lookupFrom inlines the same arithmetic: it is the hot path.)
   */
  private locate(va: number, a: number): number {
    const vpn = Math.floor(va * this.invPage[a]!);
    const q = Math.floor(vpn * this.invSets[a]!);
    this.locTag = q;
    return this.slotBase[a]! + ((vpn - q * this.sets[a]!) | 0) * this.ways[a]!;
  }

  /** Like lookup() but changes nothing (for explanations and tests). */
  peek(va: number, asid: number): number {
    for (let a = 0; a < this.arrayCount; a++) {
      const base = this.locate(va, a);
      const q = this.locTag;
      for (let i = base; i < base + this.ways[a]!; i++) {
        if (this.tag[i] === q && (this.asid[i] === asid || this.global[i] !== 0)) {
          this.lastArray = a;
          return i;
        }
      }
    }
    return -1;
  }

  /** Set index `va` falls in, in array `a` (for explanations). */
  setIndex(va: number, a: number): number {
    const vpn = Math.floor(va * this.invPage[a]!);
    return vpn - Math.floor(vpn * this.invSets[a]!) * this.sets[a]!;
  }

  /** The array holding pages of `pageSize`, or the largest smaller one (splintering), or -1. */
  arrayFor(pageSize: number): number {
    if (pageSize === this.page0) return 0; // the common case: a 4 KiB page into the 4 KiB array
    let best = -1;
    for (let a = 0; a < this.arrayCount; a++) if (this.pageSize[a]! <= pageSize) best = a;
    return best;
  }

  /**
   * Insert a translation. `pageSize`/`frame` describe the page as mapped; if this TLB has no array
   * for that size, the entry is splintered to the largest size it holds (as x86 does with 1 GiB pages
   * in a TLB without 1 GiB entries). Returns the slot written, or -1 if no array fits.
   */
  insert(va: number, asid: number, global: boolean, frame: number, pageSize: number, perm: number): number {
    const a = this.arrayFor(pageSize);
    if (a < 0) return -1;
    const size = this.pageSize[a]!;
    const vpn = Math.floor(va * this.invPage[a]!);
    // Frame of the (possibly smaller) page containing va within the mapped page (splintering);
    // the same frame when the array holds the mapped page size.
    const f = size === pageSize ? frame : frame + (vpn * size - Math.floor(va / pageSize) * pageSize) / 4096;
    const q = Math.floor(vpn * this.invSets[a]!);
    const set = (vpn - q * this.sets[a]!) | 0;
    const ways = this.ways[a]!;
    const base = this.slotBase[a]! + set * ways;
    const setId = this.setBase[a]! + set;
    // Reuse an entry for the same page (refresh), else the first empty way, else the policy's
    // victim. One pass over the set: a refresh match wins over an empty way seen before it.
    let slot = -1;
    let empty = -1;
    const tag = this.tag;
    const end = base + ways;
    // LRU's victim (the first way with the oldest stamp) is found in the same pass.
    const lru = this.repl === REPL_LRU;
    const stamp = this.stamp;
    let oldest = base;
    for (let i = base; i < end; i++) {
      const t = tag[i];
      if (t === q && (this.asid[i] === asid || this.global[i] !== 0)) {
        slot = i;
        break;
      }
      if (t === INVALID && empty < 0) empty = i;
      if (lru && stamp[i]! < stamp[oldest]!) oldest = i;
    }
    if (slot < 0) slot = empty >= 0 ? empty : lru ? oldest : base + this.victim(setId, base, ways);
    this.inserts++;
    this.used[a] = 1;
    this.tag[slot] = q;
    this.asid[slot] = asid;
    this.global[slot] = global ? 1 : 0;
    this.frame[slot] = f;
    this.perm[slot] = perm;
    this.touch(a, slot, setId, slot - base);
    if (this.repl === REPL_FIFO) this.setState[setId] = (slot - base + 1) % ways;
    return slot;
  }

  private victim(setId: number, base: number, ways: number): number {
    switch (this.repl) {
      case REPL_LRU: {
        let best = 0;
        for (let w = 1; w < ways; w++) if (this.stamp[base + w]! < this.stamp[base + best]!) best = w;
        return best;
      }
      case REPL_FIFO:
        return this.setState[setId]!;
      case REPL_PLRU:
        return this.plruVictim(setId, ways);
      default:
        return this.rng.below(ways);
    }
  }

  /**
   * Record a use of `slot` (way `way` of set `setId`, in array `a`) for the replacement policy.
   * Tree-PLRU keeps ways-1 bits per set in heap order (node k's children are 2k+1 and 2k+2; a 0
   * bit means "the victim is on the left"); a use points every node on its path away from it,
   * which is one AND and one OR with precomputed masks.
   */
  touch(a: number, slot: number, setId: number, way: number): void {
    if (this.repl === REPL_LRU) this.stamp[slot] = ++this.clock;
    else if (this.repl === REPL_PLRU) this.setState[setId] = ((this.setState[setId]! & this.plruAnd[a]![way]!) | this.plruOr[a]![way]!) >>> 0;
  }

  private plruVictim(setId: number, ways: number): number {
    const bits = this.setState[setId]!;
    let node = 0;
    let lo = 0;
    let span = ways;
    while (span > 1) {
      span = span / 2;
      const right = (bits & (1 << node)) !== 0;
      if (right) lo += span;
      node = 2 * node + (right ? 2 : 1);
    }
    return lo;
  }

  /** Invalidate one slot. */
  invalidateSlot(slot: number): void {
    this.tag[slot] = INVALID;
  }

  /**
   * Drop every entry, globals included (x86 INVPCID all-context including globals, or toggling
   * CR4.PGE). A CR3 write keeps global entries (Intel SDM vol. 3A 4.10.4.1): that is flushAsid.
   */
  flushAll(): void {
    this.tag.fill(INVALID);
    this.used.fill(0);
  }

  /** Drop the non-global entries of one ASID (INVPCID single-context; arm64 TLBI ASIDE1). */
  flushAsid(asid: number): number {
    let n = 0;
    for (let i = 0; i < this.totalEntries; i++) {
      if (this.tag[i] !== INVALID && this.asid[i] === asid && this.global[i] === 0) {
        this.tag[i] = INVALID;
        n++;
      }
    }
    return n;
  }

  /** Drop every entry (of any page size) translating `va` for `asid`, globals included (INVLPG). */
  flushPage(va: number, asid: number): number {
    let n = 0;
    for (let a = 0; a < this.arrayCount; a++) {
      const base = this.locate(va, a);
      const q = this.locTag;
      for (let i = base; i < base + this.ways[a]!; i++) {
        if (this.tag[i] === q && (this.asid[i] === asid || this.global[i] !== 0)) {
          this.tag[i] = INVALID;
          n++;
        }
      }
    }
    return n;
  }

  /** Host bytes of this TLB's typed arrays. */
  hostBytes(): number {
    return this.tag.byteLength + this.asid.byteLength + this.global.byteLength + this.frame.byteLength + this.perm.byteLength
      + this.stamp.byteLength + this.setState.byteLength;
  }

  /** Number of valid entries (for views and tests). */
  validEntries(): number {
    let n = 0;
    for (let i = 0; i < this.totalEntries; i++) if (this.tag[i] !== INVALID) n++;
    return n;
  }

  /** Virtual address of the page an entry maps (for views). */
  entryVa(slot: number): number {
    let a = 0;
    while (a + 1 < this.arrayCount && slot >= this.slotBase[a + 1]!) a++;
    const set = Math.floor((slot - this.slotBase[a]!) / this.ways[a]!);
    return (this.tag[slot]! * this.sets[a]! + set) * this.pageSize[a]!;
  }

  /** Page size of the array a slot belongs to. */
  entryPageSize(slot: number): number {
    let a = 0;
    while (a + 1 < this.arrayCount && slot >= this.slotBase[a + 1]!) a++;
    return this.pageSize[a]!;
  }
}

/** AND/OR masks that apply a tree-PLRU access to way w, for a set of `ways` ways. */
function plruMasks(ways: number): [Uint32Array, Uint32Array] {
  const and = new Uint32Array(ways).fill(0xffffffff);
  const or = new Uint32Array(ways);
  if (!Number.isInteger(Math.log2(ways))) return [and, or];
  for (let w = 0; w < ways; w++) {
    let node = 0;
    let lo = 0;
    let span = ways;
    let a = 0xffffffff;
    let o = 0;
    while (span > 1) {
      span = span / 2;
      const right = w >= lo + span;
      if (right) {
        a &= ~(1 << node);
        lo += span;
      } else {
        o |= 1 << node;
      }
      node = 2 * node + (right ? 2 : 1);
    }
    and[w] = a >>> 0;
    or[w] = o >>> 0;
  }
  return [and, or];
}
