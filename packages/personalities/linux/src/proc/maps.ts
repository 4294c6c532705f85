/**
 * /proc/<pid>/maps, byte for byte (fs/proc/task_mmu.c show_map_vma): "%08lx-%08lx %c%c%c%c %08llx
 * %02x:%02x %lu " then the name padded to column 73 on 64-bit; s/p from VM_MAYSHARE; the offset is
 * pgoff * PAGE_SIZE for file areas and 0 otherwise; [heap] names the area overlapping
 * [start_brk, brk).
 */
import { hexPad } from '@polykernel/core';
import { VM_EXEC, VM_FLAG_MNEMONICS, VM_MAYSHARE, VM_READ, VM_WRITE } from '../flags.js';
import type { MmStruct } from '../mm.js';
import type { VmArea } from '../vma.js';


/**
 * Whether maps names the area [heap]. 6.x: vma_is_initial_heap (include/linux/mm.h, since 6.6) —
 * strictly overlapping [start_brk, brk), so the bss just below and an empty heap are not [heap].
 * 5.15: show_map_vma (fs/proc/task_mmu.c) tests `vm_start <= mm->brk && vm_end >= mm->start_brk`,
 * so an area touching either end is [heap] too.
 */
function isInitialHeap(mm: MmStruct, v: VmArea): boolean {
  if (mm.variant === 'linux-5.15') return v.start <= mm.brk && v.end >= mm.startBrk;
  return v.start < mm.brk && v.end > mm.startBrk;
}

export function mapsLine(mm: MmStruct, v: VmArea): string {
  const perms = ((v.flags & VM_READ) !== 0 ? 'r' : '-') + ((v.flags & VM_WRITE) !== 0 ? 'w' : '-') + ((v.flags & VM_EXEC) !== 0 ? 'x' : '-') + ((v.flags & VM_MAYSHARE) !== 0 ? 's' : 'p');
  const offset = v.file === null ? 0 : v.pgoff * 4096;
  const dev = v.file === null ? '00:00' : `${hexPad(v.file.dev[0], 2)}:${hexPad(v.file.dev[1], 2)}`;
  const ino = v.file === null ? 0 : v.file.ino;
  const prefix = `${hexPad(v.start, 8)}-${hexPad(v.end, 8)} ${perms} ${hexPad(offset, 8)} ${dev} ${ino} `;
  let name = v.file?.path ?? v.name;
  if (name === null && isInitialHeap(mm, v)) name = '[heap]';
  return name === null ? prefix : prefix.padEnd(73) + name;
}

/** x86-64's vsyscall page: not an area of the mm but shown after them (get_gate_vma), execute-only. */
export const GATE_LINE = 'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0'.padEnd(73) + '[vsyscall]';

export function procMaps(mm: MmStruct): string {
  const lines = [...mm.vmas.iterateFrom(0)].map((v) => mapsLine(mm, v) + '\n');
  if (mm.gateArea) lines.push(GATE_LINE + '\n');
  return lines.join('');
}

/** The smaps VmFlags line of an area: each set flag's mnemonic followed by a space, in bit order. */
export function vmFlagsLine(v: VmArea): string {
  let out = 'VmFlags: ';
  let bit = 1;
  for (const name of VM_FLAG_MNEMONICS) {
    if (name !== null && Math.floor(v.flags / bit) % 2 === 1) out += name + ' ';
    bit *= 2;
  }
  // VM_DROPPABLE is bit 40: printed after every flag of the low word.
  return v.droppable ? out + 'dp ' : out;
}

/** Parse a VmFlags line back into vm_flags (for rebuilding a host layout); unknown names throw. */
export function parseVmFlags(line: string): number {
  let flags = 0;
  for (const name of line.replace(/^VmFlags:/, '').trim().split(/\s+/)) {
    if (name === '') continue;
    const bit = VM_FLAG_MNEMONICS.indexOf(name);
    if (bit < 0) throw new RangeError(`VmFlags: "${name}" is not a modelled flag`);
    flags += 2 ** bit;
  }
  return flags;
}
