/**
 * The simulated MMU of one machine: CPUs with their TLBs, the physical frame table, the page-table
 * pool, and translate().
 *
 * translate(cpu, asid, va, access, user) returns a physical address (>= 0) or TRANSLATE_FAULT (-1)
 * with the details in `mmu.fault` (a reused record: nothing is allocated per access). Every step
 * counts into the shared Metrics and advances the cycle clock by the profile's costs.
 */
import { Metrics } from '@polykernel/core';
import { FrameTable, type ZeroingPolicy } from './frames.js';
import { PageTable, PageTableGeometry, PageTablePool } from './pagetable.js';
import { validateProfile, type MachineProfile } from './profiles.js';
import {
  ACCESS_EXEC, ACCESS_WRITE, PTE_ACCESSED, PTE_DIRTY, PTE_GLOBAL, PTE_HUGE, PTE_NX, PTE_PRESENT,
  PTE_USER, PTE_WRITE, type Access,
} from './pte.js';
import { Tlb, TLB_D, TLB_U, TLB_W, TLB_X } from './tlb.js';

export const TRANSLATE_FAULT = -1;

/** Why a translation failed. */
export const FAULT_NONE = 0;
/** No valid entry at some level of the walk (x86 #PF with P=0). */
export const FAULT_NOT_PRESENT = 1;
/** Write to a read-only page. */
export const FAULT_WRITE_PROTECT = 2;
/** Instruction fetch from a no-execute page. */
export const FAULT_EXEC_PROTECT = 3;
/** User-mode access to a supervisor page. */
export const FAULT_USER_PROTECT = 4;
/** Software-managed TLB missed: the kernel must refill it (MIPS TLBL/TLBS refill exception). */
export const FAULT_TLB_REFILL = 5;
/** Address outside the translated range (non-canonical on x86-64). */
export const FAULT_BAD_ADDRESS = 6;

export const FAULT_NAMES = ['none', 'not-present', 'write-protect', 'exec-protect', 'user-protect', 'tlb-refill', 'bad-address'] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

/** The record translate() fills on failure. */
export interface FaultRecord {
  kind: number;
  va: number;
  access: Access;
  user: boolean;
  cpu: number;
  asid: number;
  /** Walk level where it failed (-1 when it failed on a TLB entry's permissions). */
  level: number;
}

export interface CpuState {
  readonly id: number;
  readonly l1d: Tlb;
  readonly l1i: Tlb;
  readonly l2: Tlb | null;
  /** ASID currently loaded (CR3 PCID / TTBR0 ASID / EntryHi ASID). */
  asid: number;
}

export interface MmuOptions {
  /** Physical memory in 4 KiB frames (default 262,144 = 1 GiB). */
  frames?: number;
  zeroing?: ZeroingPolicy;
  contents?: boolean;
  metrics?: Metrics;
  /** Seed for random TLB replacement. */
  seed?: number;
  /** Override the profile's CPU count. */
  cpus?: number;
}

/** Per-level hit counters beyond the shared metrics. */
export interface MmuStats {
  /** L1 hits are metrics.tlbHits - l2Hits. */
  l2Hits: number;
  walks: number;
  dirtyAssists: number;
  refills: number;
}

/** Linux arch/x86/mm/tlb.c: above this many pages a range flush becomes a full flush of the ASID. */
export const TLB_SINGLE_PAGE_FLUSH_CEILING = 33;

