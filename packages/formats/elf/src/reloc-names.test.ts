import { describe, expect, it } from 'vitest';
import { EM_S390 } from './constants.js';
import { relativeType, relocationTypeName } from './reloc-names.js';

describe('relocation names (issue 21: s390x printed R_22_12)', () => {
  it('s390 and s390x relocations have their binutils names', () => {
    expect(relocationTypeName(EM_S390, 12)).toBe('R_390_RELATIVE');
    expect(relocationTypeName(EM_S390, 22)).toBe('R_390_64');
    expect(relocationTypeName(EM_S390, 11)).toBe('R_390_JMP_SLOT');
    expect(relocationTypeName(EM_S390, 65)).toBe('R_390_PLT24DBL');
    expect(relativeType(EM_S390)).toBe(12);
  });
});
