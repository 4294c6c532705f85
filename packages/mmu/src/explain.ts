/**
 * Step-by-step record of one translation, for coursework and the CLI's `explain`: which TLB level
 * was probed and missed, each table index and entry visited with its physical address and flags,
 * and the final frame or fault. The record is built by inspecting the TLBs and tables without side
 * effects, then the real translate() runs and its outcome is attached, so the two cannot disagree
 * silently (the tests check that they agree).
 */
import { formatProt, hex0x } from '@polykernel/core';
import { FAULT_NAMES, TRANSLATE_FAULT, type Mmu } from './mmu.js';
import { accessName, formatPteFlags, PTE_HUGE, PTE_PRESENT, type Access } from './pte.js';
import { TLB_W, TLB_X, type Tlb } from './tlb.js';

export type ExplainStep =
  | { kind: 'tlb'; tlb: string; result: 'hit' | 'miss'; pageSize?: number; set?: number; frame?: number; rights?: string }
  | { kind: 'walk'; level: number; levelName: string; index: number; entryAddress: number; flags: string; present: boolean; leaf: boolean; next: number }
  | { kind: 'software-refill'; note: string };

export interface Explanation {
  cpu: number;
  asid: number;
  va: number;
  access: 'read' | 'write' | 'exec';
  steps: ExplainStep[];
  /** Physical address, or null on a fault. */
  pa: number | null;
  fault: string | null;
  text: string;
}

const LEVEL_NAMES: Record<number, string[]> = {
  2: ['PGD', 'PTE'],
  4: ['PML4', 'PDPT', 'PD', 'PT'],
  5: ['PML5', 'PML4', 'PDPT', 'PD', 'PT'],
};

function probe(tlb: Tlb, va: number, asid: number): ExplainStep {
  const slot = tlb.peek(va, asid);
  if (slot < 0) return { kind: 'tlb', tlb: tlb.name, result: 'miss' };
  const size = tlb.pageSize[tlb.lastArray]!;
  const p = tlb.perm[slot]!;
  return {
    kind: 'tlb', tlb: tlb.name, result: 'hit', pageSize: size, set: tlb.setIndex(va, tlb.lastArray),
    frame: tlb.frame[slot]!, rights: formatProt(1 | ((p & TLB_W) !== 0 ? 2 : 0) | ((p & TLB_X) !== 0 ? 4 : 0)),
  };
}

/** Explain, then perform, one translation. */
export function explainTranslation(mmu: Mmu, cpu: number, asid: number, va: number, access: Access, user = true): Explanation {
  const c = mmu.cpus[cpu]!;
  const steps: ExplainStep[] = [];
  const l1 = access === 2 ? c.l1i : c.l1d;
  const first = probe(l1, va, asid);
  steps.push(first);
  let hit = first.kind === 'tlb' && first.result === 'hit';
  if (!hit && c.l2 !== null) {
    const second = probe(c.l2, va, asid);
    steps.push(second);
    hit = second.kind === 'tlb' && second.result === 'hit';
  }
  if (!hit) {
    if (mmu.profile.softwareTlb) steps.push({ kind: 'software-refill', note: 'TLB miss traps to the kernel, whose refill handler walks the page table' });
    walkSteps(mmu, asid, va, steps);
  }
  const pa = mmu.translate(cpu, asid, va, access, user);
  const fault = pa === TRANSLATE_FAULT ? FAULT_NAMES[mmu.fault.kind] ?? 'unknown' : null;
  const result: Explanation = { cpu, asid, va, access: accessName(access), steps, pa: pa === TRANSLATE_FAULT ? null : pa, fault, text: '' };
  result.text = renderExplanation(result, mmu);
  return result;
}

function walkSteps(mmu: Mmu, asid: number, va: number, steps: ExplainStep[]): void {
  const pt = mmu.pageTableOf(asid);
  if (pt === undefined) return;
  const geo = mmu.geometry;
  const pool = mmu.pool;
  const names = LEVEL_NAMES[geo.levels] ?? Array.from({ length: geo.levels }, (_, i) => `L${i}`);
  let t = pt.root;
  for (let l = 0; l < geo.levels; l++) {
    const index = geo.index(va, l);
    const slot = t * pool.entries + index;
    const f = pool.flags[slot]!;
    const present = (f & PTE_PRESENT) !== 0;
    const leaf = present && (l === geo.levels - 1 || (f & PTE_HUGE) !== 0);
    steps.push({
      kind: 'walk', level: l, levelName: names[l] ?? `L${l}`, index,
      entryAddress: pool.tableFrame[t]! * 4096 + index * geo.format.entryBytes,
      flags: formatPteFlags(f), present, leaf, next: pool.next[slot]!,
    });
    if (!present || leaf) return;
    t = pool.next[slot]!;
  }
}

function renderExplanation(e: Explanation, mmu: Mmu): string {
  const lines = [`${e.access} of ${hex0x(e.va)} on CPU ${e.cpu}, ASID ${e.asid} (${mmu.profile.name})`];
  for (const s of e.steps) {
    if (s.kind === 'tlb') {
      lines.push(s.result === 'hit'
        ? `  ${s.tlb}: hit in set ${s.set ?? 0} (${(s.pageSize ?? 0) / 1024} KiB page, frame ${hex0x(s.frame ?? 0)}, ${s.rights ?? ''})`
        : `  ${s.tlb}: miss`);
    } else if (s.kind === 'software-refill') {
      lines.push(`  ${s.note}`);
    } else {
      const what = !s.present ? 'not present' : s.leaf ? `leaf -> frame ${hex0x(s.next)}` : `-> table`;
      lines.push(`  ${s.levelName}[${s.index}] at ${hex0x(s.entryAddress)}: ${s.flags}: ${what}`);
    }
  }
  lines.push(e.pa !== null ? `  => physical ${hex0x(e.pa)}` : `  => fault: ${e.fault ?? ''}`);
  return lines.join('\n');
}
