/**
 * Memory protections as a 3-bit set. These are small flag values (never addresses), so bitwise
 * operators are fine here.
 */
export const PROT_NONE = 0;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const PROT_EXEC = 4;

/** A protection: any combination of PROT_READ, PROT_WRITE and PROT_EXEC (0..7). */
export type Prot = number;

/** Format as the three letters kernel tools print: 7 -> "rwx", 5 -> "r-x", 0 -> "---". */
export function formatProt(prot: Prot): string {
  return (prot & PROT_READ ? 'r' : '-') + (prot & PROT_WRITE ? 'w' : '-') + (prot & PROT_EXEC ? 'x' : '-');
}

/**
 * Parse "rwx"-style text: exactly three positions, each its letter or '-'
 * ("r-x", "rw-", "---"). Returns undefined for anything else.
 */
export function parseProt(text: string): Prot | undefined {
  if (text.length !== 3) return undefined;
  const letters = ['r', 'w', 'x'];
  let prot = 0;
  for (let i = 0; i < 3; i++) {
    const c = text[i];
    if (c === letters[i]) prot |= 1 << i;
    else if (c !== '-') return undefined;
  }
  return prot;
}

/** True when `granted` allows everything in `wanted`. */
export function protAllows(granted: Prot, wanted: Prot): boolean {
  return (granted & wanted) === wanted;
}
