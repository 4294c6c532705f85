/**
 * e_flags as readelf decodes them (binutils readelf.c get_machine_flags) for the machines whose
 * flags carry ABI information: ARM (EABI version, float ABI), RISC-V (RVC, float ABI, RVE, TSO),
 * PowerPC, MIPS (basic). Others print just the number.
 */
import { EM_ARM, EM_MIPS, EM_PPC, EM_RISCV } from './constants.js';

export function machineFlagNames(machine: number, flags: number): string[] {
  switch (machine) {
    case EM_ARM: return armFlags(flags);
    case EM_RISCV: return riscvFlags(flags);
    case EM_PPC: return ppcFlags(flags);
    case EM_MIPS: return mipsFlags(flags);
    default: return [];
  }
}

function armFlags(flags: number): string[] {
  const version = Math.floor(flags / 0x1000000);
  const out: string[] = [];
  if (version === 5) {
    out.push('Version5 EABI');
    if ((flags & 0x200) !== 0) out.push('soft-float ABI');
    if ((flags & 0x400) !== 0) out.push('hard-float ABI');
    if ((flags & 0x800000) !== 0) out.push('BE8');
    if ((flags & 0x400000) !== 0) out.push('LE8');
  } else if (version === 4) {
    out.push('Version4 EABI');
  } else if (version === 0) {
    out.push('GNU EABI');
  } else {
    out.push('<Unrecognised EABI>');
  }
  return out;
}

function riscvFlags(flags: number): string[] {
  const out: string[] = [];
  if ((flags & 0x1) !== 0) out.push('RVC');
  const fabi = flags & 0x6;
  out.push(fabi === 0 ? 'soft-float ABI' : fabi === 2 ? 'single-float ABI' : fabi === 4 ? 'double-float ABI' : 'quad-float ABI');
  if ((flags & 0x8) !== 0) out.push('RVE');
  if ((flags & 0x10) !== 0) out.push('TSO');
  return out;
}

function ppcFlags(flags: number): string[] {
  const out: string[] = [];
  if (flags >= 0x80000000) out.push('emb');
  if ((flags & 0x10000) !== 0) out.push('relocatable');
  if ((flags & 0x8000) !== 0) out.push('relocatable-lib');
  return out;
}

function mipsFlags(flags: number): string[] {
  const out: string[] = [];
  if ((flags & 0x1) !== 0) out.push('noreorder');
  if ((flags & 0x2) !== 0) out.push('pic');
  if ((flags & 0x4) !== 0) out.push('cpic');
  return out;
}
