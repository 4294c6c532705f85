/**
 * Machine profiles: the hardware as data. Each profile names its page-table format and geometry,
 * its TLBs, its ASID width and the cycle costs of the operations the simulation charges.
 * Personalities and apps pick a profile by name; nothing in the engine branches on the name.
 */
import { PAGE_SIZE_1G, PAGE_SIZE_2M, PAGE_SIZE_4K } from '@polykernel/core';

export type Replacement = 'lru' | 'fifo' | 'plru' | 'random';

/** One set-associative array of TLB entries holding one page size. */
export interface TlbArraySpec {
  pageSize: number;
  entries: number;
  /** Associativity; `ways === entries` is fully associative. */
  ways: number;
}

/** One TLB (a level, for one kind of access), made of one array per page size it holds. */
export interface TlbSpec {
  name: string;
  arrays: TlbArraySpec[];
  replacement: Replacement;
}

export interface PageTableFormat {
  /** Name of the format, for display ("x86-64 4-level", "arm64 4K granule", "MIPS32 2-level"). */
  name: string;
  /** Bits of virtual address translated (47/48 for 4-level, 57 for LA57; addresses stay < 2^53). */
  vaBits: number;
  /** Index bits per level (9 for x86-64/arm64 4K granule, 10 for MIPS32's 4 KiB tables of 4-byte PTEs). */
  bitsPerLevel: number;
  /** Levels from the root down; the last level maps 4 KiB pages. */
  levels: number;
  /** Page sizes a leaf may map, smallest first (4K, and 2M/1G where the format has huge leaves). */
  pageSizes: number[];
  /** Bytes per page-table entry (8 on x86-64/arm64, 4 on MIPS32). */
  entryBytes: number;
}

export interface CostModel {
  /** Cycles added by an L1 TLB hit (0: hidden in the load pipeline). */
  tlbL1Hit: number;
  /** Cycles for a miss in L1 that hits the L2 TLB. */
  tlbL2Hit: number;
  /** Cycles per memory reference made by the page walk. */
  walkRef: number;
  /** Trap entry and exit (a fault, a syscall, a software TLB refill exception). */
  trapEntry: number;
  trapExit: number;
  /** Zeroing and copying one 4 KiB page. */
  zeroPage: number;
  copyPage: number;
  /** One TLB shootdown IPI to one remote CPU (send, remote flush, ack). */
  shootdownIpi: number;
  /** Flushing a TLB locally (by ASID or all). */
  tlbFlush: number;
  /**
   * One node of a kernel's address-space index visited (a VMA, vm_map entry or VAD lookup, gap
   * search or insert): a dependent load of kernel metadata, charged by the kernel for every node
   * its index reports. Absent or 0: visits are counted but not charged.
   */
  indexNode?: number;
}

export interface MachineProfile {
  name: string;
  description: string;
  /** Where the cost figures come from. */
  calibration: string;
  pageTable: PageTableFormat;
  /** TLBs per CPU. `l1i`/`l1d` are looked up first by instruction fetches / data accesses; `l2` after either misses. */
  tlb: { l1d: TlbSpec; l1i: TlbSpec; l2: TlbSpec | null };
  /** Width of the address-space tag (PCID on x86-64, ASID on arm64/MIPS). */
  asidBits: number;
  /** A miss traps to the kernel, which refills the TLB (MIPS), instead of a hardware walk. */
  softwareTlb: boolean;
  /** The hardware sets accessed/dirty bits in the page table (x86-64; arm64 with FEAT_HAFDBS). */
  hardwareAccessedDirty: boolean;
  cpus: number;
  hz: number;
  costs: CostModel;
}

/**
 * x86-64, modelled on Intel Skylake's TLBs (split L1 dTLB/iTLB per page size, unified 12-way
 * STLB for 4K+2M), 4-level paging, PCID 12 bits. Costs calibrated on the development host (an AMD
 * Zen 4 KVM guest, docs/host-costs.md) at a nominal 3 GHz: an STLB hit adds ≈ 2 ns,
 * zeroing 4 KiB ≈ 0.3 µs, copying ≈ 0.45 µs, a syscall round trip ≈ 140 ns, an index node (a
 * dependent load that hits L2, 3.8 ns) ≈ 11 cycles.
 */