export class Mmu {
  readonly profile: MachineProfile;
  readonly metrics: Metrics;
  readonly frames: FrameTable;
  readonly geometry: PageTableGeometry;
  readonly pool: PageTablePool;
  readonly cpus: CpuState[];
  readonly stats: MmuStats = { l2Hits: 0, walks: 0, dirtyAssists: 0, refills: 0 };
  /** Details of the last failed translate(). */
  readonly fault: FaultRecord = { kind: FAULT_NONE, va: 0, access: 0, user: true, cpu: 0, asid: 0, level: 0 };
  /** Page table bound to each ASID (what the hardware walks on a miss). */
  private readonly spaces: (PageTable | undefined)[];
  /** cpuUsed[asid * ncpu + cpu] = 1 when `cpu` may hold entries of `asid` (Linux mm_cpumask). */
  private readonly cpuUsed: Uint8Array;
  private readonly ncpu: number;
  private readonly software: boolean;
  private readonly hwAD: boolean;
  private readonly levels: number;
  private readonly costL1: number;
  private readonly costL2: number;
  private readonly costRef: number;
  /** Rights needed per access kind: index access (kernel) or access + 3 (user). */
  private readonly needMask: Uint8Array;
  /** Every translated address is below the root's reach (maxVa ≤ entries × root span), so its root index is < entries. */
  private readonly topDown: boolean;
  /**
   * The last translation that missed every TLB and walked (translateAgain's record): its CPU
   * (-1: none), ASID, address and kind, and the inserts its L1 and L2 TLBs had made by then.
   */
  private missCpu = -1;
  private missAsid = 0;
  private missVa = 0;
  private missAccess = 0;
  private missL1 = 0;
  private missL2 = 0;

  constructor(profile: MachineProfile, opts: MmuOptions = {}) {
    const problems = validateProfile(profile);
    if (problems.length > 0) throw new RangeError(`invalid machine profile '${profile.name}': ${problems.join('; ')}`);
    this.profile = profile;
    this.metrics = opts.metrics ?? new Metrics();
    this.frames = new FrameTable({
      frames: opts.frames ?? 262144,
      maxOrder: Math.min(18, Math.floor(Math.log2(opts.frames ?? 262144))),
      zeroing: opts.zeroing ?? 'on-demand',
      contents: opts.contents ?? false,
      costs: { zeroPage: profile.costs.zeroPage, copyPage: profile.costs.copyPage },
      metrics: this.metrics,
    });
    this.geometry = new PageTableGeometry(profile.pageTable);
    this.pool = new PageTablePool(this.geometry, this.frames);
    this.ncpu = opts.cpus ?? profile.cpus;
    const seed = opts.seed ?? 1;
    this.cpus = Array.from({ length: this.ncpu }, (_, id) => ({
      id,
      l1d: new Tlb(profile.tlb.l1d, seed * 7919 + id * 3 + 1),
      l1i: new Tlb(profile.tlb.l1i, seed * 7919 + id * 3 + 2),
      l2: profile.tlb.l2 ? new Tlb(profile.tlb.l2, seed * 7919 + id * 3 + 3) : null,
      asid: 0,
    }));
    this.spaces = new Array<PageTable | undefined>(2 ** profile.asidBits).fill(undefined);
    this.cpuUsed = new Uint8Array(2 ** profile.asidBits * this.ncpu);
    this.software = profile.softwareTlb;
    this.hwAD = profile.hardwareAccessedDirty;
    this.levels = this.geometry.levels;
    this.topDown = this.geometry.maxVa <= this.geometry.entrySpan[0]! * this.geometry.entries;
    this.costL1 = profile.costs.tlbL1Hit;
    this.costL2 = profile.costs.tlbL2Hit;
    this.costRef = profile.costs.walkRef;
    const dirty = this.hwAD ? TLB_D : 0;
    const kernel = [0, TLB_W | dirty, TLB_X];
    this.needMask = Uint8Array.from([...kernel, ...kernel.map((k) => k | TLB_U)]);
  }

  /** Number of distinct ASIDs the hardware tags entries with. */
  get asidCount(): number {
    return this.spaces.length;
  }

  /** A new, empty address space (its root table is allocated now). */
  createPageTable(): PageTable {
    return new PageTable(this.pool);
  }

  /** Bind an ASID to the page table the hardware walks for it. */
  bindAsid(asid: number, table: PageTable | undefined): void {
    if (!Number.isInteger(asid) || asid < 0 || asid >= this.spaces.length) {
      throw new RangeError(`ASID ${asid} outside 0..${this.spaces.length - 1} (${this.profile.asidBits} bits)`);
    }
    this.spaces[asid] = table;
  }

