/**
 * Radix page tables in a typed-array pool.
 *
 * The pool holds every table page of a machine: table `t`, entry `i` is slot `t * E + i` where E is
 * the entries per table (512 on x86-64/arm64, 1024 on MIPS32). Each slot has a 32-bit "next" (the
 * child table id, or the physical frame number of a leaf) and 16 flag bits (pte.ts). Each table
 * page is backed by a real simulated frame from the FrameTable, so page tables consume physical
 * memory, can fail for lack of it, and are counted per address space (for smaps and the OOM killer).
 *
 * Level 0 is the root (PML4 / PGD / L0); the last level maps 4 KiB pages; a leaf with PTE_HUGE at a
 * higher level maps a 2 MiB or 1 GiB page (x86 PS bit, arm64 block descriptor).
 */
import { FRAME_SIZE, NO_FRAME, OWNER_PAGETABLE, type FrameTable } from './frames.js';
import type { PageTableFormat } from './profiles.js';
import { PTE_ACCESSED, PTE_DIRTY, PTE_HUGE, PTE_PRESENT, PTE_WRITE } from './pte.js';

/** Result codes of map(). */
export const MAP_OK = 0;
/** No physical frame was free for a needed table page. */
export const MAP_NO_MEMORY = -1;
/** Something is already mapped there (a leaf, or smaller mappings below a requested huge leaf). */
export const MAP_EXISTS = -2;
/** The address or frame is not aligned to the page size, or the size is not a leaf size. */
export const MAP_BAD_ALIGNMENT = -3;

/** Why promote() declined (pmap_promote_pde's failure cases; the tables are unchanged). */
/** Some entry of the region is not present, or no table of leaves is there. */
export const PROMOTE_NOT_MAPPED = -10;
/** The region is mapped by a huge leaf already. */
export const PROMOTE_ALREADY = -11;
/** The first entry's frame is not aligned to the huge page size. */
export const PROMOTE_MISALIGNED = -12;
/** The entries' frames are not physically contiguous. */
export const PROMOTE_NOT_CONTIGUOUS = -13;
/** The entries differ in a compared flag bit (protection, user, global...). */
export const PROMOTE_MIXED_FLAGS = -14;

const NO_TABLE = -1;

/** Geometry derived once from a format: shifts, sizes and their reciprocals per level. */
export class PageTableGeometry {
  readonly levels: number;
  readonly entries: number;
  readonly invEntries: number;
  /** Bytes covered by one entry at each level. */
  readonly entrySpan: Float64Array;
  /** 1 / entrySpan, exact for powers of two: va * inv == va / span. */
  readonly invSpan: Float64Array;
  /** Whether a leaf may sit at each level. */
  readonly leafAllowed: Uint8Array;
  readonly maxVa: number;

  constructor(readonly format: PageTableFormat) {
    this.levels = format.levels;
    this.entries = 2 ** format.bitsPerLevel;
    this.invEntries = 1 / this.entries;
    this.entrySpan = new Float64Array(this.levels);
    this.invSpan = new Float64Array(this.levels);
    this.leafAllowed = new Uint8Array(this.levels);
    for (let l = 0; l < this.levels; l++) {
      const shift = 12 + format.bitsPerLevel * (this.levels - 1 - l);
      this.entrySpan[l] = 2 ** shift;
      this.invSpan[l] = 2 ** -shift;
      this.leafAllowed[l] = format.pageSizes.includes(2 ** shift) ? 1 : 0;
    }
    this.maxVa = Math.min(2 ** format.vaBits, Number.MAX_SAFE_INTEGER);
  }

  /** Index into the level-`l` table for `va`. */
  index(va: number, l: number): number {
    const x = Math.floor(va * this.invSpan[l]!);
    return (x - Math.floor(x * this.invEntries) * this.entries) | 0;
  }

  /** The level whose leaves map pages of `size`, or -1. */
  levelForSize(size: number): number {
    for (let l = 0; l < this.levels; l++) if (this.entrySpan[l] === size && this.leafAllowed[l] === 1) return l;
    return -1;
  }
}

/** Machine-wide storage for table pages. */
export class PageTablePool {
  next: Int32Array;
  flags: Uint16Array;
  /** Physical frame backing each table. */
  tableFrame: Int32Array;
  /** Number of present entries in each table (frees empty tables). */
  tableUsed: Uint16Array;
  private capacity: number;
  private freeIds: number[] = [];
  private nextId = 0;
  readonly entries: number;

