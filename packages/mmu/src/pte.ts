/**
 * Page-table entry flag bits as stored in the simulation's entry-flag array (16 bits per entry).
 * These are small flag values, so bitwise operators are fine. The frame number lives in a separate
 * array, so the layout does not mimic any one architecture's bit positions; the meanings follow
 * x86-64 (P, R/W, U/S, XD, A, D, G, PS) with arm64/MIPS equivalents noted.
 */
export const PTE_PRESENT = 0x1; // x86 P; arm64 valid; MIPS V
export const PTE_WRITE = 0x2; // x86 R/W; arm64 !AP[2]; MIPS D ("dirty" = writable)
export const PTE_USER = 0x4; // x86 U/S; arm64 AP[1]
export const PTE_NX = 0x8; // x86 XD; arm64 UXN/PXN
export const PTE_ACCESSED = 0x10; // x86 A; arm64 AF
export const PTE_DIRTY = 0x20; // x86 D; arm64 DBM-managed
export const PTE_GLOBAL = 0x40; // x86 G; arm64 !nG; MIPS G
export const PTE_HUGE = 0x80; // leaf above the last level (x86 PS; arm64 block descriptor)
/** Software bits for the kernel's own use (COW marker, special mappings, ...). */
export const PTE_SW1 = 0x100;
export const PTE_SW2 = 0x200;
export const PTE_SW3 = 0x400;
export const PTE_SW4 = 0x800;
/** Conventional use of PTE_SW1 by personalities: the page is copy-on-write. */
export const PTE_COW = PTE_SW1;

/** Access kinds for translate(). */
export const ACCESS_READ = 0;
export const ACCESS_WRITE = 1;
export const ACCESS_EXEC = 2;
export type Access = typeof ACCESS_READ | typeof ACCESS_WRITE | typeof ACCESS_EXEC;

/** Format flags like `P W U NX A D G PS sw1` for explanations. */
export function formatPteFlags(flags: number): string {
  const names: [number, string][] = [
    [PTE_PRESENT, 'P'], [PTE_WRITE, 'W'], [PTE_USER, 'U'], [PTE_NX, 'NX'], [PTE_ACCESSED, 'A'],
    [PTE_DIRTY, 'D'], [PTE_GLOBAL, 'G'], [PTE_HUGE, 'PS'], [PTE_SW1, 'sw1'], [PTE_SW2, 'sw2'],
    [PTE_SW3, 'sw3'], [PTE_SW4, 'sw4'],
  ];
  const out = names.filter(([bit]) => (flags & bit) !== 0).map(([, n]) => n);
  return out.length === 0 ? '-' : out.join(' ');
}

export function accessName(access: Access): 'read' | 'write' | 'exec' {
  return access === ACCESS_WRITE ? 'write' : access === ACCESS_EXEC ? 'exec' : 'read';
}