  pageTableOf(asid: number): PageTable | undefined {
    return this.spaces[asid];
  }

  /** Load `asid` on `cpu` (a context switch: CR3 write with PCID, no flush). */
  activate(cpu: number, asid: number): void {
    this.cpus[cpu]!.asid = asid;
    this.cpuUsed[asid * this.ncpu + cpu] = 1;
  }

  /**
   * Translate a virtual address. Returns the physical address, or TRANSLATE_FAULT with `this.fault`
   * filled. Sets accessed/dirty bits as hardware does (when the profile's hardware manages them).
   */
  translate(cpu: number, asid: number, va: number, access: Access, user = true): number {
    const c = this.cpus[cpu]!;
    const l1 = access === ACCESS_EXEC ? c.l1i : c.l1d;
    // Rights an entry must grant for this access (with D for a write when hardware manages it).
    const need = this.needMask[user ? access + 3 : access]!;
    // Fast path, inline: the L1 array of the smallest page size (4 KiB), as Tlb.lookupFrom does it.
    const vpn = Math.floor(va * l1.invPage0);
    const q = Math.floor(vpn * l1.invSets0);
    const set = (vpn - q * l1.sets0) | 0;
    const ways = l1.ways0;
    const base = set * ways;
    const tag = l1.tag;
    for (let i = base; i < base + ways; i++) {
      if (tag[i] === q && (l1.asid[i] === asid || l1.global[i] !== 0)) {
        // Not enough rights cached (a fault, or a write needing the dirty assist): the slow path decides.
        if ((l1.perm[i]! & need) !== need) return this.translateSlow(c, l1, asid, va, access, user, need, 0);
        l1.touch(0, i, set, i - base);
        const m = this.metrics;
        m.tlbHits++;
        m.cycles += this.costL1;
        return l1.frame[i]! * 4096 + (va - vpn * l1.page0);
      }
    }
    return this.translateSlow(c, l1, asid, va, access, user, need, 1);
  }

  /**
   * The L1 4 KiB hits of a run of accesses, in order: references `from` up to (not including) `to`
   * of `vas`/`accesses` that hit the L1 array of the smallest page size with enough rights are
   * translated exactly as translate() does it (replacement state touched, tlbHits and cycles
   * counted). Stops at the first reference that would leave that fast path (a miss there, another
   * page size, a fault, a dirty assist) without changing anything for it, and returns its index
   * (`to` when every reference hit). The caller sends that one through translate() — or the
   * kernel's full access path — and resumes after it. Plain loops over typed arrays: the hot path
   * of a trace replay, with nothing allocated per reference.
   */
  translateHits(cpu: number, asid: number, vas: Float64Array, accesses: Uint8Array, from: number, to: number, user = true): number {
    const c = this.cpus[cpu]!;
    const m = this.metrics;
    const costL1 = this.costL1;
    const needMask = this.needMask;
    const shift = user ? 3 : 0;
    let hits = 0;
    let i = from;
    for (; i < to; i++) {
      const va = vas[i]!;
      const access = accesses[i]!;
      const l1 = access === ACCESS_EXEC ? c.l1i : c.l1d;
      const need = needMask[access + shift]!;
      const vpn = Math.floor(va * l1.invPage0);
      const q = Math.floor(vpn * l1.invSets0);
      const set = (vpn - q * l1.sets0) | 0;
      const ways = l1.ways0;
      const base = set * ways;
      const tag = l1.tag;
      let slot = -1;
      for (let w = base; w < base + ways; w++) {
        if (tag[w] === q && (l1.asid[w] === asid || l1.global[w] !== 0)) {
          slot = w;
          break;
        }
      }
      if (slot < 0 || (l1.perm[slot]! & need) !== need) break;
      l1.touch(0, slot, set, slot - base);
      hits++;
      // Added one hit at a time, as translate() does: a profile's cost may be fractional.
      m.cycles += costL1;
    }
    m.tlbHits += hits;
    return i;
  }