  constructor(readonly geometry: PageTableGeometry, readonly frames: FrameTable, initialTables = 64) {
    this.entries = geometry.entries;
    this.capacity = initialTables;
    this.next = new Int32Array(initialTables * this.entries);
    this.flags = new Uint16Array(initialTables * this.entries);
    this.tableFrame = new Int32Array(initialTables);
    this.tableUsed = new Uint16Array(initialTables);
  }

  /** Allocate a zeroed table page; returns its id or NO_TABLE when physical memory is exhausted. */
  allocTable(): number {
    const frame = this.frames.alloc(0, true, OWNER_PAGETABLE);
    if (frame === NO_FRAME) return NO_TABLE;
    let id = this.freeIds.pop();
    if (id === undefined) {
      if (this.nextId === this.capacity) this.grow();
      // Never used: its entries are still the zeros the arrays were made with (a fork's 516 new
      // tables are not written twice).
      id = this.nextId++;
    } else {
      const base = id * this.entries;
      this.next.fill(0, base, base + this.entries);
      this.flags.fill(0, base, base + this.entries);
    }
    this.tableFrame[id] = frame;
    this.tableUsed[id] = 0;
    return id;
  }

  freeTable(id: number): void {
    this.frames.free(this.tableFrame[id]!, 0);
    this.tableFrame[id] = NO_FRAME;
    this.freeIds.push(id);
  }

  private grow(): void {
    const cap = this.capacity * 2;
    const next = new Int32Array(cap * this.entries);
    next.set(this.next);
    const flags = new Uint16Array(cap * this.entries);
    flags.set(this.flags);
    const tf = new Int32Array(cap);
    tf.set(this.tableFrame);
    const tu = new Uint16Array(cap);
    tu.set(this.tableUsed);
    this.next = next;
    this.flags = flags;
    this.tableFrame = tf;
    this.tableUsed = tu;
    this.capacity = cap;
  }

  /** Tables in use across the machine. */
  get tablesInUse(): number {
    return this.nextId - this.freeIds.length;
  }

  /** Host bytes of the pool's typed arrays. */
  hostBytes(): number {
    return this.next.byteLength + this.flags.byteLength + this.tableFrame.byteLength + this.tableUsed.byteLength;
  }
}

/** What lookup() found (a reusable record: read it before the next lookup). */
export interface PteLookup {
  /** Frame number of the start of the mapped page (for a huge page, its first frame). */
  frame: number;
  flags: number;
  pageSize: number;
  level: number;
  /** Pool slot of the leaf entry. */
  slot: number;
}

/** One copyFrom call's parameters and progress. */
interface CopyJob {
  readonly src: PageTable;
  readonly cow: boolean;
  readonly wrprotect: number;
  readonly childClear: number;
  readonly onLeaf: (frame: number, childFlags: number, parentFlags: number, wasWriteProtected: boolean) => void;
  /** Leaves visited in the range (counted on after a failure, as before). */
  count: number;
  failed: boolean;
}

/** One address space's page tables. */
export class PageTable {
  readonly root: number;
  /** Table pages owned by this address space, by level. */
  readonly tablesByLevel: Float64Array;
  private readonly geo: PageTableGeometry;
  private readonly lookupResult: PteLookup = { frame: 0, flags: 0, pageSize: 0, level: 0, slot: 0 };
  private destroyed = false;
  /**
   * The last-level table map() used last, and the address its entries start at: a run of faults
   * on neighbouring pages finds its table without walking from the root each time. (A host-side
   * shortcut, not a modelled structure: no cycles or walk references depend on it.) Cleared
   * whenever a table is freed.
   */
  private leafBase = -1;
  private leafTable = -1;
  /** protect()'s bits and count (reused: no allocation per call). */
  private readonly protectJob = { set: 0, clear: 0, count: 0 };

  /** Use `Mmu.createPageTable()`; throws RangeError only if the root itself cannot be allocated. */
  constructor(readonly pool: PageTablePool) {
    this.geo = pool.geometry;
    this.tablesByLevel = new Float64Array(this.geo.levels);
    const root = pool.allocTable();
    if (root === NO_TABLE) throw new RangeError('out of physical memory for a page-table root');
    this.root = root;
    this.tablesByLevel[0] = 1;
  }

