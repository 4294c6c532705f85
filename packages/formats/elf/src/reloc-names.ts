/**
 * Relocation type names per machine, as readelf prints them (binutils include/elf/{x86-64,i386,
 * aarch64,arm,riscv,ppc,s390}.h). Unknown numbers are kept and shown as `R_<ARCH>_<n>`.
 */
import { EM_386, EM_AARCH64, EM_ARM, EM_PPC, EM_RISCV, EM_S390, EM_X86_64 } from './constants.js';

function table(prefix: string, entries: Record<number, string>): Map<number, string> {
  return new Map(Object.entries(entries).map(([k, v]) => [Number(k), prefix + v]));
}

const X86_64 = table('R_X86_64_', {
  0: 'NONE', 1: '64', 2: 'PC32', 3: 'GOT32', 4: 'PLT32', 5: 'COPY', 6: 'GLOB_DAT', 7: 'JUMP_SLOT', 8: 'RELATIVE',
  9: 'GOTPCREL', 10: '32', 11: '32S', 12: '16', 13: 'PC16', 14: '8', 15: 'PC8', 16: 'DTPMOD64', 17: 'DTPOFF64',
  18: 'TPOFF64', 19: 'TLSGD', 20: 'TLSLD', 21: 'DTPOFF32', 22: 'GOTTPOFF', 23: 'TPOFF32', 24: 'PC64',
  25: 'GOTOFF64', 26: 'GOTPC32', 27: 'GOT64', 28: 'GOTPCREL64', 29: 'GOTPC64', 30: 'GOTPLT64', 31: 'PLTOFF64',
  32: 'SIZE32', 33: 'SIZE64', 34: 'GOTPC32_TLSDESC', 35: 'TLSDESC_CALL', 36: 'TLSDESC', 37: 'IRELATIVE',
  38: 'RELATIVE64', 41: 'GOTPCRELX', 42: 'REX_GOTPCRELX',
});

const I386 = table('R_386_', {
  0: 'NONE', 1: '32', 2: 'PC32', 3: 'GOT32', 4: 'PLT32', 5: 'COPY', 6: 'GLOB_DAT', 7: 'JUMP_SLOT', 8: 'RELATIVE',
  9: 'GOTOFF', 10: 'GOTPC', 11: '32PLT', 14: 'TLS_TPOFF', 15: 'TLS_IE', 16: 'TLS_GOTIE', 17: 'TLS_LE',
  18: 'TLS_GD', 19: 'TLS_LDM', 20: '16', 21: 'PC16', 22: '8', 23: 'PC8', 24: 'TLS_GD_32', 25: 'TLS_GD_PUSH',
  26: 'TLS_GD_CALL', 27: 'TLS_GD_POP', 28: 'TLS_LDM_32', 29: 'TLS_LDM_PUSH', 30: 'TLS_LDM_CALL',
  31: 'TLS_LDM_POP', 32: 'TLS_LDO_32', 33: 'TLS_IE_32', 34: 'TLS_LE_32', 35: 'TLS_DTPMOD32',
  36: 'TLS_DTPOFF32', 37: 'TLS_TPOFF32', 38: 'SIZE32', 39: 'TLS_GOTDESC', 40: 'TLS_DESC_CALL', 41: 'TLS_DESC',
  42: 'IRELATIVE', 43: 'GOT32X',
});