  /** Everything but an L1 4 KiB hit with sufficient rights: other page sizes, L2, faults, walks. */
  private translateSlow(c: CpuState, l1: Tlb, asid: number, va: number, access: Access, user: boolean, need: number, firstArray: number): number {
    const m = this.metrics;
    let tlb = l1;
    let slot = l1.lookupFrom(va, asid, firstArray);
    if (slot >= 0) {
      m.cycles += this.costL1;
    } else if (c.l2 !== null && (slot = c.l2.lookup(va, asid)) >= 0) {
      tlb = c.l2;
      this.stats.l2Hits++;
      m.cycles += this.costL2;
    }
    if (slot >= 0) {
      const perm = tlb.perm[slot]!;
      if ((perm & need) !== need) {
        const denied = checkPerm(perm, access, user);
        if (denied !== FAULT_NONE) {
          // A page fault invalidates the faulting translation (Intel SDM 4.10.4.1), so a kernel that
          // upgraded the PTE without flushing sees one spurious fault, not an endless loop.
          l1.flushPage(va, asid);
          c.l2?.flushPage(va, asid);
          return this.raise(denied, va, access, user, c.id, asid, -1);
        }
        // Dirty assist: the first write through a clean entry walks to set D in the PTE.
        this.stats.dirtyAssists++;
        return this.walk(c, asid, va, access, user, l1);
      }
      m.tlbHits++;
      const size = tlb.pageSize[tlb.lastArray]!;
      if (tlb !== l1) l1.insert(va, asid, tlb.global[slot] === 1, tlb.frame[slot]!, size, perm);
      return tlb.frame[slot]! * 4096 + (va - Math.floor(va / size) * size);
    }
    m.tlbMisses++;
    if (this.software) return this.raise(FAULT_TLB_REFILL, va, access, user, c.id, asid, -1);
    this.missCpu = c.id;
    this.missAsid = asid;
    this.missVa = va;
    this.missAccess = access;
    this.missL1 = l1.inserts;
    this.missL2 = c.l2 === null ? 0 : c.l2.inserts;
    return this.walk(c, asid, va, access, user, l1);
  }

  /**
   * translate() once more, after a fault handler ran: exactly translate()'s effects and result.
   * When the last miss was this very translation (same CPU, ASID, address and access kind) and
   * neither TLB it probed has had an entry inserted since, its probes would miss again, and a
   * probe that misses changes nothing (replacement state moves only on a hit): so only the miss
   * is counted and the page table walked, which fills the TLBs. Otherwise it is translate().
   * The kernel's access loop calls this to retry an access whose fault was resolved: the
   * handler installed the PTE, and the walk now finds it (one probe of each TLB saved per fault).
   */
  translateAgain(cpu: number, asid: number, va: number, access: Access, user = true): number {
    if (cpu === this.missCpu && asid === this.missAsid && va === this.missVa && access === this.missAccess) {
      const c = this.cpus[cpu]!;
      const l1 = access === ACCESS_EXEC ? c.l1i : c.l1d;
      if (l1.inserts === this.missL1 && (c.l2 === null ? 0 : c.l2.inserts) === this.missL2) {
        this.metrics.tlbMisses++;
        return this.walk(c, asid, va, access, user, l1);
      }
    }
    return this.translate(cpu, asid, va, access, user);
  }