  /** Number of page-table pages (including the root). */
  get tablePages(): number {
    let n = 0;
    for (let l = 0; l < this.geo.levels; l++) n += this.tablesByLevel[l]!;
    return n;
  }

  /** Bytes of page tables (what VmPTE in /proc/pid/status and the OOM killer count). */
  get tableBytes(): number {
    return this.tablePages * FRAME_SIZE;
  }

  /** Physical frame of the root table (what CR3 / TTBR0 would hold). */
  get rootFrame(): number {
    return this.pool.tableFrame[this.root]!;
  }

  /**
   * Map one page of `pageSize` at `va` to physical frame `frame` with PTE flags `flags`
   * (PTE_PRESENT is added). Returns MAP_OK or a negative MAP_* code; never throws for lack of memory.
   */
  map(va: number, frame: number, pageSize: number, flags: number): number {
    const geo = this.geo;
    const leafLevel = geo.levelForSize(pageSize);
    // Alignment by division, not `%`: a modulo of an address above 2^31 is a floating-point C call in V8.
    // (A remainder, so that a non-finite address or frame is refused as `%` refused it: NaN ≠ 0.)
    const fa = frame * FRAME_SIZE;
    if (leafLevel < 0 || va - Math.floor(va / pageSize) * pageSize !== 0 || fa - Math.floor(fa / pageSize) * pageSize !== 0 || va >= geo.maxVa || va < 0) {
      return MAP_BAD_ALIGNMENT;
    }
    const pool = this.pool;
    const t = this.tableFor(va, leafLevel);
    if (t < 0) return t;
    const slot = t * pool.entries + geo.index(va, leafLevel);
    if ((pool.flags[slot]! & PTE_PRESENT) !== 0) return MAP_EXISTS;
    pool.next[slot] = frame;
    pool.flags[slot] = flags | PTE_PRESENT | (leafLevel < geo.levels - 1 ? PTE_HUGE : 0);
    pool.tableUsed[t]!++;
    return MAP_OK;
  }

  /**
   * Find the leaf mapping `va`. Returns a reusable record or null when nothing is mapped.
   * Does not count walk references (this is the kernel reading its own tables, not the MMU).
   */
  lookup(va: number): PteLookup | null {
    const geo = this.geo;
    const pool = this.pool;
    const E = pool.entries;
    let t = this.root;
    for (let l = 0; l < geo.levels; l++) {
      const slot = t * E + geo.index(va, l);
      const f = pool.flags[slot]!;
      if ((f & PTE_PRESENT) === 0) return null;
      if (l === geo.levels - 1 || (f & PTE_HUGE) !== 0) {
        const r = this.lookupResult;
        r.frame = pool.next[slot]!;
        r.flags = f;
        r.pageSize = geo.entrySpan[l]!;
        r.level = l;
        r.slot = slot;
        return r;
      }
      t = pool.next[slot]!;
    }
    return null;
  }

  /** Set and clear flag bits of the leaf at `va` (no TLB flush: the caller decides). Returns false if unmapped. */
  updateFlags(va: number, set: number, clear: number): boolean {
    const r = this.lookup(va);
    if (r === null) return false;
    this.pool.flags[r.slot] = (r.flags | set) & ~clear;
    return true;
  }

  /**
   * Replace a huge leaf covering `va` by a table of next-smaller leaves with the same flags
   * (Linux split_huge_pmd). Returns MAP_OK, MAP_NO_MEMORY, or MAP_EXISTS when there is no huge leaf.
   */
  splitHuge(va: number): number {
    const r = this.lookup(va);
    if (r === null || r.level === this.geo.levels - 1) return MAP_EXISTS;
    const child = this.pool.allocTable();
    if (child === NO_TABLE) return MAP_NO_MEMORY;
    const pool = this.pool;
    const E = pool.entries;
    const lower = r.level + 1;
    const childIsLeafLevel = lower === this.geo.levels - 1;
    const framesPerChild = this.geo.entrySpan[lower]! / FRAME_SIZE;
    const childFlags = childIsLeafLevel ? r.flags & ~PTE_HUGE : r.flags | PTE_HUGE;
    for (let i = 0; i < E; i++) {
      pool.next[child * E + i] = r.frame + i * framesPerChild;
      pool.flags[child * E + i] = childFlags;
    }
    pool.tableUsed[child] = E;
    pool.next[r.slot] = child;
    pool.flags[r.slot] = PTE_PRESENT | 0x2 | 0x4;
    this.tablesByLevel[lower]!++;
    return MAP_OK;
  }

