/**
 * The host's CPU as the Linux personality describes a CPU (AT_HWCAP, AT_HWCAP2, AT_MINSIGSTKSZ),
 * from /proc/cpuinfo's flags: x86's ELF_HWCAP is CPUID.1:EDX, whose bits the flags name; the
 * XSAVE features (XCR0) the kernel enables follow from avx, mpx, avx512f and pku.
 */
import { readFileSync } from 'node:fs';
import { describeCpu, type CpuDescription } from '@polykernel/linux';

/** CPUID.1:EDX bit names as /proc/cpuinfo spells them (arch/x86/include/asm/cpufeatures.h word 0). */
const EDX = ['fpu', 'vme', 'de', 'pse', 'tsc', 'msr', 'pae', 'mce', 'cx8', 'apic', '', 'sep', 'mtrr', 'pge', 'mca', 'cmov',
  'pat', 'pse36', 'pn', 'clflush', '', 'dts', 'acpi', 'mmx', 'fxsr', 'sse', 'sse2', 'ss', 'ht', 'tm', 'ia64', 'pbe'];

/** The CPU a /proc/cpuinfo flags line describes. */
export function cpuFromFlags(flags: readonly string[]): CpuDescription {
  const has = new Set(flags);
  let hwcap = 0;
  EDX.forEach((name, bit) => {
    if (name !== '' && has.has(name)) hwcap += 2 ** bit;
  });
  // ELF_HWCAP2: bit 0 ring3mwait, bit 1 fsgsbase (arch/x86/include/uapi/asm/hwcap2.h).
  const hwcap2 = (has.has('ring3mwait') ? 1 : 0) + (has.has('fsgsbase') ? 2 : 0);
  // XCR0: x87 and SSE always; AVX; MPX (bndregs, bndcsr); AVX-512 (opmask, ZMM_Hi256, Hi16_ZMM); PKRU.
  let xcr0 = 0x3;
  if (has.has('avx')) xcr0 += 0x4;
  if (has.has('mpx')) xcr0 += 0x18;
  if (has.has('avx512f')) xcr0 += 0xe0;
  if (has.has('pku') && has.has('ospke')) xcr0 += 0x200;
  return describeCpu(hwcap, hwcap2, xcr0);
}

/** This machine's CPU, or undefined where /proc/cpuinfo has no x86 flags line. */
export function hostCpu(cpuinfo = '/proc/cpuinfo'): CpuDescription | undefined {
  let text: string;
  try {
    text = readFileSync(cpuinfo, 'utf8');
  } catch {
    return undefined;
  }
  const line = /^flags\s*:(.*)$/m.exec(text);
  return line === null ? undefined : cpuFromFlags(line[1]!.trim().split(/\s+/));
}