const AARCH64 = table('R_AARCH64_', {
  0: 'NONE', 257: 'ABS64', 258: 'ABS32', 259: 'ABS16', 260: 'PREL64', 261: 'PREL32', 262: 'PREL16',
  263: 'MOVW_UABS_G0', 264: 'MOVW_UABS_G0_NC', 265: 'MOVW_UABS_G1', 266: 'MOVW_UABS_G1_NC',
  267: 'MOVW_UABS_G2', 268: 'MOVW_UABS_G2_NC', 269: 'MOVW_UABS_G3', 270: 'MOVW_SABS_G0', 271: 'MOVW_SABS_G1',
  272: 'MOVW_SABS_G2', 273: 'LD_PREL_LO19', 274: 'ADR_PREL_LO21', 275: 'ADR_PREL_PG_HI21',
  276: 'ADR_PREL_PG_HI21_NC', 277: 'ADD_ABS_LO12_NC', 278: 'LDST8_ABS_LO12_NC', 279: 'TSTBR14', 280: 'CONDBR19',
  282: 'JUMP26', 283: 'CALL26', 284: 'LDST16_ABS_LO12_NC', 285: 'LDST32_ABS_LO12_NC', 286: 'LDST64_ABS_LO12_NC',
  299: 'LDST128_ABS_LO12_NC', 309: 'GOT_LD_PREL19', 311: 'ADR_GOT_PAGE', 312: 'LD64_GOT_LO12_NC',
  313: 'LD64_GOTPAGE_LO15', 512: 'TLSGD_ADR_PREL21', 513: 'TLSGD_ADR_PAGE21', 514: 'TLSGD_ADD_LO12_NC',
  541: 'TLSIE_ADR_GOTTPREL_PAGE21', 542: 'TLSIE_LD64_GOTTPREL_LO12_NC', 549: 'TLSLE_ADD_TPREL_HI12',
  550: 'TLSLE_ADD_TPREL_LO12', 551: 'TLSLE_ADD_TPREL_LO12_NC', 560: 'TLSDESC_LD_PREL19',
  561: 'TLSDESC_ADR_PREL21', 562: 'TLSDESC_ADR_PAGE21', 563: 'TLSDESC_LD64_LO12', 564: 'TLSDESC_ADD_LO12',
  569: 'TLSDESC_CALL', 1024: 'COPY', 1025: 'GLOB_DAT', 1026: 'JUMP_SLOT', 1027: 'RELATIVE',
  1028: 'TLS_DTPMOD64', 1029: 'TLS_DTPREL64', 1030: 'TLS_TPREL64', 1031: 'TLSDESC', 1032: 'IRELATIVE',
});

const ARM = table('R_ARM_', {
  0: 'NONE', 1: 'PC24', 2: 'ABS32', 3: 'REL32', 4: 'LDR_PC_G0', 5: 'ABS16', 6: 'ABS12', 7: 'THM_ABS5',
  8: 'ABS8', 9: 'SBREL32', 10: 'THM_CALL', 11: 'THM_PC8', 12: 'BREL_ADJ', 13: 'TLS_DESC', 17: 'TLS_DTPMOD32',
  18: 'TLS_DTPOFF32', 19: 'TLS_TPOFF32', 20: 'COPY', 21: 'GLOB_DAT', 22: 'JUMP_SLOT', 23: 'RELATIVE',
  24: 'GOTOFF32', 25: 'BASE_PREL', 26: 'GOT_BREL', 27: 'PLT32', 28: 'CALL', 29: 'JUMP24', 30: 'THM_JUMP24',
  31: 'BASE_ABS', 38: 'TARGET1', 40: 'V4BX', 41: 'TARGET2', 42: 'PREL31', 43: 'MOVW_ABS_NC', 44: 'MOVT_ABS',
  45: 'MOVW_PREL_NC', 46: 'MOVT_PREL', 47: 'THM_MOVW_ABS_NC', 48: 'THM_MOVT_ABS', 49: 'THM_MOVW_PREL_NC',
  50: 'THM_MOVT_PREL', 51: 'THM_JUMP19', 96: 'GOT_PREL', 102: 'THM_JUMP11', 103: 'THM_JUMP8',
  104: 'TLS_GD32', 105: 'TLS_LDM32', 106: 'TLS_LDO32', 107: 'TLS_IE32', 108: 'TLS_LE32', 160: 'IRELATIVE',
});

const RISCV = table('R_RISCV_', {
  0: 'NONE', 1: '32', 2: '64', 3: 'RELATIVE', 4: 'COPY', 5: 'JUMP_SLOT', 6: 'TLS_DTPMOD32', 7: 'TLS_DTPMOD64',
  8: 'TLS_DTPREL32', 9: 'TLS_DTPREL64', 10: 'TLS_TPREL32', 11: 'TLS_TPREL64', 12: 'TLSDESC', 16: 'BRANCH',
  17: 'JAL', 18: 'CALL', 19: 'CALL_PLT', 20: 'GOT_HI20', 21: 'TLS_GOT_HI20', 22: 'TLS_GD_HI20',
  23: 'PCREL_HI20', 24: 'PCREL_LO12_I', 25: 'PCREL_LO12_S', 26: 'HI20', 27: 'LO12_I', 28: 'LO12_S',
  29: 'TPREL_HI20', 30: 'TPREL_LO12_I', 31: 'TPREL_LO12_S', 32: 'TPREL_ADD', 33: 'ADD8', 34: 'ADD16',
  35: 'ADD32', 36: 'ADD64', 37: 'SUB8', 38: 'SUB16', 39: 'SUB32', 40: 'SUB64', 41: 'GOT32_PCREL', 43: 'ALIGN',
  44: 'RVC_BRANCH', 45: 'RVC_JUMP', 51: 'RELAX', 52: 'SUB6', 53: 'SET6', 54: 'SET8', 55: 'SET16', 56: 'SET32',
  57: '32_PCREL', 58: 'IRELATIVE', 59: 'PLT32', 60: 'SET_ULEB128', 61: 'SUB_ULEB128',
});