  /**
   * Promote the last-level table under the huge-page-sized region at `va` to one huge leaf of
   * `pageSize` (FreeBSD sys/amd64/amd64/pmap.c pmap_promote_pde, Linux collapse_huge_page's
   * set_pmd_at): every one of its entries must be present, map physically contiguous frames
   * starting at a frame aligned to `pageSize`, and agree in the flag bits of `compareMask`. The
   * huge leaf takes those bits, the union of PTE_ACCESSED and PTE_DIRTY over the entries, and
   * PTE_HUGE; the table page is freed. Every entry must also hold all of `require` (FreeBSD:
   * PG_A). With `writeProtectClean`, an entry that is writable but not dirty loses PTE_WRITE as
   * the check reaches it, whether or not the promotion then succeeds (pmap_promote_pde does so,
   * so that a superpage's dirty bit stays exact). Returns MAP_OK, or PROMOTE_* saying why not
   * (nothing else changed). No TLB flush: the small entries still cached translate to the same
   * frames with at most the same rights (pmap_promote_pde stores the PDE without an invalidation).
   */
  promote(va: number, pageSize: number, compareMask: number, require = 0, writeProtectClean = false): number {
    const geo = this.geo;
    const level = geo.levelForSize(pageSize);
    if (level < 0 || level >= geo.levels - 1 || va % pageSize !== 0 || va < 0 || va >= geo.maxVa) return MAP_BAD_ALIGNMENT;
    const pool = this.pool;
    const E = pool.entries;
    let t = this.root;
    for (let l = 0; l < level; l++) {
      const f = pool.flags[t * E + geo.index(va, l)]!;
      if ((f & PTE_PRESENT) === 0 || (f & PTE_HUGE) !== 0) return PROMOTE_NOT_MAPPED;
      t = pool.next[t * E + geo.index(va, l)]!;
    }
    const slot = t * E + geo.index(va, level);
    const pf = pool.flags[slot]!;
    if ((pf & PTE_PRESENT) === 0) return PROMOTE_NOT_MAPPED;
    if ((pf & PTE_HUGE) !== 0) return PROMOTE_ALREADY;
    const child = pool.next[slot]!;
    // Only a table of leaves can become one leaf (a 1 GiB promotion over 2 MiB leaves is not modelled).
    if (level + 1 !== geo.levels - 1) return PROMOTE_NOT_MAPPED;
    const framesPer = geo.entrySpan[level + 1]! / FRAME_SIZE;
    const base = child * E;
    const first = pool.next[base]!;
    const f0 = pool.flags[base]!;
    if ((f0 & PTE_PRESENT) === 0) return PROMOTE_NOT_MAPPED;
    if ((first * FRAME_SIZE) % pageSize !== 0) return PROMOTE_MISALIGNED;
    const clean = (f: number): number => (writeProtectClean && (f & (PTE_WRITE | PTE_DIRTY)) === PTE_WRITE ? f & ~PTE_WRITE : f);
    const want = clean(f0) & compareMask;
    let ad = 0;
    for (let i = 0; i < E; i++) {
      let f = pool.flags[base + i]!;
      if ((f & PTE_PRESENT) === 0) return PROMOTE_NOT_MAPPED;
      if (pool.next[base + i] !== first + i * framesPer) return PROMOTE_NOT_CONTIGUOUS;
      if ((f & require) !== require) return PROMOTE_MIXED_FLAGS;
      f = clean(f);
      pool.flags[base + i] = f;
      if ((f & compareMask) !== want) return PROMOTE_MIXED_FLAGS;
      ad |= f & (PTE_ACCESSED | PTE_DIRTY);
    }
    pool.freeTable(child);
    this.leafBase = -1;
    this.tablesByLevel[level + 1]!--;
    pool.next[slot] = first;
    pool.flags[slot] = (clean(f0) & ~(PTE_ACCESSED | PTE_DIRTY)) | ad | PTE_PRESENT | PTE_HUGE;
    return MAP_OK;
  }