  /** Hardware page walk; on success fills the TLBs and returns the physical address. */
  private walk(c: CpuState, asid: number, va: number, access: Access, user: boolean, l1: Tlb): number {
    const pt = this.spaces[asid];
    if (pt === undefined || va < 0 || va >= this.geometry.maxVa) {
      return this.raise(FAULT_BAD_ADDRESS, va, access, user, c.id, asid, 0);
    }
    this.stats.walks++;
    const m = this.metrics;
    const pool = this.pool;
    const flags = pool.flags;
    const next = pool.next;
    const geo = this.geometry;
    const E = pool.entries;
    const levels = this.levels;
    const invSpan = geo.invSpan;
    const span = geo.entrySpan;
    let t = pt.root;
    let allow = TLB_W | TLB_U | TLB_X;
    // The part of va below the entries walked so far: each level's index is its top bits, one
    // multiply and floor per level (exact: powers of two, integers below 2^53).
    let rest = this.topDown ? va : va - Math.floor(va * geo.invSpan[0]! * geo.invEntries) * span[0]! * E;
    for (let l = 0; l < levels; l++) {
      // The entry's index, below `entries` (an int32: no address is ever put through `| 0`).
      const x = Math.floor(rest * invSpan[l]!) | 0;
      rest -= x * span[l]!;
      const slot = t * E + x;
      const f = flags[slot]!;
      // One memory reference per level, charged once the walk ends (l + 1 references by then).
      if ((f & PTE_PRESENT) === 0) {
        m.walkRefs += l + 1;
        m.cycles += (l + 1) * this.costRef;
        return this.raise(FAULT_NOT_PRESENT, va, access, user, c.id, asid, l);
      }
      // Effective rights: AND of W and U over the levels, OR of NX (Intel SDM 4.6).
      if ((f & PTE_WRITE) === 0) allow &= ~TLB_W;
      if ((f & PTE_USER) === 0) allow &= ~TLB_U;
      if ((f & PTE_NX) !== 0) allow &= ~TLB_X;
      if (l === levels - 1 || (f & PTE_HUGE) !== 0) {
        m.walkRefs += l + 1;
        m.cycles += (l + 1) * this.costRef;
        const denied = checkPerm(allow, access, user);
        if (denied !== FAULT_NONE) return this.raise(denied, va, access, user, c.id, asid, l);
        let nf = f;
        if (this.hwAD) {
          nf |= PTE_ACCESSED;
          if (access === ACCESS_WRITE) nf |= PTE_DIRTY;
          flags[slot] = nf;
        }
        const perm = allow | ((nf & PTE_DIRTY) !== 0 || !this.hwAD ? TLB_D : 0);
        const size = geo.entrySpan[l]!;
        const frame = next[slot]!;
        const global = (f & PTE_GLOBAL) !== 0;
        l1.insert(va, asid, global, frame, size, perm);
        if (c.l2 !== null) c.l2.insert(va, asid, global, frame, size, perm);
        // `rest` is now va's offset inside the page (va - floor(va / size) * size).
        return frame * 4096 + rest;
      }
      if (this.hwAD && (f & PTE_ACCESSED) === 0) flags[slot] = f | PTE_ACCESSED;
      t = next[slot]!;
    }
    return this.raise(FAULT_NOT_PRESENT, va, access, user, c.id, asid, levels - 1);
  }

  private raise(kind: number, va: number, access: Access, user: boolean, cpu: number, asid: number, level: number): number {
    const f = this.fault;
    f.kind = kind;
    f.va = va;
    f.access = access;
    f.user = user;
    f.cpu = cpu;
    f.asid = asid;
    f.level = level;
    return TRANSLATE_FAULT;
  }

  /**
   * The kernel's software TLB refill handler (MIPS): trap, walk the page table in software, write
   * a TLB entry. Returns true if a valid PTE was found and loaded; false means the kernel must treat
   * it as a page fault (TLB invalid exception). Counts the trap and charges its cycles.
   */
  refill(cpu: number, asid: number, va: number, access: Access): boolean {
    const m = this.metrics;
    const costs = this.profile.costs;
    m.traps.tlbRefill++;
    this.stats.refills++;
    m.cycles += costs.trapEntry + costs.trapExit;
    const pt = this.spaces[asid];
    if (pt === undefined) return false;
    const r = pt.lookup(va);
    const refs = r === null ? this.levels : r.level + 1;
    m.walkRefs += refs;
    m.cycles += refs * costs.walkRef;
    if (r === null) return false;
    const f = r.flags;
    const perm = ((f & PTE_WRITE) !== 0 ? TLB_W : 0) | ((f & PTE_USER) !== 0 ? TLB_U : 0) | ((f & PTE_NX) === 0 ? TLB_X : 0) | TLB_D;
    const c = this.cpus[cpu]!;
    const tlb = access === ACCESS_EXEC ? c.l1i : c.l1d;
    tlb.insert(va, asid, (f & PTE_GLOBAL) !== 0, r.frame, r.pageSize, perm);
    return true;
  }