const PPC = table('R_PPC_', {
  0: 'NONE', 1: 'ADDR32', 2: 'ADDR24', 3: 'ADDR16', 4: 'ADDR16_LO', 5: 'ADDR16_HI', 6: 'ADDR16_HA', 7: 'ADDR14',
  10: 'REL24', 11: 'REL14', 14: 'GOT16', 18: 'PLTREL24', 19: 'COPY', 20: 'GLOB_DAT', 21: 'JMP_SLOT',
  22: 'RELATIVE', 23: 'LOCAL24PC', 26: 'REL32', 249: 'REL16', 250: 'REL16_LO', 251: 'REL16_HI', 252: 'REL16_HA',
});

/** s390 and s390x (binutils include/elf/s390.h): R_390_*, 0 to 65. */
const S390 = table('R_390_', { 0: 'NONE', 1: '8', 2: '12', 3: '16', 4: '32', 5: 'PC32', 6: 'GOT12', 7: 'GOT32', 8: 'PLT32', 9: 'COPY', 10: 'GLOB_DAT', 11: 'JMP_SLOT', 12: 'RELATIVE', 13: 'GOTOFF32', 14: 'GOTPC', 15: 'GOT16', 16: 'PC16', 17: 'PC16DBL', 18: 'PLT16DBL', 19: 'PC32DBL', 20: 'PLT32DBL', 21: 'GOTPCDBL', 22: '64', 23: 'PC64', 24: 'GOT64', 25: 'PLT64', 26: 'GOTENT', 27: 'GOTOFF16', 28: 'GOTOFF64', 29: 'GOTPLT12', 30: 'GOTPLT16', 31: 'GOTPLT32', 32: 'GOTPLT64', 33: 'GOTPLTENT', 34: 'PLTOFF16', 35: 'PLTOFF32', 36: 'PLTOFF64', 37: 'TLS_LOAD', 38: 'TLS_GDCALL', 39: 'TLS_LDCALL', 40: 'TLS_GD32', 41: 'TLS_GD64', 42: 'TLS_GOTIE12', 43: 'TLS_GOTIE32', 44: 'TLS_GOTIE64', 45: 'TLS_LDM32', 46: 'TLS_LDM64', 47: 'TLS_IE32', 48: 'TLS_IE64', 49: 'TLS_IEENT', 50: 'TLS_LE32', 51: 'TLS_LE64', 52: 'TLS_LDO32', 53: 'TLS_LDO64', 54: 'TLS_DTPMOD', 55: 'TLS_DTPOFF', 56: 'TLS_TPOFF', 57: '20', 58: 'GOT20', 59: 'GOTPLT20', 60: 'TLS_GOTIE20', 61: 'IRELATIVE', 62: 'PC12DBL', 63: 'PLT12DBL', 64: 'PC24DBL', 65: 'PLT24DBL' });

const PREFIX: Record<number, [string, Map<number, string>]> = {
  [EM_X86_64]: ['R_X86_64_', X86_64],
  [EM_386]: ['R_386_', I386],
  [EM_AARCH64]: ['R_AARCH64_', AARCH64],
  [EM_ARM]: ['R_ARM_', ARM],
  [EM_RISCV]: ['R_RISCV_', RISCV],
  [EM_PPC]: ['R_PPC_', PPC],
  [EM_S390]: ['R_390_', S390],
};

/** The readelf name of relocation `type` on `machine`. */
export function relocationTypeName(machine: number, type: number): string {
  const entry = PREFIX[machine];
  if (entry === undefined) return `R_${machine}_${type}`;
  return entry[1].get(type) ?? `${entry[0]}${type}`;
}

/** The RELATIVE relocation type of a machine (what RELR entries stand for), or undefined. */
export function relativeType(machine: number): number | undefined {
  switch (machine) {
    case EM_X86_64: return 8;
    case EM_386: return 8;
    case EM_AARCH64: return 1027;
    case EM_ARM: return 23;
    case EM_RISCV: return 3;
    case EM_PPC: return 22;
    case EM_S390: return 12;
    default: return undefined;
  }
}