  /**
   * Remove the leaves in [va, va + length). A huge leaf only partly inside the range is split first.
   * `onUnmap(va, frame, pageSize, flags)` is called for each removed leaf (to drop frame references).
   * Empty table pages are freed (Linux free_pgtables). Returns the number of leaves removed, or
   * MAP_NO_MEMORY if a split needed a table page that could not be had.
   */
  unmap(va: number, length: number, onUnmap?: (va: number, frame: number, pageSize: number, flags: number) => void): number {
    return this.forEachLeafInRange(va, length, (slot, leafVa, size, t) => {
      const pool = this.pool;
      onUnmap?.(leafVa, pool.next[slot]!, size, pool.flags[slot]!);
      pool.flags[slot] = 0;
      pool.next[slot] = 0;
      pool.tableUsed[t]!--;
    }, true);
  }

  /** Set/clear flags on every leaf in [va, va + length), splitting partly covered huge leaves. Returns leaves changed. */
  protect(va: number, length: number, set: number, clear: number): number {
    if (length <= 0) return 0;
    const job = this.protectJob;
    job.set = set;
    job.clear = clear;
    job.count = 0;
    const r = this.protectRange(this.root, 0, 0, va, va + length);
    return r < 0 ? r : job.count;
  }

  /**
   * protect's walk of table `t` (level `level`, covering from `base`) over [start, end): walkRange's
   * order, splitting and failures, without a callback per leaf (pmap_protect of a large range, as
   * fork does, changes every PTE of it).
   */
  private protectRange(t: number, level: number, base: number, start: number, end: number): number {
    const pool = this.pool;
    const geo = this.geo;
    const E = pool.entries;
    const job = this.protectJob;
    const span = geo.entrySpan[level]!;
    const first = Math.max(0, Math.floor((start - base) / span));
    const last = Math.min(E - 1, Math.floor((end - 1 - base) / span));
    const leafLevel = level === geo.levels - 1;
    for (let i = first; i <= last; i++) {
      const slot = t * E + i;
      const f = pool.flags[slot]!;
      if ((f & PTE_PRESENT) === 0) continue;
      const entryVa = base + i * span;
      if (leafLevel || (f & PTE_HUGE) !== 0) {
        if (entryVa >= start && entryVa + span <= end) {
          pool.flags[slot] = (f | job.set) & ~job.clear;
          job.count++;
          continue;
        }
        if (this.splitHuge(entryVa) !== MAP_OK) return MAP_NO_MEMORY;
      }
      const r = this.protectRange(pool.next[slot]!, level + 1, entryVa, start, end);
      if (r < 0) return r;
    }
    return 0;
  }

  /** Call `fn` for each leaf in the range (read-only use; no splitting). */
  forEachLeaf(va: number, length: number, fn: (va: number, frame: number, pageSize: number, flags: number) => void): void {
    this.walkRange(this.root, 0, 0, va, va + length, (slot, leafVa, size) => {
      fn(leafVa, this.pool.next[slot]!, size, this.pool.flags[slot]!);
    }, false, false);
  }

  /** Free every table page (the address space is going away). Leaves' frames are the caller's. */
  destroy(onLeaf?: (va: number, frame: number, pageSize: number, flags: number) => void): void {
    if (this.destroyed) return;
    if (onLeaf) this.forEachLeaf(0, this.geo.maxVa, onLeaf);
    this.freeSubtree(this.root, 0);
    this.destroyed = true;
  }

  private freeSubtree(t: number, level: number): void {
    this.leafBase = -1;
    const pool = this.pool;
    const E = pool.entries;
    if (level < this.geo.levels - 1) {
      for (let i = 0; i < E; i++) {
        const f = pool.flags[t * E + i]!;
        if ((f & PTE_PRESENT) !== 0 && (f & PTE_HUGE) === 0) this.freeSubtree(pool.next[t * E + i]!, level + 1);
      }
    }
    pool.freeTable(t);
    this.tablesByLevel[level]!--;
  }

  /**
   * copy_page_range's PTE copy (mm/memory.c copy_pte_range), for fork: every present leaf of `src`
   * in [va, va + length) is mapped here at the same address and size. With `cow`, a leaf holding
   * any of the `wrprotect` bits loses them in both tables (the parent's and the child's copy are
   * write-protected); `childClear` bits are removed from the child's copy only (pte_mkold). Each
   * copy is reported to `onLeaf(frame, childFlags, parentFlags, wasWriteProtected)`. Leaf tables
   * are found once per table, not per entry. Both tables must come from one pool. Returns the
   * number of leaves copied, or MAP_NO_MEMORY when a table cannot be allocated.
   */
  copyFrom(
    src: PageTable, va: number, length: number, cow: boolean, wrprotect: number, childClear: number,
    onLeaf: (frame: number, childFlags: number, parentFlags: number, wasWriteProtected: boolean) => void,
  ): number {
    if (src.pool !== this.pool) throw new RangeError('copyFrom: the tables must share one page-table pool');
    if (length <= 0) return 0;
    const job: CopyJob = { src, cow, wrprotect, childClear, onLeaf, count: 0, failed: false };
    const r = this.copyRange(job, src.root, 0, 0, va, va + length);
    return r < 0 || job.failed ? MAP_NO_MEMORY : job.count;
  }