  // ---- invalidation -------------------------------------------------------------------------

  /** Flush one CPU's TLBs of `[va, va+length)` for `asid` (per page up to the ceiling, else the ASID). */
  flushLocal(cpu: number, asid: number, va: number, length: number): void {
    const c = this.cpus[cpu]!;
    const pages = Math.ceil(length / 4096);
    this.metrics.tlbFlushes++;
    this.metrics.cycles += this.profile.costs.tlbFlush;
    if (pages > TLB_SINGLE_PAGE_FLUSH_CEILING) {
      c.l1d.flushAsid(asid);
      c.l1i.flushAsid(asid);
      c.l2?.flushAsid(asid);
      return;
    }
    for (let p = 0; p < pages; p++) {
      const a = va + p * 4096;
      c.l1d.flushPage(a, asid);
      c.l1i.flushPage(a, asid);
      c.l2?.flushPage(a, asid);
    }
  }

  /** Flush every TLB entry of `asid` on one CPU (ASID reuse, or mm teardown). */
  flushAsid(cpu: number, asid: number): void {
    const c = this.cpus[cpu]!;
    c.l1d.flushAsid(asid);
    c.l1i.flushAsid(asid);
    c.l2?.flushAsid(asid);
    this.cpuUsed[asid * this.ncpu + cpu] = c.asid === asid ? 1 : 0;
    this.metrics.tlbFlushes++;
    this.metrics.cycles += this.profile.costs.tlbFlush;
  }

  /** Flush everything, globals included, on one CPU. */
  flushAll(cpu: number): void {
    const c = this.cpus[cpu]!;
    c.l1d.flushAll();
    c.l1i.flushAll();
    c.l2?.flushAll();
    this.metrics.tlbFlushes++;
    this.metrics.cycles += this.profile.costs.tlbFlush;
  }

  /**
   * Invalidate `[va, va+length)` of `asid` on every CPU that may cache it: locally on `initiator`,
   * and by IPI on the others (Linux flush_tlb_mm_range → flush_tlb_multi). arm64 broadcasts TLBI in
   * hardware, so its profile charges no IPI. Returns the number of remote CPUs shot down.
   */
  shootdown(initiator: number, asid: number, va: number, length: number): number {
    this.flushLocal(initiator, asid, va, length);
    let remote = 0;
    for (let cpu = 0; cpu < this.ncpu; cpu++) {
      if (cpu === initiator || this.cpuUsed[asid * this.ncpu + cpu] === 0) continue;
      this.flushLocal(cpu, asid, va, length);
      remote++;
      this.metrics.tlbShootdowns++;
      this.metrics.traps.ipi++;
      this.metrics.cycles += this.profile.costs.shootdownIpi;
    }
    return remote;
  }

  /** Host bytes held by the machine's typed arrays (frames, page-table pool, TLBs). */
  hostBytes(): number {
    let tlbBytes = 0;
    for (const c of this.cpus) {
      for (const t of [c.l1d, c.l1i, c.l2]) if (t) tlbBytes += t.hostBytes();
    }
    return this.frames.hostBytes() + this.pool.hostBytes() + tlbBytes + this.cpuUsed.byteLength;
  }
}

/** The fault an access would take on an entry with cached rights `perm`, or FAULT_NONE. */
function checkPerm(perm: number, access: Access, user: boolean): number {
  if (user && (perm & TLB_U) === 0) return FAULT_USER_PROTECT;
  if (access === ACCESS_WRITE && (perm & TLB_W) === 0) return FAULT_WRITE_PROTECT;
  if (access === ACCESS_EXEC && (perm & TLB_X) === 0) return FAULT_EXEC_PROTECT;
  return FAULT_NONE;
}