const x86_64: MachineProfile = {
  name: 'x86-64',
  description: 'x86-64, 4-level paging (48-bit VA), 4K/2M/1G pages, PCID, Skylake-like split L1 + unified STLB',
  calibration: 'host-costs.md (Zen 4 KVM guest), 3 GHz nominal',
  pageTable: { name: 'x86-64 4-level', vaBits: 48, bitsPerLevel: 9, levels: 4, pageSizes: [PAGE_SIZE_4K, PAGE_SIZE_2M, PAGE_SIZE_1G], entryBytes: 8 },
  tlb: {
    l1d: {
      name: 'L1 dTLB',
      replacement: 'plru',
      arrays: [
        { pageSize: PAGE_SIZE_4K, entries: 64, ways: 4 },
        { pageSize: PAGE_SIZE_2M, entries: 32, ways: 4 },
        { pageSize: PAGE_SIZE_1G, entries: 4, ways: 4 },
      ],
    },
    l1i: {
      name: 'L1 iTLB',
      replacement: 'plru',
      arrays: [
        { pageSize: PAGE_SIZE_4K, entries: 128, ways: 8 },
        { pageSize: PAGE_SIZE_2M, entries: 8, ways: 8 },
      ],
    },
    l2: {
      name: 'STLB',
      replacement: 'lru',
      arrays: [
        { pageSize: PAGE_SIZE_4K, entries: 1536, ways: 12 },
        { pageSize: PAGE_SIZE_2M, entries: 1536, ways: 12 },
        { pageSize: PAGE_SIZE_1G, entries: 16, ways: 4 },
      ],
    },
  },
  asidBits: 12,
  softwareTlb: false,
  hardwareAccessedDirty: true,
  cpus: 2,
  hz: 3_000_000_000,
  costs: { tlbL1Hit: 0, tlbL2Hit: 6, walkRef: 25, trapEntry: 200, trapExit: 150, zeroPage: 900, copyPage: 1350, shootdownIpi: 4000, tlbFlush: 100, indexNode: 11 },
};

/** x86-64 with 5-level paging (LA57). Addresses above 2^53 cannot be represented and are refused. */
const x86_64_la57: MachineProfile = {
  ...x86_64,
  name: 'x86-64-la57',
  description: 'x86-64 with 5-level paging (LA57, 57-bit VA; addresses limited to 2^53 in the simulation)',
  pageTable: { ...x86_64.pageTable, name: 'x86-64 5-level (LA57)', vaBits: 57, levels: 5 },
};

/**
 * ARM Cortex-A72 (Raspberry Pi 4): 4K granule, 4 levels (48-bit VA), 2M/1G block descriptors,
 * 16-bit ASIDs. 48-entry fully associative L1 iTLB, 32-entry fully associative L1 dTLB, 1024-entry
 * 4-way unified L2 TLB (Cortex-A72 TRM). 1.5 GHz; costs scaled from the x86-64 figures to the
 * slower memory system (estimates, not measured on a Pi).
 */
const arm64_a72: MachineProfile = {
  name: 'arm64-a72',
  description: 'ARM Cortex-A72 (Raspberry Pi 4), 4K granule, 4 levels, 2M/1G blocks, 16-bit ASIDs',
  calibration: 'Cortex-A72 TRM geometry; costs estimated (not measured on a Pi)',
  pageTable: { name: 'arm64 4K granule', vaBits: 48, bitsPerLevel: 9, levels: 4, pageSizes: [PAGE_SIZE_4K, PAGE_SIZE_2M, PAGE_SIZE_1G], entryBytes: 8 },
  tlb: {
    l1d: { name: 'L1 dTLB', replacement: 'lru', arrays: [{ pageSize: PAGE_SIZE_4K, entries: 32, ways: 32 }, { pageSize: PAGE_SIZE_2M, entries: 32, ways: 32 }] },
    l1i: { name: 'L1 iTLB', replacement: 'lru', arrays: [{ pageSize: PAGE_SIZE_4K, entries: 48, ways: 48 }, { pageSize: PAGE_SIZE_2M, entries: 48, ways: 48 }] },
    l2: {
      name: 'L2 TLB',
      replacement: 'lru',
      arrays: [
        { pageSize: PAGE_SIZE_4K, entries: 1024, ways: 4 },
        { pageSize: PAGE_SIZE_2M, entries: 1024, ways: 4 },
        { pageSize: PAGE_SIZE_1G, entries: 16, ways: 16 },
      ],
    },
  },
  asidBits: 16,
  softwareTlb: false,
  hardwareAccessedDirty: true,
  cpus: 4,
  hz: 1_500_000_000,
  costs: { tlbL1Hit: 0, tlbL2Hit: 7, walkRef: 40, trapEntry: 150, trapExit: 120, zeroPage: 1100, copyPage: 1800, shootdownIpi: 0, tlbFlush: 60, indexNode: 21 },
};

