export { getProfile, profileNames, validateProfile } from './profiles.js';
export type { MachineProfile, TlbSpec, TlbArraySpec, PageTableFormat, CostModel, Replacement } from './profiles.js';
export {
  FrameTable, NO_FRAME, FRAME_SIZE, FRAME_ZEROED, FRAME_DIRTY, FRAME_WIRED, FRAME_PAGETABLE, FRAME_ALLOCATED,
  OWNER_NONE, OWNER_PAGETABLE,
} from './frames.js';
export type { FrameTableOptions, ZeroingPolicy } from './frames.js';
export {
  PageTable, PageTablePool, PageTableGeometry, MAP_OK, MAP_NO_MEMORY, MAP_EXISTS, MAP_BAD_ALIGNMENT,
  PROMOTE_NOT_MAPPED, PROMOTE_ALREADY, PROMOTE_MISALIGNED, PROMOTE_NOT_CONTIGUOUS, PROMOTE_MIXED_FLAGS,
} from './pagetable.js';
export type { PteLookup } from './pagetable.js';
export {
  PTE_PRESENT, PTE_WRITE, PTE_USER, PTE_NX, PTE_ACCESSED, PTE_DIRTY, PTE_GLOBAL, PTE_HUGE, PTE_SW1,
  PTE_SW2, PTE_SW3, PTE_SW4, PTE_COW, ACCESS_READ, ACCESS_WRITE, ACCESS_EXEC, formatPteFlags, accessName,
} from './pte.js';
export type { Access } from './pte.js';
export { Tlb, TLB_W, TLB_X, TLB_U, TLB_D } from './tlb.js';
export {
  Mmu, TRANSLATE_FAULT, FAULT_NONE, FAULT_NOT_PRESENT, FAULT_WRITE_PROTECT, FAULT_EXEC_PROTECT,
  FAULT_USER_PROTECT, FAULT_TLB_REFILL, FAULT_BAD_ADDRESS, FAULT_NAMES, TLB_SINGLE_PAGE_FLUSH_CEILING,
} from './mmu.js';
export type { MmuOptions, FaultRecord, CpuState, MmuStats, FaultName } from './mmu.js';
export { explainTranslation } from './explain.js';
export type { Explanation, ExplainStep } from './explain.js';