  /**
   * copyFrom's walk of the source table `t` (level `level`, covering from `base`) over [start, end):
   * walkRange's order and splitting, with a last-level table's entries copied in one plain loop
   * (no callback per entry but `onLeaf`), its child table found once. After a failure the walk goes
   * on counting and splitting but copies nothing, as the per-leaf version did.
   */
  private copyRange(job: CopyJob, t: number, level: number, base: number, start: number, end: number): number {
    const src = job.src;
    const pool = this.pool;
    const geo = this.geo;
    const E = pool.entries;
    const span = geo.entrySpan[level]!;
    const first = Math.max(0, Math.floor((start - base) / span));
    const last = Math.min(E - 1, Math.floor((end - 1 - base) / span));
    if (level === geo.levels - 1) return this.copyLeafTable(job, t, level, base, first, last, start, end);
    for (let i = first; i <= last; i++) {
      const slot = t * E + i;
      const f = pool.flags[slot]!;
      if ((f & PTE_PRESENT) === 0) continue;
      const entryVa = base + i * span;
      if ((f & PTE_HUGE) !== 0) {
        if (entryVa >= start && entryVa + span <= end) {
          job.count++;
          if (!job.failed) this.copyHugeLeaf(job, slot, entryVa, span);
          continue;
        }
        if (src.splitHuge(entryVa) !== MAP_OK) return MAP_NO_MEMORY;
      }
      const r = this.copyRange(job, pool.next[slot]!, level + 1, entryVa, start, end);
      if (r < 0) return r;
    }
    return 0;
  }

  /**
   * Copy entries [first, last] of the source leaf table `t` (which covers from `base`). An entry
   * only partly inside [start, end) fails the copy (walkRange could not split a 4 KiB leaf).
   */
  private copyLeafTable(job: CopyJob, t: number, level: number, base: number, first: number, last: number, start: number, end: number): number {
    const pool = this.pool;
    const E = pool.entries;
    const span = this.geo.entrySpan[level]!;
    const { cow, wrprotect, childClear, onLeaf } = job;
    let dt = -1;
    for (let i = first; i <= last; i++) {
      const slot = t * E + i;
      let f = pool.flags[slot]!;
      if ((f & PTE_PRESENT) === 0) continue;
      const entryVa = base + i * span;
      if (entryVa < start || entryVa + span > end) return MAP_NO_MEMORY;
      job.count++;
      if (job.failed) continue;
      const frame = pool.next[slot]!;
      let wp = false;
      if (cow && (f & wrprotect) !== 0) {
        f &= ~wrprotect;
        pool.flags[slot] = f;
        wp = true;
      }
      const child = f & ~childClear;
      if (dt < 0) {
        // One walk for the whole table (the child's table covers the same span as the source's).
        dt = this.tableFor(entryVa, level);
        if (dt < 0) {
          job.failed = true;
          continue;
        }
      }
      const s2 = dt * E + i;
      if ((pool.flags[s2]! & PTE_PRESENT) === 0) pool.tableUsed[dt]!++;
      pool.next[s2] = frame;
      pool.flags[s2] = child;
      onLeaf(frame, child, f, wp);
    }
    return 0;
  }

  /** Copy one huge leaf of the source (at pool slot `slot`) to the same address here. */
  private copyHugeLeaf(job: CopyJob, slot: number, va: number, size: number): void {
    const pool = this.pool;
    let f = pool.flags[slot]!;
    const frame = pool.next[slot]!;
    let wp = false;
    if (job.cow && (f & job.wrprotect) !== 0) {
      f &= ~job.wrprotect;
      pool.flags[slot] = f;
      wp = true;
    }
    const child = f & ~job.childClear;
    if (this.map(va, frame, size, child & ~PTE_HUGE) !== MAP_OK) {
      job.failed = true;
      return;
    }
    job.onLeaf(frame, child, f, wp);
  }