/**
 * A software-managed TLB in the style of MIPS R4000: one 48-entry fully associative joint TLB with
 * random replacement (the Random register), 8-bit ASIDs; a miss raises a TLB refill exception and
 * the kernel's refill handler walks its own two-level page table (MIPS32 Linux: 1024-entry PGD and
 * PTE tables of 4-byte entries) and writes the entry. Simplified: one page per entry instead of the
 * even/odd page pair, and no huge pages.
 */
const mips_swtlb: MachineProfile = {
  name: 'mips-swtlb',
  description: 'MIPS R4000-style software-managed TLB: 48 entries, random replacement, 8-bit ASIDs, refill trap',
  calibration: 'R4000 geometry; refill handler ≈ 20 instructions; costs estimated',
  pageTable: { name: 'MIPS32 2-level (software)', vaBits: 31, bitsPerLevel: 10, levels: 2, pageSizes: [PAGE_SIZE_4K], entryBytes: 4 },
  tlb: {
    l1d: { name: 'JTLB', replacement: 'random', arrays: [{ pageSize: PAGE_SIZE_4K, entries: 48, ways: 48 }] },
    l1i: { name: 'JTLB', replacement: 'random', arrays: [{ pageSize: PAGE_SIZE_4K, entries: 48, ways: 48 }] },
    l2: null,
  },
  asidBits: 8,
  softwareTlb: true,
  hardwareAccessedDirty: false,
  cpus: 1,
  hz: 100_000_000,
  costs: { tlbL1Hit: 0, tlbL2Hit: 0, walkRef: 4, trapEntry: 10, trapExit: 6, zeroPage: 1100, copyPage: 2100, shootdownIpi: 0, tlbFlush: 48, indexNode: 4 },
};

const PROFILES: Record<string, MachineProfile> = {
  'x86-64': x86_64,
  'x86-64-la57': x86_64_la57,
  'arm64-a72': arm64_a72,
  'mips-swtlb': mips_swtlb,
};

/** Names of the shipped profiles. */
export function profileNames(): string[] {
  return Object.keys(PROFILES);
}

/** A deep copy of a shipped profile, to use or modify. Throws for an unknown name. */
export function getProfile(name: string): MachineProfile {
  const p = PROFILES[name];
  if (p === undefined) throw new RangeError(`unknown machine profile '${name}' (known: ${profileNames().join(', ')})`);
  return structuredClone(p);
}

/** Check a (possibly user-edited) profile; returns a list of problems, empty when valid. */
export function validateProfile(p: MachineProfile): string[] {
  const problems: string[] = [];
  const pt = p.pageTable;
  if (pt.levels < 1 || pt.levels > 6) problems.push(`pageTable.levels ${pt.levels} not in 1..6`);
  if (pt.bitsPerLevel < 1 || pt.bitsPerLevel > 12) problems.push(`pageTable.bitsPerLevel ${pt.bitsPerLevel} not in 1..12`);
  if (12 + pt.levels * pt.bitsPerLevel < Math.min(pt.vaBits, 53)) problems.push('pageTable levels x bitsPerLevel do not cover vaBits');
  for (const size of pt.pageSizes) {
    const shift = Math.log2(size);
    if (!Number.isInteger(shift) || (shift - 12) % pt.bitsPerLevel !== 0) problems.push(`page size ${size} is not a leaf size of this format`);
  }
  if (p.asidBits < 0 || p.asidBits > 16) problems.push(`asidBits ${p.asidBits} not in 0..16`);
  if (p.cpus < 1 || p.cpus > 256) problems.push(`cpus ${p.cpus} not in 1..256`);
  for (const t of [p.tlb.l1d, p.tlb.l1i, ...(p.tlb.l2 ? [p.tlb.l2] : [])]) {
    for (const a of t.arrays) {
      if (a.entries < 1 || a.ways < 1 || a.entries % a.ways !== 0) problems.push(`${t.name}: entries ${a.entries} not a multiple of ways ${a.ways}`);
      const sets = a.entries / a.ways;
      if (!Number.isInteger(Math.log2(sets))) problems.push(`${t.name}: set count ${sets} is not a power of two`);
      if (t.replacement === 'plru' && !Number.isInteger(Math.log2(a.ways))) problems.push(`${t.name}: tree-PLRU needs power-of-two ways, got ${a.ways}`);
      if (!pt.pageSizes.includes(a.pageSize)) problems.push(`${t.name}: page size ${a.pageSize} not mapped by the page-table format`);
    }
  }
  return problems;
}