  /**
   * Allocate the tables a `pageSize` mapping at `va` needs, without mapping anything (as a kernel's
   * fault path allocates the PUD, PMD and PTE table first: __handle_mm_fault). MAP_OK, or
   * MAP_NO_MEMORY when a table cannot be had, or MAP_EXISTS when a larger page already covers `va`.
   */
  prepare(va: number, pageSize: number): number {
    const level = this.geo.levelForSize(pageSize);
    if (level < 0 || va < 0 || va >= this.geo.maxVa) return MAP_BAD_ALIGNMENT;
    const t = this.tableFor(va, level);
    return t < 0 ? t : MAP_OK;
  }

  /**
   * The table holding level-`level` entries for `va`, allocating the tables above it (intermediate
   * entries P, W, U, the x86 convention): a table id, or MAP_NO_MEMORY, or MAP_EXISTS when a larger
   * page covers `va`. The last-level table used last is remembered, so neighbouring pages find it
   * without a walk.
   */
  private tableFor(va: number, level: number): number {
    const geo = this.geo;
    const pool = this.pool;
    const E = pool.entries;
    const last = level === geo.levels - 1;
    const span = geo.entrySpan[level]! * E;
    const base = last ? Math.floor(va / span) * span : -2;
    if (base === this.leafBase) return this.leafTable;
    let t = this.root;
    for (let l = 0; l < level; l++) {
      const slot = t * E + geo.index(va, l);
      const f = pool.flags[slot]!;
      if ((f & PTE_PRESENT) === 0) {
        const c = pool.allocTable();
        if (c === NO_TABLE) return MAP_NO_MEMORY;
        pool.next[slot] = c;
        pool.flags[slot] = PTE_PRESENT | 0x2 | 0x4;
        pool.tableUsed[t]!++;
        this.tablesByLevel[l + 1]!++;
        t = c;
      } else if ((f & PTE_HUGE) !== 0) return MAP_EXISTS;
      else t = pool.next[slot]!;
    }
    if (last) {
      this.leafBase = base;
      this.leafTable = t;
    }
    return t;
  }

  private forEachLeafInRange(
    va: number, length: number,
    fn: (slot: number, leafVa: number, size: number, table: number) => void,
    freeEmpty: boolean,
  ): number {
    if (length <= 0) return 0;
    let count = 0;
    const r = this.walkRange(this.root, 0, 0, va, va + length, (slot, leafVa, size, t) => {
      fn(slot, leafVa, size, t);
      count++;
    }, true, freeEmpty);
    return r < 0 ? r : count;
  }

  /**
   * Visit the leaves of table `t` (level `level`, covering from `base`) that lie in [start, end).
   * With `split`, a huge leaf only partly inside is split before visiting. Returns < 0 on failure.
   */
  private walkRange(
    t: number, level: number, base: number, start: number, end: number,
    fn: (slot: number, leafVa: number, size: number, table: number) => void,
    split: boolean, freeEmpty: boolean,
  ): number {
    const pool = this.pool;
    const geo = this.geo;
    const E = pool.entries;
    const span = geo.entrySpan[level]!;
    const first = Math.max(0, Math.floor((start - base) / span));
    const last = Math.min(E - 1, Math.floor((end - 1 - base) / span));
    for (let i = first; i <= last; i++) {
      const slot = t * E + i;
      const f = pool.flags[slot]!;
      if ((f & PTE_PRESENT) === 0) continue;
      const entryVa = base + i * span;
      const isLeaf = level === geo.levels - 1 || (f & PTE_HUGE) !== 0;
      if (isLeaf) {
        const inside = entryVa >= start && entryVa + span <= end;
        if (!inside) {
          if (!split) continue;
          if (this.splitHuge(entryVa) !== MAP_OK) return MAP_NO_MEMORY;
        } else {
          fn(slot, entryVa, span, t);
          continue;
        }
      }
      const child = pool.next[slot]!;
      const r = this.walkRange(child, level + 1, entryVa, start, end, fn, split, freeEmpty);
      if (r < 0) return r;
      if (freeEmpty && pool.tableUsed[child] === 0) {
        this.leafBase = -1;
        pool.freeTable(child);
        this.tablesByLevel[level + 1]!--;
        pool.flags[slot] = 0;
        pool.next[slot] = 0;
        pool.tableUsed[t]!--;
      }
    }
    return 0;
  }
}

